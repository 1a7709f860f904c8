package io.unidist.contract;

import static io.unidist.contract.Checks.assertMentions;
import static io.unidist.contract.Checks.assertNoDuplicates;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.SharedCounter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The contract of {@link io.unidist.SharedCounter}, for every implementation. */
public abstract class CounterContract extends ContractBase {

    @Test
    void startsAtZeroAndCounts() {
        SharedCounter c = node().counter(uniqueName("counter"));
        assertEquals(0, c.get());
        assertEquals(1, c.incrementAndGet());
        assertEquals(11, c.addAndGet(10));
        assertEquals(8, c.addAndGet(-3));
        assertEquals(8, peer().counter(c.name()).get());
    }

    @Test
    void compareAndSetOnlyOnTheExpectedValue() {
        SharedCounter c = node().counter(uniqueName("counter"));
        assertFalse(c.compareAndSet(5, 7));
        assertEquals(0, c.get());
        assertTrue(c.compareAndSet(0, 7));
        assertEquals(7, peer().counter(c.name()).get());
        assertFalse(peer().counter(c.name()).compareAndSet(0, 9));
        assertEquals(7, c.get());
    }

    @Test
    void overflowIsRefusedAndChangesNothing() {
        SharedCounter c = node().counter(uniqueName("counter"));
        assertTrue(c.compareAndSet(0, Long.MAX_VALUE - 1));
        assertEquals(Long.MAX_VALUE, c.incrementAndGet());
        ArithmeticException e = assertThrows(ArithmeticException.class, c::incrementAndGet);
        assertMentions(e, c.name());
        assertEquals(Long.MAX_VALUE, c.get());
    }

    @Test
    void concurrentIncrementsGiveEveryValueOnce() throws Exception {
        SharedCounter c = node().counter(uniqueName("ids"));
        int threads = 6;
        int each = 150;
        List<Long> seen = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            SharedCounter mine = t % 2 == 0 ? c : peer().counter(c.name());
            futures.add(pool.submit(() -> {
                for (int i = 0; i < each; i++) {
                    seen.add(mine.incrementAndGet());
                }
            }));
        }
        for (Future<?> f : futures) {
            f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdownNow();
        assertNoDuplicates(seen);
        assertEquals(threads * each, seen.size());
        assertEquals(threads * each, c.get());
        assertEquals((long) threads * each, Collections.max(seen));
    }

    @Test
    void badNamesAreRejected() {
        assertMentions(assertThrows(NullPointerException.class, () -> node().counter(null)), "counter name");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> node().counter("")), "empty");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> node().counter("a\nb")), "control");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> node().counter("x".repeat(201))), "201");
    }
}
