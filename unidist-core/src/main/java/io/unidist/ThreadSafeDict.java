package io.unidist;

import io.unidist.internal.ChangeFeed;
import java.util.AbstractCollection;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.StampedLock;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * How it works
 *
 * The mappings live in a ConcurrentHashMap (CHM), whose single-key operations are already
 * linearizable. What CHM lacks is a point in time for operations that look at many keys:
 * size(), containsValue(), equals/hashCode, snapshot() and the multi-key writes. We add one
 * StampedLock used as a "shared / exclusive" gate, not as a reader / writer lock:
 *
 *   - single-key writes (put, remove, compute, merge, ...) hold it in SHARED mode (StampedLock's
 *     read mode): they run in parallel with each other and CHM serialises those on one key;
 *   - operations over many keys hold it in EXCLUSIVE mode (write mode): no single-key write is
 *     in flight, so the CHM is quiescent and whatever they read or write happens at one point;
 *   - single-key reads (get, containsKey) take no lock: an optimistic stamp, the CHM read, then
 *     validate(). A valid stamp proves no exclusive section overlapped the read, so the read
 *     never observes half of an atomic multi-key write (which a bare CHM.get would: that is why
 *     the stamp is needed even though CHM.get is itself linearizable). An invalid stamp retries
 *     in shared mode.
 *
 * Listeners: a write records its change in a queue (ChangeFeed) at its linearization point:
 * inside the CHM compute() lambda for single-key writes (CHM holds the bin lock there, so two
 * writes of one key enqueue in their order), or anywhere inside an exclusive section. Queue
 * order is therefore a valid linearization order. After releasing the lock, the writer drains
 * the queue unless another thread is already draining; one drainer at a time keeps the calls
 * sequential and ordered, and no listener ever runs under our lock. Registration takes the
 * exclusive lock and enqueues a marker, so a listener sees exactly the writes after that point.
 * When nobody listens, writes skip the queue and use the plain CHM fast paths.
 *
 * Iteration (views, forEach) walks a snapshot: it never throws ConcurrentModificationException,
 * and what it shows existed at one point in time; writes through views and iterators go to the
 * live dict. The price is an O(n) copy under the exclusive lock.
 *
 * Reentrancy: StampedLock is not reentrant. A call on this dict from inside atomically(...)
 * (which holds the exclusive lock) is detected on the slow path (exclusiveOwner) and fails with
 * IllegalStateException instead of deadlocking; code passed to compute/merge must not touch
 * other keys of this dict, as for CHM.
 */

/**
 * A {@link ConcurrentMap} in which <em>every</em> operation is linearizable, including
 * {@link #size()}, {@link #isEmpty()}, {@link #containsValue(Object)}, {@link #equals(Object)},
 * {@link #hashCode()}, {@link #snapshot()} and the multi-key operations {@link #putAll(Map)},
 * {@link #removeAll(Collection)}, {@link #replaceAll(BiFunction)}, {@link #clear()} and
 * {@link #atomically(Consumer)}, which take effect at one point in time. (A plain
 * {@link ConcurrentHashMap} gives that only for single-key operations.)
 *
 * <p><b>Thread safety.</b> Every method may be called from any thread. Single-key reads never
 * block; single-key writes run in parallel; operations over many keys briefly hold off writers.
 * Functions passed to {@code compute}, {@code computeIfAbsent}, {@code computeIfPresent} and
 * {@code merge} run while the key is locked: as with {@link ConcurrentHashMap}, they must be
 * short and must not use other keys of this dict. Code run by {@link #atomically(Consumer)}
 * must use the map it is given: calling this dict from inside it throws
 * {@link IllegalStateException}.
 *
 * <p><b>Iteration.</b> {@link #keySet()}, {@link #values()}, {@link #entrySet()} and
 * {@link #forEach(BiConsumer)} iterate over a snapshot taken when the iteration starts: they
 * never throw {@link java.util.ConcurrentModificationException} and show the dict as it was at
 * that point, not later writes. Removal through an iterator and {@code Entry.setValue} write
 * through to the dict.
 *
 * <p><b>Nulls.</b> Null keys and values are rejected with a {@link NullPointerException} naming
 * the argument ({@code "key"}, {@code "value"}), as in {@link ConcurrentHashMap}.
 *
 * <p><b>Listeners.</b> {@link #addListener(DictListener)} reports every change, once, in the
 * order the changes took effect, never under the dict's lock; see {@link DictListener}.
 *
 * <p><b>Cost.</b> {@code get} and single-key writes cost about what {@link ConcurrentHashMap}'s
 * do; {@code size()}, {@code snapshot()}, iteration and bulk operations wait for in-flight
 * writes and are O(1) to O(n) with writers held off meanwhile.
 *
 * @param <K> the type of keys
 * @param <V> the type of values
 */
public class ThreadSafeDict<K, V> implements ConcurrentMap<K, V> {

    private static final Logger LOG = LoggerFactory.getLogger(ThreadSafeDict.class);

    private final ConcurrentHashMap<K, V> map = new ConcurrentHashMap<>();
    private final StampedLock gate = new StampedLock();
    private final ChangeFeed<DictListener<? super K, ? super V>> feed =
            new ChangeFeed<>(LOG, "ThreadSafeDict");
    /** The thread in an exclusive section, so that a reentrant call fails instead of hanging. */
    private volatile Thread exclusiveOwner;

    private final Set<K> keySet = new KeyView();
    private final Collection<V> values = new ValueView();
    private final Set<Map.Entry<K, V>> entrySet = new EntryView();

    /** Creates an empty dict. */
    public ThreadSafeDict() {
    }

    /**
     * Creates a dict holding the mappings of {@code initial}.
     *
     * @param initial the mappings to copy
     * @throws NullPointerException if {@code initial} or any of its keys or values is null
     */
    public ThreadSafeDict(Map<? extends K, ? extends V> initial) {
        putAll(initial);
    }

    // ---------------------------------------------------------------- listeners

    /**
     * Registers a listener told of every change that takes effect after this method returns,
     * once each, in the order they took effect. See {@link DictListener} for the thread it
     * runs on and what happens when it throws. Linearizable: the registration takes effect at
     * one point between writes.
     *
     * @param listener the listener
     * @return the registration; closing it stops further calls (a call running on another
     *     thread at that moment is waited for)
     * @throws NullPointerException if {@code listener} is null
     */
    public Subscription addListener(DictListener<? super K, ? super V> listener) {
        Objects.requireNonNull(listener, "listener");
        long stamp = lockExclusive();
        try {
            return feed.register(listener);
        } finally {
            unlockExclusive(stamp);
        }
    }

    // ---------------------------------------------------------------- point-in-time reads

    /**
     * Returns an immutable copy of all mappings as they were at one point in time. Linearizable;
     * O(n), holding off writers while it copies.
     *
     * @return the mappings, never null
     */
    public Map<K, V> snapshot() {
        long stamp = lockExclusive();
        try {
            return Map.copyOf(map);
        } finally {
            unlockExclusive(stamp);
        }
    }

    /**
     * Returns the exact number of mappings at one point in time (unlike
     * {@link ConcurrentHashMap#size()}, which may be off while writes are in flight).
     * Linearizable; waits for in-flight writes.
     */
    @Override
    public int size() {
        long stamp = lockExclusive();
        try {
            return map.size();
        } finally {
            unlockExclusive(stamp);
        }
    }

    /** Returns whether the dict has no mapping, exactly, at one point in time. Linearizable. */
    @Override
    public boolean isEmpty() {
        return size() == 0;
    }

    /**
     * Returns whether some key maps to {@code value}, looking at all mappings at one point in
     * time. Linearizable; O(n), holding off writers meanwhile.
     *
     * @throws NullPointerException if {@code value} is null
     */
    @Override
    public boolean containsValue(Object value) {
        Objects.requireNonNull(value, "value");
        long stamp = lockExclusive();
        try {
            return map.containsValue(value);
        } finally {
            unlockExclusive(stamp);
        }
    }

    // ---------------------------------------------------------------- single-key reads

    /**
     * Returns the value of {@code key}, or null if absent. Linearizable, including against the
     * multi-key operations; does not block unless one of them is running.
     *
     * @throws NullPointerException if {@code key} is null
     */
    @Override
    public V get(Object key) {
        Objects.requireNonNull(key, "key");
        long stamp = gate.tryOptimisticRead();
        V value = map.get(key);
        return gate.validate(stamp) ? value : getShared(key);
    }

    private V getShared(Object key) {
        long stamp = lockShared();
        try {
            return map.get(key);
        } finally {
            gate.unlockRead(stamp);
        }
    }

    /**
     * Returns the value of {@code key}, or {@code defaultValue} if absent. Linearizable.
     *
     * @throws NullPointerException if {@code key} is null
     */
    @Override
    public V getOrDefault(Object key, V defaultValue) {
        V value = get(key);
        return value != null ? value : defaultValue;
    }

    /**
     * Returns whether {@code key} has a mapping. Linearizable, as {@link #get(Object)}.
     *
     * @throws NullPointerException if {@code key} is null
     */
    @Override
    public boolean containsKey(Object key) {
        return get(key) != null;
    }

    // ---------------------------------------------------------------- single-key writes

    /**
     * Maps {@code key} to {@code value}. Linearizable.
     *
     * @return the previous value, or null if the key was absent
     * @throws NullPointerException if {@code key} or {@code value} is null
     */
    @Override
    public V put(K key, V value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        long stamp = lockShared();
        try {
            return feed.isListening() ? change(key, (k, old) -> value).before : map.put(key, value);
        } finally {
            unlockSharedAndDeliver(stamp);
        }
    }

    /**
     * Removes the mapping of {@code key}, if any. Linearizable.
     *
     * @return the removed value, or null if the key was absent
     * @throws NullPointerException if {@code key} is null
     */
    @Override
    public V remove(Object key) {
        Objects.requireNonNull(key, "key");
        long stamp = lockShared();
        try {
            return feed.isListening() ? change(castKey(key), (k, old) -> null).before : map.remove(key);
        } finally {
            unlockSharedAndDeliver(stamp);
        }
    }

    /**
     * Maps {@code key} to {@code value} if it has no mapping. Linearizable (atomic).
     *
     * @return the current value if there was one (nothing changed), else null
     * @throws NullPointerException if {@code key} or {@code value} is null
     */
    @Override
    public V putIfAbsent(K key, V value) {
        Objects.requireNonNull(value, "value");
        return update(key, (k, old) -> old != null ? old : value).before;
    }

    /**
     * Removes the mapping of {@code key} if it maps to a value equal to {@code value}.
     * Linearizable (atomic).
     *
     * @return whether it was removed; false if {@code value} is null
     * @throws NullPointerException if {@code key} is null
     */
    @Override
    public boolean remove(Object key, Object value) {
        Objects.requireNonNull(key, "key");
        if (value == null) {
            return false;
        }
        return value.equals(update(castKey(key), (k, old) -> value.equals(old) ? null : old).before);
    }

    /**
     * Replaces the value of {@code key} by {@code newValue} if it currently equals
     * {@code oldValue}. Linearizable (atomic).
     *
     * @return whether it was replaced
     * @throws NullPointerException if any argument is null
     */
    @Override
    public boolean replace(K key, V oldValue, V newValue) {
        Objects.requireNonNull(oldValue, "oldValue");
        Objects.requireNonNull(newValue, "newValue");
        return oldValue.equals(update(key, (k, old) -> oldValue.equals(old) ? newValue : old).before);
    }

    /**
     * Replaces the value of {@code key} by {@code value} if it has a mapping. Linearizable
     * (atomic).
     *
     * @return the previous value, or null if the key was absent (nothing changed)
     * @throws NullPointerException if {@code key} or {@code value} is null
     */
    @Override
    public V replace(K key, V value) {
        Objects.requireNonNull(value, "value");
        return update(key, (k, old) -> old == null ? null : value).before;
    }

    /**
     * Computes a value for {@code key} if it has none; the function runs at most once, with the
     * key locked (it must not use other keys of this dict). Linearizable (atomic).
     *
     * @return the current (existing or computed) value, or null if the function returned null
     * @throws NullPointerException if {@code key} or {@code mappingFunction} is null
     */
    @Override
    public V computeIfAbsent(K key, Function<? super K, ? extends V> mappingFunction) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(mappingFunction, "mappingFunction");
        long stamp = lockShared();
        try {
            if (!feed.isListening()) {
                return map.computeIfAbsent(key, mappingFunction);
            }
            return change(key, (k, old) -> old != null ? old : mappingFunction.apply(k)).after;
        } finally {
            unlockSharedAndDeliver(stamp);
        }
    }

    /**
     * Recomputes the value of {@code key} if it has one; a null result removes the mapping.
     * Runs with the key locked. Linearizable (atomic).
     *
     * @return the new value, or null if there is none
     * @throws NullPointerException if {@code key} or {@code remappingFunction} is null
     */
    @Override
    public V computeIfPresent(K key, BiFunction<? super K, ? super V, ? extends V> remappingFunction) {
        Objects.requireNonNull(remappingFunction, "remappingFunction");
        return update(key, (k, old) -> old == null ? null : remappingFunction.apply(k, old)).after;
    }

    /**
     * Computes the value of {@code key} from its current one (null if absent); a null result
     * removes the mapping. Runs with the key locked. Linearizable (atomic).
     *
     * @return the new value, or null if there is none
     * @throws NullPointerException if {@code key} or {@code remappingFunction} is null
     */
    @Override
    public V compute(K key, BiFunction<? super K, ? super V, ? extends V> remappingFunction) {
        Objects.requireNonNull(remappingFunction, "remappingFunction");
        return update(key, remappingFunction).after;
    }

    /**
     * Maps {@code key} to {@code value} if absent, else to
     * {@code remappingFunction(current, value)} (removing it if that is null). Runs with the
     * key locked. Linearizable (atomic).
     *
     * @return the new value, or null if the mapping was removed
     * @throws NullPointerException if any argument is null
     */
    @Override
    public V merge(K key, V value, BiFunction<? super V, ? super V, ? extends V> remappingFunction) {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(remappingFunction, "remappingFunction");
        return update(key, (k, old) -> old == null ? value : remappingFunction.apply(old, value)).after;
    }

    /** Applies {@code remapping} to one key in shared mode; returns its value before and after. */
    private Transition<V> update(K key, BiFunction<? super K, ? super V, ? extends V> remapping) {
        Objects.requireNonNull(key, "key");
        long stamp = lockShared();
        try {
            return change(key, remapping);
        } finally {
            unlockSharedAndDeliver(stamp);
        }
    }

    /**
     * Applies {@code remapping} inside CHM.compute, with the shared lock held by the caller.
     * The change is published inside the lambda, where CHM serialises writers of this key, so
     * that the feed sees the writes of one key in the order they took effect.
     */
    private Transition<V> change(K key, BiFunction<? super K, ? super V, ? extends V> remapping) {
        Transition<V> transition = new Transition<>();
        boolean listening = feed.isListening();
        map.compute(key, (k, before) -> {
            V after = remapping.apply(k, before);
            transition.before = before;
            transition.after = after;
            if (listening && !Objects.equals(before, after)) {
                publish(k, before, after);
            }
            return after;
        });
        return transition;
    }

    // ---------------------------------------------------------------- multi-key operations

    /**
     * Copies all mappings of {@code m} into this dict, atomically: they all take effect at one
     * point, and none does if a key or value is null. Linearizable.
     *
     * @throws NullPointerException if {@code m} or any of its keys or values is null
     */
    @Override
    public void putAll(Map<? extends K, ? extends V> m) {
        // Copied before locking: m may be this dict or a view of it, and null checks must fail
        // before anything changed.
        List<Map.Entry<K, V>> entries = new ArrayList<>(m.size());
        m.forEach((k, v) -> entries.add(new AbstractMap.SimpleImmutableEntry<>(
                Objects.requireNonNull(k, "key"), Objects.requireNonNull(v, "value"))));
        atomically(exclusive -> entries.forEach(e -> exclusive.put(e.getKey(), e.getValue())));
    }

    /**
     * Removes the mappings of all the given keys, atomically (at one point in time).
     * Linearizable.
     *
     * @param keys the keys to remove; keys without a mapping are ignored
     * @return the mappings that were removed, as an immutable map
     * @throws NullPointerException if {@code keys} or any key in it is null
     */
    public Map<K, V> removeAll(Collection<?> keys) {
        Object[] toRemove = keys.toArray();
        for (Object key : toRemove) {
            Objects.requireNonNull(key, "key");
        }
        return atomicallyApply(exclusive -> {
            Map<K, V> removed = new java.util.HashMap<>();
            for (Object key : toRemove) {
                V value = exclusive.remove(key);
                if (value != null) {
                    removed.put(castKey(key), value);
                }
            }
            return Map.copyOf(removed);
        });
    }

    /** Removes all mappings, atomically (at one point in time). Linearizable. */
    @Override
    public void clear() {
        atomically(Map::clear);
    }

    /**
     * Replaces every value by {@code function(key, value)}, atomically: no other operation sees
     * some values replaced and others not. The function runs with writers held off and must not
     * call this dict. Linearizable. If the function throws, the values replaced so far stay
     * replaced (and are reported to listeners) and the exception propagates.
     *
     * @throws NullPointerException if {@code function} is null or returns null
     */
    @Override
    public void replaceAll(BiFunction<? super K, ? super V, ? extends V> function) {
        Objects.requireNonNull(function, "function");
        atomically(exclusive -> exclusive.replaceAll(function));
    }

    /**
     * Runs {@code action} with exclusive access to the dict: all the changes it makes through
     * the map it is given take effect at one point in time, and no other operation sees an
     * intermediate state. Linearizable.
     *
     * <p>The given map supports every {@link Map} operation (its key, value and entry views
     * are read-only) and rejects nulls. It is valid only during the call; using it afterwards
     * throws {@link IllegalStateException}. The action must not call this dict (that throws
     * {@link IllegalStateException}) and should be short: writers wait meanwhile.
     *
     * <p>If the action throws, the changes it made so far stay (there is no rollback), are
     * reported to listeners, and the exception propagates.
     *
     * <p>Example, moving 10 from one account to another with no reader ever seeing the money
     * in neither or both:
     * <pre>{@code
     * balances.atomically(m -> {
     *     m.merge("alice", -10, Integer::sum);
     *     m.merge("bob", 10, Integer::sum);
     * });
     * }</pre>
     *
     * @param action what to do
     * @throws NullPointerException if {@code action} is null
     */
    public void atomically(Consumer<? super Map<K, V>> action) {
        Objects.requireNonNull(action, "action");
        atomicallyApply(exclusive -> {
            action.accept(exclusive);
            return null;
        });
    }

    /**
     * As {@link #atomically(Consumer)}, returning what {@code action} returns: for reads and
     * writes over several keys that must agree with each other.
     *
     * @param action what to do
     * @param <R>    the type of the result
     * @return what {@code action} returned
     * @throws NullPointerException if {@code action} is null
     */
    public <R> R atomicallyApply(Function<? super Map<K, V>, ? extends R> action) {
        Objects.requireNonNull(action, "action");
        long stamp = lockExclusive();
        ExclusiveMap exclusive = new ExclusiveMap(feed.isListening());
        try {
            return action.apply(exclusive);
        } finally {
            exclusive.open = false;
            unlockExclusive(stamp);
        }
    }

    /** Removes the mappings matching {@code filter} atomically; used by the views. */
    private boolean removeMatching(BiPredicate<? super K, ? super V> filter) {
        Objects.requireNonNull(filter, "filter");
        return atomicallyApply(exclusive -> {
            List<K> matching = new ArrayList<>();
            map.forEach((k, v) -> {
                if (filter.test(k, v)) {
                    matching.add(k);
                }
            });
            matching.forEach(exclusive::remove);
            return !matching.isEmpty();
        });
    }

    // ---------------------------------------------------------------- iteration and views

    /**
     * Calls {@code action} for every mapping of a snapshot taken when this method starts,
     * outside the dict's lock (the action may use the dict). Sees no later writes.
     *
     * @throws NullPointerException if {@code action} is null
     */
    @Override
    public void forEach(BiConsumer<? super K, ? super V> action) {
        Objects.requireNonNull(action, "action");
        snapshot().forEach(action);
    }

    /**
     * Returns a live view of the keys. {@code size}, {@code contains}, {@code remove},
     * {@code removeIf}, {@code removeAll}, {@code retainAll} and {@code clear} are linearizable
     * operations on the dict (the bulk ones atomic); iteration, {@code toArray},
     * {@code equals} and {@code hashCode} work on a snapshot. Adding is not supported.
     */
    @Override
    public Set<K> keySet() {
        return keySet;
    }

    /**
     * Returns a live view of the values, with the guarantees of {@link #keySet()}; removing a
     * value removes one mapping to it.
     */
    @Override
    public Collection<V> values() {
        return values;
    }

    /**
     * Returns a live view of the mappings, with the guarantees of {@link #keySet()}. Entries
     * returned by its iterator write through on {@code setValue} (a linearizable put).
     */
    @Override
    public Set<Map.Entry<K, V>> entrySet() {
        return entrySet;
    }

    // ---------------------------------------------------------------- Object

    /**
     * Compares the mappings, taken at one point in time, with {@code o} as {@link Map#equals}
     * does. When {@code o} is also a ThreadSafeDict, its snapshot is compared.
     */
    @Override
    public boolean equals(Object o) {
        if (o == this) {
            return true;
        }
        Object other = o instanceof ThreadSafeDict<?, ?> dict ? dict.snapshot() : o;
        return snapshot().equals(other);
    }

    /** Returns the {@link Map#hashCode()} of the mappings at one point in time. */
    @Override
    public int hashCode() {
        long stamp = lockExclusive();
        try {
            return map.hashCode();
        } finally {
            unlockExclusive(stamp);
        }
    }

    /** Returns the mappings at one point in time, as {@code {k1=v1, k2=v2}} in no set order. */
    @Override
    public String toString() {
        return snapshot().toString();
    }

    // ---------------------------------------------------------------- locking

    private long lockShared() {
        long stamp = gate.tryReadLock();
        if (stamp == 0L) {
            failIfReentrant();
            stamp = gate.readLock();
        }
        return stamp;
    }

    private void unlockSharedAndDeliver(long stamp) {
        gate.unlockRead(stamp);
        feed.deliverPending();
    }

    private long lockExclusive() {
        long stamp = gate.tryWriteLock();
        if (stamp == 0L) {
            failIfReentrant();
            stamp = gate.writeLock();
        }
        exclusiveOwner = Thread.currentThread();
        return stamp;
    }

    private void unlockExclusive(long stamp) {
        exclusiveOwner = null;
        gate.unlockWrite(stamp);
        feed.deliverPending();
    }

    private void failIfReentrant() {
        if (exclusiveOwner == Thread.currentThread()) {
            throw new IllegalStateException("ThreadSafeDict called from inside its own atomically(...): "
                    + "use the map passed to the action instead");
        }
    }

    private void publish(K key, V before, V after) {
        feed.publish(listener -> listener.onChange(key, before, after));
    }

    @SuppressWarnings("unchecked")
    private static <K> K castKey(Object key) {
        // Only ever used to look a key up or remove it: a key of the wrong type is simply absent.
        return (K) key;
    }

    /** A value before and after one single-key write. */
    private static final class Transition<V> {
        V before;
        V after;
    }

    // ---------------------------------------------------------------- the map given to atomically

    /**
     * The map handed to atomically(): the CHM itself, with the exclusive lock held, recording
     * each change for the listeners. Every Map default method (compute, merge...) is built on
     * get/put/remove, so overriding those records everything.
     */
    private final class ExclusiveMap extends AbstractMap<K, V> {
        private final boolean listening;
        private boolean open = true;

        ExclusiveMap(boolean listening) {
            this.listening = listening;
        }

        private void checkOpen() {
            if (!open) {
                throw new IllegalStateException("the map given to ThreadSafeDict.atomically(...) "
                        + "was used after the action returned");
            }
        }

        @Override
        public int size() {
            checkOpen();
            return map.size();
        }

        @Override
        public boolean containsKey(Object key) {
            checkOpen();
            return map.containsKey(Objects.requireNonNull(key, "key"));
        }

        @Override
        public boolean containsValue(Object value) {
            checkOpen();
            return map.containsValue(Objects.requireNonNull(value, "value"));
        }

        @Override
        public V get(Object key) {
            checkOpen();
            return map.get(Objects.requireNonNull(key, "key"));
        }

        @Override
        public V put(K key, V value) {
            checkOpen();
            V before = map.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            if (listening && !value.equals(before)) {
                publish(key, before, value);
            }
            return before;
        }

        @Override
        public V remove(Object key) {
            checkOpen();
            V before = map.remove(Objects.requireNonNull(key, "key"));
            if (listening && before != null) {
                publish(castKey(key), before, null);
            }
            return before;
        }

        @Override
        public void clear() {
            checkOpen();
            if (listening) {
                new ArrayList<>(map.keySet()).forEach(this::remove);
            } else {
                map.clear();
            }
        }

        @Override
        public void replaceAll(BiFunction<? super K, ? super V, ? extends V> function) {
            checkOpen();
            for (Map.Entry<K, V> entry : map.entrySet()) {
                put(entry.getKey(), Objects.requireNonNull(function.apply(entry.getKey(), entry.getValue()), "value"));
            }
        }

        @Override
        public Set<Map.Entry<K, V>> entrySet() {
            checkOpen();
            return Collections.unmodifiableMap(map).entrySet();
        }
    }

    // ---------------------------------------------------------------- views

    /** A view whose reads of many elements go through a snapshot and whose writes are dict operations. */
    private abstract class View<T> extends AbstractCollection<T> {
        /** The element this view shows for one mapping. */
        abstract T element(K key, V value);

        /** This view of a snapshot, for toArray, equals and hashCode. */
        abstract Collection<T> of(Map<K, V> snapshot);

        @Override
        public int size() {
            return ThreadSafeDict.this.size();
        }

        @Override
        public boolean isEmpty() {
            return ThreadSafeDict.this.isEmpty();
        }

        @Override
        public void clear() {
            ThreadSafeDict.this.clear();
        }

        @Override
        public Iterator<T> iterator() {
            return new SnapshotIterator<>(snapshot().entrySet().iterator(), this::element);
        }

        @Override
        public boolean removeIf(Predicate<? super T> filter) {
            Objects.requireNonNull(filter, "filter");
            return removeMatching((k, v) -> filter.test(element(k, v)));
        }

        @Override
        public boolean removeAll(Collection<?> c) {
            Set<?> unwanted = new HashSet<>(Arrays.asList(c.toArray()));
            return removeIf(unwanted::contains);
        }

        @Override
        public boolean retainAll(Collection<?> c) {
            Set<?> wanted = new HashSet<>(Arrays.asList(c.toArray()));
            return removeIf(e -> !wanted.contains(e));
        }

        @Override
        public Object[] toArray() {
            return of(snapshot()).toArray();
        }

        @Override
        public <A> A[] toArray(A[] a) {
            return of(snapshot()).toArray(a);
        }

        @Override
        public String toString() {
            return of(snapshot()).toString();
        }
    }

    private final class KeyView extends View<K> implements Set<K> {
        @Override
        K element(K key, V value) {
            return key;
        }

        @Override
        Collection<K> of(Map<K, V> snapshot) {
            return snapshot.keySet();
        }

        @Override
        public boolean contains(Object o) {
            return containsKey(o);
        }

        @Override
        public boolean remove(Object o) {
            return ThreadSafeDict.this.remove(o) != null;
        }

        @Override
        public boolean equals(Object o) {
            return o == this || of(snapshot()).equals(o);
        }

        @Override
        public int hashCode() {
            return of(snapshot()).hashCode();
        }
    }

    private final class ValueView extends View<V> {
        @Override
        V element(K key, V value) {
            return value;
        }

        @Override
        Collection<V> of(Map<K, V> snapshot) {
            return snapshot.values();
        }

        @Override
        public boolean contains(Object o) {
            return containsValue(o);
        }
    }

    private final class EntryView extends View<Map.Entry<K, V>> implements Set<Map.Entry<K, V>> {
        @Override
        Map.Entry<K, V> element(K key, V value) {
            return new WriteThroughEntry(key, value);
        }

        @Override
        Collection<Map.Entry<K, V>> of(Map<K, V> snapshot) {
            return snapshot.entrySet();
        }

        @Override
        public boolean contains(Object o) {
            return o instanceof Map.Entry<?, ?> e && e.getKey() != null && e.getValue() != null
                    && e.getValue().equals(get(e.getKey()));
        }

        @Override
        public boolean remove(Object o) {
            return o instanceof Map.Entry<?, ?> e && e.getKey() != null
                    && ThreadSafeDict.this.remove(e.getKey(), e.getValue());
        }

        @Override
        public boolean equals(Object o) {
            return o == this || of(snapshot()).equals(o);
        }

        @Override
        public int hashCode() {
            return of(snapshot()).hashCode();
        }
    }

    /** An entry of an entry-set iteration; setValue is a put on the dict. */
    private final class WriteThroughEntry extends AbstractMap.SimpleEntry<K, V> {
        WriteThroughEntry(K key, V value) {
            super(key, value);
        }

        @Override
        public V setValue(V value) {
            Objects.requireNonNull(value, "value");
            put(getKey(), value);
            return super.setValue(value);
        }
    }

    /** Iterates a snapshot; remove() removes the mapping seen, if it is still there. */
    private final class SnapshotIterator<T> implements Iterator<T> {
        private final Iterator<Map.Entry<K, V>> entries;
        private final BiFunction<K, V, T> element;
        private Map.Entry<K, V> last;

        SnapshotIterator(Iterator<Map.Entry<K, V>> entries, BiFunction<K, V, T> element) {
            this.entries = entries;
            this.element = element;
        }

        @Override
        public boolean hasNext() {
            return entries.hasNext();
        }

        @Override
        public T next() {
            last = entries.next();
            return element.apply(last.getKey(), last.getValue());
        }

        @Override
        public void remove() {
            if (last == null) {
                throw new IllegalStateException("next() has not been called, or remove() was already called");
            }
            ThreadSafeDict.this.remove(last.getKey(), last.getValue());
            last = null;
        }
    }

    // ---------------------------------------------------------------- listener delivery
}
