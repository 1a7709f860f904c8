package io.unidist.internal.store;

import io.unidist.Persistence;
import java.nio.file.Path;

/** A primitive as the real ones use the store: apply in memory, write, undo when the write throws. */
final class SumCounter implements AutoCloseable {
    final SumMachine machine = new SumMachine();
    final DurableStore store;
    private final Persistence persistence;

    SumCounter(Path dir, Persistence persistence) {
        this(dir, persistence, StoreIo.real());
    }

    SumCounter(Path dir, Persistence persistence, StoreIo io) {
        this.persistence = persistence;
        store = DurableStore.open(dir, persistence, machine, io);
    }

    void add(long k) {
        machine.sum += k;
        try {
            store.write(SumMachine.encode(k), () -> SumMachine.encode(machine.sum));
        } catch (RuntimeException e) {
            machine.sum -= k;
            throw e;
        }
    }

    void addAll(long fromInclusive, long toInclusive) {
        for (long k = fromInclusive; k <= toInclusive; k++) {
            add(k);
        }
    }

    long sum() {
        return machine.sum;
    }

    /** Closes as a primitive does: a last snapshot when snapshot mode has unsaved changes. */
    @Override
    public void close() {
        if (persistence.mode() == Persistence.Mode.SNAPSHOT && store.hasUnsnapshottedChanges()) {
            store.snapshot(SumMachine.encode(machine.sum));
        }
        store.close();
    }

    static long sumOf(long fromInclusive, long toInclusive) {
        return (fromInclusive + toInclusive) * (toInclusive - fromInclusive + 1) / 2;
    }
}
