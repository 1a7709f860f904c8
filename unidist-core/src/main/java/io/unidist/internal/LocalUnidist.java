package io.unidist.internal;

import io.unidist.MessageQueue;
import io.unidist.Persistence;
import io.unidist.QueueOptions;
import io.unidist.SharedCounter;
import io.unidist.SharedLock;
import io.unidist.SharedState;
import io.unidist.Subscription;
import io.unidist.TimeSource;
import io.unidist.Unidist;
import io.unidist.UnidistException;
import io.unidist.internal.serial.ValueCodec;
import io.unidist.internal.store.DurableStore;
import io.unidist.internal.store.Recovery;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process node: every primitive lives in this JVM, optionally persisted under a data
 * directory.
 *
 * <p>Layout of the data directory: {@code node.lock} (held while the node runs, so that two
 * processes never share the files), {@code fencing/} (the generation that makes fencing tokens
 * grow across restarts), and one directory per persistent primitive under {@code counters/},
 * {@code state/} and {@code queues/}, named by {@link Names#toFileName}.
 *
 * <p>Fencing tokens: leases are never persisted, but a protected resource may remember the
 * largest token it saw across our restart. Tokens are therefore {@code generation << 40 | n},
 * where the generation is persisted and grows by one at every start.
 */
public final class LocalUnidist implements Unidist {
    private static final Logger log = LoggerFactory.getLogger(LocalUnidist.class);
    private static final int TOKEN_SHIFT = 40;
    static final String COUNTERS = "counters";
    static final String STATE = "state";
    static final String QUEUES = "queues";

    private final String nodeName;
    private final Path dataDir;
    private final TimeSource time;
    private final FileChannel lockChannel;
    private final FileLock dirLock;
    private final AtomicLong tokens;
    private final Subscription timeWakeups;
    private final Map<String, LocalSemaphore> semaphores = new ConcurrentHashMap<>();
    private final Map<String, LocalCounter> counters = new ConcurrentHashMap<>();
    private final Map<String, LocalState<?>> states = new ConcurrentHashMap<>();
    private final Map<String, QueueCore> queues = new ConcurrentHashMap<>();
    private volatile boolean closed;
    /** Runs time-driven work (entry expiry) whose listeners must hear of it on time. */
    private final java.util.concurrent.ScheduledExecutorService timers =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "unidist-timers");
                t.setDaemon(true);
                return t;
            });

    private LocalUnidist(String nodeName, Path dataDir, TimeSource time) {
        this.nodeName = nodeName;
        this.dataDir = dataDir;
        this.time = time;
        if (dataDir == null) {
            lockChannel = null;
            dirLock = null;
            tokens = new AtomicLong();
        } else {
            lockChannel = openLockChannel(dataDir);
            dirLock = lockDataDir(dataDir, lockChannel);
            try {
                tokens = new AtomicLong(nextGeneration() << TOKEN_SHIFT);
                checkStores();
            } catch (RuntimeException e) {
                releaseDirLock();
                throw e;
            }
        }
        timeWakeups = time.onAdvance(this::wakeWaiters);
    }

    /** Starts a node; see {@link Unidist#builder()}. */
    public static Unidist start(String nodeName, Path dataDir, TimeSource time) {
        String name = nodeName == null ? defaultNodeName() : Names.check(nodeName, "node");
        LocalUnidist node = new LocalUnidist(name, dataDir, Objects.requireNonNull(time, "timeSource"));
        log.debug("{}: started{}", name, dataDir == null ? " (nothing persisted)" : " with data in " + dataDir);
        return node;
    }

    @Override
    public String nodeName() {
        return nodeName;
    }

    @Override
    public SharedLock lock(String name) {
        return semaphore(name, 1);
    }

    @Override
    public SharedLock semaphore(String name, int permits) {
        ensureOpen();
        return Opening.semaphore(semaphores, name, permits, n -> new LocalSemaphore(this, n, permits));
    }

    @Override
    public SharedCounter counter(String name) {
        return counter(name, Persistence.snapshot());
    }

    @Override
    public SharedCounter counter(String name, Persistence persistence) {
        Names.check(name, "counter");
        Objects.requireNonNull(persistence, "persistence");
        ensureOpen();
        LocalCounter counter = counters.computeIfAbsent(name, n -> new LocalCounter(this, n, persistence));
        if (!counter.persistence().equals(persistence)) {
            throw new IllegalArgumentException("counter '" + name + "' is open with " + counter.persistence()
                    + ", cannot open it with " + persistence);
        }
        return counter;
    }

    @Override
    public <V> SharedState<V> state(String bucket, Class<V> valueType) {
        return state(bucket, valueType, Persistence.archive());
    }

    @Override
    @SuppressWarnings("unchecked")
    public <V> SharedState<V> state(String bucket, Class<V> valueType, Persistence persistence) {
        Names.check(bucket, "bucket");
        Objects.requireNonNull(valueType, "valueType");
        Objects.requireNonNull(persistence, "persistence");
        ValueCodec.checkStorableType(valueType, "bucket '" + bucket + "'");
        ensureOpen();
        LocalState<?> state = states.computeIfAbsent(bucket, n -> new LocalState<>(this, n, valueType, persistence));
        Opening.sameType("bucket '" + bucket + "'", state.valueType(), valueType, "values");
        if (!state.persistence().equals(persistence)) {
            throw new IllegalArgumentException("bucket '" + bucket + "' is open with " + state.persistence()
                    + ", cannot open it with " + persistence);
        }
        return (SharedState<V>) state;
    }

    @Override
    public <T> MessageQueue<T> queue(String name, Class<T> messageType) {
        return queue(name, messageType, null);
    }

    @Override
    public <T> MessageQueue<T> queue(String name, Class<T> messageType, QueueOptions options) {
        Opening.QueueName parsed = Opening.QueueName.parse(name);
        Objects.requireNonNull(messageType, "messageType");
        ValueCodec.checkStorableType(messageType, "queue '" + name + "'");
        boolean dead = parsed.dead();
        String coreName = parsed.base();
        ensureOpen();
        QueueOptions wanted = options == null ? QueueOptions.defaults() : options;
        QueueCore core = queues.computeIfAbsent(coreName, n -> new QueueCore(this, n, messageType, wanted));
        Opening.sameType("queue '" + name + "'", core.messageType(), messageType, "messages");
        if (options != null && !core.options().equals(options)) {
            throw new IllegalArgumentException("queue '" + coreName + "' is open with " + core.options()
                    + ", cannot open it with " + options
                    + (dead ? "" : " (open a queue with its options before its dead-letter queue)"));
        }
        return core.view(dead, messageType);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        timeWakeups.close();
        timers.shutdownNow();
        List<RuntimeException> failures = new ArrayList<>();
        semaphores.values().forEach(LocalSemaphore::closeNode);
        counters.values().forEach(c -> closeQuietly(c::closeStore, failures));
        states.values().forEach(s -> closeQuietly(s::closeStore, failures));
        queues.values().forEach(q -> closeQuietly(q::closeNode, failures));
        releaseDirLock();
        log.debug("{}: closed", nodeName);
        if (!failures.isEmpty()) {
            UnidistException e = new UnidistException("node '" + nodeName + "' closed, but flushing failed: "
                    + failures.get(0).getMessage(), failures.get(0));
            failures.stream().skip(1).forEach(e::addSuppressed);
            throw e;
        }
    }

    @Override
    public String toString() {
        return "unidist node '" + nodeName + "'" + (dataDir == null ? "" : " (" + dataDir + ")");
    }

    // ----- for the primitives of this package

    TimeSource time() {
        return time;
    }

    long nextFencingToken() {
        return tokens.incrementAndGet();
    }

    boolean isClosed() {
        return closed;
    }

    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("unidist node '" + nodeName + "' is closed");
        }
    }

    /**
     * Opens the store of a primitive: in memory only when the node has no data directory.
     */
    DurableStore openStore(String kind, String name, Persistence persistence, Recovery recovery) {
        if (dataDir == null || persistence.mode() == Persistence.Mode.NONE) {
            return DurableStore.open(Path.of("in-memory"), Persistence.none(), recovery);
        }
        return DurableStore.open(dataDir.resolve(kind).resolve(Names.toFileName(name)), persistence, recovery);
    }

    private void wakeWaiters() {
        semaphores.values().forEach(LocalSemaphore::wakeAll);
        queues.values().forEach(QueueCore::wakeAll);
        timers.execute(() -> states.values().forEach(LocalState::expireNow));
    }

    /** Runs {@code task} after {@code delayMillis} of real time, unless the node closed. */
    void schedule(long delayMillis, Runnable task) {
        try {
            timers.schedule(() -> {
                if (!closed) {
                    task.run();
                }
            }, Math.max(0, delayMillis), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed meanwhile
        }
    }

    private long nextGeneration() {
        long[] last = {0};
        Recovery recovery = new Recovery() {
            @Override
            public void snapshot(byte[] state) {
                last[0] = ByteBuffer.wrap(state).getLong();
            }

            @Override
            public void record(byte[] record) {
                last[0] = ByteBuffer.wrap(record).getLong();
            }
        };
        try (DurableStore store = DurableStore.open(dataDir.resolve("fencing"), Persistence.snapshot(), recovery)) {
            long next = last[0] + 1;
            byte[] bytes = ByteBuffer.allocate(Long.BYTES).putLong(next).array();
            store.write(bytes, () -> bytes);
            return next;
        }
    }

    /**
     * Reads every primitive's files before the node starts, so that a file that cannot be
     * recovered stops the start, named, rather than a later open. The price is reading each
     * store twice, now and when its primitive is opened: what its bytes decode to (the value
     * type, the persistence) is known only then, and keeping the bytes until then would hold the
     * data of primitives that are never opened again in memory.
     */
    private void checkStores() {
        for (String kind : List.of(COUNTERS, STATE, QUEUES)) {
            Path kindDir = dataDir.resolve(kind);
            if (!Files.isDirectory(kindDir)) {
                continue;
            }
            try (DirectoryStream<Path> stores = Files.newDirectoryStream(kindDir, Files::isDirectory)) {
                for (Path store : stores) {
                    DurableStore.check(store);
                }
            } catch (IOException e) {
                throw new UnidistException("cannot list " + kindDir + ": " + e, e);
            }
        }
    }

    private static FileChannel openLockChannel(Path dataDir) {
        try {
            Files.createDirectories(dataDir);
            return FileChannel.open(dataDir.resolve("node.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UnidistException("cannot use data directory " + dataDir + ": " + e, e);
        }
    }

    private static FileLock lockDataDir(Path dataDir, FileChannel channel) {
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            closeChannel(channel);
            throw new UnidistException("cannot lock data directory " + dataDir + ": " + e, e);
        }
        if (lock == null) {
            closeChannel(channel);
            throw new UnidistException("data directory " + dataDir + " is in use by another unidist node (it holds "
                    + dataDir.resolve("node.lock") + ")");
        }
        return lock;
    }

    private void releaseDirLock() {
        if (lockChannel != null) {
            try {
                dirLock.release();
            } catch (IOException e) {
                log.warn("{}: cannot release {}: {}", nodeName, dataDir.resolve("node.lock"), e.toString());
            }
            closeChannel(lockChannel);
        }
    }

    private static void closeChannel(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a lock file: nothing is lost if it fails
        }
    }

    private static void closeQuietly(Runnable close, List<RuntimeException> failures) {
        try {
            close.run();
        } catch (RuntimeException e) {
            failures.add(e);
        }
    }

    private static String defaultNodeName() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = Files.readString(Path.of("/etc/hostname")).trim();
            } catch (IOException | RuntimeException e) {
                host = "localhost";
            }
        }
        if (host.isBlank()) {
            host = "localhost";
        }
        return host + "-" + ProcessHandle.current().pid();
    }
}
