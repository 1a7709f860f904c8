package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
