package io.unidist.cluster.internal;

import io.unidist.internal.Times;
import io.unidist.internal.serial.ValueCodec;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The state buckets of the state machine. Values are the clients' encoded bytes: a voter never
 * needs the users' classes ({@link ValueCodec#sameValue} compares them structurally).
 *
 * <p>Every change of a bucket gets the next version of that bucket; the last
 * {@value #HISTORY} changes are kept so that a watcher that missed a push can catch up. The
 * history is rebuilt from the log and is not in snapshots: after a restart from a snapshot a
 * watcher with a gap gets the bucket's differences instead of each change.
 *
 * <p>An entry with a time-to-live expires when the state machine's time (the leader's stamps,
 * advanced by ticks) passes its deadline: every replica removes it at the same entry.
 */
final class StateTable {
    static final int HISTORY = 1024;

    /** One value and when it expires (0: never). */
    record Entry(byte[] value, long expiresAt) { }

    /** One change of a bucket; {@code value} null for a removal. */
    record Change(String bucket, long version, String key, byte[] value) { }

    private record Deadline(long at, String bucket, String key) { }

    private static final class Bucket {
        final TreeMap<String, Entry> entries = new TreeMap<>();
        long version;
        final ArrayDeque<Change> history = new ArrayDeque<>();
    }

    private final TreeMap<String, Bucket> buckets = new TreeMap<>();
    private final TreeSet<Deadline> deadlines = new TreeSet<>(
            Comparator.comparingLong(Deadline::at).thenComparing(Deadline::bucket).thenComparing(Deadline::key));

    Entry get(String bucket, String key) {
        Bucket b = buckets.get(bucket);
        return b == null ? null : b.entries.get(key);
    }

    /** Sets a value; returns the change. {@code ttlMillis} 0 means no expiry. */
    Change put(String bucket, String key, byte[] value, long ttlMillis, long now) {
        Bucket b = buckets.computeIfAbsent(bucket, n -> new Bucket());
        Entry old = b.entries.get(key);
        if (old != null && old.expiresAt != 0) {
            deadlines.remove(new Deadline(old.expiresAt, bucket, key));
        }
        long expiresAt = ttlMillis > 0 ? Times.saturatedAdd(now, ttlMillis) : 0;
        b.entries.put(key, new Entry(value, expiresAt));
        if (expiresAt != 0) {
            deadlines.add(new Deadline(expiresAt, bucket, key));
        }
        return record(bucket, b, key, value);
    }

    Change remove(String bucket, String key) {
        Bucket b = buckets.get(bucket);
        Entry old = b == null ? null : b.entries.remove(key);
        if (old == null) {
            return null;
        }
        if (old.expiresAt != 0) {
            deadlines.remove(new Deadline(old.expiresAt, bucket, key));
        }
        Change c = record(bucket, b, key, null);
        if (b.entries.isEmpty() && b.history.isEmpty()) {
            buckets.remove(bucket);
        }
        return c;
    }

    boolean matches(String bucket, String key, byte[] expected) {
        Entry e = get(bucket, key);
        return e != null && ValueCodec.sameValue(e.value, expected);
    }

    /** Removes every entry whose time has come; returns the changes. */
    List<Change> expire(long now) {
        List<Change> changes = new ArrayList<>();
        while (!deadlines.isEmpty() && deadlines.first().at <= now) {
            Deadline d = deadlines.pollFirst();
            Change c = remove(d.bucket, d.key);
            if (c != null) {
                changes.add(c);
            }
        }
        return changes;
    }

    /** The earliest expiry, or Long.MAX_VALUE. */
    long nextDeadline() {
        return deadlines.isEmpty() ? Long.MAX_VALUE : deadlines.first().at;
    }

    TreeMap<String, Entry> entries(String bucket) {
        Bucket b = buckets.get(bucket);
        return b == null ? new TreeMap<>() : b.entries;
    }

    long version(String bucket) {
        Bucket b = buckets.get(bucket);
        return b == null ? 0 : b.version;
    }

    /** The changes after {@code version}, or null when the history no longer reaches back that far. */
    List<Change> changesSince(String bucket, long version) {
        Bucket b = buckets.get(bucket);
        if (b == null || b.version == version) {
            return List.of();
        }
        if (b.history.isEmpty() || b.history.peekFirst().version > version + 1) {
            return null;
        }
        List<Change> list = new ArrayList<>();
        for (Change c : b.history) {
            if (c.version > version) {
                list.add(c);
            }
        }
        return list;
    }

    private static Change record(String bucket, Bucket b, String key, byte[] value) {
        Change c = new Change(bucket, ++b.version, key, value);
        b.history.addLast(c);
        if (b.history.size() > HISTORY) {
            b.history.pollFirst();
        }
        return c;
    }


    void write(DataOutput out) throws IOException {
        freeze().writeTo(out);
    }

    /**
     * The buckets as of now, written later: keys and entries are immutable, so copying the
     * references of each bucket is enough.
     */
    UnidistStateMachine.Frozen freeze() {
        int n = buckets.size();
        String[] names = new String[n];
        long[] versions = new long[n];
        String[][] keys = new String[n][];
        Entry[][] entries = new Entry[n][];
        int i = 0;
        for (Map.Entry<String, Bucket> be : buckets.entrySet()) {
            names[i] = be.getKey();
            versions[i] = be.getValue().version;
            keys[i] = be.getValue().entries.keySet().toArray(new String[0]);
            entries[i] = be.getValue().entries.values().toArray(new Entry[0]);
            i++;
        }
        return out -> {
            out.writeInt(n);
            for (int b = 0; b < n; b++) {
                out.writeUTF(names[b]);
                out.writeLong(versions[b]);
                out.writeInt(keys[b].length);
                for (int k = 0; k < keys[b].length; k++) {
                    out.writeUTF(keys[b][k]);
                    out.writeLong(entries[b][k].expiresAt);
                    out.writeInt(entries[b][k].value.length);
                    out.write(entries[b][k].value);
                }
            }
        };
    }

    void read(DataInput in) throws IOException {
        buckets.clear();
        deadlines.clear();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            String name = in.readUTF();
            Bucket b = new Bucket();
            b.version = in.readLong();
            int entries = in.readInt();
            for (int j = 0; j < entries; j++) {
                String key = in.readUTF();
                long expiresAt = in.readLong();
                byte[] value = new byte[SessionTable.checkLength(in.readInt())];
                in.readFully(value);
                b.entries.put(key, new Entry(value, expiresAt));
                if (expiresAt != 0) {
                    deadlines.add(new Deadline(expiresAt, name, key));
                }
            }
            buckets.put(name, b);
        }
    }
}
