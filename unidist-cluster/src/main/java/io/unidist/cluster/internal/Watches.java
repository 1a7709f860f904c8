package io.unidist.cluster.internal;

import io.unidist.StateListener;
import io.unidist.Subscription;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jgroups.util.ByteArrayDataInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's watches of state buckets.
 *
 * <p>The node registers each watched bucket in its session; the leader pushes every change of
 * it, numbered by the bucket's version. One thread applies pushes in version order to a mirror
 * of the bucket and calls the listeners, so they see changes in commit order. A gap (a lost
 * push, a leader change) is filled from the bucket's history in the state machine; a watcher
 * that fell behind that history gets the difference between its mirror and the bucket. Every
 * two seconds the thread also checks for changes it was not told about, and registers again
 * when the node's session changed.
 */
final class Watches implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Watches.class);

    private record Listener(StateListener<Object> listener, Function<byte[], Optional<?>> decoder) { }

    private static final class BucketWatch {
        final String bucket;
        final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();
        final Map<String, byte[]> mirror = new HashMap<>();
        long version = -1;
        long session;

        BucketWatch(String bucket) {
            this.bucket = bucket;
        }
    }

    private final ClusterNode node;
    private final ScheduledExecutorService thread;
    private final Map<String, BucketWatch> buckets = new ConcurrentHashMap<>();

    Watches(ClusterNode node) {
        this.node = node;
        this.thread = Executors.newSingleThreadScheduledExecutor(RaftServer.daemon("unidist-watch-" + node.self()));
        thread.scheduleWithFixedDelay(this::checkAll, 2, 2, TimeUnit.SECONDS);
    }

    @SuppressWarnings("unchecked")
    Subscription watch(String bucket, Function<byte[], Optional<?>> decoder, StateListener<?> listener) {
        Listener l = new Listener((StateListener<Object>) listener, decoder);
        BucketWatch w = buckets.computeIfAbsent(bucket, BucketWatch::new);
        // registering reads the bucket once, on the caller's thread, so that a failure reaches the caller
        runOnThread(() -> {
            if (w.version < 0) {
                register(w);
            }
            w.listeners.add(l);
        });
        return () -> runOnThreadQuietly(() -> {
            w.listeners.remove(l);
            if (w.listeners.isEmpty() && buckets.remove(bucket, w)) {
                try {
                    node.write(Op.STATE_WATCH, out -> {
                        out.writeUTF(bucket);
                        out.writeBoolean(false);
                    }, Duration.ofSeconds(2), "unwatching bucket '" + bucket + "'");
                } catch (RuntimeException e) {
                    log.debug("{}: unwatching {} failed: {}", node.self(), bucket, e.toString());
                }
            }
        });
    }

    /** A CHANGED push arrived. */
    void pushed(String bucket, long version, String key, byte[] value) {
        thread.execute(() -> {
            BucketWatch w = buckets.get(bucket);
            if (w == null || w.version < 0 || version <= w.version) {
                return;
            }
            if (version == w.version + 1) {
                deliver(w, version, key, value);
            } else {
                catchUp(w);
            }
        });
    }

    private void register(BucketWatch w) {
        long session = node.session().id(node.timeout(), "watching bucket '" + w.bucket + "'");
        node.write(Op.STATE_WATCH, out -> {
            out.writeUTF(w.bucket);
            out.writeBoolean(true);
        }, node.timeout(), "watching bucket '" + w.bucket + "'");
        w.session = session;
        if (w.version < 0) {
            ByteArrayDataInputStream in = node.read(Op.STATE_SNAPSHOT, 0, out -> out.writeUTF(w.bucket), node.timeout(),
                    "watching bucket '" + w.bucket + "'");
            try {
                in.readBoolean();
                long version = in.readLong();
                int n = in.readInt();
                for (int i = 0; i < n; i++) {
                    w.mirror.put(in.readUTF(), ClusterState.readBytes(in));
                }
                w.version = version;
            } catch (IOException e) {
                throw new io.unidist.UnidistException("watching bucket '" + w.bucket + "': malformed reply", e);
            }
        }
    }

    private void checkAll() {
        for (BucketWatch w : buckets.values()) {
            try {
                if (w.session != node.session().currentId()) {
                    register(w);
                }
                catchUp(w);
            } catch (RuntimeException e) {
                log.debug("{}: checking watch of {} failed: {}", node.self(), w.bucket, e.toString());
            }
        }
    }

    private void catchUp(BucketWatch w) {
        ByteArrayDataInputStream in = node.read(Op.STATE_CHANGES, 0, out -> {
            out.writeUTF(w.bucket);
            out.writeLong(w.version);
        }, node.timeout(), "catching up with bucket '" + w.bucket + "'");
        try {
            if (!in.readBoolean()) {
                int n = in.readInt();
                for (int i = 0; i < n; i++) {
                    long version = in.readLong();
                    String key = in.readUTF();
                    byte[] value = in.readBoolean() ? ClusterState.readBytes(in) : null;
                    if (version == w.version + 1) {
                        deliver(w, version, key, value);
                    }
                }
                return;
            }
            long version = in.readLong();
            int n = in.readInt();
            Map<String, byte[]> now = new HashMap<>();
            for (int i = 0; i < n; i++) {
                now.put(in.readUTF(), ClusterState.readBytes(in));
            }
            log.info("{}: watch of bucket '{}' fell behind its history; delivering the net changes", node.self(), w.bucket);
            for (String gone : new java.util.ArrayList<>(w.mirror.keySet())) {
                if (!now.containsKey(gone)) {
                    deliver(w, w.version, gone, null);
                }
            }
            now.forEach((k, v) -> {
                if (!Arrays.equals(w.mirror.get(k), v)) {
                    deliver(w, w.version, k, v);
                }
            });
            w.version = version;
        } catch (IOException e) {
            log.warn("{}: malformed catch-up reply for bucket '{}': {}", node.self(), w.bucket, e.toString());
        }
    }

    private void deliver(BucketWatch w, long version, String key, byte[] value) {
        w.version = version;
        if (value == null) {
            w.mirror.remove(key);
        } else {
            w.mirror.put(key, value);
        }
        for (Listener l : w.listeners) {
            try {
                @SuppressWarnings("unchecked")
                Optional<Object> decoded = (Optional<Object>) l.decoder.apply(value);
                l.listener.changed(key, decoded);
            } catch (RuntimeException e) {
                log.warn("{}: a listener of bucket '{}' threw; it stays registered", node.self(), w.bucket, e);
            }
        }
    }

    private void runOnThread(Runnable r) {
        try {
            thread.submit(r).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.unidist.ClusterUnavailableException("interrupted while registering a watch", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new io.unidist.UnidistException("registering a watch failed: " + e.getCause(), e.getCause());
        }
    }

    private void runOnThreadQuietly(Runnable r) {
        try {
            thread.execute(r);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // the node is closing: its watches end with it
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
