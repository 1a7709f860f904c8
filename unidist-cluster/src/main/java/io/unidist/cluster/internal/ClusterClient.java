package io.unidist.cluster.internal;

import io.unidist.ClusterUnavailableException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jgroups.Address;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.util.ByteArrayDataInputStream;
import org.jgroups.util.NameCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends commands to the Raft leader over the main channel and waits for the answer.
 *
 * <p>The client remembers who the leader is (from the last "not leader" redirect or answer);
 * without a hint it tries the voters in turn. An attempt that gets no answer in time is sent
 * again, to the same or the next voter, with the same bytes: writes carry a session and seq,
 * so the state machine applies a retried write once. When no leader answered before the
 * caller's timeout, {@link ClusterUnavailableException}.
 */
final class ClusterClient {
    private static final Logger log = LoggerFactory.getLogger(ClusterClient.class);
    private static final long MAX_ATTEMPT_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final long BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /** The leader's answer, and how many times the command was sent to get it. */
    record Result(byte[] answer, int sends) { }

    private final String self;
    private final JChannel main;
    private final List<String> voters;
    /**
     * One send of a command, to voter {@code target} at {@code to}: {@code attempt} completes with
     * this send's response; {@code answered} is shared by every send of the command and completes
     * with the first answer to any of them, so that an answer slower than the attempt timeout
     * still ends the call (on a slow link every answer may be late).
     */
    private record Pending(CompletableFuture<Wire.Outcome> attempt, CompletableFuture<Pending.Answered> answered,
                           String target, Address to) {
        /** An answer and the voter that gave it. */
        record Answered(Wire.Outcome response, String target) { }
    }

    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong requestIds = new AtomicLong();
    /** Sends of a command after its first (a lost or late answer, a leader change): for tests and diagnostics. */
    private final AtomicLong resends = new AtomicLong();
    private final AtomicInteger rotation = new AtomicInteger();
    private volatile Map<String, Address> byName = Map.of();
    private volatile String leaderHint;
    private final RequestLanes lanes;

    ClusterClient(String self, JChannel main, List<String> voters) {
        this.self = self;
        this.main = main;
        this.voters = List.copyOf(voters);
        this.lanes = new RequestLanes(main::send, pending::containsKey, (id, why) -> {
            Pending p = pending.get(id);
            if (p != null) {
                p.attempt.complete(new Wire.Outcome(Wire.UNAVAILABLE, null, "cannot send to " + p.target + ": " + why));
            }
        }, MAX_ATTEMPT_NANOS, TimeUnit.NANOSECONDS);
    }

    void viewChanged(View view) {
        Map<String, Address> names = new ConcurrentHashMap<>();
        for (Address a : view.getMembers()) {
            String name = NameCache.get(a);
            if (name != null) {
                names.put(name, a);
            }
        }
        byName = names;
        // a request to a voter that left will never be answered: retry it now, not after the attempt timeout
        for (Pending p : pending.values()) {
            if (!view.containsMember(p.to)) {
                lanes.left(p.to);
                p.attempt.complete(new Wire.Outcome(Wire.UNAVAILABLE, null, "left the view"));
            }
        }
    }

    /** The main-channel address of a node, if it is in the view. */
    Address addressOf(String node) {
        return node == null ? null : byName.get(node);
    }

    /** How many voters are in this node's view now. */
    int votersInView() {
        int n = 0;
        for (String v : voters) {
            if (byName.containsKey(v)) {
                n++;
            }
        }
        return n;
    }

    private String missingVoters() {
        List<String> missing = voters.stream().filter(v -> !byName.containsKey(v)).toList();
        return missing.isEmpty() ? "" : ", not seen: " + String.join(", ", missing);
    }

    String leaderHint() {
        return leaderHint;
    }

    /** Messages this client sent to voters and the requests they carried (more requests than messages: group commit). */
    long[] sent() {
        return lanes.sent();
    }

    /** How many times a command was sent again after its first send, since this client started. */
    long resends() {
        return resends.get();
    }

    /**
     * Sends {@code command} to the leader and returns its answer.
     *
     * @throws ClusterUnavailableException when no leader answered within {@code timeout}
     * @throws InterruptedException when interrupted; the command may or may not be applied
     */
    Result call(byte[] command, Duration timeout, String what) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        int sends = 0;
        String lastProblem = "the time ran out before a request could be sent";
        String reported = null; // what a voter said was wrong (a full disk): kept when later attempts say less
        CompletableFuture<Pending.Answered> answered = new CompletableFuture<>();
        List<Long> sent = new ArrayList<>();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                Pending.Answered done = answered.getNow(null);
                if (done != null) {
                    leaderHint = done.target();
                    return new Result(done.response().answer(), sends);
                }
                if (left <= 0) {
                    throw new ClusterUnavailableException(what + ": no quorum answered within " + timeout
                            + " (" + lastProblem + (reported != null && !lastProblem.contains(reported)
                                    ? "; earlier " + reported : "")
                            + "; voters in view: " + votersInView() + " of " + voters.size() + missingVoters() + ")");
                }
                String target = leaderHint != null ? leaderHint : nextVoter();
                Address to = addressOf(target);
                if (to == null) {
                    leaderHint = null;
                    lastProblem = target == null ? "no voter in this node's view"
                            : "voter " + target + " is not in this node's view";
                    pause(Math.min(left, BACKOFF_NANOS));
                    continue;
                }
                long id = requestIds.incrementAndGet();
                CompletableFuture<Wire.Outcome> attempt = new CompletableFuture<>();
                pending.put(id, new Pending(attempt, answered, target, to));
                sent.add(id);
                try {
                    lanes.send(to, id, command);
                    if (++sends > 1) {
                        resends.incrementAndGet();
                    }
                    CompletableFuture.anyOf(attempt, answered).get(Math.min(left, MAX_ATTEMPT_NANOS), TimeUnit.NANOSECONDS);
                    Wire.Outcome r = attempt.getNow(null);
                    if (answered.isDone() || r == null) {
                        continue; // answered (by this send or an earlier one): returned at the top
                    }
                    if (r.kind() == Wire.NOT_LEADER) {
                        String hint = r.hint() == null || r.hint().isEmpty() ? null : r.hint();
                        lastProblem = target + " is not the leader" + (hint == null ? " and knows none" : "");
                        leaderHint = hint != null && !hint.equals(target) ? hint : null;
                        if (leaderHint == null) {
                            pause(Math.min(left, BACKOFF_NANOS));
                        }
                    } else {
                        lastProblem = target + " is unavailable" + (r.hint() == null || r.hint().isEmpty() ? "" : ": " + r.hint());
                        if (r.hint() != null && !r.hint().isEmpty()) {
                            reported = lastProblem;
                        }
                        leaderHint = null;
                        pause(Math.min(left, BACKOFF_NANOS));
                    }
                } catch (TimeoutException e) {
                    lastProblem = "no answer from " + target;
                    leaderHint = null;
                } catch (ExecutionException e) {
                    lastProblem = e.getCause().toString();
                    leaderHint = null;
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    lastProblem = "cannot send to " + target + ": " + e;
                    leaderHint = null;
                    pause(Math.min(left, BACKOFF_NANOS));
                }
            }
        } finally {
            sent.forEach(pending::remove);
        }
    }

    /** A RESPONSE message arrived. */
    void responded(ByteArrayDataInputStream in) throws IOException {
        long id = in.readLong();
        Wire.Outcome r = Wire.readOutcome(in);
        lanes.answered(id);
        settle(id, r);
    }

    /** A RESPONSES message arrived: the answers to one REQUESTS message. */
    void respondedBatch(ByteArrayDataInputStream in) throws IOException {
        int n = Wire.readCount(in);
        long[] ids = new long[n];
        Wire.Outcome[] outcomes = new Wire.Outcome[n];
        for (int i = 0; i < n; i++) {
            ids[i] = in.readLong();
            outcomes[i] = Wire.readOutcome(in);
        }
        lanes.answered(ids[0]);
        for (int i = 0; i < n; i++) {
            settle(ids[i], outcomes[i]);
        }
    }

    private void settle(long id, Wire.Outcome r) {
        Pending p = pending.get(id);
        if (p != null) {
            if (r.kind() == Wire.ANSWER) {
                p.answered.complete(new Pending.Answered(r, p.target));
            }
            p.attempt.complete(r);
        } else {
            log.trace("{}: late response to request {}", self, id);
        }
    }

    private String nextVoter() {
        for (int i = 0; i < voters.size(); i++) {
            String v = voters.get(Math.floorMod(rotation.getAndIncrement(), voters.size()));
            if (byName.containsKey(v)) {
                return v;
            }
        }
        return null;
    }

    private static void pause(long nanos) throws InterruptedException {
        if (nanos > 0) {
            TimeUnit.NANOSECONDS.sleep(nanos); // a backoff between attempts, not synchronisation
        }
    }
}
