package io.unidist.internal;

import io.unidist.SharedLock;
import java.util.Map;
import java.util.function.Function;

/**
 * The rules for opening a primitive by name that every kind of node shares, so that the local
 * and the clustered node refuse the same things with the same messages.
 */
public final class Opening {
    /** The suffix that names a queue's dead-letter queue. */
    public static final String DEAD_SUFFIX = ".dead";

    private Opening() {
    }

    /**
     * Returns the open semaphore {@code name}, creating it with {@code create}.
     *
     * @throws IllegalArgumentException when {@code permits} is below 1, or the semaphore is open
     *     with other permits
     */
    public static <L extends SharedLock> L semaphore(Map<String, L> open, String name, int permits,
            Function<String, L> create) {
        Names.check(name, "lock");
        if (permits < 1) {
            throw new IllegalArgumentException("lock '" + name + "': permits must be at least 1, got " + permits);
        }
        L lock = open.computeIfAbsent(name, create);
        if (lock.permits() != permits) {
            throw new IllegalArgumentException("lock '" + name + "' has " + lock.permits()
                    + " permit(s), cannot open it with " + permits);
        }
        return lock;
    }

    /** A queue's name split into the queue it belongs to and whether it is that queue's dead-letter queue. */
    public record QueueName(String base, boolean dead) {
        /**
         * Parses a queue name.
         *
         * @throws IllegalArgumentException for a dead-letter queue of a dead-letter queue, or of
         *     a queue with an empty name
         */
        public static QueueName parse(String name) {
            Names.check(name, "queue");
            boolean dead = name.endsWith(DEAD_SUFFIX);
            String base = dead ? name.substring(0, name.length() - DEAD_SUFFIX.length()) : name;
            if (dead && base.isEmpty()) {
                throw new IllegalArgumentException("queue '" + name + "': names the dead-letter queue of a queue with an"
                        + " empty name, and a queue name must not be empty");
            }
            if (dead && base.endsWith(DEAD_SUFFIX)) {
                throw new IllegalArgumentException("queue '" + name
                        + "': a dead-letter queue has no dead-letter queue of its own");
            }
            return new QueueName(base, dead);
        }
    }

    /**
     * Checks that a primitive open with values of {@code existing} is asked for the same type.
     *
     * @throws IllegalArgumentException naming both types
     */
    public static void sameType(String what, Class<?> existing, Class<?> wanted, String noun) {
        if (existing != wanted) {
            throw new IllegalArgumentException(what + " holds " + existing.getName() + " " + noun
                    + ", cannot open it for " + wanted.getName());
        }
    }
}
