package io.unidist.internal.store;

import static io.unidist.internal.store.SumCounter.sumOf;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.FsyncPolicy;
import io.unidist.Persistence;
import io.unidist.UnidistException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Round trips in every mode and fsync policy, and the store's housekeeping. */
class DurableStoreTest {
    @RegisterExtension
    final LogCapture logs = new LogCapture();

    @TempDir
    Path dir;

    static Stream<FsyncPolicy> fsyncPolicies() {
        return Stream.of(FsyncPolicy.everyWrite(), FsyncPolicy.every(Duration.ofMillis(10)), FsyncPolicy.never());
    }

    /** Proves that an archive recovers the last snapshot then exactly the records after it, across two restarts. */
    @ParameterizedTest
    @MethodSource("fsyncPolicies")
    void archiveRecoversTheLastSnapshotThenTheRecordsAfterIt(FsyncPolicy fsync) {
        Persistence persistence = Persistence.archive().withSnapshotEvery(7).withFsync(fsync);
        try (SumCounter counter = new SumCounter(dir, persistence)) {
            counter.addAll(1, 50); // snapshots after records 7, 14, ..., 49: snapshot-2 ... snapshot-8
        }
        try (SumCounter counter = new SumCounter(dir, persistence)) {
            assertEquals(sumOf(1, 49), counter.machine.snapshotSeen);
            assertEquals(List.of(50L), counter.machine.recordsSeen);
            assertEquals(sumOf(1, 50), counter.sum());
            assertEquals("journal-7.log journal-8.log snapshot-7.snap snapshot-8.snap", StoreFiles.names(dir),
                    "two snapshots and the journal from the older one on");
            counter.addAll(51, 60); // 50 + 51..56 reach 7 records: snapshot-9 after 56
        }
        try (SumCounter counter = new SumCounter(dir, persistence)) {
            assertEquals(sumOf(1, 56), counter.machine.snapshotSeen);
            assertEquals(List.of(57L, 58L, 59L, 60L), counter.machine.recordsSeen);
            assertEquals(sumOf(1, 60), counter.sum());
        }
        assertEquals(List.of(), logs.warnings());
    }

    /** Proves that an archive without any snapshot yet replays the whole journal. */
    @Test
    void archiveWithoutSnapshotReplaysTheWholeJournal() {
        Persistence persistence = Persistence.archive();
        try (SumCounter counter = new SumCounter(dir, persistence)) {
            counter.addAll(1, 20);
        }
        try (SumCounter counter = new SumCounter(dir, persistence)) {
            assertNull(counter.machine.snapshotSeen);
            assertEquals(LongStream.rangeClosed(1, 20).boxed().toList(), counter.machine.recordsSeen);
            assertTrue(counter.store.hasUnsnapshottedChanges());
        }
    }

    /** Proves that snapshot mode with a snapshot per change keeps every change, and no journal. */
    @Test
    void snapshotModeEveryChange() {
        Persistence persistence = Persistence.snapshot();
        try (SumCounter counter = new SumCounter(dir, persistence)) {
            counter.addAll(1, 10);
            assertFalse(counter.store.hasUnsnapshottedChanges());
        }
        assertEquals("snapshot-10.snap snapshot-9.snap", StoreFiles.names(dir));
        try (SumCounter counter = new SumCounter(dir, persistence)) {
            assertEquals(sumOf(1, 10), counter.machine.snapshotSeen);
            assertEquals(List.of(), counter.machine.recordsSeen);
        }
    }

    /**
     * Proves that snapshot mode every 3 changes writes on the third, that the changes between are
     * only kept by a snapshot on close, and that they are lost without it (as documented).
     */
    @Test
    void snapshotModeEveryThreeChanges() {
        Persistence persistence = Persistence.snapshot().withSnapshotEvery(3);
        SumCounter crashing = new SumCounter(dir, persistence);
        crashing.addAll(1, 10); // snapshots after 3, 6, 9
        assertTrue(crashing.store.hasUnsnapshottedChanges());
        crashing.store.close(); // no last snapshot: change 10 is not kept
        try (SumCounter counter = new SumCounter(dir, persistence)) {
            assertEquals(sumOf(1, 9), counter.sum());
            counter.add(10);
            assertTrue(counter.store.hasUnsnapshottedChanges());
        } // closes with a last snapshot
        try (SumCounter counter = new SumCounter(dir, persistence)) {
            assertEquals(sumOf(1, 10), counter.sum());
            assertFalse(counter.store.hasUnsnapshottedChanges());
        }
    }

    /** Proves that NONE touches no file, not even the directory, and never calls the recovery. */
    @Test
    void noneWritesNothing() {
        Path none = dir.resolve("none");
        try (SumCounter counter = new SumCounter(none, Persistence.none())) {
            counter.addAll(1, 5);
            counter.store.snapshot(SumMachine.encode(counter.sum()));
        }
        assertFalse(Files.exists(none));
        try (SumCounter counter = new SumCounter(none, Persistence.none())) {
            assertNull(counter.machine.snapshotSeen);
            assertEquals(List.of(), counter.machine.recordsSeen);
        }
    }

    /** Proves that everyWrite forces each append before write returns, and never forces nothing. */
    @Test
    void everyWriteForcesEachAppendAndNeverForcesNothing() {
        FaultyIo io = new FaultyIo();
        int before = io.forcesOf("journal-");
        Path everyWrite = dir.resolve("every-write");
        try (SumCounter counter = new SumCounter(everyWrite, Persistence.archive(), io)) {
            int opened = io.forcesOf("journal-");
            counter.addAll(1, 3);
            assertEquals(opened + 3, io.forcesOf("journal-"));
        }
        assertTrue(io.forcesOf("journal-") > before);

        FaultyIo neverIo = new FaultyIo();
        Persistence never = Persistence.archive().withSnapshotEvery(2).withFsync(FsyncPolicy.never());
        try (SumCounter counter = new SumCounter(dir.resolve("never"), never, neverIo)) {
            counter.addAll(1, 5);
        }
        assertEquals(0, neverIo.forcesOf(""));
    }

    /** Proves that a periodic policy forces appended records from the background thread. */
    @Test
    void periodicFsyncForcesInTheBackground() {
        FaultyIo io = new FaultyIo();
        Persistence persistence = Persistence.archive().withFsync(FsyncPolicy.every(Duration.ofMillis(20)));
        try (SumCounter counter = new SumCounter(dir, persistence, io)) {
            int before = io.forcesOf("journal-");
            counter.addAll(1, 3);
            await().atMost(Duration.ofSeconds(5)).until(() -> io.forcesOf("journal-") > before);
        }
    }

    /**
     * Proves that the background fsync and segment switches (a snapshot every 3 records, forced
     * every millisecond) do not trip over each other: no error logged, nothing lost.
     */
    @Test
    void backgroundFsyncAndSegmentSwitchesRunSafelyTogether() {
        Persistence persistence = Persistence.archive().withSnapshotEvery(3).withFsync(FsyncPolicy.every(Duration.ofMillis(1)));
        try (SumCounter counter = new SumCounter(dir, persistence)) {
            counter.addAll(1, 300);
        }
        try (SumCounter counter = new SumCounter(dir, persistence)) {
            assertEquals(sumOf(1, 300), counter.sum());
        }
        assertEquals(List.of(), logs.warnings());
        assertEquals(List.of(), logs.errors());
    }

    /** Proves that with a long interval nothing is forced by write, and close forces what is pending. */
    @Test
    void closeForcesWhatThePeriodicPolicyHasNotYet() {
        FaultyIo io = new FaultyIo();
        Persistence persistence = Persistence.archive().withFsync(FsyncPolicy.every(Duration.ofHours(1)));
        SumCounter counter = new SumCounter(dir, persistence, io);
        int before = io.forcesOf("journal-");
        counter.addAll(1, 3);
        assertEquals(before, io.forcesOf("journal-"));
        counter.close();
        assertEquals(before + 1, io.forcesOf("journal-"));
    }

    /**
     * Proves that snapshot mode with a periodic policy forces no snapshot on write (the bytes are
     * renamed into place, so a killed process loses nothing), keeps only the newest of the
     * unforced snapshots, and forces that one on close.
     */
    @Test
    void snapshotModeWithAPeriodicPolicyForcesOnCloseNotOnWrite() {
        FaultyIo io = new FaultyIo();
        Persistence persistence = Persistence.snapshot().withFsync(FsyncPolicy.every(Duration.ofHours(1)));
        SumCounter counter = new SumCounter(dir, persistence, io);
        counter.addAll(1, 5);
        assertEquals(0, io.forcesOf("snapshot-"));
        assertEquals("snapshot-5.snap", StoreFiles.names(dir));
        counter.close();
        assertEquals(1, io.forcesOf("snapshot-5.snap"));
        assertEquals(1, io.forcesOf("snapshot-"));
        try (SumCounter reopened = new SumCounter(dir, persistence)) {
            assertEquals(sumOf(1, 5), reopened.sum());
        }
    }

    /**
     * Proves that the fsync thread forces the newest snapshot within the interval, and that the
     * forced snapshots then become the fallbacks that retention keeps.
     */
    @Test
    void snapshotModeWithAPeriodicPolicyForcesTheNewestSnapshotInTheBackground() {
        FaultyIo io = new FaultyIo();
        Persistence persistence = Persistence.snapshot().withFsync(FsyncPolicy.every(Duration.ofMillis(20)));
        try (SumCounter counter = new SumCounter(dir, persistence, io)) {
            counter.addAll(1, 3);
            await().atMost(Duration.ofSeconds(5)).until(() -> io.forcesOf("snapshot-3.snap") == 1);
            counter.add(4);
            await().atMost(Duration.ofSeconds(5)).until(() -> io.forcesOf("snapshot-4.snap") == 1);
            assertEquals("snapshot-3.snap snapshot-4.snap", StoreFiles.names(dir));
            assertEquals(0, io.forcesOf("snapshot-1") + io.forcesOf("snapshot-2"));
        }
        assertEquals(List.of(), logs.errors());
    }

    /** Proves that temporary snapshots left by a crash are removed on open, and foreign files are not. */
    @Test
    void leftoverTemporaryFilesAreRemovedOnOpen() throws IOException {
        try (SumCounter counter = new SumCounter(dir, Persistence.archive())) {
            counter.addAll(1, 3);
        }
        Files.write(dir.resolve("snapshot-2.snap.tmp"), new byte[] {1, 2, 3});
        Files.write(dir.resolve("notes.txt"), new byte[] {1});
        try (SumCounter counter = new SumCounter(dir, Persistence.archive())) {
            assertEquals(sumOf(1, 3), counter.sum());
        }
        assertEquals("journal-1.log notes.txt", StoreFiles.names(dir));
    }

    /** Proves that one directory holds one open store at a time. */
    @Test
    void aDirectoryIsUsedByOneStoreAtATime() {
        try (SumCounter counter = new SumCounter(dir, Persistence.archive())) {
            counter.add(1);
            UnidistException e = assertThrows(UnidistException.class, () -> new SumCounter(dir, Persistence.archive()));
            assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("in use"), e.getMessage());
        }
        try (SumCounter counter = new SumCounter(dir, Persistence.archive())) {
            assertEquals(1, counter.sum());
        }
    }

    /** Proves that a closed store refuses writes and that close is idempotent. */
    @Test
    void closedStoreRefusesWrites() {
        SumCounter counter = new SumCounter(dir, Persistence.archive());
        counter.close();
        counter.store.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> counter.add(1));
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }

    /** Proves that a record over the journal's limit is refused before anything is written. */
    @Test
    void aRecordOverTheLimitIsRefused() throws IOException {
        try (DurableStore store = DurableStore.open(dir, Persistence.archive(), new SumMachine())) {
            byte[] tooLarge = new byte[StoreFormat.MAX_RECORD_SIZE + 1];
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.write(tooLarge, () -> new byte[0]));
            assertTrue(e.getMessage().contains("67108865 bytes") && e.getMessage().contains(dir.toString()), e.getMessage());
        }
        assertEquals(StoreFormat.JOURNAL_HEADER_SIZE, Files.size(StoreFiles.journal(dir, 1)));
    }

    /** Proves that a recovery that throws fails the open, naming the file and the record's offset. */
    @Test
    void aRecoveryThatThrowsFailsTheOpenNamingTheRecord() {
        try (SumCounter counter = new SumCounter(dir, Persistence.archive())) {
            counter.addAll(1, 3);
        }
        Recovery failing = new Recovery() {
            @Override
            public void snapshot(byte[] state) {
            }

            @Override
            public void record(byte[] record) {
                if (SumMachine.decode(record) == 2) {
                    throw new IllegalStateException("cannot apply 2");
                }
            }
        };
        UnidistException e = assertThrows(UnidistException.class, () -> DurableStore.open(dir, Persistence.archive(), failing));
        assertTrue(e.getMessage().contains("journal-1.log") && e.getMessage().contains("offset 32"), e.getMessage());
        DurableStore.open(dir, Persistence.archive(), new SumMachine()).close(); // the lock was released
    }
}
