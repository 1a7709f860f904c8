package io.unidist.bench.cluster;

import io.unidist.Delivery;
import io.unidist.LockLease;
import io.unidist.MessageQueue;
import io.unidist.SharedCounter;
import io.unidist.SharedLock;
import io.unidist.SharedState;
import io.unidist.Unidist;
import io.unidist.cluster.ClusterConfig;
import io.unidist.cluster.UnidistCluster;
import io.unidist.cluster.internal.ClusterNode;
import io.unidist.cluster.internal.UnidistRaft;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jgroups.raft.blocks.RaftSyncCounter;

/**
 * One voter of the benchmark cluster, started by {@link ClusterBench} in a JVM of its own: it joins with
 * {@link UnidistCluster#join} as a voter, starts the {@link CounterServiceNode baseline}, prints {@code ready} and
 * then serves the launcher's commands, one line in, one line out ({@code ok ...} or {@code err ...}):
 * <ul>
 *   <li>{@code status}: {@code ok leader=<unidist leader> cs_leader=<CounterService leader>};</li>
 *   <li>{@code warm}: one unidist increment and one CounterService increment;</li>
 *   <li>{@code run <counter|lock|semaphore|state-put:B|state-get:B|queue-offer:B|queue-poll-ack:B|cs-counter|fsync>
 *       <threads> <warm-up ms> <window ms>}: a closed-loop load from this process (B: payload bytes), answered
 *       with a {@link Measurement};</li>
 *   <li>{@code echo}: starts the loopback echo server, {@code ok port=<port>};</li>
 *   <li>{@code heap}: a full GC, then this JVM's heap ({@link VoterReports.Heap});</li>
 *   <li>{@code raft}: where its Raft log stands ({@link VoterReports.RaftPosition});</li>
 *   <li>{@code snapshots}: what its snapshots cost since start ({@link UnidistRaft.SnapshotStats});</li>
 *   <li>{@code snapshot}: a snapshot now (RAFT's {@code snapshot()}: frozen and written on RAFT's thread), then
 *       {@code snapshots}' answer;</li>
 *   <li>{@code quit}: leaves and exits. End of input (the launcher died) exits too.</li>
 * </ul>
 * Standard output carries only these lines: everything else that writes to {@code System.out} goes to stderr,
 * which the launcher sends to a log file.
 *
 * <p>Arguments: {@code <cluster> <name> <voters,comma,separated> <bind port> <first main port> <data dir>
 * <fsync on|off>}.
 */
public final class VoterMain {
    /** The JGroups file of every node of the benchmark. */
    static final String JGROUPS_FILE = "unidist-local.xml";
    private static final VoterReports.HeapWatch HEAP = new VoterReports.HeapWatch();

    private final Unidist node;
    private final CounterServiceNode baseline;
    private final Path dataDir;

    private VoterMain(Unidist node, CounterServiceNode baseline, Path dataDir) {
        this.node = node;
        this.baseline = baseline;
        this.dataDir = dataDir;
    }

    /**
     * Runs a voter; see the class comment.
     *
     * @param args cluster, name, voters, bind port, first main port, data dir, fsync
     */
    public static void main(String[] args) {
        PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err); // JGroups banners, logback status: never on the protocol stream
        HEAP.install();
        if (args.length != 7) {
            protocol.println("err usage: VoterMain <cluster> <name> <voters> <bind port> <first port> <data dir> <on|off>");
            System.exit(2);
        }
        String cluster = args[0];
        String name = args[1];
        List<String> voters = Arrays.asList(args[2].split(","));
        int bindPort = Integer.parseInt(args[3]);
        int firstPort = Integer.parseInt(args[4]);
        Path dataDir = Path.of(args[5]);
        boolean fsync = parseFsync(args[6]);
        VoterMain voter;
        try {
            ClusterConfig config = config(cluster, name, voters, bindPort, firstPort, dataDir, fsync);
            Unidist node = UnidistCluster.join(config);
            CounterServiceNode baseline = CounterServiceNode.start(JGROUPS_FILE, config.properties(), cluster, name,
                    voters, dataDir.resolve("counter-service"), config.raftLogMaxBytes(), fsync);
            voter = new VoterMain(node, baseline, dataDir);
        } catch (Exception e) {
            e.printStackTrace();
            protocol.println("err " + oneLine(e));
            Runtime.getRuntime().halt(1);
            return;
        }
        protocol.println("ready " + name);
        voter.serve(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), protocol);
        Runtime.getRuntime().halt(0); // no lingering JGroups threads; the launcher discards the cluster anyway
    }

    /** The configuration of a benchmark node: {@code unidist-local.xml} on the given port, discovery from {@code firstPort}. */
    static ClusterConfig config(String cluster, String name, List<String> voters, int bindPort, int firstPort,
            Path dataDir, boolean fsync) {
        ClusterConfig.Builder b = ClusterConfig.builder()
                .clusterName(cluster)
                .nodeName(name)
                .jgroupsConfig(JGROUPS_FILE)
                .voters(voters.toArray(String[]::new))
                .property("unidist.bind_addr", "127.0.0.1")
                .property("unidist.bind_port", Integer.toString(bindPort))
                .property("unidist.initial_hosts", "127.0.0.1[" + firstPort + "]")
                .raftFsync(fsync);
        if (dataDir != null) {
            b.dataDir(dataDir);
        }
        return b.build();
    }

    static boolean parseFsync(String s) {
        return switch (s) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException("fsync must be on or off, got '" + s + "'");
        };
    }

    private void serve(BufferedReader in, PrintStream out) {
        try {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                if (line.trim().equals("quit")) {
                    out.println("ok bye");
                    close();
                    return;
                }
                String reply;
                try {
                    reply = "ok " + handle(line.trim().split("\\s+"));
                } catch (Exception e) {
                    e.printStackTrace();
                    reply = "err " + oneLine(e);
                }
                out.println(reply);
            }
        } catch (java.io.IOException e) {
            // the launcher is gone
        }
    }

    private String handle(String[] words) throws Exception {
        switch (words[0]) {
            case "status":
                return "leader=" + ((ClusterNode) node).leaderName() + " cs_leader=" + baseline.leaderName();
            case "warm":
                node.counter("bench").incrementAndGet();
                baseline.counter().incrementAndGet();
                return "warm";
            case "echo":
                return "port=" + Floors.startEchoServer();
            case "stack-echo":
                Floors.startStackEcho(io.unidist.cluster.UnidistCluster.messaging(node));
                return "ok";
            case "heap":
                return HEAP.measure().encode();
            case "raft": {
                UnidistRaft raft = raft();
                return new VoterReports.RaftPosition(((ClusterNode) node).leaderName(), raft.commitIndex(),
                        raft.lastAppended(), raft.log().firstAppended(),
                        ((ClusterNode) node).raftChannel().getView().size()).encode();
            }
            case "snapshots":
                return VoterReports.encode(raft().snapshotStats());
            case "snapshot":
                raft().snapshot();
                return VoterReports.encode(raft().snapshotStats());
            case "run":
                if (words.length != 5) {
                    throw new IllegalArgumentException("usage: run <operation> <threads> <warm-up ms> <window ms>");
                }
                int threads = Integer.parseInt(words[2]);
                long warmup = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(words[3]));
                long window = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(words[4]));
                return run(words[1], threads, warmup, window).encode();
            default:
                throw new IllegalArgumentException("unknown command '" + String.join(" ", words) + "'");
        }
    }

    private UnidistRaft raft() {
        UnidistRaft raft = ((ClusterNode) node).raftChannel().getProtocolStack().findProtocol(UnidistRaft.class);
        if (raft == null) {
            throw new IllegalStateException("the raft channel of " + node.nodeName() + " runs no UnidistRaft");
        }
        return raft;
    }

    private Measurement run(String operation, int threads, long warmup, long window) throws Exception {
        switch (operation) {
            case "cs-counter": {
                RaftSyncCounter counter = baseline.counter();
                return ClosedLoop.run(threads, warmup, window, i -> counter::incrementAndGet);
            }
            case "fsync": {
                List<Floors.ForcedAppend> files = new ArrayList<>();
                try {
                    for (int i = 0; i < threads; i++) {
                        files.add(new Floors.ForcedAppend(dataDir.resolve("fsync-floor-" + i)));
                    }
                    return ClosedLoop.run(threads, warmup, window, files::get);
                } finally {
                    for (Floors.ForcedAppend f : files) {
                        f.close();
                    }
                }
            }
            default:
                return unidistLoad(node, operation, threads, warmup, window);
        }
    }

    /**
     * A closed-loop load of a unidist operation from {@code node}: {@code counter} (incrementAndGet), {@code lock}
     * (acquire + release of one plain lock shared by every thread: with several threads, contended), {@code locks}
     * (each thread its own plain lock: the protocol's cost with several threads, no waiting) or {@code semaphore} (acquire + release of a semaphore with as many permits
     * as threads, so that no thread waits for another and the figure is the protocol's), or, with a payload of
     * B bytes, {@code state-put:B} (put of a byte[] to one of {@value #STATE_KEYS} keys of bucket
     * {@link #stateBucket}), {@code state-get:B} (get of such a key), {@code queue-offer:B} (offer to queue
     * {@link #queueName}) or {@code queue-poll-ack:B} (poll with a 1 s timeout, then ack; an empty poll counts as an
     * error).
     */
    static Measurement unidistLoad(Unidist node, String operation, int threads, long warmup, long window)
            throws InterruptedException {
        Duration timeout = Duration.ofSeconds(10);
        int colon = operation.indexOf(':');
        if (colon > 0) {
            return dataLoad(node, operation.substring(0, colon), Integer.parseInt(operation.substring(colon + 1)),
                    threads, warmup, window);
        }
        switch (operation) {
            case "counter": {
                SharedCounter counter = node.counter("bench");
                return ClosedLoop.run(threads, warmup, window, i -> counter::incrementAndGet);
            }
            case "locks": {
                SharedLock[] locks = java.util.stream.IntStream.range(0, threads)
                        .mapToObj(t -> node.lock("bench-lock-" + threads + "-" + t)).toArray(SharedLock[]::new);
                return ClosedLoop.run(threads, warmup, window, i -> () -> {
                    try (LockLease lease = locks[i].acquire(timeout)) {
                        lease.fencingToken();
                    }
                });
            }
            case "lock":
            case "semaphore": {
                SharedLock lock = operation.equals("lock") ? node.lock("bench-lock")
                        : node.semaphore("bench-semaphore-" + threads, threads);
                return ClosedLoop.run(threads, warmup, window, i -> () -> {
                    try (LockLease lease = lock.acquire(timeout)) {
                        lease.fencingToken();
                    }
                });
            }
            default:
                throw new IllegalArgumentException("unknown unidist operation '" + operation + "'");
        }
    }

    /** How many keys the state loads spread over. */
    static final int STATE_KEYS = 1000;
    private static final String[] KEYS = java.util.stream.IntStream.range(0, STATE_KEYS).mapToObj(i -> "key-" + i)
            .toArray(String[]::new);

    /** The bucket of the state loads with a payload of {@code bytes}. */
    static String stateBucket(int bytes) {
        return "bench-state-" + bytes;
    }

    /** The queue of the queue loads with a payload of {@code bytes} and {@code threads} threads. */
    static String queueName(int bytes, int threads) {
        return "bench-queue-" + bytes + "-" + threads;
    }

    /** A key of the state loads. */
    static String key(int i) {
        return KEYS[i];
    }

    /** A payload of random bytes. */
    static byte[] payload(int bytes) {
        byte[] b = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }

    private static Measurement dataLoad(Unidist node, String operation, int bytes, int threads, long warmup,
            long window) throws InterruptedException {
        switch (operation) {
            case "state-put": {
                SharedState<byte[]> state = node.state(stateBucket(bytes), byte[].class);
                return ClosedLoop.run(threads, warmup, window, i -> {
                    byte[] value = payload(bytes);
                    return () -> state.put(KEYS[ThreadLocalRandom.current().nextInt(STATE_KEYS)], value);
                });
            }
            case "state-get": {
                SharedState<byte[]> state = node.state(stateBucket(bytes), byte[].class);
                return ClosedLoop.run(threads, warmup, window, i -> () -> {
                    Optional<byte[]> v = state.get(KEYS[ThreadLocalRandom.current().nextInt(STATE_KEYS)]);
                    if (v.isEmpty() || v.get().length != bytes) {
                        throw new IllegalStateException("state-get: key not filled with " + bytes + " bytes");
                    }
                });
            }
            case "queue-offer": {
                MessageQueue<byte[]> queue = node.queue(queueName(bytes, threads), byte[].class);
                return ClosedLoop.run(threads, warmup, window, i -> {
                    byte[] message = payload(bytes);
                    return () -> queue.offer(message);
                });
            }
            case "queue-poll-ack": {
                MessageQueue<byte[]> queue = node.queue(queueName(bytes, threads), byte[].class);
                Duration pollTimeout = Duration.ofSeconds(1);
                return ClosedLoop.run(threads, warmup, window, i -> () -> {
                    Optional<Delivery<byte[]>> d = queue.poll(pollTimeout);
                    if (d.isEmpty()) {
                        throw new IllegalStateException("queue-poll-ack: no delivery within 1 s, queue size "
                                + queue.size());
                    }
                    d.get().ack();
                });
            }
            default:
                throw new IllegalArgumentException("unknown unidist operation '" + operation + ":" + bytes + "'");
        }
    }

    private void close() {
        try {
            baseline.close();
        } catch (RuntimeException e) {
            e.printStackTrace();
        }
        try {
            node.close();
        } catch (RuntimeException e) {
            e.printStackTrace();
        }
    }

    static String oneLine(Throwable e) {
        String s = e.toString();
        return s.replaceAll("[\\r\\n]+", " | ");
    }
}
