package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.ClusterUnavailableException;
import io.unidist.LockLease;
import io.unidist.SharedCounter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clusters of 1 and 2 voters, with the guarantee {@link io.unidist.cluster.ClusterConfig} documents:
 * "With 1 voter there is no fault tolerance: when it is down, every call fails with
 * ClusterUnavailableException; with 2 voters both must be up." Both sizes count and lock
 * correctly while their voters are up; losing a voter makes every call, reads included, fail
 * with {@link ClusterUnavailableException} within the operation timeout (never a stale answer);
 * when the voter returns the cluster works again with nothing lost and the lock free.
 */
class ClusterFewVotersTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    /** Room for a loaded machine above the operation timeout. */
    private static final Duration SLACK = Duration.ofMillis(1500);

    @TempDir
    Path dir;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void oneVoterCountsAndLocksAndIsUnavailableOnlyWhileItIsDown() throws Exception {
        cluster = TestCluster.start(dir, 1, 1, TIMEOUT);
        long token = countAndLock(5);
        cluster.crash("v1");
        assertUnavailable(cluster.node("n1").counter("c"));
        cluster.startNode("v1");
        assertWorksAgain(5, token);
    }

    @Test
    void twoVotersCountAndLockAndEitherOneDownMakesThemUnavailableUntilItReturns() throws Exception {
        cluster = TestCluster.start(dir, 2, 1, TIMEOUT);
        long token = countAndLock(5);
        String leader = cluster.awaitLeader();
        String follower = leader.equals("v1") ? "v2" : "v1";

        cluster.crash(follower); // the leader is up but alone: it cannot commit nor confirm it still leads
        assertUnavailable(cluster.node("n1").counter("c"));
        assertUnavailable(cluster.node(leader).counter("c"));
        cluster.startNode(follower);
        token = assertWorksAgain(5, token);

        String leaderNow = cluster.awaitLeader();
        cluster.crash(leaderNow);
        assertUnavailable(cluster.node("n1").counter("c"));
        cluster.startNode(leaderNow);
        assertWorksAgain(6, token);
    }

    /**
     * Counts to {@code count} from the non-voter and the first voter, and checks that the lock
     * excludes: a second node cannot take it while it is held, and gets a larger token after.
     * Returns the last token.
     */
    private long countAndLock(int count) throws Exception {
        SharedCounter fromNonVoter = cluster.node("n1").counter("c");
        SharedCounter fromVoter = cluster.node("v1").counter("c");
        for (int i = 1; i <= count; i++) {
            assertEquals(i, (i % 2 == 0 ? fromVoter : fromNonVoter).incrementAndGet());
        }
        assertEquals(count, fromVoter.get());
        LockLease first = cluster.node("n1").lock("l").acquire(TIMEOUT);
        assertTrue(cluster.node("v1").lock("l").tryAcquire().isEmpty(), "a held lock was granted again");
        assertEquals(List.of("n1"), cluster.node("v1").lock("l").holders().stream().map(h -> h.node()).toList());
        first.close();
        try (LockLease second = cluster.node("v1").lock("l").acquire(TIMEOUT)) {
            assertTrue(second.fencingToken() > first.fencingToken());
            return second.fencingToken();
        }
    }

    @Test
    void aLockCallWithoutQuorumFailsWithinTheOperationTimeout() throws Exception {
        cluster = TestCluster.start(dir, 1, 1, TIMEOUT);
        countAndLock(1);
        cluster.crash("v1");
        assertUnavailableInTime(() -> cluster.node("n1").lock("l").tryAcquire(), "a tryAcquire");
        assertUnavailableInTime(() -> cluster.node("n1").lock("l").acquire(Duration.ofMillis(500)), "an acquire");
    }

    /** A read and an increment both fail with ClusterUnavailableException, each within the operation timeout. */
    private static void assertUnavailable(SharedCounter counter) {
        assertUnavailableInTime(counter::get, "a read");
        assertUnavailableInTime(counter::incrementAndGet, "an increment");
    }

    private static void assertUnavailableInTime(Executable call, String what) {
        long start = System.nanoTime();
        ClusterUnavailableException e = assertThrows(ClusterUnavailableException.class, call, what);
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(tookMillis <= TIMEOUT.plus(SLACK).toMillis(), what + " failed after " + tookMillis + " ms: " + e);
    }

    /**
     * Waits until the counter reads {@code expected} again (a read has no side effect, unlike an
     * increment whose outcome a timeout leaves unknown), then checks that the next increment
     * follows and the lock is free with a larger token. Returns that token.
     */
    private long assertWorksAgain(long expected, long lastToken) throws Exception {
        cluster.awaitLeader();
        SharedCounter c = cluster.node("n1").counter("c");
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> c.get() == expected);
        assertEquals(expected + 1, c.incrementAndGet());
        try (LockLease again = cluster.node("n1").lock("l").acquire(TIMEOUT)) {
            assertTrue(again.fencingToken() > lastToken);
            return again.fencingToken();
        }
    }
}
