package io.unidist;

/**
 * Told about every change of a {@link ThreadSafeDict}, once per key that changed.
 *
 * <p><b>Ordering and delivery.</b> A listener registered with
 * {@link ThreadSafeDict#addListener(DictListener)} is called once for every change that takes
 * effect after the registration, in the order the changes took effect, and never for the same
 * change twice. The changes of one atomic multi-key operation ({@code putAll},
 * {@code atomically}, {@code clear}...) are delivered one after the other, with no change of
 * another operation between them.
 *
 * <p><b>Threads.</b> Calls come one at a time (never concurrently for one dict), on a thread
 * that has just written to the dict, after that thread released the dict's lock: a listener may
 * read and write the dict. A write may return before its listeners ran when another thread was
 * delivering at the time. A listener should be quick: while it runs, that writer thread waits.
 *
 * <p><b>Failure.</b> An exception thrown by a listener is logged and swallowed: the write that
 * caused the change, and the other listeners, are not affected, and the listener stays
 * registered.
 *
 * @param <K> the type of keys
 * @param <V> the type of values
 */
@FunctionalInterface
public interface DictListener<K, V> {
    /**
     * One key's mapping changed.
     *
     * @param key      the key whose mapping changed, never null
     * @param oldValue the value before the change, or null if the key was absent (an insertion)
     * @param newValue the value after the change, or null if the key was removed (a removal)
     */
    void onChange(K key, V oldValue, V newValue);
}
