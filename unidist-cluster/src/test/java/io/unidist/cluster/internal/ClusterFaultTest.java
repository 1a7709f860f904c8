package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.ClusterUnavailableException;
import io.unidist.LockLease;
import io.unidist.SharedCounter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster under the faults the design must survive, in one JVM: a leader that crashes in a
 * stream of increments, a lock holder that crashes or is cut off, a 2|3 partition and its
 * healing, and a restart of the whole cluster. Counter histories are checked for
 * linearizability ({@link CounterHistory}).
 */
@Tag("faults")
class ClusterFaultTest {
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

    /** Increments from several nodes, recording the history, until told to stop. */
    private List<Future<?>> incrementers(List<String> nodes, String counter, CounterHistory history,
            AtomicBoolean stop, AtomicInteger acked) {
        List<Future<?>> futures = new ArrayList<>();
        for (String name : nodes) {
            SharedCounter c = cluster.node(name).counter(counter);
            futures.add(pool.submit(() -> {
                while (!stop.get()) {
                    long start = System.nanoTime();
                    try {
                        long v = c.incrementAndGet();
                        history.increment(start, System.nanoTime(), v);
                        acked.incrementAndGet();
                    } catch (ClusterUnavailableException e) {
                        unknownOutcomes.incrementAndGet(); // applied once or not at all
                    }
                    if (acked.get() % 7 == 0) {
                        long rs = System.nanoTime();
                        try {
                            long v = c.get();
                            history.read(rs, System.nanoTime(), v);
                        } catch (ClusterUnavailableException e) {
                            // a read that failed says nothing
                        }
                    }
                }
                return null;
            }));
        }
        return futures;
    }

    /** Increments that failed with ClusterUnavailableException: each may or may not have been applied. */
    private final AtomicInteger unknownOutcomes = new AtomicInteger();

    @Test
    void aLeaderCrashInAStreamOfIncrementsLosesAndDuplicatesNothing() throws Exception {
        cluster = TestCluster.start(dir, 3, 2);
        String leader = cluster.awaitLeader();
        List<String> clients = new ArrayList<>(List.of("n1", "n2"));
        cluster.voters().stream().filter(v -> !v.equals(leader)).findFirst().ifPresent(clients::add);
        CounterHistory history = new CounterHistory();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger acked = new AtomicInteger();
        List<Future<?>> workers = incrementers(clients, "ids", history, stop, acked);
        await().atMost(Duration.ofSeconds(30)).until(() -> acked.get() >= 100);
        cluster.crash(leader);
        int atCrash = acked.get();
        await().atMost(Duration.ofSeconds(60)).until(() -> acked.get() >= atCrash + 100);
        stop.set(true);
        for (Future<?> f : workers) {
            f.get(60, TimeUnit.SECONDS);
        }
        assertNull(history.check(), "history not linearizable");
        long finalValue = cluster.node("n1").counter("ids").get();
        assertTrue(finalValue >= acked.get(), "final " + finalValue + " < acknowledged " + acked.get());
        // a retried increment applied twice would push the value past every call that could have added one
        assertTrue(finalValue <= acked.get() + unknownOutcomes.get(),
                "final " + finalValue + " > acknowledged " + acked.get() + " + unknown " + unknownOutcomes.get());
        for (ClusterNode n : cluster.running()) {
            assertEquals(finalValue, n.counter("ids").get(), "node " + n.nodeName() + " sees another value");
        }
        assertFalse(leader.equals(cluster.awaitLeader()));
        cluster.awaitReplicasAgree(Duration.ofSeconds(30));
    }

    @Test
    void aWriteSentAgainOnASlowLinkIsAppliedOnceAndTheLateAnswerEndsTheCall() throws Exception {
        cluster = TestCluster.start(dir, 3, 1);
        ClusterNode client = cluster.node("n1");
        assertEquals(1, client.counter("once").incrementAndGet());
        // every request from n1 arrives 2.5 s late: past the client's 2 s per attempt, so it sends each command
        // again, and the leader gets every command twice; the answer to the first send ends the call
        SlowRequests delay = new SlowRequests(2500);
        client.mainChannel().getProtocolStack().insertProtocolAtTop(delay);
        long resendsBefore = client.client().resends();
        try {
            assertEquals(2, client.counter("once").incrementAndGet());
            assertEquals(3, client.counter("once").incrementAndGet());
        } finally {
            client.mainChannel().getProtocolStack().removeProtocol(delay);
            delay.destroy();
        }
        assertTrue(client.client().resends() >= resendsBefore + 2, "no command was sent again");
        assertEquals(3, cluster.node("v1").counter("once").get());
    }

    @Test
    void aVoterThatRestartsUnderLoadCatchesUpAndCanCarryTheQuorum() throws Exception {
        cluster = TestCluster.start(dir, 3, 1);
        String leader = cluster.awaitLeader();
        String restarted = cluster.voters().stream().filter(v -> !v.equals(leader)).findFirst().orElseThrow();
        CounterHistory history = new CounterHistory();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger acked = new AtomicInteger();
        List<Future<?>> workers = incrementers(List.of("n1"), "ids", history, stop, acked);
        await().atMost(Duration.ofSeconds(30)).until(() -> acked.get() >= 50);
        cluster.crash(restarted);
        int whileDown = acked.get();
        await().atMost(Duration.ofSeconds(30)).until(() -> acked.get() >= whileDown + 200);
        cluster.startNode(restarted); // behind by hundreds of entries, with requests arriving all the time
        int afterRestart = acked.get();
        await().atMost(Duration.ofSeconds(30)).until(() -> acked.get() >= afterRestart + 100);
        // now the restarted voter is needed for every commit
        cluster.crash(leader);
        int afterCrash = acked.get();
        // failover is a few seconds; a voter that had not caught up would stall the group far longer
        await().atMost(Duration.ofSeconds(20)).until(() -> acked.get() >= afterCrash + 100);
        stop.set(true);
        for (Future<?> f : workers) {
            f.get(60, TimeUnit.SECONDS);
        }
        assertNull(history.check(), "history not linearizable");
    }

    @Test
    void aCrashedHoldersLockGoesToTheWaiterWithALargerToken() throws Exception {
        cluster = TestCluster.start(dir, 3, 2);
        LockLease held = cluster.node("n1").lock("migration").acquire(Duration.ofSeconds(10));
        Future<LockLease> waiter = pool.submit(() -> cluster.node("n2").lock("migration").acquire(Duration.ofSeconds(60)));
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !waiter.isDone());
        long crashedAt = System.nanoTime();
        cluster.crash("n1");
        LockLease next = waiter.get(30, TimeUnit.SECONDS);
        long took = System.nanoTime() - crashedAt;
        assertTrue(next.fencingToken() > held.fencingToken());
        assertTrue(took < TimeUnit.SECONDS.toNanos(10), "granted after " + TimeUnit.NANOSECONDS.toMillis(took) + " ms");
        assertTrue(next.isValid());
        assertEquals(List.of("n2"), cluster.node("v1").lock("migration").holders().stream().map(h -> h.node()).toList());
        next.close();
    }

    @Test
    void aHolderCutOffFromTheMajorityLosesItsLeaseBeforeAnyoneElseGetsIt() throws Exception {
        cluster = TestCluster.start(dir, 3, 2);
        LockLease held = cluster.node("n1").lock("job").acquire(Duration.ofSeconds(10));
        AtomicLong lostAt = new AtomicLong();
        held.onLost(() -> lostAt.set(System.nanoTime()));
        Future<LockLease> waiter = pool.submit(() -> cluster.node("n2").lock("job").acquire(Duration.ofSeconds(60)));
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !waiter.isDone());
        long cutAt = System.nanoTime();
        cluster.partition(Set.of("n1"));
        LockLease next = waiter.get(40, TimeUnit.SECONDS);
        long grantedAt = System.nanoTime();
        assertFalse(held.isValid(), "the cut-off holder still thinks it holds the lease");
        assertTrue(lostAt.get() != 0 && lostAt.get() < grantedAt, "the holder learned of the loss only after the new grant");
        // the promise: within the failure-detection time (at most 10 s by default; about 4.5 s in unidist-jvm.xml)
        assertTrue(lostAt.get() - cutAt < TimeUnit.SECONDS.toNanos(10),
                "lost after " + (lostAt.get() - cutAt) / 1_000_000 + " ms");
        assertTrue(next.fencingToken() > held.fencingToken());
        next.close();
    }

    @Test
    void theMinorityGetsUnavailableTheMajorityGoesOnAndHealingConverges() throws Exception {
        cluster = TestCluster.start(dir, 3, 2, Duration.ofSeconds(4));
        SharedCounter majority = cluster.node("n2").counter("c");
        SharedCounter minority = cluster.node("n1").counter("c");
        assertEquals(1, minority.incrementAndGet());
        cluster.partition(Set.of("v1", "n1"));
        long start = System.nanoTime();
        ClusterUnavailableException e = assertThrows(ClusterUnavailableException.class, () -> {
            // the first attempts may still reach a leader before the views split; within the timeout, it fails
            for (int i = 0; i < 100; i++) {
                minority.incrementAndGet();
            }
        });
        assertTrue(e.getMessage().contains("counter 'c'"), e.getMessage());
        // nothing commits on this side after the cut, so the call that fails is one of the first: within the
        // operation timeout (4 s), plus slack for a loaded machine
        long took = System.nanoTime() - start;
        assertTrue(took < TimeUnit.SECONDS.toNanos(4 + 3), "unavailable only after " + took / 1_000_000 + " ms");
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> majority.incrementAndGet() > 0);
        for (int i = 0; i < 10; i++) {
            majority.incrementAndGet();
        }
        long onMajority = majority.get();
        assertThrows(ClusterUnavailableException.class, minority::get, "a minority read must not answer");
        cluster.heal();
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> minority.get() == onMajority);
        assertEquals(onMajority + 1, minority.incrementAndGet());
        // the old leader may hold entries of its term that were never committed: it must not apply them
        cluster.awaitReplicasAgree(Duration.ofSeconds(30));
    }

    @Test
    void aWholeClusterRestartKeepsCountersAndFreesLocks() throws Exception {
        cluster = TestCluster.start(dir, 3, 1);
        cluster.node("n1").counter("ids").addAndGet(42);
        LockLease held = cluster.node("n1").lock("l").acquire(Duration.ofSeconds(10));
        for (String v : cluster.voters()) {
            cluster.crash(v);
        }
        cluster.crash("n1");
        for (String v : cluster.voters()) {
            cluster.startNode(v);
        }
        cluster.startNode("n1");
        cluster.awaitLeader();
        // the first answer after the restart already has no holder: a new leader's first entry ends every old session
        assertEquals(List.of(), cluster.node("n1").lock("l").holders());
        assertEquals(42, cluster.node("n1").counter("ids").get());
        try (LockLease again = cluster.node("n1").lock("l").tryAcquire().orElseThrow()) {
            assertTrue(again.fencingToken() > held.fencingToken());
        }
        assertEquals(43, cluster.node("n1").counter("ids").incrementAndGet());
    }
}
