package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.unidist.SharedCounter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every node of a 3-voter, 2-non-voter cluster increments one counter from several threads at
 * once: the voters through their own node, the non-voters as clients. Each value is handed out
 * exactly once, the history is linearizable, and every node reads the final total.
 */
class ClusterEveryNodeTest {
    private static final int THREADS_PER_NODE = 3;
    private static final int INCREMENTS_PER_THREAD = 40;

    @TempDir
    Path dir;
    private TestCluster cluster;
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        pool.shutdownNow();
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void concurrentIncrementsFromEveryNodeHandOutEachValueOnceAndEveryNodeReadsTheTotal() throws Exception {
        cluster = TestCluster.start(dir, 3, 2);
        CounterHistory history = new CounterHistory();
        List<Future<List<Long>>> workers = new ArrayList<>();
        for (ClusterNode node : cluster.running()) {
            SharedCounter c = node.counter("ids");
            for (int t = 0; t < THREADS_PER_NODE; t++) {
                workers.add(pool.submit(() -> incrementAndRead(c, history)));
            }
        }
        List<Long> values = new ArrayList<>();
        for (Future<List<Long>> w : workers) {
            values.addAll(w.get(60, TimeUnit.SECONDS));
        }
        long total = 5L * THREADS_PER_NODE * INCREMENTS_PER_THREAD;
        values.sort(null);
        // no value twice, none skipped: exactly 1..total
        assertEquals(LongStream.rangeClosed(1, total).boxed().toList(), values);
        assertNull(history.check(), "history not linearizable");
        for (ClusterNode n : cluster.running()) {
            assertEquals(total, n.counter("ids").get(), "node " + n.nodeName() + " reads another value");
        }
    }

    /** Increments {@link #INCREMENTS_PER_THREAD} times, reading the counter after every fifth, and records all. */
    private static List<Long> incrementAndRead(SharedCounter c, CounterHistory history) {
        List<Long> mine = new ArrayList<>();
        for (int i = 1; i <= INCREMENTS_PER_THREAD; i++) {
            long start = System.nanoTime();
            long v = c.incrementAndGet();
            history.increment(start, System.nanoTime(), v);
            mine.add(v);
            if (i % 5 == 0) {
                long rs = System.nanoTime();
                long read = c.get();
                history.read(rs, System.nanoTime(), read);
            }
        }
        return mine;
    }
}
