package io.unidist.cluster.internal;

import io.unidist.SharedCounter;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A counter shared by the cluster, kept in the replicated state machine: writes are committed
 * by a majority and applied once (session and seq), reads are linearizable (the leader confirms
 * its leadership with a majority before it answers).
 */
final class ClusterCounter implements SharedCounter {
    private final ClusterNode node;
    private final String name;
    private final String what;

    ClusterCounter(ClusterNode node, String name) {
        this.node = node;
        this.name = name;
        this.what = "counter '" + name + "'";
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long get() {
        try {
            return node.read(Op.COUNTER_GET, 0, out -> out.writeUTF(name), node.timeout(), what).readLong();
        } catch (IOException e) {
            throw new UncheckedIOException(what + ": malformed reply", e);
        }
    }

    @Override
    public long incrementAndGet() {
        return addAndGet(1);
    }

    @Override
    public long addAndGet(long delta) {
        try {
            return node.write(Op.COUNTER_ADD, out -> {
                out.writeUTF(name);
                out.writeLong(delta);
            }, node.timeout(), what).readLong();
        } catch (IOException e) {
            throw new UncheckedIOException(what + ": malformed reply", e);
        }
    }

    @Override
    public boolean compareAndSet(long expected, long newValue) {
        try {
            return node.write(Op.COUNTER_CAS, out -> {
                out.writeUTF(name);
                out.writeLong(expected);
                out.writeLong(newValue);
            }, node.timeout(), what).readBoolean();
        } catch (IOException e) {
            throw new UncheckedIOException(what + ": malformed reply", e);
        }
    }

    @Override
    public String toString() {
        return what;
    }
}
