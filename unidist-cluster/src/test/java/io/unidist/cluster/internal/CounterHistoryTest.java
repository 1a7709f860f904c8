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
}
