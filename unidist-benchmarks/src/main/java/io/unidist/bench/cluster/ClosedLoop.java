package io.unidist.bench.cluster;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * A closed-loop load: {@code threads} threads each call their action again as soon as the previous call returns,
 * through a warm-up and then a measured window. A call counts (and its latency is recorded) when it completes
 * inside the window; a call that throws counts as an error and the thread pauses 10 ms before the next one, so
 * that a cluster without a leader is not spun against.
 *
 * <p>Latencies are kept whole (one {@code long} per call, per thread, merged and sorted at the end): at the rates
 * seen here (at most some 10^5 calls per window) that is a few MB, and the percentiles are exact.
 */
final class ClosedLoop {
    /** One call of the measured operation; each thread gets its own. */
    @FunctionalInterface
    interface Action {
        void run() throws Exception;
    }

    private ClosedLoop() {
    }

    /**
     * Runs the load and returns what the window measured.
     *
     * @param threads     client threads
     * @param warmupNanos time before the window, not measured
     * @param windowNanos the measured window
     * @param actions     makes thread i's action (called on the launching thread, before the load starts)
     */
    static Measurement run(int threads, long warmupNanos, long windowNanos, IntFunction<Action> actions)
            throws InterruptedException {
        Action[] perThread = new Action[threads];
        for (int i = 0; i < threads; i++) {
            perThread[i] = actions.apply(i);
        }
        long windowStart = System.nanoTime() + warmupNanos;
        long windowEnd = windowStart + windowNanos;
        Recorder[] recorders = new Recorder[threads];
        List<Thread> workers = new ArrayList<>(threads);
        AtomicReference<String> firstError = new AtomicReference<>();
        for (int i = 0; i < threads; i++) {
            Recorder r = new Recorder();
            recorders[i] = r;
            Action action = perThread[i];
            Thread t = new Thread(() -> r.loop(action, windowStart, windowEnd, firstError), "bench-load-" + i);
            t.setDaemon(true);
            workers.add(t);
        }
        workers.forEach(Thread::start);
        long joinDeadline = windowEnd + TimeUnit.SECONDS.toNanos(30);
        for (Thread t : workers) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(joinDeadline - System.nanoTime())));
        }
        int total = 0;
        long errors = 0;
        for (Recorder r : recorders) {
            synchronized (r) {
                total += r.count;
                errors += r.errors;
            }
        }
        long[] all = new long[total];
        int at = 0;
        for (Recorder r : recorders) {
            synchronized (r) {
                int n = Math.min(r.count, total - at);
                System.arraycopy(r.latencies, 0, all, at, n);
                at += n;
            }
        }
        return Measurement.of(all, at, windowNanos, errors, firstError.get());
    }

    /**
     * Runs {@code calls} calls on {@code threads} threads as fast as they complete, all measured (no warm-up), and
     * returns what they gave, the window being the whole run. A call that throws counts as an error and is not
     * repeated.
     *
     * @param threads   client threads
     * @param calls     calls in all
     * @param completed counts the calls done so far (successful or not), for progress reports
     * @param actions   makes thread i's action (called on the launching thread, before the load starts)
     */
    static Measurement runCount(int threads, long calls, AtomicLong completed, IntFunction<Action> actions)
            throws InterruptedException {
        Recorder[] recorders = new Recorder[threads];
        List<Thread> workers = new ArrayList<>(threads);
        AtomicReference<String> firstError = new AtomicReference<>();
        AtomicLong next = new AtomicLong();
        for (int i = 0; i < threads; i++) {
            Recorder r = new Recorder();
            recorders[i] = r;
            Action action = actions.apply(i);
            Thread t = new Thread(() -> r.loopCount(action, next, calls, completed, firstError), "bench-count-" + i);
            t.setDaemon(true);
            workers.add(t);
        }
        long started = System.nanoTime();
        workers.forEach(Thread::start);
        for (Thread t : workers) {
            t.join();
        }
        long elapsed = System.nanoTime() - started;
        int total = 0;
        long errors = 0;
        for (Recorder r : recorders) {
            total += r.count;
            errors += r.errors;
        }
        long[] all = new long[total];
        int at = 0;
        for (Recorder r : recorders) {
            System.arraycopy(r.latencies, 0, all, at, r.count);
            at += r.count;
        }
        return Measurement.of(all, at, elapsed, errors, firstError.get());
    }

    /** One thread's latencies; guarded by itself only for the final read (a stuck thread may still be running). */
    private static final class Recorder {
        private long[] latencies = new long[4096];
        private int count;
        private long errors;

        void loop(Action action, long windowStart, long windowEnd, AtomicReference<String> firstError) {
            while (true) {
                long start = System.nanoTime();
                if (start >= windowEnd) {
                    return;
                }
                try {
                    action.run();
                    long end = System.nanoTime();
                    if (end >= windowStart && end < windowEnd) {
                        record(end - start);
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (Exception | AssertionError e) {
                    long end = System.nanoTime();
                    if (end >= windowStart && end < windowEnd) {
                        synchronized (this) {
                            errors++;
                        }
                        firstError.compareAndSet(null, e.toString());
                    }
                    try {
                        TimeUnit.MILLISECONDS.sleep(10); // back off: a failing call may return at once
                    } catch (InterruptedException stop) {
                        return;
                    }
                }
            }
        }

        void loopCount(Action action, AtomicLong next, long calls, AtomicLong completed,
                AtomicReference<String> firstError) {
            while (next.getAndIncrement() < calls) {
                long start = System.nanoTime();
                try {
                    action.run();
                    record(System.nanoTime() - start);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception | AssertionError e) {
                    synchronized (this) {
                        errors++;
                    }
                    firstError.compareAndSet(null, e.toString());
                } finally {
                    completed.incrementAndGet();
                }
            }
        }

        private synchronized void record(long nanos) {
            if (count == latencies.length) {
                latencies = Arrays.copyOf(latencies, count * 2);
            }
            latencies[count++] = nanos;
        }
    }
}
