package io.unidist.bench.cluster;

import io.unidist.MessageQueue;
import io.unidist.cluster.internal.UnidistRaft;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A large backlog in a real cluster: three voters on 127.0.0.1 in three JVMs ({@link BenchCluster}, as for
 * {@link ClusterBench}) and this process as the non-voter client. It measures
 * <ol>
 *   <li>the fill: N offers of P random bytes to one queue from the client with 16 threads (rate and latency), while
 *       polling each voter about once a second for the snapshots it finished: how long RAFT's thread was stopped
 *       for each (the freeze, and the log truncation after the write) and how long the background write took;</li>
 *   <li>each voter's heap after a full GC with the backlog held, and its peak heap;</li>
 *   <li>restart 1: kill -9 of all three voters, then all three started again over the same data directories; the
 *       time from their launch until they have joined and until a linearizable {@code size()} from the client
 *       returns the size the fill left; the time each spent loading its snapshot and replaying its log, and its
 *       heap;</li>
 *   <li>an on-demand snapshot of the whole backlog on each voter in turn (RAFT's {@code snapshot()}, no load):
 *       freeze and write of exactly the full state;</li>
 *   <li>restart 2: the same restart from those snapshots (little log left to replay);</li>
 *   <li>catch-up: one follower killed with -9 while the client offers more messages through the other two, then
 *       started again: the time until it has joined, is in the raft view with a leader, and has applied the
 *       leader's commit index.</li>
 * </ol>
 * Nothing is tuned to hide a problem: a voter that runs out of heap exits ({@code -XX:+ExitOnOutOfMemoryError}),
 * and the run reports what failed.
 *
 * <p>Run (from the repository root; with a million messages it takes 10-20 minutes on 2 cores):
 * <pre>
 * mvn -B -q -pl unidist-benchmarks -am install -DskipTests
 * java -cp unidist-benchmarks/target/benchmarks.jar io.unidist.bench.cluster.BacklogRestart \
 *     --messages 1000000 --payload 100 --out docs/bench-cluster
 * </pre>
 * Options: {@code --messages 1000000}, {@code --payload 100} (bytes), {@code --threads 16} (client threads of the
 * fill), {@code --fsync on} ({@code off} to turn the Raft log's fsync off), {@code --heap 1g} (the voters' -Xmx),
 * {@code --jvm "OPTIONS"} (more options of the voters' JVMs), {@code --offers-while-down 10000} (the catch-up's
 * offers), {@code --out DIR} (default {@code target/bench-cluster}; writes {@code backlog.csv} and
 * {@code backlog.md}), {@code --data-dir DIR} (default a new temporary directory, deleted at the end unless
 * {@code --keep-data}). The voters' stderr goes to {@code <data dir>/logs/v*.log}.
 */
public final class BacklogRestart {
    /** The queue the backlog is kept in. */
    static final String QUEUE = "bench-backlog";
    private static final Duration START_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration CALL_TIMEOUT = Duration.ofMinutes(5);

    private int messages = 1_000_000;
    private int payload = 100;
    private int threads = 16;
    private boolean fsync = true;
    private String heap = "1g";
    private List<String> extraJvm = List.of();
    private int offersWhileDown = 10_000;
    private Path out = Path.of("target", "bench-cluster");
    private Path dataDir;
    private boolean keepData;

    private final BacklogReport report = new BacklogReport();

    private BacklogRestart() {
    }

    /**
     * Runs the benchmark; see the class comment for the options.
     *
     * @param args the options
     */
    public static void main(String[] args) throws Exception {
        if (System.getProperty("java.net.preferIPv4Stack") == null) {
            System.setProperty("java.net.preferIPv4Stack", "true"); // before any networking starts
        }
        BacklogRestart bench = new BacklogRestart();
        try {
            bench.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println("usage: BacklogRestart [--messages 1000000] [--payload 100] [--threads 16] [--fsync on]"
                    + " [--heap 1g] [--jvm \"OPTIONS\"] [--offers-while-down 10000] [--out DIR] [--data-dir DIR]"
                    + " [--keep-data]");
            System.exit(2);
        }
        int status = 0;
        try {
            bench.run();
        } catch (Exception e) {
            e.printStackTrace();
            status = 1;
        } finally {
            VoterProcess.Children.killAll();
        }
        System.exit(status);
    }

    private void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--keep-data")) {
                keepData = true;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--messages" -> messages = positive(a, v);
                case "--payload" -> payload = positive(a, v);
                case "--threads" -> threads = positive(a, v);
                case "--fsync" -> fsync = VoterMain.parseFsync(v);
                case "--heap" -> heap = v;
                case "--jvm" -> extraJvm = Arrays.stream(v.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
                case "--offers-while-down" -> offersWhileDown = positive(a, v);
                case "--out" -> out = Path.of(v);
                case "--data-dir" -> dataDir = Path.of(v);
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
    }

    private static int positive(String option, String value) {
        try {
            int n = Integer.parseInt(value.replace("_", ""));
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(option + " needs a positive whole number, got '" + value + "'");
    }

    private List<String> jvmOptions() {
        List<String> options = new ArrayList<>(List.of("-Xms256m", "-Xmx" + heap, "-XX:+ExitOnOutOfMemoryError"));
        options.addAll(extraJvm);
        return options;
    }

    private void run() throws Exception {
        Instant started = Instant.now();
        Path data = dataDir != null ? Files.createDirectories(dataDir) : Files.createTempDirectory("unidist-backlog-");
        environment(data);
        report.environment.forEach(ClusterBench::progress);
        Thread cleanup = new Thread(() -> {
            VoterProcess.Children.killAll();
            if (!keepData) {
                ClusterBench.deleteTree(data);
            }
        }, "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup); // Ctrl-C or kill: the children first, then their files
        try (BenchCluster c = BenchCluster.start(fsync, data, jvmOptions())) {
            ClusterBench.progress("cluster " + c.clusterName() + " up; voters' logs in " + data.resolve("logs"));
            measure(c);
        } catch (Exception e) {
            report.problems.add("the run stopped: " + VoterMain.oneLine(e));
            throw e;
        } finally {
            Runtime.getRuntime().removeShutdownHook(cleanup);
            report.environment.add("Run took " + Duration.between(started, Instant.now())
                    .truncatedTo(ChronoUnit.SECONDS).toString().substring(2).toLowerCase(Locale.ROOT)
                    + String.format(Locale.ROOT, "; load average %.2f at the end.",
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
            report.write(out);
            System.out.print(report.markdown());
            System.out.flush();
            ClusterBench.progress("results written to " + out.toAbsolutePath().resolve("backlog.md"));
            if (!keepData) {
                ClusterBench.deleteTree(data);
            }
        }
    }

    private void measure(BenchCluster c) throws Exception {
        MessageQueue<byte[]> queue = c.client().queue(QUEUE, byte[].class);
        fill(c);
        long size = queue.size();
        report.sizeAfterFill = size;
        if (size != messages - report.fill.errors()) {
            report.problems.add(String.format(Locale.ROOT, "after %,d offers (%d failed) the queue holds %,d",
                    messages, report.fill.errors(), size));
        }
        awaitNoSnapshotInProgress(c);
        recordVoters(c, "after the fill");
        restartAll(c, queue, "restart 1 (snapshot + log as the fill left them)", size);
        onDemandSnapshots(c);
        restartAll(c, queue, "restart 2 (from the on-demand snapshots)", size);
        catchUp(c, queue, size);
    }

    /** The fill, polling the voters' snapshot counters about once a second meanwhile. */
    private void fill(BenchCluster c) throws Exception {
        ClusterBench.progress(String.format(Locale.ROOT, "fill: %,d offers of %d B with %d threads", messages, payload,
                threads));
        report.messages = messages;
        report.payload = payload;
        report.threads = threads;
        AtomicLong done = new AtomicLong();
        AtomicReference<Measurement> result = new AtomicReference<>();
        AtomicReference<Exception> failure = new AtomicReference<>();
        Thread load = new Thread(() -> {
            try {
                result.set(c.fillQueue(QUEUE, payload, messages, threads, done));
            } catch (Exception e) {
                failure.set(e);
            }
        }, "bench-fill");
        load.setDaemon(true);
        long t0 = System.nanoTime();
        load.start();
        Map<String, UnidistRaft.SnapshotStats> seen = new HashMap<>();
        long lastProgress = t0;
        while (load.isAlive()) {
            load.join(1000);
            for (String v : BenchCluster.VOTERS) {
                UnidistRaft.SnapshotStats now = snapshots(c.voter(v));
                UnidistRaft.SnapshotStats before = seen.put(v, now);
                long finished = now.written() - (before == null ? 0 : before.written());
                if (finished > 0) {
                    BacklogReport.SnapshotEvent e = new BacklogReport.SnapshotEvent(v, (System.nanoTime() - t0) / 1e9,
                            done.get(), now.written(), finished, now.lastIndex(), now.lastBytes(),
                            now.freeze().lastNanos(), now.write().lastNanos(), now.truncate().lastNanos());
                    report.events.add(e);
                    ClusterBench.progress(String.format(Locale.ROOT, "%s: snapshot %d at index %,d, %.1f MB: freeze"
                            + " %.1f ms, write %.2f s, truncate %.1f ms", v, e.written(), e.index(), e.bytes() / 1e6,
                            e.freezeNanos() / 1e6, e.writeNanos() / 1e9, e.truncateNanos() / 1e6));
                }
            }
            if (System.nanoTime() - lastProgress > TimeUnit.SECONDS.toNanos(30)) {
                lastProgress = System.nanoTime();
                ClusterBench.progress(String.format(Locale.ROOT, "fill: %,d offers in %.0f s", done.get(),
                        (lastProgress - t0) / 1e9));
            }
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        report.fill = result.get();
        Measurement m = report.fill;
        ClusterBench.progress(String.format(Locale.ROOT, "fill: %,d offers in %.1f s, %,.0f/s, p50 %.1f ms, p99 %.1f"
                + " ms, max %.0f ms, %d failed%s", m.ops(), m.windowNanos() / 1e9, m.opsPerSecond(), m.p50Nanos() / 1e6,
                m.p99Nanos() / 1e6, m.maxNanos() / 1e6, m.errors(), m.errors() > 0 ? " (first: " + m.firstError() + ")"
                : ""));
        if (m.errors() > 0) {
            report.problems.add(m.errors() + " offers of the fill failed; first: " + m.firstError());
        }
    }

    /** Waits (up to 2 minutes) until no voter has a background snapshot being written, so that heaps compare. */
    private void awaitNoSnapshotInProgress(BenchCluster c) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        for (String v : BenchCluster.VOTERS) {
            while (true) {
                UnidistRaft.SnapshotStats s = snapshots(c.voter(v));
                if (s.freeze().count() <= s.written() + s.failed()) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    report.problems.add(v + " was still writing a snapshot 2 minutes after the fill");
                    break;
                }
                TimeUnit.MILLISECONDS.sleep(200); // polling a remote process: nothing to wait on
            }
        }
    }

    private void recordVoters(BenchCluster c, String phase) throws IOException, InterruptedException {
        for (String v : BenchCluster.VOTERS) {
            recordVoter(c, phase, v);
        }
    }

    private void recordVoter(BenchCluster c, String phase, String v) throws IOException, InterruptedException {
        VoterProcess p = c.voter(v);
        VoterReports.Heap h = VoterReports.Heap.decode(p.call("heap", CALL_TIMEOUT));
        BacklogReport.VoterState s = new BacklogReport.VoterState(h, snapshots(p),
                VoterReports.RaftPosition.decode(p.call("raft", CALL_TIMEOUT)));
        report.voter(phase, v, s);
        ClusterBench.progress(String.format(Locale.ROOT, "%s, %s: heap %.0f MB after a full GC (peak %.0f MB at a"
                + " GC's start, %.0f MB at its end), %d snapshots, longest freeze %.1f ms, longest write %.2f s,"
                + " commit %,d, log from %,d, load %s, replay %s (%,d entries)", phase, v,
                h.usedAfterFullGc() / 1e6, h.peakBeforeGc() / 1e6, h.peakAfterGc() / 1e6, s.stats().written(),
                s.stats().freeze().maxNanos() / 1e6, s.stats().write().maxNanos() / 1e9, s.position().commitIndex(),
                s.position().firstAppended(), seconds(s.stats().loadNanos()), seconds(s.stats().replayNanos()),
                s.stats().replayedEntries()));
    }

    private static UnidistRaft.SnapshotStats snapshots(VoterProcess p) throws IOException, InterruptedException {
        return VoterReports.decodeSnapshots(p.call("snapshots", CALL_TIMEOUT));
    }

    /**
     * kill -9 of all three, start again, and time until size() from the client answers {@code expected}; the client
     * asks from the launch on, on a thread of its own, so that a quorum that answers before the third voter has
     * joined is seen.
     */
    private void restartAll(BenchCluster c, MessageQueue<byte[]> queue, String label, long expected)
            throws IOException, InterruptedException {
        ClusterBench.progress(label + ": kill -9 of all 3 voters");
        c.killVoters();
        long t0 = System.nanoTime();
        long deadline = t0 + START_TIMEOUT.toNanos();
        SizePoller poller = new SizePoller(queue, expected, t0, deadline);
        Thread asking = new Thread(poller, "bench-size-poller");
        asking.setDaemon(true);
        asking.start();
        try {
            c.restartVoters(START_TIMEOUT);
        } catch (IOException | RuntimeException | InterruptedException e) {
            asking.interrupt();
            throw e;
        }
        long joined = System.nanoTime() - t0;
        asking.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        asking.interrupt();
        ClusterBench.progress(String.format(Locale.ROOT, "%s: all 3 joined %.1f s after launch", label, joined / 1e9));
        BacklogReport.Restart r = new BacklogReport.Restart(label, joined, poller.answered, poller.size, expected,
                poller.failed, poller.firstError);
        report.restarts.add(r);
        if (r.answeredNanos() < 0) {
            report.problems.add(label + ": size() did not return " + expected + " within " + START_TIMEOUT
                    + " (last size " + r.size() + ", " + r.failedCalls() + " failed calls, first: " + r.firstError()
                    + ")");
        }
        ClusterBench.progress(String.format(Locale.ROOT, "%s: size() = %,d %s after launch (%d calls failed before,"
                + " first: %s)", label, r.size(), seconds(r.answeredNanos()), r.failedCalls(), r.firstError()));
        c.awaitHealthy(Duration.ofSeconds(90));
        awaitNoSnapshotInProgress(c);
        recordVoters(c, label);
    }

    /** Asks size() until it returns the expected size; a call that throws is counted and asked again 20 ms later. */
    private static final class SizePoller implements Runnable {
        private final MessageQueue<byte[]> queue;
        private final long expected;
        private final long t0;
        private final long deadline;
        volatile long answered = -1;
        volatile long size = -1;
        volatile long failed;
        volatile String firstError = "-";

        SizePoller(MessageQueue<byte[]> queue, long expected, long t0, long deadline) {
            this.queue = queue;
            this.expected = expected;
            this.t0 = t0;
            this.deadline = deadline;
        }

        @Override
        public void run() {
            while (System.nanoTime() < deadline && !Thread.currentThread().isInterrupted()) {
                try {
                    size = queue.size();
                    if (size == expected) {
                        answered = System.nanoTime() - t0;
                        return;
                    }
                } catch (RuntimeException e) {
                    if (failed++ == 0) {
                        firstError = VoterMain.oneLine(e);
                    }
                }
                try {
                    TimeUnit.MILLISECONDS.sleep(20); // polling the cluster until it answers
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private static String seconds(long nanos) {
        return nanos < 0 ? "-" : String.format(Locale.ROOT, "%.1f s", nanos / 1e9);
    }

    private void onDemandSnapshots(BenchCluster c) throws IOException, InterruptedException {
        for (String v : BenchCluster.VOTERS) {
            long t0 = System.nanoTime();
            UnidistRaft.SnapshotStats s = VoterReports.decodeSnapshots(c.voter(v).call("snapshot", CALL_TIMEOUT));
            long call = System.nanoTime() - t0;
            BacklogReport.OnDemand o = new BacklogReport.OnDemand(v, call, s.freeze().lastNanos(),
                    s.write().lastNanos(), s.truncate().lastNanos(), s.lastBytes());
            report.onDemand.add(o);
            ClusterBench.progress(String.format(Locale.ROOT, "on-demand snapshot on %s: freeze %.1f ms, write %.2f s,"
                    + " %.1f MB, call %.2f s", v, o.freezeNanos() / 1e6, o.writeNanos() / 1e9, o.bytes() / 1e6,
                    call / 1e9));
        }
    }

    /** One follower killed while the others take offers, then started again: its catch-up. */
    private void catchUp(BenchCluster c, MessageQueue<byte[]> queue, long size)
            throws IOException, InterruptedException {
        BenchCluster.Status leaders = c.leaders();
        VoterProcess victim = c.follower(leaders);
        ClusterBench.progress("catch-up: kill -9 of follower " + victim.name() + ", then " + offersWhileDown
                + " offers through the other two");
        victim.kill();
        Measurement offers = c.fillQueue(QUEUE, payload, offersWhileDown, threads, new AtomicLong());
        long target = VoterReports.RaftPosition.decode(c.voter(c.leaders().leader()).call("raft", CALL_TIMEOUT))
                .commitIndex();
        long t0 = System.nanoTime();
        c.restartVoters(START_TIMEOUT);
        long joined = System.nanoTime() - t0;
        long inView = -1;
        long caughtUp = -1;
        long deadline = t0 + START_TIMEOUT.toNanos();
        while (caughtUp < 0 && System.nanoTime() < deadline) {
            VoterReports.RaftPosition p = VoterReports.RaftPosition.decode(victim.call("raft", CALL_TIMEOUT));
            long now = System.nanoTime() - t0;
            if (inView < 0 && p.raftView() == BenchCluster.VOTERS.size() && p.leader() != null) {
                inView = now;
            }
            if (p.commitIndex() >= target) {
                caughtUp = now;
            } else {
                TimeUnit.MILLISECONDS.sleep(10); // polling a remote process: nothing to wait on
            }
        }
        report.catchUp = new BacklogReport.CatchUp(victim.name(), offers, target, joined, inView, caughtUp);
        ClusterBench.progress(String.format(Locale.ROOT, "catch-up of %s: %,d offers at %,.0f/s while down; joined"
                + " %s, in view %s, commit index %,d reached %s after launch", victim.name(), offers.ops(),
                offers.opsPerSecond(), seconds(joined), seconds(inView), target, seconds(caughtUp)));
        if (caughtUp < 0) {
            report.problems.add(victim.name() + " did not reach the leader's commit index " + target + " within "
                    + START_TIMEOUT);
        }
        recordVoter(c, "catch-up", victim.name());
        report.finalExpected = size + offers.ops();
        report.finalSize = queue.size();
        if (report.finalSize != report.finalExpected) {
            report.problems.add(String.format(Locale.ROOT, "at the end the queue holds %,d, expected %,d (%,d + %,d"
                    + " offers while a follower was down, %d failed)", report.finalSize, report.finalExpected, size,
                    offers.ops(), offers.errors()));
        }
    }

    private void environment(Path data) {
        String fsType;
        try {
            fsType = Files.getFileStore(data).type();
        } catch (IOException e) {
            fsType = "unknown";
        }
        report.environment.add(String.format(Locale.ROOT, "Machine: %d cores, load average %.2f at start, %s %s,"
                + " Java %s.", Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), System.getProperty("os.name"),
                System.getProperty("os.arch"), System.getProperty("java.version")));
        report.environment.add("Voters' JVM options " + String.join(" ", jvmOptions()) + "; Raft log fsync "
                + (fsync ? "on" : "off") + "; unidist-local.xml, raftLogMaxBytes 4 MiB (the default).");
        report.environment.add("Data directories on a " + fsType + " file system" + (fsType.equals("tmpfs")
                ? " (WARNING: tmpfs ignores fsync; use --data-dir on a disk)" : "") + "; started "
                + Instant.now().truncatedTo(ChronoUnit.SECONDS) + ".");
    }
}
