package io.unidist;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A time source that moves only when told to: for tests of delays, visibility timeouts and lock
 * timeouts without sleeping. Thread-safe.
 *
 * <p>Waiting calls still wait in real time for a signal; {@link #advance(Duration)} wakes them
 * so that they re-check their deadlines against this source.
 */
public final class ManualTimeSource implements TimeSource {
    private final AtomicLong nanos = new AtomicLong();
    private final long startMillis;
    private final CopyOnWriteArrayList<Runnable> listeners = new CopyOnWriteArrayList<>();

    /** A source whose wall clock starts at {@code start}. */
    public ManualTimeSource(Instant start) {
        this.startMillis = Objects.requireNonNull(start, "start").toEpochMilli();
    }

    /** A source whose wall clock starts at the current system time. */
    public ManualTimeSource() {
        this(Instant.now());
    }

    /**
     * Moves time forward by {@code amount} and wakes every waiter.
     *
     * @throws IllegalArgumentException when {@code amount} is negative: time never goes back
     */
    public void advance(Duration amount) {
        Objects.requireNonNull(amount, "amount");
        if (amount.isNegative()) {
            throw new IllegalArgumentException("time only moves forward, got " + amount);
        }
        nanos.addAndGet(amount.toNanos());
        listeners.forEach(Runnable::run);
    }

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    @Override
    public long currentTimeMillis() {
        return startMillis + nanos.get() / 1_000_000L;
    }

    @Override
    public Subscription onAdvance(Runnable action) {
        Objects.requireNonNull(action, "action");
        listeners.add(action);
        return () -> listeners.remove(action);
    }
}
