package io.unidist;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.List;
import java.util.ListIterator;
import java.util.Objects;
import java.util.RandomAccess;
import java.util.Spliterator;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The live range returned by {@link ThreadSafeList#subList(int, int)}.
 *
 * <p>Every call takes the list's lock, checks that the list was not structurally changed other
 * than through this view (or a view of it), and then works on the range through the list's own
 * write path, so listeners hear of each change with its index in the whole list. That is the
 * contract of {@link List#subList} made safe for threads, the same as
 * {@link java.util.concurrent.CopyOnWriteArrayList#subList}: once the list changes around the
 * view, the view's meaning is gone and it throws {@link ConcurrentModificationException}.
 */
final class ThreadSafeSubList<E> extends AbstractList<E> implements RandomAccess {
    private final ThreadSafeList<E> list;
    /** The view this one was taken from, whose size changes with this one's; null for a range of the list. */
    private final ThreadSafeSubList<E> parent;
    private final int offset;
    // Guarded by the list's lock.
    private int size;
    private int expectedChanges;

    ThreadSafeSubList(ThreadSafeList<E> list, ThreadSafeSubList<E> parent, int offset, int size, int expectedChanges) {
        this.list = list;
        this.parent = parent;
        this.offset = offset;
        this.size = size;
        this.expectedChanges = expectedChanges;
    }

    // ---------------------------------------------------------------- reads

    @Override
    public int size() {
        return read(List::size);
    }

    @Override
    public E get(int index) {
        return read(range -> range.get(index));
    }

    @Override
    public boolean contains(Object o) {
        return read(range -> range.contains(o));
    }

    @Override
    public int indexOf(Object o) {
        return read(range -> range.indexOf(o));
    }

    @Override
    public int lastIndexOf(Object o) {
        return read(range -> range.lastIndexOf(o));
    }

    @Override
    public Object[] toArray() {
        return read(List::toArray);
    }

    @Override
    public <T> T[] toArray(T[] a) {
        return read(range -> range.toArray(a));
    }

    /** The range's elements at one point in time, immutable. */
    List<E> copy() {
        return read(List::copyOf);
    }

    /** Over a copy taken when it starts, as the list's own iterators: read-only, never failing later. */
    @Override
    public Iterator<E> iterator() {
        return copy().iterator();
    }

    @Override
    public ListIterator<E> listIterator(int index) {
        return copy().listIterator(index);
    }

    @Override
    public Spliterator<E> spliterator() {
        return copy().spliterator();
    }

    @Override
    public boolean equals(Object o) {
        Object other = o instanceof ThreadSafeList<?> l ? l.snapshot() : o instanceof ThreadSafeSubList<?> v ? v.copy() : o;
        return o == this || copy().equals(other);
    }

    @Override
    public int hashCode() {
        return read(List::hashCode);
    }

    @Override
    public String toString() {
        return read(List::toString);
    }

    /** A view of a part of this range, which changes together with this one. */
    @Override
    public List<E> subList(int fromIndex, int toIndex) {
        return read(range -> {
            Objects.checkFromToIndex(fromIndex, toIndex, range.size());
            return new ThreadSafeSubList<>(list, this, offset + fromIndex, toIndex - fromIndex, expectedChanges);
        });
    }

    // ---------------------------------------------------------------- writes

    @Override
    public boolean add(E e) {
        return write(range -> range.add(e));
    }

    @Override
    public void add(int index, E element) {
        write(range -> {
            range.add(index, element);
            return null;
        });
    }

    @Override
    public E set(int index, E element) {
        return write(range -> range.set(index, element));
    }

    @Override
    public E remove(int index) {
        return write(range -> range.remove(index));
    }

    @Override
    public boolean remove(Object o) {
        return write(range -> range.remove(o));
    }

    @Override
    public boolean addAll(Collection<? extends E> c) {
        List<E> copy = new ArrayList<>(c); // before locking: c may be this view
        return write(range -> range.addAll(copy));
    }

    @Override
    public boolean addAll(int index, Collection<? extends E> c) {
        List<E> copy = new ArrayList<>(c);
        return write(range -> range.addAll(index, copy));
    }

    @Override
    public boolean removeAll(Collection<?> c) {
        List<?> copy = new ArrayList<>(c);
        return write(range -> range.removeAll(copy));
    }

    @Override
    public boolean retainAll(Collection<?> c) {
        List<?> copy = new ArrayList<>(c);
        return write(range -> range.retainAll(copy));
    }

    @Override
    public boolean removeIf(Predicate<? super E> filter) {
        Objects.requireNonNull(filter, "filter");
        return write(range -> range.removeIf(filter));
    }

    @Override
    public void replaceAll(UnaryOperator<E> operator) {
        Objects.requireNonNull(operator, "operator");
        write(range -> {
            range.replaceAll(operator);
            return null;
        });
    }

    @Override
    public void sort(Comparator<? super E> c) {
        write(range -> {
            range.sort(c);
            return null;
        });
    }

    @Override
    public void clear() {
        write(range -> {
            range.clear();
            return null;
        });
    }

    // ---------------------------------------------------------------- locking

    private <R> R read(Function<List<E>, R> reader) {
        return list.readLocked(all -> {
            checkUnchanged();
            return reader.apply(all.subList(offset, offset + size));
        });
    }

    /** Runs {@code change} on the range in one write of the list, then follows its new size. */
    private <R> R write(Function<List<E>, R> change) {
        return list.writeLocked(all -> {
            checkUnchanged();
            List<E> range = all.subList(offset, offset + size);
            try {
                return change.apply(range);
            } finally {
                resize(range.size() - size);
            }
        });
    }

    private void checkUnchanged() {
        if (list.structuralChanges() != expectedChanges) {
            throw new ConcurrentModificationException("ThreadSafeList.subList(" + offset + ", " + (offset + size)
                    + "): the list was structurally changed other than through this view, so the range has no"
                    + " meaning any more; take a new subList, or change ranges inside atomically(...)");
        }
    }

    /** This view and the views it was taken from now span {@code delta} more elements. */
    private void resize(int delta) {
        int now = list.structuralChanges();
        for (ThreadSafeSubList<E> view = this; view != null; view = view.parent) {
            view.size += delta;
            view.expectedChanges = now;
        }
    }
}
