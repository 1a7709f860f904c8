package io.unidist.internal;

import io.unidist.Persistence;
import io.unidist.SharedCounter;
import io.unidist.internal.store.DurableStore;
import io.unidist.internal.store.Recovery;
import java.io.DataInputStream;
import java.io.IOException;

/**
 * An in-process counter. Every change is made durable (per its persistence) while the
 * counter's monitor is held, before the new value is visible to any reader, so a value a
 * caller saw is never handed out again after a crash.
 *
 * <p>Records and snapshots hold the resulting value, not the delta: replaying one twice is
 * harmless.
 */
final class LocalCounter implements SharedCounter {
    private static final int FORMAT = 1;
    private static final int OP_SET = 1;

    private final LocalUnidist node;
    private final String name;
    private final Persistence persistence;
    private final DurableStore store;
    private long value;

    LocalCounter(LocalUnidist node, String name, Persistence persistence) {
        this.node = node;
        this.name = name;
        this.persistence = persistence;
        this.store = node.openStore(LocalUnidist.COUNTERS, name, persistence, new Recovery() {
            @Override
            public void snapshot(byte[] state) {
                value = readValue(state);
            }

            @Override
            public void record(byte[] record) {
                value = readValue(record);
            }
        });
    }

    @Override
    public String name() {
        return name;
    }

    Persistence persistence() {
        return persistence;
    }

    @Override
    public synchronized long get() {
        node.ensureOpen();
        return value;
    }

    @Override
    public long incrementAndGet() {
        return addAndGet(1);
    }

    @Override
    public synchronized long addAndGet(long delta) {
        node.ensureOpen();
        long next;
        try {
            next = Math.addExact(value, delta);
        } catch (ArithmeticException e) {
            throw new ArithmeticException("counter '" + name + "': " + value + " + " + delta + " overflows a long");
        }
        set(next);
        return next;
    }

    @Override
    public synchronized boolean compareAndSet(long expected, long newValue) {
        node.ensureOpen();
        if (value != expected) {
            return false;
        }
        set(newValue);
        return true;
    }

    @Override
    public String toString() {
        return "counter '" + name + "'";
    }

    synchronized void closeStore() {
        if (store.hasUnsnapshottedChanges() && persistence.mode() == Persistence.Mode.SNAPSHOT) {
            store.snapshot(encode(value));
        }
        store.close();
    }

    private void set(long next) {
        long previous = value;
        value = next;
        byte[] bytes = encode(next);
        try {
            store.write(bytes, () -> bytes);
        } catch (RuntimeException e) {
            value = previous;
            throw e;
        }
    }

    private static byte[] encode(long value) {
        return Records.write(out -> {
            out.writeByte(FORMAT);
            out.writeByte(OP_SET);
            out.writeLong(value);
        });
    }

    private long readValue(byte[] bytes) {
        String what = "counter '" + name + "'";
        try {
            DataInputStream in = Records.read(bytes, FORMAT, what);
            int op = in.readByte();
            if (op != OP_SET) {
                throw new IOException("unknown operation id " + op);
            }
            return in.readLong();
        } catch (IOException e) {
            throw Records.corrupt(what, e);
        }
    }
}
