package io.unidist.cluster.internal;

import io.unidist.ClusterUnavailableException;
import io.unidist.LeaseInfo;
import io.unidist.LockLease;
import io.unidist.SharedLock;
import io.unidist.Subscription;
import io.unidist.internal.LostCallbacks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jgroups.util.ByteArrayDataInputStream;

/**
 * A lock or semaphore shared by the cluster, kept in the replicated state machine.
 *
 * <p>An acquire that must wait takes a place in the state machine's line; the leader tells this
 * node when the place turns into a lease, and the node also asks again every second in case
 * that message was lost (asking again with the same seq is idempotent). When the caller's
 * timeout passes first, the place is given up, or the lease released if it was granted
 * meanwhile.
 */
final class ClusterLock implements SharedLock {
    private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final ClusterNode node;
    private final String name;
    private final int permits;
    private final String what;

    ClusterLock(ClusterNode node, String name, int permits) {
        this.node = node;
        this.name = name;
        this.permits = permits;
        this.what = "lock '" + name + "'";
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
        Objects.requireNonNull(timeout, what + " timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException(what + ": timeout must not be negative, got " + timeout);
        }
        node.ensureOpen();
        long deadline = System.nanoTime() + Math.min(timeout.toNanos(), Long.MAX_VALUE / 4);
        boolean wait = !timeout.isZero();
        long seq = node.session().nextSeq();
        CompletableFuture<long[]> grant = node.leases().expectGrant(seq);
        boolean granted = false;
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                // the caller's timeout bounds the wait, not the commit: a slow commit must not look like no quorum
                Duration attempt = node.timeout();
                ClusterNode.Answer answer = node.writeWithSeq(Op.LOCK_ACQUIRE, seq, out -> {
                    out.writeUTF(name);
                    out.writeInt(permits);
                    out.writeBoolean(wait);
                }, attempt, what);
                byte outcome = answer.in().readByte();
                if (outcome == LockTable.GRANTED) {
                    granted = true;
                    return lease(answer.session(), seq, answer.in().readLong(), answer.in().readLong());
                }
                if (outcome != LockTable.QUEUED || left <= 0) {
                    break;
                }
                long[] pushed = awaitGrant(grant, Math.min(deadline - System.nanoTime(), RECHECK_NANOS));
                if (pushed != null) {
                    // the push proves the grant, not that a majority still hears this node: ask before handing it out
                    if (!node.leases().ping()) {
                        break;
                    }
                    granted = true;
                    return lease(answer.session(), seq, pushed[0], pushed[1]);
                }
                if (deadline - System.nanoTime() <= 0) {
                    break;
                }
            }
            giveUp(seq);
            throw new TimeoutException(what + ": no permit free within " + timeout + " (" + permits + " permit(s))");
        } catch (InterruptedException e) {
            giveUp(seq);
            throw e;
        } catch (ClusterUnavailableException e) {
            boolean interrupted = Thread.interrupted();
            // without a quorum the cancel would wait its own 2 s: the caller hears at once, the cancel follows
            java.util.concurrent.CompletableFuture.runAsync(() -> giveUp(seq));
            if (interrupted) {
                throw new InterruptedException(what + ": interrupted while waiting");
            }
            throw e;
        } catch (IOException e) {
            throw new UncheckedIOException(what + ": malformed reply", e);
        } finally {
            node.leases().forgetGrant(seq, !granted);
            node.session().done(seq);
        }
    }

    private static long[] awaitGrant(CompletableFuture<long[]> grant, long nanos) throws InterruptedException {
        if (nanos <= 0) {
            return null;
        }
        try {
            return grant.get(nanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
            return null;
        }
    }

    /** Gives up a place in line, or releases the lease if it was granted meanwhile; best effort. */
    private void giveUp(long seq) {
        boolean interrupted = Thread.interrupted();
        try {
            node.write(Op.LOCK_CANCEL, out -> {
                out.writeUTF(name);
                out.writeLong(seq);
            }, Duration.ofSeconds(2), what + " (giving up)");
        } catch (RuntimeException e) {
            // unreachable cluster: the place ends with the session when this node is taken for gone
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public Optional<LockLease> tryAcquire() {
        try {
            return Optional.of(acquire(Duration.ZERO));
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    @Override
    public List<LeaseInfo> holders() {
        ByteArrayDataInputStream in = node.read(Op.LOCK_HOLDERS, 0, out -> out.writeUTF(name), node.timeout(), what);
        try {
            int n = in.readInt();
            List<LeaseInfo> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                list.add(new LeaseInfo(in.readUTF(), in.readLong(), Instant.ofEpochMilli(in.readLong())));
            }
            return List.copyOf(list);
        } catch (IOException e) {
            throw new UncheckedIOException(what + ": malformed reply", e);
        }
    }

    @Override
    public String toString() {
        return what + " (" + permits + " permit(s))";
    }

    private Lease lease(long session, long seq, long token, long since) {
        Lease lease = new Lease(session, token, Instant.ofEpochMilli(since));
        node.leases().add(lease);
        return lease;
    }

    /** A lease held by this node. */
    final class Lease implements LockLease {
        private final long session;
        private final long token;
        private final Instant since;
        private final LostCallbacks lostCallbacks = new LostCallbacks();
        private final long grantedAt = System.nanoTime();
        private volatile boolean closed;
        private volatile boolean lost;

        Lease(long session, long token, Instant since) {
            this.session = session;
            this.token = token;
            this.since = since;
        }

        long session() {
            return session;
        }

        long grantedAt() {
            return grantedAt;
        }

        @Override
        public long fencingToken() {
            return token;
        }

        /** When the lease was granted, by the leader's clock. */
        Instant since() {
            return since;
        }

        @Override
        public boolean isValid() {
            if (closed || lost) {
                return false;
            }
            if (node.leases().isConfirmed(session)) {
                return true;
            }
            // once seen invalid, lost for good: a late answer to a keep-alive sent before the
            // expiry would otherwise make it valid again, and a holder that stopped its work on
            // "false" must not find it "true" a moment later (the contract of LockLease)
            lose("no majority confirmed this node's session for " + node.leases().timeout());
            return false;
        }

        @Override
        public Subscription onLost(Runnable action) {
            return lostCallbacks.add(action);
        }

        void lose(String why) {
            if (closed || lost) {
                return;
            }
            lost = true;
            node.leases().remove(this);
            org.slf4j.LoggerFactory.getLogger(ClusterLock.class).warn("{}: lost the lease of {} (fencing token {}): {}",
                    node.self(), what, token, why);
            lostCallbacks.fire();
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            lostCallbacks.cancelAll();
            node.leases().remove(this);
            if (!lost && !node.isClosed() && !releaseNow(node.timeout())) {
                node.leases().releaseLater(this);
            }
        }

        /** Releases in the cluster; returns whether the cluster answered. */
        boolean releaseNow(Duration timeout) {
            try {
                release(node, name, token, timeout, what + " (release)");
                return true;
            } catch (RuntimeException e) {
                return false;
            }
        }

        @Override
        public String toString() {
            return "lease of " + what + " (fencing token " + token + (isValid() ? ")" : ", not valid)");
        }
    }

    /**
     * Frees the grant of {@code lock} with fencing token {@code token} in the cluster (a release
     * of a grant already gone changes nothing); throws when no quorum answered in time.
     */
    static void release(ClusterNode node, String lock, long token, Duration timeout, String what) {
        node.write(Op.LOCK_RELEASE, out -> {
            out.writeUTF(lock);
            out.writeLong(token);
        }, timeout, what);
    }
}
