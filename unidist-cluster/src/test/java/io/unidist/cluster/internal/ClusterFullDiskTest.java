package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.ClusterUnavailableException;
import io.unidist.SharedCounter;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk under the voters' Raft logs, made by failing their writes on demand
 * ({@link UnidistRaftLog#faults}; a small file system cannot be mounted without root here). The
 * failure comes before anything is written, as when the file system refuses to grow the file.
 *
 * <p>What it proves: when the leader's disk fills mid-workload it steps down, another voter
 * leads, the workload goes on, and once its disk has room it catches up; when every voter's
 * disk is full a write fails at the client with an error that names the disk, and writes work
 * again once there is room. In both, every acknowledged increment is in the counter, none is
 * applied twice, and the replicas agree byte for byte.
 */
class ClusterFullDiskTest {
    private static final String FULL = "No space left on device (injected by the test)";

    @TempDir
    Path dir;
    private TestCluster cluster;
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        pool.shutdownNow();
        if (cluster != null) {
            cluster.close();
        }
    }

    private void fillDisk(String voter, boolean full) {
        UnidistRaftLog log = ((UnidistRaft) cluster.node(voter).server().raft()).unidistLog();
        log.faults(full ? (d, what) -> {
            throw new IOException(FULL);
        } : null);
    }

    /** Increments from {@code threads} threads on n1, recording every value handed out. */
    private Future<?> increment(int threads, Set<Long> acked, AtomicInteger failed, AtomicBoolean stop) {
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(pool.submit(() -> {
                SharedCounter c = cluster.node("n1").counter("c");
                while (!stop.get()) {
                    try {
                        assertTrue(acked.add(c.incrementAndGet()), "a value was handed out twice");
                    } catch (ClusterUnavailableException e) {
                        failed.incrementAndGet(); // outcome unknown: applied at most once, maybe not at all
                    }
                }
                return null;
            }));
        }
        return pool.submit(() -> {
            for (Future<?> w : workers) {
                w.get();
            }
            return null;
        });
    }

    /** Every acknowledged value is at most the final one, and the final one counts no call twice. */
    private void assertNothingLost(Set<Long> acked, int failed) {
        long value = cluster.node("v1").counter("c").get();
        for (long v : acked) {
            assertTrue(v <= value, "acknowledged value " + v + " is above the final " + value);
        }
        assertTrue(value >= acked.size() && value <= acked.size() + failed,
                "final value " + value + " for " + acked.size() + " acknowledged and " + failed + " failed increments");
        cluster.awaitReplicasAgree(Duration.ofSeconds(30));
    }

    @Test
    void aLeaderWhoseDiskFillsStepsDownTheWorkloadGoesOnAndItCatchesUpWhenThereIsRoom() throws Exception {
        cluster = TestCluster.start(dir, 3, 1, Duration.ofSeconds(10));
        String leader = cluster.awaitLeader();
        Set<Long> acked = ConcurrentHashMap.newKeySet();
        AtomicInteger failed = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        Future<?> workload = increment(3, acked, failed, stop);
        await().atMost(Duration.ofSeconds(20)).until(() -> acked.size() >= 50);

        fillDisk(leader, true);
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            String now = cluster.awaitLeader();
            return !now.equals(leader);
        });
        int atNewLeader = acked.size();
        await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() >= atNewLeader + 50);
        assertTrue(((UnidistRaft) cluster.node(leader).server().raft()).recentWriteFailure().contains(FULL));

        fillDisk(leader, false);
        int atRoom = acked.size();
        await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() >= atRoom + 50);
        stop.set(true);
        workload.get(60, TimeUnit.SECONDS);
        assertNothingLost(acked, failed.get());
    }

    @Test
    void whenEveryVotersDiskIsFullWritesFailNamingItAndWorkAgainWhenThereIsRoom() throws Exception {
        cluster = TestCluster.start(dir, 3, 1, Duration.ofSeconds(3));
        SharedCounter c = cluster.node("n1").counter("c");
        for (int i = 1; i <= 20; i++) {
            assertEquals(i, c.incrementAndGet());
        }
        for (String v : cluster.voters()) {
            fillDisk(v, true);
        }
        ClusterUnavailableException e = assertThrows(ClusterUnavailableException.class, c::incrementAndGet);
        assertTrue(e.getMessage().contains(FULL) && e.getMessage().contains("could not write entries"), e.getMessage());
        assertTrue(e.getMessage().contains(dir.toString()), "the error names the log's directory: " + e.getMessage());

        for (String v : cluster.voters()) {
            fillDisk(v, false);
        }
        long[] next = new long[1];
        AtomicInteger attempts = new AtomicInteger(1); // the one that failed above
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            try {
                next[0] = c.incrementAndGet();
                return true;
            } catch (ClusterUnavailableException stillElecting) {
                attempts.incrementAndGet();
                return false;
            }
        });
        // 20 acknowledged before, none lost; each failed call applied at most once (its outcome was unknown)
        assertTrue(next[0] >= 21 && next[0] <= 21 + attempts.get(), next[0] + " after " + attempts + " failed calls");
        assertNotEquals(null, cluster.awaitLeader());
        cluster.awaitReplicasAgree(Duration.ofSeconds(30));
        assertEquals(next[0], cluster.node("v2").counter("c").get());
    }
}
