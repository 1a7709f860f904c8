package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The register checker accepts what is linearizable and catches what is not. */
class RegisterHistoryTest {
    @Test
    void acceptsConcurrentWritesSeenInEitherOrder() {
        RegisterHistory h = new RegisterHistory();
        h.put("k", 0, 10, "a");
        h.put("k", 1, 9, "b");
        h.get("k", 11, 12, "a");       // a was linearized after b
        h.replace("k", 13, 14, "a", "c", true);
        h.get("k", 15, 16, "c");
        h.putUnknown("k", 17, "z");    // failed, outcome unknown
        h.get("k", 18, 19, "c");       // it had not taken effect (yet)
        h.get("k", 20, 21, "z");       // now it has
        assertNull(h.check());
    }

    @Test
    void catchesAStaleRead() {
        RegisterHistory h = new RegisterHistory();
        h.put("k", 0, 1, "a");
        h.put("k", 2, 3, "b");
        h.get("k", 4, 5, "a");
        assertNotNull(h.check());
    }

    @Test
    void catchesAReadOfAValueNeverWritten() {
        RegisterHistory h = new RegisterHistory();
        h.put("k", 0, 1, "a");
        h.get("k", 2, 3, "ghost");
        assertNotNull(h.check());
    }

    @Test
    void catchesACompareAndSetThatSucceededAgainstTheWrongValue() {
        RegisterHistory h = new RegisterHistory();
        h.put("k", 0, 1, "a");
        h.replace("k", 2, 3, "x", "y", true);
        assertNotNull(h.check());
    }

    @Test
    void catchesAReadThatFlipsBack() {
        RegisterHistory h = new RegisterHistory();
        h.put("k", 0, 10, "a");
        h.put("k", 0, 10, "b");
        h.get("k", 11, 12, "a");
        h.get("k", 13, 14, "b");
        h.get("k", 15, 16, "a");   // once b followed a, a cannot come back without a write
        assertNotNull(h.check());
    }
}
