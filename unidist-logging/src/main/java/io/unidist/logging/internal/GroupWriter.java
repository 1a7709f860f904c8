package io.unidist.logging.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * Group write: records logged at the same time by several threads reach a file in one write
 * call, and yet each logging call returns only once its own record has been written.
 *
 * <h2>How it works</h2>
 * A thread pushes its {@link Entry} on a lock-free stack of pending entries and tries to
 * become the writer (one flag, taken by compare-and-set). The writer takes the whole stack at
 * once, puts it back in arrival order, hands it to the {@link Sink} as one batch (one write
 * per file), then marks every entry of the batch written and wakes the threads that wait for
 * theirs; it goes on while entries arrive. After it gives up the flag it looks at the stack
 * once more and, if an entry arrived between its last take and the release, tries to take the
 * flag again: so every entry is written, by the thread that pushed it or by one that held the
 * flag after the push. A thread that finds another writing waits for its own entry: it spins
 * briefly (a write takes microseconds), then yields, then parks until the writer wakes it.
 * Everything before the push (encoding, the caller lookup) runs on each logging thread in
 * parallel; only the writes are serial. With one thread logging there is no waiting: it
 * pushes, takes the flag and writes its own record.
 *
 * <h2>Guarantee</h2>
 * {@link #write} returns only after the sink has returned from writing a batch that holds the
 * entry. There are at most as many entries pending as threads inside {@link #write}, each of
 * which waits: nothing is queued beyond them and nothing is written after the call returns.
 *
 * <h2>Failure</h2>
 * If the sink throws, the entries of that batch still count as written (their records are
 * lost, as with a write error), every waiting thread is released, the writer goes on with the
 * next batch, and the thread that was writing throws the first such exception once it is done.
 *
 * <h2>Thread safety</h2>
 * Any number of threads may call {@link #write}; the sink is called by one thread at a time.
 * An entry belongs to the writer from the push until it is marked written; its owner must not
 * touch it in between, and may reuse it once {@link #write} returned. A thread must not call
 * {@code write} again from inside the sink (it would wait for itself).
 *
 * @param <E> the entries' type: one record and what the sink needs to write it
 */
final class GroupWriter<E extends GroupWriter.Entry<E>> {

    /** Writes batches; called by one thread at a time. */
    interface Sink<E> {
        /**
         * Writes the batch that starts at {@code first}, in order ({@link Entry#next()}).
         * Returns once every record of it has been handed to the files.
         */
        void write(E first);
    }

    /**
     * One record on its way to the files. Subclasses add the record; an owner reuses its
     * entry for its next record.
     */
    abstract static class Entry<E extends Entry<E>> {
        // for the group writer only (package access, as it reaches them through its type variable)
        E next;
        volatile boolean written;
        volatile Thread waiter;

        /** The next entry of the batch being written, {@code null} after the last. */
        final E next() {
            return next;
        }
    }

    private static final int SPINS = 200;
    private static final int YIELDS = 8;
    private static final VarHandle PENDING;
    private static final VarHandle WRITING;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            PENDING = lookup.findVarHandle(GroupWriter.class, "pending", Entry.class);
            WRITING = lookup.findVarHandle(GroupWriter.class, "writing", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Sink<E> sink;
    @SuppressWarnings("unused") // through PENDING: the newest pending entry
    private volatile E pending;
    @SuppressWarnings("unused") // through WRITING: whether a thread is writing
    private volatile boolean writing;
    private long batches; // guarded by the writing flag
    private long records; // guarded by the writing flag

    GroupWriter(Sink<E> sink) {
        this.sink = sink;
    }

    /**
     * Writes {@code entry}'s record, alone or in a batch with others, and returns once it is
     * written.
     *
     * @throws RuntimeException what the sink threw, when this thread was writing
     */
    void write(E entry) {
        entry.written = false;
        entry.waiter = null;
        push(entry);
        RuntimeException failure = null;
        while (true) {
            if (!writing && WRITING.compareAndSet(this, false, true)) {
                try {
                    failure = drain(failure);
                } finally {
                    writing = false;
                }
                if (PENDING.getVolatile(this) == null) {
                    break; // nothing arrived before the release: no one is left waiting on us
                }
                // an entry arrived between the last take and the release: write it, or leave it
                // to whoever took the flag after the release
            } else if (entry.written) {
                break;
            } else {
                await(entry);
                break;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Batches and records written so far; an estimate while writes go on (for tests and reports). */
    long[] counts() {
        return new long[] {batches, records};
    }

    @SuppressWarnings("unchecked")
    private void push(E entry) {
        E head;
        do {
            head = (E) PENDING.getVolatile(this);
            entry.next = head;
        } while (!PENDING.compareAndSet(this, head, entry));
    }

    @SuppressWarnings("unchecked")
    private RuntimeException drain(RuntimeException failure) {
        for (E taken; (taken = (E) PENDING.getAndSet(this, null)) != null; ) {
            E first = inArrivalOrder(taken);
            try {
                sink.write(first);
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                }
            } finally {
                release(first);
            }
        }
        return failure;
    }

    /** Reverses the taken stack (newest first) into arrival order. */
    private static <E extends Entry<E>> E inArrivalOrder(E newest) {
        E previous = null;
        for (E current = newest; current != null; ) {
            E older = current.next;
            current.next = previous;
            previous = current;
            current = older;
        }
        return previous;
    }

    private void release(E first) {
        long count = 0;
        for (E entry = first; entry != null; ) {
            E next = entry.next; // read before the owner may reuse the entry
            entry.written = true;
            Thread waiter = entry.waiter;
            if (waiter != null) {
                LockSupport.unpark(waiter);
            }
            entry = next;
            count++;
        }
        batches++;
        records += count;
    }

    private void await(E entry) {
        for (int i = 0; i < SPINS; i++) {
            if (entry.written) {
                return;
            }
            Thread.onSpinWait();
        }
        for (int i = 0; i < YIELDS; i++) {
            if (entry.written) {
                return;
            }
            Thread.yield();
        }
        entry.waiter = Thread.currentThread();
        while (!entry.written) {
            LockSupport.park(this);
        }
    }
}
