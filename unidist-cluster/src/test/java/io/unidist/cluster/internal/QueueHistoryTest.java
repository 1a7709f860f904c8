package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.cluster.internal.QueueHistory.Outcome;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The queue checker accepts at-least-once delivery and catches losses, redeliveries after an ack and inventions. */
class QueueHistoryTest {
    private static final long MS = 1_000_000;

    @Test
    void acceptsRedeliveriesUnknownOutcomesDeadLettersAndTheFinalDrain() {
        QueueHistory h = new QueueHistory();
        h.offer("q", "m1", 0, 1, Outcome.OK);
        h.offer("q", "m2", 0, 2, Outcome.OK);
        h.offer("q", "m3", 1, 3, Outcome.UNKNOWN);
        h.offer("q", "m4", 2, 4, Outcome.FAILED);     // failed on the caller, yet committed
        h.offer("q", "m5", 3, 5, Outcome.OK);
        h.delivery("q", "m1", "d1", "n1", 2, 6);
        h.ack("q", "d1", 7, 8, Outcome.OK);
        h.delivery("q", "m2", "d2", "n2", 3, 7);      // not acknowledged in time ...
        h.delivery("q", "m2", "d3", "n3", 40, 41);    // ... so handed out again
        h.ack("q", "d3", 42, 43, Outcome.OK);
        h.ack("q", "d2", 45, 46, Outcome.FAILED);     // superseded
        h.delivery("q", "m3", "d4", "n1", 10, 11);
        h.nack("q", "d4", 12, 13, Outcome.OK);
        h.delivery("q", "m3", "d5", "n2", 14, 15);
        h.ack("q", "d5", 16, 20, Outcome.UNKNOWN);    // may have removed it: not lost
        h.delivery("q", "m4", "d6", "n3", 5, 9);
        h.ack("q", "d6", 10, 11, Outcome.OK);
        h.delivery("q", "m5", "d7", "n1", 6, 8);      // never acknowledged: it ends in the dead-letter queue
        h.delivery("q.dead", "m5", "d1", "drain", 60, 61);   // delivery ids are per queue
        h.drained("q", 50, 70);
        h.drained("q.dead", 50, 70);
        assertNull(h.check());
        assertEquals(21, h.size());
    }

    @Test
    void aLostMessageIsShownWithItsOfferAndTheDrain() {
        QueueHistory h = new QueueHistory();
        h.offer("q", "m1", 0, 1 * MS, Outcome.OK);
        h.delivery("q", "m1", "d1", "n1", 2 * MS, 3 * MS);
        h.ack("q", "d1", 4 * MS, 5 * MS, Outcome.FAILED);
        h.drained("q", 10 * MS, 20 * MS);
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals("queue 'q'", a.checker());
        assertEquals("message m1 was offered ok, delivered 1 time but never acknowledged, and the final drain did not"
                + " find it: lost", a.description());
        assertEquals(List.of("offer m1 to q: ok [+0.000 .. +1.000 ms]", "drain of q until empty [+10.000 .. +20.000 ms]"),
                a.operations());
        assertEquals(0, a.fromNanos());
        assertEquals(20 * MS, a.toNanos());
    }

    @Test
    void aMessageNeverDeliveredIsLostToo() {
        QueueHistory h = new QueueHistory();
        h.offer("q", "m1", 0, 1, Outcome.OK);
        h.offer("q", "m2", 0, 1, Outcome.UNKNOWN);   // may never have been added
        h.drained("q", 10, 20);
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertTrue(a.description().startsWith("message m1 was offered ok, never delivered"), a.description());
        assertEquals(1, h.anomalies().size());
    }

    @Test
    void withoutADrainNothingCanBeCalledLost() {
        QueueHistory h = new QueueHistory();
        h.offer("q", "m1", 0, 1, Outcome.OK);
        assertNull(h.check());
    }

    @Test
    void anAcknowledgedMessageHandedOutAgainIsShownWithTheAckAndTheLateDelivery() {
        QueueHistory h = new QueueHistory();
        h.offer("q", "m", 0, 1 * MS, Outcome.OK);
        h.delivery("q", "m", "d1", "n1", 2 * MS, 3 * MS);
        h.ack("q", "d1", 4 * MS, 5 * MS, Outcome.OK);
        h.delivery("q", "m", "d2", "n2", 6 * MS, 7 * MS);
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals("message m was handed out again after its acknowledgement had returned ok", a.description());
        assertEquals(List.of("poll of q on n1 -> m (delivery d1) [+0.000 .. +1.000 ms]",
                "ack of delivery d1 of q: ok [+2.000 .. +3.000 ms]",
                "poll of q on n2 -> m (delivery d2) [+4.000 .. +5.000 ms]"), a.operations());
        assertEquals(2 * MS, a.fromNanos());
        assertEquals(7 * MS, a.toNanos());
    }

    @Test
    void anAckThatSucceededForASupersededDeliveryIsCaught() {
        QueueHistory h = new QueueHistory();
        h.offer("q", "m", 0, 1, Outcome.OK);
        h.delivery("q", "m", "d1", "n1", 2, 3);
        h.delivery("q", "m", "d2", "n2", 4, 5);   // handed out again: d1 was superseded ...
        h.ack("q", "d1", 3, 6, Outcome.OK);       // ... so its ack, answered after, had to fail
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertTrue(a.description().contains("a superseded delivery's acknowledgement succeeded"), a.description());
        assertEquals(3, a.operations().size());
    }

    @Test
    void twoAcknowledgedDeliveriesOfOneMessageAreCaughtEvenWhenTheyOverlap() {
        QueueHistory h = new QueueHistory();
        h.offer("q", "m", 0, 1, Outcome.OK);
        h.delivery("q", "m", "d1", "n1", 2, 10);
        h.delivery("q", "m", "d2", "n2", 3, 9);
        h.ack("q", "d1", 11, 12, Outcome.OK);
        h.ack("q", "d2", 11, 13, Outcome.OK);
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals("message m was acknowledged through two deliveries", a.description());
        assertEquals(4, a.operations().size());
        assertEquals(2, a.fromNanos());
        assertEquals(13, a.toNanos());
    }

    @Test
    void anAckRepeatedForTheSameDeliveryIsFine() {
        QueueHistory h = new QueueHistory();
        h.offer("q", "m", 0, 1, Outcome.OK);
        h.delivery("q", "m", "d1", "n1", 2, 3);
        h.ack("q", "d1", 4, 5, Outcome.OK);
        h.ack("q", "d1", 6, 7, Outcome.OK);   // acknowledging a delivery is idempotent
        assertNull(h.check());
    }

    @Test
    void anInventedMessageIsShownByItsDelivery() {
        QueueHistory h = new QueueHistory();
        h.offer("q", "m", 0, 1, Outcome.OK);
        h.delivery("q", "ghost", "d1", "n1", 2 * MS, 3 * MS);
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals("message ghost was delivered but never offered", a.description());
        assertEquals(List.of("poll of q on n1 -> ghost (delivery d1) [+0.000 .. +1.000 ms]"), a.operations());
        assertEquals(2 * MS, a.fromNanos());
        assertEquals(3 * MS, a.toNanos());
    }

    @Test
    void aMessageDeliveredBeforeItWasOfferedIsCaught() {
        QueueHistory h = new QueueHistory();
        h.delivery("q", "m", "d1", "n1", 2, 5);
        h.offer("q", "m", 10, 11, Outcome.UNKNOWN);
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals("message m was delivered before its offer began", a.description());
        assertEquals(2, a.operations().size());
    }

    @Test
    void recordingErrorsAreReportedAsSuch() {
        QueueHistory twice = new QueueHistory();
        twice.offer("q", "m", 0, 1, Outcome.OK);
        twice.offer("q.dead", "m", 2, 3, Outcome.OK);   // one family: ids must differ
        assertThrows(IllegalStateException.class, twice::check);
        QueueHistory orphan = new QueueHistory();
        orphan.ack("q", "d9", 0, 1, Outcome.OK);
        IllegalStateException e = assertThrows(IllegalStateException.class, orphan::check);
        assertTrue(e.getMessage().contains("delivery d9 of q names no recorded delivery"), e.getMessage());
    }

    @Test
    void aHundredThousandOperationsAreCheckedAndOnePlantedRedeliveryIsFound() {
        QueueHistory h = new QueueHistory();
        long end = record(h, 30_000, new Random(5));
        assertTrue(h.size() >= 100_000, "recorded " + h.size());
        assertNull(h.check());
        h.offer("q", "planted", end + 1, end + 2, Outcome.OK);
        h.delivery("q", "planted", "p1", "n1", end + 3, end + 4);
        h.ack("q", "p1", end + 5, end + 6, Outcome.OK);
        h.delivery("q", "planted", "p2", "n2", end + 7, end + 8);
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals("message planted was handed out again after its acknowledgement had returned ok", a.description());
        assertEquals(List.of(end + 3, end + 8), List.of(a.fromNanos(), a.toNanos()));
    }

    /**
     * Records {@code messages} messages, correct by construction: each offered ok, delivered
     * once or (after a missed visibility timeout) twice, its last delivery acknowledged, an
     * earlier one's late ack failing; one in twenty never acknowledged and found by the final
     * drain instead. Returns when the drain ended.
     */
    private static long record(QueueHistory h, int messages, Random random) {
        long drainStart = messages * 10L + 1_000;
        int drained = 0;
        for (int i = 0; i < messages; i++) {
            long t = i * 10L;
            String m = "m" + i;
            h.offer("q", m, t, t + 5, Outcome.OK);
            h.delivery("q", m, m + "#1", "n" + random.nextInt(5), t + 3, t + 8);
            String last = m + "#1";
            if (random.nextInt(5) == 0) {
                h.delivery("q", m, m + "#2", "n" + random.nextInt(5), t + 300, t + 304);
                h.ack("q", m + "#1", t + 305, t + 306, Outcome.FAILED);
                last = m + "#2";
            }
            if (random.nextInt(20) == 0) {
                h.delivery("q", m, m + "#drain", "drain", drainStart + drained, drainStart + drained + 1);
                drained += 2;
            } else {
                h.ack("q", last, t + 400, t + 401 + random.nextInt(5), random.nextInt(50) == 0 ? Outcome.UNKNOWN : Outcome.OK);
            }
        }
        long drainEnd = drainStart + drained + 10;
        h.drained("q", drainStart, drainEnd);
        return drainEnd;
    }
}
