package io.unidist;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A named bucket of key/value data, read and written safely from any thread.
 *
 * <p><b>Consistency.</b> Every operation is linearizable, {@link #keys()} and
 * {@link #snapshot()} included: they show the bucket at one point in time.
 *
 * <p><b>Values.</b> Values are stored as serialized copies: changing an object after
 * {@link #put} does not change the bucket, and every read returns a fresh copy. The built-in
 * types (String, Long, Integer, Double, Boolean, byte[], and List / Map / Set of them) need no
 * registration; any other class must be registered with {@link Serializers#register}.
 * Keys and values are never null.
 *
 * <p><b>Persistence.</b> By default every change is appended to a checksummed journal and
 * fsynced before the call returns, and snapshots bound the journal: the bucket survives a
 * crash or restart with every change that returned. See {@link Persistence}.
 *
 * <p><b>Failure.</b> A value of the wrong type or of an unregistered class throws
 * {@link IllegalArgumentException} and changes nothing; a storage failure throws
 * {@link UnidistException} and changes nothing.
 *
 * @param <V> the type of the values
 */
public interface SharedState<V> {
    /** The bucket's name. */
    String name();

    /** The value of {@code key}, if any. */
    Optional<V> get(String key);

    /** Sets the value of {@code key}. */
    void put(String key, V value);

    /**
     * Sets the value of {@code key} for {@code ttl}: then the entry is removed as if by
     * {@link #remove}. In a cluster the expiry is decided by the replicated log, so every node
     * agrees on it; it happens within about a tenth of a second of the deadline.
     *
     * @throws IllegalArgumentException when {@code ttl} is not positive
     */
    void put(String key, V value, java.time.Duration ttl);

    /** Sets the value of {@code key} only if it has none; returns whether it did. */
    boolean putIfAbsent(String key, V value);

    /** Sets {@code newValue} only if the value of {@code key} equals {@code expected}. */
    boolean replace(String key, V expected, V newValue);

    /** Removes {@code key}; returns whether it had a value. */
    boolean remove(String key);

    /** The keys at one point in time. */
    Set<String> keys();

    /** Every entry at one point in time, as an unmodifiable map. */
    Map<String, V> snapshot();

    /**
     * Calls {@code listener} for every change of this bucket from now on, made on any thread
     * (and, in a cluster, on any node), in the order the changes took effect. Close the
     * subscription to stop it.
     *
     * <p>In a cluster the changes are pushed by the leader; a watcher that missed some (a
     * leader change, a lost message) catches up from the bucket's recent history, and one that
     * was away longer than that history reaches gets each key's net change instead of every
     * intermediate one.
     */
    io.unidist.Subscription watch(StateListener<? super V> listener);
}
