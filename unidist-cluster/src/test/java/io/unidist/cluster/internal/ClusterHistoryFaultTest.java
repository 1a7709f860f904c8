package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.SharedCounter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Linearizability of one counter ({@link CounterHistory}: unique values, increments in real-time
 * order, no stale read, reads that never go backwards) while every node of a 3-voter,
 * 2-non-voter cluster increments and reads it through a 2|3 partition and its healing. (A kill -9
 * of every node and their restart is a fault of {@code FaultSuiteTest}'s process run.)
 */
@Tag("faults")
class ClusterHistoryFaultTest {
    private static final int READ_EVERY = 3;
    /** Short, so that calls cut off by the faults fail fast and the workers go on. */
    private static final Duration TIMEOUT = Duration.ofSeconds(3);

    @TempDir
    Path dir;
    private TestCluster cluster;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final CounterHistory history = new CounterHistory();
    private final AtomicBoolean stop = new AtomicBoolean();
    /** The running node of each name, as the workers see it (absent while the node is down). */
    private final Map<String, ClusterNode> live = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> acked = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> failed = new ConcurrentHashMap<>();
    private final List<Future<?>> workers = new ArrayList<>();
    /** The faults injected, with their nanoTime, to place an anomaly. */
    private final List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        stop.set(true);
        pool.shutdownNow();
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aPartitionAndItsHealingKeepTheHistoryLinearizable() throws Exception {
        cluster = TestCluster.start(dir, 3, 2, TIMEOUT);
        startWorkers();
        awaitEveryNodeAcks(10, Duration.ofSeconds(30));

        Set<String> minority = Set.of("v1", "n1");
        cluster.partition(minority);
        event("partition " + minority);
        int failedOnMinority = failed("v1") + failed("n1");
        await().atMost(Duration.ofSeconds(30)).until(() -> failed("v1") + failed("n1") > failedOnMinority + 2);
        int majorityAcked = acked("v2") + acked("v3") + acked("n2");
        await().atMost(Duration.ofSeconds(30)).until(() -> acked("v2") + acked("v3") + acked("n2") >= majorityAcked + 50);

        cluster.heal();
        event("heal");
        awaitEveryNodeAcks(10, Duration.ofSeconds(60));
        stopWorkersAndCheck();
    }

    /** One worker per node, incrementing and reading counter "h" on whichever node of that name runs now. */
    private void startWorkers() {
        for (ClusterNode n : cluster.running()) {
            String name = n.nodeName();
            live.put(name, n);
            acked.put(name, new AtomicInteger());
            failed.put(name, new AtomicInteger());
            workers.add(history.drive(pool, name, () -> counter(name), READ_EVERY, stop, acked.get(name), failed.get(name)));
        }
    }

    private SharedCounter counter(String name) {
        ClusterNode n = live.get(name);
        return n == null ? null : n.counter("h");
    }

    /** Waits until every node has had {@code more} increments acknowledged since now. */
    private void awaitEveryNodeAcks(int more, Duration within) {
        Map<String, Integer> now = new ConcurrentHashMap<>();
        acked.forEach((name, count) -> now.put(name, count.get()));
        await().atMost(within).until(() -> now.keySet().stream().allMatch(name -> acked(name) >= now.get(name) + more));
    }

    private void stopWorkersAndCheck() throws Exception {
        stop.set(true);
        for (Future<?> w : workers) {
            w.get(60, TimeUnit.SECONDS);
        }
        String anomaly = history.check();
        assertNull(anomaly, () -> "history not linearizable: " + anomaly + "; faults at " + events);
        int totalAcked = acked.values().stream().mapToInt(AtomicInteger::get).sum();
        int totalFailed = failed.values().stream().mapToInt(AtomicInteger::get).sum();
        long finalValue = cluster.node("n1").counter("h").get();
        // a failed increment may or may not have been applied; an acknowledged one was
        assertTrue(finalValue >= totalAcked && finalValue <= totalAcked + totalFailed,
                "final " + finalValue + ", acknowledged " + totalAcked + ", failed " + totalFailed);
        for (ClusterNode n : cluster.running()) {
            assertEquals(finalValue, n.counter("h").get(), "node " + n.nodeName() + " reads another value");
        }
        cluster.awaitReplicasAgree(Duration.ofSeconds(30));
    }

    private void event(String what) {
        events.add(what + " at " + System.nanoTime());
    }

    private int acked(String name) {
        return acked.get(name).get();
    }

    private int failed(String name) {
        return failed.get(name).get();
    }
}
