package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.LeaseInfo;
import io.unidist.LockLease;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.jgroups.protocols.FD_ALL3;
import org.jgroups.protocols.VERIFY_SUSPECT;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that shuts down cleanly ({@code close()}) releases its leases in the cluster before it
 * leaves: a waiter on another node gets the lock, or the semaphore permit, with a larger
 * fencing token well within the failure-detection time (which is what a crash costs), whether
 * the closing node is a non-voter or the Raft leader itself.
 */
class ClusterCleanCloseTest {
    @TempDir
    Path dir;
    private TestCluster cluster;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    /** Half of the time a crashed holder may keep its lease on this stack: a clean close must be well inside it. */
    private long promptMillis;

    @BeforeEach
    void start() {
        cluster = TestCluster.start(dir, 3, 2);
        FD_ALL3 fd = cluster.node("n1").mainChannel().getProtocolStack().findProtocol(FD_ALL3.class);
        VERIFY_SUSPECT verify = cluster.node("n1").mainChannel().getProtocolStack().findProtocol(VERIFY_SUSPECT.class);
        promptMillis = (fd.getTimeout() + verify.getTimeout()) / 2;
    }

    @AfterEach
    void stop() {
        pool.shutdownNow();
        cluster.close();
    }

    @Test
    void aNonVoterThatClosesHandsItsLockAndItsPermitToWaitersOnAnotherNode() throws Exception {
        LockLease lock = cluster.node("n1").lock("migration").acquire(Duration.ofSeconds(10));
        LockLease permit = cluster.node("n1").semaphore("pool", 2).acquire(Duration.ofSeconds(10));
        LockLease otherPermit = cluster.node("v2").semaphore("pool", 2).acquire(Duration.ofSeconds(10));
        Future<LockLease> lockWaiter = waitFor("n2", "migration", 1);
        Future<LockLease> permitWaiter = waitFor("n2", "pool", 2);

        long closedAt = System.nanoTime();
        cluster.node("n1").close();
        assertHandedOver(lockWaiter, lock, closedAt);
        assertHandedOver(permitWaiter, permit, closedAt);

        assertFalse(lock.isValid() || permit.isValid(), "a closed node's leases are no longer valid");
        assertEquals(Set.of("n2"), holders("migration", 1));
        assertEquals(Set.of("v2", "n2"), holders("pool", 2));
        assertTrue(otherPermit.isValid(), "the other node's permit was not touched");
    }

    @Test
    void theLeaderThatClosesHandsItsLockToAWaiterOnANonVoter() throws Exception {
        String leader = cluster.awaitLeader();
        LockLease lock = cluster.node(leader).lock("migration").acquire(Duration.ofSeconds(10));
        Future<LockLease> waiter = waitFor("n2", "migration", 1);

        long closedAt = System.nanoTime();
        cluster.node(leader).close();
        assertHandedOver(waiter, lock, closedAt); // the grant needs a new leader too
        assertEquals(Set.of("n2"), holders("migration", 1));
    }

    /** An acquire from {@code node} that waits behind the current holder(s). */
    private Future<LockLease> waitFor(String node, String lock, int permits) {
        Future<LockLease> waiter = pool.submit(() -> cluster.node(node).semaphore(lock, permits).acquire(Duration.ofSeconds(30)));
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !waiter.isDone());
        return waiter;
    }

    private void assertHandedOver(Future<LockLease> waiter, LockLease released, long closedAt) throws Exception {
        LockLease next = waiter.get(30, TimeUnit.SECONDS);
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closedAt);
        assertTrue(tookMillis < promptMillis, "granted " + tookMillis + " ms after the close; a crash costs "
                + 2 * promptMillis + " ms or more");
        assertTrue(next.fencingToken() > released.fencingToken(),
                "token " + next.fencingToken() + " after " + released.fencingToken());
        assertTrue(next.isValid());
    }

    private Set<String> holders(String lock, int permits) {
        return cluster.node("n2").semaphore(lock, permits).holders().stream().map(LeaseInfo::node).collect(Collectors.toSet());
    }
}
