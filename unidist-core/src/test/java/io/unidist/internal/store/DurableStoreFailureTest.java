package io.unidist.internal.store;

import static io.unidist.internal.store.StoreFiles.journal;
import static io.unidist.internal.store.StoreFiles.snapshot;
import static io.unidist.internal.store.SumCounter.sumOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.Persistence;
import io.unidist.UnidistException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * I/O failures while running (a full disk): the write fails naming the file, the files are as
 * before, the caller's undo keeps memory and disk in step, and the store works again afterwards.
 */
class DurableStoreFailureTest {
    @RegisterExtension
    final LogCapture logs = new LogCapture();

    @TempDir
    Path dir;

    private final FaultyIo io = new FaultyIo();

    /** Proves that a failed append is cut back, reported with the file, and that the next append works. */
    @Test
    void aFailedAppendLeavesTheJournalAsItWas() throws IOException {
        try (SumCounter counter = new SumCounter(dir, Persistence.archive(), io)) {
            counter.addAll(1, 3);
            byte[] before = Files.readAllBytes(journal(dir, 1));
            io.failNextWriteTo("journal-");
            UnidistException e = assertThrows(UnidistException.class, () -> counter.add(100));
            assertTrue(e.getMessage().contains(journal(dir, 1).toString()) && e.getMessage().contains("No space left"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("as it was before"), e.getMessage());
            assertArrayEquals(before, Files.readAllBytes(journal(dir, 1)));
            assertEquals(sumOf(1, 3), counter.sum());
            counter.add(4);
        }
        try (SumCounter counter = new SumCounter(dir, Persistence.archive(), io)) {
            assertEquals(List.of(1L, 2L, 3L, 4L), counter.machine.recordsSeen);
        }
        assertEquals(List.of(), logs.warnings());
    }

    /** Proves that when even the cut-back fails, the partial record is cut before the next append. */
    @Test
    void aPartialRecordThatCouldNotBeCutIsCutBeforeTheNextAppend() {
        try (SumCounter counter = new SumCounter(dir, Persistence.archive(), io)) {
            counter.addAll(1, 3);
            io.failNextWriteTo("journal-");
            io.failTruncates(true);
            UnidistException e = assertThrows(UnidistException.class, () -> counter.add(100));
            assertTrue(e.getMessage().contains("cut off before the next append"), e.getMessage());
            assertThrows(UnidistException.class, () -> counter.add(200), "the cut fails again: no append after garbage");
            io.failTruncates(false);
            counter.add(4);
        }
        try (SumCounter counter = new SumCounter(dir, Persistence.archive(), io)) {
            assertEquals(List.of(1L, 2L, 3L, 4L), counter.machine.recordsSeen);
        }
        assertEquals(List.of(), logs.warnings());
    }

    /** Proves that in snapshot mode a failed snapshot fails the write, leaves no temporary file, and the old snapshot holds. */
    @Test
    void aFailedSnapshotInSnapshotModeFailsTheWrite() {
        try (SumCounter counter = new SumCounter(dir, Persistence.snapshot(), io)) {
            counter.addAll(1, 3);
            io.failNextWriteTo("snapshot-");
            UnidistException e = assertThrows(UnidistException.class, () -> counter.add(100));
            assertTrue(e.getMessage().contains(snapshot(dir, 4).toString()), e.getMessage());
            assertEquals("snapshot-2.snap snapshot-3.snap", StoreFiles.names(dir));
            assertFalse(counter.store.hasUnsnapshottedChanges());
            counter.add(4);
        }
        try (SumCounter counter = new SumCounter(dir, Persistence.snapshot(), io)) {
            assertEquals(sumOf(1, 4), counter.sum());
        }
    }

    /**
     * Proves that in archive mode a failed snapshot does not fail the write (the record is in the
     * journal), warns once, and is retried on the next write.
     */
    @Test
    void aFailedSnapshotInArchiveModeIsRetriedOnTheNextWrite() {
        Persistence persistence = Persistence.archive().withSnapshotEvery(2);
        try (SumCounter counter = new SumCounter(dir, persistence, io)) {
            counter.add(1);
            io.failNextWriteTo("snapshot-");
            counter.add(2);
            assertEquals("journal-1.log", StoreFiles.names(dir), "the new segment was removed again");
            assertEquals(1, logs.warnings().size(), logs.warnings()::toString);
            assertTrue(logs.warnings().get(0).contains(dir.toString()));
            counter.add(3);
            assertEquals("journal-1.log journal-2.log snapshot-2.snap", StoreFiles.names(dir));
        }
        try (SumCounter counter = new SumCounter(dir, persistence, io)) {
            assertEquals(sumOf(1, 3), counter.machine.snapshotSeen);
            assertEquals(sumOf(1, 3), counter.sum());
        }
    }

    /** Proves that a failure creating the next segment leaves appends on the current one. */
    @Test
    void aFailedNewSegmentKeepsAppendingToTheCurrentOne() {
        Persistence persistence = Persistence.archive().withSnapshotEvery(2);
        try (SumCounter counter = new SumCounter(dir, persistence, io)) {
            counter.add(1);
            io.failNextWriteTo("journal-2");
            counter.add(2);
            counter.add(3); // retried: snapshot-2 after 1..3
            counter.add(4);
        }
        try (SumCounter counter = new SumCounter(dir, persistence, io)) {
            assertEquals(sumOf(1, 3), counter.machine.snapshotSeen);
            assertEquals(List.of(4L), counter.machine.recordsSeen);
        }
    }

    /**
     * Proves that a disk that stays full fails every write naming the file, keeps what was
     * acknowledged (memory and files), and that writes work again once there is room, in both
     * modes that write to disk.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"archive", "snapshot"})
    void aDiskThatStaysFullFailsEveryWriteAndTheStoreResumesWhenThereIsRoom(String mode) {
        Persistence persistence = mode.equals("archive") ? Persistence.archive().withSnapshotEvery(3)
                : Persistence.snapshot();
        try (SumCounter counter = new SumCounter(dir, persistence, io)) {
            counter.addAll(1, 4);
            io.diskFull(true);
            for (int i = 0; i < 5; i++) {
                UnidistException e = assertThrows(UnidistException.class, () -> counter.add(100));
                assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("No space left"),
                        e.getMessage());
                assertEquals(sumOf(1, 4), counter.sum(), "a failed write changed the sum");
            }
            io.diskFull(false);
            counter.add(5);
            counter.add(6);
            assertEquals(sumOf(1, 6), counter.sum());
        }
        try (SumCounter counter = new SumCounter(dir, persistence, io)) {
            assertEquals(sumOf(1, 6), counter.sum(), "after a restart: every acknowledged write, no failed one");
        }
    }
}
