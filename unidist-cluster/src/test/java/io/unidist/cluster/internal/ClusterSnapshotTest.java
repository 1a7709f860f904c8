package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.Delivery;
import io.unidist.MessageQueue;
import io.unidist.SharedState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.jgroups.protocols.raft.RAFT;
import org.jgroups.util.ByteArrayDataOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots in a running cluster: taken in the background by every voter, used by a voter
 * that restarts, sent by the leader to a voter that lost its data, and used by a whole
 * cluster that restarts; nothing that was acknowledged is lost on the way.
 */
@Tag("faults")
class ClusterSnapshotTest {
    private static final String PAD = "x".repeat(100);
    private static final int WRITES = 400;

    @TempDir
    Path dir;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private void start() {
        // a tiny threshold: the writes below pass it many times over
        cluster = TestCluster.start(dir, 3, 1, Duration.ofSeconds(10), b -> b.raftLogMaxBytes(4 * 1024));
    }

    private void write(int from, int to) {
        SharedState<String> s = cluster.node("n1").state("s", String.class);
        MessageQueue<String> q = cluster.node("n1").queue("q", String.class);
        for (int i = from; i < to; i++) {
            s.put("k" + i, "v" + i + PAD);
            q.offer("m" + i + PAD);
        }
    }

    private void assertEverythingThere(int count) throws Exception {
        SharedState<String> s = cluster.node("n1").state("s", String.class);
        assertEquals(count, s.keys().size());
        for (int i = 0; i < count; i += 37) {
            assertEquals(Optional.of("v" + i + PAD), s.get("k" + i));
        }
        MessageQueue<String> q = cluster.node("n1").queue("q", String.class);
        Set<String> polled = new HashSet<>();
        Optional<Delivery<String>> d;
        while ((d = q.poll(Duration.ZERO)).isPresent()) {
            polled.add(d.get().message());
            d.get().ack();
        }
        assertEquals(count, polled.size());
        for (int i = 0; i < count; i++) {
            assertTrue(polled.contains("m" + i + PAD), "message " + i);
        }
    }

    /** The voter's RAFT, which is unidist's (for its snapshot figures). */
    static UnidistRaft raft(ClusterNode voter) {
        RAFT raft = voter.server().raft();
        return assertInstanceOf(UnidistRaft.class, raft, "voters run unidist's RAFT");
    }

    private static byte[] content(ClusterNode voter) throws Exception {
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream();
        voter.server().stateMachine().writeContentTo(out);
        return Arrays.copyOf(out.buffer(), out.position());
    }

    private String aFollower() {
        String leader = cluster.awaitLeader();
        return cluster.voters().stream().filter(v -> !v.equals(leader)).findFirst().orElseThrow();
    }

    private void awaitSameState(String voter) {
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            String leader = cluster.awaitLeader();
            return Arrays.equals(content(cluster.node(leader)), content(cluster.node(voter)));
        });
    }

    @Test
    void everyVoterSnapshotsAndTruncatesItsLogAndARestartedVoterStartsFromItsSnapshot() throws Exception {
        start();
        write(0, WRITES);
        for (String v : cluster.voters()) {
            UnidistRaft raft = raft(cluster.node(v));
            await().atMost(Duration.ofSeconds(30)).until(() -> raft.numSnapshots() > 0 && raft.log().firstAppended() > 0);
            UnidistRaft.SnapshotStats stats = raft.snapshotStats();
            assertTrue(stats.written() > 0 && stats.lastIndex() > 0 && stats.lastBytes() > 0, stats.toString());
            assertTrue(stats.freeze().count() >= stats.written() && stats.freeze().maxNanos() > 0, stats.toString());
            assertTrue(stats.write().count() >= stats.written() && stats.write().maxNanos() > 0, stats.toString());
            assertEquals(-1, stats.loadNanos(), "nothing to load at the first start");
        }
        String follower = aFollower();
        long snapshotIndex = ((UnidistRaftLog) ((org.jgroups.raft.util.LogCache) raft(cluster.node(follower)).log()).log())
                .snapshotInfo().index();
        assertTrue(snapshotIndex > 0);
        cluster.crash(follower);
        write(WRITES, WRITES + 50);
        cluster.startNode(follower);
        UnidistRaft restarted = raft(cluster.node(follower));
        assertTrue(restarted.snapshotStats().loadNanos() > 0, "loaded from its snapshot");
        UnidistRaftLog restartedLog = (UnidistRaftLog) ((org.jgroups.raft.util.LogCache) restarted.log()).log();
        // the log threshold follows the loaded snapshot, so the first writes do not rewrite the whole state
        assertEquals(Math.max(4 * 1024, 2 * restartedLog.snapshotInfo().bytes()), restarted.maxLogSize());
        awaitSameState(follower);
        assertEquals(0, restarted.snapshotStats().written(), "catching up 50 writes took no snapshot");
        assertEverythingThere(WRITES + 50);
    }

    @Test
    void aVoterThatLostItsDataIsSentTheLeadersSnapshot() throws Exception {
        start();
        write(0, WRITES);
        String follower = aFollower();
        cluster.crash(follower);
        deleteTree(dir.resolve(follower).resolve("raft"));
        write(WRITES, WRITES + 50);
        String leader = cluster.awaitLeader();
        await().atMost(Duration.ofSeconds(30)).until(() -> raft(cluster.node(leader)).log().firstAppended() > 1);
        cluster.startNode(follower);
        awaitSameState(follower);
        assertTrue(cluster.voters().stream().mapToLong(v -> raft(cluster.node(v)).snapshotStats().synchronous())
                .sum() > 0, "the leader took a snapshot on its own thread to send it");
        assertEverythingThere(WRITES + 50);
    }

    @Test
    void aWholeClusterRestartsFromItsSnapshotsAndLogs() throws Exception {
        start();
        write(0, WRITES);
        for (String v : cluster.voters()) {
            UnidistRaft raft = raft(cluster.node(v));
            await().atMost(Duration.ofSeconds(30)).until(() -> raft.numSnapshots() > 0);
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
            assertTrue(raft(cluster.node(v)).snapshotStats().loadNanos() > 0, v + " loaded from its snapshot");
        }
        assertEverythingThere(WRITES);
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
