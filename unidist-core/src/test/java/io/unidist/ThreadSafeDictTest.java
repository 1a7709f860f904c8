package io.unidist;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * The {@link Map} / {@link java.util.concurrent.ConcurrentMap} contract of {@link ThreadSafeDict}
 * (against {@link HashMap} as the reference), its views, snapshots, atomic multi-key operations,
 * reentrancy guard and listeners, on one thread. Concurrency is in {@link ThreadSafeStressTest}
 * and the Lincheck tests.
 */
class ThreadSafeDictTest {

    private final ThreadSafeDict<String, Integer> dict = new ThreadSafeDict<>();

    @Test
    void behavesLikeHashMapUnderRandomSingleKeyOperations() {
        Map<String, Integer> reference = new HashMap<>();
        Random random = new Random(42);
        BiFunction<Integer, Integer, Integer> sumOrRemove = (a, b) -> a + b > 6 ? null : a + b;
        for (int i = 0; i < 5_000; i++) {
            String key = "k" + random.nextInt(8);
            int value = random.nextInt(5);
            Object expected;
            Object actual;
            switch (random.nextInt(11)) {
                case 0 -> { expected = reference.put(key, value); actual = dict.put(key, value); }
                case 1 -> { expected = reference.get(key); actual = dict.get(key); }
                case 2 -> { expected = reference.remove(key); actual = dict.remove(key); }
                case 3 -> { expected = reference.putIfAbsent(key, value); actual = dict.putIfAbsent(key, value); }
                case 4 -> { expected = reference.remove(key, value); actual = dict.remove(key, value); }
                case 5 -> { expected = reference.replace(key, value); actual = dict.replace(key, value); }
                case 6 -> { expected = reference.replace(key, value, value + 1); actual = dict.replace(key, value, value + 1); }
                case 7 -> { expected = reference.merge(key, value, sumOrRemove); actual = dict.merge(key, value, sumOrRemove); }
                case 8 -> {
                    expected = reference.compute(key, (k, v) -> v == null ? Integer.valueOf(value) : sumOrRemove.apply(v, value));
                    actual = dict.compute(key, (k, v) -> v == null ? Integer.valueOf(value) : sumOrRemove.apply(v, value));
                }
                case 9 -> { expected = reference.computeIfAbsent(key, k -> value); actual = dict.computeIfAbsent(key, k -> value); }
                default -> {
                    expected = reference.computeIfPresent(key, (k, v) -> sumOrRemove.apply(v, value));
                    actual = dict.computeIfPresent(key, (k, v) -> sumOrRemove.apply(v, value));
                }
            }
            assertEquals(expected, actual, "operation " + i);
            assertEquals(reference.size(), dict.size());
        }
        assertMapEquals(reference, dict);
    }

    @Test
    void equalsAndHashCodeAgreeWithHashMapBothWays() {
        dict.put("a", 1);
        dict.put("b", 2);
        Map<String, Integer> same = new HashMap<>(Map.of("a", 1, "b", 2));
        assertMapEquals(same, dict);
        assertEquals(new ThreadSafeDict<>(same), dict);
        assertFalse(dict.equals(Map.of("a", 1)));
        assertFalse(dict.equals(Map.of("a", 1, "b", 3)));
        assertEquals("{a=1, b=2}".length(), dict.toString().length());
    }

    @Test
    void rejectsNullsNamingTheArgument() {
        assertEquals("key", assertThrows(NullPointerException.class, () -> dict.put(null, 1)).getMessage());
        assertEquals("value", assertThrows(NullPointerException.class, () -> dict.put("a", null)).getMessage());
        assertEquals("key", assertThrows(NullPointerException.class, () -> dict.get(null)).getMessage());
        assertEquals("value", assertThrows(NullPointerException.class, () -> dict.putIfAbsent("a", null)).getMessage());
        assertEquals("key", assertThrows(NullPointerException.class, () -> dict.remove(null)).getMessage());
        assertEquals("value", assertThrows(NullPointerException.class, () -> dict.containsValue(null)).getMessage());
        assertFalse(dict.remove("a", null));
    }

    @Test
    void snapshotIsAnImmutableCopyOfOnePointInTime() {
        dict.put("a", 1);
        Map<String, Integer> snapshot = dict.snapshot();
        dict.put("b", 2);
        assertEquals(Map.of("a", 1), snapshot);
        assertThrows(UnsupportedOperationException.class, () -> snapshot.put("c", 3));
    }

    @Test
    void putAllIsAllOrNothing() {
        Map<String, Integer> withNull = new HashMap<>();
        withNull.put("a", 1);
        withNull.put("b", null);
        assertThrows(NullPointerException.class, () -> dict.putAll(withNull));
        assertTrue(dict.isEmpty());
        dict.putAll(Map.of("a", 1, "b", 2));
        dict.putAll(dict);
        assertEquals(Map.of("a", 1, "b", 2), dict.snapshot());
    }

    @Test
    void removeAllReturnsWhatItRemoved() {
        dict.putAll(Map.of("a", 1, "b", 2, "c", 3));
        assertEquals(Map.of("a", 1, "c", 3), dict.removeAll(List.of("a", "c", "zz")));
        assertEquals(Map.of("b", 2), dict.snapshot());
    }

    @Test
    void atomicallyAppliesAllChangesAndReturnsResult() {
        dict.putAll(Map.of("alice", 100, "bob", 0));
        dict.atomically(m -> {
            m.merge("alice", -30, Integer::sum);
            m.merge("bob", 30, Integer::sum);
        });
        assertEquals(Map.of("alice", 70, "bob", 30), dict.snapshot());
        int total = dict.atomicallyApply(m -> m.get("alice") + m.get("bob"));
        assertEquals(100, total);
        dict.replaceAll((k, v) -> v * 2);
        assertEquals(Map.of("alice", 140, "bob", 60), dict.snapshot());
        dict.clear();
        assertTrue(dict.isEmpty());
    }

    @Test
    void callingTheDictFromInsideAtomicallyFailsInsteadOfDeadlocking() {
        dict.put("a", 1);
        assertThrows(IllegalStateException.class, () -> dict.atomically(m -> dict.get("a")));
        assertThrows(IllegalStateException.class, () -> dict.atomically(m -> dict.put("b", 2)));
        assertThrows(IllegalStateException.class, () -> dict.atomically(m -> dict.size()));
        AtomicReference<Map<String, Integer>> escaped = new AtomicReference<>();
        dict.atomically(escaped::set);
        assertThrows(IllegalStateException.class, () -> escaped.get().get("a"));
        assertEquals(1, dict.get("a")); // and the dict still works
    }

    @Test
    void viewsAreLiveAndIterateOverASnapshot() {
        dict.putAll(Map.of("a", 1, "b", 2, "c", 3));
        Set<String> keys = dict.keySet();
        assertEquals(Set.of("a", "b", "c"), keys);
        assertEquals(keys, Set.of("a", "b", "c"));
        assertTrue(keys.contains("a"));
        assertTrue(dict.values().contains(2));
        assertTrue(dict.entrySet().contains(Map.entry("c", 3)));

        Iterator<String> it = keys.iterator();
        dict.put("d", 4); // after the iterator started: not seen, and no ConcurrentModificationException
        List<String> seen = new ArrayList<>();
        it.forEachRemaining(seen::add);
        Collections.sort(seen);
        assertEquals(List.of("a", "b", "c"), seen);

        assertTrue(keys.remove("d"));
        assertTrue(dict.values().removeIf(v -> v == 2));
        assertTrue(dict.entrySet().remove(Map.entry("c", 3)));
        assertEquals(Map.of("a", 1), dict.snapshot());

        Map.Entry<String, Integer> entry = dict.entrySet().iterator().next();
        entry.setValue(10);
        assertEquals(10, dict.get("a"));
        Iterator<Integer> values = dict.values().iterator();
        values.next();
        values.remove();
        assertTrue(dict.isEmpty());
        assertThrows(UnsupportedOperationException.class, () -> keys.add("x"));
    }

    @Test
    void retainAllOnKeysIsAtomicAndExact() {
        dict.putAll(Map.of("a", 1, "b", 2, "c", 3));
        assertTrue(dict.keySet().retainAll(List.of("a", "c")));
        assertEquals(Map.of("a", 1, "c", 3), dict.snapshot());
        assertTrue(dict.keySet().removeAll(Set.of("a")));
        assertEquals(Map.of("c", 3), dict.snapshot());
    }

    @Test
    void listenerSeesEveryChangeInOrderOnlyAfterRegistering() {
        dict.put("before", 0);
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        Subscription subscription = dict.addListener((k, old, now) -> events.add(k + ":" + old + "->" + now));
        dict.put("a", 1);
        dict.put("a", 1); // no change: not reported
        dict.merge("a", 2, Integer::sum);
        dict.atomically(m -> {
            m.remove("a");
            m.put("b", 5);
        });
        dict.remove("before");
        await().until(() -> events.size() == 5);
        assertEquals(List.of("a:null->1", "a:1->3", "a:3->null", "b:null->5", "before:0->null"), events);

        subscription.close();
        subscription.close(); // idempotent
        dict.put("c", 1);
        await().until(() -> dict.containsKey("c"));
        assertEquals(5, events.size());
    }

    @Test
    void aThrowingListenerBreaksNeitherTheWriterNorOtherListeners() {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        dict.addListener((k, old, now) -> {
            throw new IllegalStateException("listener bug (expected by this test)");
        });
        dict.addListener((k, old, now) -> seen.add(k));
        dict.put("a", 1);
        dict.put("b", 2);
        await().until(() -> seen.size() == 2);
        assertEquals(List.of("a", "b"), seen);
    }

    @Test
    void aListenerMayWriteToTheDict() {
        dict.addListener((k, old, now) -> {
            if (k.equals("ping")) {
                dict.put("pong", now);
            }
        });
        dict.put("ping", 7);
        await().until(() -> Integer.valueOf(7).equals(dict.get("pong")));
    }

    @Test
    void getOrDefaultAndForEach() {
        assertEquals(9, dict.getOrDefault("x", 9));
        dict.put("x", 1);
        assertEquals(1, dict.getOrDefault("x", 9));
        Map<String, Integer> copy = new HashMap<>();
        dict.forEach((k, v) -> {
            copy.put(k, v);
            dict.put("during", 1); // allowed: forEach runs outside the lock, on a snapshot
        });
        assertEquals(Map.of("x", 1), copy);
        assertNull(dict.get("nope"));
    }

    private static void assertMapEquals(Map<String, Integer> expected, ThreadSafeDict<String, Integer> actual) {
        assertEquals(expected, actual.snapshot());
        assertTrue(actual.equals(expected));
        assertTrue(expected.equals(actual));
        assertEquals(expected.hashCode(), actual.hashCode());
        assertEquals(expected.keySet(), actual.keySet());
        assertEquals(expected.entrySet(), actual.entrySet());
        assertEquals(expected.isEmpty(), actual.isEmpty());
    }
}
