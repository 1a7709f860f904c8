package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.SharedCounter;
import io.unidist.Unidist;
import io.unidist.contract.CounterContract;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The counter contract against a cluster of 3 voters and 2 non-voters in one JVM: the node under
 * test is a non-voter, its peer a voter, so every call crosses the cluster.
 */
class ClusterCounterContractTest extends CounterContract {
    @RegisterExtension
    static final ClusterExtension CLUSTER = new ClusterExtension(3, 2);

    @Override
    protected Unidist node() {
        return CLUSTER.node("n1");
    }

    @Override
    protected Unidist peer() {
        return CLUSTER.node("v2");
    }

    /**
     * Group commit: increments made at once by 16 threads of one node travel to the leader
     * several to a message and enter the log several to an entry, and each is still applied
     * exactly once (1,600 calls, 1,600 distinct consecutive values).
     */
    @Test
    void concurrentCallsShareMessagesAndLogEntriesAndEachIsAppliedOnce() throws Exception {
        ClusterNode client = CLUSTER.node("n1");
        SharedCounter counter = client.counter("group-commit");
        long[] sentBefore = client.client().sent();
        long indexBefore = CLUSTER.node("v1").server().raft().lastAppended();
        int threads = 16;
        int perThread = 100;
        Set<Long> values = ConcurrentHashMap.newKeySet();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> calls = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                calls.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        values.add(counter.incrementAndGet());
                    }
                    return null;
                }));
            }
            for (Future<?> f : calls) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        int total = threads * perThread;
        assertEquals(total, values.size(), "every increment returned a value of its own");
        long min = values.stream().mapToLong(Long::longValue).min().orElseThrow();
        long max = values.stream().mapToLong(Long::longValue).max().orElseThrow();
        assertEquals(total - 1, max - min, "the values are consecutive: none applied twice, none lost");
        long[] sentAfter = client.client().sent();
        long messages = sentAfter[0] - sentBefore[0];
        long requests = sentAfter[1] - sentBefore[1];
        assertTrue(requests >= total, requests + " requests for " + total + " calls");
        assertTrue(messages * 4 < requests * 3, messages + " messages carried " + requests + " requests: too few shared one");
        long entries = CLUSTER.node("v1").server().raft().lastAppended() - indexBefore;
        assertTrue(entries * 4 < total * 3, total + " increments took " + entries + " log entries: too few shared one");
    }
}
