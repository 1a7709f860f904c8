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
}
