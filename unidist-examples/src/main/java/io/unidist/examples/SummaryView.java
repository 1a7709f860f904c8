package io.unidist.examples;

import io.unidist.LeaseInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/** The live summary of {@link LocalCluster}: a screen redrawn in a terminal, or one line a second. */
final class SummaryView {
    private static final String CLEAR = "\033[H\033[2J";

    private SummaryView() {
    }

    /**
     * One refresh.
     *
     * @param cluster   the cluster's name
     * @param runDir    where the data and logs are
     * @param elapsed   seconds of work so far
     * @param total     seconds of work in all
     * @param answering whether the cluster has answered yet
     * @param snap      the latest snapshot, or null
     * @param problem   why the latest read failed, or null
     * @param processes node name to its process's state
     * @param events    the recent events
     */
    record Frame(String cluster, Path runDir, long elapsed, long total, boolean answering, Snapshot snap,
            String problem, Map<String, String> processes, List<String> events) { }

    /** The screen for a terminal: clears it and draws the whole summary. */
    static String screen(Frame f) {
        StringBuilder b = new StringBuilder(CLEAR);
        b.append("unidist example cluster '").append(f.cluster()).append("'   ")
                .append(f.answering() ? f.elapsed() + " s of " + f.total() + " s" : "starting...").append("\n\n");
        Snapshot s = f.snap();
        if (s == null) {
            b.append("waiting for the cluster to answer (the voters elect a leader)...\n");
        } else {
            b.append(String.format("%-14s %s   (%d in the JGroups view)%n", "members", String.join(" ", s.members()),
                    s.members().size()));
            b.append(String.format("%-14s %s%n", "Raft leader", s.leader() == null ? "?" : s.leader()));
            String collector = collector(s);
            b.append(String.format("%-14s %s%n", "log collector", collector == null ? "?"
                    : collector + " (central logs in " + f.runDir().resolve(collector).resolve("logs").resolve("collected") + ")"));
            b.append(String.format("%-14s %d handed out (counter '%s')%n", "ids", s.ids(), UniqueJobIds.COUNTER));
            b.append(String.format("%-14s produced %d, done %d, failed attempts %d%n", "jobs", s.produced(), s.done(),
                    s.failed()));
            b.append(String.format("%-14s %d waiting or in flight, %d dead letters in 'work.dead'%n", "queue 'work'",
                    s.queued(), s.dead()));
            b.append(String.format("%-14s %d done; '%s' (%d permits) held by: %s%n", "backups", s.backups(),
                    RollingBackup.SEMAPHORE, RollingBackup.AT_ONCE, holders(s.holders(), s.at())));
        }
        if (f.problem() != null && f.answering()) {
            b.append("\n!! no answer from the cluster: ").append(f.problem()).append('\n');
        }
        b.append(String.format("%n%-6s %-12s %s%n", "node", "process", "status board ('" + StatusBoard.BUCKET + "', TTL "
                + StatusBoard.TTL.toSeconds() + " s)"));
        Map<String, String> board = s == null ? Map.of() : s.board();
        f.processes().forEach((node, process) ->
                b.append(String.format("%-6s %-12s %s%n", node, process, board.getOrDefault(node, "-"))));
        b.append("\nevents\n");
        f.events().forEach(e -> b.append("  ").append(e).append('\n'));
        b.append("\nCtrl-C stops everything. Data and logs: ").append(f.runDir()).append('\n');
        return b.toString();
    }

    /**
     * The log collector as every node computes it with the default settings: the first voter in
     * the view, oldest first (one collector, candidates the voters).
     */
    static String collector(Snapshot s) {
        return s.members().stream().filter(LocalCluster.VOTERS::contains).findFirst().orElse(null);
    }

    /** One line, for output that is not a terminal. */
    static String line(Frame f) {
        Snapshot s = f.snap();
        String head = "[" + String.format("%3d", f.elapsed()) + "s] ";
        if (s == null) {
            return head + "waiting for the cluster to answer" + (f.problem() == null ? "" : ": " + f.problem());
        }
        return head + "members " + s.members().size() + " (leader " + (s.leader() == null ? "?" : s.leader()) + ")"
                + " | collector " + Objects.requireNonNullElse(collector(s), "?")
                + " | ids " + s.ids()
                + " | jobs produced " + s.produced() + " done " + s.done() + " failed " + s.failed()
                + " queued " + s.queued() + " dead " + s.dead()
                + " | backups " + s.backups() + ", held by " + holders(s.holders(), s.at())
                + " | board " + String.join(" ", s.board().keySet())
                + (f.problem() == null ? "" : " | NO ANSWER: " + f.problem());
    }

    private static String holders(List<LeaseInfo> holders, Instant now) {
        if (holders.isEmpty()) {
            return "nobody";
        }
        return holders.stream()
                .map(h -> h.node() + " (token " + h.fencingToken() + ", "
                        + Math.max(0, Duration.between(h.since(), now).toMillis()) / 100 / 10.0 + " s)")
                .collect(Collectors.joining(", "));
    }
}
