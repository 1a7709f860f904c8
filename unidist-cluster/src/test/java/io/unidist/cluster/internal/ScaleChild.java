package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;

import io.unidist.ClusterUnavailableException;
import io.unidist.Unidist;
import io.unidist.cluster.ClusterConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.jgroups.JChannel;
import org.jgroups.protocols.MsgStats;

/**
 * One process of a {@link ScaleProcesses} run: many nodes of one cluster in this JVM over TCP on
 * 127.0.0.1, the {@link FaultWorkload} over them, and what the parent asks for on standard input.
 * Every line it prints starts with a word (times are System.nanoTime, the machine's clock):
 * <pre>
 * STARTED t            main began
 * SEEDED t             its first node joined (the parent starts the other processes then)
 * JOINED t / VIEWS t / FIRST t   every node joined / sees all members / made a first call
 * RES heapPerNode rssPerNode threads fds nodes threadsOfANonVoter   bytes, after a full GC
 * READY
 * MARK k -> M k node leader commitIndex cpuNanos msgsIn msgsOut (per local voter), C k processCpuNanos,
 *           R k msgsReceivedByAllLocalNodes, K k kind=cpuNanos;... (every thread, by kind), MARKED k
 * L node t             a local voter became leader
 * VS min max t         the smallest and largest view of the local nodes changed
 * H type field...      a workload record (FaultHistories)
 * P start end ok       a failover probe call
 * CRASHED node start end (the crash began, the node is down), STOPPED, DRAINED, CLOSED t
 * </pre>
 * Commands: {@code START}, {@code PROBE}, {@code MARK k}, {@code CRASH node}, {@code STOP},
 * {@code DRAIN}, {@code CLOSE}, {@code EXIT}.
 */
public final class ScaleChild extends ScaleHost {
    private final String[] args;
    private final List<String> names;
    private final Map<String, Integer> ports = new java.util.HashMap<>();
    private final List<String> voters;
    private final Map<String, ScaleMeter.ThreadCpu> voterCpu = new ConcurrentHashMap<>();
    private ScaleMeter.ThreadCpu everyThread;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "scale-worker");
        t.setDaemon(true);
        return t;
    });
    private final PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false,
            StandardCharsets.UTF_8);

    private ScaleChild(String[] args) {
        super(TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[6])), TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[7])));
        this.args = args;
        this.voters = List.of(args[2].split(","));
        List<String> list = new ArrayList<>();
        for (String nameAtPort : args[3].split(",")) {
            String[] np = nameAtPort.split("@");
            list.add(np[0]);
            ports.put(np[0], Integer.parseInt(np[1]));
        }
        this.names = List.copyOf(list);
    }

    /**
     * Arguments: cluster, base port, voters, this process's nodes as {@code name@port} (comma-separated), data dir,
     * seed, pause min ms, pause max ms, variables of the JGroups file ("k=v;k=v" or "-"), cluster size,
     * probe node or "-", JGroups file,
     * joins at a time.
     */
    public static void main(String[] args) {
        try {
            new ScaleChild(args).serve();
            System.exit(0);
        } catch (Throwable t) {
            t.printStackTrace(); // the parent shows standard error
            System.exit(1); // the nodes' threads would keep a failed process alive
        }
    }

    private void serve() throws Exception {
        say("STARTED " + System.nanoTime());
        int size = Integer.parseInt(args[9]);
        long heap0 = ScaleMeter.usedHeapAfterGc();
        long rss0 = ScaleMeter.residentBytes();
        int threads0 = ScaleMeter.liveThreads();
        int fds0 = ScaleMeter.openFileDescriptors();
        join(names.get(0));
        say("SEEDED " + System.nanoTime());
        ExecutorService joiners = Executors.newFixedThreadPool(Integer.parseInt(args[12]));
        List<Future<?>> joins = new ArrayList<>();
        for (String n : names.subList(1, names.size())) {
            joins.add(joiners.submit(() -> join(n)));
        }
        for (Future<?> f : joins) {
            f.get(10, TimeUnit.MINUTES);
        }
        joiners.shutdown();
        say("JOINED " + System.nanoTime());
        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> live.values().stream().allMatch(n -> n.mainChannel().getView().size() == size));
        say("VIEWS " + System.nanoTime());
        List<Future<?>> firsts = new ArrayList<>();
        for (ClusterNode n : live.values()) {
            firsts.add(pool.submit(() -> n.counter("scale-first").incrementAndGet()));
        }
        for (Future<?> f : firsts) {
            f.get(5, TimeUnit.MINUTES);
        }
        say("FIRST " + System.nanoTime());
        long heap1 = ScaleMeter.usedHeapAfterGc();
        String nonVoter = names.stream().filter(n -> !voters.contains(n)).findFirst().orElse(names.get(0));
        say(String.format(java.util.Locale.ROOT, "RES %d %d %d %d %d %d", (heap1 - heap0) / names.size(),
                (ScaleMeter.residentBytes() - rss0) / names.size(), ScaleMeter.liveThreads() - threads0,
                ScaleMeter.openFileDescriptors() - fds0, names.size(),
                ScaleMeter.threadKinds(ScaleMeter.threadsOf(nonVoter)).values().stream().mapToInt(i -> i).sum()));
        for (ClusterNode n : live.values()) {
            stats(n.mainChannel()).enable(true);
            if (n.raftChannel() != null) {
                stats(n.raftChannel()).enable(true);
                voterCpu.put(n.nodeName(), new ScaleMeter.ThreadCpu(ScaleMeter.threadsOf(n.nodeName())));
            }
        }
        everyThread = new ScaleMeter.ThreadCpu(name -> true, 1_000);
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "scale-watcher");
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleWithFixedDelay(watcher(), 0, 20, TimeUnit.MILLISECONDS);
        say("READY");
        commands();
        ticker.shutdownNow();
        pool.shutdownNow();
        voterCpu.values().forEach(ScaleMeter.ThreadCpu::close);
    }

    private void join(String node) {
        ClusterConfig.Builder b = ClusterConfig.builder()
                .clusterName(args[0]).nodeName(node).voters(voters.toArray(String[]::new))
                .jgroupsConfig(args[11])
                .operationTimeout(Duration.ofSeconds(10))
                .property("unidist.initial_hosts", "127.0.0.1[" + args[1] + "]");
        if (!args[8].equals("-")) {
            for (String kv : args[8].split(";")) {
                String[] v = kv.split("=", 2);
                b.property(v[0], v[1]);
            }
        }
        // JGroups refuses port 0 with TCPPING: each node has its own (ScaleProcesses lays them out)
        b.property("unidist.bind_port", Integer.toString(ports.get(node)));
        if (voters.contains(node)) {
            b.dataDir(Path.of(args[4]).resolve(node));
        }
        live.put(node, (ClusterNode) ClusterNode.join(b.build()));
    }

    /** Reports leader changes among the local voters and changes of the local views' sizes. */
    private Runnable watcher() {
        String[] leader = {null};
        int[] sizes = {-1, -1};
        return () -> {
            String now = null;
            int min = Integer.MAX_VALUE;
            int max = 0;
            for (ClusterNode n : live.values()) {
                if (n.isLeader()) {
                    now = n.nodeName();
                }
                int s = n.mainChannel().getView().size();
                min = Math.min(min, s);
                max = Math.max(max, s);
            }
            if (now != null && !Objects.equals(now, leader[0])) {
                say("L " + now + " " + System.nanoTime());
            }
            leader[0] = now;
            if (min != sizes[0] || max != sizes[1]) {
                sizes[0] = min;
                sizes[1] = max;
                say("VS " + min + " " + max + " " + System.nanoTime());
            }
        };
    }

    private void commands() throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        FaultWorkload.Recorder rec = (type, fields) -> say(FaultHistories.line(type, fields));
        FaultWorkload workload = new FaultWorkload(this, rec, Long.parseLong(args[5]));
        AtomicBoolean stop = new AtomicBoolean();
        List<Future<?>> workers = new ArrayList<>();
        String line;
        while ((line = in.readLine()) != null) {
            String[] c = line.trim().split(" ");
            switch (c[0]) {
                case "START" -> workers.addAll(workload.start(pool, stop));
                case "PROBE" -> {
                    if (live.containsKey(args[10])) {
                        workers.add(pool.submit(() -> probe(stop)));
                    }
                }
                case "MARK" -> mark(c[1]);
                case "CRASH" -> {
                    ClusterNode n = live.remove(c[1]);
                    if (n != null) {
                        long t = System.nanoTime();
                        n.crashForTest();
                        say("CRASHED " + c[1] + " " + t + " " + System.nanoTime());
                    }
                }
                case "STOP" -> {
                    stop.set(true);
                    for (Future<?> f : workers) {
                        f.get(2, TimeUnit.MINUTES);
                    }
                    workload.readBack(live.values().iterator().next());
                    say("STOPPED");
                }
                case "DRAIN" -> {
                    workload.drain(live.get(args[10]), args[10]);
                    say("DRAINED");
                }
                case "CLOSE" -> {
                    List<Future<?>> closes = new ArrayList<>();
                    for (ClusterNode n : live.values()) {
                        closes.add(pool.submit(n::close));
                    }
                    for (Future<?> f : closes) {
                        f.get(5, TimeUnit.MINUTES);
                    }
                    say("CLOSED " + System.nanoTime());
                }
                case "EXIT" -> {
                    return;
                }
                default -> say("? " + line);
            }
        }
    }

    private void mark(String k) {
        for (Map.Entry<String, ScaleMeter.ThreadCpu> e : voterCpu.entrySet()) {
            ClusterNode n = live.get(e.getKey());
            if (n == null) {
                continue;
            }
            MsgStats main = stats(n.mainChannel());
            MsgStats raft = stats(n.raftChannel());
            say(String.join(" ", "M", k, n.nodeName(), n.isLeader() ? "1" : "0",
                    Long.toString(n.server().raft().commitIndex()), Long.toString(e.getValue().nanos()),
                    Long.toString(main.getNumMsgsReceived() + raft.getNumMsgsReceived()),
                    Long.toString(main.getNumMsgsSent() + raft.getNumMsgsSent())));
        }
        say("C " + k + " " + ScaleMeter.processCpuNanos());
        StringBuilder kinds = new StringBuilder("K " + k + " ");
        everyThread.byKind().forEach((kind, nanos) -> kinds.append(kind.replace(' ', '_')).append('=').append(nanos)
                .append(';'));
        say(kinds.toString());
        say("R " + k + " " + live.values().stream().mapToLong(n -> stats(n.mainChannel()).getNumMsgsReceived()).sum());
        say("MARKED " + k);
    }

    private void probe(AtomicBoolean stop) {
        while (!stop.get()) {
            Unidist n = live.get(args[10]);
            long start = System.nanoTime();
            boolean ok = true;
            try {
                n.counter("scale-probe").incrementAndGet();
            } catch (ClusterUnavailableException e) {
                ok = false;
            }
            say("P " + start + " " + System.nanoTime() + " " + ok);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // pacing of the probe
        }
    }

    private static MsgStats stats(JChannel ch) {
        return ch.getProtocolStack().getTransport().getMessageStats();
    }

    private void say(String line) {
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }

    // ---- FaultWorkload.Host ----

    @Override
    List<String> names() {
        return names;
    }

    @Override
    public String incarnation() {
        return "@" + ProcessHandle.current().pid();
    }
}
