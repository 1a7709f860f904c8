package io.unidist.local;

import static io.unidist.contract.Checks.assertMentions;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.Persistence;
import io.unidist.SharedState;
import io.unidist.Unidist;
import io.unidist.UnidistException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
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

    @Test
    void corruptionInTheMiddleStopsTheStartAndNamesTheFile() throws IOException {
        writeTen();
        Path journal = journal();
        byte[] bytes = Files.readAllBytes(journal);
        bytes[bytes.length / 2] ^= 0x5A;
        Files.write(journal, bytes);
        try (Unidist node = Unidist.local(dir)) {
            UnidistException e = assertThrows(UnidistException.class, () -> node.state("b", String.class));
            assertMentions(e, journal.getFileName().toString());
            // the node keeps working for everything else, and the damaged file is left as it was
            node.state("other", String.class, Persistence.archive()).put("x", "y");
        }
        byte[] after = Files.readAllBytes(journal);
        assertEquals(bytes.length, after.length);
        assertTrue(java.util.Arrays.equals(bytes, after), "the damaged journal must not be changed");
    }
}
