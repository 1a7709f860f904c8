package io.unidist.cluster.internal;

import static io.unidist.cluster.internal.ClusterSnapshotTest.raft;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Counters through Raft snapshots: with a tiny log threshold every voter snapshots many times;
 * then each voter in turn restarts from its snapshot and log, and then the whole cluster does.
 * Every node reads each counter's last value after each step, and the increments that follow
 * go on from it: over the whole run each counter hands out exactly 1..N, in order, no value
 * twice.
 */
@Tag("faults")
class ClusterCounterSnapshotTest {
    private static final List<String> COUNTERS = List.of("a", "b", "c");

    @TempDir
    Path dir;
    private TestCluster cluster;
    /** Every value each counter returned, in the order returned (increments are sequential). */
    private final Map<String, List<Long>> returned = new LinkedHashMap<>();

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void countersKeepTheirValuesAndContinueThroughSnapshotsAndRestarts() throws Exception {
        // a tiny threshold: a few dozen increments pass it
        cluster = TestCluster.start(dir, 3, 1, Duration.ofSeconds(10), b -> b.raftLogMaxBytes(1024));
        COUNTERS.forEach(c -> returned.put(c, new ArrayList<>()));
        increment(300);
        for (String v : cluster.voters()) {
            UnidistRaft raft = raft(cluster.node(v));
            await().atMost(Duration.ofSeconds(30)).until(() -> raft.numSnapshots() > 1 && raft.log().firstAppended() > 0);
        }

        for (String v : cluster.voters()) { // a rolling restart, increments in between
            cluster.crash(v);
            increment(30);
            cluster.startNode(v);
            assertTrue(raft(cluster.node(v)).snapshotStats().loadNanos() > 0, v + " started from its snapshot");
            cluster.awaitReplicasAgree(Duration.ofSeconds(30));
            assertEveryNodeReadsTheLastValues();
            increment(30);
        }

        for (String v : cluster.voters()) {
            cluster.crash(v);
        }
        cluster.crash("n1");
        for (String v : cluster.voters()) {
            cluster.startNode(v);
        }
        cluster.startNode("n1");
        cluster.awaitLeader();
        for (String v : cluster.voters()) {
            assertTrue(raft(cluster.node(v)).snapshotStats().loadNanos() > 0, v + " started from its snapshot");
        }
        assertEveryNodeReadsTheLastValues();
        increment(30);

        for (String c : COUNTERS) {
            List<Long> values = returned.get(c);
            assertEquals(LongStream.rangeClosed(1, values.size()).boxed().toList(), values,
                    "counter " + c + " repeated, skipped or reordered a value");
        }
    }

    /** {@code count} increments spread over the counters, each from the next running node in turn. */
    private void increment(int count) {
        List<ClusterNode> nodes = new ArrayList<>(cluster.running());
        for (int i = 0; i < count; i++) {
            String c = COUNTERS.get(i % COUNTERS.size());
            returned.get(c).add(nodes.get(i % nodes.size()).counter(c).incrementAndGet());
        }
    }

    private void assertEveryNodeReadsTheLastValues() {
        for (String c : COUNTERS) {
            List<Long> values = returned.get(c);
            long last = values.get(values.size() - 1);
            for (ClusterNode n : cluster.running()) {
                assertEquals(last, n.counter(c).get(), "counter " + c + " on " + n.nodeName());
            }
        }
    }
}
