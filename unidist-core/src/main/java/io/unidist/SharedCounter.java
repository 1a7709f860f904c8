package io.unidist;

/**
 * A named 64-bit counter, usable as a unique-id generator.
 *
 * <p><b>Consistency.</b> Every operation is linearizable: two calls of
 * {@link #incrementAndGet()} never return the same value, and a call that returned before
 * another started returns the smaller value.
 *
 * <p><b>Persistence.</b> By default the value survives a restart: each change is written (and
 * by default fsynced) before the call returns, so a crash never makes the counter hand out a
 * value twice. See {@link Persistence} for the other choices and what they lose.
 *
 * <p><b>Failure.</b> A change that would overflow throws {@link ArithmeticException} and
 * leaves the value as it was. A storage failure throws {@link UnidistException} and leaves the
 * value as it was.
 *
 * <p><b>Thread safety.</b> All methods may be called from any thread.
 */
public interface SharedCounter {
    /** The counter's name. */
    String name();

    /** The current value (0 for a counter never changed). */
    long get();

    /** Adds one and returns the new value. */
    long incrementAndGet();

    /** Adds {@code delta} (which may be negative) and returns the new value. */
    long addAndGet(long delta);

    /** Sets {@code newValue} if the value is {@code expected}; returns whether it did. */
    boolean compareAndSet(long expected, long newValue);
}
