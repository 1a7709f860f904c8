package io.unidist.contract;

import static io.unidist.contract.Checks.assertMentions;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.SharedState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The contract of {@link io.unidist.SharedState}, for every implementation. */
public abstract class StateContract extends ContractBase {

    @Test
    void putGetRemove() {
        SharedState<String> s = node().state(uniqueName("bucket"), String.class);
        assertEquals(Optional.empty(), s.get("a"));
        s.put("a", "1");
        assertEquals(Optional.of("1"), peer().state(s.name(), String.class).get("a"));
        s.put("a", "2");
        assertEquals(Optional.of("2"), s.get("a"));
        assertTrue(s.remove("a"));
        assertFalse(s.remove("a"));
        assertEquals(Optional.empty(), s.get("a"));
    }

    @Test
    void conditionalWrites() {
        SharedState<Long> s = node().state(uniqueName("bucket"), Long.class);
        assertTrue(s.putIfAbsent("k", 1L));
        assertFalse(peer().state(s.name(), Long.class).putIfAbsent("k", 2L));
        assertEquals(Optional.of(1L), s.get("k"));
        assertFalse(s.replace("k", 5L, 6L));
        assertTrue(s.replace("k", 1L, 6L));
        assertEquals(Optional.of(6L), s.get("k"));
        assertFalse(s.replace("missing", 1L, 2L));
        assertFalse(s.keys().contains("missing"));
    }

    @Test
    void keysAndSnapshot() {
        SharedState<Integer> s = node().state(uniqueName("bucket"), Integer.class);
        for (int i = 0; i < 20; i++) {
            s.put("k" + i, i);
        }
        s.remove("k3");
        Set<String> keys = s.keys();
        assertEquals(19, keys.size());
        assertFalse(keys.contains("k3"));
        Map<String, Integer> snap = peer().state(s.name(), Integer.class).snapshot();
        assertEquals(19, snap.size());
        assertEquals(7, snap.get("k7"));
        assertThrows(UnsupportedOperationException.class, () -> snap.put("x", 1));
        s.put("late", 1);
        assertFalse(snap.containsKey("late"), "a snapshot is a point in time");
    }

    @Test
    void valuesAreCopiesNotShared() {
        @SuppressWarnings("rawtypes")
        SharedState<List> s = node().state(uniqueName("bucket"), List.class);
        List<String> mine = new ArrayList<>(List.of("a", "b"));
        s.put("list", mine);
        mine.add("c");
        assertEquals(List.of("a", "b"), s.get("list").orElseThrow());
        assertNotSame(s.get("list").orElseThrow(), s.get("list").orElseThrow());
        @SuppressWarnings("unchecked")
        List<String> read = s.get("list").orElseThrow();
        read.add("z");
        assertEquals(List.of("a", "b"), s.get("list").orElseThrow());
    }

    @Test
    void builtInTypesNeedNoRegistration() {
        SharedState<Object> s = node().state(uniqueName("bucket"), Object.class);
        Map<String, Object> nested = new HashMap<>();
        nested.put("n", List.of(1L, 2L, Set.of("x")));
        s.put("map", nested);
        s.put("bytes", new byte[] {1, 2, 3});
        s.put("double", 2.5d);
        s.put("bool", Boolean.TRUE);
        s.put("int", 7);
        assertEquals(nested, s.get("map").orElseThrow());
        assertArrayEquals(new byte[] {1, 2, 3}, (byte[]) s.get("bytes").orElseThrow());
        assertTrue(s.replace("bytes", new byte[] {1, 2, 3}, new byte[] {4}), "replace compares arrays by content");
        assertEquals(2.5d, s.get("double").orElseThrow());
        assertEquals(Boolean.TRUE, s.get("bool").orElseThrow());
        assertEquals(7, s.get("int").orElseThrow());
    }

    /** Not registered anywhere. */
    public static final class Unregistered {
        int x;
    }

    @Test
    void badBucketNamesAreRejectedWithClearMessages() {
        assertMentions(assertThrows(NullPointerException.class, () -> node().state(null, String.class)), "bucket name");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> node().state("", String.class)), "bucket name", "empty");
    }

    @Test
    void badInputIsRejectedAndChangesNothing() {
        SharedState<String> s = node().state(uniqueName("bucket"), String.class);
        s.put("k", "v");
        assertMentions(assertThrows(NullPointerException.class, () -> s.put(null, "v")), "key");
        assertMentions(assertThrows(NullPointerException.class, () -> s.put("k", null)), "value");
        @SuppressWarnings({"unchecked", "rawtypes"})
        SharedState<Object> raw = (SharedState) s;
        assertMentions(assertThrows(IllegalArgumentException.class, () -> raw.put("k", 42)),
                s.name(), "java.lang.String", "java.lang.Integer");
        SharedState<Object> any = node().state(uniqueName("bucket"), Object.class);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> any.put("k", new Unregistered()));
        assertMentions(e, "unregistered class", Unregistered.class.getName(), "Serializers.register");
        IllegalArgumentException nestedError = assertThrows(IllegalArgumentException.class,
                () -> any.put("k", List.of(new Unregistered())));
        assertMentions(nestedError, Unregistered.class.getName());
        assertEquals(Optional.empty(), any.get("k"));
        assertEquals(Optional.of("v"), s.get("k"));
        assertMentions(assertThrows(IllegalArgumentException.class,
                () -> node().state(uniqueName("bucket"), Unregistered.class)), "Serializers.register");
        assertMentions(assertThrows(IllegalArgumentException.class,
                () -> node().state(s.name(), Long.class)), s.name(), "java.lang.String");
    }

    @Test
    void anEntryWithATimeToLiveExpires() {
        SharedState<String> s = node().state(uniqueName("bucket"), String.class);
        s.put("session", "token", java.time.Duration.ofMillis(300));
        s.put("forever", "x");
        assertEquals(Optional.of("token"), peer().state(s.name(), String.class).get("session"));
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> s.get("session").isEmpty());
        assertEquals(Set.of("forever"), s.keys());
        assertThrows(IllegalArgumentException.class, () -> s.put("k", "v", java.time.Duration.ZERO));
    }

    @Test
    void aWatcherSeesEveryChangeInOrderUntilItStops() {
        SharedState<String> s = node().state(uniqueName("bucket"), String.class);
        s.put("before", "not seen");
        List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        io.unidist.Subscription sub = peer().state(s.name(), String.class)
                .watch((key, value) -> seen.add(key + "=" + value.orElse("-")));
        s.put("a", "1");
        s.put("a", "2");
        s.remove("a");
        peer().state(s.name(), String.class).put("b", "3");
        s.put("c", "4", java.time.Duration.ofMillis(200));
        List<String> expected = List.of("a=1", "a=2", "a=-", "b=3", "c=4", "c=-");
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> seen.size() >= expected.size());
        assertEquals(expected, new ArrayList<>(seen));
        sub.close();
        s.put("after", "5");
        org.awaitility.Awaitility.await().during(java.time.Duration.ofMillis(500)).atMost(java.time.Duration.ofSeconds(2))
                .until(() -> seen.size() == expected.size());
    }

    @Test
    void concurrentPutIfAbsentHasOneWinnerPerKey() throws Exception {
        SharedState<String> s = node().state(uniqueName("bucket"), String.class);
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<Integer>> wins = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            SharedState<String> mine = t % 2 == 0 ? s : peer().state(s.name(), String.class);
            String me = "t" + t;
            wins.add(pool.submit(() -> {
                int won = 0;
                for (int k = 0; k < 40; k++) {
                    if (mine.putIfAbsent("key" + k, me)) {
                        won++;
                    }
                }
                return won;
            }));
        }
        int total = 0;
        for (Future<Integer> f : wins) {
            total += f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdownNow();
        assertEquals(40, total);
        assertEquals(40, s.snapshot().size());
    }
}
