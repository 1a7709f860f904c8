package io.unidist.logging.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The archiver's work, run step by step by the test: rotated files are compressed in the order
 * they came, each into its archive with the same bytes; when the files break the size cap, the
 * oldest records go first, archives then files waiting for compression, each reported; an archive that
 * exists already is never overwritten and its rotated file is kept, with a warning.
 */
class ArchiverTest {

    @TempDir
    Path dir;

    private final Clock clock = Clock.fixed(Instant.parse("2026-03-01T10:00:00Z"), ZoneOffset.UTC);
    private final List<Path> deleted = new ArrayList<>();
    private final ByHand executor = new ByHand();

    /** An executor whose tasks the test runs when it wants. */
    static final class ByHand extends AbstractExecutorService {
        final Deque<Runnable> tasks = new ArrayDeque<>();
        boolean shutdown;

        void runAll() {
            for (Runnable task; (task = tasks.pollFirst()) != null; ) {
                task.run();
            }
        }

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            return new ArrayList<>(tasks);
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown && tasks.isEmpty();
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            runAll();
            return true;
        }
    }

    private Archiver archiver(long capBytes) {
        DiskBudget budget = new DiskBudget(dir, "app", capBytes, deleted::add);
        return new Archiver(dir, "app", 30, budget, deleted::add, clock, executor);
    }

    private Path rotated(String name, int size) throws IOException {
        return Files.writeString(dir.resolve(name), "r".repeat(size - 1) + "\n");
    }

    @Test
    void rotatedFilesAreCompressedInTheOrderTheyCameWithTheSameBytes() throws IOException {
        Archiver archiver = archiver(Long.MAX_VALUE);
        Path first = rotated("app.2026-03-01.0.log11.tmp", 5_000);
        Path second = Files.writeString(dir.resolve("app.2026-03-01.1.log12.tmp"), "second\n");

        archiver.compress(first, dir.resolve("app.2026-03-01.0.log.gz"));
        archiver.compress(second, dir.resolve("app.2026-03-01.1.log.gz"));
        executor.runAll();

        assertFalse(Files.exists(first) || Files.exists(second), "rotated files removed once compressed");
        assertEquals("r".repeat(4_999) + "\n", gunzip("app.2026-03-01.0.log.gz"));
        assertEquals("second\n", gunzip("app.2026-03-01.1.log.gz"));
        assertEquals(List.of(), deleted);
    }

    @Test
    void filesWaitingForCompressionAreDeletedOldestFirstWhenTheyAloneBreakTheCap() throws IOException {
        Archiver archiver = archiver(5_000);
        Path first = rotated("app.2026-03-01.0.log11.tmp", 4_000);
        Path second = rotated("app.2026-03-01.1.log12.tmp", 4_000);
        Path third = rotated("app.2026-03-01.2.log13.tmp", 4_000);
        Path active = rotated("app.log", 100);

        archiver.compress(first, dir.resolve("app.2026-03-01.0.log.gz"));
        archiver.compress(second, dir.resolve("app.2026-03-01.1.log.gz"));
        archiver.compress(third, dir.resolve("app.2026-03-01.2.log.gz"));
        executor.tasks.pollFirst().run(); // the first compression; the other two wait

        // 8,100 bytes and more against a 5,000 cap: the oldest records go first, first's archive
        // (the budget's), then the oldest file waiting (the archiver's), until the rest fits
        Path firstArchive = dir.resolve("app.2026-03-01.0.log.gz");
        assertEquals(List.of(firstArchive, second), deleted);
        assertFalse(Files.exists(firstArchive) || Files.exists(second));
        assertTrue(Files.exists(third) && Files.exists(active));

        executor.runAll();
        assertFalse(Files.exists(third), "the one left waiting is compressed");
        assertTrue(Files.exists(dir.resolve("app.2026-03-01.2.log.gz")));
        assertFalse(Files.exists(dir.resolve("app.2026-03-01.1.log.gz")), "nothing is made of a deleted file");
    }

    @Test
    void anArchiveThatExistsIsNeverOverwrittenAndTheRotatedFileIsKept() throws IOException {
        Archiver archiver = archiver(Long.MAX_VALUE);
        Path existing = Files.writeString(dir.resolve("app.2026-03-01.0.log.gz"), "not ours");
        Path rotated = rotated("app.2026-03-01.0.log11.tmp", 100);

        PrintStream savedErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            archiver.compress(rotated, existing);
            executor.runAll();
        } finally {
            System.setErr(savedErr);
        }

        assertEquals("not ours", Files.readString(existing));
        assertTrue(Files.exists(rotated));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("cannot compress rotated log file"), err.toString());
    }

    private String gunzip(String name) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(dir.resolve(name)))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
