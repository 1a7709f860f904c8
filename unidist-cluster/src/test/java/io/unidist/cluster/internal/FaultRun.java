package io.unidist.cluster.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Jepsen-style run in this JVM: a cluster of voters and non-voters over SHARED_LOOPBACK, a
 * concurrent workload over every primitive from every node ({@link FaultWorkload}), a
 * {@link Nemesis} that injects one fault after another below the JGroups stacks, and at the end
 * a heal, a drain, and the checkers over the recorded histories. Everything random follows
 * from one seed, which every report and failure prints.
 *
 * <p>The cluster's timings are the bundled {@code unidist-jvm.xml}'s (failure detection in
 * 3 s) with a short operation timeout, so that a fault costs seconds, not minutes.
 */
final class FaultRun implements AutoCloseable, FaultWorkload.Host, Nemesis.Target {
    private static final Logger log = LoggerFactory.getLogger(FaultRun.class);

    /** What to run: the seed, for how long, which faults, and the cluster's shape. */
    record Settings(long seed, Duration duration, Set<Nemesis.Kind> kinds, int voters, int nonVoters,
                    int workersPerNode, Duration hold, Duration quiet, Duration operationTimeout, String fdTimeout) {
        static Settings of(long seed, Duration duration) {
            return new Settings(seed, duration, IN_JVM, 3, 2, 2, Duration.ofSeconds(4),
                    Duration.ofSeconds(2), Duration.ofSeconds(3), "3s");
        }

        Settings withKinds(Set<Nemesis.Kind> k) {
            return new Settings(seed, duration, k, voters, nonVoters, workersPerNode, hold, quiet, operationTimeout,
                    fdTimeout);
        }

        /** Faults held {@code h} with {@code q} between them (each varied by +-50 % from the seed). */
        Settings withPace(Duration h, Duration q) {
            return new Settings(seed, duration, kinds, voters, nonVoters, workersPerNode, h, q, operationTimeout,
                    fdTimeout);
        }

        Settings withNodes(int v, int n) {
            return new Settings(seed, duration, kinds, v, n, workersPerNode, hold, quiet, operationTimeout, fdTimeout);
        }

        /** One line for the report. */
        String describe() {
            return String.format(java.util.Locale.ROOT, "%d voters + %d non-voters in one JVM (SHARED_LOOPBACK),"
                    + " %d workers per node, operation timeout %d s; faults %s, each held about %d s, %d s apart",
                    voters, nonVoters, workersPerNode, operationTimeout.toSeconds(), kinds, hold.toSeconds(),
                    quiet.toSeconds());
        }
    }

    /**
     * The faults of a run in one JVM: all but killing every node at once (its restart joins one
     * node at a time, and a voter's join waits for a quorum the others have not yet formed).
     */
    /** The operations each checker must read for a run to count: fewer and it proves little. */
    static final int ENOUGH_OPERATIONS = 20;

    static final Set<Nemesis.Kind> IN_JVM = EnumSet.complementOf(EnumSet.of(Nemesis.Kind.CRASH_ALL));

    private final Settings settings;
    private final TestCluster cluster;
    private final Map<String, ClusterNode> live = new ConcurrentHashMap<>();
    private final Map<String, FaultNet> nets = new ConcurrentHashMap<>();
    private final Set<String> crashed = ConcurrentHashMap.newKeySet();
    private final Map<String, Gate> gates = new ConcurrentHashMap<>();
    private final Random random;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final Nemesis nemesis;
    private final FaultHistories histories = new FaultHistories();
    private final FaultWorkload workload;

    private FaultRun(Settings settings, Path dir) {
        this.settings = settings;
        this.random = new Random(settings.seed());
        this.cluster = TestCluster.start(dir, settings.voters(), settings.nonVoters(), settings.operationTimeout());
        for (ClusterNode n : cluster.running()) {
            track(n);
        }
        this.nemesis = new Nemesis(this, random.nextLong(), settings.kinds(), settings.hold(), settings.quiet());
        this.workload = new FaultWorkload(this, histories, random.nextLong());
    }

    /** Starts the cluster of {@code settings} under {@code dir}. */
    static FaultRun start(Settings settings, Path dir) {
        log.info("fault run: seed {} ({} voters, {} non-voters, {} of {})", settings.seed(), settings.voters(),
                settings.nonVoters(), settings.duration(), settings.kinds());
        return new FaultRun(settings, dir);
    }

    /**
     * Runs the workload under the nemesis for the settings' duration, then heals everything,
     * lets the cluster settle, drains the queues and checks every history.
     */
    FaultReport run() throws Exception {
        long t0 = System.nanoTime();
        AtomicBoolean stop = new AtomicBoolean();
        List<java.util.concurrent.Future<?>> workers = workload.start(pool, stop);
        java.util.concurrent.Future<?> faults = pool.submit(() -> nemesis.run(stop));
        long end = t0 + settings.duration().toNanos();
        long latest = t0 + 2 * settings.duration().toNanos() + TimeUnit.SECONDS.toNanos(90);
        // a run lasts its duration, and longer (up to twice that and 90 s) until every kind of fault
        // came once and every checker has enough to read
        while (System.nanoTime() < end || ((nemesis.events().size() < settings.kinds().size()
                || histories.fewestFed() < ENOUGH_OPERATIONS) && System.nanoTime() < latest)) {
            for (java.util.concurrent.Future<?> f : workers) {
                if (f.isDone()) {
                    f.get(); // a worker's own bug surfaces now, with its stack
                }
            }
            if (faults.isDone()) {
                faults.get();
            }
            TimeUnit.MILLISECONDS.sleep(200); // pacing of the run's clock, not synchronisation
        }
        stop.set(true);
        faults.get(2, TimeUnit.MINUTES);
        for (java.util.concurrent.Future<?> f : workers) {
            f.get(2, TimeUnit.MINUTES);
        }
        long loadEnd = System.nanoTime();
        healAll();
        cluster.awaitLeader();
        String drainer = liveNodes().get(0);
        workload.drain(node(drainer), drainer);
        workload.readBack(node(drainer));
        cluster.awaitReplicasAgree(Duration.ofSeconds(60));
        return new FaultReport(settings.describe(), settings.seed(), nemesis.events(), histories, t0, loadEnd,
                System.nanoTime());
    }

    // ---- what the nemesis and the workload see ----

    @Override
    public List<String> voters() {
        return cluster.voters();
    }

    @Override
    public List<String> liveNodes() {
        List<String> names = new ArrayList<>(live.keySet());
        names.sort(null);
        return names;
    }

    @Override
    public List<String> workloadNodes() {
        return allNodes();
    }

    /** Every node's name, running or not. */
    List<String> allNodes() {
        List<String> names = new ArrayList<>(cluster.voters());
        for (int i = 1; i <= settings.nonVoters(); i++) {
            names.add("n" + i);
        }
        return names;
    }

    @Override
    public ClusterNode node(String name) {
        return live.get(name);
    }

    FaultNet net(String name) {
        return nets.get(name);
    }

    @Override
    public int workersPerNode() {
        return settings.workersPerNode();
    }

    Nemesis nemesis() {
        return nemesis;
    }

    @Override
    public String leader() {
        for (ClusterNode n : live.values()) {
            if (n.isLeader()) {
                return n.nodeName();
            }
        }
        List<String> running = new ArrayList<>(cluster.voters());
        running.retainAll(live.keySet());
        return running.get(random.nextInt(running.size()));
    }

    @Override
    public void cut(Set<String> a, Set<String> b, Set<String> bridges) {
        List<org.jgroups.Address> aAddresses = addresses(a);
        List<org.jgroups.Address> bAddresses = addresses(b);
        a.forEach(n -> net(n).ignore(bAddresses));
        b.forEach(n -> net(n).ignore(aAddresses));
    }

    private List<org.jgroups.Address> addresses(Set<String> names) {
        List<org.jgroups.Address> list = new ArrayList<>();
        for (String n : names) {
            FaultNet net = net(n);
            if (net != null) {
                list.addAll(net.addresses());
            }
        }
        return list;
    }

    @Override
    public void degrade(Nemesis.Kind kind) {
        Consumer<FaultNet> fault = switch (kind) {
            case LOSS -> n -> n.loss(0.2);
            case DELAY -> n -> n.delay(60);
            case DUPLICATE -> n -> n.duplicate(true);
            case REORDER -> n -> n.reorder(true);
            default -> throw new IllegalArgumentException("not a network fault: " + kind);
        };
        nets.values().forEach(fault);
    }

    @Override
    public void crash(String name) {
        live.remove(name);
        nets.remove(name);
        crashed.add(name);
        cluster.crash(name);
    }

    /** The node stalls: its workload freezes where it is and the network hears nothing from it. */
    @Override
    public void pause(String name) {
        gate(name).close();
        FaultNet net = net(name);
        if (net != null) {
            net.silence(true);
        }
    }

    @Override
    public void awaitRunning(String name) throws InterruptedException {
        gate(name).pass();
    }

    @Override
    public void healAll() {
        nets.values().forEach(FaultNet::clear);
        gates.values().forEach(Gate::open);
        for (String name : new ArrayList<>(crashed)) {
            ClusterNode n = cluster.startNode(name);
            crashed.remove(name);
            track(n);
        }
    }

    private void track(ClusterNode n) {
        nets.put(n.nodeName(), FaultNet.install(n));
        live.put(n.nodeName(), n);
    }

    private Gate gate(String name) {
        return gates.computeIfAbsent(name, k -> new Gate());
    }

    /** Open or closed; a closed gate holds the workers of a stalled node. */
    static final class Gate {
        private boolean closed;

        synchronized void close() {
            closed = true;
        }

        synchronized void open() {
            closed = false;
            notifyAll();
        }

        synchronized void pass() throws InterruptedException {
            while (closed) {
                wait();
            }
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
        gates.values().forEach(Gate::open);
        cluster.close();
    }

    /** Seeds for runs that did not name one: printed, so any run can be replayed. */
    static long newSeed() {
        return new Random().nextLong() & Long.MAX_VALUE;
    }

    static Set<Nemesis.Kind> kinds(String list) {
        Set<Nemesis.Kind> kinds = new LinkedHashSet<>();
        for (String k : list.split(",")) {
            kinds.add(Nemesis.Kind.valueOf(k.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_')));
        }
        return kinds;
    }
}
