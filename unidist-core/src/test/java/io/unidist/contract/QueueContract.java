package io.unidist.contract;

import static io.unidist.contract.Checks.assertMentions;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.Delivery;
import io.unidist.MessageQueue;
import io.unidist.Persistence;
import io.unidist.QueueOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The contract of {@link io.unidist.MessageQueue}, for every implementation. */
public abstract class QueueContract extends ContractBase {
    private static final Duration WAIT = Duration.ofSeconds(5);

    /** The persistence queues of this test use; implementations may override. */
    protected Persistence persistence() {
        return Persistence.archive();
    }

    private QueueOptions options() {
        return QueueOptions.defaults().withPersistence(persistence());
    }

    private MessageQueue<String> newQueue(QueueOptions options) {
        return node().queue(uniqueName("queue"), String.class, options);
    }

    @Test
    void fifoAndAcknowledged() throws Exception {
        MessageQueue<String> q = newQueue(options());
        for (int i = 0; i < 5; i++) {
            q.offer("m" + i);
        }
        assertEquals(5, q.size());
        MessageQueue<String> other = peer().queue(q.name(), String.class, options());
        for (int i = 0; i < 5; i++) {
            Delivery<String> d = other.poll(WAIT).orElseThrow();
            assertEquals("m" + i, d.message());
            assertEquals(1, d.attempt());
            d.ack();
            d.ack();
        }
        assertEquals(0, q.size());
        assertEquals(Optional.empty(), q.poll(Duration.ZERO));
    }

    @Test
    void aDeliveredMessageIsInvisibleToOthersUntilNacked() throws Exception {
        MessageQueue<String> q = newQueue(options());
        q.offer("a");
        q.offer("b");
        Delivery<String> first = q.poll(WAIT).orElseThrow();
        assertEquals("a", first.message());
        Delivery<String> second = peer().queue(q.name(), String.class, options()).poll(WAIT).orElseThrow();
        assertEquals("b", second.message(), "a delivered message goes to one consumer at a time");
        assertEquals(Optional.empty(), q.poll(Duration.ofMillis(50)));
        first.nack();
        Delivery<String> again = q.poll(WAIT).orElseThrow();
        assertEquals("a", again.message());
        assertEquals(2, again.attempt());
        assertEquals(2, q.size());
        again.ack();
        second.ack();
        assertEquals(0, q.size());
    }

    @Test
    void visibilityTimeoutRedeliversAndSupersedesTheOldDelivery() throws Exception {
        MessageQueue<String> q = newQueue(options().withVisibilityTimeout(Duration.ofMillis(300)));
        q.offer("job");
        Delivery<String> first = q.poll(WAIT).orElseThrow();
        Delivery<String> second = q.poll(WAIT).orElseThrow();
        assertEquals("job", second.message());
        assertEquals(2, second.attempt());
        assertMentions(assertThrows(IllegalStateException.class, first::ack), "superseded");
        second.ack();
        assertEquals(0, q.size());
    }

    @Test
    void afterTheLastAttemptAMessageMovesToTheDeadLetterQueue() throws Exception {
        QueueOptions opts = options().withMaxAttempts(2);
        MessageQueue<String> q = newQueue(opts);
        q.offer("poison");
        q.offer("fine");
        q.poll(WAIT).orElseThrow().nack();      // poison, attempt 1
        Delivery<String> d = q.poll(WAIT).orElseThrow();
        assertEquals("poison", d.message());
        assertEquals(2, d.attempt());
        d.nack();                                // last attempt failed
        Delivery<String> next = q.poll(WAIT).orElseThrow();
        assertEquals("fine", next.message());
        next.ack();
        assertEquals(0, q.size());
        MessageQueue<String> dead = peer().queue(q.name() + ".dead", String.class);
        assertEquals(q.name() + ".dead", dead.name());
        assertEquals(1, dead.size());
        Delivery<String> corpse = dead.poll(WAIT).orElseThrow();
        assertEquals("poison", corpse.message());
        assertEquals(1, corpse.attempt());
        corpse.ack();
        assertEquals(0, dead.size());
    }

    @Test
    void delayedMessagesWait() throws Exception {
        MessageQueue<String> q = newQueue(options());
        long start = System.nanoTime();
        q.offer("later", Duration.ofMillis(400));
        q.offer("now");
        assertEquals("now", q.poll(WAIT).orElseThrow().message());
        assertEquals(Optional.empty(), q.poll(Duration.ZERO));
        Delivery<String> later = q.poll(WAIT).orElseThrow();
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(390), "delivered before its delay");
        assertEquals("later", later.message());
    }

    @Test
    void aBlockedPollIsWokenByAnOffer() throws Exception {
        MessageQueue<String> q = newQueue(options());
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Optional<Delivery<String>>> waiting = pool.submit(() -> q.poll(Duration.ofSeconds(30)));
            await().during(Duration.ofMillis(100)).atMost(Duration.ofSeconds(2)).until(() -> !waiting.isDone());
            peer().queue(q.name(), String.class, options()).offer("wake");
            assertEquals("wake", waiting.get(10, TimeUnit.SECONDS).orElseThrow().message());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void capacityIsEnforcedWithAClearError() {
        MessageQueue<String> q = newQueue(options().withCapacity(2));
        q.offer("1");
        q.offer("2");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> q.offer("3"));
        assertMentions(e, "queue '" + q.name() + "' is full", "capacity 2");
        assertEquals(2, q.size());
    }

    @Test
    void concurrentConsumersGetEveryMessageOnce() throws Exception {
        MessageQueue<Integer> q = node().queue(uniqueName("queue"), Integer.class, options());
        int messages = 300;
        for (int i = 0; i < messages; i++) {
            q.offer(i);
        }
        int consumers = 4;
        List<Integer> got = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(consumers);
        List<Future<?>> futures = new ArrayList<>();
        for (int c = 0; c < consumers; c++) {
            MessageQueue<Integer> mine = c % 2 == 0 ? q : peer().queue(q.name(), Integer.class, options());
            futures.add(pool.submit(() -> {
                Optional<Delivery<Integer>> d;
                while ((d = mine.poll(Duration.ofMillis(200))).isPresent()) {
                    got.add(d.get().message());
                    d.get().ack();
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdownNow();
        assertEquals(messages, got.size());
        Set<Integer> distinct = new HashSet<>(got);
        assertEquals(messages, distinct.size());
        assertEquals(0, q.size());
    }

    @Test
    void badInputIsRejected() throws InterruptedException {
        MessageQueue<String> q = newQueue(options());
        assertMentions(assertThrows(NullPointerException.class, () -> q.offer(null)), q.name());
        q.offer("kept");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> q.offer("x", Duration.ofSeconds(-1))),
                q.name(), "delay", "negative", "PT-1S");
        @SuppressWarnings({"unchecked", "rawtypes"})
        MessageQueue<Object> raw = (MessageQueue) q;
        assertMentions(assertThrows(IllegalArgumentException.class, () -> raw.offer(3L)), "java.lang.Long");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> q.poll(Duration.ofMillis(-5))),
                q.name(), "negative", "PT-0.005S");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> node().queue(q.name(), Long.class)), q.name());
        assertEquals(1, q.size(), "bad calls must leave the queue as it was");
        assertEquals("kept", q.poll(Duration.ZERO).orElseThrow().message());
    }

    /** A class nobody registers with {@code Serializers}. */
    public static final class Unregistered {
        int x;
    }

    @Test
    void badNamesAreRejectedWithClearMessages() {
        assertMentions(assertThrows(NullPointerException.class, () -> node().queue(null, String.class)), "queue name");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> node().queue("", String.class)), "queue name", "empty");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> node().queue("x.dead.dead", String.class)),
                "x.dead.dead", "a dead-letter queue has no dead-letter queue");
        IllegalArgumentException deadOfNothing = assertThrows(IllegalArgumentException.class, () -> node().queue(".dead", String.class));
        assertMentions(deadOfNothing, "'.dead'", "empty");
        assertFalse(deadOfNothing.getMessage().contains("no dead-letter queue of its own"), deadOfNothing.getMessage());
    }

    @Test
    void anUnregisteredClassOfferedToAnObjectQueueIsRefusedAndNothingIsQueued() throws InterruptedException {
        MessageQueue<Object> q = node().queue(uniqueName("objects"), Object.class, options());
        q.offer("first");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.offer(new Unregistered()));
        assertMentions(e, "unregistered class", Unregistered.class.getName(), "Serializers.register");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> q.offer(List.of(new Unregistered()))),
                Unregistered.class.getName());
        assertEquals(1, q.size());
        assertEquals("first", q.poll(Duration.ZERO).orElseThrow().message());
        assertEquals(Optional.empty(), q.poll(Duration.ZERO));
    }
}
