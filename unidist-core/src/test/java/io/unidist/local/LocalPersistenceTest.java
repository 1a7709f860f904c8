package io.unidist.local;

import static io.unidist.contract.Checks.assertMentions;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.Delivery;
import io.unidist.FsyncPolicy;
import io.unidist.LockLease;
import io.unidist.MessageQueue;
import io.unidist.Persistence;
import io.unidist.QueueOptions;
import io.unidist.SharedCounter;
import io.unidist.SharedState;
import io.unidist.Unidist;
import io.unidist.UnidistException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an in-process node keeps across a restart, and what it must not keep. */
class LocalPersistenceTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    @Test
    void countersSurviveARestartInEveryPersistentMode() {
        Persistence[] modes = {Persistence.snapshot(), Persistence.archive().withSnapshotEvery(3),
                Persistence.snapshot().withSnapshotEvery(1).withFsync(io.unidist.FsyncPolicy.never())};
        try (Unidist node = Unidist.local(dir)) {
            for (int m = 0; m < modes.length; m++) {
                for (int i = 0; i < 10; i++) {
                    node.counter("c" + m, modes[m]).incrementAndGet();
                }
            }
            node.counter("plain").addAndGet(42);
        }
        try (Unidist node = Unidist.local(dir)) {
            for (int m = 0; m < modes.length; m++) {
                assertEquals(10, node.counter("c" + m, modes[m]).get(), "mode " + modes[m]);
            }
            assertEquals(42, node.counter("plain").get());
            assertEquals(43, node.counter("plain").incrementAndGet());
        }
    }

    @Test
    void stateSurvivesARestartAcrossSnapshotsAndJournal() {
        Persistence p = Persistence.archive().withSnapshotEvery(7);
        try (Unidist node = Unidist.local(dir)) {
            SharedState<Long> s = node.state("hosts", Long.class, p);
            for (long i = 0; i < 50; i++) {
                s.put("k" + (i % 13), i);
            }
            s.remove("k0");
            assertTrue(s.putIfAbsent("k0", -1L));
            assertTrue(s.replace("k1", 40L, -40L));
        }
        try (Unidist node = Unidist.local(dir)) {
            Map<String, Long> snap = node.state("hosts", Long.class, p).snapshot();
            assertEquals(13, snap.size());
            assertEquals(-1L, snap.get("k0"));
            assertEquals(-40L, snap.get("k1"));
            assertEquals(49L, snap.get("k10"));
        }
    }

    @Test
    void noneModeKeepsNothingEvenWithADataDirectory() {
        try (Unidist node = Unidist.local(dir)) {
            node.state("tmp", String.class, Persistence.none()).put("a", "b");
            node.counter("tmp", Persistence.none()).incrementAndGet();
        }
        try (Unidist node = Unidist.local(dir)) {
            assertTrue(node.state("tmp", String.class, Persistence.none()).keys().isEmpty());
            assertEquals(0, node.counter("tmp", Persistence.none()).get());
        }
    }

    /**
     * Proves that a bucket in snapshot mode keeps every kind of write across a restart, through
     * snapshots alone (no journal), including the changes since the last snapshot, which close
     * saves.
     */
    @Test
    void stateInSnapshotModeSurvivesARestart() throws IOException {
        Persistence everyThree = Persistence.snapshot().withSnapshotEvery(3);
        try (Unidist node = Unidist.local(dir)) {
            SharedState<String> s = node.state("config", String.class, everyThree);
            for (int i = 0; i < 8; i++) {
                s.put("k" + (i % 3), "v" + i);
            }
            assertTrue(s.remove("k0"));
            assertTrue(s.replace("k1", "v7", "replaced"));
            assertTrue(s.putIfAbsent("new", "x"));
        }
        assertEquals(List.of(), fileNames(dir.resolve("state").resolve("config"), ".log"), "snapshot mode writes no journal");
        try (Unidist node = Unidist.local(dir)) {
            assertEquals(Map.of("k1", "replaced", "k2", "v5", "new", "x"),
                    node.state("config", String.class, everyThree).snapshot());
        }
    }

    /** Proves that a queue with persistence none keeps no message across a restart, and writes no file, even with a data directory. */
    @Test
    void aQueueWithoutPersistenceKeepsNothing() throws Exception {
        QueueOptions none = QueueOptions.defaults().withPersistence(Persistence.none());
        try (Unidist node = Unidist.local(dir)) {
            MessageQueue<String> q = node.queue("scratch", String.class, none);
            q.offer("a");
            q.offer("b");
            q.poll(WAIT).orElseThrow(); // in flight, never acknowledged
            assertEquals(2, q.size());
        }
        assertFalse(Files.exists(dir.resolve("queues").resolve("scratch")));
        try (Unidist node = Unidist.local(dir)) {
            MessageQueue<String> q = node.queue("scratch", String.class, none);
            assertEquals(0, q.size());
            assertEquals(Optional.empty(), q.poll(Duration.ZERO));
        }
    }

    /**
     * Proves that a queue in snapshot mode keeps its messages, acknowledgements, attempts and
     * delays across a restart, through snapshots alone.
     */
    @Test
    void aQueueInSnapshotModeSurvivesARestart() throws Exception {
        QueueOptions snapshots = QueueOptions.defaults().withPersistence(Persistence.snapshot());
        try (Unidist node = Unidist.local(dir)) {
            MessageQueue<String> q = node.queue("mail", String.class, snapshots);
            q.offer("m0");
            q.offer("m1");
            q.offer("m2");
            q.offer("later", Duration.ofHours(1));
            q.poll(WAIT).orElseThrow().ack();
            assertEquals("m1", q.poll(WAIT).orElseThrow().message()); // never acknowledged
        }
        assertEquals(List.of(), fileNames(dir.resolve("queues").resolve("mail"), ".log"), "snapshot mode writes no journal");
        try (Unidist node = Unidist.local(dir)) {
            MessageQueue<String> q = node.queue("mail", String.class, snapshots);
            assertEquals(3, q.size());
            Delivery<String> again = q.poll(WAIT).orElseThrow();
            assertEquals("m1", again.message());
            assertEquals(2, again.attempt());
            again.ack();
            q.poll(WAIT).orElseThrow().ack();
            assertEquals(Optional.empty(), q.poll(Duration.ZERO), "the delayed message keeps its delay");
            assertEquals(1, q.size());
        }
    }

    /** Proves that a periodic fsync policy keeps everything that returned across a close and a restart, in every mode. */
    @Test
    void aPeriodicFsyncPolicyKeepsEverythingAcrossARestart() throws Exception {
        FsyncPolicy every = FsyncPolicy.every(Duration.ofMillis(20));
        Persistence snapshot = Persistence.snapshot().withFsync(every);
        Persistence archive = Persistence.archive().withSnapshotEvery(4).withFsync(every);
        QueueOptions queueOptions = QueueOptions.defaults().withPersistence(archive);
        try (Unidist node = Unidist.local(dir)) {
            SharedCounter counter = node.counter("ids", snapshot);
            SharedState<Long> state = node.state("seen", Long.class, archive);
            MessageQueue<String> queue = node.queue("out", String.class, queueOptions);
            for (long i = 1; i <= 10; i++) {
                counter.incrementAndGet();
                state.put("k" + (i % 3), i);
                queue.offer("m" + i);
            }
        }
        try (Unidist node = Unidist.local(dir)) {
            assertEquals(10, node.counter("ids", snapshot).get());
            assertEquals(Map.of("k0", 9L, "k1", 10L, "k2", 8L), node.state("seen", Long.class, archive).snapshot());
            MessageQueue<String> queue = node.queue("out", String.class, queueOptions);
            assertEquals(10, queue.size());
            assertEquals("m1", queue.poll(WAIT).orElseThrow().message());
        }
    }

    private static List<String> fileNames(Path store, String suffix) throws IOException {
        try (Stream<Path> files = Files.list(store)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(suffix)).sorted().toList();
        }
    }

    @Test
    void queuesKeepMessagesAndRedeliverWhatWasUnacknowledged() throws Exception {
        try (Unidist node = Unidist.local(dir)) {
            MessageQueue<String> q = node.queue("work", String.class);
            for (int i = 0; i < 5; i++) {
                q.offer("m" + i);
            }
            q.poll(WAIT).orElseThrow().ack();           // m0 done
            Delivery<String> inFlight = q.poll(WAIT).orElseThrow(); // m1 delivered, never acknowledged
            assertEquals("m1", inFlight.message());
            q.offer("delayed", Duration.ofHours(1));
        }
        try (Unidist node = Unidist.local(dir)) {
            MessageQueue<String> q = node.queue("work", String.class);
            assertEquals(5, q.size());
            Delivery<String> again = q.poll(WAIT).orElseThrow();
            assertEquals("m1", again.message(), "an unacknowledged delivery is deliverable again at once, in order");
            assertEquals(2, again.attempt(), "attempts survive a restart");
            again.ack();
            for (int i = 2; i < 5; i++) {
                Delivery<String> d = q.poll(WAIT).orElseThrow();
                assertEquals("m" + i, d.message());
                d.ack();
            }
            assertEquals(Optional.empty(), q.poll(Duration.ZERO), "the delayed message keeps its delay");
            assertEquals(1, q.size());
        }
    }

    @Test
    void aPoisonMessageThatKillsItsConsumerReachesTheDeadLetterQueue() throws Exception {
        QueueOptions opts = QueueOptions.defaults().withMaxAttempts(3).withPersistence(Persistence.archive().withSnapshotEvery(4));
        try (Unidist node = Unidist.local(dir)) {
            node.queue("jobs", String.class, opts).offer("poison");
        }
        for (int attempt = 1; attempt <= 3; attempt++) {
            try (Unidist node = Unidist.local(dir)) {
                Delivery<String> d = node.queue("jobs", String.class, opts).poll(WAIT).orElseThrow();
                assertEquals(attempt, d.attempt());
                // the consumer "crashes": the node stops without an acknowledgement
            }
        }
        try (Unidist node = Unidist.local(dir)) {
            assertEquals(0, node.queue("jobs", String.class, opts).size());
            MessageQueue<String> dead = node.queue("jobs.dead", String.class);
            assertEquals(1, dead.size());
            assertEquals("poison", dead.poll(WAIT).orElseThrow().message());
        }
    }

    @Test
    void locksAreNeverRestoredButFencingTokensKeepGrowing() throws Exception {
        long before;
        try (Unidist node = Unidist.local(dir)) {
            LockLease lease = node.lock("migration").acquire(WAIT);
            before = lease.fencingToken();
            // the node stops while the lease is held
        }
        try (Unidist node = Unidist.local(dir)) {
            assertTrue(node.lock("migration").holders().isEmpty());
            try (LockLease lease = node.lock("migration").tryAcquire().orElseThrow()) {
                assertTrue(lease.fencingToken() > before, lease.fencingToken() + " must exceed " + before);
            }
        }
    }

    @Test
    void closingTheNodeInvalidatesLeasesAndRefusesCalls() throws Exception {
        Unidist node = Unidist.local(dir);
        LockLease lease = node.lock("l").acquire(WAIT);
        SharedState<String> s = node.state("b", String.class);
        node.close();
        node.close();
        assertEquals(false, lease.isValid());
        assertMentions(assertThrows(IllegalStateException.class, () -> s.put("a", "b")), "closed");
        assertMentions(assertThrows(IllegalStateException.class, () -> node.counter("c")), "closed");
    }

    @Test
    void aDataDirectoryServesOneNodeAtATime() {
        try (Unidist node = Unidist.local(dir)) {
            UnidistException e = assertThrows(UnidistException.class, () -> Unidist.local(dir));
            assertMentions(e, dir.toString(), "in use");
            node.counter("still-works").incrementAndGet();
        }
        try (Unidist again = Unidist.local(dir)) {
            assertEquals(1, again.counter("still-works").get());
        }
    }
}
