package io.unidist.internal.store;

import static io.unidist.internal.store.StoreFiles.journal;
import static io.unidist.internal.store.StoreFiles.snapshot;
import static io.unidist.internal.store.SumCounter.sumOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.Persistence;
import io.unidist.UnidistException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Damaged files on open: torn tails are cut with a warning, damage inside the data fails naming
 * the file and offset and changes nothing, corrupt snapshots fall back without loss.
 *
 * <p>Records here are 8-byte longs, so each takes 16 bytes and record i (from 1) of a segment
 * starts at offset 16 + 16 * (i - 1).
 */
class DurableStoreRecoveryTest {
    private static final Persistence ARCHIVE = Persistence.archive();
    /** A snapshot every 5 records: 1..12 gives snapshot-2 (after 5), snapshot-3 (after 10). */
    private static final Persistence ARCHIVE_EVERY_5 = Persistence.archive().withSnapshotEvery(5);

    @RegisterExtension
    final LogCapture logs = new LogCapture();

    @TempDir
    Path dir;

    private void write(Persistence persistence, long from, long to) {
        try (SumCounter counter = new SumCounter(dir, persistence)) {
            counter.addAll(from, to);
        }
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }

    private static void assertMessageContains(Throwable e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "'" + part + "' not in: " + e.getMessage());
        }
    }

    private void assertOneWarningContaining(String... parts) {
        assertEquals(1, logs.warnings().size(), logs.warnings()::toString);
        for (String part : parts) {
            assertTrue(logs.warnings().get(0).contains(part), () -> "'" + part + "' not in: " + logs.warnings());
        }
    }

    // ---- torn tails ----

    /** Proves that a last record cut short by a crash is cut off with a warning, and that appends then survive. */
    @ParameterizedTest
    @ValueSource(ints = {1, 4, 8, 9, 15})
    void aTornLastRecordIsCutOff(int bytesCut) throws IOException {
        write(ARCHIVE, 1, 5);
        StoreFiles.cutBytes(journal(dir, 1), bytesCut);
        try (SumCounter counter = new SumCounter(dir, ARCHIVE)) {
            assertEquals(range(1, 4), counter.machine.recordsSeen);
            assertOneWarningContaining("journal-1.log", "offset 80", (16 - bytesCut) + " bytes dropped");
            assertEquals(80, Files.size(journal(dir, 1)));
            counter.add(100);
        }
        logs.clear();
        try (SumCounter counter = new SumCounter(dir, ARCHIVE)) {
            assertEquals(List.of(1L, 2L, 3L, 4L, 100L), counter.machine.recordsSeen);
        }
    }

    static Stream<Arguments> garbage() {
        return Stream.of(
                Arguments.of("three bytes", new byte[] {1, 2, 3}),
                Arguments.of("zeros, as after a power loss", new byte[100]),
                Arguments.of("a huge length", ByteBuffer.allocate(12).putInt(Integer.MAX_VALUE).array()),
                Arguments.of("a negative length", ByteBuffer.allocate(12).putInt(-5).array()),
                Arguments.of("a length past the end", ByteBuffer.allocate(20).putInt(1000).array()),
                Arguments.of("a bad checksum", ByteBuffer.allocate(16).putInt(8).putInt(12345).array()));
    }

    /** Proves that garbage after the last record (huge lengths included) is a torn tail, not an allocation. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("garbage")
    void garbageAfterTheLastRecordIsCutOff(String kind, byte[] garbage) throws IOException {
        write(ARCHIVE, 1, 5);
        StoreFiles.append(journal(dir, 1), garbage);
        try (SumCounter counter = new SumCounter(dir, ARCHIVE)) {
            assertEquals(range(1, 5), counter.machine.recordsSeen);
            assertOneWarningContaining("journal-1.log", "offset 96", garbage.length + " bytes dropped");
        }
        assertEquals(96, Files.size(journal(dir, 1)));
    }

    /**
     * Proves that a segment followed only by empty segments (a crash right after the next one was
     * created) counts as the last one: its torn tail is cut, and appends go to the empty one.
     */
    @Test
    void aTornTailBeforeAnEmptyNextSegmentIsCutOff() throws IOException {
        write(ARCHIVE_EVERY_5, 1, 3);
        Files.write(journal(dir, 2), StoreFormat.journalHeader(2)); // created, snapshot-2 never renamed
        StoreFiles.cutBytes(journal(dir, 1), 5);
        try (SumCounter counter = new SumCounter(dir, ARCHIVE_EVERY_5)) {
            assertEquals(range(1, 2), counter.machine.recordsSeen);
            assertOneWarningContaining("journal-1.log", "offset 48");
            counter.add(4);
        }
        assertEquals(StoreFormat.JOURNAL_HEADER_SIZE + 16, Files.size(journal(dir, 2)));
        try (SumCounter counter = new SumCounter(dir, ARCHIVE_EVERY_5)) {
            assertEquals(List.of(1L, 2L, 4L), counter.machine.recordsSeen);
        }
    }

    /** Proves that a last segment without a whole header (a crash while creating it) is rewritten with a warning. */
    @Test
    void aLastSegmentWithoutAWholeHeaderIsRewritten() throws IOException {
        write(ARCHIVE_EVERY_5, 1, 3);
        Files.write(journal(dir, 2), new byte[] {0x55, 0x44, 0x4A});
        try (SumCounter counter = new SumCounter(dir, ARCHIVE_EVERY_5)) {
            assertEquals(range(1, 3), counter.machine.recordsSeen);
            assertOneWarningContaining("journal-2.log", "only 3 bytes");
            counter.add(4);
        }
        try (SumCounter counter = new SumCounter(dir, ARCHIVE_EVERY_5)) {
            assertEquals(range(1, 4), counter.machine.recordsSeen);
        }
    }

    // ---- damage inside the data ----

    static Stream<Arguments> damageToRecordTwo() {
        return Stream.of(
                Arguments.of("a flipped payload byte", (Damage) file -> StoreFiles.flipByte(file, 32 + 8 + 7), "checksum mismatch"),
                Arguments.of("a flipped checksum byte", (Damage) file -> StoreFiles.flipByte(file, 32 + 4), "checksum mismatch"),
                Arguments.of("a length past the end", (Damage) file -> StoreFiles.overwriteInt(file, 32, 1000), "past the end"),
                Arguments.of("a negative length", (Damage) file -> StoreFiles.overwriteInt(file, 32, -1), "outside"));
    }

    @FunctionalInterface
    interface Damage {
        void apply(Path file) throws IOException;
    }

    /** Proves that a bad record with valid records after it fails the open, names file and offset, and changes nothing. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("damageToRecordTwo")
    void damageInsideTheJournalFailsTheOpenAndChangesNothing(String kind, Damage damage, String problem) throws IOException {
        write(ARCHIVE, 1, 5);
        damage.apply(journal(dir, 1));
        byte[] before = Files.readAllBytes(journal(dir, 1));
        UnidistException e = assertThrows(UnidistException.class, () -> new SumCounter(dir, ARCHIVE));
        assertMessageContains(e, journal(dir, 1).toString(), "offset 32", problem, "valid record follows it");
        assertArrayEquals(before, Files.readAllBytes(journal(dir, 1)));
    }

    /** Proves that a torn end of a segment that later segments follow is damage, not a torn tail. */
    @Test
    void aBadEndOfASegmentThatIsNotTheLastFailsTheOpen() throws IOException {
        write(ARCHIVE_EVERY_5, 1, 7); // journal-1: 1..5, snapshot-2, journal-2: 6, 7
        StoreFiles.flipByte(snapshot(dir, 2), 30); // so recovery must read journal-1
        StoreFiles.cutBytes(journal(dir, 1), 3);
        UnidistException e = assertThrows(UnidistException.class, () -> new SumCounter(dir, ARCHIVE_EVERY_5));
        assertMessageContains(e, journal(dir, 1).toString(), "offset 80", "journal-2.log holds later records");
    }

    // ---- snapshots ----

    static Stream<Arguments> snapshotDamage() {
        return Stream.of(
                Arguments.of("a flipped payload byte", (Damage) file -> StoreFiles.flipByte(file, 28 + 3)),
                Arguments.of("a flipped length in the header", (Damage) file -> StoreFiles.flipByte(file, 19)),
                Arguments.of("a cut-off end", (Damage) file -> StoreFiles.cutBytes(file, 1)),
                Arguments.of("only part of the header", (Damage) file -> StoreFiles.cutBytes(file, 20)));
    }

    /** Proves that a corrupt newest snapshot falls back to the previous one plus the journal, losing nothing. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("snapshotDamage")
    void aCorruptNewestSnapshotFallsBackToThePreviousOne(String kind, Damage damage) throws IOException {
        write(ARCHIVE_EVERY_5, 1, 12);
        assertEquals("journal-2.log journal-3.log snapshot-2.snap snapshot-3.snap", StoreFiles.names(dir));
        damage.apply(snapshot(dir, 3));
        try (SumCounter counter = new SumCounter(dir, ARCHIVE_EVERY_5)) {
            assertEquals(sumOf(1, 5), counter.machine.snapshotSeen);
            assertEquals(range(6, 12), counter.machine.recordsSeen);
            assertOneWarningContaining(snapshot(dir, 3).toString(), "unusable", "which hold every change");
            counter.addAll(13, 15); // a new snapshot-4 at once: 7 records since snapshot-2
        }
        logs.clear();
        try (SumCounter counter = new SumCounter(dir, ARCHIVE_EVERY_5)) {
            assertEquals(sumOf(1, 15), counter.sum());
            assertEquals(List.of(), logs.warnings());
        }
    }

    /** Proves that a corrupt only snapshot falls back to the journal from its beginning. */
    @Test
    void aCorruptOnlySnapshotFallsBackToTheWholeJournal() throws IOException {
        write(ARCHIVE_EVERY_5, 1, 7);
        StoreFiles.flipByte(snapshot(dir, 2), 30);
        try (SumCounter counter = new SumCounter(dir, ARCHIVE_EVERY_5)) {
            assertNull(counter.machine.snapshotSeen);
            assertEquals(range(1, 7), counter.machine.recordsSeen);
        }
        assertTrue(logs.warnings().stream().anyMatch(w -> w.contains("no usable snapshot")), logs.warnings()::toString);
    }

    /** Proves that with both snapshots corrupt and segment 1 gone, the open fails naming all of them. */
    @Test
    void bothSnapshotsCorruptAndTheJournalBeginningGoneFailsTheOpen() throws IOException {
        write(ARCHIVE_EVERY_5, 1, 12);
        StoreFiles.flipByte(snapshot(dir, 2), 30);
        StoreFiles.flipByte(snapshot(dir, 3), 30);
        String files = StoreFiles.names(dir);
        UnidistException e = assertThrows(UnidistException.class, () -> new SumCounter(dir, ARCHIVE_EVERY_5));
        assertMessageContains(e, snapshot(dir, 2).toString(), snapshot(dir, 3).toString(),
                journal(dir, 1) + " is missing", "checksum mismatch");
        assertEquals(files, StoreFiles.names(dir));
    }

    /** Proves that in snapshot mode a corrupt only snapshot fails the open rather than starting empty. */
    @Test
    void snapshotModeWithNoUsableSnapshotFailsTheOpen() throws IOException {
        Persistence persistence = Persistence.snapshot();
        write(persistence, 1, 1);
        StoreFiles.flipByte(snapshot(dir, 1), 30);
        UnidistException e = assertThrows(UnidistException.class, () -> new SumCounter(dir, persistence));
        assertMessageContains(e, snapshot(dir, 1).toString(), "empty state");
    }

    /**
     * Proves that in snapshot mode a corrupt newest snapshot fails the open, changing nothing,
     * instead of falling back to the older one and undoing the newest change (a counter would
     * hand out an id twice); and that moving the file aside accepts the older snapshot.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("snapshotDamage")
    void snapshotModeRefusesToFallBackPastACorruptNewestSnapshot(String kind, Damage damage) throws IOException {
        Persistence persistence = Persistence.snapshot();
        write(persistence, 1, 5);
        assertEquals("snapshot-4.snap snapshot-5.snap", StoreFiles.names(dir));
        damage.apply(snapshot(dir, 5));
        UnidistException e = assertThrows(UnidistException.class, () -> new SumCounter(dir, persistence));
        assertMessageContains(e, snapshot(dir, 5).toString(), "there is no journal", "snapshot-4.snap",
                "move " + snapshot(dir, 5) + " out of the directory");
        assertEquals("snapshot-4.snap snapshot-5.snap", StoreFiles.names(dir));

        Files.move(snapshot(dir, 5), dir.resolve("snapshot-5.snap.damaged"));
        try (SumCounter counter = new SumCounter(dir, persistence)) {
            assertEquals(sumOf(1, 4), counter.sum());
        }
    }

    /** Proves that a journal segment missing between the snapshot and the last segment fails the open. */
    @Test
    void aMissingSegmentFailsTheOpen() throws IOException {
        write(ARCHIVE_EVERY_5, 1, 12);
        StoreFiles.flipByte(snapshot(dir, 3), 30);
        Files.delete(journal(dir, 2));
        UnidistException e = assertThrows(UnidistException.class, () -> new SumCounter(dir, ARCHIVE_EVERY_5));
        assertMessageContains(e, journal(dir, 2) + " is missing", "snapshot-2.snap", "snapshot-3.snap");
    }

    // ---- headers ----

    /** Proves that a journal header with a wrong magic, version or number fails, naming the file and what was found. */
    @Test
    void aBadJournalHeaderFailsNamingTheFile() throws IOException {
        write(ARCHIVE, 1, 3);
        Path file = journal(dir, 1);
        byte[] good = Files.readAllBytes(file);

        StoreFiles.overwriteInt(file, 0, 0x58585858);
        assertMessageContains(assertThrows(UnidistException.class, () -> new SumCounter(dir, ARCHIVE)),
                file.toString(), "expected magic 0x55444a4c ('UDJL')", "found 0x58585858 ('XXXX')");
        assertArrayEquals(withInt(good, 0, 0x58585858), Files.readAllBytes(file));

        Files.write(file, withInt(good, 4, 2));
        assertMessageContains(assertThrows(UnidistException.class, () -> new SumCounter(dir, ARCHIVE)),
                file.toString(), "unknown format version 2", "reads version 1");

        Files.write(file, withInt(good, 12, 7));
        assertMessageContains(assertThrows(UnidistException.class, () -> new SumCounter(dir, ARCHIVE)),
                file.toString(), "segment 7", "name says 1");
    }

    /** Proves that a snapshot with a wrong magic fails the open instead of being skipped. */
    @Test
    void aSnapshotWithAWrongMagicFailsNamingTheFile() throws IOException {
        write(ARCHIVE_EVERY_5, 1, 7);
        StoreFiles.overwriteInt(snapshot(dir, 2), 0, 0);
        UnidistException e = assertThrows(UnidistException.class, () -> new SumCounter(dir, ARCHIVE_EVERY_5));
        assertMessageContains(e, snapshot(dir, 2).toString(), "expected magic 0x5544534e ('UDSN')", "found 0x00000000");
    }

    private static byte[] withInt(byte[] bytes, int offset, int value) {
        byte[] copy = bytes.clone();
        ByteBuffer.wrap(copy).putInt(offset, value);
        return copy;
    }
}
