package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;

import io.unidist.testing.FreePorts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fault run with every node in a process of its own on 127.0.0.1 ({@link FaultChild}):
 * the nemesis kills processes with SIGKILL and starts them again over their data, kills the
 * leader, and stalls processes with SIGSTOP (a real pause: every thread, timers included,
 * stops) until SIGCONT. The children print their records; this process gathers them into one
 * {@link FaultHistories} (System.nanoTime is the machine's monotonic clock on Linux, the same
 * in every process) and checks them as {@link FaultRun} does. Partitions and message faults
 * are the in-JVM run's: processes on one host share a loopback that only root could cut.
 */
final class FaultProcesses implements AutoCloseable, Nemesis.Target {
    private static final Logger log = LoggerFactory.getLogger(FaultProcesses.class);
    /** The faults a process run can apply. */
    static final Set<Nemesis.Kind> KINDS = EnumSet.of(Nemesis.Kind.CRASH, Nemesis.Kind.CRASH_LEADER,
            Nemesis.Kind.CRASH_ALL, Nemesis.Kind.PAUSE);

    private final FaultRun.Settings settings;
    private final Path dir;
    private final String clusterName;
    private final int basePort;
    private final List<String> voters = new ArrayList<>();
    private final List<String> nodes = new ArrayList<>();
    private final Map<String, Child> live = new ConcurrentHashMap<>();
    private final Set<String> crashed = ConcurrentHashMap.newKeySet();
    private final Set<String> paused = ConcurrentHashMap.newKeySet();
    private final Map<String, String> leaderSeen = new ConcurrentHashMap<>();
    private final FaultHistories histories = new FaultHistories();
    private final Random random;
    private final long workloadSeed;
    private final Nemesis nemesis;

    /** One child process, its input, and what it said. */
    private static final class Child {
        final Process process;
        final PrintWriter in;
        final Set<String> said = ConcurrentHashMap.newKeySet();

        Child(Process process) {
            this.process = process;
            this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        }
    }

    private FaultProcesses(FaultRun.Settings settings, Path dir) throws IOException {
        this.settings = settings;
        this.dir = dir;
        this.basePort = FreePorts.freeBasePort();
        this.clusterName = "fault-" + ProcessHandle.current().pid() + "-" + basePort;
        this.random = new Random(settings.seed());
        for (int i = 1; i <= settings.voters(); i++) {
            voters.add("v" + i);
        }
        nodes.addAll(voters);
        for (int i = 1; i <= settings.nonVoters(); i++) {
            nodes.add("n" + i);
        }
        this.workloadSeed = random.nextLong();
        Set<Nemesis.Kind> kinds = EnumSet.copyOf(settings.kinds());
        kinds.retainAll(KINDS);
        this.nemesis = new Nemesis(this, random.nextLong(), kinds, settings.hold(), settings.quiet());
    }

    /** Starts every child and waits until each has joined. */
    static FaultProcesses start(FaultRun.Settings settings, Path dir) throws IOException {
        FaultProcesses run = new FaultProcesses(settings, dir);
        try {
            for (String n : run.nodes) {
                run.startChild(n);
            }
            run.awaitJoined(run.nodes);
        } catch (RuntimeException | IOException e) {
            run.close();
            throw e;
        }
        return run;
    }

    /** The workload under the nemesis for the settings' duration, then heal, drain and check. */
    FaultReport run() throws Exception {
        long t0 = System.nanoTime();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> faults = pool.submit(() -> nemesis.run(stop));
            long end = t0 + settings.duration().toNanos();
            long latest = t0 + 2 * settings.duration().toNanos() + TimeUnit.SECONDS.toNanos(90);
            Set<Nemesis.Kind> kinds = EnumSet.copyOf(settings.kinds());
            kinds.retainAll(KINDS);
            while (System.nanoTime() < end || (nemesis.events().size() < kinds.size() && System.nanoTime() < latest)) {
                if (faults.isDone()) {
                    faults.get();
                }
                TimeUnit.MILLISECONDS.sleep(200); // pacing of the run's clock, not synchronisation
            }
            stop.set(true);
            faults.get(2, TimeUnit.MINUTES);
        } finally {
            pool.shutdownNow();
        }
        healAll();
        awaitJoined(nodes);
        // a slow machine may have spent the whole run restarting processes: the load goes on,
        // fault-free, until every checker has enough operations to judge
        long quietEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (histories.fewestFed() < FaultRun.ENOUGH_OPERATIONS && System.nanoTime() < quietEnd) {
            TimeUnit.MILLISECONDS.sleep(200); // pacing of the run's clock, not synchronisation
        }
        long loadEnd = System.nanoTime();
        for (String n : nodes) {
            live.get(n).in.println("STOP");
        }
        awaitSaid(nodes, "STOPPED", Duration.ofMinutes(2));
        String drainer = nodes.get(0);
        live.get(drainer).in.println("DRAIN");
        awaitSaid(List.of(drainer), "DRAINED", Duration.ofMinutes(2));
        for (Child c : live.values()) {
            c.in.println("EXIT");
        }
        for (Child c : live.values()) {
            if (!c.process.waitFor(30, TimeUnit.SECONDS)) {
                c.process.destroyForcibly();
            }
        }
        String setting = String.format(java.util.Locale.ROOT, "%d voters + %d non-voters, each in a process of its own"
                + " on 127.0.0.1 (unidist-local.xml, failure detection %s), %d workers per node, operation timeout 3 s;"
                + " faults %s (SIGKILL and restart, of some or all nodes; SIGSTOP and SIGCONT), each held about %d s, %d s apart",
                settings.voters(), settings.nonVoters(), settings.fdTimeout(), settings.workersPerNode(),
                nemesis.kinds(), settings.hold().toSeconds(), settings.quiet().toSeconds());
        return new FaultReport(setting, settings.seed(), nemesis.events(), histories, t0, loadEnd, System.nanoTime());
    }

    private void startChild(String node) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-Djava.net.preferIPv4Stack=true",
                "-cp", System.getProperty("java.class.path"), FaultChild.class.getName(),
                clusterName, node, String.join(",", voters), dir.resolve(node).toString(), Integer.toString(basePort),
                Long.toString(workloadSeed + node.hashCode()), Integer.toString(settings.workersPerNode()),
                settings.fdTimeout());
        pb.redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve(node + ".err").toFile()));
        Child child = new Child(pb.start());
        live.put(node, child);
        Thread reader = new Thread(() -> read(node, child), "fault-reader-" + node);
        reader.setDaemon(true);
        reader.start();
    }

    private void read(String node, Child child) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("L ")) {
                    leaderSeen.put(node, line.substring(2));
                } else if (!histories.parse(line)) {
                    child.said.add(line);
                }
            }
        } catch (IOException | RuntimeException e) {
            // a child killed in the middle of a line: the record of the call in flight is lost,
            // which only makes the checks see less
            log.debug("{}: output ended: {}", node, e.toString());
        }
    }

    private void awaitJoined(List<String> which) {
        awaitSaid(which, "JOINED", Duration.ofSeconds(90));
    }

    private void awaitSaid(List<String> which, String word, Duration atMost) {
        await().atMost(atMost).until(() -> which.stream().allMatch(n -> {
            Child c = live.get(n);
            if (c != null && !c.process.isAlive() && !c.said.contains(word)) {
                throw new IllegalStateException(n + " exited with " + c.process.exitValue() + " before saying "
                        + word + "; see " + dir.resolve(n + ".err"));
            }
            return c != null && c.said.contains(word);
        }));
    }

    // ---- Nemesis.Target ----

    @Override
    public List<String> liveNodes() {
        List<String> names = new ArrayList<>(live.keySet());
        names.removeAll(paused);
        names.sort(null);
        return names;
    }

    @Override
    public List<String> voters() {
        return voters;
    }

    @Override
    public String leader() {
        // the newest view any running voter reported
        for (String v : voters) {
            String l = leaderSeen.get(v);
            if (l != null && live.containsKey(l) && !paused.contains(l)) {
                return l;
            }
        }
        List<String> running = new ArrayList<>(voters);
        running.retainAll(liveNodes());
        return running.get(random.nextInt(running.size()));
    }

    @Override
    public void cut(Set<String> a, Set<String> b, Set<String> bridges) {
        throw new UnsupportedOperationException("partitions run in one JVM (FaultRun)");
    }

    @Override
    public void degrade(Nemesis.Kind kind) {
        throw new UnsupportedOperationException("message faults run in one JVM (FaultRun)");
    }

    @Override
    public Duration minimumHold(Nemesis.Kind kind) {
        // the survivors of a leader's kill must be seen serving: failure detection, an election,
        // and a call that timed out while they had no leader, with time to spare
        return kind == Nemesis.Kind.CRASH_LEADER
                ? Duration.parse("PT" + settings.fdTimeout().toUpperCase(java.util.Locale.ROOT))
                        .plus(settings.operationTimeout()).plus(Duration.ofSeconds(1))
                : Duration.ZERO;
    }

    @Override
    public void crash(String node) {
        Child c = live.remove(node);
        if (c != null) {
            c.process.destroyForcibly(); // SIGKILL
            crashed.add(node);
        }
    }

    @Override
    public void pause(String node) {
        Child c = live.get(node);
        if (c != null && signal("STOP", c.process)) {
            paused.add(node);
        }
    }

    @Override
    public void healAll() {
        for (String node : new ArrayList<>(paused)) {
            Child c = live.get(node);
            if (c != null) {
                signal("CONT", c.process);
            }
            paused.remove(node);
        }
        List<String> restarted = new ArrayList<>(crashed);
        for (String node : restarted) {
            try {
                startChild(node);
                crashed.remove(node);
            } catch (IOException e) {
                throw new IllegalStateException("cannot restart " + node, e);
            }
        }
        // back in the cluster before the next fault, so that a crash never takes down more than a minority
        awaitJoined(restarted);
    }

    private static boolean signal(String signal, Process p) {
        try {
            return new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor() == 0;
        } catch (IOException e) {
            throw new IllegalStateException("kill -" + signal + " " + p.pid() + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() {
        for (Child c : live.values()) {
            signal("CONT", c.process); // a stopped process does not die of SIGKILL until continued on some systems
            c.process.destroyForcibly();
        }
    }
}
