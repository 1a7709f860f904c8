package io.unidist.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The end-of-run checks over the files the nodes wrote ({@link ExampleNode#IDS_FILE},
 * {@link ExampleNode#BACKUPS_FILE}, {@link ExampleNode#PRODUCED_FILE}, {@link ExampleNode#ACKING_FILE},
 * {@link ExampleNode#DONE_FILE}) and the dead letters the launcher took at the end: these are the
 * nodes' own records, independent of what the cluster says.
 *
 * @param ids            ids the nodes recorded
 * @param duplicates     ids recorded more than once (must be empty)
 * @param backupRuns     backup runs recorded
 * @param maxConcurrent  the most backup runs that overlapped in time
 * @param tokensUnique   whether no two backup runs had the same fencing token
 * @param jobsDone       jobs the workers acknowledged
 * @param doneTwice      jobs acknowledged more than once (must be empty: an acknowledged job is gone)
 * @param jobsProduced   jobs the producer offered (its offer returned)
 * @param lost           offered jobs that were neither acknowledged nor dead letters, nor being
 *                       acknowledged by the killed node when it was killed (must be empty once the
 *                       queue is empty)
 * @param uncertain      jobs the killed node was acknowledging when it was killed and that nobody
 *                       acknowledged since: the acknowledgement may have committed or not
 * @param doneAndDead    jobs both acknowledged and dead letters (must be empty)
 */
record RunChecks(long ids, Set<Long> duplicates, int backupRuns, int maxConcurrent, boolean tokensUnique,
                 long jobsDone, Set<String> doneTwice, long jobsProduced, Set<String> lost, Set<String> uncertain,
                 Set<String> doneAndDead) {

    /**
     * Reads the files of the nodes whose data directories are {@code nodeDirs}.
     *
     * @param killedDir   the data directory of the node killed during the run, or null
     * @param deadLetters the dead letters taken from the queue at the end
     */
    static RunChecks of(List<Path> nodeDirs, Path killedDir, List<String> deadLetters) {
        Set<Long> seen = new HashSet<>();
        Set<Long> duplicates = new TreeSet<>();
        long ids = 0;
        List<Interval> runs = new ArrayList<>();
        Set<String> done = new HashSet<>();
        Set<String> doneTwice = new TreeSet<>();
        long jobsDone = 0;
        Set<String> produced = new TreeSet<>();
        for (Path dir : nodeDirs) {
            produced.addAll(lines(dir.resolve(ExampleNode.PRODUCED_FILE)));
            for (String job : lines(dir.resolve(ExampleNode.DONE_FILE))) {
                jobsDone++;
                if (!done.add(job)) {
                    doneTwice.add(job);
                }
            }
            for (String line : lines(dir.resolve(ExampleNode.IDS_FILE))) {
                long id = Long.parseLong(line);
                ids++;
                if (!seen.add(id)) {
                    duplicates.add(id);
                }
            }
            for (String line : lines(dir.resolve(ExampleNode.BACKUPS_FILE))) {
                String[] f = line.split(" ");
                runs.add(new Interval(Long.parseLong(f[1]), Instant.parse(f[2]), Instant.parse(f[3])));
            }
        }
        boolean tokensUnique = runs.stream().map(Interval::token).distinct().count() == runs.size();
        // a worker acknowledges one job at a time: only its last one can have been cut short by the kill
        List<String> acking = killedDir == null ? List.of() : lines(killedDir.resolve(ExampleNode.ACKING_FILE));
        Set<String> uncertain = new TreeSet<>(acking.isEmpty() ? List.of() : List.of(acking.get(acking.size() - 1)));
        uncertain.removeAll(done);
        Set<String> lost = new TreeSet<>(produced);
        lost.removeAll(done);
        lost.removeAll(deadLetters);
        lost.removeAll(uncertain);
        Set<String> doneAndDead = new TreeSet<>(deadLetters);
        doneAndDead.retainAll(done);
        return new RunChecks(ids, duplicates, runs.size(), maxOverlap(runs), tokensUnique, jobsDone, doneTwice,
                produced.size(), lost, uncertain, doneAndDead);
    }

    /** One backup run: its fencing token and when it held its permit. */
    record Interval(long token, Instant start, Instant end) { }

    /** The most intervals that cover one instant: a sweep over starts (+1) and ends (-1), ends first on a tie. */
    static int maxOverlap(List<Interval> intervals) {
        record Edge(Instant at, int delta) { }
        List<Edge> edges = new ArrayList<>();
        for (Interval i : intervals) {
            edges.add(new Edge(i.start(), +1));
            edges.add(new Edge(i.end(), -1));
        }
        edges.sort(Comparator.comparing(Edge::at).thenComparingInt(Edge::delta));
        int now = 0;
        int max = 0;
        for (Edge e : edges) {
            now += e.delta();
            max = Math.max(max, now);
        }
        return max;
    }

    /**
     * The complete lines of {@code file}: a node killed mid-write may leave a last line without
     * its newline, which is not counted.
     */
    private static List<String> lines(Path file) {
        if (!Files.exists(file)) {
            return List.of();
        }
        try {
            String all = Files.readString(file);
            int end = all.lastIndexOf('\n');
            return end < 0 ? List.of() : List.of(all.substring(0, end).split("\n"));
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read", e);
        }
    }
}
