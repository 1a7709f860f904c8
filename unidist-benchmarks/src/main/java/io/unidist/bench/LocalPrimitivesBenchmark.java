package io.unidist.bench;

import io.unidist.Delivery;
import io.unidist.FsyncPolicy;
import io.unidist.LockLease;
import io.unidist.MessageQueue;
import io.unidist.Persistence;
import io.unidist.QueueOptions;
import io.unidist.SharedCounter;
import io.unidist.SharedLock;
import io.unidist.SharedState;
import io.unidist.Unidist;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Throughput of the in-process primitives, by persistence: {@code none} (memory only),
 * {@code fsync10ms} (journal or snapshot written on every change, forced every 10 ms) and
 * {@code fsyncEveryWrite} (forced before every call returns, the default).
 *
 * <p>Run: {@code java -jar unidist-benchmarks/target/benchmarks.jar LocalPrimitivesBenchmark -f 1 -wi 2 -i 3 -w 2s -r 3s -t 1}
 * (and {@code -t 2} for two threads).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class LocalPrimitivesBenchmark {
    @Param({"none", "fsync10ms", "fsyncEveryWrite"})
    public String persistence;

    private Path dir;
    private Unidist node;
    private SharedCounter counter;
    private SharedState<Long> state;
    private MessageQueue<Long> queue;
    private SharedLock lock;

    @Setup(Level.Trial)
    public void start() throws IOException {
        dir = Files.createTempDirectory("unidist-bench");
        node = Unidist.local(dir);
        Persistence snapshot = persistenceFor(Persistence.snapshot());
        Persistence archive = persistenceFor(Persistence.archive());
        counter = node.counter("ids", snapshot);
        state = node.state("bucket", Long.class, archive);
        queue = node.queue("work", Long.class, QueueOptions.defaults().withPersistence(archive));
        lock = node.semaphore("lock", 2);
    }

    private Persistence persistenceFor(Persistence base) {
        return switch (persistence) {
            case "none" -> Persistence.none();
            case "fsync10ms" -> base.withFsync(FsyncPolicy.every(Duration.ofMillis(10)));
            case "fsyncEveryWrite" -> base;
            default -> throw new IllegalArgumentException("unknown persistence " + persistence);
        };
    }

    @TearDown(Level.Trial)
    public void stop() throws IOException {
        node.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** One counter increment (snapshot persistence: the whole value written per change). */
    @Benchmark
    public long counterIncrement() {
        return counter.incrementAndGet();
    }

    /** One state put (archive persistence: one journal record per change). */
    @Benchmark
    public long statePut() {
        long v = counter.get();
        state.put("k" + (v & 1023), v);
        return v;
    }

    /** One acquire and release of a semaphore of two permits (never persisted). */
    @Benchmark
    public long lockAcquireRelease() throws Exception {
        try (LockLease lease = lock.acquire(Duration.ofSeconds(10))) {
            return lease.fencingToken();
        }
    }

    /** One message offered, polled and acknowledged (three journal records). */
    @Benchmark
    public long queueOfferPollAck() throws InterruptedException {
        queue.offer(42L);
        Delivery<Long> d = queue.poll(Duration.ofSeconds(10)).orElseThrow();
        d.ack();
        return d.message();
    }
}
