package io.unidist.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.Delivery;
import io.unidist.LockLease;
import io.unidist.ManualTimeSource;
import io.unidist.MessageQueue;
import io.unidist.QueueOptions;
import io.unidist.SharedLock;
import io.unidist.Unidist;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.awaitility.Awaitility.await;

/** Delays, visibility timeouts and lock timeouts, driven by a time source the test moves. */
class ManualTimeTest {
    private final ManualTimeSource time = new ManualTimeSource();
    private final Unidist node = Unidist.builder().nodeName("manual").timeSource(time).build();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void close() {
        pool.shutdownNow();
        node.close();
    }

    @Test
    void aLockTimeoutPassesOnlyWhenTimeIsMoved() throws Exception {
        SharedLock lock = node.lock("l");
        LockLease held = lock.acquire(Duration.ZERO);
        Future<LockLease> waiter = pool.submit(() -> lock.acquire(Duration.ofMinutes(10)));
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> !waiter.isDone());
        time.advance(Duration.ofMinutes(9));
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> !waiter.isDone());
        time.advance(Duration.ofMinutes(1));
        ExecutionException e = assertThrows(ExecutionException.class, () -> waiter.get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof TimeoutException);
        assertTrue(held.isValid());
        assertEquals("manual", lock.holders().get(0).node());
        assertEquals(time.now(), lock.holders().get(0).since().plus(Duration.ofMinutes(10)));
    }

    @Test
    void aDelayedMessageAppearsWhenItsTimeComes() throws Exception {
        MessageQueue<String> q = node.queue("q", String.class);
        q.offer("in an hour", Duration.ofHours(1));
        assertEquals(Optional.empty(), q.poll(Duration.ZERO));
        Future<Optional<Delivery<String>>> waiting = pool.submit(() -> q.poll(Duration.ofDays(1)));
        time.advance(Duration.ofMinutes(59));
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> !waiting.isDone());
        time.advance(Duration.ofMinutes(1));
        assertEquals("in an hour", waiting.get(5, TimeUnit.SECONDS).orElseThrow().message());
    }

    @Test
    void theDefaultVisibilityTimeoutRedeliversAfterThirtySeconds() throws Exception {
        MessageQueue<String> q = node.queue("v", String.class, QueueOptions.defaults());
        q.offer("job");
        Delivery<String> first = q.poll(Duration.ZERO).orElseThrow();
        time.advance(Duration.ofSeconds(29));
        assertEquals(Optional.empty(), q.poll(Duration.ZERO));
        time.advance(Duration.ofSeconds(1));
        Delivery<String> second = q.poll(Duration.ZERO).orElseThrow();
        assertEquals(2, second.attempt());
        assertThrows(IllegalStateException.class, first::ack);
        second.ack();
        assertEquals(0, q.size());
    }

    @Test
    void anExpiredButNotRedeliveredDeliveryCanStillBeAcknowledged() throws Exception {
        MessageQueue<String> q = node.queue("late", String.class);
        q.offer("slow job");
        Delivery<String> d = q.poll(Duration.ZERO).orElseThrow();
        time.advance(Duration.ofMinutes(5));
        d.ack();
        assertEquals(0, q.size());
        assertEquals(Optional.empty(), q.poll(Duration.ZERO));
    }

    @Test
    void aPollTimeoutFollowsTheTimeSource() throws Exception {
        MessageQueue<String> q = node.queue("empty", String.class);
        Future<Optional<Delivery<String>>> waiting = pool.submit(() -> q.poll(Duration.ofMinutes(1)));
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> !waiting.isDone());
        time.advance(Duration.ofMinutes(1));
        assertEquals(Optional.empty(), waiting.get(5, TimeUnit.SECONDS));
    }
}
