package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.unidist.LockLease;
import io.unidist.SharedLock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A waiter that gives up while its requests are lost (sent to a leader that crashed) cannot
 * cancel its place in line; when
 * the lock is later granted to that place, the grant reaches a node where no acquire waits
 * any more. The node must release it, or the permit stays held for as long as the node lives.
 */
class ClusterLockOrphanTest {
    @RegisterExtension
    static final ClusterExtension CLUSTER = new ClusterExtension(3, 1);

    @Test
    void aGrantNoAcquireWaitsForIsReleased() throws Exception {
        SharedLock onV1 = CLUSTER.node("v1").lock("orphan");
        LockLease held = onV1.acquire(Duration.ofSeconds(5));
        ClusterNode n1 = CLUSTER.node("n1");
        AtomicInteger outcome = new AtomicInteger();
        Thread waiter = new Thread(() -> {
            try {
                n1.lock("orphan").acquire(Duration.ofSeconds(60)).close();
                outcome.set(1);
            } catch (InterruptedException e) {
                outcome.set(2);
            } catch (TimeoutException | RuntimeException e) {
                outcome.set(3);
            }
        });
        waiter.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> waiter.getState() == Thread.State.TIMED_WAITING
                || waiter.getState() == Thread.State.WAITING);
        long session = n1.session().currentId();
        SlowRequests lost = new SlowRequests(0).dropping(true);
        n1.mainChannel().getProtocolStack().insertProtocolAtTop(lost);
        waiter.interrupt(); // its cancel never reaches the cluster: n1 keeps its place in line
        waiter.join(10_000);
        lost.dropping(false);
        assertEquals(2, outcome.get(), "the waiter ended with InterruptedException");
        held.close(); // the lock goes to n1's abandoned place
        SharedLock onV2 = CLUSTER.node("v2").lock("orphan");
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            Optional<LockLease> got = onV2.tryAcquire();
            got.ifPresent(LockLease::close);
            return got.isPresent();
        });
        // had n1's session ended meanwhile, its end would have freed the permit instead
        assumeTrue(n1.session().currentId() == session, "n1's session ended during the test");
    }
}
