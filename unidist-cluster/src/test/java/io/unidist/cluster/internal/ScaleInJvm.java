package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;

import io.unidist.ClusterUnavailableException;
import io.unidist.Unidist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.jgroups.JChannel;
import org.jgroups.protocols.MsgStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One in-JVM measurement of {@link ScaleRun}: 3 voters and {@code size - 3} non-voters over
 * SHARED_LOOPBACK ({@code unidist-jvm.xml}), in five steps.
 * <ol>
 *   <li><b>Form.</b> {@code v1} starts, then every other node at once; the time runs until
 *       every node sees all {@code size} members and a first call (a counter increment, which
 *       opens the node's session: two commits) has succeeded from every node.</li>
 *   <li><b>Resources.</b> Heap after a full collection, resident memory, threads and open file
 *       descriptors, before and after, divided by the nodes.</li>
 *   <li><b>Idle.</b> A window with no calls: the process's CPU, the leader's CPU and the
 *       messages that membership alone costs (heartbeats, merge probes, stability).</li>
 *   <li><b>Load.</b> The {@link FaultWorkload} from every node at once, one worker per node
 *       pausing between calls like a light user; in a window after a warm-up: calls and
 *       commits per second, call latency, and the leader's CPU per commit (the CPU time of the
 *       leader's threads, see {@link ScaleMeter}, over the commit index's growth).</li>
 *   <li><b>Failover.</b> Under the same load the leader crashes ({@link TestCluster#crash}):
 *       the time to a new leader, to the new view on every node, and to the next successful
 *       call of a non-voter's probe, and the longest time in which no call of any node
 *       succeeded. Then the load stops, the queue is drained, the state read back, and the
 *       checkers judge every history.</li>
 * </ol>
 * Shared loopback passes a message by calling the receiver's transport on the sender's thread,
 * which also parses it there: in one JVM a node's thread CPU includes parsing what it sends and
 * leaves out parsing what it receives. The process run has no such skew.
 */
final class ScaleInJvm extends ScaleHost implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ScaleInJvm.class);
    private static final String PROBE_NODE = "n1";

    private final ScaleRun.Settings settings;
    private final int size;
    private final Path dir;
    private final List<String> names = new ArrayList<>();
    private final ScaleLoad load = new ScaleLoad(new FaultHistories());
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "scale-worker");
        t.setDaemon(true);
        return t;
    });
    private TestCluster cluster;

    private ScaleInJvm(int size, ScaleRun.Settings settings, Path dir) {
        super(settings.paceMin().toNanos(), settings.paceMax().toNanos());
        if (size < 4) {
            throw new IllegalArgumentException("a scale run needs at least 4 nodes (3 voters and a non-voter), got " + size);
        }
        this.size = size;
        this.settings = settings;
        this.dir = dir;
    }

    /** Measures a cluster of {@code size} nodes; see the class comment. */
    static ScaleResult run(int size, ScaleRun.Settings settings) throws Exception {
        Path dir = Files.createTempDirectory("unidist-scale-" + size + "-");
        try (ScaleInJvm run = new ScaleInJvm(size, settings, dir)) {
            return run.measure();
        } finally {
            ScaleRun.deleteTree(dir);
        }
    }

    private ScaleResult measure() throws Exception {
        ScaleResult r = new ScaleResult("one JVM, SHARED_LOOPBACK (unidist-jvm.xml"
                + (settings.jvmVars().isEmpty() ? "" : " with " + new java.util.TreeMap<>(settings.jvmVars())) + ")", size);
        long heap0 = ScaleMeter.usedHeapAfterGc();
        long rss0 = ScaleMeter.residentBytes();
        int threads0 = ScaleMeter.liveThreads();
        int fds0 = ScaleMeter.openFileDescriptors();
        form(r);
        long heap1 = ScaleMeter.usedHeapAfterGc();
        r.put("heap per node after a full GC (KB)", "%,d", (heap1 - heap0) / size / 1024);
        r.put("resident memory per node (KB)", "%,d", (ScaleMeter.residentBytes() - rss0) / size / 1024);
        r.put("threads per node", "%.1f", (ScaleMeter.liveThreads() - threads0) / (double) size);
        r.put("threads of a non-voter / of a voter", "%d / %d", count(ScaleMeter.threadKinds(ScaleMeter.threadsOf("n2"))),
                count(ScaleMeter.threadKinds(ScaleMeter.threadsOf("v2"))));
        r.put("open file descriptors per node", "%.1f", (ScaleMeter.openFileDescriptors() - fds0) / (double) size);
        r.put("serialized view (bytes)", "%,d", live.get("v1").mainChannel().getView().serializedSize());
        String leader = cluster.awaitLeader();
        r.note("leader %s; main channel coordinator %s", leader,
                live.get(leader).mainChannel().getView().getCoord());
        live.values().forEach(n -> stats(n.mainChannel()).enable(true));
        stats(live.get(leader).raftChannel()).enable(true);
        double idleLeaderCpuPerSecond = idle(r, leader);
        loadAndFailover(r, leader, idleLeaderCpuPerSecond);
        long closing = System.nanoTime();
        List<Future<?>> closes = new ArrayList<>();
        for (ClusterNode n : live.values()) {
            closes.add(pool.submit(n::close));
        }
        for (Future<?> f : closes) {
            f.get(5, TimeUnit.MINUTES);
        }
        r.put("close: every node at once (s)", "%.1f", (System.nanoTime() - closing) / 1e9);
        cluster.close();
        return r;
    }

    private static int count(Map<String, Integer> kinds) {
        return kinds.values().stream().mapToInt(Integer::intValue).sum();
    }

    private void form(ScaleResult r) throws Exception {
        long t0 = System.nanoTime();
        cluster = TestCluster.startTogether(dir, 3, size - 3, settings.operationTimeout(), settings::jvmSettings,
                settings.joiners());
        long joined = System.nanoTime();
        cluster.running().forEach(n -> live.put(n.nodeName(), n));
        names.addAll(live.keySet());
        names.sort(Comparator.naturalOrder());
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(20))
                .until(() -> live.values().stream().allMatch(n -> n.mainChannel().getView().size() == size));
        long views = System.nanoTime();
        List<Future<?>> firsts = new ArrayList<>();
        for (ClusterNode n : live.values()) {
            firsts.add(pool.submit(() -> n.counter("scale-first").incrementAndGet()));
        }
        for (Future<?> f : firsts) {
            f.get(5, TimeUnit.MINUTES);
        }
        long ready = System.nanoTime();
        r.put("form: start → every join returned (s)", "%.1f", (joined - t0) / 1e9);
        r.put("form: start → every node sees every member (s)", "%.1f", (views - t0) / 1e9);
        r.put("form: start → a first call succeeded on every node (s)", "%.1f", (ready - t0) / 1e9);
    }

    /** The window without calls; returns the leader's CPU nanoseconds per second in it. */
    private double idle(ScaleResult r, String leader) {
        if (settings.idle().isZero()) {
            return 0; // no idle window (a short run for a test)
        }
        ClusterNode l = live.get(leader);
        long cpu0 = ScaleMeter.processCpuNanos();
        long[] leader0 = messages(l);
        long received0 = receivedByAll();
        long t0 = System.nanoTime();
        double leaderPerSecond;
        try (ScaleMeter.ThreadCpu leaderCpu = new ScaleMeter.ThreadCpu(ScaleMeter.threadsOf(leader));
             ScaleMeter.ThreadCpu everyThread = new ScaleMeter.ThreadCpu(name -> true, 1_000)) {
            pause(settings.idle());
            Map<String, Long> kinds = everyThread.byKind();
            r.note("the process's CPU at idle by thread: %s", ScaleRun.shares(kinds));
            long nodesOwn = kinds.entrySet().stream().filter(e -> !e.getKey().startsWith("scale"))
                    .mapToLong(Map.Entry::getValue).sum();
            double seconds = (System.nanoTime() - t0) / 1e9;
            leaderPerSecond = leaderCpu.nanos() / seconds;
            long[] leader1 = messages(l);
            r.put("idle: process CPU (% of one core)", "%.1f", (ScaleMeter.processCpuNanos() - cpu0) / seconds / 1e7);
            r.put("idle: of which the nodes' threads, not GC, JIT or this driver's (% of one core)", "%.1f",
                    nodesOwn / seconds / 1e7);
            r.put("idle: leader's CPU (% of one core)", "%.2f", leaderPerSecond / 1e7);
            r.put("idle: messages received per node per second", "%.1f",
                    (receivedByAll() - received0) / seconds / live.size());
            r.put("idle: leader messages in / out per second", "%,.0f / %,.0f", (leader1[0] - leader0[0]) / seconds,
                    (leader1[1] - leader0[1]) / seconds);
        }
        return leaderPerSecond;
    }

    private void loadAndFailover(ScaleResult r, String leader, double idleLeaderCpuPerSecond) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        FaultWorkload workload = new FaultWorkload(this, load, settings.seed() + size);
        List<Future<?>> workers = workload.start(pool, stop);
        pause(settings.warmup());

        ClusterNode l = live.get(leader);
        long commit0 = l.server().raft().commitIndex();
        long cpu0 = ScaleMeter.processCpuNanos();
        long[] leader0 = messages(l);
        long w0 = System.nanoTime();
        long leaderNanos;
        try (ScaleMeter.ThreadCpu leaderCpu = new ScaleMeter.ThreadCpu(ScaleMeter.threadsOf(leader))) {
            pause(settings.load());
            leaderNanos = leaderCpu.nanos();
            r.note("the leader's CPU in the load window by thread: %s", ScaleRun.shares(leaderCpu.byKind()));
        }
        long w1 = System.nanoTime();
        long commits = l.server().raft().commitIndex() - commit0;
        long[] leader1 = messages(l);
        double seconds = (w1 - w0) / 1e9;
        List<ScaleLoad.Call> calls = load.ended(w0, w1);
        r.put("load: calls per second", "%,.0f", calls.size() / seconds);
        r.put("load: calls that did not succeed", "%s", ScaleLoad.notOk(calls));
        r.put("load: commits per second at the leader", "%,.0f", commits / seconds);
        r.put("load: process CPU (% of one core)", "%.1f", (ScaleMeter.processCpuNanos() - cpu0) / seconds / 1e7);
        r.put("load: leader's CPU (% of one core)", "%.1f", leaderNanos / seconds / 1e7);
        r.put("load: leader's CPU per commit (µs)", "%.0f", leaderNanos / 1e3 / commits);
        r.put("load: leader's CPU per commit above idle (µs)", "%.0f",
                (leaderNanos - idleLeaderCpuPerSecond * seconds) / 1e3 / commits);
        r.put("load: leader messages in / out per second", "%,.0f / %,.0f", (leader1[0] - leader0[0]) / seconds,
                (leader1[1] - leader0[1]) / seconds);
        Map<String, String> latency = load.latencies(w0, w1);
        r.put("load: call latency p50 / p99, all calls (ms)", "%s", latency.getOrDefault("all", "-"));
        r.put("load: counter increment p50 / p99 (ms)", "%s", latency.getOrDefault("increment", "-"));

        // failover: the leader crashes under the load, while a non-voter's probe calls every few ms
        AtomicBoolean probeStop = new AtomicBoolean();
        Future<?> probe = pool.submit(() -> probe(probeStop));
        pause(Duration.ofSeconds(1));
        long killed = System.nanoTime();
        cluster.crash(leader);
        long down = System.nanoTime(); // a call that began before this may still have reached the old leader
        live.remove(leader);
        List<String> others = cluster.voters().stream().filter(v -> !v.equals(leader)).toList();
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(5))
                .until(() -> others.stream().anyMatch(v -> live.get(v).isLeader()));
        long elected = System.nanoTime();
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(5))
                .until(() -> live.values().stream().allMatch(n -> n.mainChannel().getView().size() == size - 1));
        long viewed = System.nanoTime();
        long end = killed + settings.afterKill().toNanos();
        pause(Duration.ofNanos(Math.max(0, end - System.nanoTime())));
        stop.set(true);
        probeStop.set(true);
        for (Future<?> f : workers) {
            f.get(2, TimeUnit.MINUTES);
        }
        probe.get(2, TimeUnit.MINUTES);
        long stopped = System.nanoTime();
        load.putFailover(r, killed, elected, viewed, down, stopped);
        check(r, workload);
    }

    private void check(ScaleResult r, FaultWorkload workload) throws InterruptedException {
        ClusterNode drainer = live.get(PROBE_NODE);
        workload.drain(drainer, PROBE_NODE);
        workload.readBack(drainer);
        r.anomalies = load.histories().anomalies(Anomaly.REPORT_LIMIT, r.checked);
        log.info("{} nodes: checkers {}", size, r.verdict());
    }

    /** One non-voter's counter increments, a few milliseconds apart, until {@code stop}. */
    private void probe(AtomicBoolean stop) {
        while (!stop.get()) {
            Unidist n = live.get(PROBE_NODE);
            long start = System.nanoTime();
            boolean ok = true;
            try {
                n.counter("scale-probe").incrementAndGet();
            } catch (ClusterUnavailableException e) {
                ok = false;
            }
            load.probe(start, System.nanoTime(), ok);
            LockSupport.parkNanos(settings.probeEvery().toNanos()); // pacing of the probe
        }
    }

    /** Messages received and sent by a node's main channel and, on a voter, its raft channel. */
    private static long[] messages(ClusterNode n) {
        MsgStats main = stats(n.mainChannel());
        long in = main.getNumMsgsReceived();
        long out = main.getNumMsgsSent();
        if (n.raftChannel() != null) {
            MsgStats raft = stats(n.raftChannel());
            in += raft.getNumMsgsReceived();
            out += raft.getNumMsgsSent();
        }
        return new long[] {in, out};
    }

    private long receivedByAll() {
        return live.values().stream().mapToLong(n -> stats(n.mainChannel()).getNumMsgsReceived()).sum();
    }

    private static MsgStats stats(JChannel ch) {
        return ch.getProtocolStack().getTransport().getMessageStats();
    }

    /** Waits out a measurement window (not synchronisation: nothing is awaited but time). */
    static void pause(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < end) {
            LockSupport.parkNanos(end - System.nanoTime());
        }
    }

    // ---- FaultWorkload.Host ----

    @Override
    List<String> names() {
        return names;
    }

    @Override
    public void close() {
        pool.shutdownNow();
        if (cluster != null) {
            cluster.close();
        }
    }
}
