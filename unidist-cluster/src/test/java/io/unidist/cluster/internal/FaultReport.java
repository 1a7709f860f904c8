package io.unidist.cluster.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a fault run found: the checkers' anomalies over its histories, the faults it applied,
 * and how available each primitive stayed under each kind of fault. {@link #markdown()} is the
 * report a run writes; {@link #failure()} is what a failed test prints: the seed, each anomaly
 * with the fewest operations that show it and their window, and the faults around it.
 */
final class FaultReport {
    /** Faults that began or ended this close to an anomaly's window are printed with it. */
    private static final long MARGIN = Duration.ofSeconds(2).toNanos();

    private final String setting;
    private final long seed;
    private final List<Nemesis.Event> events;
    private final FaultHistories histories;
    private final long start;
    private final long loadEnd;
    private final long end;
    private final Map<String, Integer> recorded = new TreeMap<>();
    private final List<Anomaly> findings;

    FaultReport(String setting, long seed, List<Nemesis.Event> events, FaultHistories histories, long start,
                long loadEnd, long end) {
        this.setting = setting;
        this.seed = seed;
        this.events = List.copyOf(events);
        this.histories = histories;
        this.start = start;
        this.loadEnd = loadEnd;
        this.end = end;
        this.findings = histories.anomalies(5, recorded);
    }

    List<Anomaly> findings() {
        return findings;
    }

    List<Nemesis.Event> events() {
        return events;
    }

    /** How many operations the checkers read. */
    int recordedOperations() {
        return recorded.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Outcomes by the fault in force when each call began, and primitive. */
    Map<String, Map<String, Map<FaultWorkload.Outcome, Long>>> availability() {
        return histories.availability(events);
    }

    /** How many operations each checker read. */
    Map<String, Integer> recorded() {
        return recorded;
    }

    /** Null when every checker passed; else the seed, each anomaly, and the faults around it. */
    String failure() {
        if (findings.isEmpty()) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        b.append("fault run with seed ").append(seed).append(" (replay: -Dunidist.fault.seed=").append(seed)
                .append(") found ").append(findings.size()).append(findings.size() == 1 ? " anomaly" : " anomalies")
                .append('\n');
        for (Anomaly f : findings) {
            b.append("- ").append(f.checker()).append(": ").append(f.description()).append('\n');
            b.append("  window ").append(at(f.fromNanos())).append(" .. ").append(at(f.toNanos()))
                    .append(" into the run; the operations (ms from the window's start):\n");
            f.operations().forEach(op -> b.append("    ").append(op).append('\n'));
            boolean any = false;
            for (Nemesis.Event e : events) {
                if (e.overlaps(f.fromNanos() - MARGIN, f.toNanos() + MARGIN)) {
                    b.append("  fault ").append(e).append(" from ").append(at(e.start())).append(" to ")
                            .append(at(e.end())).append('\n');
                    any = true;
                }
            }
            if (!any) {
                b.append("  no fault within 2 s of it\n");
            }
        }
        return b.toString();
    }

    /** Seconds since the run began, as the report shows times. */
    private String at(long nanos) {
        return String.format(Locale.ROOT, "%.3f s", (nanos - start) / 1e9);
    }

    /** The report: settings, verdict, faults, availability per fault, the schedule. */
    String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# Fault run, seed ").append(seed).append("\n\n");
        b.append(String.format(Locale.ROOT, "%s. Load for %.0f s, then heal, drain and check (%.0f s).%n%n", setting,
                (loadEnd - start) / 1e9, (end - loadEnd) / 1e9));
        b.append("## Verdict\n\n");
        if (findings.isEmpty()) {
            b.append("No anomaly: every checker passed.\n\n");
        } else {
            b.append("```\n").append(failure()).append("```\n\n");
        }
        List<String> parts = new ArrayList<>();
        recorded.forEach((k, v) -> parts.add(k + " " + v));
        b.append("Operations the checkers read: ").append(String.join(", ", parts)).append(".\n\n");
        b.append("## Faults\n\n| fault | times | seconds in force |\n|---|---:|---:|\n");
        Map<String, long[]> byKind = new TreeMap<>();
        for (Nemesis.Event e : events) {
            long[] c = byKind.computeIfAbsent(e.kind().label(), k -> new long[2]);
            c[0]++;
            c[1] += e.end() - e.start();
        }
        byKind.forEach((k, c) -> b.append(String.format(Locale.ROOT, "| %s | %d | %.1f |%n", k, c[0], c[1] / 1e9)));
        b.append("\n## Availability: calls by the fault in force when they began\n\n");
        b.append("unavailable = failed with ClusterUnavailableException (no quorum within the operation timeout);"
                + " timeout = a lock not granted within 1 s; node down = the calling node was crashed under the"
                + " call. A fault's row also holds the calls that waited out its heal.\n\n");
        b.append("| fault | primitive | calls | ok | unavailable | share unavailable | timeout | node down | mean ms |\n");
        b.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        Map<String, Map<String, long[]>> latency = histories.latency(events);
        histories.availability(events).forEach((fault, ops) -> ops.forEach((op, c) -> {
            long total = c.values().stream().mapToLong(Long::longValue).sum();
            long unavailable = c.get(FaultWorkload.Outcome.UNAVAILABLE);
            long[] time = latency.get(fault).get(op);
            b.append(String.format(Locale.ROOT, "| %s | %s | %d | %d | %d | %.1f %% | %d | %d | %.1f |%n", fault, op,
                    total, c.get(FaultWorkload.Outcome.OK), unavailable, total == 0 ? 0 : 100.0 * unavailable / total,
                    c.get(FaultWorkload.Outcome.TIMEOUT), c.get(FaultWorkload.Outcome.NODE_DOWN),
                    time[1] / 1e6 / Math.max(1, time[0])));
        }));
        b.append("\n## Fault schedule (seconds into the run)\n\n");
        for (Nemesis.Event e : events) {
            b.append(String.format(Locale.ROOT, "- %s .. %s: %s%n", at(e.start()), at(e.end()), e));
        }
        return b.toString();
    }
}
