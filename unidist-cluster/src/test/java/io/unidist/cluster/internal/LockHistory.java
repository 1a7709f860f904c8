package io.unidist.cluster.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * A recorded history of locks and semaphores: acquire attempts, uses of the resource under a
 * lease, and releases; and the checks that no moment had more valid leases than permits and
 * that fencing tokens follow the order of grants.
 *
 * <p><b>What a use means.</b> The workload records a use [start, end] of a lease only when it
 * began after the lease's acquire returned and {@link io.unidist.LockLease#isValid()} was still
 * true at a check made after {@code end}. As a lease never turns valid again once it stopped
 * being valid, it was valid over the whole use. So uses stand for intervals in which their
 * holders were entitled to the resource; work done after a lease was lost is never recorded.
 *
 * <p><b>Why the checks are valid requirements.</b> A lease stops being valid on its holder when
 * it is closed (before the release is sent) or when the holder can no longer prove that a
 * majority saw its session within the lease time. The lease time is shorter than the failure
 * detection time after which the majority expires a silent session, so a holder cut off from
 * the majority sees {@code isValid()} turn false before the majority can grant the permit
 * again. Hence the lock's guarantee holds for validity as the holders see it, on one clock
 * (System.nanoTime of the host that ran the history):
 * <ol>
 *   <li><b>Permits.</b> At no instant are more leases valid than the lock has permits. Checked:
 *       at no instant do uses of more distinct leases overlap than there are permits (closed
 *       intervals; a sweep over the uses, those of one lease merged first so that a lease
 *       counts once). The anomaly is permits + 1 uses that share an instant.
 *   <li><b>Unique tokens.</b> Two grants of one lock never have the same fencing token.
 *   <li><b>Token order.</b> A lease's token is larger than that of every lease granted before
 *       it. Checked: when one grant returned before another acquire began, its token is the
 *       smaller. (Overlapping acquires may be granted in either order.)
 *   <li><b>A mutex hands over in token order.</b> With one permit, the lock grants the lease of
 *       token b only after the lease of every smaller token a stopped being valid. The grant
 *       of b happened before b's acquire returned, so a use of a that ended after b's acquire
 *       returned means a was still valid after b was granted. This also catches a use of a
 *       that began after a use of b ended. (Not checked for semaphores: two holders of a
 *       semaphore may use it in either order.)
 *   <li><b>Closed means invalid.</b> A lease is not valid once its release returned: a use
 *       that ended after the release of its lease returned is an anomaly.
 * </ol>
 *
 * <p><b>What it cannot see.</b> Only recorded uses: a stalled holder that keeps working after
 * its lease expired is invisible here (its work is what fencing tokens at the resource are
 * for), and so is a lease whose acquire failed on the caller but was granted in the cluster
 * (it holds a permit nobody uses, which can hide an anomaly, never invent one). It does not
 * check fairness (first come, first served), that a free permit was ever granted, or what
 * {@link io.unidist.SharedLock#holders()} said. Times from different hosts cannot be compared.
 *
 * <p><b>Recording.</b> Every use and release must name a lease whose grant was recorded first
 * (the workload records the grant when acquire returns); the checks throw
 * {@link IllegalStateException} otherwise, and when one lock is recorded with different
 * permits. Recording is a synchronized append; the checks are O(n log n).
 */
final class LockHistory implements Anomaly.Checker {
    /** What an acquire attempt came to. */
    enum Outcome {
        /** Granted a lease with a fencing token. */
        GRANTED,
        /** No permit within the timeout (TimeoutException): nothing held. */
        TIMED_OUT,
        /** ClusterUnavailableException: no quorum in time. */
        UNAVAILABLE,
        /** Anything else: the node closed under the call, interrupted. */
        UNKNOWN
    }

    /** An acquire attempt; {@code token} is meaningful when granted. */
    record Acquire(String node, String lock, int permits, long start, long end, Outcome outcome, long token)
            implements Anomaly.Timed {
        @Override
        public String describe(long origin) {
            String result = outcome == Outcome.GRANTED ? "granted token " + token : outcome.name().toLowerCase(Locale.ROOT).replace('_', ' ');
            return "acquire " + lock + " on " + node + " -> " + result + " " + Anomaly.interval(start, end, origin);
        }
    }

    /** A use of the resource under the lease (lock, token), valid throughout. */
    record Use(String node, String lock, long token, long start, long end) implements Anomaly.Timed {
        @Override
        public String describe(long origin) {
            return "use of " + lock + " under token " + token + " on " + node + " " + Anomaly.interval(start, end, origin);
        }
    }

    /** A release (close) of the lease (lock, token); {@code ok} when it reached the cluster. */
    record Release(String node, String lock, long token, long start, long end, boolean ok) implements Anomaly.Timed {
        @Override
        public String describe(long origin) {
            return "release of " + lock + " token " + token + " on " + node + (ok ? "" : " (failed)") + " "
                    + Anomaly.interval(start, end, origin);
        }
    }

    /** A stretch of time in which one lease was in use without a break: its overlapping uses, merged. */
    private record Span(long token, long start, long end, List<Use> uses) { }

    private final List<Acquire> acquires = new ArrayList<>();
    private final List<Use> uses = new ArrayList<>();
    private final List<Release> releases = new ArrayList<>();

    synchronized void granted(String node, String lock, int permits, long start, long end, long token) {
        acquires.add(new Acquire(node, lock, permits, start, end, Outcome.GRANTED, token));
    }

    /** An acquire that returned no lease; {@code outcome} is not GRANTED. */
    synchronized void notGranted(String node, String lock, int permits, long start, long end, Outcome outcome) {
        if (outcome == Outcome.GRANTED) {
            throw new IllegalArgumentException("a granted acquire has a token: record it with granted(...)");
        }
        acquires.add(new Acquire(node, lock, permits, start, end, outcome, 0));
    }

    synchronized void use(String node, String lock, long token, long start, long end) {
        uses.add(new Use(node, lock, token, start, end));
    }

    synchronized void release(String node, String lock, long token, long start, long end, boolean ok) {
        releases.add(new Release(node, lock, token, start, end, ok));
    }

    synchronized int size() {
        return acquires.size() + uses.size() + releases.size();
    }

    /** The anomalies found, at most {@code limit}: lock by lock (in name order), check by check. */
    @Override
    public synchronized List<Anomaly> anomalies(int limit) {
        Anomaly.Sink sink = new Anomaly.Sink(limit);
        for (Map.Entry<String, LockOps> e : byLock().entrySet()) {
            e.getValue().check("lock '" + e.getKey() + "'", sink);
        }
        return sink.list();
    }

    private Map<String, LockOps> byLock() {
        Map<String, LockOps> byLock = new TreeMap<>();
        for (Acquire a : acquires) {
            byLock.computeIfAbsent(a.lock, LockOps::new).add(a);
        }
        for (Use u : uses) {
            lockOf(byLock, u.lock, u.token, "use").uses.add(u);
        }
        for (Release r : releases) {
            lockOf(byLock, r.lock, r.token, "release").releases.add(r);
        }
        return byLock;
    }

    private static LockOps lockOf(Map<String, LockOps> byLock, String lock, long token, String what) {
        LockOps ops = byLock.get(lock);
        if (ops == null || !ops.grantedTokens.containsKey(token)) {
            throw new IllegalStateException("a " + what + " of lock '" + lock + "' under token " + token
                    + " names no recorded grant: record the grant when acquire returns, before any use");
        }
        return ops;
    }

    /** One lock's operations and its checks. */
    private static final class LockOps {
        final String lock;
        int permits = -1;
        final List<Acquire> grants = new ArrayList<>();
        final Map<Long, Acquire> grantedTokens = new HashMap<>();
        final List<Use> uses = new ArrayList<>();
        final List<Release> releases = new ArrayList<>();

        LockOps(String lock) {
            this.lock = lock;
        }

        void add(Acquire a) {
            if (permits != -1 && permits != a.permits) {
                throw new IllegalStateException("lock '" + lock + "' recorded with " + permits + " and with "
                        + a.permits + " permits");
            }
            permits = a.permits;
            if (a.outcome == Outcome.GRANTED) {
                grants.add(a);
                grantedTokens.putIfAbsent(a.token, a);
            }
        }

        void check(String checker, Anomaly.Sink sink) {
            findOverUse(checker, sink);
            findDuplicateTokens(checker, sink);
            findTokenOrderViolations(checker, sink);
            if (permits == 1) {
                findStaleUses(checker, sink);
            }
            findUsesAfterRelease(checker, sink);
        }

        /** Sweeps the lease spans by start, keeping those still running; one more than permits is an anomaly. */
        private void findOverUse(String checker, Anomaly.Sink sink) {
            List<Span> spans = spans(uses);
            spans.sort(Comparator.comparingLong(Span::start));
            PriorityQueue<Span> running = new PriorityQueue<>(Comparator.comparingLong(Span::end));
            for (Span s : spans) {
                if (sink.full()) {
                    return;
                }
                while (!running.isEmpty() && running.peek().end < s.start) {
                    running.poll();
                }
                if (running.size() >= permits) {
                    sink.add(overUse(checker, running, s));
                }
                running.add(s);
            }
        }

        /** The permits + 1 uses that share the instant {@code s} began: {@code s}'s and one of each of {@code permits} running leases. */
        private Anomaly overUse(String checker, PriorityQueue<Span> running, Span s) {
            List<Use> atOnce = new ArrayList<>();
            for (Span r : running) {
                atOnce.add(useAt(r, s.start));
            }
            atOnce.sort(Comparator.comparingLong(Use::start).reversed()); // the latest starts: the shortest window
            List<Use> shown = new ArrayList<>(atOnce.subList(0, permits));
            shown.add(s.uses.get(0));
            shown.sort(Comparator.comparingLong(Use::start));
            return Anomaly.of(checker, (permits + 1) + " leases were in use at once, with " + permits + " permit"
                    + (permits == 1 ? "" : "s") + ": tokens " + shown.stream().map(u -> Long.toString(u.token)).toList(), shown);
        }

        /** A use of {@code span} that covers instant {@code t}: one exists, as a span is a union of overlapping uses. */
        private static Use useAt(Span span, long t) {
            for (Use u : span.uses) {
                if (u.start <= t && t <= u.end) {
                    return u;
                }
            }
            throw new IllegalStateException("no use of token " + span.token + " covers " + t);
        }

        /** Each lease's uses, merged where they overlap, so that one lease counts once at any instant. */
        private static List<Span> spans(List<Use> uses) {
            List<Use> sorted = new ArrayList<>(uses);
            sorted.sort(Comparator.comparingLong(Use::token).thenComparingLong(Use::start));
            List<Span> spans = new ArrayList<>();
            List<Use> parts = new ArrayList<>();
            long end = Long.MIN_VALUE;
            for (Use u : sorted) {
                if (!parts.isEmpty() && (u.token != parts.get(0).token || u.start > end)) {
                    spans.add(new Span(parts.get(0).token, parts.get(0).start, end, parts));
                    parts = new ArrayList<>();
                }
                end = parts.isEmpty() ? u.end : Math.max(end, u.end);
                parts.add(u);
            }
            if (!parts.isEmpty()) {
                spans.add(new Span(parts.get(0).token, parts.get(0).start, end, parts));
            }
            return spans;
        }

        private void findDuplicateTokens(String checker, Anomaly.Sink sink) {
            for (Acquire g : grants) {
                Acquire first = grantedTokens.get(g.token);
                if (first != g && !sink.full()) {
                    sink.add(Anomaly.of(checker, "token " + g.token + " was granted twice", List.of(first, g)));
                }
            }
        }

        /** Sweeps grants by start, keeping the largest token of those that had returned: a smaller one is an anomaly. */
        private void findTokenOrderViolations(String checker, Anomaly.Sink sink) {
            List<Acquire> byStart = new ArrayList<>(grants);
            byStart.sort(Comparator.comparingLong(Acquire::start));
            List<Acquire> byEnd = new ArrayList<>(grants);
            byEnd.sort(Comparator.comparingLong(Acquire::end));
            int i = 0;
            Acquire largest = null;
            for (Acquire g : byStart) {
                while (i < byEnd.size() && byEnd.get(i).end < g.start) {
                    Acquire returned = byEnd.get(i++);
                    if (largest == null || returned.token > largest.token) {
                        largest = returned;
                    }
                }
                if (largest != null && g.token < largest.token && !sink.full()) {
                    sink.add(Anomaly.of(checker, "an acquire began after token " + largest.token
                            + " had been granted, but got token " + g.token + ", not larger", List.of(largest, g)));
                }
            }
        }

        /** Sweeps uses by end, keeping the largest token granted before: a use of a smaller one was stale. */
        private void findStaleUses(String checker, Anomaly.Sink sink) {
            List<Use> byEnd = new ArrayList<>(uses);
            byEnd.sort(Comparator.comparingLong(Use::end));
            List<Acquire> grantsByEnd = new ArrayList<>(grants);
            grantsByEnd.sort(Comparator.comparingLong(Acquire::end));
            int i = 0;
            Acquire newest = null;
            for (Use u : byEnd) {
                while (i < grantsByEnd.size() && grantsByEnd.get(i).end < u.end) {
                    Acquire g = grantsByEnd.get(i++);
                    if (newest == null || g.token > newest.token) {
                        newest = g;
                    }
                }
                if (newest != null && newest.token > u.token && !sink.full()) {
                    sink.add(Anomaly.of(checker, "the lease of token " + u.token + " was still in use after the lease of token "
                            + newest.token + " had been granted: a mutex grants a newer lease only once the older one"
                            + " is no longer valid", List.of(newest, u)));
                }
            }
        }

        private void findUsesAfterRelease(String checker, Anomaly.Sink sink) {
            Map<Long, Release> firstRelease = new HashMap<>();
            for (Release r : releases) {
                firstRelease.merge(r.token, r, (a, b) -> a.end <= b.end ? a : b);
            }
            for (Use u : uses) {
                Release r = firstRelease.get(u.token);
                if (r != null && r.end < u.end && !sink.full()) {
                    sink.add(Anomaly.of(checker, "the lease of token " + u.token + " was still valid after its release"
                            + " had returned", List.of(r, u)));
                }
            }
        }
    }
}
