package io.unidist.bench.cluster;

import io.unidist.cluster.internal.UnidistRaft;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The results of {@link BacklogRestart}: a Markdown summary ({@code backlog.md}, also printed) and every figure as
 * one CSV line {@code phase,voter,metric,value} ({@code backlog.csv}).
 */
final class BacklogReport {
    /** A snapshot a voter was seen to finish during the fill (voters are polled about once a second). */
    record SnapshotEvent(String voter, double atSeconds, long offered, long written, long delta, long index,
                         long bytes, long freezeNanos, long writeNanos, long truncateNanos) { }

    /** What a voter reported at the end of a phase. */
    record VoterState(VoterReports.Heap heap, UnidistRaft.SnapshotStats stats, VoterReports.RaftPosition position) { }

    /**
     * A restart of all three voters after kill -9.
     *
     * @param joinedNanos   from the launch of the three processes until all three had joined (printed ready)
     * @param answeredNanos from the launch until a linearizable size() from the non-voter returned the expected size;
     *                      -1 if it never did within the time allowed
     * @param failedCalls   size() calls that threw before (the cluster had no leader yet)
     */
    record Restart(String label, long joinedNanos, long answeredNanos, long size, long expected, long failedCalls,
                   String firstError) { }

    /** An on-demand snapshot of the whole backlog on one voter (RAFT's snapshot(), on RAFT's thread). */
    record OnDemand(String voter, long callNanos, long freezeNanos, long writeNanos, long truncateNanos, long bytes) { }

    /**
     * One voter killed and started again while the other two took offers.
     *
     * @param target          the leader's commit index once the offers were done
     * @param joinedNanos     from the launch until it printed ready (its state loaded from its own files)
     * @param inViewNanos     until its raft channel's view held all three and it knew a leader
     * @param caughtUpNanos   until its commit index reached {@code target}; -1 if it did not within the time allowed
     */
    record CatchUp(String voter, Measurement offers, long target, long joinedNanos, long inViewNanos,
                   long caughtUpNanos) { }

    final List<String> environment = new ArrayList<>();
    final List<SnapshotEvent> events = new ArrayList<>();
    final Map<String, Map<String, VoterState>> phases = new LinkedHashMap<>();
    final List<Restart> restarts = new ArrayList<>();
    final List<OnDemand> onDemand = new ArrayList<>();
    final List<String> problems = new ArrayList<>();
    int messages;
    int payload;
    int threads;
    Measurement fill;
    long sizeAfterFill = -1;
    CatchUp catchUp;
    long finalSize = -1;
    long finalExpected = -1;

    void voter(String phase, String voter, VoterState state) {
        phases.computeIfAbsent(phase, p -> new LinkedHashMap<>()).put(voter, state);
    }

    String markdown() {
        List<String> out = new ArrayList<>();
        out.add("| step | figure |");
        out.add("|---|---|");
        if (fill != null) {
            out.add(row(String.format(Locale.ROOT, "fill: %,d offers of %d B from the non-voter, %d threads", messages,
                    payload, threads), String.format(Locale.ROOT, "%.0f s, %,.0f offers/s; p50 %s, p99 %s, p99.9 %s,"
                    + " max %s; %d failed", fill.windowNanos() / 1e9, fill.opsPerSecond(), millis(fill.p50Nanos()),
                    millis(fill.p99Nanos()), millis(fill.p999Nanos()), millis(fill.maxNanos()), fill.errors())));
            out.add(row("queue size after the fill (linearizable, from the non-voter)", count(sizeAfterFill)));
        }
        for (Restart r : restarts) {
            out.add(row(r.label() + ": launch → all 3 joined", seconds(r.joinedNanos())));
            out.add(row(r.label() + ": launch → size() = " + count(r.expected()) + " from the non-voter",
                    r.answeredNanos() < 0 ? "not within the time allowed (last size " + count(r.size()) + ")"
                            : seconds(r.answeredNanos()) + " (" + r.failedCalls() + " calls failed before"
                            + (r.failedCalls() > 0 ? ", first: " + r.firstError() : "") + ")"));
        }
        if (!onDemand.isEmpty()) {
            out.add(row("on-demand snapshot of the whole backlog, each voter in turn, no load (RAFT's snapshot():"
                    + " freeze and write both on RAFT's thread)", range(onDemand, o -> o.freezeNanos() / 1e6, "%.0f")
                    + " ms freeze, " + range(onDemand, o -> o.writeNanos() / 1e9, "%.1f") + " s write, "
                    + range(onDemand, o -> o.bytes() / 1e6, "%.0f") + " MB"));
        }
        if (catchUp != null) {
            CatchUp c = catchUp;
            out.add(row("one follower (" + c.voter() + ") killed -9; offers meanwhile through the other two",
                    String.format(Locale.ROOT, "%,d in %.1f s, %,.0f/s, %d failed", c.offers().ops(),
                            c.offers().windowNanos() / 1e9, c.offers().opsPerSecond(), c.offers().errors())));
            out.add(row(c.voter() + ": launch → joined (its own snapshot and log loaded)", seconds(c.joinedNanos())));
            out.add(row(c.voter() + ": launch → in the raft view of 3 with a leader", seconds(c.inViewNanos())));
            out.add(row(c.voter() + ": launch → applied the leader's commit index " + count(c.target()),
                    c.caughtUpNanos() < 0 ? "not within the time allowed" : seconds(c.caughtUpNanos())));
        }
        if (finalSize >= 0) {
            out.add(row("queue size at the end", count(finalSize) + " (expected " + count(finalExpected) + ")"));
        }
        out.add("");
        voterTable(out);
        if (!events.isEmpty()) {
            out.add("");
            out.add("Snapshots finished during the fill, as seen by polling each voter about once a second (a row"
                    + " with more than one snapshot shows the last one's figures):");
            out.add("");
            out.add("| voter | at s | offers done | snapshots | index | size MB | freeze ms | write s | truncate ms |");
            out.add("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            for (SnapshotEvent e : events) {
                out.add("| " + String.join(" | ", e.voter(), fmt("%.0f", e.atSeconds()), count(e.offered()),
                        e.delta() == 1 ? Long.toString(e.written()) : e.written() + " (+" + e.delta() + ")",
                        count(e.index()), fmt("%.1f", e.bytes() / 1e6), fmt("%.1f", e.freezeNanos() / 1e6),
                        fmt("%.2f", e.writeNanos() / 1e9), fmt("%.1f", e.truncateNanos() / 1e6)) + " |");
            }
        }
        if (!problems.isEmpty()) {
            out.add("");
            out.add("Problems seen:");
            problems.forEach(p -> out.add("- " + p));
        }
        out.add("");
        out.add("Notes:");
        out.add("- freeze: RAFT's thread copies the state machine's references and mutable fields; every write of"
                + " the group waits meanwhile. write: the background thread streams the frozen state to the"
                + " snapshot file (temporary file, fsync, rename). truncate: RAFT's thread cuts the log once the file"
                + " is on disk. Times from UnidistRaft's counters (System.nanoTime()).");
        out.add("- heap after a full GC: System.gc() in the voter, then the heap's used bytes. peak at a GC's start /"
                + " end: the most heap used at the start / end of any collection since the JVM started (collector"
                + " notifications); the start figure counts garbage, the end figure bounds the live data from above.");
        environment.forEach(e -> out.add("- " + e));
        return String.join("\n", out) + "\n";
    }

    private void voterTable(List<String> out) {
        List<String> voters = BenchCluster.VOTERS;
        out.add("| per voter | " + String.join(" | ", voters) + " |");
        out.add("|---|" + "---:|".repeat(voters.size()));
        for (Map.Entry<String, Map<String, VoterState>> phase : phases.entrySet()) {
            String p = phase.getKey();
            Map<String, VoterState> states = phase.getValue();
            perVoter(out, p + ": heap after a full GC / committed / limit", voters, states, s -> mb(s.heap()
                    .usedAfterFullGc()) + " / " + mb(s.heap().committed()) + " / " + mb(s.heap().max()));
            perVoter(out, p + ": peak heap at a GC's start / end", voters, states,
                    s -> mb(s.heap().peakBeforeGc()) + " / " + mb(s.heap().peakAfterGc()));
            boolean snapshots = states.values().stream().anyMatch(s -> s.stats().freeze().count() > 0
                    || s.stats().failed() > 0);
            if (snapshots) {
                perVoter(out, p + ": snapshots written (synchronous, failed)", voters, states,
                        s -> s.stats().written() + " (" + s.stats().synchronous() + ", " + s.stats().failed() + ")");
                perVoter(out, p + ": freeze on RAFT's thread, longest / last / total ms", voters, states,
                        s -> ms(s.stats().freeze().maxNanos()) + " / " + ms(s.stats().freeze().lastNanos()) + " / "
                                + ms(s.stats().freeze().totalNanos()));
                perVoter(out, p + ": write, longest / last s", voters, states,
                        s -> sec(s.stats().write().maxNanos()) + " / " + sec(s.stats().write().lastNanos()));
                perVoter(out, p + ": log truncation on RAFT's thread, longest ms", voters, states,
                        s -> ms(s.stats().truncate().maxNanos()));
                perVoter(out, p + ": last snapshot index / size MB", voters, states,
                        s -> count(s.stats().lastIndex()) + " / " + (s.stats().lastBytes() < 0 ? "-"
                                : fmt("%.1f", s.stats().lastBytes() / 1e6)));
            }
            perVoter(out, p + ": log entries after its first (commit − first)", voters, states,
                    s -> count(s.position().commitIndex() - s.position().firstAppended()));
            if (states.values().stream().anyMatch(s -> s.stats().loadNanos() >= 0 || s.stats().replayedEntries() > 0)) {
                perVoter(out, p + ": at start, snapshot load / log replay s (entries)", voters, states,
                        s -> (s.stats().loadNanos() < 0 ? "-" : sec(s.stats().loadNanos())) + " / "
                                + (s.stats().replayNanos() < 0 ? "-" : sec(s.stats().replayNanos())) + " ("
                                + count(s.stats().replayedEntries()) + ")");
            }
        }
        if (!onDemand.isEmpty()) {
            Map<String, OnDemand> byVoter = new LinkedHashMap<>();
            onDemand.forEach(o -> byVoter.put(o.voter(), o));
            out.add("| on-demand snapshot: freeze ms / write s / truncate ms / size MB / call s | "
                    + String.join(" | ", voters.stream().map(v -> {
                        OnDemand o = byVoter.get(v);
                        return o == null ? "-" : ms(o.freezeNanos()) + " / " + sec(o.writeNanos()) + " / "
                                + ms(o.truncateNanos()) + " / " + fmt("%.1f", o.bytes() / 1e6) + " / "
                                + sec(o.callNanos());
                    }).toList()) + " |");
        }
    }

    private static void perVoter(List<String> out, String label, List<String> voters, Map<String, VoterState> states,
            Function<VoterState, String> cell) {
        out.add("| " + label + " | " + String.join(" | ", voters.stream()
                .map(v -> states.containsKey(v) ? cell.apply(states.get(v)) : "-").toList()) + " |");
    }

    String csv() {
        StringBuilder sb = new StringBuilder("phase,voter,metric,value\n");
        if (fill != null) {
            line(sb, "fill", "client", "messages", messages);
            line(sb, "fill", "client", "payload_bytes", payload);
            line(sb, "fill", "client", "threads", threads);
            line(sb, "fill", "client", "seconds", fill.windowNanos() / 1e9);
            line(sb, "fill", "client", "offers_per_s", fill.opsPerSecond());
            line(sb, "fill", "client", "p50_ms", fill.p50Nanos() / 1e6);
            line(sb, "fill", "client", "p99_ms", fill.p99Nanos() / 1e6);
            line(sb, "fill", "client", "p999_ms", fill.p999Nanos() / 1e6);
            line(sb, "fill", "client", "max_ms", fill.maxNanos() / 1e6);
            line(sb, "fill", "client", "failed", fill.errors());
            line(sb, "fill", "client", "size_after", sizeAfterFill);
        }
        for (SnapshotEvent e : events) {
            String phase = "fill-snapshot-" + e.written();
            line(sb, phase, e.voter(), "at_s", e.atSeconds());
            line(sb, phase, e.voter(), "offers_done", e.offered());
            line(sb, phase, e.voter(), "snapshots_since_last_poll", e.delta());
            line(sb, phase, e.voter(), "index", e.index());
            line(sb, phase, e.voter(), "bytes", e.bytes());
            line(sb, phase, e.voter(), "freeze_ms", e.freezeNanos() / 1e6);
            line(sb, phase, e.voter(), "write_s", e.writeNanos() / 1e9);
            line(sb, phase, e.voter(), "truncate_ms", e.truncateNanos() / 1e6);
        }
        for (Map.Entry<String, Map<String, VoterState>> phase : phases.entrySet()) {
            for (Map.Entry<String, VoterState> v : phase.getValue().entrySet()) {
                stateLines(sb, phase.getKey(), v.getKey(), v.getValue());
            }
        }
        for (Restart r : restarts) {
            line(sb, r.label(), "all", "launch_to_joined_s", r.joinedNanos() / 1e9);
            line(sb, r.label(), "client", "launch_to_size_s", r.answeredNanos() < 0 ? -1 : r.answeredNanos() / 1e9);
            line(sb, r.label(), "client", "size", r.size());
            line(sb, r.label(), "client", "expected", r.expected());
            line(sb, r.label(), "client", "failed_calls_before", r.failedCalls());
        }
        for (OnDemand o : onDemand) {
            line(sb, "on-demand-snapshot", o.voter(), "call_s", o.callNanos() / 1e9);
            line(sb, "on-demand-snapshot", o.voter(), "freeze_ms", o.freezeNanos() / 1e6);
            line(sb, "on-demand-snapshot", o.voter(), "write_s", o.writeNanos() / 1e9);
            line(sb, "on-demand-snapshot", o.voter(), "truncate_ms", o.truncateNanos() / 1e6);
            line(sb, "on-demand-snapshot", o.voter(), "bytes", o.bytes());
        }
        if (catchUp != null) {
            CatchUp c = catchUp;
            line(sb, "catch-up", "client", "offers_while_down", c.offers().ops());
            line(sb, "catch-up", "client", "offers_per_s", c.offers().opsPerSecond());
            line(sb, "catch-up", "client", "failed", c.offers().errors());
            line(sb, "catch-up", c.voter(), "target_commit_index", c.target());
            line(sb, "catch-up", c.voter(), "launch_to_joined_s", c.joinedNanos() / 1e9);
            line(sb, "catch-up", c.voter(), "launch_to_in_view_s", c.inViewNanos() / 1e9);
            line(sb, "catch-up", c.voter(), "launch_to_caught_up_s", c.caughtUpNanos() < 0 ? -1
                    : c.caughtUpNanos() / 1e9);
        }
        if (finalSize >= 0) {
            line(sb, "end", "client", "size", finalSize);
            line(sb, "end", "client", "expected", finalExpected);
        }
        return sb.toString();
    }

    private static void stateLines(StringBuilder sb, String phase, String voter, VoterState s) {
        line(sb, phase, voter, "heap_after_full_gc_mb", s.heap().usedAfterFullGc() / 1e6);
        line(sb, phase, voter, "heap_committed_mb", s.heap().committed() / 1e6);
        line(sb, phase, voter, "heap_max_mb", s.heap().max() / 1e6);
        line(sb, phase, voter, "heap_peak_at_gc_start_mb", s.heap().peakBeforeGc() / 1e6);
        line(sb, phase, voter, "heap_peak_at_gc_end_mb", s.heap().peakAfterGc() / 1e6);
        line(sb, phase, voter, "gc_count", s.heap().gcCount());
        line(sb, phase, voter, "gc_ms", s.heap().gcMillis());
        UnidistRaft.SnapshotStats st = s.stats();
        line(sb, phase, voter, "snapshots_written", st.written());
        line(sb, phase, voter, "snapshots_synchronous", st.synchronous());
        line(sb, phase, voter, "snapshots_failed", st.failed());
        line(sb, phase, voter, "freeze_max_ms", st.freeze().maxNanos() / 1e6);
        line(sb, phase, voter, "freeze_last_ms", st.freeze().lastNanos() / 1e6);
        line(sb, phase, voter, "freeze_total_ms", st.freeze().totalNanos() / 1e6);
        line(sb, phase, voter, "write_max_s", st.write().maxNanos() / 1e9);
        line(sb, phase, voter, "write_last_s", st.write().lastNanos() / 1e9);
        line(sb, phase, voter, "truncate_max_ms", st.truncate().maxNanos() / 1e6);
        line(sb, phase, voter, "last_snapshot_index", st.lastIndex());
        line(sb, phase, voter, "last_snapshot_bytes", st.lastBytes());
        line(sb, phase, voter, "load_s", st.loadNanos() < 0 ? -1 : st.loadNanos() / 1e9);
        line(sb, phase, voter, "replay_s", st.replayNanos() < 0 ? -1 : st.replayNanos() / 1e9);
        line(sb, phase, voter, "replayed_entries", st.replayedEntries());
        line(sb, phase, voter, "commit_index", s.position().commitIndex());
        line(sb, phase, voter, "first_appended", s.position().firstAppended());
    }

    private static void line(StringBuilder sb, String phase, String voter, String metric, double value) {
        String v = value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value)
                : fmt("%.3f", value);
        sb.append(phase.replace(',', ';')).append(',').append(voter).append(',').append(metric).append(',').append(v)
                .append('\n');
    }

    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("backlog.csv"), csv(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("backlog.md"), markdown(), StandardCharsets.UTF_8);
    }

    private static String row(String step, String figure) {
        return "| " + step + " | " + figure + " |";
    }

    private static <T> String range(List<T> items, Function<T, Double> value, String format) {
        double lo = items.stream().mapToDouble(value::apply).min().orElse(Double.NaN);
        double hi = items.stream().mapToDouble(value::apply).max().orElse(Double.NaN);
        String a = fmt(format, lo);
        String b = fmt(format, hi);
        return a.equals(b) ? a : a + "–" + b;
    }

    private static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    private static String mb(long bytes) {
        return bytes <= 0 ? "-" : fmt("%,.0f MB", bytes / 1e6);
    }

    private static String ms(long nanos) {
        return nanos < 0 ? "-" : nanos >= 100e6 ? fmt("%,.0f", nanos / 1e6) : fmt("%.1f", nanos / 1e6);
    }

    private static String millis(long nanos) {
        return ms(nanos) + " ms";
    }

    private static String sec(long nanos) {
        return nanos < 0 ? "-" : fmt("%.2f", nanos / 1e9);
    }

    private static String seconds(long nanos) {
        return nanos < 0 ? "-" : fmt("%.1f s", nanos / 1e9);
    }

    private static String fmt(String format, double x) {
        return String.format(Locale.ROOT, format, x);
    }
}
