package io.unidist.bench.cluster;

import io.unidist.SharedCounter;
import io.unidist.Unidist;
import io.unidist.cluster.UnidistCluster;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One benchmark cluster on 127.0.0.1: three {@link VoterMain} JVMs (v1, v2, v3) and this process as the
 * non-voter {@code client}, all with one fsync setting, under a fresh cluster name, on a fresh port range and in
 * fresh data directories.
 *
 * <p><b>Ports.</b> From a random first port P, checked free: voters' main channels at P..P+2, the client at P+3
 * (discovery probes P..P+20), FD_SOCK2 at +50, unidist's raft channel at +100 (+150), the CounterService baseline
 * at +200 (+250); the whole range P..P+{@value #PORT_SPAN} is checked.
 */
final class BenchCluster implements AutoCloseable {
    static final List<String> VOTERS = List.of("v1", "v2", "v3");
    static final int PORT_SPAN = 300;
    private static final Duration COMMAND_SLACK = Duration.ofSeconds(60);

    private final String clusterName;
    private final int firstPort;
    private final boolean fsync;
    private final Path dir;
    private final Map<String, VoterProcess> voters = new LinkedHashMap<>();
    private Unidist client;
    private int echoPort;
    private boolean stackEcho;

    /** What a voter reports about the two Raft groups. */
    record Status(String leader, String csLeader) { }

    /** One failover round: who was killed, who took over, and how long increments stalled. */
    record Failover(int round, String killed, String newLeader, long killToNextNanos, long longestGapNanos,
                    long errors, String firstError) { }

    private BenchCluster(String clusterName, int firstPort, boolean fsync, Path dir) {
        this.clusterName = clusterName;
        this.firstPort = firstPort;
        this.fsync = fsync;
        this.dir = dir;
    }

    /** Starts the voters, joins this process as the non-voter, and waits until both Raft groups have a leader. */
    static BenchCluster start(boolean fsync, Path dir, List<String> jvmOptions) throws IOException, InterruptedException {
        String name = "bench-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
        BenchCluster cluster = new BenchCluster(name, freePortRange(PORT_SPAN), fsync, dir);
        try {
            cluster.startVoters(jvmOptions);
            cluster.client = UnidistCluster.join(VoterMain.config(name, "client", VOTERS, cluster.firstPort + VOTERS.size(),
                    cluster.firstPort, null, fsync));
            cluster.awaitHealthy(Duration.ofSeconds(90));
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    String clusterName() {
        return clusterName;
    }

    int firstPort() {
        return firstPort;
    }

    boolean fsync() {
        return fsync;
    }

    /** This process's node, the non-voter {@code client}. */
    Unidist client() {
        return client;
    }

    private void startVoters(List<String> jvmOptions) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (int i = 0; i < VOTERS.size(); i++) {
            String v = VOTERS.get(i);
            List<String> cmd = new ArrayList<>();
            cmd.add(java);
            cmd.addAll(jvmOptions);
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), VoterMain.class.getName(), clusterName, v,
                    String.join(",", VOTERS), Integer.toString(firstPort + i), Integer.toString(firstPort),
                    dir.resolve(v).toString(), fsync ? "on" : "off"));
            VoterProcess p = new VoterProcess(v, cmd, dir.resolve("logs").resolve(v + ".log"));
            voters.put(v, p);
            p.start();
        }
        for (VoterProcess p : voters.values()) {
            p.awaitReady(Duration.ofSeconds(90));
        }
    }

    /**
     * Waits until every live voter names the same leader in both Raft groups, then checks that an increment
     * succeeds from the client and from every voter (in both groups).
     */
    void awaitHealthy(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (true) {
            try {
                List<Status> all = new ArrayList<>();
                for (VoterProcess p : voters.values()) {
                    all.add(status(p));
                }
                Status first = all.get(0);
                if (first.leader() != null && first.csLeader() != null && all.stream().allMatch(first::equals)) {
                    client.counter("bench").incrementAndGet();
                    for (VoterProcess p : voters.values()) {
                        p.call("warm", Duration.ofSeconds(30));
                    }
                    return;
                }
                last = all.toString();
            } catch (IOException | RuntimeException e) {
                last = e.toString();
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("cluster " + clusterName + " not healthy within " + timeout + ": " + last);
            }
            TimeUnit.MILLISECONDS.sleep(200); // polling a remote state: nothing to wait on
        }
    }

    Status status(VoterProcess p) throws IOException, InterruptedException {
        String reply = p.call("status", Duration.ofSeconds(10));
        String leader = null;
        String csLeader = null;
        for (String word : reply.split(" ")) {
            if (word.startsWith("leader=")) {
                leader = nullIfNone(word.substring("leader=".length()));
            } else if (word.startsWith("cs_leader=")) {
                csLeader = nullIfNone(word.substring("cs_leader=".length()));
            }
        }
        return new Status(leader, csLeader);
    }

    private static String nullIfNone(String s) {
        return s.isEmpty() || s.equals("null") ? null : s;
    }

    /** The leaders of both groups, as the first live voter sees them; waits (up to 30 s) while either is unknown. */
    Status leaders() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            VoterProcess first = voters.values().stream().filter(VoterProcess::isAlive).findFirst()
                    .orElseThrow(() -> new IOException("no voter of " + clusterName + " is running"));
            Status s = status(first);
            if (s.leader() != null && s.csLeader() != null) {
                return s;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(first.name() + " knows no leader in one of the groups within 30 s: " + s);
            }
            TimeUnit.MILLISECONDS.sleep(200); // polling a remote state: nothing to wait on
        }
    }

    VoterProcess voter(String name) {
        return Objects.requireNonNull(voters.get(name), () -> "no voter " + name);
    }

    /** A voter that follows in both groups if there is one, else one that follows in unidist's. */
    VoterProcess follower(Status leaders) {
        return voters.values().stream()
                .filter(p -> !p.name().equals(leaders.leader()) && !p.name().equals(leaders.csLeader()))
                .findFirst()
                .orElseGet(() -> voters.values().stream().filter(p -> !p.name().equals(leaders.leader()))
                        .findFirst().orElseThrow());
    }

    /** A voter that follows in the CounterService group. */
    VoterProcess csFollower(Status leaders, VoterProcess preferred) {
        if (!preferred.name().equals(leaders.csLeader())) {
            return preferred;
        }
        return voters.values().stream().filter(p -> !p.name().equals(leaders.csLeader())).findFirst().orElseThrow();
    }

    /** Runs a load in a voter's process. */
    Measurement runOn(VoterProcess p, String operation, int threads, Duration warmup, Duration window)
            throws IOException, InterruptedException {
        String reply = p.call("run " + operation + " " + threads + " " + warmup.toMillis() + " " + window.toMillis(),
                warmup.plus(window).plus(COMMAND_SLACK));
        return Measurement.decode(reply);
    }

    /** Runs a unidist load from this process, the non-voter. */
    Measurement runOnClient(String operation, int threads, Duration warmup, Duration window) throws InterruptedException {
        return VoterMain.unidistLoad(client, operation, threads, warmup.toNanos(), window.toNanos());
    }

    /**
     * Puts a value of {@code bytes} bytes under each of the state loads' keys from this process (16 threads),
     * so that every get of a state-get load finds one.
     */
    void fillState(int bytes) throws InterruptedException {
        io.unidist.SharedState<byte[]> state = client.state(VoterMain.stateBucket(bytes), byte[].class);
        runAll(VoterMain.STATE_KEYS, i -> state.put(VoterMain.key(i), VoterMain.payload(bytes)));
    }

    /**
     * Offers messages of {@code bytes} bytes from this process (16 threads) until the queue of the loads with
     * {@code threads} threads holds at least {@code target}; returns how many were offered.
     */
    long topUpQueue(int bytes, int threads, long target) throws InterruptedException {
        io.unidist.MessageQueue<byte[]> queue = client.queue(VoterMain.queueName(bytes, threads), byte[].class);
        long missing = target - queue.size();
        if (missing <= 0) {
            return 0;
        }
        byte[] message = VoterMain.payload(bytes);
        runAll((int) missing, i -> queue.offer(message));
        return missing;
    }

    /**
     * Offers {@code n} messages of {@code bytes} random bytes (one payload per thread) to queue {@code name} from
     * this process with {@code threads} threads, as fast as they are taken; a failed offer counts as an error and is
     * not repeated. {@code done} counts the offers made so far.
     */
    Measurement fillQueue(String name, int bytes, long n, int threads, AtomicLong done) throws InterruptedException {
        io.unidist.MessageQueue<byte[]> queue = client.queue(name, byte[].class);
        return ClosedLoop.runCount(threads, n, done, i -> {
            byte[] message = VoterMain.payload(bytes);
            return () -> queue.offer(message);
        });
    }

    /** Runs {@code task} for 0..n-1 on 16 threads; the first failure is rethrown. */
    private static void runAll(int n, java.util.function.IntConsumer task) throws InterruptedException {
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            Thread w = new Thread(() -> {
                int i;
                while (failure.get() == null && (i = next.getAndIncrement()) < n) {
                    try {
                        task.accept(i);
                    } catch (RuntimeException e) {
                        failure.compareAndSet(null, e);
                    }
                }
            }, "bench-fill-" + t);
            w.setDaemon(true);
            workers.add(w);
            w.start();
        }
        for (Thread w : workers) {
            w.join();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    /** Loopback round trips of 64 bytes from this process to an echo server in voter v1. */
    Measurement roundTrips(Duration warmup, Duration window) throws IOException, InterruptedException {
        if (echoPort == 0) {
            echoPort = Integer.parseInt(voter(VOTERS.get(0)).call("echo", Duration.ofSeconds(10)).replace("port=", ""));
        }
        Floors.RoundTrip trip = new Floors.RoundTrip(echoPort);
        try {
            return ClosedLoop.run(1, warmup.toNanos(), window.toNanos(), i -> trip);
        } finally {
            trip.close();
        }
    }

    /** Round trips of 64 bytes through unidist's cluster messaging from this process's node to voter v1. */
    Measurement stackRoundTrips(Duration warmup, Duration window) throws Exception {
        if (!stackEcho) {
            voter(VOTERS.get(0)).call("stack-echo", Duration.ofSeconds(10));
            stackEcho = true;
        }
        try (Floors.StackRoundTrip trip = new Floors.StackRoundTrip(
                io.unidist.cluster.UnidistCluster.messaging(client), VOTERS.get(0))) {
            return ClosedLoop.run(1, warmup.toNanos(), window.toNanos(), i -> trip);
        }
    }

    /**
     * Kills the unidist leader's process (kill -9) while this process increments the counter in a closed loop with
     * one thread; measures the time from the kill to the completion of the first increment sent after it, then
     * restarts the killed voter and waits for the cluster to be whole again.
     */
    Failover failover(int round, Duration settle) throws IOException, InterruptedException {
        awaitHealthy(Duration.ofSeconds(90));
        String leader = leaders().leader();
        VoterProcess victim = voter(leader);
        SharedCounter counter = client.counter("bench");
        AtomicLong killAt = new AtomicLong(Long.MAX_VALUE);
        AtomicLong firstAfter = new AtomicLong();
        AtomicLong longestGap = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>();
        Thread load = new Thread(() -> {
            long lastEnd = 0;
            while (!Thread.currentThread().isInterrupted()) {
                long start = System.nanoTime();
                try {
                    counter.incrementAndGet();
                } catch (RuntimeException e) {
                    if (!Thread.currentThread().isInterrupted()) {
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, e.toString());
                    }
                    continue;
                }
                long end = System.nanoTime();
                if (end > killAt.get() && lastEnd > 0) {
                    longestGap.accumulateAndGet(end - Math.max(lastEnd, killAt.get()), Math::max);
                }
                if (start >= killAt.get() && firstAfter.get() == 0) {
                    firstAfter.set(end);
                }
                lastEnd = end;
            }
        }, "bench-failover-load");
        load.setDaemon(true);
        load.start();
        TimeUnit.NANOSECONDS.sleep(settle.toNanos()); // steady state before the kill
        System.err.println("[bench] kill -9 of leader " + leader + " at " + java.time.LocalTime.now());
        killAt.set(System.nanoTime());
        victim.kill();
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (firstAfter.get() == 0 && System.nanoTime() < giveUp) {
            TimeUnit.MILLISECONDS.sleep(5);
        }
        TimeUnit.MILLISECONDS.sleep(200); // a few more increments, so that the longest gap is closed
        load.interrupt();
        load.join(15_000);
        long next = firstAfter.get() == 0 ? -1 : firstAfter.get() - killAt.get();
        String newLeader = null;
        for (VoterProcess p : voters.values()) {
            if (p.isAlive()) {
                newLeader = status(p).leader();
                break;
            }
        }
        victim.start();
        victim.awaitReady(Duration.ofSeconds(90));
        awaitHealthy(Duration.ofSeconds(90));
        return new Failover(round, leader, newLeader, next, longestGap.get(), errors.get(),
                firstError.get() == null ? "-" : firstError.get());
    }

    /** kill -9 of every voter, all at once; returns once all are gone. The client node stays. */
    void killVoters() throws InterruptedException {
        voters.values().forEach(VoterProcess::killNow);
        for (VoterProcess p : voters.values()) {
            p.kill();
        }
    }

    /**
     * Starts every voter that is not running again, same name, ports and data directory, and returns once all of
     * them have joined (printed {@code ready}).
     */
    void restartVoters(Duration timeout) throws IOException, InterruptedException {
        List<VoterProcess> started = new ArrayList<>();
        for (VoterProcess p : voters.values()) {
            if (!p.isAlive()) {
                p.start();
                started.add(p);
            }
        }
        for (VoterProcess p : started) {
            p.awaitReady(timeout);
        }
    }

    /** Leaves with the client node, asks the voters to quit, and kills those that have not within 10 s. */
    @Override
    public void close() {
        if (client != null) {
            try {
                client.close();
            } catch (RuntimeException e) {
                System.err.println("closing the client node: " + e);
            }
        }
        voters.values().forEach(VoterProcess::requestQuit);
        try {
            for (VoterProcess p : voters.values()) {
                p.awaitExit(Duration.ofSeconds(10));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            VoterProcess.Children.killAll();
        }
    }

    /** A first port P such that P..P+span-1 are all free on 127.0.0.1, below the kernel's ephemeral range. */
    static int freePortRange(int span) throws IOException {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 100; attempt++) {
            int first = 10_000 + random.nextInt(32_000 - 10_000 - span);
            if (allFree(first, span)) {
                return first;
            }
        }
        throw new IOException("no free range of " + span + " ports on 127.0.0.1 between 10000 and 32000");
    }

    private static boolean allFree(int first, int span) {
        List<ServerSocket> held = new ArrayList<>(span);
        try {
            for (int port = first; port < first + span; port++) {
                ServerSocket s = new ServerSocket();
                held.add(s);
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            }
            return true;
        } catch (IOException e) {
            return false;
        } finally {
            for (ServerSocket s : held) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing a probe socket
                }
            }
        }
    }
}
