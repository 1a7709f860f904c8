package io.unidist.cluster.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A recorded history of one state bucket's operations, and a check that each key's history is
 * linearizable as a register: put (a write), replace (a compare-and-set with its result) and
 * get (a read with the value seen, null for absent).
 *
 * <p><b>What it proves.</b> A key is reported only when no order of its operations respects
 * real time (an operation that returned before another began comes first) and gives every
 * operation the result it returned, starting from an absent key. An operation whose outcome
 * is unknown (it failed, say with no quorum) may take effect at any point after it began, or
 * never. The search is exhaustive (Wing and Gong's, memoised on operations done and register
 * value), so a passing key is linearizable, not merely unrefuted.
 *
 * <p><b>The window it prints.</b> A failing key is shrunk to a small sub-history that fails
 * on its own and whose failure implies the key's ({@link RegisterShrink}): first the shortest
 * prefix in time (an operation that had not answered by the prefix's end counts as unknown, a
 * read as not made), then the latest start from which it still fails (operations that ended
 * before it are dropped, the register may then hold any value, and those still running are
 * unknown), then without each operation it does not need among those whose removal cannot
 * invent a failure: reads, failed compare-and-sets, and writes of values nothing reads.
 *
 * <p><b>What it cannot see.</b> Only what was recorded: a get that failed is not recorded, and
 * values are compared as strings. A key may hold at most 63 operations that can matter
 * (compare-and-sets that can never match are dropped first), as the search keeps the set of
 * operations done in a long; a workload rotates keys to stay below that.
 *
 * <p><b>Cost.</b> Exponential in the worst case; {@link RegisterSearch} lists what keeps it
 * small. Measured in CPU time: keys of 60 operations, about seven running at once and one
 * write in five unknown, take about a third of a millisecond each; a failing key of 62
 * operations with forty running at once and a third unknown takes up to about half a second,
 * most of it spent shrinking (a few dozen searches).
 *
 * <p><b>Thread safety.</b> Recording is a synchronized append.
 */
final class RegisterHistory implements Anomaly.Checker {
    enum Kind { PUT, REPLACE, GET }

    /** One operation; {@code end} is Long.MAX_VALUE when its outcome is unknown. */
    record Op(String key, Kind kind, long start, long end, String expected, String value, boolean ok)
            implements Anomaly.Timed {
        boolean unknown() {
            return end == Long.MAX_VALUE;
        }

        /** This operation as a window sees it that misses its answer or its start: unknown. */
        Op unanswered() {
            return new Op(key, kind, start, Long.MAX_VALUE, expected, value, false);
        }

        @Override
        public String describe(long origin) {
            String what = switch (kind) {
                case PUT -> "put " + key + " = " + value;
                case GET -> "get " + key + " -> " + (value == null ? "absent" : value);
                case REPLACE -> "replace " + key + " " + expected + " -> " + value + ": "
                        + (unknown() ? "unknown" : ok ? "ok" : "failed");
            };
            return what + (kind != Kind.REPLACE && unknown() ? ": unknown " : " ") + Anomaly.interval(start, end, origin);
        }
    }

    /** The most operations a key may have: the search keeps the set of those done in a long. */
    static final int MAX_OPS_PER_KEY = 63;

    private final String name;
    private final List<Op> ops = new ArrayList<>();

    RegisterHistory() {
        this("state");
    }

    /** @param name the bucket's name, as anomalies show it */
    RegisterHistory(String name) {
        this.name = name;
    }

    synchronized void put(String key, long start, long end, String value) {
        ops.add(new Op(key, Kind.PUT, start, end, null, value, true));
    }

    synchronized void putUnknown(String key, long start, String value) {
        ops.add(new Op(key, Kind.PUT, start, Long.MAX_VALUE, null, value, true));
    }

    synchronized void replace(String key, long start, long end, String expected, String value, boolean ok) {
        ops.add(new Op(key, Kind.REPLACE, start, end, expected, value, ok));
    }

    synchronized void replaceUnknown(String key, long start, String expected, String value) {
        ops.add(new Op(key, Kind.REPLACE, start, Long.MAX_VALUE, expected, value, false));
    }

    synchronized void get(String key, long start, long end, String seen) {
        ops.add(new Op(key, Kind.GET, start, end, null, seen, true));
    }

    synchronized int size() {
        return ops.size();
    }

    /**
     * One anomaly per key that is not linearizable, in key order, at most {@code limit}.
     *
     * @throws IllegalStateException when a key has more than {@value #MAX_OPS_PER_KEY} operations that can matter
     */
    @Override
    public synchronized List<Anomaly> anomalies(int limit) {
        Anomaly.Sink sink = new Anomaly.Sink(limit);
        for (Map.Entry<String, List<Op>> e : byKey().entrySet()) {
            if (sink.full()) {
                break;
            }
            List<Op> history = withoutNoOps(e.getValue());
            if (history.size() > MAX_OPS_PER_KEY) {
                throw new IllegalStateException("key '" + e.getKey() + "' of " + name + " has " + history.size()
                        + " operations that can matter; at most " + MAX_OPS_PER_KEY);
            }
            if (!RegisterSearch.linearizable(history, false)) {
                sink.add(new RegisterShrink(history).anomaly(name, e.getKey()));
            }
        }
        return sink.list();
    }

    /** Each key's operations, by start time. */
    private Map<String, List<Op>> byKey() {
        Map<String, List<Op>> byKey = new TreeMap<>();
        for (Op op : ops) {
            byKey.computeIfAbsent(op.key, k -> new ArrayList<>()).add(op);
        }
        byKey.values().forEach(h -> h.sort(Comparator.comparingLong(Op::start)));
        return byKey;
    }

    /**
     * Drops the compare-and-sets that can neither have changed the key nor be wrong: those that
     * failed or whose outcome is unknown, expecting a value nothing ever wrote. A workload that
     * expects a value it never saw makes many of them, and each would otherwise cost the search.
     */
    private static List<Op> withoutNoOps(List<Op> history) {
        Set<String> written = new HashSet<>();
        for (Op op : history) {
            if (op.kind != Kind.GET) {
                written.add(op.value);
            }
        }
        List<Op> kept = new ArrayList<>(history.size());
        for (Op op : history) {
            boolean neverMatches = op.kind == Kind.REPLACE && op.expected != null && !written.contains(op.expected);
            if (!(neverMatches && (op.unknown() || !op.ok))) {
                kept.add(op);
            }
        }
        return kept;
    }
}
