package io.unidist.cluster.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The records of a {@link ScaleRun} workload: every record goes on to the run's
 * {@link FaultHistories} (the checkers), and the calls' times are kept here for the figures:
 * calls per second, latency percentiles, and the longest time in which no call anywhere in the
 * cluster succeeded (the cluster's stall around a failover).
 *
 * <p>Also the failover probe's calls: one non-voter increments a counter of its own every few
 * milliseconds, so that the time from a leader's kill to that node's next successful call is
 * measured at that resolution rather than at the workload's pace.
 *
 * <p>Thread safety: every method may be called from any thread.
 */
final class ScaleLoad implements FaultWorkload.Recorder {
    /** A finished call: which primitive (or "increment" for a counter increment), its times, whether it succeeded. */
    record Call(String what, long start, long end, String outcome) {
        boolean ok() {
            return outcome.equals("OK");
        }
    }

    private final FaultHistories histories;
    private final List<Call> calls = new ArrayList<>();
    private final List<Call> probe = new ArrayList<>();

    ScaleLoad(FaultHistories histories) {
        this.histories = histories;
    }

    FaultHistories histories() {
        return histories;
    }

    @Override
    public void record(String type, String... f) {
        histories.record(type, f);
        if (type.equals("o")) {
            add(new Call(f[0], Long.parseLong(f[2]), Long.parseLong(f[3]), f[1]));
        } else if (type.equals("ci")) {
            add(new Call("increment", Long.parseLong(f[1]), Long.parseLong(f[2]), "OK"));
        }
    }

    private synchronized void add(Call c) {
        calls.add(c);
    }

    /** One call of the failover probe. */
    synchronized void probe(long start, long end, boolean ok) {
        probe.add(new Call("probe", start, end, ok ? "OK" : "UNAVAILABLE"));
    }

    /** Workload calls (not the probe) that ended in [from, to). */
    synchronized List<Call> ended(long from, long to) {
        List<Call> list = new ArrayList<>();
        for (Call c : calls) {
            if (c.end >= from && c.end < to && !c.what.equals("increment")) {
                list.add(c);
            }
        }
        return list;
    }

    /** "12 TIMEOUT, 3 UNAVAILABLE" for the calls that did not succeed in {@code calls}, or "0". */
    static String notOk(List<Call> calls) {
        Map<String, Long> by = new TreeMap<>();
        calls.stream().filter(c -> !c.ok()).forEach(c -> by.merge(c.outcome, 1L, Long::sum));
        if (by.isEmpty()) {
            return "0";
        }
        List<String> parts = new ArrayList<>();
        by.forEach((o, n) -> parts.add(n + " " + o.toLowerCase(Locale.ROOT).replace('_', ' ')));
        return String.join(", ", parts);
    }

    /** Latency percentiles (ms) of the successful calls that ended in the window, by primitive and "all". */
    synchronized Map<String, String> latencies(long from, long to) {
        Map<String, List<Long>> by = new TreeMap<>();
        for (Call c : calls) {
            if (c.ok() && c.end >= from && c.end < to) {
                by.computeIfAbsent(c.what, k -> new ArrayList<>()).add(c.end - c.start);
                if (!c.what.equals("increment")) {
                    by.computeIfAbsent("all", k -> new ArrayList<>()).add(c.end - c.start);
                }
            }
        }
        Map<String, String> out = new TreeMap<>();
        by.forEach((what, nanos) -> out.put(what, String.format(Locale.ROOT, "%.1f / %.1f",
                ScaleMeter.percentile(nanos, 50) / 1e6, ScaleMeter.percentile(nanos, 99) / 1e6)));
        return out;
    }

    /**
     * The longest time in [from, to) with no successful workload call ending anywhere, in
     * nanoseconds: the gap between consecutive successful answers.
     */
    synchronized long longestGap(long from, long to) {
        long[] ends = calls.stream().filter(c -> c.ok() && !c.what.equals("increment") && c.end >= from && c.end < to)
                .mapToLong(Call::end).sorted().toArray();
        long last = from;
        long gap = 0;
        for (long e : ends) {
            gap = Math.max(gap, e - last);
            last = e;
        }
        return Math.max(gap, to - last);
    }

    /** The probe's first successful call that began after {@code after}, or null. */
    synchronized Call firstProbeSuccessAfter(long after) {
        return probe.stream().filter(c -> c.ok() && c.start >= after).min(java.util.Comparator.comparingLong(Call::end))
                .orElse(null);
    }

    /** The longest gap between consecutive successful probe answers around {@code at}, within [from, to). */
    synchronized long longestProbeGap(long from, long to) {
        long[] ends = probe.stream().filter(c -> c.ok() && c.end >= from && c.end < to).mapToLong(Call::end).sorted()
                .toArray();
        long gap = 0;
        for (int i = 1; i < ends.length; i++) {
            gap = Math.max(gap, ends[i] - ends[i - 1]);
        }
        return gap;
    }

    /** Probe calls that failed (no leader in time) in [from, to). */
    synchronized long probeFailures(long from, long to) {
        return probe.stream().filter(c -> !c.ok() && c.end >= from && c.end < to).count();
    }

    /**
     * The failover figures of a run: {@code killed} when the leader was killed, {@code elected}
     * when a new one was seen, {@code viewed} when every node's view lost it, {@code down} when it
     * was down, {@code stopped} when the load ended (System.nanoTime).
     */
    void putFailover(ScaleResult r, long killed, long elected, long viewed, long down, long stopped) {
        Call next = firstProbeSuccessAfter(down);
        r.put("failover: kill → new leader (ms)", "%s", ScaleResult.ms(elected - killed));
        r.put("failover: kill → every node's view without it (ms)", "%s", ScaleResult.ms(viewed - killed));
        r.put("failover: kill → next successful call of a non-voter (ms)", "%s",
                next == null ? "none" : ScaleResult.ms(next.end() - killed));
        r.put("failover: longest stall of that non-voter / of the whole cluster (ms)", "%s / %s",
                ScaleResult.ms(longestProbeGap(killed - TimeUnit.SECONDS.toNanos(1), stopped)),
                ScaleResult.ms(longestGap(killed, stopped)));
        List<Call> after = ended(killed, stopped);
        r.put("failover: calls after the kill / that did not succeed", "%,d / %s", after.size(), notOk(after));
        r.put("failover: probe calls that failed", "%d", probeFailures(killed, stopped));
    }
}
