package io.unidist;

import java.time.Duration;
import java.util.Objects;

/**
 * When written data is forced to the disk device.
 *
 * <p>Whatever the policy, every change is handed to the operating system before the call that
 * made it returns, so it survives a crash of the process ({@code kill -9}). The policy decides
 * what survives a crash of the machine or a power loss:
 * <ul>
 *   <li>{@link #everyWrite()}: everything that returned (the default; about one fsync per call)</li>
 *   <li>{@link #every(Duration)}: everything but at most the last interval</li>
 *   <li>{@link #never()}: whatever the operating system had written back</li>
 * </ul>
 */
public final class FsyncPolicy {
    private static final FsyncPolicy EVERY_WRITE = new FsyncPolicy(Duration.ZERO);
    private static final FsyncPolicy NEVER = new FsyncPolicy(null);

    private final Duration interval;

    private FsyncPolicy(Duration interval) {
        this.interval = interval;
    }

    /** Forces every write to the device before the call returns. */
    public static FsyncPolicy everyWrite() {
        return EVERY_WRITE;
    }

    /**
     * Forces written data to the device every {@code interval}, from a background thread.
     *
     * @throws IllegalArgumentException when {@code interval} is not positive
     */
    public static FsyncPolicy every(Duration interval) {
        Objects.requireNonNull(interval, "interval");
        if (interval.isZero() || interval.isNegative()) {
            throw new IllegalArgumentException("fsync interval must be positive, got " + interval);
        }
        return new FsyncPolicy(interval);
    }

    /** Never forces data to the device; the operating system writes it back when it likes. */
    public static FsyncPolicy never() {
        return NEVER;
    }

    /** Whether every write is forced before the call returns. */
    public boolean isEveryWrite() {
        return this == EVERY_WRITE;
    }

    /** Whether data is never forced. */
    public boolean isNever() {
        return this == NEVER;
    }

    /** The interval of a periodic policy, or null for the other two. */
    public Duration interval() {
        return isEveryWrite() || isNever() ? null : interval;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FsyncPolicy other && Objects.equals(interval, other.interval);
    }

    @Override
    public int hashCode() {
        return Objects.hashCode(interval);
    }

    @Override
    public String toString() {
        if (isEveryWrite()) {
            return "fsync every write";
        }
        return isNever() ? "fsync never" : "fsync every " + interval;
    }
}
