package io.unidist.local;

import static io.unidist.contract.Checks.assertMentions;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.Persistence;
import io.unidist.SharedCounter;
import io.unidist.SharedState;
import io.unidist.Unidist;
import io.unidist.UnidistException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node over damaged files: a torn tail is cut off, corruption stops the start and names the file. */
class LocalCorruptionTest {
    @TempDir
    Path dir;

    private void writeTen() {
        try (Unidist node = Unidist.local(dir)) {
            SharedState<String> s = node.state("b", String.class);
            for (int i = 0; i < 10; i++) {
                s.put("k" + i, "value-" + i);
            }
        }
    }

    private Path journal() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("state").resolve("b"))) {
            List<Path> journals = files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList();
            assertTrue(!journals.isEmpty(), "no journal under " + dir);
            return journals.get(journals.size() - 1);
        }
    }

    @Test
    void aTornTailIsCutOffAndTheRestIsKept() throws IOException {
        writeTen();
        Path journal = journal();
        Files.write(journal, new byte[] {0, 0, 0, 40, 1, 2, 3}, StandardOpenOption.APPEND); // a record cut short
        try (Unidist node = Unidist.local(dir)) {
            SharedState<String> s = node.state("b", String.class);
            assertEquals(10, s.keys().size());
            s.put("after", "repair");
        }
        try (Unidist node = Unidist.local(dir)) {
            assertEquals(11, node.state("b", String.class).keys().size(), "writes after the repair survive");
        }
    }

    /**
     * Proves that damage inside a journal stops the start (not a later open of the bucket),
     * names the file, changes nothing, and leaves the directory free for a start once repaired.
     */
    @Test
    void corruptionInTheMiddleStopsTheStartAndNamesTheFile() throws IOException {
        writeTen();
        Path journal = journal();
        byte[] good = Files.readAllBytes(journal);
        byte[] bytes = good.clone();
        bytes[bytes.length / 2] ^= 0x5A;
        Files.write(journal, bytes);
        UnidistException e = assertThrows(UnidistException.class, () -> Unidist.local(dir));
        assertMentions(e, journal.toString());
        assertArrayEquals(bytes, Files.readAllBytes(journal), "the damaged journal must not be changed");

        Files.write(journal, good);
        try (Unidist node = Unidist.local(dir)) {
            assertEquals(10, node.state("b", String.class).keys().size());
        }
    }

    /**
     * Proves that a counter in snapshot mode whose newest snapshot is corrupt stops the start
     * instead of falling back to the older snapshot, which would hand out an id twice; and that
     * moving the damaged file aside, as the message says, accepts the older value knowingly.
     */
    @Test
    void aCorruptNewestCounterSnapshotStopsTheStart() throws IOException {
        try (Unidist node = Unidist.local(dir)) {
            SharedCounter ids = node.counter("ids");
            for (int i = 0; i < 5; i++) {
                ids.incrementAndGet();
            }
        }
        Path newest = newestSnapshot(dir.resolve("counters").resolve("ids"));
        flipLastByte(newest);
        UnidistException e = assertThrows(UnidistException.class, () -> Unidist.local(dir));
        assertMentions(e, newest.toString(), "move " + newest);

        Files.move(newest, newest.resolveSibling(newest.getFileName() + ".damaged"));
        try (Unidist node = Unidist.local(dir)) {
            assertEquals(4, node.counter("ids").get(), "the older snapshot, accepted knowingly");
        }
    }

    /**
     * Proves that a bucket in archive mode whose newest snapshot is corrupt starts from the older
     * snapshot plus the journal after it, losing no write.
     */
    @Test
    void aCorruptNewestStateSnapshotFallsBackWithoutLoss() throws IOException {
        Persistence everyThree = Persistence.archive().withSnapshotEvery(3);
        try (Unidist node = Unidist.local(dir)) {
            SharedState<String> s = node.state("b", String.class, everyThree);
            for (int i = 0; i < 10; i++) {
                s.put("k" + (i % 4), "value-" + i);
            }
        }
        flipLastByte(newestSnapshot(dir.resolve("state").resolve("b")));
        try (Unidist node = Unidist.local(dir)) {
            assertEquals(Map.of("k0", "value-8", "k1", "value-9", "k2", "value-6", "k3", "value-7"),
                    node.state("b", String.class, everyThree).snapshot());
        }
    }

    private static Path newestSnapshot(Path store) throws IOException {
        try (Stream<Path> files = Files.list(store)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".snap"))
                    .max(Comparator.comparingLong(LocalCorruptionTest::snapshotNumber))
                    .orElseThrow(() -> new AssertionError("no snapshot in " + store));
        }
    }

    private static long snapshotNumber(Path snapshot) {
        return Long.parseLong(snapshot.getFileName().toString().replaceAll("\\D", ""));
    }

    private static void flipLastByte(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 1] ^= 0x5A;
        Files.write(file, bytes);
    }
}
