package io.unidist;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * A named lock or counting semaphore shared by every thread of a node (and, when clustered, by
 * every node of the cluster).
 *
 * <p><b>Guarantee.</b> At no moment are more leases valid than the lock has permits; every lease
 * gets a fencing token larger than that of every lease granted before it. Waiters are served
 * in the order in which they started to wait.
 *
 * <p><b>Not reentrant.</b> A lease belongs to the node, not to a thread: a thread that holds
 * the only permit and asks again waits like anyone else.
 *
 * <p><b>Persistence.</b> None, by design: leases are lost when the node stops, and a lease
 * whose holder dies is released (locally: when the node is closed; clustered: when the holder's
 * node leaves the cluster).
 *
 * <p><b>Thread safety.</b> All methods may be called from any thread.
 */
public interface SharedLock {
    /** The lock's name. */
    String name();

    /** How many leases may be held at once. */
    int permits();

    /**
     * Waits until a permit is free and takes it.
     *
     * <p>In a cluster, {@code timeout} bounds the wait for a permit; each round trip to the leader
     * is bounded by the node's operation timeout instead (a slow commit is not a busy lock), so
     * the call returns within {@code timeout} plus one operation timeout, plus up to 2 s to give
     * up its place in line when the time runs out.
     *
     * @param timeout how long to wait at most; zero means do not wait
     * @return the lease, which the caller must close
     * @throws TimeoutException     when no permit was free within {@code timeout}; nothing is held
     * @throws InterruptedException when the thread was interrupted while waiting; nothing is held
     * @throws IllegalArgumentException when {@code timeout} is negative
     * @throws IllegalStateException when the node is closed
     */
    LockLease acquire(Duration timeout) throws InterruptedException, TimeoutException;

    /**
     * Takes a permit if one is free now; never waits for one. In a cluster this is one round trip
     * to the leader, bounded by the operation timeout; without a majority it throws
     * {@link ClusterUnavailableException}.
     */
    Optional<LockLease> tryAcquire();

    /** The leases held now, oldest first: who uses the resource ("confirm it is in use"). */
    List<LeaseInfo> holders();
}
