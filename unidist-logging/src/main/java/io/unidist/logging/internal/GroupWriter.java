package io.unidist.logging.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Group write: records logged at the same time by several threads reach each file in one
 * write call, the files are written in parallel, and yet each logging call returns only once
 * its own record has been written to every file.
 *
 * <h2>How it works</h2>
 * Records get their place in one order when they arrive: a thread claims the next sequence
 * number (one atomic increment) and publishes its {@link Entry} in a ring at that place. Each
 * file is a <em>lane</em> with its own writer flag and its own cursor, the next sequence it
 * writes. After publishing, a thread takes the flag of every lane that has not written its
 * record yet and is free, and writes from the lane's cursor every record published in order
 * after it, as one batch (one write call), then advances the cursor. So while one thread writes
 * a batch to the text file, another can write the JSON file, and records that arrive meanwhile
 * wait for the next batch. A thread whose record is not written yet by a lane another thread
 * holds waits for it: it spins briefly (a write takes about a microsecond), then parks until
 * the last lane to write its record wakes it. A thread that gives up
 * a lane's flag looks once more for records published behind the cursor and, if there are
 * any, takes the flag again to write them or leaves them to the thread that took it: so every
 * record is written by every lane, in sequence order. Everything before the claim (encoding,
 * the caller lookup) runs on each logging thread in parallel. With one thread logging there is
 * no waiting: it writes its own record to each lane in turn.
 *
 * <h2>Guarantee</h2>
 * {@link #write} returns only after every lane's sink has returned from a batch that holds the
 * entry. At most as many entries are pending as threads inside {@link #write}, each of which
 * waits: nothing is queued beyond them, nothing is written after the call returns. Every lane
 * writes the records in the same order.
 *
 * <h2>Failure</h2>
 * If a sink throws, the records of that batch count as written by that lane (they are lost
 * for its file, as with a write error), every waiting thread is released, the lane goes on with
 * the next batch, and the thread that was writing throws the first such exception once its own
 * record is done.
 *
 * <h2>Thread safety</h2>
 * Any number of threads may call {@link #write}; each lane's sink is called by one thread at a
 * time, different lanes' sinks at the same time. An entry belongs to the group writer from the
 * call until it returns; its owner may reuse it for its next record. A thread must not call
 * {@code write} again from inside a sink (it would wait for itself).
 *
 * @param <E> the entries' type: one record and what the sinks need to write it
 */
final class GroupWriter<E extends GroupWriter.Entry> {

    /** Writes batches to one file; called by one thread at a time. */
    interface Sink<E> {
        /**
         * Writes the batch's records, in order. Returns once every record of it has been
         * handed to the file. The batch is valid during the call only.
         */
        void write(Batch<E> batch);
    }

    /** The records of one batch, in order; at least one. */
    static final class Batch<E> {
        private final Entry[] entries = new Entry[CAPACITY];
        private int size;

        int size() {
            return size;
        }

        @SuppressWarnings("unchecked")
        E get(int index) {
            return (E) entries[index];
        }
    }

    /**
     * One record on its way to the files. Subclasses add the record; an owner reuses its
     * entry for its next record.
     */
    abstract static class Entry {
        // for the group writer only (package access, as it reaches them through its type variable)
        volatile long order = -1; // the record's place in the sequence, once published
        volatile int remaining;
        volatile Thread waiter;
    }

    /** Records a lane writes in one batch at most, and pending records the ring holds. */
    static final int CAPACITY = 1024;
    private static final int MASK = CAPACITY - 1;
    /** Spins before parking: about as long as a write; no yields, which under load give the core away for a time slice. */
    private static final int SPINS = 100;
    private static final VarHandle REMAINING;
    private static final VarHandle RING;

    static {
        try {
            REMAINING = MethodHandles.lookup().findVarHandle(Entry.class, "remaining", int.class);
            RING = MethodHandles.arrayElementVarHandle(Entry[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Lane<E>[] lanes;
    private final Entry[] ring = new Entry[CAPACITY];
    private final AtomicLong claimed = new AtomicLong();

    /** One file: its sink, its writer flag, its cursor, and the batch its writer fills. */
    private static final class Lane<E> {
        private static final VarHandle WRITING;

        static {
            try {
                WRITING = MethodHandles.lookup().findVarHandle(Lane.class, "writing", boolean.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final Sink<E> sink;
        final Batch<E> batch = new Batch<>();
        @SuppressWarnings("unused") // through WRITING
        volatile boolean writing;
        volatile long cursor;
        long batches; // guarded by the flag
        long records; // guarded by the flag

        Lane(Sink<E> sink) {
            this.sink = sink;
        }

        boolean tryAcquire() {
            return !writing && WRITING.compareAndSet(this, false, true);
        }

        void release() {
            writing = false;
        }
    }

    /** @param sinks one per file, in the order a thread writing alone writes them */
    @SafeVarargs
    @SuppressWarnings("unchecked")
    GroupWriter(Sink<E>... sinks) {
        this.lanes = new Lane[sinks.length];
        for (int i = 0; i < sinks.length; i++) {
            lanes[i] = new Lane<>(sinks[i]);
        }
    }

    /**
     * Writes {@code entry}'s record to every lane, alone or in batches with others, and
     * returns once every lane has written it.
     *
     * @throws RuntimeException what a sink threw, when this thread was writing its batch
     */
    void write(E entry) {
        entry.waiter = null;
        entry.remaining = lanes.length;
        long seq = claimed.getAndIncrement();
        awaitRoom(seq);
        entry.order = seq;
        RING.setVolatile(ring, (int) (seq & MASK), entry);
        RuntimeException failure = null;
        while (true) {
            boolean wrote = false;
            for (Lane<E> lane : lanes) {
                if (lane.cursor <= seq && lane.tryAcquire()) {
                    failure = drain(lane, failure);
                    wrote = true;
                }
            }
            if (entry.remaining == 0) {
                break;
            }
            if (!wrote) {
                await(entry);
                break;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Per lane: batches and records written so far; an estimate while writes go on (for tests and reports). */
    long[][] counts() {
        long[][] counts = new long[lanes.length][];
        for (int i = 0; i < lanes.length; i++) {
            counts[i] = new long[] {lanes[i].batches, lanes[i].records};
        }
        return counts;
    }

    /**
     * Writes what is published behind the lane's cursor, batch after batch, then gives up the
     * flag and looks once more (see the class comment). The caller holds the flag.
     */
    private RuntimeException drain(Lane<E> lane, RuntimeException failure) {
        while (true) {
            try {
                for (int count; (count = collect(lane)) > 0; ) {
                    failure = writeBatch(lane, count, failure);
                }
            } finally {
                lane.release();
            }
            if (!published(lane.cursor) || !lane.tryAcquire()) {
                return failure; // nothing new, or it is the new writer's
            }
        }
    }

    /** Fills the lane's batch with the records published in order from its cursor; returns how many. */
    private int collect(Lane<E> lane) {
        long from = lane.cursor;
        int count = 0;
        while (count < CAPACITY) {
            Entry entry = (Entry) RING.getVolatile(ring, (int) ((from + count) & MASK));
            if (entry == null || entry.order != from + count) {
                break;
            }
            lane.batch.entries[count++] = entry;
        }
        lane.batch.size = count;
        return count;
    }

    private RuntimeException writeBatch(Lane<E> lane, int count, RuntimeException failure) {
        try {
            lane.sink.write(lane.batch);
        } catch (RuntimeException e) {
            if (failure == null) {
                failure = e;
            }
        } finally {
            lane.batches++;
            lane.records += count;
            lane.cursor += count;
            for (int i = 0; i < count; i++) {
                Entry entry = lane.batch.entries[i];
                lane.batch.entries[i] = null;
                if ((int) REMAINING.getAndAdd(entry, -1) == 1) {
                    Thread waiter = entry.waiter; // the owner may reuse the entry from here on
                    if (waiter != null) {
                        LockSupport.unpark(waiter);
                    }
                }
            }
        }
        return failure;
    }

    private boolean published(long seq) {
        Entry entry = (Entry) RING.getVolatile(ring, (int) (seq & MASK));
        return entry != null && entry.order == seq;
    }

    /** Waits until every lane has written the record that last held the ring slot of {@code seq}. */
    private void awaitRoom(long seq) {
        while (seq - slowestCursor() >= CAPACITY) {
            for (Lane<E> lane : lanes) {
                if (published(lane.cursor) && lane.tryAcquire()) {
                    drain(lane, null);
                }
            }
            Thread.yield();
        }
    }

    private long slowestCursor() {
        long slowest = Long.MAX_VALUE;
        for (Lane<E> lane : lanes) {
            slowest = Math.min(slowest, lane.cursor);
        }
        return slowest;
    }

    private void await(E entry) {
        for (int i = 0; i < SPINS; i++) {
            if (entry.remaining == 0) {
                return;
            }
            Thread.onSpinWait();
        }
        entry.waiter = Thread.currentThread();
        while (entry.remaining != 0) {
            LockSupport.park(this);
        }
    }
}
