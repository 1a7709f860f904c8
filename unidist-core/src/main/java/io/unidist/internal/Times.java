package io.unidist.internal;

/** Arithmetic on times and deadlines, shared by the local and the clustered primitives. */
public final class Times {
    private Times() {
    }

    /**
     * {@code a + b}, or {@link Long#MAX_VALUE} where it would overflow: a delay or time-to-live
     * far in the future means "never", not a deadline in the past.
     */
    public static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }
}
