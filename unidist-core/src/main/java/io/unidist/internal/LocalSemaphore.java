package io.unidist.internal;

import io.unidist.LeaseInfo;
import io.unidist.LockLease;
import io.unidist.SharedLock;
import io.unidist.Subscription;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An in-process semaphore with fencing tokens and first-come, first-served waiters.
 *
 * <p>Waiters queue as tickets; only the ticket at the head may take a free permit, so a stream
 * of new callers cannot starve an old waiter. {@link #tryAcquire()} takes a permit only when no
 * one waits. Every state change signals all waiters, which re-check whether they are at the
 * head: simple, and cheap at the waiter counts of one process.
 */
final class LocalSemaphore implements SharedLock {
    private final LocalUnidist node;
    private final String name;
    private final int permits;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<Long, Lease> holders = new LinkedHashMap<>();
    private final ArrayDeque<Object> waiters = new ArrayDeque<>();

    LocalSemaphore(LocalUnidist node, String name, int permits) {
        this.node = node;
        this.name = name;
        this.permits = permits;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int permits() {
        return permits;
    }

    @Override
    public LockLease acquire(Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = Waits.deadline(node.time(), Waits.timeoutNanos(timeout, "lock '" + name + "'", "timeout"));
        node.ensureOpen();
        Object ticket = new Object();
        lock.lockInterruptibly();
        try {
            waiters.addLast(ticket);
            try {
                while (true) {
                    node.ensureOpen();
                    if (waiters.peekFirst() == ticket && holders.size() < permits) {
                        return grant();
                    }
                    long left = deadline - node.time().nanoTime();
                    if (left <= 0) {
                        throw new TimeoutException("lock '" + name + "': no permit free within " + timeout
                                + " (" + holders.size() + " of " + permits + " held, " + (waiters.size() - 1)
                                + " waiting before or after this call)");
                    }
                    Waits.await(changed, left);
                }
            } finally {
                if (waiters.remove(ticket)) {
                    changed.signalAll();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<LockLease> tryAcquire() {
        node.ensureOpen();
        lock.lock();
        try {
            if (waiters.isEmpty() && holders.size() < permits) {
                return Optional.of(grant());
            }
            return Optional.empty();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<LeaseInfo> holders() {
        node.ensureOpen();
        lock.lock();
        try {
            List<LeaseInfo> list = new ArrayList<>(holders.size());
            for (Lease lease : holders.values()) {
                list.add(new LeaseInfo(node.nodeName(), lease.token, lease.since));
            }
            return List.copyOf(list);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "lock '" + name + "' (" + permits + " permit(s))";
    }

    /** Invalidates every lease: the node is closing. */
    void closeNode() {
        List<Lease> lost;
        lock.lock();
        try {
            lost = new ArrayList<>(holders.values());
            lost.forEach(l -> l.valid = false);
            holders.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        lost.forEach(Lease::fireLost);
    }

    void wakeAll() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private Lease grant() {
        Lease lease = new Lease(node.nextFencingToken(), node.time().now());
        holders.put(lease.token, lease);
        return lease;
    }

    private void release(Lease lease) {
        lock.lock();
        try {
            if (holders.remove(lease.token) != null) {
                lease.valid = false;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** A lease of this semaphore. */
    private final class Lease implements LockLease {
        final long token;
        final Instant since;
        volatile boolean valid = true;
        private final LostCallbacks lost = new LostCallbacks();

        Lease(long token, Instant since) {
            this.token = token;
            this.since = since;
        }

        @Override
        public long fencingToken() {
            return token;
        }

        @Override
        public boolean isValid() {
            return valid;
        }

        @Override
        public Subscription onLost(Runnable action) {
            return lost.add(action);
        }

        void fireLost() {
            lost.fire();
        }

        @Override
        public void close() {
            if (valid) {
                lost.cancelAll();
                release(this);
            }
        }

        @Override
        public String toString() {
            return "lease of lock '" + name + "' (fencing token " + token + (valid ? ")" : ", released)");
        }
    }
}
