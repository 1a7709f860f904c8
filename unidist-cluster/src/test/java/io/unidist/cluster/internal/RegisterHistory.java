package io.unidist.cluster.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * A recorded history of one state bucket's operations, and a check that each key's history is
 * linearizable as a register: put (a write), replace (a compare-and-set with its result) and
 * get (a read with the value seen, null for absent).
 *
 * <p>The check is the Wing-Gong search with memoisation of (operations done, register value):
 * it tries every order that respects real time. An operation whose outcome is unknown (it
 * failed with no quorum) may take effect at any point after it began, or never. Meant for
 * test histories of up to 63 operations per key.
 */
final class RegisterHistory {
    enum Kind { PUT, REPLACE, GET }

    /** One operation; {@code end} is Long.MAX_VALUE when its outcome is unknown. */
    record Op(String key, Kind kind, long start, long end, String expected, String value, boolean ok) {
        boolean unknown() {
            return end == Long.MAX_VALUE;
        }
    }

    private final List<Op> ops = new ArrayList<>();

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

    /** Null when every key's history is linearizable, else the first key that is not, with its history. */
    synchronized String check() {
        Map<String, List<Op>> byKey = new TreeMap<>();
        for (Op op : ops) {
            byKey.computeIfAbsent(op.key, k -> new ArrayList<>()).add(op);
        }
        for (Map.Entry<String, List<Op>> e : byKey.entrySet()) {
            List<Op> history = e.getValue();
            if (history.size() > 63) {
                throw new IllegalStateException("key " + e.getKey() + " has " + history.size() + " operations; at most 63");
            }
            if (!linearizable(history)) {
                return "key '" + e.getKey() + "' is not linearizable: " + history;
            }
        }
        return null;
    }

    private static boolean linearizable(List<Op> history) {
        return search(history, 0L, null, new HashSet<>());
    }

    private static boolean search(List<Op> h, long done, String value, Set<String> seen) {
        long all = h.size() == 64 ? -1L : (1L << h.size()) - 1;
        if (done == all) {
            return true;
        }
        if (!seen.add(done + ":" + value)) {
            return false;
        }
        long firstEnd = Long.MAX_VALUE;
        boolean onlyUnknownLeft = true;
        for (int i = 0; i < h.size(); i++) {
            if ((done & (1L << i)) == 0) {
                firstEnd = Math.min(firstEnd, h.get(i).end);
                onlyUnknownLeft &= h.get(i).unknown();
            }
        }
        if (onlyUnknownLeft) {
            return true; // the rest may never have taken effect
        }
        for (int i = 0; i < h.size(); i++) {
            Op op = h.get(i);
            if ((done & (1L << i)) != 0 || op.start > firstEnd) {
                continue;
            }
            String next = apply(op, value);
            if (next != INVALID && search(h, done | (1L << i), next, seen)) {
                return true;
            }
        }
        return false;
    }

    private static final String INVALID = new String("invalid");

    /** The register after {@code op}, or INVALID when {@code op} could not have returned what it did. */
    private static String apply(Op op, String value) {
        switch (op.kind) {
            case PUT:
                return op.value;
            case GET:
                return Objects.equals(op.value, value) ? value : INVALID;
            default:
                boolean matches = Objects.equals(op.expected, value);
                if (op.unknown()) {
                    return matches ? op.value : value;
                }
                if (op.ok != matches) {
                    return INVALID;
                }
                return op.ok ? op.value : value;
        }
    }
}
