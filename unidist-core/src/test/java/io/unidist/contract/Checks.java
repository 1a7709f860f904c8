package io.unidist.contract;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import java.util.HashSet;

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

    /** Asserts that no element occurs twice. */
    public static void assertNoDuplicates(Collection<?> items) {
        HashSet<Object> seen = new HashSet<>();
        for (Object item : items) {
            assertTrue(seen.add(item), () -> "duplicate: " + item);
        }
    }
}
