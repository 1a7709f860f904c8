package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process part of {@link ScaleRun}: {@code processes} child JVMs ({@link ScaleChild}) of
 * {@code perProcess} nodes each, over TCP on 127.0.0.1 ({@code unidist-local.xml}). Ports: JGroups
 * refuses port 0 with TCPPING, so each node is given one ({@link #portOf}), in blocks that keep
 * clear of each other's FD_SOCK2 ports (transport + 50) and the voters' raft channel (+ 100);
 * the voters take the first three, where TCPPING looks. {@code v1}, {@code v2}, {@code v3} live
 * in the first three processes. The steps are
 * {@link ScaleInJvm}'s, each figure taken in the process that has it: heap and threads per
 * process, the leader's CPU in the leader's process, and the records of every process gathered
 * here for the checkers.
 *
 * <p>The leader's crash is a node's crash inside its process ({@link ClusterNode#crashForTest}:
 * its channels stop and close without a goodbye, as under kill -9; the sockets close, so the
 * others' FD_SOCK2 notices at once); the other nodes of that process go on.
 */
final class ScaleProcesses implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ScaleProcesses.class);

    private final ScaleRun.Settings settings;
    private final Path dir;
    private final String config;
    private final int basePort;
    private final String clusterName;
    private final int size;
    private final List<String> voters = List.of("v1", "v2", "v3");
    private final List<List<String>> layout = new ArrayList<>();
    private final List<Child> children = new ArrayList<>();
    private final ScaleLoad load = new ScaleLoad(new FaultHistories());
    private final String probeNode;
    private int marks;

    /** One child process and the lines it said (records and probe calls go to the load instead). */
    private static final class Child {
        final Process process;
        final PrintWriter in;
        final List<String> said = new CopyOnWriteArrayList<>();

        Child(Process process) {
            this.process = process;
            this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        }
    }

    private ScaleProcesses(ScaleRun.Settings settings, Path dir) throws IOException {
        this.settings = settings;
        this.dir = dir;
        this.size = settings.processes() * settings.perProcess();
        this.basePort = freeBlocks(blocks(size));
        this.clusterName = "scale-" + ProcessHandle.current().pid() + "-" + basePort;
        this.config = settings.transport().equals("TCP") ? "unidist-local.xml" : nioCopy(dir, settings.transport());
        int nonVoter = 0;
        for (int p = 0; p < settings.processes(); p++) {
            List<String> nodes = new ArrayList<>();
            if (p < voters.size()) {
                nodes.add(voters.get(p));
            }
            while (nodes.size() < settings.perProcess()) {
                nodes.add("n" + ++nonVoter);
            }
            layout.add(nodes);
        }
        List<String> last = layout.get(layout.size() - 1);
        this.probeNode = last.stream().filter(n -> !voters.contains(n)).findFirst().orElseThrow();
    }

    /** Nodes per block of {@value #BLOCK} ports: transports at +0..44, their FD_SOCK2 at +50..97, raft at +100... */
    private static final int PER_BLOCK = 45;
    private static final int BLOCK = 200;

    private static int blocks(int nodes) {
        return (nodes + PER_BLOCK - 1) / PER_BLOCK;
    }

    /** The transport port of the {@code k}-th node (0-based; the voters first). */
    private int portOf(int k) {
        return basePort + BLOCK * (k / PER_BLOCK) + k % PER_BLOCK;
    }

    /**
     * A base port with {@code blocks} x {@value #BLOCK} free ports above it, at random like
     * {@code FreePorts}, below the range the kernel takes ephemeral ports from: thousands of
     * outgoing connections would otherwise take ports of the range before its nodes bind them.
     */
    private static int freeBlocks(int blocks) throws IOException {
        int ephemeral = 32_768;
        Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
        if (Files.exists(range)) {
            ephemeral = Integer.parseInt(Files.readAllLines(range).get(0).trim().split("\\s+")[0]);
        }
        int high = ephemeral - blocks * BLOCK;
        if (high <= 10_000) {
            throw new IOException("no room for " + blocks * BLOCK + " ports below the ephemeral range from " + ephemeral);
        }
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = java.util.concurrent.ThreadLocalRandom.current().nextInt(10_000, high);
            boolean free = true;
            for (int p = base; p < base + blocks * BLOCK && free; p++) {
                try (java.net.ServerSocket s = new java.net.ServerSocket(p, 1,
                        java.net.InetAddress.getByName("127.0.0.1"))) {
                    s.setReuseAddress(true);
                } catch (IOException taken) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new IOException("no free range of " + blocks * BLOCK + " ports found");
    }

    /** unidist-local.xml with another TCP transport (TCP_NIO2: no thread per connection), as a file in {@code dir}. */
    private static String nioCopy(Path dir, String transport) throws IOException {
        String xml;
        try (var in = ScaleProcesses.class.getClassLoader().getResourceAsStream("unidist-local.xml")) {
            xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Path file = dir.resolve("unidist-local-" + transport.toLowerCase(Locale.ROOT) + ".xml");
        Files.writeString(file, xml.replace("<TCP ", "<" + transport + " "));
        return file.toString();
    }

    /** Runs the process measurement; see the class comment. */
    static ScaleResult run(ScaleRun.Settings settings) throws Exception {
        Path dir = Files.createTempDirectory("unidist-scale-processes-");
        try (ScaleProcesses run = new ScaleProcesses(settings, dir)) {
            return run.measure();
        } finally {
            keepLogs(dir, settings.out());
            ScaleRun.deleteTree(dir);
        }
    }

    /**
     * JGroups' TCP keeps a reader thread per connection, and FD_ALL3's heartbeats (sent to every
     * member) connect every node with every other: about size x (size - 1) threads on this
     * machine, where every thread takes a process id. Refused when that would take more than half
     * of the ids the machine has left, which would break every other program on it.
     */
    private void checkThreads() throws IOException {
        if (!settings.transport().equals("TCP")) {
            return;
        }
        long needed = (long) size * (size - 1) + size * 20L;
        Path pidMax = Path.of("/proc/sys/kernel/pid_max");
        if (!Files.exists(pidMax)) {
            return;
        }
        long max = Long.parseLong(Files.readAllLines(pidMax).get(0).trim()); // readString reads procfs short
        long used;
        try (var processes = Files.list(Path.of("/proc"))) {
            used = processes.filter(p -> p.getFileName().toString().matches("[0-9]+")).mapToLong(p -> {
                try (var threads = Files.list(p.resolve("task"))) {
                    return threads.count();
                } catch (IOException | RuntimeException gone) {
                    return 0; // ended meanwhile
                }
            }).sum();
        }
        if (needed > (max - used) / 2) {
            throw new IllegalStateException(String.format(Locale.ROOT, "%d nodes over TCP would need about %,d threads"
                    + " (a reader per connection, every node connected to every other), and this machine has %,d"
                    + " process ids left (pid_max %,d, %,d in use): use --transport TCP_NIO2, or fewer nodes",
                    size, needed, max - used, max, used));
        }
    }

    /** The children's standard error (their WARN and ERROR lines) into {@code out}, as scale-process-N.log. */
    private static void keepLogs(Path dir, Path out) throws IOException {
        Files.createDirectories(out);
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".err")).toList()) {
                Files.copy(f, out.resolve("scale-" + f.getFileName().toString().replace(".err", ".log")),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private ScaleResult measure() throws Exception {
        checkThreads();
        ScaleResult r = new ScaleResult(String.format(Locale.ROOT, "%d processes on 127.0.0.1%s, %s (%s%s)",
                settings.processes(), settings.stagger() ? " started one after another" : "", settings.transport(),
                settings.transport().equals("TCP") ? "unidist-local.xml" : "unidist-local.xml with TCP replaced by "
                        + settings.transport(), settings.processVars().isEmpty() ? ""
                        : " with " + new java.util.TreeMap<>(settings.processVars())), size);
        form(r);
        double idleLeaderCpu = idle(r);
        loadAndFailover(r, idleLeaderCpu);
        return r;
    }

    private void form(ScaleResult r) throws Exception {
        long t0 = System.nanoTime();
        start(0);
        awaitSaid(children.get(0), l -> l.startsWith("SEEDED"), Duration.ofMinutes(2));
        for (int p = 1; p < layout.size(); p++) {
            if (settings.stagger()) {
                // one process's nodes join at a time: on two cores, 200 joins at once starve the coordinator
                awaitSaid(children.get(p - 1), l -> l.startsWith("JOINED"), Duration.ofMinutes(10));
            }
            start(p);
        }
        List<String> ready = awaitAll("READY", Duration.ofMinutes(15));
        long views = children.stream().mapToLong(c -> time(c, "VIEWS")).max().orElseThrow();
        long first = children.stream().mapToLong(c -> time(c, "FIRST")).max().orElseThrow();
        long jvm = children.stream().mapToLong(c -> time(c, "STARTED")).max().orElseThrow();
        r.put("form: first process started → every node sees every member (s)", "%.1f", (views - t0) / 1e9);
        r.put("form: first process started → a first call succeeded on every node (s)", "%.1f", (first - t0) / 1e9);
        r.put("form: first process started → the last process's main began (s)", "%.1f", (jvm - t0) / 1e9);
        List<long[]> res = children.stream().map(c -> Arrays.stream(line(c, "RES").split(" ")).skip(1)
                .mapToLong(Long::parseLong).toArray()).toList();
        r.put("heap per node after a full GC, per process (KB)", "%s",
                res.stream().map(v -> String.format(Locale.ROOT, "%,d", v[0] / 1024)).collect(Collectors.joining(" / ")));
        r.put("resident memory per node, per process (KB)", "%s",
                res.stream().map(v -> String.format(Locale.ROOT, "%,d", v[1] / 1024)).collect(Collectors.joining(" / ")));
        r.put("threads per process", "%s", res.stream().map(v -> String.format(Locale.ROOT, "%,d", v[2]))
                .collect(Collectors.joining(" / ")));
        r.put("threads of a non-voter", "%d", res.get(res.size() - 1)[5]);
        r.put("open file descriptors per process", "%s", res.stream().map(v -> String.format(Locale.ROOT, "%,d", v[3]))
                .collect(Collectors.joining(" / ")));
        log.info("{} nodes in {} processes ready: {}", size, children.size(), ready.size());
    }

    /** The idle window; returns the leader's CPU nanoseconds per second in it. */
    private double idle(ScaleResult r) {
        Mark a = mark();
        ScaleInJvm.pause(settings.idle());
        Mark b = mark();
        double seconds = (b.at - a.at) / 1e9;
        String leader = b.leader();
        double leaderCpu = (b.cpu(leader) - a.cpu(leader)) / seconds;
        r.note("leader %s", leader);
        Map<String, Long> idleKinds = new java.util.HashMap<>();
        b.kinds.forEach((kind, nanos) -> idleKinds.put(kind, nanos - a.kinds.getOrDefault(kind, 0L)));
        r.note("the processes' CPU at idle by thread: %s", ScaleRun.shares(sortedByValue(idleKinds)));
        long nodesOwn = idleKinds.entrySet().stream().filter(e -> !e.getKey().startsWith("scale"))
                .mapToLong(Map.Entry::getValue).sum();
        r.put("idle: CPU of all processes (% of one core)", "%.1f", (b.processCpu - a.processCpu) / seconds / 1e7);
        r.put("idle: of which the nodes' threads, not GC, JIT or this driver's (% of one core)", "%.1f",
                nodesOwn / seconds / 1e7);
        r.put("idle: leader's CPU (% of one core)", "%.2f", leaderCpu / 1e7);
        r.put("idle: messages received per node per second", "%.1f", (b.received - a.received) / seconds / size);
        r.put("idle: leader messages in / out per second", "%,.0f / %,.0f", (b.in(leader) - a.in(leader)) / seconds,
                (b.out(leader) - a.out(leader)) / seconds);
        return leaderCpu;
    }

    private void loadAndFailover(ScaleResult r, double idleLeaderCpu) throws Exception {
        tellAll("START");
        ScaleInJvm.pause(settings.warmup());
        Mark a = mark();
        ScaleInJvm.pause(settings.load());
        Mark b = mark();
        String leader = b.leader();
        double seconds = (b.at - a.at) / 1e9;
        long commits = b.commit(leader) - a.commit(leader);
        long cpu = b.cpu(leader) - a.cpu(leader);
        List<ScaleLoad.Call> calls = load.ended(a.at, b.at);
        r.put("load: calls per second", "%,.0f", calls.size() / seconds);
        r.put("load: calls that did not succeed", "%s", ScaleLoad.notOk(calls));
        r.put("load: commits per second at the leader", "%,.0f", commits / seconds);
        r.put("load: CPU of all processes (% of one core)", "%.1f", (b.processCpu - a.processCpu) / seconds / 1e7);
        r.put("load: leader's CPU (% of one core)", "%.1f", cpu / seconds / 1e7);
        r.put("load: leader's CPU per commit (µs)", "%.0f", cpu / 1e3 / commits);
        r.put("load: leader's CPU per commit above idle (µs)", "%.0f", (cpu - idleLeaderCpu * seconds) / 1e3 / commits);
        r.put("load: leader messages in / out per second", "%,.0f / %,.0f", (b.in(leader) - a.in(leader)) / seconds,
                (b.out(leader) - a.out(leader)) / seconds);
        Map<String, String> latency = load.latencies(a.at, b.at);
        r.put("load: call latency p50 / p99, all calls (ms)", "%s", latency.getOrDefault("all", "-"));
        r.put("load: counter increment p50 / p99 (ms)", "%s", latency.getOrDefault("increment", "-"));

        tellAll("PROBE");
        ScaleInJvm.pause(Duration.ofSeconds(1));
        Child host = children.get(voters.indexOf(leader));
        host.in.println("CRASH " + leader);
        String[] crashed = awaitSaid(host, l -> l.startsWith("CRASHED"), Duration.ofMinutes(1)).split(" ");
        long killed = Long.parseLong(crashed[2]);
        long down = Long.parseLong(crashed[3]); // a call that began before this may still have reached the old leader
        long elected = Long.parseLong(awaitAny(l -> l.startsWith("L ") && !l.split(" ")[1].equals(leader)
                && Long.parseLong(l.split(" ")[2]) > killed, Duration.ofMinutes(2)).split(" ")[2]);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(20)).until(() -> children.stream()
                .allMatch(c -> lastView(c).startsWith("VS " + (size - 1) + " " + (size - 1) + " ")));
        long viewed = children.stream().mapToLong(c -> Long.parseLong(lastView(c).split(" ")[3])).max().orElseThrow();
        ScaleInJvm.pause(Duration.ofNanos(Math.max(0, killed + settings.afterKill().toNanos() - System.nanoTime())));
        tellAll("STOP");
        awaitAll("STOPPED", Duration.ofMinutes(3));
        long stopped = System.nanoTime();
        Child drainer = children.get(children.size() - 1);
        drainer.in.println("DRAIN");
        awaitSaid(drainer, "DRAINED"::equals, Duration.ofMinutes(3));
        load.putFailover(r, killed, elected, viewed, down, stopped);
        r.anomalies = load.histories().anomalies(Anomaly.REPORT_LIMIT, r.checked);
        long closing = System.nanoTime();
        tellAll("CLOSE");
        List<String> closed = awaitAll("CLOSED", Duration.ofMinutes(5));
        long last = closed.stream().mapToLong(l -> Long.parseLong(l.split(" ")[1])).max().orElseThrow();
        r.put("close: every node at once (s)", "%.1f", (last - closing) / 1e9);
        tellAll("EXIT");
    }

    /** What every child said at one MARK: per local voter and per process. */
    private final class Mark {
        final long at = System.nanoTime();
        final Map<String, String[]> voters = new java.util.HashMap<>();
        long processCpu;
        long received;
        final Map<String, Long> kinds = new java.util.HashMap<>();

        String leader() {
            return voters.entrySet().stream().filter(e -> e.getValue()[3].equals("1")).map(Map.Entry::getKey)
                    .findFirst().orElseThrow(() -> new IllegalStateException("no leader among " + voters.keySet()));
        }

        long commit(String v) {
            return Long.parseLong(voters.get(v)[4]);
        }

        long cpu(String v) {
            return Long.parseLong(voters.get(v)[5]);
        }

        long in(String v) {
            return Long.parseLong(voters.get(v)[6]);
        }

        long out(String v) {
            return Long.parseLong(voters.get(v)[7]);
        }
    }

    private Mark mark() {
        String k = Integer.toString(++marks);
        Mark m = new Mark();
        tellAll("MARK " + k);
        awaitAll("MARKED " + k, Duration.ofMinutes(1));
        for (Child c : children) {
            for (String l : c.said) {
                String[] f = l.split(" ");
                if (f.length > 1 && f[1].equals(k)) {
                    switch (f[0]) {
                        case "M" -> m.voters.put(f[2], f);
                        case "C" -> m.processCpu += Long.parseLong(f[2]);
                        case "R" -> m.received += Long.parseLong(f[2]);
                        case "K" -> {
                            if (f.length > 2) {
                                for (String kv : f[2].split(";")) {
                                    String[] e = kv.split("=");
                                    m.kinds.merge(e[0].replace('_', ' '), Long.parseLong(e[1]), Long::sum);
                                }
                            }
                        }
                        default -> { }
                    }
                }
            }
        }
        return m;
    }

    private static Map<String, Long> sortedByValue(Map<String, Long> m) {
        Map<String, Long> sorted = new java.util.LinkedHashMap<>();
        m.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }

    private void start(int p) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> nodes = layout.get(p);
        List<String> all = layout.stream().flatMap(List::stream).sorted((a, b) -> {
            // the voters first, then n1, n2, ... in number order
            boolean av = voters.contains(a);
            boolean bv = voters.contains(b);
            return av != bv ? (av ? -1 : 1) : Integer.compare(Integer.parseInt(a.substring(1)),
                    Integer.parseInt(b.substring(1)));
        }).toList();
        String withPorts = nodes.stream().map(n -> n + "@" + portOf(all.indexOf(n))).collect(Collectors.joining(","));
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx1g", "-Xss512k", "-Djava.net.preferIPv4Stack=true",
                "-cp", System.getProperty("java.class.path"), ScaleChild.class.getName(),
                clusterName, Integer.toString(basePort), String.join(",", voters), withPorts,
                dir.toString(), Long.toString(settings.seed() * 1000 + p), Long.toString(settings.paceMin().toMillis()),
                Long.toString(settings.paceMax().toMillis()), vars(), Integer.toString(size),
                nodes.contains(probeNode) ? probeNode : "-", config, Integer.toString(settings.joiners()));
        pb.redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("process-" + p + ".err").toFile()));
        Child child = new Child(pb.start());
        children.add(child);
        Thread reader = new Thread(() -> read(child), "scale-reader-" + p);
        reader.setDaemon(true);
        reader.start();
    }

    /** The processes' variables as one argument, "k=v;k=v" ("-" for none). */
    private String vars() {
        return settings.processVars().isEmpty() ? "-" : settings.processVars().entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(";"));
    }

    private void read(Child child) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("H ")) {
                    String[] parts = line.substring(2).split(" ");
                    load.record(parts[0], Arrays.copyOfRange(parts, 1, parts.length));
                } else if (line.startsWith("P ")) {
                    String[] f = line.split(" ");
                    load.probe(Long.parseLong(f[1]), Long.parseLong(f[2]), Boolean.parseBoolean(f[3]));
                } else {
                    child.said.add(line);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.warn("a scale child's output ended: {}", e.toString());
        }
    }

    private void tellAll(String command) {
        children.forEach(c -> c.in.println(command));
    }

    private List<String> awaitAll(String word, Duration atMost) {
        List<String> lines = new ArrayList<>();
        for (Child c : children) {
            lines.add(awaitSaid(c, l -> l.equals(word) || l.startsWith(word + " "), atMost));
        }
        return lines;
    }

    private String awaitSaid(Child c, Predicate<String> which, Duration atMost) {
        String[] found = {null};
        await().atMost(atMost).pollInterval(Duration.ofMillis(20)).until(() -> {
            if (!c.process.isAlive()) {
                throw new IllegalStateException("a scale child exited with " + c.process.exitValue() + "; see "
                        + dir.resolve("process-" + children.indexOf(c) + ".err") + ": " + tail(children.indexOf(c)));
            }
            found[0] = c.said.stream().filter(which).findFirst().orElse(null);
            return found[0] != null;
        });
        return found[0];
    }

    private String awaitAny(Predicate<String> which, Duration atMost) {
        String[] found = {null};
        await().atMost(atMost).pollInterval(Duration.ofMillis(10)).until(() -> {
            found[0] = children.stream().flatMap(c -> c.said.stream()).filter(which).findFirst().orElse(null);
            return found[0] != null;
        });
        return found[0];
    }

    private String tail(int p) {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("process-" + p + ".err"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static long time(Child c, String word) {
        return Long.parseLong(line(c, word).split(" ")[1]);
    }

    private static String line(Child c, String word) {
        return c.said.stream().filter(l -> l.startsWith(word + " ")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no " + word + " line"));
    }

    private static String lastView(Child c) {
        String last = "";
        for (String l : c.said) {
            if (l.startsWith("VS ")) {
                last = l;
            }
        }
        return last;
    }

    @Override
    public void close() {
        for (Child c : children) {
            c.process.destroyForcibly();
        }
        for (Child c : children) {
            try {
                c.process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
