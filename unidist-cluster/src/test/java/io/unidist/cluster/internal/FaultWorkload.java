package io.unidist.cluster.internal;

import io.unidist.ClusterUnavailableException;
import io.unidist.Delivery;
import io.unidist.LockLease;
import io.unidist.MessageQueue;
import io.unidist.QueueOptions;
import io.unidist.SharedCounter;
import io.unidist.SharedLock;
import io.unidist.SharedState;
import io.unidist.Unidist;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The workload of a fault run: on every node, a few threads that pick operations over every
 * primitive at random (from the run's seed) and record each call with its start and end time
 * and outcome ({@link FaultHistories} lists the records):
 * <ul>
 *   <li>two counters: increments and reads;
 *   <li>a state bucket whose keys rotate, so that each key's history stays small enough for
 *       the exhaustive linearizability search: puts, compare-and-sets, gets;
 *   <li>a lock and a semaphore of 2 permits, whose holders use the resource for a moment and
 *       record the use only if their lease was still valid after it;
 *   <li>a queue with a short visibility timeout: unique messages offered, polled, then
 *       acknowledged or given back; drained at the end ({@link #drain}).
 * </ul>
 * A call that fails has an unknown outcome, recorded as such where a checker can use it.
 */
final class FaultWorkload {
    static final String[] COUNTERS = {"c0", "c1"};
    static final String BUCKET = "s";
    static final String MUTEX = "mutex";
    static final String SEMAPHORE = "sem";
    static final int SEMAPHORE_PERMITS = 2;
    static final String QUEUE = "q";
    /** Short, so that a delivery lost in a fault comes back within the run. */
    static final QueueOptions QUEUE_OPTIONS = QueueOptions.defaults().withVisibilityTimeout(Duration.ofSeconds(3))
            .withMaxAttempts(5);
    static final int KEYS_AT_ONCE = 8;
    static final long KEY_MILLIS = 500;

    /** What a call came to. */
    enum Outcome { OK, UNAVAILABLE, TIMEOUT, NODE_DOWN }

    /** Where the records go: the histories in this JVM, or lines on a child's standard output. */
    interface Recorder {
        void record(String type, String... fields);
    }

    /** The nodes a workload drives: those of this JVM, or the one node of a child process. */
    interface Host {
        /** The nodes whose workers run here. */
        List<String> workloadNodes();

        /** The node if it runs now, else null. */
        Unidist node(String name);

        /** Holds a worker while its node is stalled. */
        void awaitRunning(String name) throws InterruptedException;

        int workersPerNode();

        /** Part of every id this workload makes: unique per process, so that a restarted one makes new ids. */
        default String incarnation() {
            return "";
        }

        /**
         * How long a worker waits after each operation: none for a fault run (as fast as the
         * cluster answers); a scale run paces every node like a light, steady user.
         */
        default long pauseNanos() {
            return 0;
        }
    }

    private final Host host;
    private final Recorder rec;
    private final long seed;
    private final KeyRing keys = new KeyRing();
    private final AtomicLong deliveries = new AtomicLong();
    /** Every state key this workload used: read back at the end, after every crash and restart. */
    private final java.util.Set<String> touched = ConcurrentHashMap.newKeySet();

    FaultWorkload(Host host, Recorder rec, long seed) {
        this.host = host;
        this.rec = rec;
        this.seed = seed;
    }

    /** Starts every node's workers; they run until {@code stop}. */
    List<Future<?>> start(ExecutorService pool, AtomicBoolean stop) {
        List<Future<?>> futures = new ArrayList<>();
        for (String node : host.workloadNodes()) {
            for (int w = 0; w < host.workersPerNode(); w++) {
                Random r = new Random(seed * 31 + node.hashCode() * 17L + w);
                String worker = node + host.incarnation() + "/" + w;
                futures.add(pool.submit(() -> {
                    work(node, worker, r, stop);
                    return null;
                }));
            }
        }
        return futures;
    }

    private void work(String node, String worker, Random r, AtomicBoolean stop) throws InterruptedException {
        long seq = 0;
        while (!stop.get()) {
            host.awaitRunning(node);
            Unidist n = host.node(node);
            if (n == null) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // pacing while the node is down
                continue;
            }
            seq++;
            int pick = r.nextInt(100);
            String primitive = pick < 30 ? "counter" : pick < 60 ? "state" : pick < 80 ? "lock" : "queue";
            long start = System.nanoTime();
            Outcome outcome;
            try {
                outcome = switch (primitive) {
                    case "counter" -> counterOp(n, node, r);
                    case "state" -> stateOp(n, worker, seq, r);
                    case "lock" -> lockOp(n, node, r);
                    default -> queueOp(n, node, worker, seq, r);
                };
            } catch (ClusterUnavailableException e) {
                outcome = Outcome.UNAVAILABLE; // opening the primitive (a session, a declaration) found no quorum
            } catch (IllegalStateException e) {
                if (!isClosedNode(n)) {
                    throw e; // not a closed node: a real error
                }
                outcome = Outcome.NODE_DOWN; // crashed under the call
            }
            rec.record("o", primitive, outcome.name(), s(start), s(System.nanoTime()));
            long pause = host.pauseNanos();
            if (pause > 0) {
                LockSupport.parkNanos(pause); // pacing of the load, not synchronisation
            }
        }
    }

    private static boolean isClosedNode(Unidist n) {
        return n instanceof ClusterNode c && c.isClosed();
    }

    private Outcome counterOp(Unidist n, String node, Random r) {
        String name = COUNTERS[r.nextInt(COUNTERS.length)];
        SharedCounter c = n.counter(name);
        boolean read = r.nextInt(4) == 0;
        long start = System.nanoTime();
        try {
            long v = read ? c.get() : c.incrementAndGet();
            rec.record(read ? "cr" : "ci", name, s(start), s(System.nanoTime()), s(v), node);
            return Outcome.OK;
        } catch (ClusterUnavailableException e) {
            return Outcome.UNAVAILABLE; // unknown: bounds nothing
        }
    }

    private Outcome stateOp(Unidist n, String worker, long seq, Random r) {
        SharedState<String> st = n.state(BUCKET, String.class);
        String key = keys.pick(r);
        touched.add(key);
        int kind = r.nextInt(3);
        String value = worker + "#" + seq;
        String expected = keys.lastSeen(key);
        long start = System.nanoTime();
        if (kind == 0) {
            rec.record("i", value, "spu", key, s(start), value);
        } else if (kind == 1) {
            rec.record("i", value, "sru", key, s(start), expected, value);
        }
        try {
            switch (kind) {
                case 0 -> {
                    st.put(key, value);
                    rec.record("sp", key, s(start), s(System.nanoTime()), value);
                }
                case 1 -> {
                    boolean ok = st.replace(key, expected, value);
                    rec.record("sr", key, s(start), s(System.nanoTime()), expected, value, Boolean.toString(ok));
                }
                default -> {
                    Optional<String> seen = st.get(key);
                    rec.record("sg", key, s(start), s(System.nanoTime()), seen.orElse("-"));
                    seen.ifPresent(v -> keys.saw(key, v));
                }
            }
            return Outcome.OK;
        } catch (ClusterUnavailableException e) {
            // the write may still commit later, or never: the search tries both
            if (kind == 0) {
                rec.record("spu", key, s(start), value);
            } else if (kind == 1) {
                rec.record("sru", key, s(start), expected, value);
            }
            return Outcome.UNAVAILABLE;
        }
    }

    private Outcome lockOp(Unidist n, String node, Random r) throws InterruptedException {
        boolean mutex = r.nextBoolean();
        String name = mutex ? MUTEX : SEMAPHORE;
        int permits = mutex ? 1 : SEMAPHORE_PERMITS;
        SharedLock lock = mutex ? n.lock(name) : n.semaphore(name, permits);
        long start = System.nanoTime();
        LockLease lease;
        try {
            lease = lock.acquire(Duration.ofSeconds(1));
        } catch (TimeoutException e) {
            rec.record("ln", node, name, s(permits), s(start), s(System.nanoTime()), "TIMED_OUT");
            return Outcome.TIMEOUT;
        } catch (ClusterUnavailableException e) {
            rec.record("ln", node, name, s(permits), s(start), s(System.nanoTime()), "UNAVAILABLE");
            return Outcome.UNAVAILABLE;
        }
        long token = lease.fencingToken();
        rec.record("lg", node, name, s(permits), s(start), s(System.nanoTime()), s(token));
        long useStart = System.nanoTime();
        // the work under the lease; a stalled node stalls here, mid-use, like a paused process
        host.awaitRunning(node);
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1 + r.nextInt(10)));
        host.awaitRunning(node);
        long useEnd = System.nanoTime();
        if (lease.isValid()) {
            rec.record("lu", node, name, s(token), s(useStart), s(useEnd));
        }
        long releaseStart = System.nanoTime();
        boolean released = true;
        try {
            lease.close();
        } catch (ClusterUnavailableException e) {
            released = false; // the lease ends with the session if the release never arrives
        }
        rec.record("lr", node, name, s(token), s(releaseStart), s(System.nanoTime()), Boolean.toString(released));
        return released ? Outcome.OK : Outcome.UNAVAILABLE;
    }

    private Outcome queueOp(Unidist n, String node, String worker, long seq, Random r) throws InterruptedException {
        MessageQueue<String> q = n.queue(QUEUE, String.class, QUEUE_OPTIONS);
        if (r.nextBoolean()) {
            String id = worker + "#" + seq;
            long start = System.nanoTime();
            rec.record("i", id, "qo", QUEUE, id, s(start), s(start), "UNKNOWN");
            try {
                q.offer(id);
                rec.record("qo", QUEUE, id, s(start), s(System.nanoTime()), "OK");
                return Outcome.OK;
            } catch (ClusterUnavailableException e) {
                rec.record("qo", QUEUE, id, s(start), s(System.nanoTime()), "UNKNOWN");
                return Outcome.UNAVAILABLE;
            }
        }
        long start = System.nanoTime();
        Optional<Delivery<String>> d;
        try {
            d = q.poll(Duration.ofMillis(200));
        } catch (ClusterUnavailableException e) {
            return Outcome.UNAVAILABLE; // a delivery it may have made comes back after the visibility timeout
        }
        if (d.isEmpty()) {
            return Outcome.OK;
        }
        String delivery = node + host.incarnation() + "-d" + deliveries.incrementAndGet();
        rec.record("qd", QUEUE, d.get().message(), delivery, node, s(start), s(System.nanoTime()));
        host.awaitRunning(node);
        return answer(d.get(), QUEUE, delivery, r.nextInt(8) != 0);
    }

    /** Acknowledges or gives back a delivery and records how that went. */
    private Outcome answer(Delivery<String> d, String queue, String delivery, boolean ack) {
        long start = System.nanoTime();
        String type = ack ? "qa" : "qn";
        // announced: a process killed after the ack took effect but before its result was
        // recorded must not make the checker expect the message to come back
        rec.record("i", delivery, type, queue, delivery, s(start), s(start), "UNKNOWN");
        try {
            if (ack) {
                d.ack();
            } else {
                d.nack();
            }
            rec.record(type, queue, delivery, s(start), s(System.nanoTime()), "OK");
            return Outcome.OK;
        } catch (ClusterUnavailableException e) {
            rec.record(type, queue, delivery, s(start), s(System.nanoTime()), "UNKNOWN");
            return Outcome.UNAVAILABLE;
        } catch (IllegalStateException e) {
            if (e.getMessage() == null || !e.getMessage().contains("superseded")) {
                throw e; // the node was closed under the call: the caller sorts that out
            }
            // the visibility timeout ended first and the message went to another delivery
            rec.record(type, queue, delivery, s(start), s(System.nanoTime()), "FAILED");
            return Outcome.OK;
        }
    }

    /**
     * After the heal: reads back every state key this workload used, recording each get, so
     * that a write lost in a crash (of every node, too) shows as a stale read.
     */
    void readBack(Unidist node) {
        SharedState<String> st = node.state(BUCKET, String.class);
        for (String key : new java.util.TreeSet<>(touched)) {
            while (true) {
                long start = System.nanoTime();
                try {
                    Optional<String> seen = st.get(key);
                    rec.record("sg", key, s(start), s(System.nanoTime()), seen.orElse("-"));
                    break;
                } catch (ClusterUnavailableException e) {
                    // the cluster is still settling after the heal: ask again
                }
            }
        }
    }

    /**
     * After the heal: polls the queue and its dead letters from {@code node} until a poll that
     * waits longer than the visibility timeout finds nothing, acknowledging and recording all.
     */
    void drain(Unidist node, String nodeName) throws InterruptedException {
        for (String queue : List.of(QUEUE, QUEUE + ".dead")) {
            // a dead-letter queue is made with its queue's options
            MessageQueue<String> q = node.queue(queue, String.class, QUEUE_OPTIONS);
            long start = System.nanoTime();
            Duration wait = QUEUE_OPTIONS.visibilityTimeout().plusSeconds(1);
            while (true) {
                long pollStart = System.nanoTime();
                Optional<Delivery<String>> d;
                try {
                    d = q.poll(wait);
                } catch (ClusterUnavailableException e) {
                    continue; // the cluster is still settling after the heal
                }
                if (d.isEmpty()) {
                    break;
                }
                String delivery = nodeName + host.incarnation() + "-drain" + deliveries.incrementAndGet();
                rec.record("qd", queue, d.get().message(), delivery, nodeName, s(pollStart), s(System.nanoTime()));
                answer(d.get(), queue, delivery, true);
            }
            rec.record("qx", queue, s(start), s(System.nanoTime()));
        }
    }

    private static String s(long v) {
        return Long.toString(v);
    }

    /**
     * The state keys in use: {@value #KEYS_AT_ONCE} at a time, named after the current
     * {@value #KEY_MILLIS} ms of the machine's monotonic clock, so that every node and process
     * writes the same few keys at a time and no key's history grows past what the checker
     * can search (at most 63 operations on a key: about 1,000 state operations a second would reach it;
     * 4 processes on 2 cores made about 140).
     */
    private static final class KeyRing {
        private final Map<String, String> lastSeen = new ConcurrentHashMap<>();

        String pick(Random r) {
            return "k" + System.nanoTime() / TimeUnit.MILLISECONDS.toNanos(KEY_MILLIS) + "-" + r.nextInt(KEYS_AT_ONCE);
        }

        /** The last value a get saw under {@code key}, or one never written (a compare-and-set that must fail). */
        String lastSeen(String key) {
            return lastSeen.getOrDefault(key, "never-written");
        }

        void saw(String key, String value) {
            lastSeen.put(key, value);
        }
    }
}
