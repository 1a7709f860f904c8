package io.unidist.cluster.internal;

import io.unidist.cluster.internal.RegisterHistory.Kind;
import io.unidist.cluster.internal.RegisterHistory.Op;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Whether one key's register operations are linearizable: Wing and Gong's depth-first search
 * over the operations that may take effect next, memoised on (operations done, register value)
 * so that no state is explored twice.
 *
 * <p>An operation may take effect next when it began before every operation not yet done
 * returned (otherwise one that returned first would have to come first). An operation with an
 * unknown outcome may take effect at any point after it began, or never: once only those are
 * left, the history is linearizable.
 *
 * <p>These keep the search small without changing its answer:
 * <ul>
 *   <li>values that no get reads and no compare-and-set expects behave alike (every operation
 *       that looks at the register finds none of them), so they share one id; so does, as the
 *       search goes on, a value whose last reader is done (see {@link #canonical});
 *   <li>unknown operations with the same effect are interchangeable once both began, so they
 *       are tried in start order only: the second after the first, never instead of it;
 *   <li>an unknown operation that would change nothing now (a compare-and-set that does not
 *       match) is not applied: leaving it undone is the same, and keeps it for later;
 *   <li>a get or failed compare-and-set that may come next and fits the register is taken at
 *       once, without branching (see {@link #validLookNow});
 *   <li>known operations are tried before unknown ones: a correct history usually orders
 *       without the unknown writes, and then the search never branches on them.
 * </ul>
 *
 * <p>{@code anyInitial} starts from a register that may hold any value, fixed by the first
 * operation that looks at it; a window cut out of a longer history starts that way.
 */
final class RegisterSearch {
    private static final int INVALID = -2;
    private static final int ANY = -1;
    private static final int ABSENT = 0;
    private static final int UNREAD = 1;

    private record State(long done, int value) { }

    private final int n;
    private final Kind[] kind;
    private final long[] start;
    private final long[] end;
    private final boolean[] ok;
    private final boolean[] unknown;
    private final int[] value;
    private final int[] expected;
    /** The previous unknown operation with the same effect, or -1: it must be done before this one. */
    private final int[] twin;
    /** By value id: the operations that look at that value (gets that returned it, compare-and-sets expecting it). */
    private final long[] lookers;
    /** The known operations, as a set and by answer time. */
    private final long known;
    private final int[] knownByEnd;
    private final Set<State> explored = new HashSet<>();

    private RegisterSearch(List<Op> history) {
        List<Op> ops = new ArrayList<>(history);
        ops.sort(Comparator.comparingLong(Op::start));
        n = ops.size();
        kind = new Kind[n];
        start = new long[n];
        end = new long[n];
        ok = new boolean[n];
        unknown = new boolean[n];
        value = new int[n];
        expected = new int[n];
        twin = new int[n];
        Map<String, Integer> ids = readValueIds(ops);
        lookers = new long[UNREAD + 1 + ids.size()];
        Map<String, Integer> lastWithEffect = new HashMap<>();
        long knownOps = 0;
        for (int i = 0; i < n; i++) {
            Op op = ops.get(i);
            kind[i] = op.kind();
            start[i] = op.start();
            end[i] = op.end();
            ok[i] = op.ok();
            unknown[i] = op.unknown();
            value[i] = id(ids, op.value());
            expected[i] = id(ids, op.expected());
            String effect = kind[i] + ":" + expected[i] + ":" + value[i];
            Integer previous = unknown[i] ? lastWithEffect.put(effect, i) : null;
            twin[i] = previous == null ? -1 : previous;
            if (kind[i] != Kind.PUT) {
                lookers[kind[i] == Kind.GET ? value[i] : expected[i]] |= 1L << i;
            }
            knownOps |= unknown[i] ? 0 : 1L << i;
        }
        known = knownOps;
        knownByEnd = IntStream.range(0, n).filter(i -> !unknown[i]).boxed()
                .sorted(Comparator.comparingLong(i -> end[i])).mapToInt(Integer::intValue).toArray();
    }

    /** Whether {@code history} (at most 63 operations of one key) is linearizable. */
    static boolean linearizable(List<Op> history, boolean anyInitial) {
        if (history.size() > RegisterHistory.MAX_OPS_PER_KEY) {
            throw new IllegalArgumentException(history.size() + " operations; at most " + RegisterHistory.MAX_OPS_PER_KEY);
        }
        return new RegisterSearch(history).from(0L, anyInitial ? ANY : ABSENT);
    }

    /** Ids for the values some operation looks at (reads or expects); every other value is UNREAD. */
    private static Map<String, Integer> readValueIds(List<Op> ops) {
        Map<String, Integer> ids = new HashMap<>();
        for (Op op : ops) {
            String looked = op.kind() == Kind.GET ? op.value() : op.expected();
            if (looked != null) {
                ids.putIfAbsent(looked, UNREAD + 1 + ids.size());
            }
        }
        return ids;
    }

    private static int id(Map<String, Integer> ids, String v) {
        return v == null ? ABSENT : ids.getOrDefault(v, UNREAD);
    }

    /**
     * {@code register} as the rest of the search sees it: a value that no operation left looks
     * at is as good as any other such value, so all of them are one (UNREAD), and states that
     * differ only in which of them the register holds are explored once.
     */
    private int canonical(int register, long done) {
        return register >= 0 && (lookers[register] & ~done) == 0 ? UNREAD : register;
    }

    private boolean from(long done, int value) {
        if (done == (n == 64 ? -1L : (1L << n) - 1)) {
            return true;
        }
        int register = canonical(value, done);
        if (!explored.add(new State(done, register))) {
            return false; // explored before, and it led nowhere (a success would have ended the search)
        }
        if ((known & ~done) == 0) {
            return true; // only unknown operations are left: they may never have taken effect
        }
        long firstEnd = firstEnd(done);
        int look = validLookNow(done, register, firstEnd);
        if (look >= 0) {
            return from(done | 1L << look, register);
        }
        return tryNext(done, register, firstEnd, false) || tryNext(done, register, firstEnd, true);
    }

    /** The earliest answer among the operations not done (unknown ones never answered). */
    private long firstEnd(long done) {
        for (int i : knownByEnd) {
            if (!isDone(done, i)) {
                return end[i];
            }
        }
        return Long.MAX_VALUE;
    }

    /**
     * A known operation that only looks (a get, a failed compare-and-set), may come next and
     * returned what the register holds, or -1. Taking it now is never worse than later: it
     * changes nothing, and no operation left had returned before it began (it may come next),
     * so any order that takes it later still works with it moved here. So the search takes it
     * without branching, and concurrent reads cost nothing.
     */
    private int validLookNow(long done, int register, long firstEnd) {
        for (int i = 0; i < n && start[i] <= firstEnd; i++) {
            boolean looks = kind[i] == Kind.GET || kind[i] == Kind.REPLACE && !ok[i];
            if (looks && !unknown[i] && !isDone(done, i) && apply(i, register) == register) {
                return i;
            }
        }
        return -1;
    }

    /** Tries each operation that may come next, known ones or unknown ones. */
    private boolean tryNext(long done, int register, long firstEnd, boolean unknownOnes) {
        for (int i = 0; i < n && start[i] <= firstEnd; i++) { // by start: the rest began too late
            if (isDone(done, i) || unknown[i] != unknownOnes || unknownOnes && twin[i] >= 0 && !isDone(done, twin[i])) {
                continue;
            }
            int next = apply(i, register);
            if (unknownOnes && canonical(next, done | 1L << i) == register) {
                continue; // no effect now: the same as leaving it undone, which keeps it for later
            }
            if (next != INVALID && from(done | 1L << i, next)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isDone(long done, int i) {
        return (done & 1L << i) != 0;
    }

    /** The register after operation {@code i}, or INVALID when it could not have returned what it did. */
    private int apply(int i, int register) {
        switch (kind[i]) {
            case PUT:
                return value[i];
            case GET:
                return register == ANY || register == value[i] ? value[i] : INVALID;
            default:
                if (register == ANY) {
                    // it matched if it succeeded; otherwise the register still holds some other value
                    return !unknown[i] && ok[i] ? value[i] : ANY;
                }
                boolean matches = register == expected[i];
                if (unknown[i]) {
                    return matches ? value[i] : register;
                }
                if (ok[i] != matches) {
                    return INVALID;
                }
                return ok[i] ? value[i] : register;
        }
    }
}
