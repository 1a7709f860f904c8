package io.unidist.bench.cluster;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.FileStore;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The cluster benchmark: three voters on 127.0.0.1 in three JVMs plus this process as a non-voter; counter
 * increments and lock acquire+release per second with p50/p99/p99.9 latency, with 1 and 16 client threads, from a
 * voter and from the non-voter, with the Raft log's fsync on and off; state bucket put and get and queue offer and
 * poll+ack with 100 B and 10 KiB byte[] payloads, from a follower and from the non-voter, beside the counter
 * increment; beside them, in the same clusters,
 * jgroups-raft's own {@code CounterService} on the same stack and settings, and the floors (a loopback round trip,
 * a forced append), so that every figure also appears as a ratio; and the time from a leader's kill -9 to the next
 * successful increment; and logging calls (local and forwarded to a collector) against plain logback.
 *
 * <p>Run (from the repository root; a full run takes about 12 minutes on 2 cores):
 * <pre>
 * mvn -B -q -pl unidist-benchmarks -am install -DskipTests
 * java -cp unidist-benchmarks/target/benchmarks.jar io.unidist.bench.cluster.ClusterBench --out docs/bench-cluster
 * </pre>
 * Options: {@code --ops counter,lock,state,queue,logging} (operation groups, default all; logging: log.info calls
 * with plain logback, the unidist-logging defaults, and the defaults forwarding to a collector JVM, each in a JVM of
 * its own ({@link LoggingLoadMain}), ratios to plain logback; with state or queue but not
 * counter, the counter increment rows from a follower and the non-voter still run, as their baseline; failover
 * runs with counter only), {@code --data-warmup 1s} and {@code --data-window 3s} (the state and queue rows: shorter,
 * to keep a whole run near 10 minutes on 2 cores), {@code --payloads 100,10240} (bytes, state and queue rows),
 * {@code --out DIR} (default {@code target/bench-cluster}), {@code --warmup 2s}, {@code --window 5s},
 * {@code --cluster-warmup 24s} (every operation once, unmeasured, after a cluster starts),
 * {@code --threads 1,16}, {@code --fsync on,off}, {@code --failover-rounds 3} (0 to skip), {@code --data-dir DIR}
 * (default: a new temporary directory, deleted at the end unless {@code --keep-data}), {@code --jvm "-Xmx512m ..."}
 * (options of the voters' JVMs). Logging: WARN and above to stderr ({@code -Dunidist.bench.log=INFO} for more; the
 * voters' stderr goes to {@code <data dir>/<session>/logs/v*.log}).
 *
 * <p><b>How.</b> For each fsync setting a new cluster ({@link BenchCluster}: fresh name, free ports, fresh data
 * directories): the voters are {@link VoterMain} processes that serve load commands over stdin/stdout; a load
 * is N threads calling in a closed loop for the window after a warm-up ({@link ClosedLoop}). The cases are
 * interleaved (CounterService, then unidist, for each thread count) so that drift in the machine's load hits both
 * alike. Results go to {@code results.csv}, {@code results.md} and {@code failover.csv} in the output directory,
 * and the Markdown to standard output; progress goes to stderr. All child processes die with the launcher
 * (shutdown hook; a voter also exits when its stdin closes).
 *
 * <p>A large backlog (snapshots, heap, restarts) is measured on the same clusters by {@link BacklogRestart}.
 */
public final class ClusterBench {
    private Duration warmup = Duration.ofSeconds(2);
    private Duration window = Duration.ofSeconds(5);
    private Duration clusterWarmup = Duration.ofSeconds(24);
    private List<Integer> threadCounts = List.of(1, 16);
    private List<Boolean> fsyncs = List.of(true, false);
    private int failoverRounds = 3;
    private Path out = Path.of("target", "bench-cluster");
    private Path dataDir;
    private boolean keepData;
    private Duration dataWarmup = Duration.ofSeconds(1);
    private Duration dataWindow = Duration.ofSeconds(3);
    private List<Integer> payloads = List.of(100, 10 * 1024);
    private Set<String> ops = new LinkedHashSet<>(GROUPS);
    private List<String> jvmOptions = List.of("-Xms256m", "-Xmx512m", "-XX:+ExitOnOutOfMemoryError");

    /** The operation groups, in the order they run. */
    static final List<String> GROUPS = List.of("counter", "lock", "state", "queue", "logging");

    private final List<Row> rows = new ArrayList<>();
    private final List<BenchCluster.Failover> failovers = new ArrayList<>();

    private ClusterBench() {
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
        ClusterBench bench = new ClusterBench();
        try {
            bench.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println("usage: ClusterBench [--out DIR] [--warmup 2s] [--window 5s] [--cluster-warmup 24s]"
                    + " [--threads 1,16] [--ops counter,lock,state,queue,logging] [--data-warmup 1s] [--data-window 3s]"
                    + " [--payloads 100,10240]"
                    + " [--fsync on,off] [--failover-rounds 3] [--data-dir DIR] [--keep-data] [--jvm \"OPTIONS\"]");
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
                case "--out" -> out = Path.of(v);
                case "--warmup" -> warmup = duration(v);
                case "--window" -> window = duration(v);
                case "--cluster-warmup" -> clusterWarmup = duration(v);
                case "--threads" -> threadCounts = Arrays.stream(v.split(",")).map(String::trim).map(Integer::valueOf)
                        .toList();
                case "--fsync" -> fsyncs = Arrays.stream(v.split(",")).map(String::trim).map(VoterMain::parseFsync)
                        .toList();
                case "--ops" -> {
                    ops = new LinkedHashSet<>();
                    for (String g : v.split(",")) {
                        if (!GROUPS.contains(g.trim())) {
                            throw new IllegalArgumentException("unknown operation group '" + g + "' (use " + GROUPS + ")");
                        }
                        ops.add(g.trim());
                    }
                }
                case "--data-warmup" -> dataWarmup = duration(v);
                case "--data-window" -> dataWindow = duration(v);
                case "--payloads" -> payloads = Arrays.stream(v.split(",")).map(String::trim).map(Integer::valueOf)
                        .toList();
                case "--failover-rounds" -> failoverRounds = Integer.parseInt(v);
                case "--data-dir" -> dataDir = Path.of(v);
                case "--jvm" -> jvmOptions = Arrays.stream(v.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (window.isZero() || window.isNegative() || dataWindow.isZero() || dataWindow.isNegative()) {
            throw new IllegalArgumentException("--window and --data-window must be positive");
        }
    }

    /** "5s", "500ms", "1m", or a number of seconds. */
    static Duration duration(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.endsWith("s")) {
                return Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
            }
            if (t.endsWith("m")) {
                return Duration.ofSeconds(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 60));
            }
            return Duration.ofMillis(Math.round(Double.parseDouble(t) * 1000));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a duration: '" + s + "' (use 5s, 500ms or 1m)", e);
        }
    }

    private void run() throws Exception {
        Instant started = Instant.now();
        Path data = dataDir != null ? Files.createDirectories(dataDir) : Files.createTempDirectory("unidist-bench-");
        List<String> environment = environment(data);
        environment.forEach(e -> progress(e));
        Thread cleanup = new Thread(() -> {
            VoterProcess.Children.killAll();
            if (!keepData) {
                deleteTree(data);
            }
        }, "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup); // Ctrl-C or kill: the children first, then their files
        try {
            for (int s = 0; s < fsyncs.size(); s++) {
                boolean fsync = fsyncs.get(s);
                boolean measureFailover = failoverRounds > 0 && ops.contains("counter")
                        && (fsync || !fsyncs.contains(true));
                if (ops.stream().anyMatch(o -> !o.equals("logging"))) {
                    runCluster(s, fsync, data.resolve("cluster-" + s + (fsync ? "-fsync" : "-nofsync")),
                            measureFailover);
                }
            }
            if (ops.contains("logging")) {
                runLogging(fsyncs.size(), data.resolve("logging"));
            }
        } finally {
            Runtime.getRuntime().removeShutdownHook(cleanup);
            if (!keepData) {
                deleteTree(data);
            }
        }
        environment.add("Run took " + Duration.between(started, Instant.now()).truncatedTo(ChronoUnit.SECONDS)
                .toString().substring(2).toLowerCase(Locale.ROOT) + ".");
        Report report = new Report(rows, failovers, environment);
        report.write(out);
        System.out.print(report.markdown());
        System.out.flush();
        progress("results written to " + out.toAbsolutePath());
    }

    private void runCluster(int session, boolean fsync, Path dir, boolean measureFailover) throws Exception {
        progress("cluster " + session + ": fsync " + (fsync ? "on" : "off") + ", starting 3 voters");
        long t0 = System.nanoTime();
        try (BenchCluster c = BenchCluster.start(fsync, dir, jvmOptions)) {
            progress(String.format(Locale.ROOT, "cluster %s up in %.1f s (ports from %d)", c.clusterName(),
                    (System.nanoTime() - t0) / 1e9, c.firstPort()));
            BenchCluster.Status leaders = c.leaders();
            VoterProcess follower = c.follower(leaders);
            warmUpCluster(c, leaders, follower);
            add(new Row(session, Row.Kind.FLOOR_ROUND_TRIP, "floor: TCP round trip 64 B", 1, Row.Role.NONE,
                    "launcher ↔ v1", fsync, 0, c.roundTrips(warmup, window)));
            add(new Row(session, Row.Kind.STACK_ROUND_TRIP, "unidist messaging round trip 64 B", 1, Row.Role.NONE,
                    "client ↔ v1", fsync, 0, c.stackRoundTrips(warmup, window)));
            add(new Row(session, Row.Kind.FLOOR_FSYNC, "floor: 64 B append + force", 1, Row.Role.NONE,
                    follower.name(), true, 0, c.runOn(follower, "fsync", 1, warmup, window)));
            for (int threads : ops.contains("counter") ? threadCounts : List.<Integer>of()) {
                leaders = c.leaders();
                follower = c.follower(leaders);
                VoterProcess csFollower = c.csFollower(leaders, follower);
                add(csRow(c, session, csFollower, Row.Role.FOLLOWER, threads));
                add(voterRow(c, session, "counter", follower, Row.Role.FOLLOWER, threads));
                add(new Row(session, Row.Kind.UNIDIST, "counter incrementAndGet", threads, Row.Role.NON_VOTER, "client",
                        fsync, 1, c.runOnClient("counter", threads, warmup, window)));
                leaders = c.leaders();
                add(csRow(c, session, c.voter(leaders.csLeader()), Row.Role.LEADER, threads));
                add(voterRow(c, session, "counter", c.voter(leaders.leader()), Row.Role.LEADER, threads));
            }
            if (!ops.contains("counter") && (ops.contains("state") || ops.contains("queue"))) {
                for (int threads : threadCounts) { // the baseline of the state and queue rows, without CounterService
                    follower = c.follower(c.leaders());
                    add(voterRow(c, session, "counter", follower, Row.Role.FOLLOWER, threads));
                    add(new Row(session, Row.Kind.UNIDIST, "counter incrementAndGet", threads, Row.Role.NON_VOTER,
                            "client", fsync, 1, c.runOnClient("counter", threads, warmup, window)));
                }
            }
            int most = threadCounts.stream().mapToInt(Integer::intValue).max().orElse(1);
            List<Object[]> lockCases = new ArrayList<>();
            if (ops.contains("lock")) {
                lockCases.add(new Object[] {"lock", 1});
            }
            if (most > 1 && ops.contains("lock")) {
                lockCases.add(new Object[] {"locks", most});
                lockCases.add(new Object[] {"lock", most});
                lockCases.add(new Object[] {"semaphore", most});
            }
            for (Object[] lc : lockCases) {
                String op = (String) lc[0];
                int threads = (Integer) lc[1];
                follower = c.follower(c.leaders());
                add(voterRow(c, session, op, follower, Row.Role.FOLLOWER, threads));
                add(new Row(session, Row.Kind.UNIDIST, label(op, threads), threads, Row.Role.NON_VOTER, "client", fsync,
                        2, c.runOnClient(op, threads, warmup, window)));
            }
            if (ops.contains("state")) {
                runState(c, session);
            }
            if (ops.contains("queue")) {
                runQueue(c, session);
            }
            if (measureFailover) {
                for (int round = 1; round <= failoverRounds; round++) {
                    progress("failover round " + round + ": killing the leader");
                    BenchCluster.Failover f = c.failover(round, Duration.ofSeconds(1));
                    progress(String.format(Locale.ROOT, "failover round %d: killed %s, new leader %s, kill -> next"
                            + " increment %.0f ms, longest stall %.0f ms, %d failed calls (first: %s)", round, f.killed(),
                            f.newLeader(), f.killToNextNanos() / 1e6, f.longestGapNanos() / 1e6, f.errors(),
                            f.firstError()));
                    failovers.add(f);
                }
            }
        }
    }

    /**
     * The logging rows: per thread count, plain logback, the unidist defaults, and the defaults
     * with forwarding to a collector, each in a JVM of its own ({@link LoggingLoadMain}).
     */
    private void runLogging(int session, Path dir) throws Exception {
        String cluster = "bench-log-" + Long.toHexString(System.nanoTime() & 0xffffff);
        int firstPort = BenchCluster.freePortRange(BenchCluster.PORT_SPAN);
        progress("logging: starting a collector");
        VoterProcess collector = ForwardingBench.collectorProcess(cluster, firstPort, dir.resolve("collector"));
        collector.start();
        collector.awaitReady(Duration.ofSeconds(90));
        try {
            int run = 0;
            for (int threads : threadCounts) {
                for (String mode : List.of("logback", "unidist", "forwarded")) {
                    run++;
                    List<String> args = new ArrayList<>(List.of(mode, Integer.toString(threads),
                            Long.toString(warmup.toMillis()), Long.toString(window.toMillis()),
                            dir.resolve(mode + "-" + threads).toString()));
                    if (mode.equals("forwarded")) {
                        args.addAll(List.of(cluster, ForwardingBench.CLUSTER_VOTER, Integer.toString(firstPort),
                                Integer.toString(firstPort + run)));
                    }
                    String label = switch (mode) {
                        case "logback" -> Report.PLAIN_LOGBACK;
                        case "unidist" -> "log.info, unidist defaults";
                        default -> "log.info, unidist defaults, forwarded";
                    };
                    add(new Row(session, Row.Kind.LOGGING, label, threads, Row.Role.NONE, "a JVM of its own", false, 0,
                            loggingChild(args, dir.resolve(mode + "-" + threads + ".err"))));
                }
            }
        } finally {
            collector.kill();
        }
    }

    private Measurement loggingChild(List<String> args, Path errors) throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(javaBin, "-Xms256m", "-Xmx1g", "-Djava.net.preferIPv4Stack=true",
                "-cp", System.getProperty("java.class.path"), LoggingLoadMain.class.getName()));
        cmd.addAll(args);
        Files.createDirectories(errors.getParent());
        Process p = new ProcessBuilder(cmd).redirectError(errors.toFile()).start();
        String result = null;
        try (java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("result ")) {
                    result = line.substring(7);
                }
            }
        }
        if (!p.waitFor(LoggingLoadMain.budget(warmup, window).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
        }
        if (result == null) {
            throw new IllegalStateException("the logging run " + args + " gave no result; see " + errors);
        }
        return Measurement.decode(result);
    }

    /** state-put rows, then (after one put of every key) state-get rows: per threads, payload, follower and non-voter. */
    private void runState(BenchCluster c, int session) throws Exception {
        for (String op : List.of("state-put", "state-get")) {
            for (int threads : threadCounts) {
                for (int bytes : payloads) {
                    if (op.equals("state-get") && threads == threadCounts.get(0)) {
                        long t0 = System.nanoTime();
                        c.fillState(bytes);
                        progress(String.format(Locale.ROOT, "filled %d keys with %d B in %.1f s", VoterMain.STATE_KEYS,
                                bytes, (System.nanoTime() - t0) / 1e9));
                    }
                    dataRows(c, session, op, threads, bytes);
                }
            }
        }
    }

    /** The most payload a queue is filled with before a poll+ack row: the queue is in every snapshot. */
    static final long QUEUE_FILL_BYTES = 64L << 20;

    /**
     * Per threads and payload: queue-offer then queue-poll-ack, from a follower and then from the non-voter, on one
     * queue per threads and payload. Before each poll-ack row the queue is topped up (from the launcher, unmeasured)
     * to 1.5 × (warm-up + window) × the higher of the offer row's rate and half the counter increment's (a
     * poll+ack is two small commits), at most {@value #QUEUE_FILL_BYTES} bytes of payload, so that it does not run
     * dry within the window (a poll that gets nothing in 1 s counts as an error). No background offerer.
     */
    private void runQueue(BenchCluster c, int session) throws Exception {
        long span = dataWarmup.plus(dataWindow).toNanos();
        for (int threads : threadCounts) {
            for (int bytes : payloads) {
                for (Row.Role role : List.of(Row.Role.FOLLOWER, Row.Role.NON_VOTER)) {
                    VoterProcess follower = c.follower(c.leaders());
                    Row offer = dataRow(c, session, "queue-offer", threads, bytes, role, follower);
                    add(offer);
                    double counterRate = rows.stream().filter(r -> r.kind() == Row.Kind.UNIDIST
                            && r.operation().equals(Report.COUNTER) && r.session() == session
                            && r.threads() == threads && r.role() == role).mapToDouble(r -> r.m().opsPerSecond())
                            .findFirst().orElse(0);
                    double rate = Math.max(offer.m().opsPerSecond(), counterRate / 2);
                    long target = Math.min(QUEUE_FILL_BYTES / bytes, (long) Math.ceil(rate * span / 1e9 * 1.5));
                    long t0 = System.nanoTime();
                    long added = c.topUpQueue(bytes, threads, target);
                    progress(String.format(Locale.ROOT, "queue %s: topped up with %d to %d messages in %.1f s",
                            VoterMain.queueName(bytes, threads), added, target, (System.nanoTime() - t0) / 1e9));
                    add(dataRow(c, session, "queue-poll-ack", threads, bytes, role, follower));
                }
            }
        }
    }

    private void dataRows(BenchCluster c, int session, String op, int threads, int bytes) throws Exception {
        add(dataRow(c, session, op, threads, bytes, Row.Role.FOLLOWER, c.follower(c.leaders())));
        add(dataRow(c, session, op, threads, bytes, Row.Role.NON_VOTER, null));
    }

    private Row dataRow(BenchCluster c, int session, String op, int threads, int bytes, Row.Role role,
            VoterProcess follower) throws Exception {
        String operation = op + ":" + bytes;
        int commits = op.equals("queue-poll-ack") ? 2 : 1;
        String label = switch (op) {
            case "state-put" -> "state put";
            case "state-get" -> "state get";
            case "queue-offer" -> "queue offer";
            default -> "queue poll+ack";
        } + " " + size(bytes);
        if (role == Row.Role.NON_VOTER) {
            return new Row(session, Row.Kind.DATA, label, threads, role, "client", c.fsync(), commits,
                    c.runOnClient(operation, threads, dataWarmup, dataWindow));
        }
        return new Row(session, Row.Kind.DATA, label, threads, role, follower.name(), c.fsync(), commits,
                c.runOn(follower, operation, threads, dataWarmup, dataWindow));
    }

    private static String size(int bytes) {
        return bytes % 1024 == 0 ? bytes / 1024 + " KiB" : bytes + " B";
    }

    /**
     * Runs every code path of the cases once, unmeasured, so that the JIT has compiled all four JVMs before the
     * first figure: without this, the first cases of a fresh cluster (in a trial, CounterService from a follower)
     * ran 2-6 times slower than the same case repeated 40 s later, which skewed the ratios.
     */
    private void warmUpCluster(BenchCluster c, BenchCluster.Status leaders, VoterProcess follower) throws Exception {
        if (clusterWarmup.isZero()) {
            return;
        }
        int most = threadCounts.stream().mapToInt(Integer::intValue).max().orElse(1);
        long started = System.nanoTime();
        Duration each = clusterWarmup.dividedBy(6);
        VoterProcess csFollower = c.csFollower(leaders, follower);
        if (ops.contains("counter")) {
            c.runOn(csFollower, "cs-counter", most, Duration.ZERO, each);
        }
        c.runOn(follower, "counter", most, Duration.ZERO, each);
        c.runOnClient("counter", most, Duration.ZERO, each);
        if (ops.contains("lock")) {
            c.runOn(follower, most > 1 ? "semaphore" : "lock", most, Duration.ZERO, each);
            c.runOnClient(most > 1 ? "semaphore" : "lock", most, Duration.ZERO, each);
        }
        if (ops.contains("counter")) {
            c.runOn(c.voter(leaders.csLeader()), "cs-counter", most, Duration.ZERO, each.dividedBy(2));
            c.runOn(c.voter(leaders.leader()), "counter", most, Duration.ZERO, each.dividedBy(2));
        }
        // the state and queue paths, 1-byte payloads, on a bucket and queues of their own (not those measured)
        Duration data = each.dividedBy(2);
        for (String op : ops.contains("state") ? List.of("state-put", "state-get") : List.<String>of()) {
            if (op.equals("state-get")) {
                c.fillState(1);
            }
            c.runOn(follower, op + ":1", most, Duration.ZERO, data);
            c.runOnClient(op + ":1", most, Duration.ZERO, data);
        }
        if (ops.contains("queue")) {
            c.runOn(follower, "queue-offer:1", most, Duration.ZERO, data);
            c.runOnClient("queue-offer:1", most, Duration.ZERO, data);
            c.runOn(follower, "queue-poll-ack:1", most, Duration.ZERO, data.dividedBy(2));
            c.runOnClient("queue-poll-ack:1", most, Duration.ZERO, data.dividedBy(2));
        }
        progress(String.format(Locale.ROOT, "cluster warmed up in %.1f s (every operation, %d threads, unmeasured)",
                (System.nanoTime() - started) / 1e9, most));
    }

    private Row csRow(BenchCluster c, int session, VoterProcess p, Row.Role role, int threads) throws Exception {
        return new Row(session, Row.Kind.COUNTER_SERVICE, "CounterService incrementAndGet", threads, role, p.name(),
                c.fsync(), 1, c.runOn(p, "cs-counter", threads, warmup, window));
    }

    private Row voterRow(BenchCluster c, int session, String op, VoterProcess p, Row.Role role, int threads)
            throws Exception {
        int commits = op.equals("counter") ? 1 : 2;
        return new Row(session, Row.Kind.UNIDIST, label(op, threads), threads, role, p.name(), c.fsync(), commits,
                c.runOn(p, op, threads, warmup, window));
    }

    private static String label(String op, int threads) {
        return switch (op) {
            case "counter" -> "counter incrementAndGet";
            case "lock" -> threads == 1 ? "lock acquire+release" : "one lock, contended, acquire+release";
            case "locks" -> "own lock per thread acquire+release";
            case "semaphore" -> "semaphore(" + threads + ") acquire+release";
            default -> op;
        };
    }

    private void add(Row r) {
        rows.add(r);
        Measurement m = r.m();
        progress(String.format(Locale.ROOT, "%-34s %2d thr  %-24s fsync %-3s %,9.0f ops/s  p50 %,8.1f us  p99 %,9.1f us"
                        + "  p99.9 %,9.1f us  errors %d%s", r.operation(), r.threads(), r.clientLabel(), r.fsyncLabel(),
                m.opsPerSecond(), m.p50Nanos() / 1e3, m.p99Nanos() / 1e3, m.p999Nanos() / 1e3, m.errors(),
                m.errors() > 0 ? " (first: " + m.firstError() + ")" : ""));
    }

    private List<String> environment(Path data) {
        List<String> env = new ArrayList<>();
        String fsType;
        try {
            FileStore store = Files.getFileStore(data);
            fsType = store.type();
        } catch (IOException e) {
            fsType = "unknown";
        }
        env.add(String.format(Locale.ROOT, "Machine: %d cores, load average %.2f at start, %s %s, Java %s.",
                Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), System.getProperty("os.name"),
                System.getProperty("os.arch"), System.getProperty("java.version")));
        env.add("Windows: " + window.toMillis() + " ms measured after " + warmup.toMillis() + " ms warm-up"
                + (ops.contains("state") || ops.contains("queue") ? " (state and queue rows: " + dataWindow.toMillis()
                + " ms after " + dataWarmup.toMillis() + " ms)" : "") + ", closed loop,"
                + " after " + clusterWarmup.toSeconds() + " s of every operation unmeasured in each new cluster;"
                + " voters' JVM options " + String.join(" ", jvmOptions) + ".");
        env.add("Data directories on a " + fsType + " file system" + (fsType.equals("tmpfs")
                ? " (WARNING: tmpfs ignores fsync; use --data-dir on a disk)" : "") + "; started " + Instant.now()
                .truncatedTo(ChronoUnit.SECONDS) + ".");
        return env;
    }

    static void progress(String line) {
        System.err.println("[bench] " + line);
    }

    static void deleteTree(Path root) {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            progress("could not delete " + root + ": " + e);
        }
    }
}
