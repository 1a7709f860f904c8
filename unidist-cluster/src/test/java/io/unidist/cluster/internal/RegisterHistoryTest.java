package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The register checker accepts what is linearizable and catches what is not. */
class RegisterHistoryTest {
    @Test
    void acceptsConcurrentWritesSeenInEitherOrder() {
        RegisterHistory h = new RegisterHistory();
        h.put("k", 0, 10, "a");
        h.put("k", 1, 9, "b");
        h.get("k", 11, 12, "a");       // a was linearized after b
        h.replace("k", 13, 14, "a", "c", true);
        h.get("k", 15, 16, "c");
        h.putUnknown("k", 17, "z");    // failed, outcome unknown
        h.get("k", 18, 19, "c");       // it had not taken effect (yet)
        h.get("k", 20, 21, "z");       // now it has
        assertNull(h.check());
    }

    @Test
    void catchesAStaleRead() {
        RegisterHistory h = new RegisterHistory();
        h.put("k", 0, 1, "a");
        h.put("k", 2, 3, "b");
        h.get("k", 4, 5, "a");
        assertNotNull(h.check());
    }

    @Test
    void catchesAReadOfAValueNeverWritten() {
        RegisterHistory h = new RegisterHistory();
        h.put("k", 0, 1, "a");
        h.get("k", 2, 3, "ghost");
        assertNotNull(h.check());
    }

    @Test
    void catchesACompareAndSetThatSucceededAgainstTheWrongValue() {
        RegisterHistory h = new RegisterHistory();
        h.put("k", 0, 1, "a");
        h.replace("k", 2, 3, "x", "y", true);
        assertNotNull(h.check());
    }

    @Test
    void catchesAReadThatFlipsBack() {
        RegisterHistory h = new RegisterHistory();
        h.put("k", 0, 10, "a");
        h.put("k", 0, 10, "b");
        h.get("k", 11, 12, "a");
        h.get("k", 13, 14, "b");
        h.get("k", 15, 16, "a");   // once b followed a, a cannot come back without a write
        assertNotNull(h.check());
    }

    private static final long MS = 1_000_000;

    @Test
    void aStaleReadInALongHistoryShrinksToTheWriteItMissedAndTheRead() {
        RegisterHistory h = new RegisterHistory("s");
        for (int i = 0; i < 30; i++) {
            h.put("k", 10 * i * MS, (10 * i + 5) * MS, "v" + i);
            h.get("k", (10 * i + 6) * MS, (10 * i + 8) * MS, i == 11 ? "v10" : "v" + i);   // the 12th read is stale
        }
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals("s", a.checker());
        assertTrue(a.description().startsWith("key 'k' is not linearizable: no order of these 2 of its 60 operations"),
                a.description());
        assertTrue(a.description().contains("whatever the key held before them"), a.description());
        assertEquals(List.of("put k = v11 [+0.000 .. +5.000 ms]", "get k -> v10 [+6.000 .. +8.000 ms]"), a.operations());
        assertEquals(110 * MS, a.fromNanos());
        assertEquals(118 * MS, a.toNanos());
    }

    @Test
    void readsThatFlipShrinkToTheTwoReads() {
        RegisterHistory h = new RegisterHistory();
        h.put("k", 0, 10 * MS, "a");
        h.put("k", 0, 10 * MS, "b");
        h.get("k", 11 * MS, 12 * MS, "a");
        h.get("k", 13 * MS, 14 * MS, "b");
        h.get("k", 15 * MS, 16 * MS, "a");
        Anomaly a = h.anomaly();
        assertNotNull(a);
        // with no write running after the first read, two reads in a row cannot see different values
        assertEquals(List.of("get k -> a [+0.000 .. +1.000 ms]", "get k -> b [+2.000 .. +3.000 ms]"), a.operations());
        assertEquals(11 * MS, a.fromNanos());
        assertEquals(14 * MS, a.toNanos());
    }

    @Test
    void aWriteNobodyReadsIsLeftOutOfTheWindow() {
        RegisterHistory h = new RegisterHistory();
        h.put("k", 0, 1 * MS, "a");
        h.put("k", 2 * MS, 30 * MS, "b");           // still running at the window's start; nobody reads b
        h.put("k", 3 * MS, 4 * MS, "c");
        h.get("k", 5 * MS, 6 * MS, "c");
        h.get("k", 7 * MS, 8 * MS, "a");            // a was overwritten by c, and only b could follow c
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals(List.of("get k -> c [+0.000 .. +1.000 ms]", "get k -> a [+2.000 .. +3.000 ms]"), a.operations());
        assertEquals(5 * MS, a.fromNanos());
        assertEquals(8 * MS, a.toNanos());
    }

    @Test
    void aPendingWriteThatExplainsAReadStaysInTheWindow() {
        RegisterHistory h = new RegisterHistory();
        h.put("k", 0, 1 * MS, "a");
        h.putUnknown("k", 2 * MS, "b");
        h.get("k", 3 * MS, 4 * MS, "a");
        h.get("k", 5 * MS, 6 * MS, "b");                        // the unknown put took effect
        h.replace("k", 7 * MS, 8 * MS, "b", "c", true);
        h.replaceUnknown("k", 9 * MS, "never-written", "x");     // can never match: dropped before the search
        h.replace("k", 10 * MS, 11 * MS, "c", "d", false);      // failed although the key held c
        Anomaly a = h.anomaly();
        assertNotNull(a);
        // without the read of a, the unknown put could come after the compare-and-set and explain the failure
        assertEquals(List.of("put k = b: unknown [+0.000 ms .. no answer]", "get k -> a [+1.000 .. +2.000 ms]",
                "replace k b -> c: ok [+5.000 .. +6.000 ms]", "replace k c -> d: failed [+8.000 .. +9.000 ms]"),
                a.operations());
        assertEquals(2 * MS, a.fromNanos());
        assertEquals(11 * MS, a.toNanos());
    }

    @Test
    void manyUnknownWritesOfValuesNobodyReadsDoNotBlowUpTheSearch() {
        RegisterHistory h = new RegisterHistory();
        for (int i = 0; i < 50; i++) {
            h.putUnknown("k", i, "lost-" + i);   // 2^50 subsets, were they told apart
        }
        h.put("k", 100, 101, "a");
        h.put("k", 102, 103, "b");
        h.get("k", 104, 105, "a");
        for (int i = 0; i < 10; i++) {
            h.get("k", 106 + i, 200, "a");
        }
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertEquals(List.of("put k = b [+0.000 .. +0.000 ms]", "get k -> a [+0.000 .. +0.000 ms]"), a.operations());
    }

    @Test
    void compareAndSetsThatCanNeverMatchDoNotCountAgainstTheLimit() {
        RegisterHistory h = new RegisterHistory();
        for (int i = 0; i < 60; i++) {
            h.put("k", 10 * i, 10 * i + 1, "v" + i);
            h.replace("k", 10 * i + 2, 10 * i + 3, "never-written", "x" + i, false);
        }
        assertNull(h.check());
        h.put("k", 1000, 1001, "v60");
        h.put("k", 1002, 1003, "v61");
        h.put("k", 1004, 1005, "v62");
        h.put("k", 1006, 1007, "v63");
        IllegalStateException e = assertThrows(IllegalStateException.class, h::check);
        assertTrue(e.getMessage().contains("key 'k' of state has 64 operations"), e.getMessage());
    }

    @Test
    void manyKeysOfConcurrentOperationsWithUnknownOutcomesAreLinearizable() {
        Random random = new Random(11);
        RegisterHistory h = new RegisterHistory();
        for (int k = 0; k < 1_000; k++) {
            record("k" + k, 60, random, h);
        }
        assertEquals(60_000, h.size());
        assertNull(h.check());
        h.get("k77", 10_000, 10_001, "made-up");   // k77 has 61 operations now
        Anomaly a = h.anomaly();
        assertNotNull(a);
        assertTrue(a.description().startsWith("key 'k77' is not linearizable"), a.description());
        // the read, and what pins the key to another value before it (a write and a read of it, or a read)
        assertTrue(a.operations().size() <= 3, a.toString());
        assertTrue(a.operations().get(a.operations().size() - 1).startsWith("get k77 -> made-up"), a.toString());
        assertEquals(10_001, a.toNanos());
    }

    /**
     * Records {@code n} operations on {@code key} that are linearizable by construction: the i-th
     * takes effect at 10 * i, inside a call that spans up to 35 ns either side (about seven
     * overlap); one write in five has an unknown outcome and takes effect half the time.
     */
    private static void record(String key, int n, Random random, RegisterHistory h) {
        String current = null;
        for (int i = 1; i <= n; i++) {
            long at = 10L * i;
            long start = at - random.nextInt(35);
            long end = at + random.nextInt(35);
            String value = key + "-" + i;
            boolean unknown = random.nextInt(5) == 0;
            boolean takesEffect = !unknown || random.nextBoolean();
            switch (random.nextInt(3)) {
                case 0 -> {
                    if (unknown) {
                        h.putUnknown(key, start, value);
                    } else {
                        h.put(key, start, end, value);
                    }
                    current = takesEffect ? value : current;
                }
                case 1 -> {
                    String expected = random.nextBoolean() || current == null ? key + "-" + random.nextInt(i) : current;
                    boolean matches = expected.equals(current);
                    if (unknown) {
                        h.replaceUnknown(key, start, expected, value);
                    } else {
                        h.replace(key, start, end, expected, value, matches);
                    }
                    current = matches && takesEffect ? value : current;
                }
                default -> h.get(key, start, end, current);
            }
        }
    }
}
