package io.unidist.internal;

import io.unidist.Persistence;
import io.unidist.SharedState;
import io.unidist.internal.serial.ValueCodec;
import io.unidist.internal.store.DurableStore;
import io.unidist.internal.store.Recovery;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
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

    private final LocalUnidist node;
    private final String name;
    private final Class<V> valueType;
    private final Persistence persistence;
    private final String what;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Map<String, byte[]> entries = new LinkedHashMap<>();
    private final DurableStore store;

    LocalState(LocalUnidist node, String name, Class<V> valueType, Persistence persistence) {
        this.node = node;
        this.name = name;
        this.valueType = valueType;
        this.persistence = persistence;
        this.what = "bucket '" + name + "'";
        this.store = node.openStore("state", name, persistence, new Recovery() {
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
            change(key, bytes);
            return null;
        });
    }

    @Override
    public boolean putIfAbsent(String key, V value) {
        checkKey(key);
        byte[] bytes = encode(value);
        return write(() -> {
            if (entries.containsKey(key)) {
                return false;
            }
            change(key, bytes);
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
            if (current == null || !sameValue(current, expectedBytes, expected)) {
                return false;
            }
            change(key, bytes);
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
            change(key, null);
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

    /** Applies a change in memory, makes it durable, and undoes it if that fails. */
    private void change(String key, byte[] value) {
        byte[] previous = value == null ? entries.remove(key) : entries.put(key, value);
        byte[] record = Records.write(out -> {
            out.writeByte(FORMAT);
            out.writeByte(value == null ? OP_REMOVE : OP_PUT);
            out.writeUTF(key);
            if (value != null) {
                Records.writeBytes(out, value);
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
            throw e;
        }
    }

    private boolean sameValue(byte[] current, byte[] expectedBytes, V expected) {
        // equal encodings are equal values; unequal ones may still be (a HashMap's order), so compare decoded
        return Arrays.equals(current, expectedBytes) || Objects.deepEquals(decode(current), expected);
    }

    private byte[] snapshotBytes() {
        return Records.write(out -> {
            out.writeByte(FORMAT);
            out.writeInt(entries.size());
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                out.writeUTF(e.getKey());
                Records.writeBytes(out, e.getValue());
            }
        });
    }

    private void readSnapshot(byte[] state) {
        try {
            DataInputStream in = Records.read(state, FORMAT, what);
            int n = in.readInt();
            entries.clear();
            for (int i = 0; i < n; i++) {
                entries.put(in.readUTF(), Records.readBytes(in));
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
                case OP_PUT -> entries.put(key, Records.readBytes(in));
                case OP_REMOVE -> entries.remove(key);
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
            return body.get();
        } finally {
            lock.writeLock().unlock();
        }
    }
}
