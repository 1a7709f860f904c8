package io.unidist;

/**
 * A held lease of a {@link SharedLock}: one of the lock's permits, until it is closed.
 *
 * <p>A lease belongs to the node, not to a thread: any thread may close it. Pass
 * {@link #fencingToken()} to the resource the lock protects, and let the resource reject a
 * token smaller than the largest it has seen: that keeps a holder that stalled past the loss of
 * its lease from doing harm.
 */
public interface LockLease extends AutoCloseable {
    /**
     * The fencing token of this lease: strictly larger than that of every lease of the same lock
     * granted before it (also across restarts of a persistent node).
     */
    long fencingToken();

    /**
     * Whether this lease is still held: false once it was closed, once its node was closed, or
     * once the node can no longer prove that it holds it (lost quorum, expelled from the
     * cluster). Once false it never turns true again.
     */
    boolean isValid();

    /**
     * Runs {@code action} once, on a unidist thread, if this lease is lost rather than closed:
     * its node can no longer prove that it holds it (lost contact with a majority, expelled from
     * the cluster) or its node was closed. Runs at once if the lease is already lost. Close the
     * subscription to cancel it.
     */
    Subscription onLost(Runnable action);

    /** Releases the lease, letting a waiter have the permit. Idempotent; never throws. */
    @Override
    void close();
}
