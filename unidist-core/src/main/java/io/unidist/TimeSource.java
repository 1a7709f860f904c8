package io.unidist;

import java.time.Instant;

/**
 * Where a node reads the time: monotonic nanoseconds for timeouts, wall-clock milliseconds for
 * what is persisted (delays, visibility deadlines, lease start times).
 *
 * <p>The system source is the default. Tests pass a {@link ManualTimeSource} to move time by
 * hand, so that delays, visibility timeouts and lock timeouts are tested without sleeping.
 */
public interface TimeSource {
    /** Monotonic time in nanoseconds, for measuring timeouts; only differences mean anything. */
    long nanoTime();

    /** Wall-clock time in milliseconds since the epoch. */
    long currentTimeMillis();

    /** Wall-clock time as an instant. */
    default Instant now() {
        return Instant.ofEpochMilli(currentTimeMillis());
    }

    /**
     * Runs {@code action} whenever this source's time is moved by hand, so that waiters
     * re-check their deadlines. The system source never calls it.
     */
    default Subscription onAdvance(Runnable action) {
        return () -> { };
    }

    /** The system's clocks: {@link System#nanoTime()} and {@link System#currentTimeMillis()}. */
    static TimeSource system() {
        return SystemTimeSource.INSTANCE;
    }
}

/** The system clocks. */
enum SystemTimeSource implements TimeSource {
    INSTANCE;

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public long currentTimeMillis() {
        return System.currentTimeMillis();
    }
}
