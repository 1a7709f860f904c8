package io.unidist;

import io.unidist.internal.LocalUnidist;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A unidist node: the entry point to shared locks, counters, state buckets and queues.
 *
 * <p>{@link #local()} and {@link #local(Path)} make a node whose primitives are shared by the
 * threads of this process; {@code io.unidist.cluster.UnidistCluster.join(...)} makes one whose
 * primitives are shared by every node of a cluster. Both give the same guarantees, written on
 * each primitive's interface.
 *
 * <p>Asking twice for the same name returns the same primitive. A name is a non-empty string
 * of at most 200 characters without control characters.
 *
 * <p><b>Closing.</b> {@link #close()} releases the node's leases, flushes and closes its
 * storage; afterwards every call on the node or its primitives throws
 * {@link IllegalStateException}.
 *
 * <p><b>Thread safety.</b> All methods may be called from any thread.
 */
public interface Unidist extends AutoCloseable {
    /** An in-process node that persists nothing. */
    static Unidist local() {
        return builder().build();
    }

    /**
     * An in-process node whose counters, state buckets and queues persist under
     * {@code dataDir}. One process at a time may use a data directory.
     *
     * <p>The start reads every primitive's files under {@code dataDir} and checks them (so it
     * takes time in proportion to the data); a primitive's data is then read again when it is
     * first opened.
     *
     * @throws UnidistException when the directory cannot be created, is in use, or holds a file
     *     that cannot be recovered (the message names it, and says what to do); no file is then
     *     changed and the directory is free again
     */
    static Unidist local(Path dataDir) {
        return builder().dataDir(dataDir).build();
    }

    /** A builder for an in-process node with more settings. */
    static Builder builder() {
        return new Builder();
    }

    /** The node's name, as shown in {@link LeaseInfo#node()}. */
    String nodeName();

    /** The lock named {@code name}: a semaphore of one permit. */
    SharedLock lock(String name);

    /**
     * The semaphore named {@code name}, of which at most {@code permits} leases are held at once.
     *
     * @throws IllegalArgumentException when {@code permits} is less than 1, or the name is in use
     *     with another number of permits
     */
    SharedLock semaphore(String name, int permits);

    /** The counter named {@code name}, with {@link Persistence#snapshot()}. */
    SharedCounter counter(String name);

    /**
     * The counter named {@code name}, kept as {@code persistence} says.
     *
     * @throws IllegalArgumentException when the counter is open with another persistence
     */
    SharedCounter counter(String name, Persistence persistence);

    /** The state bucket named {@code bucket}, with {@link Persistence#archive()}. */
    <V> SharedState<V> state(String bucket, Class<V> valueType);

    /**
     * The state bucket named {@code bucket}, kept as {@code persistence} says.
     *
     * @throws IllegalArgumentException when the bucket is open with another value type or
     *     persistence
     */
    <V> SharedState<V> state(String bucket, Class<V> valueType, Persistence persistence);

    /**
     * The queue named {@code name}, with {@link QueueOptions#defaults()}. A name ending in
     * {@code .dead} opens the dead-letter queue of the queue named by the rest.
     */
    <T> MessageQueue<T> queue(String name, Class<T> messageType);

    /**
     * The queue named {@code name}, with {@code options}.
     *
     * @throws IllegalArgumentException when the queue is open with another message type or
     *     other options
     */
    <T> MessageQueue<T> queue(String name, Class<T> messageType, QueueOptions options);

    /** Releases this node's leases, flushes and closes its storage, leaves. Idempotent. */
    @Override
    void close();

    /** Settings of an in-process node. */
    final class Builder {
        private String nodeName;
        private Path dataDir;
        private TimeSource timeSource = TimeSource.system();

        private Builder() {
        }

        /** The node's name; by default {@code <host>-<pid>}. */
        public Builder nodeName(String name) {
            this.nodeName = Objects.requireNonNull(name, "nodeName");
            return this;
        }

        /** Where counters, state buckets and queues persist; by default nowhere. */
        public Builder dataDir(Path dir) {
            this.dataDir = Objects.requireNonNull(dir, "dataDir");
            return this;
        }

        /** The time source; by default the system's clocks. */
        public Builder timeSource(TimeSource source) {
            this.timeSource = Objects.requireNonNull(source, "timeSource");
            return this;
        }

        /**
         * Starts the node, checking every primitive's files under {@code dataDir} (see
         * {@link Unidist#local(Path)}).
         *
         * @throws UnidistException when the data directory cannot be used or holds a file that
         *     cannot be recovered (the message says which and why)
         */
        public Unidist build() {
            return LocalUnidist.start(nodeName, dataDir, timeSource);
        }
    }
}
