package io.unidist.internal;

import io.unidist.TimeSource;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;

/** Waiting on a condition against a {@link TimeSource}'s deadline. */
final class Waits {
    private Waits() {
    }

    /**
     * Checks a duration argument and returns it in nanoseconds (saturated).
     *
     * @param owner the primitive, for the message ({@code "lock 'l'"})
     * @param kind what the duration is, for the message ({@code "timeout"}, {@code "delay"})
     */
    static long timeoutNanos(Duration timeout, String owner, String kind) {
        Objects.requireNonNull(timeout, () -> owner + ": " + kind + " is null");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException(owner + ": " + kind + " must not be negative, got " + timeout);
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    /** A deadline {@code nanos} from now on {@code time}'s monotonic clock, saturated. */
    static long deadline(TimeSource time, long nanos) {
        long now = time.nanoTime();
        long deadline = now + nanos;
        return deadline < now ? Long.MAX_VALUE : deadline;
    }

    /**
     * Waits until signalled or until {@code waitNanos} (real time) pass. A manual time source
     * signals on every advance, so waiting in real time for at most the remaining manual time
     * is enough for both kinds of source.
     */
    static void await(Condition condition, long waitNanos) throws InterruptedException {
        if (waitNanos > 0) {
            condition.await(Math.min(waitNanos, TimeUnit.DAYS.toNanos(1)), TimeUnit.NANOSECONDS);
        }
    }
}
