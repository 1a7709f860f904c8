package io.unidist.internal.store;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A tiny state machine to recover into: records are "add k", the state is the sum. It checks
 * the {@link Recovery} contract as it goes (one snapshot at most, and before any record) and
 * remembers what it saw.
 */
final class SumMachine implements Recovery {
    long sum;
    Long snapshotSeen;
    final List<Long> recordsSeen = new ArrayList<>();

    @Override
    public void snapshot(byte[] state) {
        assertNull(snapshotSeen, "snapshot called twice");
        assertTrue(recordsSeen.isEmpty(), "snapshot called after a record");
        snapshotSeen = decode(state);
        sum = snapshotSeen;
    }

    @Override
    public void record(byte[] record) {
        long k = decode(record);
        recordsSeen.add(k);
        sum += k;
    }

    static byte[] encode(long value) {
        return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
    }

    static long decode(byte[] bytes) {
        return ByteBuffer.wrap(bytes).getLong();
    }
}
