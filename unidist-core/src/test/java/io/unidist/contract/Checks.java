package io.unidist.contract;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import java.util.HashSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/** Small assertions JUnit lacks. */
public final class Checks {
    private Checks() {
    }

    /** Asserts that {@code message} contains every one of {@code parts}. */
    public static void assertMentions(Throwable error, String... parts) {
        String message = String.valueOf(error.getMessage());
        for (String part : parts) {
            assertTrue(message.contains(part), () -> "message '" + message + "' should mention '" + part + "'");
        }
    }

    /**
     * Enters a critical section counted by {@code inside}, stays a moment (a few short parks,
     * well under a millisecond in all) and leaves; returns the most holders seen inside
     * meanwhile. Staying is what makes an over-granting lock visible: with nothing between the
     * increment and the decrement, two holders admitted together almost never overlap, so the
     * test would pass anyway. The pause is not a wait for anything, only a window for overlaps.
     */
    public static int holdAMoment(AtomicInteger inside) {
        int most = inside.incrementAndGet();
        for (int i = 0; i < 4; i++) {
            LockSupport.parkNanos(20_000);
            most = Math.max(most, inside.get());
        }
        inside.decrementAndGet();
        return most;
    }

    /** Asserts that no element occurs twice. */
    public static void assertNoDuplicates(Collection<?> items) {
        HashSet<Object> seen = new HashSet<>();
        for (Object item : items) {
            assertTrue(seen.add(item), () -> "duplicate: " + item);
        }
    }
}
