package io.unidist.examples;

import io.unidist.Unidist;
import io.unidist.logging.LogForwarding;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node of the local example cluster: joins, then runs every example program in a thread of
 * its own until it is stopped (SIGTERM or Ctrl-C: it leaves the cluster cleanly) or killed.
 *
 * <p>Arguments: {@code producer} or {@code worker} (its part in {@link WorkQueue}), then the
 * settings of {@link ExampleSettings}. The system property {@code example.backup_dir} names the
 * directory that {@link RollingBackup} writes to (shared by the nodes).
 *
 * <p>The node logs through SLF4J with unidist's logging defaults and forwards every record to
 * the cluster's collector ({@link LogForwarding}), whose {@code logs/collected/} directory holds
 * the records of every host.
 *
 * <p>Besides its log, the node writes files into its data directory, one line per event,
 * that {@link LocalCluster} checks at the end: {@code ids.txt} (every id it got from
 * {@link UniqueJobIds#COUNTER}), {@code backups.txt} (each backup run: host, fencing token,
 * start and end, ISO instants); on the producer {@code produced.txt} (every job it offered); on a
 * worker {@code acking.txt} and {@code done.txt} (every job it was about to acknowledge, and every
 * job it acknowledged).
 */
public final class ExampleNode {
    /** The file of ids a node got, in its data directory. */
    public static final String IDS_FILE = "ids.txt";
    /** The file of backup runs a node did, in its data directory. */
    public static final String BACKUPS_FILE = "backups.txt";
    /** The jobs a worker acknowledged, one a line, in its data directory. */
    public static final String DONE_FILE = "done.txt";
    /** The jobs a worker was about to acknowledge, one a line, in its data directory. */
    public static final String ACKING_FILE = "acking.txt";
    /** The jobs the producer offered (each line written once its offer returned), in its data directory. */
    public static final String PRODUCED_FILE = "produced.txt";
    private static final Logger log = LoggerFactory.getLogger(ExampleNode.class);

    private final Unidist node;
    private final LogForwarding forwarding;
    private final boolean producer;
    private final boolean voter;
    private final Path dataDir;
    private final FencedDirectory backupTarget;
    private final Instant started = Instant.now();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong backups = new AtomicLong();

    private ExampleNode(Unidist node, LogForwarding forwarding, boolean producer, boolean voter, Path dataDir,
                        FencedDirectory backupTarget) {
        this.node = node;
        this.forwarding = forwarding;
        this.producer = producer;
        this.voter = voter;
        this.dataDir = dataDir;
        this.backupTarget = backupTarget;
    }

    /** {@code producer|worker}, then {@code --node=... --voters=...} and so on. */
    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !(args[0].equals("producer") || args[0].equals("worker"))) {
            throw new IllegalArgumentException("usage: ExampleNode producer|worker [--node=...] [--voters=...] ...");
        }
        ExampleSettings settings = ExampleSettings.from(Arrays.copyOfRange(args, 1, args.length));
        Files.createDirectories(settings.dataDir());
        Path backupDir = Path.of(System.getProperty("example.backup_dir",
                settings.dataDir().resolveSibling("backup-target").toString()));
        log.info("{}: joining {}", settings.node(), settings.config());
        Unidist node = settings.join();
        // central logs: every record of this node also goes to the cluster's collector (a voter)
        LogForwarding forwarding = LogForwarding.start(node);
        boolean voter = settings.config().isVoter();
        new ExampleNode(node, forwarding, args[0].equals("producer"), voter, settings.dataDir(),
                new FencedDirectory(backupDir)).runUntilStopped();
    }

    private void runUntilStopped() throws InterruptedException {
        List<Thread> programs = List.of(
                program("status", () -> StatusBoard.run(node, Duration.ofSeconds(1), this::status, (host, status) -> { })),
                program("ids", () -> UniqueJobIds.run(node, Duration.ofMillis(300), this::idTaken)),
                program("backup", this::backupNowAndThen),
                producer
                        ? program("producer", () -> WorkQueue.produce(node, Duration.ofMillis(250), this::idTaken,
                                job -> append(PRODUCED_FILE, job)))
                        : program("worker", () -> WorkQueue.work(node, Duration.ofMillis(150), new WorkQueue.JobLog() {
                            @Override
                            public void acking(String job) {
                                append(ACKING_FILE, job);
                            }

                            @Override
                            public void done(String job) {
                                append(DONE_FILE, job);
                            }
                        })));
        Thread stopper = new Thread(() -> stop(programs), "stop-" + node.nodeName());
        Runtime.getRuntime().addShutdownHook(stopper);
        log.info("{}: running the example programs as a {} and {}", node.nodeName(), voter ? "voter" : "non-voter",
                producer ? "the producer of jobs" : "a worker");
        for (Thread t : programs) {
            t.join();
        }
    }

    /** Every 1 to 2 s, tries for a backup slot (at most 2 hosts at once) and backs up for 0.5 to 1.5 s. */
    private void backupNowAndThen() throws InterruptedException {
        while (!Thread.currentThread().isInterrupted()) {
            Duration copyTime = Duration.ofMillis(ThreadLocalRandom.current().nextLong(500, 1500));
            RollingBackup.backupOnce(node, backupTarget, Duration.ofSeconds(3), copyTime).ifPresent(run -> {
                backups.incrementAndGet();
                append(BACKUPS_FILE, run.host() + " " + run.fencingToken() + " " + run.start() + " " + run.end());
            });
            Thread.sleep(ThreadLocalRandom.current().nextLong(1000, 2000)); // pacing of the workload
        }
    }

    private void idTaken(long id) {
        ids.incrementAndGet();
        append(IDS_FILE, Long.toString(id));
    }

    private String status() {
        return (voter ? "voter" : "node") + (producer ? ", producer" : ", worker")
                + ", up " + Duration.between(started, Instant.now()).toSeconds() + " s"
                + ", ids " + ids.get() + ", backups " + backups.get();
    }

    private void append(String file, String line) {
        try {
            Files.writeString(dataDir.resolve(file), line + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(dataDir.resolve(file) + ": cannot append", e);
        }
    }

    /** A body that may be interrupted: the way every program thread stops. */
    private interface Body {
        void run() throws InterruptedException;
    }

    private Thread program(String name, Body body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // asked to stop
            } catch (IllegalStateException e) {
                log.info("{}: {} stopped: {}", node.nodeName(), name, e.getMessage()); // the node was closed
            } catch (RuntimeException e) {
                log.error("{}: {} failed", node.nodeName(), name, e);
            }
        }, name + "-" + node.nodeName());
        t.start();
        return t;
    }

    private void stop(List<Thread> programs) {
        log.info("{}: stopping", node.nodeName());
        programs.forEach(Thread::interrupt);
        for (Thread t : programs) {
            try {
                t.join(3_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        forwarding.close(); // sends what is spooled, for a few seconds at most
        node.close(); // releases this node's leases and leaves the cluster
        log.info("{}: stopped", node.nodeName());
    }
}
