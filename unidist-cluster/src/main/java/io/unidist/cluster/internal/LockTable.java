package io.unidist.cluster.internal;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * The locks and semaphores of the state machine. A lock exists while it has holders or
 * waiters; its permits are fixed while it exists. Waiters are granted first come, first served.
 * A lease is named by the session and the seq of the request that asked for it, so that a
 * retried acquire finds its lease or its place in line instead of taking a second one.
 */
final class LockTable {
    /** What an acquire came to. Ids are written in replies. */
    static final byte GRANTED = 0;
    static final byte QUEUED = 1;
    static final byte REFUSED = 2;
    static final byte CANCELLED = 3;
    static final byte RELEASED = 4;

    /** A held lease. */
    record Holder(String lock, long session, long seq, long token, long since) { }

    private record Waiter(long session, long seq) { }

    private static final class Lock {
        final int permits;
        final LinkedHashMap<Long, Holder> holders = new LinkedHashMap<>();
        final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

        Lock(int permits) {
            this.permits = permits;
        }

        boolean isUnused() {
            return holders.isEmpty() && waiters.isEmpty();
        }

        Holder holderOf(long session, long seq) {
            for (Holder h : holders.values()) {
                if (h.session == session && h.seq == seq) {
                    return h;
                }
            }
            return null;
        }
    }

    private final TreeMap<String, Lock> locks = new TreeMap<>();

    /** The result of an acquire: the outcome and, when granted, the lease. */
    record Acquired(byte outcome, Holder holder) { }

    Acquired acquire(String name, int permits, long session, long seq, boolean wait, LongSupplier tokens, long now) {
        Lock lock = locks.get(name);
        if (lock != null && lock.permits != permits) {
            throw new IllegalArgumentException("lock '" + name + "' has " + lock.permits
                    + " permit(s), cannot use it with " + permits);
        }
        if (lock == null) {
            lock = new Lock(permits);
            locks.put(name, lock);
        }
        Holder held = lock.holderOf(session, seq);
        if (held != null) {
            return new Acquired(GRANTED, held);
        }
        if (lock.waiters.contains(new Waiter(session, seq))) {
            return new Acquired(QUEUED, null);
        }
        if (lock.waiters.isEmpty() && lock.holders.size() < lock.permits) {
            return new Acquired(GRANTED, grant(name, lock, session, seq, tokens, now));
        }
        if (wait) {
            lock.waiters.addLast(new Waiter(session, seq));
            return new Acquired(QUEUED, null);
        }
        dropIfUnused(name, lock);
        return new Acquired(REFUSED, null);
    }

    /** Releases a lease; returns whether it was held. Waiters it lets in are added to {@code granted}. */
    boolean release(String name, long session, long token, LongSupplier tokens, long now, List<Holder> granted) {
        Lock lock = locks.get(name);
        if (lock == null) {
            return false;
        }
        Holder h = lock.holders.get(token);
        if (h == null || h.session != session) {
            return false;
        }
        lock.holders.remove(token);
        promote(name, lock, tokens, now, granted);
        return true;
    }

    /** Gives up a waiting or granted acquire: {@link #CANCELLED}, {@link #RELEASED} or {@link #REFUSED} (unknown). */
    byte cancel(String name, long session, long seq, LongSupplier tokens, long now, List<Holder> granted) {
        Lock lock = locks.get(name);
        if (lock == null) {
            return REFUSED;
        }
        if (lock.waiters.remove(new Waiter(session, seq))) {
            promote(name, lock, tokens, now, granted);
            return CANCELLED;
        }
        Holder h = lock.holderOf(session, seq);
        if (h != null) {
            lock.holders.remove(h.token);
            promote(name, lock, tokens, now, granted);
            return RELEASED;
        }
        return REFUSED;
    }

    /** Removes every lease and place in line of a session, letting waiters in. */
    void expire(long session, LongSupplier tokens, long now, List<Holder> granted) {
        for (Iterator<Map.Entry<String, Lock>> it = locks.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Lock> e = it.next();
            Lock lock = e.getValue();
            boolean changed = lock.holders.values().removeIf(h -> h.session == session);
            changed |= lock.waiters.removeIf(w -> w.session == session);
            if (changed) {
                promoteAll(e.getKey(), lock, tokens, now, granted);
            }
            if (lock.isUnused()) {
                it.remove();
            }
        }
    }

    List<Holder> holders(String name) {
        Lock lock = locks.get(name);
        return lock == null ? List.of() : new ArrayList<>(lock.holders.values());
    }

    private Holder grant(String name, Lock lock, long session, long seq, LongSupplier tokens, long now) {
        Holder h = new Holder(name, session, seq, tokens.getAsLong(), now);
        lock.holders.put(h.token, h);
        return h;
    }

    private void promote(String name, Lock lock, LongSupplier tokens, long now, List<Holder> granted) {
        promoteAll(name, lock, tokens, now, granted);
        dropIfUnused(name, lock);
    }

    private void promoteAll(String name, Lock lock, LongSupplier tokens, long now, List<Holder> granted) {
        while (!lock.waiters.isEmpty() && lock.holders.size() < lock.permits) {
            Waiter w = lock.waiters.pollFirst();
            granted.add(grant(name, lock, w.session, w.seq, tokens, now));
        }
    }

    private void dropIfUnused(String name, Lock lock) {
        if (lock.isUnused()) {
            locks.remove(name);
        }
    }

    void write(DataOutput out) throws IOException {
        out.writeInt(locks.size());
        for (Map.Entry<String, Lock> e : locks.entrySet()) {
            Lock lock = e.getValue();
            out.writeUTF(e.getKey());
            out.writeInt(lock.permits);
            out.writeInt(lock.holders.size());
            for (Holder h : lock.holders.values()) {
                out.writeLong(h.session);
                out.writeLong(h.seq);
                out.writeLong(h.token);
                out.writeLong(h.since);
            }
            out.writeInt(lock.waiters.size());
            for (Waiter w : lock.waiters) {
                out.writeLong(w.session);
                out.writeLong(w.seq);
            }
        }
    }

    void read(DataInput in) throws IOException {
        locks.clear();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            String name = in.readUTF();
            Lock lock = new Lock(in.readInt());
            int holders = in.readInt();
            for (int h = 0; h < holders; h++) {
                Holder holder = new Holder(name, in.readLong(), in.readLong(), in.readLong(), in.readLong());
                lock.holders.put(holder.token, holder);
            }
            int waiters = in.readInt();
            for (int w = 0; w < waiters; w++) {
                lock.waiters.addLast(new Waiter(in.readLong(), in.readLong()));
            }
            locks.put(name, lock);
        }
    }
}
