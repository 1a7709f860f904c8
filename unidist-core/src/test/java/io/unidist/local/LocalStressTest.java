package io.unidist.local;

import static io.unidist.contract.Checks.assertNoDuplicates;
import static io.unidist.contract.Checks.holdAMoment;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.Delivery;
import io.unidist.LockLease;
import io.unidist.MessageQueue;
import io.unidist.QueueOptions;
import io.unidist.SharedCounter;
import io.unidist.SharedLock;
import io.unidist.Unidist;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many threads on one persistent node: counters hand out no value twice and lose none,
 * semaphores never exceed their permits (checked by the holding intervals of fencing tokens),
 * queues deliver every message, lose none and accept no acknowledgement twice, while consumers
 * randomly give messages back. Bounded in operations; scale with {@code -Dunidist.stress.factor}.
 */
@Tag("stress")
class LocalStressTest {
    private static final int FACTOR = Integer.getInteger("unidist.stress.factor", 1);
    private static final int THREADS = 12;

    @TempDir
    Path dir;
    private Unidist node;
    private final ExecutorService pool = Executors.newFixedThreadPool(THREADS);

    @AfterEach
    void close() {
        pool.shutdownNow();
        if (node != null) {
            node.close();
        }
    }

    @Test
    void counters() throws Exception {
        node = Unidist.local(dir);
        SharedCounter counter = node.counter("ids");
        int each = 200 * FACTOR;
        ConcurrentLinkedQueue<Long> values = new ConcurrentLinkedQueue<>();
        runAll(() -> {
            for (int i = 0; i < each; i++) {
                values.add(i % 3 == 0 ? counter.addAndGet(1) : counter.incrementAndGet());
            }
        });
        assertNoDuplicates(values);
        assertEquals((long) THREADS * each, counter.get());
        assertEquals(THREADS * each, values.size());
    }

    @Test
    void semaphores() throws Exception {
        node = Unidist.local();
        int permits = 3;
        SharedLock sem = node.semaphore("backups", permits);
        AtomicInteger holding = new AtomicInteger();
        AtomicInteger maxHolding = new AtomicInteger();
        ConcurrentLinkedQueue<long[]> intervals = new ConcurrentLinkedQueue<>();
        AtomicLong clock = new AtomicLong();
        runAll(() -> {
            for (int i = 0; i < 300 * FACTOR; i++) {
                Optional<LockLease> maybe = ThreadLocalRandom.current().nextBoolean()
                        ? sem.tryAcquire() : Optional.of(sem.acquire(Duration.ofSeconds(60)));
                if (maybe.isEmpty()) {
                    continue;
                }
                try (LockLease lease = maybe.get()) {
                    long start = clock.incrementAndGet();
                    maxHolding.accumulateAndGet(holdAMoment(holding), Math::max);
                    intervals.add(new long[] {lease.fencingToken(), start, clock.incrementAndGet()});
                }
            }
        });
        assertTrue(maxHolding.get() <= permits, "held by " + maxHolding.get() + " at once");
        // by the recorded intervals: at no logical instant more than `permits` leases overlap
        List<long[]> all = new ArrayList<>(intervals);
        long maxEnd = all.stream().mapToLong(a -> a[2]).max().orElse(0);
        int[] depth = new int[(int) maxEnd + 2];
        for (long[] a : all) {
            depth[(int) a[1]]++;
            depth[(int) a[2]]--;
        }
        int open = 0;
        for (int d : depth) {
            open += d;
            assertTrue(open <= permits, "more than " + permits + " overlapping holding intervals");
        }
        assertNoDuplicates(all.stream().map(a -> a[0]).toList());
    }

    @Test
    void queues() throws Exception {
        node = Unidist.local(dir);
        MessageQueue<Long> q = node.queue("work", Long.class,
                QueueOptions.defaults().withMaxAttempts(1000).withVisibilityTimeout(Duration.ofMinutes(5)));
        int producers = THREADS / 2;
        int each = 150 * FACTOR;
        ConcurrentHashMap<Long, Integer> acked = new ConcurrentHashMap<>();
        AtomicInteger duplicateAcks = new AtomicInteger();
        AtomicInteger producersDone = new AtomicInteger();
        List<Future<?>> futures = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            long base = (long) p * each;
            futures.add(pool.submit(() -> {
                for (long i = 0; i < each; i++) {
                    q.offer(base + i);
                }
                producersDone.incrementAndGet();
                return null;
            }));
        }
        for (int c = 0; c < THREADS - producers; c++) {
            futures.add(pool.submit(() -> {
                while (producersDone.get() < producers || q.size() > 0) {
                    Optional<Delivery<Long>> d = q.poll(Duration.ofMillis(100));
                    if (d.isEmpty()) {
                        continue;
                    }
                    if (ThreadLocalRandom.current().nextInt(10) == 0) {
                        d.get().nack();
                        continue;
                    }
                    d.get().ack();
                    if (acked.put(d.get().message(), 1) != null) {
                        duplicateAcks.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get(300, TimeUnit.SECONDS);
        }
        assertEquals(0, duplicateAcks.get(), "a message was acknowledged twice");
        assertEquals(producers * each, acked.size(), "messages lost");
        assertEquals(0, q.size());
    }

    private void runAll(Task task) throws Exception {
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            futures.add(pool.submit(() -> {
                task.run();
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get(300, TimeUnit.SECONDS);
        }
    }

    /** A task that may throw. */
    interface Task {
        void run() throws Exception;
    }
}
