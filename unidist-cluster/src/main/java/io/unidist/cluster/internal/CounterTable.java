package io.unidist.cluster.internal;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;

/** The counters of the state machine: name to value; a counter never changed is 0 and absent. */
final class CounterTable {
    private final TreeMap<String, Long> values = new TreeMap<>();

    long get(String name) {
        return values.getOrDefault(name, 0L);
    }

    /** Adds; throws ArithmeticException (naming the counter) and changes nothing on overflow. */
    long add(String name, long delta) {
        long current = get(name);
        long next;
        try {
            next = Math.addExact(current, delta);
        } catch (ArithmeticException e) {
            throw new ArithmeticException("counter '" + name + "': " + current + " + " + delta + " overflows a long");
        }
        set(name, next);
        return next;
    }

    boolean compareAndSet(String name, long expected, long next) {
        if (get(name) != expected) {
            return false;
        }
        set(name, next);
        return true;
    }

    private void set(String name, long value) {
        if (value == 0) {
            values.remove(name);
        } else {
            values.put(name, value);
        }
    }

    void write(DataOutput out) throws IOException {
        out.writeInt(values.size());
        for (Map.Entry<String, Long> e : values.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeLong(e.getValue());
        }
    }

    void read(DataInput in) throws IOException {
        values.clear();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            values.put(in.readUTF(), in.readLong());
        }
    }
}
