package io.unidist.internal.store;

import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one background thread, {@code unidist-fsync}, that forces the stores whose policy is
 * {@link io.unidist.FsyncPolicy#every(Duration)}. One thread for all stores because forcing is
 * I/O-bound and a thread per primitive would be wasted; it is a daemon so that it never keeps a
 * JVM alive, and it is created on first use.
 */
final class FsyncScheduler {
    private static final Logger log = LoggerFactory.getLogger(FsyncScheduler.class);

    private FsyncScheduler() {
    }

    private static final class Holder {
        static final ScheduledThreadPoolExecutor EXECUTOR = newExecutor();

        private static ScheduledThreadPoolExecutor newExecutor() {
            ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, task -> {
                Thread thread = new Thread(task, "unidist-fsync");
                thread.setDaemon(true);
                return thread;
            });
            executor.setRemoveOnCancelPolicy(true);
            return executor;
        }
    }

    /**
     * Runs {@code task} every {@code interval} until the returned future is cancelled. The task's
     * exceptions are logged rather than thrown, because a periodic task that throws is silently
     * never run again.
     */
    static Future<?> every(Duration interval, String name, Runnable task) {
        long nanos = interval.toNanos();
        return Holder.EXECUTOR.scheduleWithFixedDelay(() -> runLogged(name, task), nanos, nanos, TimeUnit.NANOSECONDS);
    }

    private static void runLogged(String name, Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            log.error("{}: background fsync failed", name, e);
        }
    }
}
