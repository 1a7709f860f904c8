package io.unidist;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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

/**
 * Concurrency stress of {@link ThreadSafeDict} and {@link ThreadSafeList}: several writer
 * threads for a bounded time (about a second per test) while the test thread checks invariants
 * that only hold if every observation is of one point in time. Each invariant would be broken by
 * a {@code ConcurrentHashMap}-style size or copy (which can observe half of an atomic
 * multi-key write), so these tests fail if the guarantees are missing.
 *
 * <p>Tagged {@code stress}; short enough to run in the default build.
 */
@Tag("stress")
class ThreadSafeStressTest {

    private static final Duration RUN = Duration.ofMillis(1_000);
    private static final int WRITERS = 3;

    private final ExecutorService pool = Executors.newFixedThreadPool(WRITERS);

    @AfterEach
    void stopWriters() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }

    @Test
    void everySnapshotAndSumOfAMultiKeyTransferSeesTheSameTotal() throws Exception {
        int accounts = 16;
        int total = accounts * 100;
        ThreadSafeDict<Integer, Integer> balances = new ThreadSafeDict<>();
        for (int i = 0; i < accounts; i++) {
            balances.put(i, 100);
        }
        List<Future<?>> writers = startWriters(deadline -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            while (System.nanoTime() < deadline) {
                int from = random.nextInt(accounts);
                int to = random.nextInt(accounts);
                int amount = random.nextInt(10);
                balances.atomically(m -> {
                    m.merge(from, -amount, Integer::sum);
                    m.merge(to, amount, Integer::sum);
                });
            }
        });
        int checks = 0;
        while (!allDone(writers)) {
            Map<Integer, Integer> snapshot = balances.snapshot();
            assertEquals(total, sum(snapshot), "snapshot " + snapshot);
            assertEquals(accounts, snapshot.size());
            int viaAtomically = balances.atomicallyApply(ThreadSafeStressTest::sum);
            assertEquals(total, viaAtomically);
            checks++;
        }
        rethrow(writers);
        assertEquals(total, sum(balances.snapshot()));
        assertTrue(checks > 10, "too few checks to mean anything: " + checks);
    }

    @Test
    void sizeIsExactWhileKeysComeAndGoInPairs() throws Exception {
        ThreadSafeDict<Long, Long> dict = new ThreadSafeDict<>();
        AtomicLong ids = new AtomicLong();
        List<Future<?>> writers = startWriters(deadline -> {
            while (System.nanoTime() < deadline) {
                long id = ids.getAndIncrement() * 2;
                dict.putAll(Map.of(id, id, id + 1, id));
                if (id % 3 == 0) {
                    dict.removeAll(List.of(id, id + 1));
                }
            }
        });
        int checks = 0;
        while (!allDone(writers)) {
            // Keys only come and go in pairs, atomically: an odd count is half of a write.
            assertEquals(0, dict.size() % 2, "size() shows half of an atomic pair write");
            assertEquals(0, dict.snapshot().size() % 2, "snapshot() shows half of an atomic pair write");
            assertEquals(0, dict.keySet().toArray().length % 2, "keySet() shows half of an atomic pair write");
            checks++;
        }
        rethrow(writers);
        assertEquals(dict.snapshot().size(), dict.size(), "quiescent size() differs from the snapshot");
        assertTrue(checks > 10, "too few checks: " + checks);
    }

    @Test
    void listSizeAndSnapshotsNeverShowHalfAPair() throws Exception {
        ThreadSafeList<Integer> list = new ThreadSafeList<>();
        AtomicInteger values = new AtomicInteger(1);
        List<Future<?>> writers = startWriters(deadline -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            while (System.nanoTime() < deadline) {
                int v = values.getAndIncrement();
                list.addAll(List.of(v, -v));
                if (random.nextBoolean()) {
                    list.atomically(l -> {
                        if (l.size() >= 2) {
                            l.subList(0, 2).clear();
                        }
                    });
                }
            }
        });
        int checks = 0;
        while (!allDone(writers)) {
            assertEquals(0, list.size() % 2, "size() shows half of an atomic pair append");
            List<Integer> snapshot = list.snapshot();
            assertEquals(0, snapshot.size() % 2);
            for (int i = 0; i < snapshot.size(); i += 2) {
                assertEquals(-snapshot.get(i), snapshot.get(i + 1), "pair split at " + i);
            }
            checks++;
        }
        rethrow(writers);
        assertEquals(list.snapshot().size(), list.size());
        assertTrue(checks > 10, "too few checks: " + checks);
    }

    @Test
    void dictListenerSeesEveryChangeExactlyOnceInOrder() throws Exception {
        ThreadSafeDict<Integer, Integer> dict = new ThreadSafeDict<>();
        Map<Integer, Integer> mirror = new HashMap<>(); // only touched by listener calls, which are sequential
        AtomicInteger outOfOrder = new AtomicInteger();
        AtomicInteger calls = new AtomicInteger();
        dict.addListener((key, old, now) -> {
            calls.incrementAndGet();
            // Exactly once and in order means: every change starts from what the last one left.
            if (!Objects.equals(mirror.get(key), old)) {
                outOfOrder.incrementAndGet();
            }
            if (now == null) {
                mirror.remove(key);
            } else {
                mirror.put(key, now);
            }
        });
        List<Future<?>> writers = startWriters(deadline -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            while (System.nanoTime() < deadline) {
                int key = random.nextInt(8);
                switch (random.nextInt(4)) {
                    case 0 -> dict.merge(key, 1, Integer::sum);
                    case 1 -> dict.remove(key);
                    case 2 -> dict.atomically(m -> {
                        m.merge(key, 1, Integer::sum);
                        m.merge((key + 1) % 8, 1, Integer::sum);
                    });
                    default -> dict.compute(key, (k, v) -> v == null ? 1 : v + 1);
                }
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> allDone(writers));
        rethrow(writers);
        dict.put(100, 100); // drains anything still pending, on this thread, as no writer is left
        Map<Integer, Integer> expected = dict.snapshot();
        await().until(() -> expected.equals(Map.copyOf(mirror)));
        assertEquals(0, outOfOrder.get(), "changes seen out of order, twice, or missed");
        assertTrue(calls.get() > 100, "too few changes to mean anything: " + calls.get());
    }

    @Test
    void listListenerReplayRebuildsTheListUnderConcurrentWrites() throws Exception {
        ThreadSafeList<Integer> list = new ThreadSafeList<>();
        List<Integer> mirror = new ArrayList<>(); // only touched by listener calls, which are sequential
        list.addListener((index, removed, added) -> {
            if (removed == null) {
                mirror.add(index, added);
            } else if (added == null) {
                mirror.remove(index);
            } else {
                mirror.set(index, added);
            }
        });
        AtomicInteger values = new AtomicInteger();
        List<Future<?>> writers = startWriters(deadline -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            while (System.nanoTime() < deadline) {
                switch (random.nextInt(4)) {
                    case 0 -> list.add(values.incrementAndGet());
                    case 1 -> list.add(0, values.incrementAndGet());
                    case 2 -> list.removeIf(e -> e % 5 == 0);
                    default -> {
                        if (list.size() > 50) {
                            list.atomically(l -> l.subList(0, 10).clear());
                        }
                    }
                }
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> allDone(writers));
        rethrow(writers);
        list.add(-1); // drains anything still pending on this thread
        List<Integer> expected = list.snapshot();
        await().until(() -> {
            synchronized (mirror) {
                return expected.equals(mirror);
            }
        });
    }

    // ------------------------------------------------------------------ helpers

    private interface Writer {
        void run(long deadlineNanos) throws Exception;
    }

    private List<Future<?>> startWriters(Writer writer) {
        long deadline = System.nanoTime() + RUN.toNanos();
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < WRITERS; i++) {
            futures.add(pool.submit(() -> {
                writer.run(deadline);
                return null;
            }));
        }
        return futures;
    }

    private static boolean allDone(List<Future<?>> futures) {
        return futures.stream().allMatch(Future::isDone);
    }

    private static void rethrow(List<Future<?>> futures) throws Exception {
        for (Future<?> future : futures) {
            future.get(10, TimeUnit.SECONDS);
        }
    }

    private static int sum(Map<Integer, Integer> map) {
        return map.values().stream().mapToInt(Integer::intValue).sum();
    }
}
