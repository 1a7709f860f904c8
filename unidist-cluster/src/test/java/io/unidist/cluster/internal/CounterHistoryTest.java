package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The checker itself: it accepts linearizable histories and catches the anomalies it claims to. */
class CounterHistoryTest {
    @Test
    void acceptsOverlappingIncrementsInAnyOrder() {
        CounterHistory h = new CounterHistory();
        h.increment(0, 10, 2);
        h.increment(1, 9, 1);   // overlaps the first: either order is fine
        h.increment(11, 12, 3);
        h.read(13, 14, 3);
        h.read(5, 20, 1);       // overlapped everything before it ended: any value >= nothing-ended is fine
        assertNull(h.check());
    }

    @Test
    void catchesADuplicateValue() {
        CounterHistory h = new CounterHistory();
        h.increment(0, 1, 1);
        h.increment(5, 6, 1);
        String anomaly = h.check();
        assertNotNull(anomaly);
        assertTrue(anomaly.contains("returned twice"), anomaly);
    }

    @Test
    void catchesAnIncrementThatWentBackInTime() {
        CounterHistory h = new CounterHistory();
        h.increment(0, 1, 5);
        h.increment(2, 3, 4);
        String anomaly = h.check();
        assertNotNull(anomaly);
        assertTrue(anomaly.contains("not larger"), anomaly);
    }

    @Test
    void catchesAStaleRead() {
        CounterHistory h = new CounterHistory();
        h.increment(0, 1, 100);
        h.read(2, 3, 99);
        String anomaly = h.check();
        assertNotNull(anomaly);
        assertTrue(anomaly.contains("stale read"), anomaly);
    }

    @Test
    void catchesAReadThatWentBackwards() {
        CounterHistory h = new CounterHistory();
        h.increment(0, 100, 5);  // still running during both reads: it bounds neither
        h.read(10, 20, 5);
        h.read(30, 40, 4);      // began after a read that saw 5 had ended
        String anomaly = h.check();
        assertNotNull(anomaly);
        assertTrue(anomaly.contains("went backwards"), anomaly);
    }

    @Test
    void catchesAnIncrementThatDidNotPassAnEarlierRead() {
        CounterHistory h = new CounterHistory();
        h.increment(0, 100, 7);  // overlaps the read, so the read may see 7
        h.read(10, 20, 7);
        h.increment(30, 40, 6); // began after the read of 7 had ended: it must return more than 7
        String anomaly = h.check();
        assertNotNull(anomaly);
        assertTrue(anomaly.contains("not larger"), anomaly);
    }

    @Test
    void acceptsReadsThatOverlapAndSeeValuesInEitherOrder() {
        CounterHistory h = new CounterHistory();
        h.increment(0, 100, 1);
        h.read(10, 50, 1);
        h.read(20, 60, 0);      // overlaps the read that saw 1: it may be ordered before it
        h.read(70, 80, 1);
        assertNull(h.check());
    }

    @Test
    void aDuplicateValueIsShownByItsTwoIncrementsAndTheirWindow() {
        long ms = 1_000_000;
        CounterHistory h = new CounterHistory("c0");
        h.increment(0, 10 * ms, 1, "n1");
        h.increment(20 * ms, 30 * ms, 2, "n2");
        h.increment(25 * ms, 40 * ms, 3, "n1");   // this one and the one after the read returned the same value
        h.read(45 * ms, 50 * ms, 3, "n3");
        h.increment(35 * ms, 60 * ms, 3, "n2");
        h.increment(70 * ms, 80 * ms, 4, "n3");
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals("counter 'c0'", a.checker());
        assertEquals("value 3 returned twice", a.description());
        assertEquals(List.of("increment -> 3 on n1 [+0.000 .. +15.000 ms]", "increment -> 3 on n2 [+10.000 .. +35.000 ms]"),
                a.operations());
        assertEquals(25 * ms, a.fromNanos());
        assertEquals(60 * ms, a.toNanos());
    }

    @Test
    void aStaleReadIsShownByTheIncrementItMissedAndTheRead() {
        CounterHistory h = new CounterHistory();
        h.increment(0, 1_000_000, 1);
        h.increment(2_000_000, 3_000_000, 2);
        h.read(4_000_000, 5_000_000, 1);   // began after the increment to 2 had returned
        h.read(6_000_000, 7_000_000, 2);
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertTrue(a.description().contains("stale read"), a.description());
        assertEquals(List.of("increment -> 2 [+0.000 .. +1.000 ms]", "read -> 1 [+2.000 .. +3.000 ms]"), a.operations());
        assertEquals(2_000_000, a.fromNanos());
        assertEquals(5_000_000, a.toNanos());
        assertEquals(a.toString(), h.check());
    }

    @Test
    void anomaliesListsEachDuplicateUpToTheLimit() {
        CounterHistory h = new CounterHistory();
        h.increment(0, 10, 1);
        h.increment(0, 10, 1);
        h.increment(0, 10, 2);
        h.increment(0, 10, 2);
        assertEquals(2, h.anomalies().size());
        assertEquals(1, h.anomalies(1).size());
    }

    @Test
    void aHundredThousandOperationsAreCheckedAndOnePlantedDuplicateIsFound() {
        CounterHistory h = linearizable(100_000, new Random(7));
        assertNull(h.check());
        h.increment(10L * 50_000 + 1, 10L * 50_000 + 2, 123, "planted");   // 123 was returned long before
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals("value 123 returned twice", a.description());
        assertEquals(2, a.operations().size());
        assertTrue(a.operations().get(1).contains("on planted"), a.operations().get(1));
    }

    /**
     * A history that is linearizable by construction: the i-th operation takes effect at 10 * i,
     * and its call spans up to 40 ns either side, so up to about eight calls overlap.
     */
    static CounterHistory linearizable(int n, Random random) {
        CounterHistory h = new CounterHistory();
        long value = 0;
        for (int i = 1; i <= n; i++) {
            long at = 10L * i;
            long start = at - random.nextInt(40);
            long end = at + random.nextInt(40);
            if (random.nextInt(4) == 0) {
                h.read(start, end, value, "n" + random.nextInt(5));
            } else {
                h.increment(start, end, ++value, "n" + random.nextInt(5));
            }
        }
        return h;
    }
}
