package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.cluster.internal.LockHistory.Outcome;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The lock checker accepts what the lock guarantees and catches each violation with the operations that show it. */
class LockHistoryTest {
    private static final long MS = 1_000_000;

    @Test
    void acceptsLeasesHandedOverInTurnWithConcurrentAcquiresAndFailures() {
        LockHistory h = new LockHistory();
        h.granted("n1", "m", 1, 0, 10 * MS, 1);
        h.notGranted("n2", "m", 1, 5 * MS, 40 * MS, Outcome.TIMED_OUT);
        h.notGranted("n3", "m", 1, 6 * MS, 9 * MS, Outcome.UNAVAILABLE);
        h.notGranted("n3", "m", 1, 7 * MS, 8 * MS, Outcome.UNKNOWN);
        h.use("n1", "m", 1, 11 * MS, 20 * MS);
        h.use("n1", "m", 1, 15 * MS, 25 * MS);   // a second thread of the holder: the lease counts once
        h.release("n1", "m", 1, 26 * MS, 27 * MS, true);
        h.granted("n2", "m", 1, 12 * MS, 45 * MS, 3);   // asked first, but granted after the next one
        h.granted("n3", "m", 1, 13 * MS, 35 * MS, 2);   // overlapping acquires may get tokens in either order
        h.use("n3", "m", 2, 36 * MS, 40 * MS);
        h.release("n3", "m", 2, 41 * MS, 42 * MS, true);
        h.use("n2", "m", 3, 46 * MS, 50 * MS);
        h.release("n2", "m", 3, 51 * MS, 52 * MS, true);
        assertNull(h.check());
        assertEquals(13, h.size());
    }

    @Test
    void acceptsALeaseLostInAPartitionAndTheLockGrantedAgain() {
        LockHistory h = new LockHistory();
        h.granted("n1", "m", 1, 0, 1 * MS, 7);
        h.use("n1", "m", 7, 2 * MS, 3 * MS);
        // n1 is cut off: its lease turns invalid at about 4 ms and it records no use after that;
        // the majority expires its session and grants the lock again
        h.granted("n2", "m", 1, 2 * MS, 9 * MS, 8);
        h.use("n2", "m", 8, 10 * MS, 12 * MS);
        h.release("n1", "m", 7, 5 * MS, 20 * MS, false);   // n1's close could not reach the cluster
        h.release("n2", "m", 8, 13 * MS, 14 * MS, true);
        assertNull(h.check());
    }

    @Test
    void acceptsTwoHoldersOfATwoPermitSemaphoreInAnyTokenOrder() {
        LockHistory h = new LockHistory();
        h.granted("n1", "s", 2, 0, 1 * MS, 1);
        h.granted("n2", "s", 2, 0, 2 * MS, 2);
        h.use("n2", "s", 2, 3 * MS, 4 * MS);
        h.use("n1", "s", 1, 3 * MS, 9 * MS);     // the smaller token uses it after and around the larger
        h.use("n2", "s", 2, 5 * MS, 6 * MS);
        assertNull(h.check());
    }

    @Test
    void twoOverlappingUsesOfAMutexAreShownWithTheirTokens() {
        LockHistory h = new LockHistory();
        h.granted("n1", "m", 1, 0, 1 * MS, 1);
        h.granted("n2", "m", 1, 0, 2 * MS, 2);
        h.use("n1", "m", 1, 3 * MS, 10 * MS);
        h.use("n2", "m", 2, 8 * MS, 12 * MS);
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals("lock 'm'", a.checker());
        assertEquals("2 leases were in use at once, with 1 permit: tokens [1, 2]", a.description());
        assertEquals(List.of("use of m under token 1 on n1 [+0.000 .. +7.000 ms]",
                "use of m under token 2 on n2 [+5.000 .. +9.000 ms]"), a.operations());
        assertEquals(3 * MS, a.fromNanos());
        assertEquals(12 * MS, a.toNanos());
    }

    @Test
    void usesThatOnlyTouchAtOneInstantOverlap() {
        LockHistory h = new LockHistory();
        h.granted("n1", "m", 1, 0, 1, 1);
        h.granted("n2", "m", 1, 0, 1, 2);
        h.use("n1", "m", 1, 2, 10);
        h.use("n2", "m", 2, 10, 20);   // both leases were valid at 10
        assertNotNull(h.anomaly());
    }

    @Test
    void threeOverlappingUsesOfATwoPermitSemaphoreAreShownAsExactlyThree() {
        LockHistory h = new LockHistory();
        for (int t = 1; t <= 4; t++) {
            h.granted("n" + t, "s", 2, 0, 1 * MS, t);
        }
        h.use("n1", "s", 1, 2 * MS, 30 * MS);
        h.use("n2", "s", 2, 3 * MS, 5 * MS);     // ends before the next starts: two at a time so far
        h.use("n3", "s", 3, 6 * MS, 20 * MS);
        h.use("n4", "s", 4, 10 * MS, 12 * MS);   // the third lease in use at once
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals("3 leases were in use at once, with 2 permits: tokens [1, 3, 4]", a.description());
        assertEquals(3, a.operations().size());
        assertEquals(2 * MS, a.fromNanos());
        assertEquals(30 * MS, a.toNanos());
    }

    @Test
    void aTokenSmallerThanOneGrantedBeforeIsShownWithBothGrants() {
        LockHistory h = new LockHistory();
        h.granted("n1", "m", 1, 0, 1 * MS, 5);
        h.release("n1", "m", 5, 2 * MS, 3 * MS, true);
        h.granted("n2", "m", 1, 4 * MS, 6 * MS, 4);   // began after token 5 was granted
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals("an acquire began after token 5 had been granted, but got token 4, not larger", a.description());
        assertEquals(List.of("acquire m on n1 -> granted token 5 [+0.000 .. +1.000 ms]",
                "acquire m on n2 -> granted token 4 [+4.000 .. +6.000 ms]"), a.operations());
        assertEquals(0, a.fromNanos());
        assertEquals(6 * MS, a.toNanos());
    }

    @Test
    void aTokenGrantedTwiceIsShownWithBothGrants() {
        LockHistory h = new LockHistory();
        h.granted("n1", "s", 2, 0, 5 * MS, 9);
        h.granted("n2", "s", 2, 1 * MS, 4 * MS, 9);   // concurrent, so only uniqueness can catch it
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals("token 9 was granted twice", a.description());
        assertEquals(2, a.operations().size());
        assertEquals(0, a.fromNanos());
        assertEquals(5 * MS, a.toNanos());
    }

    @Test
    void aMutexUseOfAnOlderLeaseAfterANewerGrantIsShownWithThatGrant() {
        LockHistory h = new LockHistory();
        h.granted("n1", "m", 1, 0, 1 * MS, 1);
        h.use("n1", "m", 1, 2 * MS, 3 * MS);
        h.granted("n2", "m", 1, 2 * MS, 4 * MS, 2);
        h.use("n2", "m", 2, 5 * MS, 6 * MS);
        h.use("n1", "m", 1, 7 * MS, 8 * MS);   // n1 still held a valid lease after token 2 was granted
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertTrue(a.description().startsWith("the lease of token 1 was still in use after the lease of token 2 had"
                + " been granted"), a.description());
        assertEquals(List.of("acquire m on n2 -> granted token 2 [+0.000 .. +2.000 ms]",
                "use of m under token 1 on n1 [+5.000 .. +6.000 ms]"), a.operations());
        assertEquals(2 * MS, a.fromNanos());
        assertEquals(8 * MS, a.toNanos());
    }

    @Test
    void aUseAfterTheLeaseWasReleasedIsShownWithTheRelease() {
        LockHistory h = new LockHistory();
        h.granted("n1", "s", 3, 0, 1 * MS, 1);
        h.release("n1", "s", 1, 2 * MS, 3 * MS, true);
        h.use("n1", "s", 1, 2 * MS, 4 * MS);   // isValid() was still true after close() returned
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals("the lease of token 1 was still valid after its release had returned", a.description());
        assertEquals(2, a.operations().size());
    }

    @Test
    void aUseOfALeaseWithNoRecordedGrantIsARecordingError() {
        LockHistory h = new LockHistory();
        h.granted("n1", "m", 1, 0, 1, 1);
        h.use("n1", "m", 2, 2, 3);
        IllegalStateException e = assertThrows(IllegalStateException.class, h::check);
        assertTrue(e.getMessage().contains("lock 'm' under token 2"), e.getMessage());
    }

    @Test
    void oneLockRecordedWithDifferentPermitsIsARecordingError() {
        LockHistory h = new LockHistory();
        h.granted("n1", "m", 1, 0, 1, 1);
        h.notGranted("n2", "m", 2, 0, 1, Outcome.TIMED_OUT);
        assertThrows(IllegalStateException.class, h::check);
        assertThrows(IllegalArgumentException.class, () -> h.notGranted("n2", "m", 1, 0, 1, Outcome.GRANTED));
    }

    @Test
    void aHundredThousandOperationsAreCheckedAndOnePlantedOverlapIsFound() {
        Random random = new Random(3);
        LockHistory h = new LockHistory();
        long end = record(h, "m", 1, 14_000, random);
        record(h, "s", 2, 14_000, random);
        assertTrue(h.size() >= 100_000, "recorded " + h.size());
        assertNull(h.check());
        // a mutex holder that kept its lease while the next one was granted
        h.granted("x", "m", 1, end + 10, end + 20, Long.MAX_VALUE - 1);
        h.granted("y", "m", 1, end + 30, end + 40, Long.MAX_VALUE);
        h.use("x", "m", Long.MAX_VALUE - 1, end + 50, end + 70);
        h.use("y", "m", Long.MAX_VALUE, end + 60, end + 80);
        List<Anomaly> found = h.anomalies();
        assertEquals(2, found.size(), found.toString());   // the overlap, and the older lease used after the newer grant
        assertEquals(List.of(end + 50, end + 80), List.of(found.get(0).fromNanos(), found.get(0).toNanos()));
    }

    /**
     * Records {@code leases} leases of a lock with {@code permits} permits, correct by
     * construction: each permit is a lane of leases that follow each other; a lease's acquire,
     * one to three uses (of one or two threads), and its release all fall inside its turn, and
     * tokens increase with the turns. Returns when the last turn ended.
     */
    private static long record(LockHistory h, String lock, int permits, int leases, Random random) {
        long[] laneFree = new long[permits];
        long token = 0;
        long last = 0;
        for (int i = 0; i < leases; i++) {
            int lane = i % permits;
            long turn = Math.max(laneFree[lane], i * 100L / permits);
            long granted = turn + 1 + random.nextInt(10);
            h.granted("n" + random.nextInt(5), lock, permits, turn - random.nextInt(50), granted, ++token);
            long t = granted;
            for (int u = 1 + random.nextInt(2); u > 0; u--) {
                long useEnd = t + 1 + random.nextInt(20);
                h.use("n", lock, token, t + 1, useEnd);
                t = useEnd - random.nextInt(2) * (useEnd - t) / 2;   // sometimes the next use overlaps this one
            }
            long released = Math.max(t, granted) + 30;
            h.release("n", lock, token, released - 5, released, true);
            if (random.nextInt(10) == 0) {
                h.notGranted("n", lock, permits, turn, turn + 50, Outcome.TIMED_OUT);
            }
            laneFree[lane] = released + 1;
            last = released + 1;
        }
        return last;
    }
}
