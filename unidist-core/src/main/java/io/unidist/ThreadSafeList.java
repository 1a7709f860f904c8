package io.unidist;

import io.unidist.internal.ChangeFeed;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.ListIterator;
import java.util.Objects;
import java.util.RandomAccess;
import java.util.Set;
import java.util.Spliterator;
import java.util.concurrent.locks.StampedLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * How it works
 *
 * An ArrayList guarded by a StampedLock: writes take the write lock, reads that call user code
 * (contains, indexOf, equals, hashCode) or copy (snapshot, toArray) take the read lock. Since
 * every operation of an ArrayList happens entirely inside one lock hold, each is atomic and the
 * list is linearizable, bulk operations included.
 *
 * get(index) and size() - the hot reads - are optimistic: read the ArrayList with no lock,
 * then validate() the stamp. A valid stamp proves no write overlapped, so the value read is the
 * list's state at that point; a racy read that tore (an IndexOutOfBoundsException, a stale
 * array) fails validation and is retried under the read lock. This is the idiom of the
 * StampedLock javadoc: nothing read optimistically is used before validation.
 *
 * Iterators, listIterator, spliterator, stream and forEach work on snapshot(): an immutable
 * copy, so they never throw ConcurrentModificationException and never see a half-done bulk
 * write, at the cost of an O(n) copy (CopyOnWriteArrayList pays that on every write instead).
 * They are read-only. subList is a live view (ThreadSafeSubList) that, like CopyOnWriteArrayList's,
 * locks the list for each call and fails with ConcurrentModificationException once the list was
 * structurally changed around it: it compares the ArrayList's modCount, which every structural
 * change (and sort, replaceAll) moves, with the value it saw after its own last change.
 *
 * Writes go through a RecordingList: the ArrayList plus, when someone listens, one recorded
 * change per inserted, removed or replaced element, published while the write lock is held
 * (so in linearization order) and delivered after it is released by ChangeFeed.
 * Bulk operations compute what to do before changing anything where they can (removeIf, sort,
 * addAll check their input first), so a throwing predicate, comparator or null leaves the list
 * unchanged.
 *
 * Reentrancy: StampedLock is not reentrant; a call on this list from inside atomically(...) is
 * detected on the slow path and fails with IllegalStateException instead of deadlocking.
 */

/**
 * A {@link List} in which <em>every</em> operation is linearizable: single-element operations,
 * {@link #size()}, {@link #contains(Object)}, {@link #snapshot()}, and the bulk operations
 * ({@code addAll}, {@code removeAll}, {@code retainAll}, {@code removeIf}, {@code replaceAll},
 * {@code sort}, {@code clear}, {@link #addAllAbsent(Collection)},
 * {@link #atomically(Consumer)}), each of which takes effect at one point in time.
 *
 * <p><b>Thread safety.</b> Every method may be called from any thread. {@code get} and
 * {@code size} do not block unless a write is running; other reads run in parallel; writes
 * run one at a time. Functions, predicates, comparators and the elements' {@code equals} and
 * {@code hashCode} run with the list locked: they must not call this list (from inside
 * {@link #atomically(Consumer)} that throws {@link IllegalStateException}).
 *
 * <p><b>Iteration.</b> {@link #iterator()}, {@link #listIterator()}, {@link #spliterator()},
 * {@link #stream()} and {@link #forEach(Consumer)} work on a {@link #snapshot()} taken when they
 * start: they never throw {@link java.util.ConcurrentModificationException}, show the list as it
 * was at that point, and are read-only ({@code remove}, {@code set} and {@code add} on them throw
 * {@link UnsupportedOperationException}). Each costs an O(n) copy.
 *
 * <p><b>subList</b> returns a live view with the full {@link List} contract: reads, {@code set},
 * and structural changes ({@code add}, {@code remove}, {@code clear}, the bulk operations)
 * through the view change this list, each call atomically and reported to listeners with its
 * index in this list. As {@link List#subList} says, the view is valid only while this list is
 * structurally changed through the view alone: after any other structural change (by any
 * thread), every call on the view throws {@link java.util.ConcurrentModificationException}, as
 * with {@link java.util.concurrent.CopyOnWriteArrayList#subList}. Its iterators work on a copy
 * of the range, read-only, as this list's. With other threads writing, use
 * {@code snapshot().subList(from, to)} for a stable read-only copy, or
 * {@code atomically(list -> list.subList(from, to).clear())} to change a range with no risk of
 * the view being invalidated.
 *
 * <p><b>Nulls</b> are rejected with a {@link NullPointerException} naming {@code "element"}.
 *
 * <p><b>Listeners.</b> {@link #addListener(ListListener)} reports every change, once, in the
 * order the changes took effect, never under the list's lock; see {@link ListListener}.
 *
 * @param <E> the type of elements
 */
public class ThreadSafeList<E> implements List<E> {

    private static final Logger LOG = LoggerFactory.getLogger(ThreadSafeList.class);

    private final CountingArrayList<E> elements = new CountingArrayList<>();
    private final StampedLock lock = new StampedLock();
    private final ChangeFeed<ListListener<? super E>> feed =
            new ChangeFeed<>(LOG, "ThreadSafeList");
    /** The thread holding the write lock, so that a reentrant call fails instead of hanging. */
    private volatile Thread writer;

    /** Creates an empty list. */
    public ThreadSafeList() {
    }

    /**
     * Creates a list holding the elements of {@code initial}, in its iteration order.
     *
     * @param initial the elements to copy
     * @throws NullPointerException if {@code initial} or any of its elements is null
     */
    public ThreadSafeList(Collection<? extends E> initial) {
        addAll(initial);
    }

    // ---------------------------------------------------------------- listeners

    /**
     * Registers a listener told of every change that takes effect after this method returns,
     * once each, in the order they took effect. See {@link ListListener} for the thread it runs
     * on and what happens when it throws. Linearizable.
     *
     * @param listener the listener
     * @return the registration; closing it stops further calls (a call running on another
     *     thread at that moment is waited for)
     * @throws NullPointerException if {@code listener} is null
     */
    public Subscription addListener(ListListener<? super E> listener) {
        Objects.requireNonNull(listener, "listener");
        return write(list -> feed.register(listener));
    }

    // ---------------------------------------------------------------- reads

    /**
     * Returns an immutable copy of the elements as they were at one point in time.
     * Linearizable; O(n).
     *
     * @return the elements, never null
     */
    public List<E> snapshot() {
        return read(List::copyOf);
    }

    /** Returns the exact number of elements at one point in time. Linearizable; non-blocking unless a write runs. */
    @Override
    public int size() {
        long stamp = lock.tryOptimisticRead();
        int size = elements.size();
        return lock.validate(stamp) ? size : read(ArrayList::size);
    }

    /** Returns whether the list is empty, at one point in time. Linearizable. */
    @Override
    public boolean isEmpty() {
        return size() == 0;
    }

    /**
     * Returns the element at {@code index}. Linearizable; non-blocking unless a write runs.
     *
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, size())} at that point
     */
    @Override
    public E get(int index) {
        long stamp = lock.tryOptimisticRead();
        if (stamp != 0L) {
            try {
                E element = elements.get(index);
                if (lock.validate(stamp)) {
                    return element;
                }
            } catch (IndexOutOfBoundsException e) {
                if (lock.validate(stamp)) {
                    throw e;
                }
                // A torn racy read: retried below under the lock.
            }
        }
        return read(list -> list.get(index));
    }

    /** Returns whether some element equals {@code o}, at one point in time. Linearizable. */
    @Override
    public boolean contains(Object o) {
        return o != null && read(list -> list.contains(o));
    }

    /** Returns whether every element of {@code c} is in this list, at one point in time. Linearizable. */
    @Override
    public boolean containsAll(Collection<?> c) {
        Object[] wanted = c.toArray();
        return read(list -> list.containsAll(Arrays.asList(wanted)));
    }

    /** Returns the first index of an element equal to {@code o}, or -1. Linearizable. */
    @Override
    public int indexOf(Object o) {
        return o == null ? -1 : read(list -> list.indexOf(o));
    }

    /** Returns the last index of an element equal to {@code o}, or -1. Linearizable. */
    @Override
    public int lastIndexOf(Object o) {
        return o == null ? -1 : read(list -> list.lastIndexOf(o));
    }

    /** Returns the elements at one point in time, in order, in a new array. Linearizable. */
    @Override
    public Object[] toArray() {
        return read(ArrayList::toArray);
    }

    /** Returns the elements at one point in time, as {@link List#toArray(Object[])} does. Linearizable. */
    @Override
    public <T> T[] toArray(T[] a) {
        return read(list -> list.toArray(a));
    }

    /** Returns a read-only iterator over a snapshot taken now; never throws ConcurrentModificationException. */
    @Override
    public Iterator<E> iterator() {
        return snapshot().iterator();
    }

    /** Returns a read-only list iterator over a snapshot taken now. */
    @Override
    public ListIterator<E> listIterator() {
        return snapshot().listIterator();
    }

    /**
     * Returns a read-only list iterator over a snapshot taken now, starting at {@code index}.
     *
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, size()]} at that point
     */
    @Override
    public ListIterator<E> listIterator(int index) {
        return snapshot().listIterator(index);
    }

    /** Returns a spliterator over a snapshot taken now (so streams see one point in time). */
    @Override
    public Spliterator<E> spliterator() {
        return snapshot().spliterator();
    }

    /**
     * Calls {@code action} for each element of a snapshot taken now, outside the list's lock
     * (the action may use the list).
     */
    @Override
    public void forEach(Consumer<? super E> action) {
        Objects.requireNonNull(action, "action");
        snapshot().forEach(action);
    }

    /**
     * Returns a live view of the elements from {@code fromIndex} (inclusive) to {@code toIndex}
     * (exclusive). Each call on the view is linearizable; see the class comment for when it
     * throws {@link java.util.ConcurrentModificationException}.
     *
     * @throws IndexOutOfBoundsException if the range is not within {@code [0, size()]} at that point
     */
    @Override
    public List<E> subList(int fromIndex, int toIndex) {
        return read(list -> {
            Objects.checkFromToIndex(fromIndex, toIndex, list.size());
            return new ThreadSafeSubList<>(this, null, fromIndex, toIndex - fromIndex, elements.structuralChanges());
        });
    }

    /** For {@link ThreadSafeSubList}: {@code reader} runs on the elements under the read lock. */
    <R> R readLocked(Function<? super List<E>, R> reader) {
        return read(reader::apply);
    }

    /** For {@link ThreadSafeSubList}: {@code change} runs on the recording list under the write lock. */
    <R> R writeLocked(Function<? super List<E>, R> change) {
        return write(change::apply);
    }

    /** The elements' modCount; read with the lock held. */
    int structuralChanges() {
        return elements.structuralChanges();
    }

    // ---------------------------------------------------------------- single-element writes

    /**
     * Appends {@code e}. Linearizable.
     *
     * @return true
     * @throws NullPointerException if {@code e} is null
     */
    @Override
    public boolean add(E e) {
        Objects.requireNonNull(e, "element");
        return write(list -> list.add(e));
    }

    /**
     * Inserts {@code element} at {@code index}, shifting later elements. Linearizable.
     *
     * @throws NullPointerException      if {@code element} is null
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, size()]} at that point
     */
    @Override
    public void add(int index, E element) {
        Objects.requireNonNull(element, "element");
        write(list -> {
            list.add(index, element);
            return null;
        });
    }

    /**
     * Replaces the element at {@code index}. Linearizable.
     *
     * @return the element that was there
     * @throws NullPointerException      if {@code element} is null
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, size())} at that point
     */
    @Override
    public E set(int index, E element) {
        Objects.requireNonNull(element, "element");
        return write(list -> list.set(index, element));
    }

    /**
     * Removes the element at {@code index}. Linearizable.
     *
     * @return the removed element
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, size())} at that point
     */
    @Override
    public E remove(int index) {
        return write(list -> list.remove(index));
    }

    /** Removes the first element equal to {@code o}, if any, atomically. Linearizable. */
    @Override
    public boolean remove(Object o) {
        return o != null && write(list -> list.remove(o));
    }

    /**
     * Appends {@code e} unless an equal element is present, atomically. Linearizable.
     *
     * @return whether it was added
     * @throws NullPointerException if {@code e} is null
     */
    public boolean addIfAbsent(E e) {
        Objects.requireNonNull(e, "element");
        return write(list -> !list.contains(e) && list.add(e));
    }

    // ---------------------------------------------------------------- bulk writes (each atomic)

    /**
     * Appends all elements of {@code c}, atomically (all at one point, or none if one is null).
     * Linearizable.
     *
     * @throws NullPointerException if {@code c} or any of its elements is null
     */
    @Override
    public boolean addAll(Collection<? extends E> c) {
        List<E> toAdd = checkedCopy(c);
        return write(list -> list.addAll(toAdd));
    }

    /**
     * Inserts all elements of {@code c} at {@code index}, atomically. Linearizable.
     *
     * @throws NullPointerException      if {@code c} or any of its elements is null
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, size()]} at that point
     */
    @Override
    public boolean addAll(int index, Collection<? extends E> c) {
        List<E> toAdd = checkedCopy(c);
        return write(list -> list.addAll(index, toAdd));
    }

    /**
     * Appends the elements of {@code c} that are not present yet (nor earlier in {@code c}),
     * atomically. Linearizable.
     *
     * @return how many were added
     * @throws NullPointerException if {@code c} or any of its elements is null
     */
    public int addAllAbsent(Collection<? extends E> c) {
        List<E> candidates = checkedCopy(c);
        return write(list -> {
            Set<E> present = new HashSet<>(elements);
            int sizeBefore = list.size();
            candidates.stream().filter(present::add).forEach(list::add);
            return list.size() - sizeBefore;
        });
    }

    /**
     * Removes every element contained in {@code c}, atomically. Membership is decided on a copy
     * of {@code c} taken first (by equals/hashCode). Linearizable.
     */
    @Override
    public boolean removeAll(Collection<?> c) {
        Set<Object> unwanted = new HashSet<>(Arrays.asList(c.toArray()));
        return removeIf(unwanted::contains);
    }

    /**
     * Removes every element not contained in {@code c}, atomically. Membership is decided on a
     * copy of {@code c} taken first (by equals/hashCode). Linearizable.
     */
    @Override
    public boolean retainAll(Collection<?> c) {
        Set<Object> wanted = new HashSet<>(Arrays.asList(c.toArray()));
        return removeIf(e -> !wanted.contains(e));
    }

    /**
     * Removes every element matching {@code filter}, atomically. The filter sees every element
     * before anything is removed: if it throws, the list is unchanged. Linearizable.
     */
    @Override
    public boolean removeIf(Predicate<? super E> filter) {
        Objects.requireNonNull(filter, "filter");
        return write(list -> list.removeIf(filter));
    }

    /**
     * Replaces each element by {@code operator(element)}, atomically. If the operator throws or
     * returns null, the elements replaced so far stay replaced (and are reported) and the
     * exception propagates. Linearizable.
     */
    @Override
    public void replaceAll(UnaryOperator<E> operator) {
        Objects.requireNonNull(operator, "operator");
        write(list -> {
            list.replaceAll(operator);
            return null;
        });
    }

    /**
     * Sorts the list, atomically. If the comparator throws, the list is unchanged.
     * Linearizable.
     *
     * @param c the comparator, or null for the elements' natural order
     */
    @Override
    public void sort(Comparator<? super E> c) {
        write(list -> {
            list.sort(c);
            return null;
        });
    }

    /** Removes all elements, atomically. Linearizable. */
    @Override
    public void clear() {
        write(list -> {
            list.clear();
            return null;
        });
    }

    /**
     * Runs {@code action} with exclusive access to the list: all the changes it makes through
     * the list it is given take effect at one point in time, and no other operation sees an
     * intermediate state. Linearizable.
     *
     * <p>The given list supports every {@link List} operation, {@code subList} and iterators
     * included, and rejects nulls. It is valid only during the call; using it afterwards throws
     * {@link IllegalStateException}. The action must not call this list (that throws
     * {@link IllegalStateException}) and should be short: everyone else waits meanwhile. If the
     * action throws, the changes it made so far stay (they are reported) and the exception
     * propagates.
     *
     * <p>Example, appending a pair that no reader ever sees half of:
     * <pre>{@code
     * list.atomically(l -> { l.add(request); l.add(response); });
     * }</pre>
     *
     * @param action what to do
     * @throws NullPointerException if {@code action} is null
     */
    public void atomically(Consumer<? super List<E>> action) {
        Objects.requireNonNull(action, "action");
        atomicallyApply(list -> {
            action.accept(list);
            return null;
        });
    }

    /**
     * As {@link #atomically(Consumer)}, returning what {@code action} returns.
     *
     * @param action what to do
     * @param <R>    the type of the result
     * @return what {@code action} returned
     * @throws NullPointerException if {@code action} is null
     */
    public <R> R atomicallyApply(Function<? super List<E>, ? extends R> action) {
        Objects.requireNonNull(action, "action");
        return write(list -> {
            try {
                return action.apply(list);
            } finally {
                list.open = false;
            }
        });
    }

    // ---------------------------------------------------------------- Object

    /**
     * Compares the elements, taken at one point in time, with {@code o} as {@link List#equals}
     * does. When {@code o} is also a ThreadSafeList, its snapshot is compared.
     */
    @Override
    public boolean equals(Object o) {
        if (o == this) {
            return true;
        }
        Object other = o instanceof ThreadSafeList<?> list ? list.snapshot() : o;
        return snapshot().equals(other);
    }

    /** Returns the {@link List#hashCode()} of the elements at one point in time. */
    @Override
    public int hashCode() {
        return read(ArrayList::hashCode);
    }

    /** Returns the elements at one point in time, as {@code [e1, e2]}. */
    @Override
    public String toString() {
        return read(ArrayList::toString);
    }

    // ---------------------------------------------------------------- locking

    private <R> R read(Function<ArrayList<E>, R> reader) {
        long stamp = lock.tryReadLock();
        if (stamp == 0L) {
            failIfReentrant();
            stamp = lock.readLock();
        }
        try {
            return reader.apply(elements);
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** Runs {@code change} under the write lock, then delivers its changes to listeners. */
    private <R> R write(Function<RecordingList, R> change) {
        long stamp = lock.tryWriteLock();
        if (stamp == 0L) {
            failIfReentrant();
            stamp = lock.writeLock();
        }
        writer = Thread.currentThread();
        try {
            return change.apply(new RecordingList(feed.isListening()));
        } finally {
            writer = null;
            lock.unlockWrite(stamp);
            feed.deliverPending();
        }
    }

    private void failIfReentrant() {
        if (writer == Thread.currentThread()) {
            throw new IllegalStateException("ThreadSafeList called from inside its own atomically(...): "
                    + "use the list passed to the action instead");
        }
    }

    /** Copies {@code c} before any lock is taken ({@code c} may be this list), rejecting nulls. */
    private static <E> List<E> checkedCopy(Collection<? extends E> c) {
        @SuppressWarnings("unchecked")
        E[] copy = (E[]) c.toArray();
        for (E e : copy) {
            Objects.requireNonNull(e, "element");
        }
        return Arrays.asList(copy);
    }

    /** An ArrayList that shows its modCount, by which subList views notice changes made around them. */
    private static final class CountingArrayList<E> extends ArrayList<E> {
        int structuralChanges() {
            return modCount;
        }
    }

    // ---------------------------------------------------------------- the list writes go through

    /**
     * The ArrayList as seen by one write, with the write lock held: rejects nulls and, when
     * someone listens, publishes one change per element inserted, removed or replaced. Every
     * AbstractList algorithm (iterators, subList, addAll...) is built on add/remove/set, so
     * overriding those records everything; the bulk operations are overridden for speed and
     * to check their input before changing anything.
     */
    private final class RecordingList extends AbstractList<E> implements RandomAccess {
        private final boolean listening;
        private boolean open = true;

        RecordingList(boolean listening) {
            this.listening = listening;
        }

        private void checkOpen() {
            if (!open) {
                throw new IllegalStateException("the list given to ThreadSafeList.atomically(...) "
                        + "was used after the action returned");
            }
        }

        private void record(int index, E removed, E added) {
            if (listening) {
                feed.publish(listener -> listener.onChange(index, removed, added));
            }
        }

        @Override
        public int size() {
            checkOpen();
            return elements.size();
        }

        @Override
        public E get(int index) {
            checkOpen();
            return elements.get(index);
        }

        @Override
        public E set(int index, E element) {
            checkOpen();
            E removed = elements.set(index, Objects.requireNonNull(element, "element"));
            if (!removed.equals(element)) {
                record(index, removed, element);
            }
            return removed;
        }

        @Override
        public void add(int index, E element) {
            checkOpen();
            elements.add(index, Objects.requireNonNull(element, "element"));
            modCount++;
            record(index, null, element);
        }

        @Override
        public E remove(int index) {
            checkOpen();
            E removed = elements.remove(index);
            modCount++;
            record(index, removed, null);
            return removed;
        }

        @Override
        public boolean addAll(int index, Collection<? extends E> c) {
            checkOpen();
            List<E> toAdd = checkedCopy(c);
            elements.addAll(index, toAdd);
            modCount++;
            for (int i = 0; i < toAdd.size(); i++) {
                record(index + i, null, toAdd.get(i));
            }
            return !toAdd.isEmpty();
        }

        @Override
        public boolean addAll(Collection<? extends E> c) {
            return addAll(size(), c);
        }

        @Override
        public void clear() {
            checkOpen();
            // Reported from the end, so that each index is valid when replayed in order.
            for (int i = elements.size() - 1; i >= 0; i--) {
                record(i, elements.get(i), null);
            }
            elements.clear();
            modCount++;
        }

        @Override
        public boolean removeIf(Predicate<? super E> filter) {
            checkOpen();
            BitSet doomed = new BitSet(elements.size());
            for (int i = 0; i < elements.size(); i++) {
                if (filter.test(elements.get(i))) {
                    doomed.set(i);
                }
            }
            if (doomed.isEmpty()) {
                return false;
            }
            // Reported descending, so that each index is valid when replayed in order.
            for (int i = doomed.length() - 1; i >= 0; i = doomed.previousSetBit(i - 1)) {
                record(i, elements.get(i), null);
            }
            List<E> kept = new ArrayList<>(elements.size() - doomed.cardinality());
            for (int i = doomed.nextClearBit(0); i < elements.size(); i = doomed.nextClearBit(i + 1)) {
                kept.add(elements.get(i));
            }
            elements.clear();
            elements.addAll(kept);
            modCount++;
            return true;
        }

        @Override
        public boolean contains(Object o) {
            checkOpen();
            return elements.contains(o);
        }

        @Override
        public int indexOf(Object o) {
            checkOpen();
            return elements.indexOf(o);
        }

        @Override
        public int lastIndexOf(Object o) {
            checkOpen();
            return elements.lastIndexOf(o);
        }

        @Override
        public boolean remove(Object o) {
            int index = indexOf(o);
            if (index < 0) {
                return false;
            }
            remove(index);
            return true;
        }

        @Override
        public boolean removeAll(Collection<?> c) {
            Objects.requireNonNull(c, "c");
            return removeIf(c::contains);
        }

        @Override
        public boolean retainAll(Collection<?> c) {
            Objects.requireNonNull(c, "c");
            return removeIf(e -> !c.contains(e));
        }

        @Override
        public void replaceAll(UnaryOperator<E> operator) {
            checkOpen();
            for (int i = 0; i < elements.size(); i++) {
                set(i, operator.apply(elements.get(i)));
            }
        }

        @Override
        @SuppressWarnings("unchecked")
        public void sort(Comparator<? super E> c) {
            checkOpen();
            // Sorted in a copy first: a throwing comparator leaves the list as it was.
            Object[] sorted = elements.toArray();
            Arrays.sort(sorted, (Comparator<Object>) c);
            for (int i = 0; i < sorted.length; i++) {
                if (sorted[i] != elements.get(i)) {
                    set(i, (E) sorted[i]);
                }
            }
        }
    }
}
