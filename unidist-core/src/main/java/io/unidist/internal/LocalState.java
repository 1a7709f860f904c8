package io.unidist.internal;

import io.unidist.Persistence;
import io.unidist.SharedState;
import io.unidist.StateListener;
import io.unidist.internal.serial.ValueCodec;
import io.unidist.internal.store.DurableStore;
import io.unidist.internal.store.Recovery;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * An in-process state bucket. Values are held encoded, so that what callers hold is never
 * shared with the bucket, and the journal record is the bytes already made for memory.
 *
 * <p>A write holds the write lock while its record becomes durable; readers wait for it, so no
 * reader sees a change that could still be lost.
 */
final class LocalState<V> implements SharedState<V> {
    private static final int FORMAT = 1;
    private static final int OP_PUT = 1;
    private static final int OP_REMOVE = 2;
    private static final int OP_PUT_UNTIL = 3;

    private final LocalUnidist node;
    private final String name;
    private final Class<V> valueType;
    private final Persistence persistence;
    private final String what;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Map<String, byte[]> entries = new LinkedHashMap<>();
    /** Wall-clock deadlines of the entries that have one, by key. */
    private final Map<String, Long> deadlines = new java.util.HashMap<>();
    private final java.util.TreeSet<Map.Entry<Long, String>> byDeadline = new java.util.TreeSet<>(
            Map.Entry.<Long, String>comparingByKey().thenComparing(Map.Entry.comparingByValue()));
    private final ChangeFeed<StateListener<? super V>> feed;
    private final DurableStore store;

    LocalState(LocalUnidist node, String name, Class<V> valueType, Persistence persistence) {
        this.node = node;
        this.name = name;
        this.valueType = valueType;
        this.persistence = persistence;
        this.what = "bucket '" + name + "'";
        this.feed = new ChangeFeed<>(org.slf4j.LoggerFactory.getLogger(LocalState.class), what);
        this.store = node.openStore(LocalUnidist.STATE, name, persistence, new Recovery() {
            @Override
            public void snapshot(byte[] state) {
                readSnapshot(state);
            }

            @Override
            public void record(byte[] record) {
                replay(record);
            }
        });
    }

    @Override
    public String name() {
        return name;
    }

    Class<V> valueType() {
        return valueType;
    }

    Persistence persistence() {
        return persistence;
    }

    @Override
    public Optional<V> get(String key) {
        checkKey(key);
        byte[] bytes = read(() -> entries.get(key));
        return bytes == null ? Optional.empty() : Optional.of(decode(bytes));
    }

    @Override
    public void put(String key, V value) {
        checkKey(key);
        byte[] bytes = encode(value);
        write(() -> {
            change(key, bytes, 0);
            return null;
        });
    }

    @Override
    public void put(String key, V value, java.time.Duration ttl) {
        checkKey(key);
        long ttlMillis = checkTtl(ttl);
        byte[] bytes = encode(value);
        write(() -> {
            long now = node.time().currentTimeMillis();
            change(key, bytes, Math.max(1, Times.saturatedAdd(now, ttlMillis)));
            return null;
        });
    }

    private long checkTtl(java.time.Duration ttl) {
        java.util.Objects.requireNonNull(ttl, what + ": ttl");
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException(what + ": ttl must be positive, got " + ttl);
        }
        try {
            return ttl.toMillis();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }


    @Override
    public io.unidist.Subscription watch(StateListener<? super V> listener) {
        java.util.Objects.requireNonNull(listener, what + ": listener");
        node.ensureOpen();
        lock.writeLock().lock();
        try {
            return feed.register(listener);
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public boolean putIfAbsent(String key, V value) {
        checkKey(key);
        byte[] bytes = encode(value);
        return write(() -> {
            if (entries.containsKey(key)) {
                return false;
            }
            change(key, bytes, 0);
            return true;
        });
    }

    @Override
    public boolean replace(String key, V expected, V newValue) {
        checkKey(key);
        byte[] expectedBytes = encode(expected);
        byte[] bytes = encode(newValue);
        return write(() -> {
            byte[] current = entries.get(key);
            if (current == null || !ValueCodec.sameValue(current, expectedBytes)) {
                return false;
            }
            change(key, bytes, 0);
            return true;
        });
    }

    @Override
    public boolean remove(String key) {
        checkKey(key);
        return write(() -> {
            if (!entries.containsKey(key)) {
                return false;
            }
            change(key, null, 0);
            return true;
        });
    }

    @Override
    public Set<String> keys() {
        return read(() -> Collections.unmodifiableSet(new LinkedHashSet<>(entries.keySet())));
    }

    @Override
    public Map<String, V> snapshot() {
        Map<String, byte[]> copy = read(() -> new LinkedHashMap<>(entries));
        Map<String, V> decoded = new LinkedHashMap<>(copy.size() * 2);
        copy.forEach((k, v) -> decoded.put(k, decode(v)));
        return Collections.unmodifiableMap(decoded);
    }

    @Override
    public String toString() {
        return what;
    }

    void closeStore() {
        lock.writeLock().lock();
        try {
            if (store.hasUnsnapshottedChanges() && persistence.mode() == Persistence.Mode.SNAPSHOT) {
                store.snapshot(snapshotBytes());
            }
            store.close();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Applies a change in memory, makes it durable, and undoes it if that fails; then records it
     * for the listeners. {@code expiresAt} is a wall-clock deadline, 0 for none.
     */
    private void change(String key, byte[] value, long expiresAt) {
        byte[] previous = value == null ? entries.remove(key) : entries.put(key, value);
        Long previousDeadline = setDeadline(key, value == null ? 0 : expiresAt);
        byte[] record = Records.write(out -> {
            out.writeByte(FORMAT);
            out.writeByte(value == null ? OP_REMOVE : expiresAt == 0 ? OP_PUT : OP_PUT_UNTIL);
            out.writeUTF(key);
            if (value != null) {
                Records.writeBytes(out, value);
                if (expiresAt != 0) {
                    out.writeLong(expiresAt);
                }
            }
        });
        try {
            store.write(record, this::snapshotBytes);
        } catch (RuntimeException e) {
            if (previous == null) {
                entries.remove(key);
            } else {
                entries.put(key, previous);
            }
            setDeadline(key, previousDeadline == null ? 0 : previousDeadline);
            throw e;
        }
        if (feed.isListening()) {
            feed.publish(l -> l.changed(key, value == null ? Optional.empty() : Optional.of(decode(value))));
        }
    }

    /** Sets or clears a key's deadline; returns the one it had. */
    private Long setDeadline(String key, long expiresAt) {
        Long old = expiresAt == 0 ? deadlines.remove(key) : deadlines.put(key, expiresAt);
        if (old != null) {
            byDeadline.remove(Map.entry(old, key));
        }
        if (expiresAt != 0) {
            byDeadline.add(Map.entry(expiresAt, key));
            node.schedule(expiresAt - node.time().currentTimeMillis(), this::expireNow);
        }
        return old;
    }

    /** Removes what is due now, so that watchers hear of an expiry when it happens. */
    void expireNow() {
        try {
            if (!node.isClosed() && hasDueUnderReadLock()) {
                write(() -> null);
            }
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(LocalState.class).warn("{}: expiring entries failed: {}", what, e.toString());
        }
    }

    /** Removes the entries whose deadline has passed; the caller holds the write lock. */
    private void expireDue() {
        long now = node.time().currentTimeMillis();
        while (!byDeadline.isEmpty() && byDeadline.first().getKey() <= now) {
            change(byDeadline.first().getValue(), null, 0);
        }
    }

    private boolean hasDue() {
        return !byDeadline.isEmpty() && byDeadline.first().getKey() <= node.time().currentTimeMillis();
    }

    private byte[] snapshotBytes() {
        return Records.write(out -> {
            out.writeByte(FORMAT);
            out.writeInt(entries.size());
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                out.writeUTF(e.getKey());
                Records.writeBytes(out, e.getValue());
                out.writeLong(deadlines.getOrDefault(e.getKey(), 0L));
            }
        });
    }

    private void readSnapshot(byte[] state) {
        try {
            DataInputStream in = Records.read(state, FORMAT, what);
            int n = in.readInt();
            entries.clear();
            deadlines.clear();
            byDeadline.clear();
            for (int i = 0; i < n; i++) {
                String key = in.readUTF();
                entries.put(key, Records.readBytes(in));
                setDeadline(key, in.readLong());
            }
        } catch (IOException e) {
            throw Records.corrupt(what + " snapshot", e);
        }
    }

    private void replay(byte[] record) {
        try {
            DataInputStream in = Records.read(record, FORMAT, what);
            int op = in.readByte();
            String key = in.readUTF();
            switch (op) {
                case OP_PUT -> {
                    entries.put(key, Records.readBytes(in));
                    setDeadline(key, 0);
                }
                case OP_PUT_UNTIL -> {
                    entries.put(key, Records.readBytes(in));
                    setDeadline(key, in.readLong());
                }
                case OP_REMOVE -> {
                    entries.remove(key);
                    setDeadline(key, 0);
                }
                default -> throw new IOException("unknown operation id " + op);
            }
        } catch (IOException e) {
            throw Records.corrupt(what + " journal", e);
        }
    }

    private void checkKey(String key) {
        if (key == null) {
            throw new NullPointerException(what + ": key is null");
        }
        if (key.length() > 0xFFFF / 3) {
            throw new IllegalArgumentException(what + ": key is " + key.length() + " characters long, more than "
                    + (0xFFFF / 3));
        }
    }

    private byte[] encode(V value) {
        return ValueCodec.encode(value, valueType, what);
    }

    private V decode(byte[] bytes) {
        return ValueCodec.decode(bytes, valueType, what);
    }

    private <R> R read(java.util.function.Supplier<R> body) {
        node.ensureOpen();
        if (hasDueUnderReadLock()) {
            write(() -> null); // expire what is due first, so that no read sees an expired entry
        }
        lock.readLock().lock();
        try {
            return body.get();
        } finally {
            lock.readLock().unlock();
        }
    }

    private <R> R write(java.util.function.Supplier<R> body) {
        node.ensureOpen();
        lock.writeLock().lock();
        try {
            node.ensureOpen();
            expireDue();
            return body.get();
        } finally {
            lock.writeLock().unlock();
            feed.deliverPending();
        }
    }

    private boolean hasDueUnderReadLock() {
        lock.readLock().lock();
        try {
            return hasDue();
        } finally {
            lock.readLock().unlock();
        }
    }
}
