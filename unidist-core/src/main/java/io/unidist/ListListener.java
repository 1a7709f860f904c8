package io.unidist;

/**
 * Told about every change of a {@link ThreadSafeList}, one call per element inserted, removed
 * or replaced.
 *
 * <p>Replaying the calls, in order, on a copy of the list taken when the listener was
 * registered ({@code add(index, added)} for an insertion, {@code remove(index)} for a removal,
 * {@code set(index, added)} for a replacement) rebuilds the list exactly.
 *
 * <p><b>Ordering and delivery.</b> A listener registered with
 * {@link ThreadSafeList#addListener(ListListener)} is called once for every change that takes
 * effect after the registration, in the order the changes took effect, and never for the same
 * change twice. The changes of one atomic bulk operation ({@code addAll}, {@code sort},
 * {@code removeIf}, {@code atomically}...) are delivered one after the other, with no change of
 * another operation between them. Replacing an element by an equal one is not reported.
 *
 * <p><b>Threads.</b> Calls come one at a time (never concurrently for one list), on a thread
 * that has just written to the list, after that thread released the list's lock: a listener
 * may read and write the list. A write may return before its listeners ran when another thread
 * was delivering at the time.
 *
 * <p><b>Failure.</b> An exception thrown by a listener is logged and swallowed: the write that
 * caused the change, and the other listeners, are not affected, and the listener stays
 * registered.
 *
 * @param <E> the type of elements
 */
@FunctionalInterface
public interface ListListener<E> {
    /**
     * One position of the list changed.
     *
     * @param index   the position of the change, in the list as it was just before this change
     * @param removed the element that left that position, or null for an insertion
     * @param added   the element now at that position, or null for a removal
     */
    void onChange(int index, E removed, E added);
}
