package io.unidist.internal.store;

/**
 * Replays a store's contents on {@link DurableStore#open open}: the newest usable snapshot, then
 * every journal record written after it, in the order they were written.
 *
 * <p>Both methods are called on the thread that calls {@code open}, before it returns. When a
 * method throws, {@code open} fails with a {@link io.unidist.UnidistException} that names the
 * file (and the record's offset) and carries the exception as its cause. When {@code open}
 * fails for any reason, the recovery may already have seen a prefix of the contents: discard it.
 */
public interface Recovery {
    /** Called at most once, before any record, with the newest usable snapshot's payload. */
    void snapshot(byte[] state);

    /** Called once per journal record after that snapshot, in the order they were written. */
    void record(byte[] record);
}
