package io.unidist;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.ConcurrentModificationException;
import java.util.List;
import java.util.ListIterator;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The {@link List} contract of {@link ThreadSafeList} (against {@link ArrayList} as the
 * reference), snapshots and iterators, atomic bulk operations, the subList view, the
 * reentrancy guard and listeners (replaying the reported changes rebuilds the list), on one
 * thread. Concurrency is in {@link ThreadSafeStressTest} and the Lincheck tests.
 */
class ThreadSafeListTest {

    private final ThreadSafeList<Integer> list = new ThreadSafeList<>();

    @Test
    void behavesLikeArrayListUnderRandomOperations() {
        List<Integer> reference = new ArrayList<>();
        Random random = new Random(7);
        for (int i = 0; i < 5_000; i++) {
            int value = random.nextInt(6);
            Object expected;
            Object actual;
            int index = reference.isEmpty() ? 0 : random.nextInt(reference.size());
            switch (random.nextInt(12)) {
                case 0, 1 -> { expected = reference.add(value); actual = list.add(value); }
                case 2 -> { reference.add(index, value); list.add(index, value); expected = actual = null; }
                case 3 -> { expected = reference.isEmpty() ? null : reference.get(index); actual = list.isEmpty() ? null : list.get(index); }
                case 4 -> { expected = reference.isEmpty() ? null : reference.set(index, value); actual = list.isEmpty() ? null : list.set(index, value); }
                case 5 -> { expected = reference.isEmpty() ? null : reference.remove(index); actual = list.isEmpty() ? null : list.remove(index); }
                case 6 -> { expected = reference.remove(Integer.valueOf(value)); actual = list.remove(Integer.valueOf(value)); }
                case 7 -> { expected = reference.indexOf(value); actual = list.indexOf(value); }
                case 8 -> { expected = reference.lastIndexOf(value); actual = list.lastIndexOf(value); }
                case 9 -> { expected = reference.contains(value); actual = list.contains(value); }
                case 10 -> { expected = reference.removeIf(e -> e == value); actual = list.removeIf(e -> e == value); }
                default -> { expected = reference.addAll(List.of(value, value + 1)); actual = list.addAll(List.of(value, value + 1)); }
            }
            assertEquals(expected, actual, "operation " + i);
            assertEquals(reference.size(), list.size());
        }
        assertListEquals(reference, list);
    }

    @Test
    void bulkOperationsMatchArrayList() {
        List<Integer> reference = new ArrayList<>(List.of(5, 3, 1, 4, 1, 5, 9, 2, 6));
        ThreadSafeList<Integer> copy = new ThreadSafeList<>(reference);
        reference.sort(null);
        copy.sort(null);
        assertListEquals(reference, copy);
        reference.replaceAll(e -> e * 10);
        copy.replaceAll(e -> e * 10);
        reference.removeAll(List.of(10, 90));
        copy.removeAll(List.of(10, 90));
        reference.retainAll(List.of(20, 30, 50, 60));
        copy.retainAll(List.of(20, 30, 50, 60));
        reference.addAll(1, List.of(7, 8));
        copy.addAll(1, List.of(7, 8));
        assertListEquals(reference, copy);
        assertTrue(copy.containsAll(List.of(7, 8, 20)));
        copy.clear();
        assertTrue(copy.isEmpty());
    }

    @Test
    void failingBulkOperationsLeaveTheListUnchanged() {
        list.addAll(List.of(3, 1, 2));
        Comparator<Integer> throwing = (a, b) -> {
            throw new IllegalStateException("comparator bug (expected by this test)");
        };
        assertThrows(IllegalStateException.class, () -> list.sort(throwing));
        assertThrows(IllegalStateException.class, () -> list.removeIf(e -> {
            if (e == 2) {
                throw new IllegalStateException("predicate bug (expected by this test)");
            }
            return true;
        }));
        assertThrows(NullPointerException.class, () -> list.addAll(java.util.Arrays.asList(4, null)));
        assertEquals(List.of(3, 1, 2), list.snapshot());
    }

    @Test
    void rejectsNullsNamingTheArgument() {
        assertEquals("element", assertThrows(NullPointerException.class, () -> list.add(null)).getMessage());
        assertEquals("element", assertThrows(NullPointerException.class, () -> list.add(0, null)).getMessage());
        list.add(1);
        assertEquals("element", assertThrows(NullPointerException.class, () -> list.set(0, null)).getMessage());
        assertFalse(list.contains(null));
        assertEquals(-1, list.indexOf(null));
    }

    @Test
    void iteratorsWorkOnASnapshotAndAreReadOnly() {
        list.addAll(List.of(1, 2, 3));
        Iterator<Integer> it = list.iterator();
        list.add(4); // no ConcurrentModificationException, not seen
        List<Integer> seen = new ArrayList<>();
        it.forEachRemaining(seen::add);
        assertEquals(List.of(1, 2, 3), seen);
        assertThrows(UnsupportedOperationException.class, () -> list.iterator().remove());
        ListIterator<Integer> listIterator = list.listIterator(2);
        assertEquals(3, listIterator.next());
        assertEquals(List.of(1, 2, 3, 4), list.stream().collect(Collectors.toList()));
        List<Integer> snapshot = list.snapshot();
        list.forEach(e -> list.add(e)); // forEach runs outside the lock, on a snapshot
        assertEquals(List.of(1, 2, 3, 4), snapshot);
        assertEquals(8, list.size());
    }

    /**
     * Proves that subList is a live view with ArrayList.subList's behaviour: reads, set and
     * structural changes through it (checked against an ArrayList's subList after every random
     * operation) change the list, and listeners hear of each with its index in the whole list.
     */
    @Test
    void subListIsALiveViewLikeArrayListsAndItsChangesAreReported() {
        list.addAll(List.of(0, 1, 2, 3, 4, 5));
        List<Integer> reference = new ArrayList<>(list.snapshot());
        List<Integer> mirror = Collections.synchronizedList(new ArrayList<>(list.snapshot()));
        list.addListener((index, removed, added) -> {
            if (removed == null) {
                mirror.add(index, added);
            } else if (added == null) {
                assertEquals(removed, mirror.remove(index));
            } else {
                assertEquals(removed, mirror.set(index, added));
            }
        });
        List<Integer> expectedView = reference.subList(1, 5);
        List<Integer> view = list.subList(1, 5);
        Random random = new Random(11);
        for (int i = 0; i < 2_000; i++) {
            int value = random.nextInt(6);
            int index = expectedView.isEmpty() ? 0 : random.nextInt(expectedView.size());
            Object expected;
            Object actual;
            switch (random.nextInt(11)) {
                case 0, 1 -> { expected = expectedView.add(value); actual = view.add(value); }
                case 2 -> { expectedView.add(index, value); view.add(index, value); expected = actual = null; }
                case 3 -> { expected = expectedView.isEmpty() ? null : expectedView.get(index); actual = view.isEmpty() ? null : view.get(index); }
                case 4 -> { expected = expectedView.isEmpty() ? null : expectedView.set(index, value); actual = view.isEmpty() ? null : view.set(index, value); }
                case 5 -> { expected = expectedView.isEmpty() ? null : expectedView.remove(index); actual = view.isEmpty() ? null : view.remove(index); }
                case 6 -> { expected = expectedView.remove(Integer.valueOf(value)); actual = view.remove(Integer.valueOf(value)); }
                case 7 -> { expected = expectedView.indexOf(value); actual = view.indexOf(value); }
                case 8 -> { expected = expectedView.removeIf(e -> e == value); actual = view.removeIf(e -> e == value); }
                case 9 -> { expected = expectedView.addAll(1 % (expectedView.size() + 1), List.of(value, 5)); actual = view.addAll(1 % (view.size() + 1), List.of(value, 5)); }
                default -> {
                    if (random.nextInt(10) == 0) {
                        expectedView.clear();
                        view.clear();
                    }
                    expected = expectedView.size();
                    actual = view.size();
                }
            }
            assertEquals(expected, actual, "operation " + i);
            assertEquals(expectedView, view, "operation " + i);
            assertListEquals(reference, list);
        }
        await().until(() -> mirror.equals(list.snapshot()));
    }

    /**
     * Proves that a view fails with ConcurrentModificationException once the list was changed
     * structurally around it, as List.subList allows, but not after a set; and that a view of a
     * view keeps its parent valid.
     */
    @Test
    void aSubListFailsOnceTheListChangedAroundIt() {
        list.addAll(List.of(1, 2, 3, 4, 5));
        List<Integer> view = list.subList(1, 4);
        list.set(0, 10);
        assertEquals(List.of(2, 3, 4), view, "a set around the view keeps it valid");

        List<Integer> inner = view.subList(1, 3);
        inner.clear();
        assertEquals(List.of(2), view, "changes through an inner view keep the outer one valid");
        view.add(7);
        assertEquals(List.of(10, 2, 7, 5), list.snapshot());

        list.add(0, 0);
        ConcurrentModificationException e = assertThrows(ConcurrentModificationException.class, view::size);
        assertTrue(e.getMessage().contains("subList(1, 3)"), e.getMessage());
        assertThrows(ConcurrentModificationException.class, () -> view.add(1));
        assertEquals(List.of(0, 10, 2, 7, 5), list.snapshot(), "a failed call changes nothing");
    }

    /** Proves that a view's iterators are read-only copies, and that bad ranges are refused. */
    @Test
    void subListIteratorsAreCopiesAndBadRangesAreRefused() {
        list.addAll(List.of(1, 2, 3, 4));
        List<Integer> view = list.subList(1, 3);
        Iterator<Integer> it = view.iterator();
        view.set(0, 20);
        assertEquals(2, it.next(), "the iterator shows the range as it was when it started");
        assertThrows(UnsupportedOperationException.class, it::remove);
        assertThrows(IndexOutOfBoundsException.class, () -> list.subList(2, 5));
        assertThrows(IndexOutOfBoundsException.class, () -> list.subList(3, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> view.get(2));
        assertThrows(NullPointerException.class, () -> view.add(null));
        assertEquals(List.of(1, 20, 3, 4), list.snapshot());
        list.atomically(l -> l.subList(1, 3).clear());
        assertEquals(List.of(1, 4), list.snapshot());
    }

    @Test
    void addIfAbsentAndAddAllAbsent() {
        assertTrue(list.addIfAbsent(1));
        assertFalse(list.addIfAbsent(1));
        assertEquals(2, list.addAllAbsent(List.of(1, 2, 2, 3)));
        assertEquals(List.of(1, 2, 3), list.snapshot());
    }

    @Test
    void callingTheListFromInsideAtomicallyFailsInsteadOfDeadlocking() {
        list.add(1);
        assertThrows(IllegalStateException.class, () -> list.atomically(l -> list.get(0)));
        assertThrows(IllegalStateException.class, () -> list.atomically(l -> list.add(2)));
        AtomicReference<List<Integer>> escaped = new AtomicReference<>();
        list.atomically(escaped::set);
        assertThrows(IllegalStateException.class, () -> escaped.get().size());
        assertEquals(List.of(1), list.snapshot());
        int size = list.atomicallyApply(List::size);
        assertEquals(1, size);
    }

    @Test
    void listenerChangesReplayedOnACopyRebuildTheList() {
        list.addAll(List.of(9, 8));
        List<Integer> mirror = Collections.synchronizedList(new ArrayList<>(list.snapshot()));
        list.addListener((index, removed, added) -> {
            if (removed == null) {
                mirror.add(index, added);
            } else if (added == null) {
                assertEquals(removed, mirror.remove(index));
            } else {
                assertEquals(removed, mirror.set(index, added));
            }
        });
        Random random = new Random(3);
        for (int i = 0; i < 300; i++) {
            switch (random.nextInt(8)) {
                case 0 -> list.add(random.nextInt(10));
                case 1 -> list.add(0, random.nextInt(10));
                case 2 -> list.removeIf(e -> e == 3);
                case 3 -> list.sort(Comparator.reverseOrder());
                case 4 -> list.replaceAll(e -> (e + 1) % 10);
                case 5 -> list.atomically(l -> {
                    l.add(1);
                    if (l.size() > 3) {
                        l.subList(1, 3).clear();
                    }
                });
                case 6 -> list.remove(Integer.valueOf(random.nextInt(10)));
                default -> {
                    if (list.size() > 20) {
                        list.clear();
                    }
                }
            }
        }
        await().until(() -> mirror.equals(list.snapshot()));
    }

    @Test
    void aThrowingListenerBreaksNeitherTheWriterNorOtherListeners() {
        List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
        list.addListener((index, removed, added) -> {
            throw new IllegalStateException("listener bug (expected by this test)");
        });
        Subscription subscription = list.addListener((index, removed, added) -> seen.add(added));
        list.add(1);
        list.add(2);
        await().until(() -> seen.size() == 2);
        subscription.close();
        list.add(3);
        assertEquals(List.of(1, 2), seen);
    }

    private static void assertListEquals(List<Integer> expected, ThreadSafeList<Integer> actual) {
        assertEquals(expected, actual.snapshot());
        assertTrue(actual.equals(expected));
        assertTrue(expected.equals(actual));
        assertEquals(expected.hashCode(), actual.hashCode());
        assertEquals(expected.toString(), actual.toString());
        assertEquals(expected, List.of(actual.toArray()));
    }
}
