package io.unidist.cluster.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scale run (issue 8): clusters of many nodes, each running counters, locks, state and
 * queue work at once, measured and checked.
 * <ul>
 *   <li>In one JVM over SHARED_LOOPBACK, for each size (default 10, 50, 100, 200 nodes; 3
 *       voters, the rest non-voters): time to form, heap, threads and descriptors per node,
 *       the idle cost of membership, calls and commits per second, latency, the leader's CPU
 *       per commit, a leader's crash under load, and the checkers' verdict ({@link ScaleInJvm}).</li>
 *   <li>In child processes on 127.0.0.1 over TCP ({@code unidist-local.xml}, {@code --processes
 *       PxN}, none by default): the same, measured in each process ({@link ScaleProcesses}).</li>
 * </ul>
 * Writes {@code scale-run.md} and {@code scale-run.csv} to {@code --out} (default
 * {@code target/scale}); docs/SCALE.md shows the runs, what their figures mean, and what 2,000
 * and 10,000 nodes would need. On two cores, 200 nodes run in one JVM; in processes over TCP,
 * 4 x 25 do and 4 x 50 do not (docs/SCALE.md says why).
 *
 * <p>Run from the project root (no {@code mvn install} needed: the modules' own classes come
 * first on the class path):
 * <pre>
 * mvn -o -q -pl unidist-cluster -am test-compile
 * mvn -o -q -pl unidist-cluster dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * nice -n 19 java -Xmx4g -Xss512k -cp unidist-cluster/target/test-classes:unidist-cluster/target/classes:\
 * unidist-core/target/classes:unidist-core/target/test-classes:$(cat unidist-cluster/target/cp.txt) \
 *     io.unidist.cluster.internal.ScaleRun --sizes 10,50,100,200 --out docs/scale/jvm
 * ... ScaleRun --sizes none --processes 4x25 --transport TCP_NIO2 --joiners 8 --out docs/scale/processes-100
 * </pre>
 * Options: {@code --sizes} (in-JVM cluster sizes; {@code none} to skip), {@code --processes
 * PxN} ({@code 0} to skip), {@code --load} (measured load window), {@code --after-kill} (load
 * after the leader's crash), {@code --idle}, {@code --warmup}, {@code --pace MIN-MAX} (a
 * worker's pause between calls), {@code --joiners} (joins at once in one JVM), {@code --seed},
 * {@code --jvm-vars k=v,k=v} (variables of {@code unidist-jvm.xml}, default {@link Settings#JVM_VARS};
 * {@code none} for the file's defaults), {@code --process-vars} (the same for {@code unidist-local.xml},
 * default {@link Settings#PROCESS_VARS}), {@code --transport}
 * ({@code TCP}, the file's, or {@code TCP_NIO2}: see {@link ScaleProcesses}), {@code --stagger true}
 * (a process starts when the previous one's nodes have joined),
 * {@code --out}; durations as {@code 20s} or {@code 500ms}.
 */
public final class ScaleRun {
    private static final Logger log = LoggerFactory.getLogger(ScaleRun.class);

    /** What to run. */
    record Settings(List<Integer> sizes, int processes, int perProcess, Duration load, Duration afterKill,
                    Duration idle, Duration warmup, Duration paceMin, Duration paceMax, Duration probeEvery,
                    int joiners, Duration operationTimeout, long seed, Path out, Map<String, String> processVars,
                    Map<String, String> jvmVars, String transport, boolean stagger) {
        /**
         * Variables of {@code unidist-jvm.xml} for the in-JVM clusters: heartbeats and merge
         * probes 5x and 10x rarer than the file's defaults, the same for every size so that the
         * sizes compare (the defaults make 200 nodes in one JVM on two cores fail to form).
         */
        static final Map<String, String> JVM_VARS = Map.of("unidist.fd_interval", "5s", "unidist.fd_timeout", "20s",
                "unidist.merge_min_interval", "10s", "unidist.merge_max_interval", "30s", "unidist.join_timeout", "5s");

        /**
         * Variables of {@code unidist-local.xml} for the processes: every node sends a heartbeat
         * to every other (over TCP, one message each), so 200 nodes on two cores need them 5x
         * rarer than the file's 1.5 s; joins of 50 nodes at once per process need more than 2 s.
         */
        static final Map<String, String> PROCESS_VARS = Map.of("unidist.fd_timeout", "30s",
                "unidist.fd_interval", "7500ms", "unidist.join_timeout", "10s");

        static Settings defaults() {
            return new Settings(List.of(10, 50, 100, 200), 0, 50, Duration.ofSeconds(20), Duration.ofSeconds(15),
                    Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(500),
                    Duration.ofMillis(10), 16, Duration.ofSeconds(10), 1, Path.of("target", "scale"), PROCESS_VARS,
                    JVM_VARS, "TCP", false);
        }

        /** The in-JVM nodes' configuration: the variables on top of {@code b}. */
        io.unidist.cluster.ClusterConfig.Builder jvmSettings(io.unidist.cluster.ClusterConfig.Builder b) {
            jvmVars.forEach(b::property);
            return b;
        }

        /** The same with these windows and this pause between a worker's calls (a short run for a test). */
        Settings with(Duration idleWindow, Duration warmupWindow, Duration loadWindow, Duration afterKillWindow,
                      Duration minPause, Duration maxPause) {
            return new Settings(sizes, processes, perProcess, loadWindow, afterKillWindow, idleWindow, warmupWindow,
                    minPause, maxPause, probeEvery, joiners, operationTimeout, seed, out, processVars, jvmVars,
                    transport, stagger);
        }

        /** The same with every window (idle, warm-up, load, after the crash) {@code w} long. */
        Settings withWindows(Duration w) {
            return new Settings(sizes, processes, perProcess, w, w, w, w, paceMin, paceMax, probeEvery, joiners,
                    operationTimeout, seed, out, processVars, jvmVars, transport, stagger);
        }

        String describe() {
            return String.format(Locale.ROOT, "3 voters, the rest non-voters; one workload worker per node pausing"
                    + " %d-%d ms between calls (counters 30 %%, state 30 %%, locks 20 %%, queue 20 %%); idle window"
                    + " %d s, warm-up %d s, load window %d s, load after the leader's crash %d s; failover probe every"
                    + " %d ms on n1; operation timeout %d s; in one JVM %d joins at a time after v1; seed %d",
                    paceMin.toMillis(), paceMax.toMillis(), idle.toSeconds(), warmup.toSeconds(), load.toSeconds(),
                    afterKill.toSeconds(), probeEvery.toMillis(), operationTimeout.toSeconds(), joiners, seed)
                    + (jvmVars.isEmpty() ? "; unidist-jvm.xml as bundled" : "; unidist-jvm.xml with " + new java.util.TreeMap<>(jvmVars))
                    + "; processes: unidist-local.xml" + (transport.equals("TCP") ? "" : " with " + transport)
                    + (processVars.isEmpty() ? "" : " with " + new java.util.TreeMap<>(processVars));
        }
    }

    private ScaleRun() {
    }

    public static void main(String[] args) throws Exception {
        Settings s = parse(args);
        String command = "ScaleRun " + String.join(" ", args);
        Instant started = Instant.now();
        double load0 = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        log.info("scale run: {}", s.describe());
        List<ScaleResult> results = new ArrayList<>();
        boolean passed = true;
        if (!s.sizes().isEmpty()) {
            ScaleResult warm = ScaleInJvm.run(5, s.withWindows(Duration.ofSeconds(1))); // JIT and class loading
            log.info("warm-up run: {}", warm.verdict());
        }
        for (int size : s.sizes()) {
            ScaleResult r = ScaleInJvm.run(size, s);
            results.add(r);
            passed &= r.passed();
            log.info("{} nodes in one JVM: {}\n{}", size, r.verdict(), r.figures);
        }
        if (s.processes() > 0) {
            ScaleResult r = ScaleProcesses.run(s);
            results.add(r);
            passed &= r.passed();
            log.info("{} nodes in {} processes: {}\n{}", r.nodes, s.processes(), r.verdict(), r.figures);
        }
        double load1 = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        write(s, command, started, load0, load1, results);
        System.out.println(Files.readString(s.out().resolve("scale-run.md")));
        System.exit(passed ? 0 : 1);
    }

    private static void write(Settings s, String command, Instant started, double load0, double load1,
                              List<ScaleResult> results) throws IOException {
        Files.createDirectories(s.out());
        StringBuilder md = new StringBuilder();
        md.append("# Scale run, ").append(started.truncatedTo(ChronoUnit.SECONDS)).append("\n\n");
        md.append("`").append(command).append("`\n\n");
        md.append(String.format(Locale.ROOT, "Machine: %d cores, %s %s, Java %s; load average %.2f at the start,"
                        + " %.2f at the end; the run took %d s.%n%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.name"), System.getProperty("os.arch"), System.getProperty("java.version"),
                load0, load1, Duration.between(started, Instant.now()).toSeconds()));
        md.append("Settings: ").append(s.describe()).append(".\n\n");
        StringBuilder csv = new StringBuilder("setup,nodes,figure,value\n");
        for (String setup : results.stream().map(r -> r.setup).collect(java.util.stream.Collectors
                .toCollection(LinkedHashSet::new))) {
            List<ScaleResult> group = results.stream().filter(r -> r.setup.equals(setup)).toList();
            md.append("## ").append(setup).append("\n\n| nodes |");
            group.forEach(r -> md.append(' ').append(r.nodes).append(" |"));
            md.append("\n|---|");
            group.forEach(r -> md.append("---:|"));
            md.append('\n');
            Set<String> rows = new LinkedHashSet<>();
            group.forEach(r -> rows.addAll(r.figures.keySet()));
            for (String row : rows) {
                md.append("| ").append(row).append(" |");
                for (ScaleResult r : group) {
                    String v = r.figures.getOrDefault(row, "-");
                    md.append(' ').append(v).append(" |");
                    csv.append('"').append(setup).append("\",").append(r.nodes).append(",\"").append(row)
                            .append("\",\"").append(v).append("\"\n");
                }
                md.append('\n');
            }
            md.append("| checkers |");
            group.forEach(r -> md.append(' ').append(r.passed() ? "passed" : "**failed**").append(" |"));
            md.append("\n\n");
            for (ScaleResult r : group) {
                md.append("- ").append(r.nodes).append(" nodes: ").append(r.verdict().replace("\n", "\n  "));
                r.notes.forEach(n -> md.append("; ").append(n));
                md.append('\n');
            }
            md.append('\n');
        }
        Files.writeString(s.out().resolve("scale-run.md"), md, StandardCharsets.UTF_8);
        Files.writeString(s.out().resolve("scale-run.csv"), csv, StandardCharsets.UTF_8);
    }

    /** "jgroups 41 %, TQ-Bundler 20 %, ..." for the kinds with at least 2 % of the total. */
    static String shares(java.util.Map<String, Long> nanosByKind) {
        long total = nanosByKind.values().stream().mapToLong(Long::longValue).sum();
        List<String> parts = new ArrayList<>();
        nanosByKind.forEach((kind, nanos) -> {
            if (total > 0 && nanos * 50 >= total) {
                parts.add(String.format(Locale.ROOT, "%s %d %%", kind, Math.round(100.0 * nanos / total)));
            }
        });
        return String.join(", ", parts);
    }

    static Settings parse(String[] args) {
        Settings d = Settings.defaults();
        List<Integer> sizes = d.sizes();
        int processes = d.processes();
        int perProcess = d.perProcess();
        Duration load = d.load();
        Duration afterKill = d.afterKill();
        Duration idle = d.idle();
        Duration warmup = d.warmup();
        Duration paceMin = d.paceMin();
        Duration paceMax = d.paceMax();
        int joiners = d.joiners();
        long seed = d.seed();
        Path out = d.out();
        Map<String, String> processVars = d.processVars();
        Map<String, String> jvmVars = d.jvmVars();
        String transport = d.transport();
        boolean stagger = d.stagger();
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + option + " needs a value");
            }
            String v = args[++i];
            switch (option) {
                case "--sizes" -> sizes = v.equals("none") ? List.of()
                        : Arrays.stream(v.split(",")).map(String::trim).map(Integer::parseInt).toList();
                case "--processes" -> {
                    if (v.equals("0")) {
                        processes = 0;
                    } else {
                        String[] pn = v.split("x");
                        processes = Integer.parseInt(pn[0]);
                        perProcess = Integer.parseInt(pn[1]);
                    }
                }
                case "--load" -> load = duration(v);
                case "--after-kill" -> afterKill = duration(v);
                case "--idle" -> idle = duration(v);
                case "--warmup" -> warmup = duration(v);
                case "--pace" -> {
                    String[] mm = v.split("-");
                    paceMin = duration(mm[0]);
                    paceMax = duration(mm[1]);
                }
                case "--joiners" -> joiners = Integer.parseInt(v);
                case "--seed" -> seed = Long.parseLong(v);
                case "--out" -> out = Path.of(v);
                case "--process-vars" -> processVars = vars(v);
                case "--transport" -> transport = v;
                case "--stagger" -> stagger = Boolean.parseBoolean(v);
                case "--jvm-vars" -> jvmVars = vars(v);
                default -> throw new IllegalArgumentException("unknown option " + option + " (see ScaleRun's javadoc)");
            }
        }
        return new Settings(sizes, processes, perProcess, load, afterKill, idle, warmup, paceMin, paceMax,
                d.probeEvery(), joiners, d.operationTimeout(), seed, out, processVars, jvmVars, transport, stagger);
    }

    /** "k=v,k=v" as a map; "none" as none. */
    static Map<String, String> vars(String v) {
        return v.equals("none") ? Map.of() : Arrays.stream(v.split(",")).map(kv -> kv.split("=", 2))
                .collect(java.util.stream.Collectors.toMap(kv -> kv[0], kv -> kv[1]));
    }

    /** "20s", "500ms", "2m" as a Duration. */
    static Duration duration(String v) {
        String s = v.trim().toLowerCase(Locale.ROOT);
        if (s.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
        }
        return Duration.parse("PT" + s.toUpperCase(Locale.ROOT));
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
