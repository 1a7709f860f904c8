package io.unidist.logging.internal;

import ch.qos.logback.core.spi.LifeCycle;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * The one background thread of a logging set-up that looks after rotated files: it compresses
 * each into its {@code .gz} archive, in the order they were rotated, then deletes archives
 * past the age limit and applies the {@link DiskBudget}.
 *
 * <h2>Why one thread and the fastest level</h2>
 * At high record rates compressing the archives costs more processor time than writing the
 * records (gzip's default level took about 5 µs per 450-byte record here, the logging call about
 * 3 µs). Logback compresses on up to four threads of its context, which then take the cores the
 * logging threads need. Here compression never takes more than one thread, and uses
 * {@link Deflater#BEST_SPEED}, about twice as fast on log lines for archives a little larger.
 * When records come faster than one thread compresses, rotated files wait their turn (they are
 * complete files, listed by the manifest as {@code rotated}).
 *
 * <h2>Size cap while files wait</h2>
 * After each archive the budget deletes the oldest {@code .gz} archives until every file of the
 * program fits the cap. If the files still do not fit because rotated files wait for
 * compression, the oldest waiting ones are deleted too, so that a backlog never takes the disk
 * beyond the cap by more than the active files and the file being compressed.
 *
 * <h2>Failure</h2>
 * A file that cannot be compressed (disk full, removed meanwhile) stays as it is; one warning
 * goes to stderr per failure, logging goes on. An archive that exists already is never
 * overwritten (the rotated file is kept).
 *
 * <h2>Lifecycle</h2>
 * Registered with the logger context: a reset or stop lets the queued work finish (for up to
 * 30 seconds, as logback waits for its compression) and ends the thread; rotations after that
 * leave their files uncompressed. The thread is a daemon: at JVM exit without a stop, waiting
 * files stay rotated.
 */
final class Archiver implements LifeCycle {

    private static final long STOP_WAIT_SECONDS = 30;

    private final Path dir;
    private final String program;
    private final int maxHistoryDays;
    private final DiskBudget budget;
    private final Consumer<Path> onDelete;
    private final Clock clock;
    private final ExecutorService executor;
    /** Rotated files not taken up yet, oldest first; touched by the archiver thread, added to by rollovers. */
    private final Deque<Job> waiting = new ConcurrentLinkedDeque<>();
    private volatile boolean started = true;

    /** A rotated file and the archive it becomes. */
    private record Job(Path rotated, Path archive) {
    }

    /**
     * @param maxHistoryDays archives dated more than this many days before today are deleted
     * @param onDelete       told of each file the archiver deleted (age limit, waiting files
     *                       over the cap), after the deletion; the budget tells its own
     */
    Archiver(Path dir, String program, int maxHistoryDays, DiskBudget budget, Consumer<Path> onDelete, Clock clock) {
        this(dir, program, maxHistoryDays, budget, onDelete, clock, Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, "unidist-log-archiver-" + program);
            thread.setDaemon(true);
            return thread;
        }));
    }

    /** @param executor runs the archiver's work, one task at a time (tests run it by hand) */
    Archiver(Path dir, String program, int maxHistoryDays, DiskBudget budget, Consumer<Path> onDelete, Clock clock,
             ExecutorService executor) {
        this.dir = dir;
        this.program = program;
        this.maxHistoryDays = maxHistoryDays;
        this.budget = budget;
        this.onDelete = onDelete;
        this.clock = clock;
        this.executor = executor;
    }

    /** Compresses {@code rotated} into {@code archive} on the archiver's thread, after the files rotated before it. */
    void compress(Path rotated, Path archive) {
        waiting.add(new Job(rotated, archive));
        try {
            executor.execute(this::compressOldest);
        } catch (RejectedExecutionException e) {
            waiting.removeLastOccurrence(new Job(rotated, archive)); // stopped: the file stays rotated
        }
    }

    @Override
    public void start() {
        // running from construction; logback calls stop() on reset
    }

    @Override
    public void stop() {
        if (!started) {
            return;
        }
        started = false;
        executor.shutdown();
        try {
            if (!executor.awaitTermination(STOP_WAIT_SECONDS, TimeUnit.SECONDS)) {
                Warnings.warn("compression of rotated log files in '" + dir.toAbsolutePath()
                        + "' did not finish within " + STOP_WAIT_SECONDS + " s; the rest stay uncompressed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean isStarted() {
        return started;
    }

    private void compressOldest() {
        Job job = waiting.pollFirst();
        if (job == null) {
            return; // deleted while waiting, to keep the cap
        }
        try {
            gzip(job.rotated(), job.archive());
            Files.delete(job.rotated());
        } catch (NoSuchFileException e) {
            // removed by someone else meanwhile: nothing to keep
        } catch (IOException | RuntimeException e) {
            Warnings.warn("cannot compress rotated log file '" + job.rotated().toAbsolutePath() + "' into '"
                    + job.archive().getFileName() + "' (" + e + "); it stays as it is");
        }
        deleteOlderThanHistory();
        long total = budget.enforce();
        for (Job waiter; total > budget.capBytes() && (waiter = waiting.pollFirst()) != null; ) {
            total -= DiskBudget.sizeOf(waiter.rotated());
            delete(waiter.rotated());
        }
    }

    private static void gzip(Path source, Path archive) throws IOException {
        try (InputStream in = Files.newInputStream(source)) {
            // CREATE_NEW: an archive that exists already is never overwritten (the rotated file is kept)
            OutputStream file = Files.newOutputStream(archive, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            try (OutputStream out = new FastGzipStream(file)) {
                in.transferTo(out);
            } catch (IOException | RuntimeException e) {
                file.close();
                Files.deleteIfExists(archive); // ours and partial: never leave it next to the file that is kept
                throw e;
            }
        }
    }

    /** Archives of this program dated more than {@code maxHistoryDays} before today. */
    private void deleteOlderThanHistory() {
        LocalDate oldestKept = LocalDate.now(clock).minusDays(maxHistoryDays);
        List<Path> old = new ArrayList<>();
        try (Stream<Path> list = Files.list(dir)) {
            list.forEach(path -> {
                LogFileName name = LogFileName.parse(program, path.getFileName().toString());
                if (name != null && name.kind() == LogFileName.Kind.COMPRESSED
                        && LocalDate.parse(name.date()).isBefore(oldestKept)) {
                    old.add(path);
                }
            });
        } catch (IOException | RuntimeException e) {
            Warnings.warn("cannot list log directory '" + dir.toAbsolutePath() + "' to apply the age limit: " + e);
            return;
        }
        old.forEach(this::delete);
    }

    private void delete(Path path) {
        try {
            if (Files.deleteIfExists(path)) {
                onDelete.accept(path);
            }
        } catch (IOException e) {
            Warnings.warn("cannot delete old log file '" + path.toAbsolutePath() + "': " + e);
        }
    }

    /** gzip at {@link Deflater#BEST_SPEED}, with a buffer larger than the JDK's 512 bytes. */
    private static final class FastGzipStream extends GZIPOutputStream {
        FastGzipStream(OutputStream out) throws IOException {
            super(out, 64 * 1024);
            def.setLevel(Deflater.BEST_SPEED);
        }
    }
}
