package io.unidist;

import static io.unidist.contract.Checks.assertMentions;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Proves that option values that make no sense are refused with a message naming the option and the value. */
class OptionsValidationTest {

    @Test
    void queueOptionsRefuseValuesBelowTheirMinimum() {
        QueueOptions defaults = QueueOptions.defaults();
        assertMentions(assertThrows(IllegalArgumentException.class, () -> defaults.withCapacity(0)), "capacity", "0");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> defaults.withCapacity(-3)), "capacity", "-3");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> defaults.withMaxAttempts(0)), "maxAttempts", "0");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> defaults.withMaxAttempts(-1)), "maxAttempts", "-1");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> defaults.withVisibilityTimeout(Duration.ZERO)),
                "visibility timeout", "PT0S");
        assertMentions(assertThrows(IllegalArgumentException.class,
                () -> defaults.withVisibilityTimeout(Duration.ofSeconds(-2))), "visibility timeout", "PT-2S");
        assertMentions(assertThrows(NullPointerException.class, () -> defaults.withVisibilityTimeout(null)), "visibility timeout");
        assertMentions(assertThrows(NullPointerException.class, () -> defaults.withPersistence(null)), "persistence");
        assertEquals(QueueOptions.defaults(), defaults, "a refused change leaves the options as they were");
    }

    @Test
    void persistenceRefusesASnapshotIntervalBelowOne() {
        for (Persistence p : new Persistence[] {Persistence.snapshot(), Persistence.archive(), Persistence.none()}) {
            assertMentions(assertThrows(IllegalArgumentException.class, () -> p.withSnapshotEvery(0)), "snapshotEvery", "0");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> p.withSnapshotEvery(-5)), "snapshotEvery", "-5");
        }
        assertMentions(assertThrows(NullPointerException.class, () -> Persistence.snapshot().withFsync(null)), "fsync");
        assertEquals(1, Persistence.snapshot().snapshotEvery());
    }

    @Test
    void aPeriodicFsyncNeedsAPositiveInterval() {
        assertMentions(assertThrows(IllegalArgumentException.class, () -> FsyncPolicy.every(Duration.ZERO)), "fsync interval", "PT0S");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> FsyncPolicy.every(Duration.ofMillis(-1))),
                "fsync interval", "PT-0.001S");
        assertMentions(assertThrows(NullPointerException.class, () -> FsyncPolicy.every(null)), "interval");
    }
}
