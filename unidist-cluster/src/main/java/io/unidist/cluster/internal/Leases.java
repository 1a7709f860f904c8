package io.unidist.cluster.internal;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leases this node holds, and the proof that it still holds them.
 *
 * <p>A lease is valid while the node's session is the one it was granted in and a majority
 * confirmed that session less than the lease timeout ago. Every successful write confirms it
 * (measured from when the write was sent), and while leases are held a keep-alive thread sends a
 * linearizable read (which the leader answers only after hearing from a majority) a few times
 * per timeout. The lease timeout is shorter than the failure-detection time after which the
 * majority expires a silent node's session, so a holder cut off from the majority sees its
 * lease lost before anyone else can be granted it. A stalled process can still outlive its
 * lease: that is what fencing tokens are for.
 */
final class Leases implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Leases.class);

    private final ClusterNode node;
    private final long timeoutNanos;
    private final Set<ClusterLock.Lease> held = ConcurrentHashMap.newKeySet();
    private final Map<Long, CompletableFuture<long[]>> waiting = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<ClusterLock.Lease> toRelease = new ConcurrentLinkedQueue<>();
    /** Request numbers of acquires that returned without a lease: their late grants are released. */
    private final java.util.concurrent.ConcurrentSkipListSet<Long> abandoned =
            new java.util.concurrent.ConcurrentSkipListSet<>();
    private static final int MAX_ABANDONED = 10_000;
    private final ScheduledExecutorService keepAlive;
    private volatile long confirmedSession;
    private volatile long confirmedAt;

    Leases(ClusterNode node, Duration timeout) {
        this.node = node;
        this.timeoutNanos = timeout.toNanos();
        this.keepAlive = Executors.newSingleThreadScheduledExecutor(RaftServer.daemon("unidist-leases-" + node.self()));
    }

    void start() {
        long period = Math.max(TimeUnit.MILLISECONDS.toNanos(50), timeoutNanos / 4);
        keepAlive.scheduleWithFixedDelay(this::tick, period, period, TimeUnit.NANOSECONDS);
    }

    Duration timeout() {
        return Duration.ofNanos(timeoutNanos);
    }

    /** A majority answered a request of {@code session} that was sent at {@code sentNanos}. */
    void confirmed(long session, long sentNanos) {
        synchronized (this) {
            if (session != confirmedSession) {
                confirmedSession = session;
                confirmedAt = sentNanos;
            } else if (sentNanos - confirmedAt > 0) {
                confirmedAt = sentNanos;
            }
        }
    }

    /** Whether a lease of {@code session} is still provably held. */
    boolean isConfirmed(long session) {
        return !node.isClosed() && session == confirmedSession && node.session().currentId() == session
                && System.nanoTime() - confirmedAt <= timeoutNanos;
    }

    void add(ClusterLock.Lease lease) {
        held.add(lease);
    }

    void remove(ClusterLock.Lease lease) {
        held.remove(lease);
    }

    /** A release that could not reach the cluster: retried until it does or the session ends. */
    void releaseLater(ClusterLock.Lease lease) {
        toRelease.add(lease);
    }

    CompletableFuture<long[]> expectGrant(long seq) {
        return waiting.computeIfAbsent(seq, s -> new CompletableFuture<>());
    }

    /**
     * The acquire of {@code seq} returned; {@code abandoned} when it returned without a lease
     * (timed out, interrupted, no quorum), so that a grant for it arriving later is released.
     */
    void forgetGrant(long seq, boolean abandoned) {
        waiting.remove(seq);
        if (abandoned) {
            this.abandoned.add(seq);
            if (this.abandoned.size() > MAX_ABANDONED) {
                // the oldest places were cancelled or ended with their sessions long ago
                this.abandoned.pollFirst();
            }
        }
    }

    /**
     * The leader says a waiting acquire was granted. A grant nobody waits for any more (the
     * acquire was interrupted or timed out and its cancel could not reach the cluster) is
     * released at once: else it would hold the permit for as long as this node lives.
     */
    void grantArrived(long session, String lock, long seq, long token, long since) {
        if (session != node.session().currentId()) {
            return; // an old session's grant: the cluster ends it with the session
        }
        CompletableFuture<long[]> f = waiting.get(seq);
        // only a place this node gave up: a replayed or forged push must not release a lease held here
        if (f != null) {
            f.complete(new long[] {token, since});
        } else if (abandoned.remove(seq)) {
            log.info("{}: releasing a grant of {} (fencing token {}) that no acquire waits for", node.self(), lock,
                    token);
            keepAlive.execute(() -> releaseOrphan(session, lock, token));
        }
    }

    /** Releases a grant no acquire took; tried again every lease timeout until it works or the session ends. */
    private void releaseOrphan(long session, String lock, long token) {
        if (node.isClosed() || session != node.session().currentId()) {
            return; // the session's end releases it
        }
        try {
            ClusterLock.release(node, lock, token, timeout().multipliedBy(2),
                    "lock '" + lock + "' (releasing an orphaned grant)");
        } catch (RuntimeException e) {
            log.debug("{}: releasing an orphaned grant of {} (fencing token {}) failed, will retry: {}", node.self(),
                    lock, token, e.toString());
            try {
                keepAlive.schedule(() -> releaseOrphan(session, lock, token), timeoutNanos, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                // the node closed meanwhile: its session ends and with it the grant
            }
        }
    }

    /** Every lease of {@code session} is lost. */
    void loseAll(long session, String why) {
        for (ClusterLock.Lease lease : held) {
            if (lease.session() == session) {
                lease.lose(why);
            }
        }
    }

    private void tick() {
        try {
            long started = System.nanoTime();
            if (!held.isEmpty()) {
                ping();
            }
            for (ClusterLock.Lease lease : held) {
                // a lease granted while this tick ran was confirmed by its own grant; judge it next time
                if (lease.grantedAt() - started < 0 && !isConfirmed(lease.session())) {
                    lease.lose("no majority confirmed this node's session for " + timeout());
                }
            }
            retryReleases();
        } catch (RuntimeException e) {
            log.debug("{}: lease keep-alive: {}", node.self(), e.toString());
        }
    }

    /** Asks a majority to confirm this node's session now; returns whether it did. */
    boolean ping() {
        long session = node.session().currentId();
        if (session == 0) {
            return false;
        }
        long sent = System.nanoTime();
        try {
            long alive = node.read(Op.PING, session, out -> { }, timeout(), "lease keep-alive").readLong();
            if (alive == session) {
                confirmed(session, sent);
                return true;
            }
            node.session().expired(session);
        } catch (java.io.IOException | RuntimeException e) {
            log.debug("{}: keep-alive failed: {}", node.self(), e.toString());
        }
        return false;
    }

    private void retryReleases() {
        for (ClusterLock.Lease lease; (lease = toRelease.peek()) != null; ) {
            if (lease.session() != node.session().currentId() || lease.releaseNow(Duration.ofSeconds(2))) {
                toRelease.poll();
            } else {
                return;
            }
        }
    }

    @Override
    public void close() {
        keepAlive.shutdownNow();
        for (ClusterLock.Lease lease : held) {
            lease.lose("the node closed");
        }
        held.clear();
        waiting.values().forEach(f -> f.cancel(false));
    }
}
