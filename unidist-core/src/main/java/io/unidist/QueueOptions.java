package io.unidist;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link MessageQueue} behaves. Immutable; change it with the {@code with...} methods.
 * Defaults: visibility timeout 30 s, 5 attempts before a message moves to {@code <queue>.dead},
 * no capacity limit, {@link Persistence#archive()}.
 */
public final class QueueOptions {
    /** The default visibility timeout. */
    public static final Duration DEFAULT_VISIBILITY_TIMEOUT = Duration.ofSeconds(30);
    /** The default number of deliveries of a message before it moves to the dead-letter queue. */
    public static final int DEFAULT_MAX_ATTEMPTS = 5;

    private final Duration visibilityTimeout;
    private final int maxAttempts;
    private final long capacity;
    private final Persistence persistence;

    private QueueOptions(Duration visibilityTimeout, int maxAttempts, long capacity, Persistence persistence) {
        this.visibilityTimeout = visibilityTimeout;
        this.maxAttempts = maxAttempts;
        this.capacity = capacity;
        this.persistence = persistence;
    }

    /** The defaults. */
    public static QueueOptions defaults() {
        return new QueueOptions(DEFAULT_VISIBILITY_TIMEOUT, DEFAULT_MAX_ATTEMPTS, Long.MAX_VALUE, Persistence.archive());
    }

    /**
     * How long a delivered message stays invisible to other consumers before it is delivered
     * again, unless acknowledged.
     *
     * @throws IllegalArgumentException when not positive
     */
    public QueueOptions withVisibilityTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "visibility timeout");
        if (timeout.isZero() || timeout.isNegative()) {
            throw new IllegalArgumentException("visibility timeout must be positive, got " + timeout);
        }
        return new QueueOptions(timeout, maxAttempts, capacity, persistence);
    }

    /**
     * How many times a message is delivered at most; after the last attempt fails (nack or
     * visibility timeout) it moves to {@code <queue>.dead}.
     *
     * @throws IllegalArgumentException when less than 1
     */
    public QueueOptions withMaxAttempts(int attempts) {
        if (attempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1, got " + attempts);
        }
        return new QueueOptions(visibilityTimeout, attempts, capacity, persistence);
    }

    /**
     * How many unacknowledged messages the queue holds at most; an offer beyond it throws
     * {@link IllegalStateException}.
     *
     * @throws IllegalArgumentException when less than 1
     */
    public QueueOptions withCapacity(long capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        return new QueueOptions(visibilityTimeout, maxAttempts, capacity, persistence);
    }

    /** How the queue keeps its messages across restarts. */
    public QueueOptions withPersistence(Persistence persistence) {
        return new QueueOptions(visibilityTimeout, maxAttempts, capacity,
                Objects.requireNonNull(persistence, "persistence"));
    }

    /** The visibility timeout. */
    public Duration visibilityTimeout() {
        return visibilityTimeout;
    }

    /** Deliveries of a message before it moves to the dead-letter queue. */
    public int maxAttempts() {
        return maxAttempts;
    }

    /** The capacity; {@link Long#MAX_VALUE} when unlimited. */
    public long capacity() {
        return capacity;
    }

    /** How the queue keeps its messages. */
    public Persistence persistence() {
        return persistence;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QueueOptions q && q.visibilityTimeout.equals(visibilityTimeout)
                && q.maxAttempts == maxAttempts && q.capacity == capacity && q.persistence.equals(persistence);
    }

    @Override
    public int hashCode() {
        return Objects.hash(visibilityTimeout, maxAttempts, capacity, persistence);
    }

    @Override
    public String toString() {
        return "visibility timeout " + visibilityTimeout + ", max attempts " + maxAttempts
                + (capacity == Long.MAX_VALUE ? "" : ", capacity " + capacity) + ", " + persistence;
    }
}
