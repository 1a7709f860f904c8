package io.unidist.cluster.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One violation a history checker found: which checker, what is wrong, the fewest recorded
 * operations that together prove it, and the real-time window [{@code fromNanos},
 * {@code toNanos}] (System.nanoTime values) that spans exactly them, so that a failed run can
 * print the faults that were in force around it.
 *
 * <p>Each operation is written with its times in milliseconds relative to {@code fromNanos}, so
 * the lines of one anomaly read as a small timeline.
 *
 * @param checker     which checker and which object it checked (say {@code "lock 'm'"})
 * @param description what is wrong, naming the values involved
 * @param operations  the operations that prove it, each as one line
 * @param fromNanos   the earliest start among them
 * @param toNanos     the latest answer among them (its start, for one that never answered)
 */
record Anomaly(String checker, String description, List<String> operations, long fromNanos, long toNanos) {
    /** How many anomalies {@code anomalies()} returns at most: enough to see a pattern, few enough to print. */
    static final int REPORT_LIMIT = 50;

    /** A recorded history that can be checked: every checker answers in the same three forms. */
    interface Checker {
        /** The anomalies found, at most {@code limit}, in the checker's order. */
        List<Anomaly> anomalies(int limit);

        /** The anomalies found, up to {@link #REPORT_LIMIT}. */
        default List<Anomaly> anomalies() {
            return anomalies(REPORT_LIMIT);
        }

        /** Null when every check passed, else the first anomaly found. */
        default Anomaly anomaly() {
            return anomalies(1).stream().findFirst().orElse(null);
        }

        /** Null when every check passed, else the first anomaly with the operations that show it. */
        default String check() {
            Anomaly a = anomaly();
            return a == null ? null : a.toString();
        }
    }

    /** An operation of a recorded history, placed in real time. */
    interface Timed {
        /** When the call was made (System.nanoTime). */
        long start();

        /** When the call returned (System.nanoTime); Long.MAX_VALUE when it never did. */
        long end();

        /** The operation in words, its times relative to {@code origin} (see {@link Anomaly#interval}). */
        String describe(long origin);
    }

    Anomaly {
        operations = List.copyOf(operations);
    }

    /** The anomaly shown by {@code ops}, its window spanning exactly them. */
    static Anomaly of(String checker, String description, List<? extends Timed> ops) {
        long from = Long.MAX_VALUE;
        long to = Long.MIN_VALUE;
        for (Timed op : ops) {
            from = Math.min(from, op.start());
            to = Math.max(to, op.end() == Long.MAX_VALUE ? op.start() : op.end());
        }
        return of(checker, description, ops, from, to);
    }

    /** The anomaly shown by {@code ops}, with a window the checker chose (one that proves it sooner). */
    static Anomaly of(String checker, String description, List<? extends Timed> ops, long from, long to) {
        List<String> lines = new ArrayList<>(ops.size());
        for (Timed op : ops) {
            lines.add(op.describe(from));
        }
        return new Anomaly(checker, description, lines, from, to);
    }

    /** {@code [+a .. +b ms]} relative to {@code origin}; an unanswered call shows as {@code [+a ms .. no answer]}. */
    static String interval(long start, long end, long origin) {
        String from = millis(start - origin);
        return end == Long.MAX_VALUE ? "[" + from + " ms .. no answer]" : "[" + from + " .. " + millis(end - origin) + " ms]";
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%+.3f", nanos / 1e6);
    }

    /** The checker, the description, one operation per line, and the window. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(checker).append(": ").append(description);
        for (String op : operations) {
            b.append("\n  ").append(op);
        }
        b.append("\n  window ").append(fromNanos).append(" .. ").append(toNanos).append(" ns (")
                .append(String.format(Locale.ROOT, "%.3f", (toNanos - fromNanos) / 1e6)).append(" ms)");
        return b.toString();
    }

    /** Collects anomalies up to a limit; checks stop looking once it is full, so asking for one is cheap. */
    static final class Sink {
        private final int limit;
        private final List<Anomaly> found = new ArrayList<>();

        Sink(int limit) {
            if (limit < 1) {
                throw new IllegalArgumentException("limit must be at least 1, was " + limit);
            }
            this.limit = limit;
        }

        boolean full() {
            return found.size() >= limit;
        }

        void add(Anomaly anomaly) {
            if (!full()) {
                found.add(anomaly);
            }
        }

        List<Anomaly> list() {
            return List.copyOf(found);
        }

        /** The first anomaly found, or null. */
        Anomaly first() {
            return found.isEmpty() ? null : found.get(0);
        }
    }
}
