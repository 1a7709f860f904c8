package io.unidist.cluster.internal;

import io.unidist.ClusterUnavailableException;
import io.unidist.SharedCounter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * A recorded history of counter increments and reads, and the check that it is linearizable
 * for a counter that only grows by one: every returned value is unique, an increment that
 * ended before another began returned the smaller value, a read returns at least every
 * value returned by an increment that ended before the read began, reads never go backwards
 * (a read returns at least what any read that ended before it began returned), and an
 * increment returns more than any read that ended before it began. Operations that failed
 * (timeouts, no quorum) may or may not have taken effect and only bound nothing.
 */
final class CounterHistory {
    /** One operation: when it was invoked and answered (nanoTime), what it returned, and on which node. */
    record Op(boolean increment, long start, long end, long value, String node) { }

    private final List<Op> ops = new ArrayList<>();

    void increment(long start, long end, long value) {
        increment(start, end, value, "");
    }

    void read(long start, long end, long value) {
        read(start, end, value, "");
    }

    synchronized void increment(long start, long end, long value, String node) {
        ops.add(new Op(true, start, end, value, node));
    }

    synchronized void read(long start, long end, long value, String node) {
        ops.add(new Op(false, start, end, value, node));
    }

    synchronized int size() {
        return ops.size();
    }

    /**
     * Starts a worker on {@code pool} that increments the counter {@code counter} gives it, and
     * reads it every {@code readEvery}-th operation, recording each operation that returned,
     * until {@code stop}, each labelled {@code node}. A call that fails (no quorum in time, a closed node) records nothing:
     * its outcome is unknown. {@code counter} may return null while the node is down.
     *
     * @param acked counts the increments that returned
     * @param failed counts the calls that failed
     */
    Future<?> drive(ExecutorService pool, String node, Supplier<SharedCounter> counter, int readEvery,
            AtomicBoolean stop, AtomicInteger acked, AtomicInteger failed) {
        return pool.submit(() -> {
            for (long n = 1; !stop.get(); n++) {
                SharedCounter c = counter.get();
                if (c == null) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // pacing while the node is down
                    continue;
                }
                boolean read = n % readEvery == 0;
                long start = System.nanoTime();
                try {
                    long v = read ? c.get() : c.incrementAndGet();
                    long end = System.nanoTime();
                    if (read) {
                        read(start, end, v, node);
                    } else {
                        increment(start, end, v, node);
                        acked.incrementAndGet();
                    }
                } catch (ClusterUnavailableException | IllegalStateException e) {
                    failed.incrementAndGet(); // no quorum, or the node was closed under the call
                }
            }
            return null;
        });
    }

    /** Returns null when the history is linearizable, else a description of the first anomaly. */
    synchronized String check() {
        Map<Long, Op> byValue = new HashMap<>();
        for (Op op : ops) {
            if (op.increment) {
                Op other = byValue.put(op.value, op);
                if (other != null) {
                    return "value " + op.value + " returned twice: " + other + " and " + op;
                }
            }
        }
        // sweep operations by start time; keep the largest value returned by any operation that ended before each start
        List<Op> byEnd = new ArrayList<>(ops);
        byEnd.sort(Comparator.comparingLong(Op::end));
        List<Op> byStart = new ArrayList<>(ops);
        byStart.sort(Comparator.comparingLong(Op::start));
        int i = 0;
        Op largestEnded = null;
        for (Op op : byStart) {
            while (i < byEnd.size() && byEnd.get(i).end < op.start) {
                Op ended = byEnd.get(i++);
                // on a tie keep the increment: it bounds a later read and a later increment the same way
                if (largestEnded == null || ended.value > largestEnded.value
                        || ended.value == largestEnded.value && ended.increment) {
                    largestEnded = ended;
                }
            }
            if (largestEnded == null) {
                continue;
            }
            if (op.increment && op.value <= largestEnded.value) {
                return "increment " + op + " began after " + largestEnded + " ended, but returned a value not larger";
            }
            if (!op.increment && op.value < largestEnded.value) {
                return largestEnded.increment
                        ? "read " + op + " began after " + largestEnded + " ended, but saw less (a stale read)"
                        : "read " + op + " began after " + largestEnded + " ended, but saw less: reads went backwards";
            }
        }
        return null;
    }
}
