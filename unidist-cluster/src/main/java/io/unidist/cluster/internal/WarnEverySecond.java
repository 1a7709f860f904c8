package io.unidist.cluster.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * A warning that input from the network can repeat at will (a dropped message, a refused
 * command): logged at WARN at most once a second, with how many were logged at DEBUG since, so
 * that a member sending garbage cannot flood the log. Thread-safe.
 */
final class WarnEverySecond {
    private static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Logger log;
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong lastWarning = new AtomicLong(System.nanoTime() - INTERVAL_NANOS);
    private volatile long countAtLastWarning;

    WarnEverySecond(Logger log) {
        this.log = log;
    }

    /** How many times {@link #warn} was called. */
    long count() {
        return count.get();
    }

    /** Counts one occurrence and logs it, at WARN if none was logged at WARN in the last second. */
    void warn(String format, Object... args) {
        long n = count.incrementAndGet();
        long now = System.nanoTime();
        long last = lastWarning.get();
        if (now - last >= INTERVAL_NANOS && lastWarning.compareAndSet(last, now)) {
            long skipped = n - 1 - countAtLastWarning;
            countAtLastWarning = n;
            if (log.isWarnEnabled()) {
                log.warn(format + (skipped > 0 ? " (and " + skipped + " more in the last second, logged at DEBUG)" : ""),
                        args);
            }
        } else {
            log.debug(format, args);
        }
    }
}
