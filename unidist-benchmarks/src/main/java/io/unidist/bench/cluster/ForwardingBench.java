package io.unidist.bench.cluster;

import ch.qos.logback.classic.LoggerContext;
import io.unidist.Unidist;
import io.unidist.cluster.UnidistCluster;
import io.unidist.logging.LogForwarding;
import io.unidist.logging.UnidistLogging;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;

/**
 * Log forwarding from one node to a collector on 127.0.0.1, and what a sender holds while no
 * collector is reachable.
 *
 * <p>A {@link CollectorMain} JVM is the cluster's only voter, so the only collector; this JVM
 * joins as the non-voter {@code sender}, installs the unidist-logging defaults (console off)
 * and starts {@link LogForwarding}. Then:
 * <ol>
 *   <li><b>throughput</b>, 1 and 4 threads: log {@code --records} records as fast as the calls
 *       return, then wait until the collector has acknowledged all of them. Reports the rate
 *       at the logging call and end to end (first call to last acknowledgement), and the same
 *       calls with forwarding stopped, in the same run, as the ratio;</li>
 *   <li><b>collector down</b>: kill -9 the collector, log {@code --records} records twice;
 *       after each, the sender's heap after a full GC, the spool on disk, records pending and
 *       dropped; then start the collector again and time the drain.</li>
 * </ol>
 *
 * <p>Run: {@code mvn -B -q package -pl unidist-benchmarks -am -DskipTests && java -cp
 * unidist-benchmarks/target/benchmarks.jar io.unidist.bench.cluster.ForwardingBench --records 200000
 * --dir /tmp/forwarding-bench}.
 */
public final class ForwardingBench {
    static final String CLUSTER_VOTER = "collector";

    private ForwardingBench() {
    }

    /** Options: {@code --records N} (default 200000), {@code --dir D} (default a temporary directory). */
    public static void main(String[] args) throws Exception {
        int records = 200_000;
        Path dir = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--records" -> records = Integer.parseInt(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; use --records N, --dir D");
            }
        }
        if (dir == null) {
            dir = Files.createTempDirectory("forwarding-bench");
        }
        Files.createDirectories(dir);
        run(records, dir);
        System.exit(0); // JGroups' and the collector handle's threads
    }

    private static void run(int records, Path dir) throws Exception {
        String cluster = "fwd-bench-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
        int firstPort = BenchCluster.freePortRange(BenchCluster.PORT_SPAN);
        Properties p = new Properties();
        p.setProperty("unidist.logging.dir", dir.resolve("sender-logs").toString());
        p.setProperty("unidist.program", "sender");
        p.setProperty("unidist.logging.console", "false");
        p.setProperty("unidist.logging.totalSizeCap", "2GB");
        p.setProperty("unidist.logging.forward.spool.maxSize", "256MB");
        LoggerContext context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        UnidistLogging.configure(context, p);
        Logger log = context.getLogger("bench.app");

        VoterProcess collector = collectorProcess(cluster, firstPort, dir);
        collector.start();
        collector.awaitReady(Duration.ofSeconds(90));
        try (Unidist node = UnidistCluster.join(VoterMain.config(cluster, "sender", List.of(CLUSTER_VOTER),
                firstPort + 1, firstPort, dir.resolve("sender-data"), false))) {
            System.out.printf(Locale.ROOT, "# forwarding %,d records from a non-voter to a collector on 127.0.0.1%n",
                    records);
            LogForwarding forwarding = LogForwarding.start(node, context);
            await(() -> forwarding.collectors().contains(CLUSTER_VOTER), Duration.ofSeconds(60), "a collector");
            long collectedBefore = 0;
            for (int threads : new int[] {1, 4}) {
                logRecords(log, records / 10, threads, "warm"); // warm-up, drained and not counted
                drain(forwarding, collector, Duration.ofSeconds(120));
                collectedBefore = collected(collector);
                long start = System.nanoTime();
                long callsDone = logRecords(log, records, threads, "t" + threads);
                drain(forwarding, collector, Duration.ofSeconds(300));
                long end = System.nanoTime();
                long collected = collected(collector) - collectedBefore;
                System.out.printf(Locale.ROOT,
                        "throughput threads=%d records=%d calls/s=%.0f end-to-end/s=%.0f collected=%d%n",
                        threads, records, records * 1e9 / (callsDone - start), records * 1e9 / (end - start),
                        collected);
            }
            forwarding.close();
            for (int threads : new int[] {1, 4}) {
                logRecords(log, records / 10, threads, "warm-local");
                long start = System.nanoTime();
                long done = logRecords(log, records, threads, "local" + threads);
                System.out.printf(Locale.ROOT, "local-only threads=%d records=%d calls/s=%.0f%n",
                        threads, records, records * 1e9 / (done - start));
            }

            LogForwarding down = LogForwarding.start(node, context);
            collector.kill();
            await(() -> down.collectors().isEmpty(), Duration.ofSeconds(60), "the collector to leave the view");
            long base = heapAfterGc();
            System.out.printf(Locale.ROOT, "collector-down baseline heap=%.1fMB spool=%.1fMB pending=%d%n",
                    base / 1e6, spoolBytes(dir) / 1e6, down.pending());
            for (int round = 1; round <= 2; round++) {
                logRecords(log, records, 1, "down" + round);
                long heap = heapAfterGc();
                System.out.printf(Locale.ROOT,
                        "collector-down after %d records: heap=%.1fMB (+%.1fMB) spool=%.1fMB pending=%d dropped=%d%n",
                        round * records, heap / 1e6, (heap - base) / 1e6, spoolBytes(dir) / 1e6, down.pending(),
                        down.dropped());
            }
            long pending = down.pending();
            VoterProcess again = collectorProcess(cluster, firstPort, dir);
            long restart = System.nanoTime();
            again.start();
            again.awaitReady(Duration.ofSeconds(90));
            drain(down, again, Duration.ofSeconds(600));
            System.out.printf(Locale.ROOT, "collector-back drained %d records in %.1f s (from its start)%n",
                    pending, (System.nanoTime() - restart) / 1e9);
            down.close();
            again.call("quit", Duration.ofSeconds(30));
        } finally {
            collector.kill();
        }
    }

    /** A {@link CollectorMain} JVM, the only voter of {@code cluster}, on {@code firstPort}. */
    static VoterProcess collectorProcess(String cluster, int firstPort, Path dir) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx1g", "-Djava.net.preferIPv4Stack=true",
                "-cp", System.getProperty("java.class.path"), CollectorMain.class.getName(),
                cluster, CLUSTER_VOTER, Integer.toString(firstPort), dir.toString()));
        return new VoterProcess(CLUSTER_VOTER, cmd, dir.resolve("collector.err"));
    }

    /** Logs {@code count} records from {@code threads} threads; returns System.nanoTime() when all calls returned. */
    private static long logRecords(Logger log, int count, int threads, String tag) throws InterruptedException {
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            int share = count / threads + (t < count % threads ? 1 : 0);
            Thread th = new Thread(() -> {
                for (int i = 0; i < share; i++) {
                    log.info("{} order {} of worker {} accepted for {}", tag, i, id, "customer-42");
                }
            }, "bench-log-" + t);
            all.add(th);
            th.start();
        }
        for (Thread th : all) {
            th.join();
        }
        return System.nanoTime();
    }

    private static void drain(LogForwarding forwarding, VoterProcess collector, Duration timeout)
            throws IOException, InterruptedException {
        await(() -> forwarding.pending() == 0, timeout, "the spool to drain (pending " + forwarding.pending() + ")");
        collected(collector);
    }

    private static long collected(VoterProcess collector) throws IOException, InterruptedException {
        return Long.parseLong(collector.call("collected", Duration.ofSeconds(30)).trim());
    }

    /** The smallest heap in use after each of five full collections (one may overlap a sender's batch). */
    private static long heapAfterGc() throws InterruptedException {
        long min = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            min = Math.min(min, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
            TimeUnit.MILLISECONDS.sleep(100); // let a batch in flight finish between the collections
        }
        return min;
    }

    private static long spoolBytes(Path dir) throws IOException {
        Path spool = dir.resolve("sender-logs").resolve("spool");
        if (!Files.exists(spool)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(spool)) {
            long sum = 0;
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                sum += Files.size(f);
            }
            return sum;
        }
    }

    private interface Check {
        boolean ok() throws Exception;
    }

    private static void await(Check check, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (check.ok()) {
                    return;
                }
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("waiting for " + what + ": " + e, e);
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout + " waiting for " + what);
            }
            TimeUnit.MILLISECONDS.sleep(20); // polling another process's progress: nothing to wait on
        }
    }
}
