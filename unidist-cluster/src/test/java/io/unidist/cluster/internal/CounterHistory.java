package io.unidist.cluster.internal;

import io.unidist.ClusterUnavailableException;
import io.unidist.SharedCounter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * A recorded history of counter increments and reads, and a check of the conditions that any
 * linearizable history of a counter that only grows by one must meet.
 *
 * <p><b>What it proves.</b> Each anomaly is a pair of operations that no linearization can
 * order: two increments that returned the same value; an increment that returned no more
 * than an operation that had returned before it began; a read that saw less than an increment
 * or a read that had returned before it began (a stale read, or reads going backwards). These
 * need only real time (System.nanoTime of one host) and the values returned.
 *
 * <p><b>What it cannot see.</b> Calls that failed (timeouts, no quorum) are not recorded: they
 * may or may not have taken effect, so they bound nothing, and an increment whose answer was
 * lost may leave a gap. So a read of a value that no increment explains (more than were ever
 * made) passes, as does a gap in the values: it judges pairs of operations, not whole orders.
 *
 * <p><b>Thread safety.</b> Recording is a synchronized append, cheap enough for every worker;
 * the checks run in O(n log n) over the whole history.
 */
final class CounterHistory implements Anomaly.Checker {
    /** One operation: when it was invoked and answered (nanoTime), what it returned, and on which node. */
    record Op(boolean increment, long start, long end, long value, String node) implements Anomaly.Timed {
        @Override
        public String describe(long origin) {
            return (increment ? "increment -> " : "read -> ") + value + (node.isEmpty() ? "" : " on " + node) + " "
                    + Anomaly.interval(start, end, origin);
        }
    }

    private final String name;
    private final List<Op> ops = new ArrayList<>();

    CounterHistory() {
        this("counter");
    }

    /** @param name the counter's name, as anomalies show it */
    CounterHistory(String name) {
        this.name = "counter '" + name + "'";
    }

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

    /** The anomalies found, at most {@code limit}: duplicate values first, then real-time order violations. */
    @Override
    public synchronized List<Anomaly> anomalies(int limit) {
        Anomaly.Sink sink = new Anomaly.Sink(limit);
        findDuplicates(sink);
        findOrderViolations(sink);
        return sink.list();
    }

    /** Each value two increments returned, shown by those two increments (neighbours once sorted by value). */
    private void findDuplicates(Anomaly.Sink sink) {
        List<Op> increments = new ArrayList<>(ops.size());
        for (Op op : ops) {
            if (op.increment) {
                increments.add(op);
            }
        }
        increments.sort(Comparator.comparingLong(Op::value)); // stable: the one recorded first comes first
        for (int i = 1; i < increments.size() && !sink.full(); i++) {
            Op first = increments.get(i - 1);
            Op second = increments.get(i);
            if (first.value == second.value) {
                sink.add(Anomaly.of(name, "value " + second.value + " returned twice", List.of(first, second)));
            }
        }
    }

    /**
     * Sweeps the operations by start time, keeping the largest value returned by any operation
     * that ended before each start: an increment must return more, a read at least as much.
     * Each violation is shown by two operations: the one that ended first and the one it bounds.
     */
    private void findOrderViolations(Anomaly.Sink sink) {
        List<Op> byEnd = new ArrayList<>(ops);
        byEnd.sort(Comparator.comparingLong(Op::end));
        List<Op> byStart = new ArrayList<>(ops);
        byStart.sort(Comparator.comparingLong(Op::start));
        int i = 0;
        Op largestEnded = null;
        for (Op op : byStart) {
            if (sink.full()) {
                return;
            }
            while (i < byEnd.size() && byEnd.get(i).end < op.start) {
                Op ended = byEnd.get(i++);
                // on a tie keep the increment: it bounds a later read and a later increment the same way
                if (largestEnded == null || ended.value > largestEnded.value
                        || ended.value == largestEnded.value && ended.increment) {
                    largestEnded = ended;
                }
            }
            String problem = largestEnded == null ? null : orderProblem(largestEnded, op);
            if (problem != null) {
                sink.add(Anomaly.of(name, problem, List.of(largestEnded, op)));
            }
        }
    }

    /** What is wrong with {@code op}, which began after {@code ended} had returned; null if nothing. */
    private static String orderProblem(Op ended, Op op) {
        if (op.increment && op.value <= ended.value) {
            return "an increment began after " + (ended.increment ? "an increment" : "a read") + " had returned "
                    + ended.value + ", but returned " + op.value + ", not larger";
        }
        if (!op.increment && op.value < ended.value) {
            return ended.increment
                    ? "a read began after an increment had returned " + ended.value + ", but saw " + op.value
                            + " (a stale read)"
                    : "a read began after a read of " + ended.value + " had returned, but saw " + op.value
                            + ": reads went backwards";
        }
        return null;
    }
}
