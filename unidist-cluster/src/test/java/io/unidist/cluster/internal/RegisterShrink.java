package io.unidist.cluster.internal;

import io.unidist.cluster.internal.RegisterHistory.Kind;
import io.unidist.cluster.internal.RegisterHistory.Op;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Shrinks a key's history that is not linearizable to a short window that is not linearizable
 * either, and whose failure implies the whole history's.
 *
 * <p>A window [from, until] keeps the operations that began in it; one that had not answered by
 * {@code until} counts as unknown (it may take effect later, or never), one that began before
 * {@code from} and was still running then counts as unknown too, and one that returned before
 * {@code from} is dropped: in any linearization it precedes everything that began in the
 * window. Reads and failed compare-and-sets that are not wholly inside are dropped, as they
 * change nothing. When {@code from} cuts anything off, the register may hold any value at the
 * window's start. Each of these steps turns a linearizable history into a linearizable window,
 * so a window that fails proves that the history fails.
 *
 * <p>The window is found in three steps: the earliest {@code until} (a binary search over the
 * answer times: a history whose prefix fails fails at every later time too), the latest
 * {@code from} for it (a binary search over the start times), then dropping the operations
 * the failure does not need, where dropping them is sound (see {@link #withoutNeedlessOps}).
 * Each candidate is confirmed by a search before it is taken, so the result fails even where
 * the searches are not monotone.
 */
final class RegisterShrink {
    private final List<Op> history;
    private final long firstStart;

    /** @param history one key's operations, not linearizable, at most 63 */
    RegisterShrink(List<Op> history) {
        this.history = new ArrayList<>(history);
        this.history.sort(Comparator.comparingLong(Op::start));
        this.firstStart = this.history.get(0).start();
    }

    /** The shrunk window of key {@code key} as an anomaly of {@code checker}. */
    Anomaly anomaly(String checker, String key) {
        long until = earliestFailingEnd();
        long from = latestFailingStart(until);
        boolean anyInitial = from > firstStart;
        List<Op> window = withoutNeedlessOps(window(from, until), anyInitial);
        String description = "key '" + key + "' is not linearizable: no order of these " + window.size() + " of its "
                + history.size() + " operations respects real time and what each returned, "
                + (anyInitial ? "whatever the key held before them" : "starting from an absent key")
                + " (one still running at an edge of the window counts as unknown)";
        return Anomaly.of(checker, description, window);
    }

    private long earliestFailingEnd() {
        long[] ends = history.stream().filter(op -> !op.unknown()).mapToLong(Op::end).sorted().distinct().toArray();
        int lo = 0;
        int hi = ends.length; // ends.length stands for "no end": the whole history, which fails
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (fails(window(Long.MIN_VALUE, ends[mid]), false)) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return hi == ends.length ? Long.MAX_VALUE : ends[hi];
    }

    private long latestFailingStart(long until) {
        long[] starts = history.stream().mapToLong(Op::start).filter(start -> start <= until).distinct().sorted().toArray();
        int lo = 0; // the first start cuts nothing off: that window is the failing prefix
        int hi = starts.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (fails(window(starts[mid], until), starts[mid] > firstStart)) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return starts[lo];
    }

    /** The window [from, until] of the history, as the class comment describes. */
    private List<Op> window(long from, long until) {
        List<Op> window = new ArrayList<>();
        for (Op op : history) {
            if (op.start() > until) {
                break;
            }
            if (op.end() < from) {
                continue; // returned before the window: it precedes all of it
            }
            boolean inside = op.start() >= from && op.end() <= until;
            if (inside) {
                window.add(op);
            } else if (!readLike(op)) {
                window.add(op.unanswered());
            }
        }
        return window;
    }

    /**
     * Drops, while any can go, the operations whose removal leaves a window that still fails
     * and cannot have caused the failure: reads and failed compare-and-sets (they changed
     * nothing), and, while no failed compare-and-set is left, writes of values that nothing left
     * reads or expects (such a write can only make later reads and successful compare-and-sets
     * fail, so a window without it that fails proves the window with it fails). Removing several
     * at once is sound too (reads first, then writes, each step as above), so they are tried in
     * halves: one search when all can go, about two per needed one otherwise.
     */
    private static List<Op> withoutNeedlessOps(List<Op> window, boolean anyInitial) {
        List<Op> kept = new ArrayList<>(window);
        while (true) {
            List<Op> candidates = new ArrayList<>();
            for (Op op : kept) {
                if (mayDrop(op, kept)) {
                    candidates.add(op);
                }
            }
            int before = kept.size();
            kept = dropWhileFailing(kept, candidates, anyInitial);
            if (kept.size() == before) {
                return kept;
            }
        }
    }

    /** {@code kept} without as many of {@code candidates} as can go while it still fails (drops halves, then quarters...). */
    private static List<Op> dropWhileFailing(List<Op> kept, List<Op> candidates, boolean anyInitial) {
        if (candidates.isEmpty()) {
            return kept;
        }
        List<Op> without = new ArrayList<>(kept);
        without.removeAll(candidates);
        if (fails(without, anyInitial)) {
            return without;
        }
        if (candidates.size() == 1) {
            return kept;
        }
        int half = candidates.size() / 2;
        List<Op> afterFirst = dropWhileFailing(kept, candidates.subList(0, half), anyInitial);
        return dropWhileFailing(afterFirst, candidates.subList(half, candidates.size()), anyInitial);
    }

    private static boolean mayDrop(Op op, List<Op> window) {
        if (readLike(op)) {
            return true;
        }
        for (Op other : window) {
            boolean looksAtValue = other.kind() == Kind.GET ? Objects.equals(other.value(), op.value())
                    : other.kind() == Kind.REPLACE && Objects.equals(other.expected(), op.value());
            boolean failedReplace = other.kind() == Kind.REPLACE && !other.unknown() && !other.ok();
            if (looksAtValue || failedReplace) {
                return false;
            }
        }
        return true;
    }

    /** A get or a compare-and-set known to have failed: it changed nothing, only looked. */
    private static boolean readLike(Op op) {
        return op.kind() == Kind.GET || op.kind() == Kind.REPLACE && !op.unknown() && !op.ok();
    }

    private static boolean fails(List<Op> ops, boolean anyInitial) {
        return !RegisterSearch.linearizable(ops, anyInitial);
    }
}
