package io.unidist.internal.store;

import static io.unidist.internal.store.StoreFormat.JOURNAL_HEADER_SIZE;

import io.unidist.FsyncPolicy;
import io.unidist.UnidistException;
import io.unidist.internal.store.StoreIo.StoreFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends records to the active journal segment, forces them as the {@link FsyncPolicy} says,
 * and moves on to the next segment when a snapshot is taken.
 *
 * <p><b>Failure.</b> An append that fails is truncated away again before the exception leaves,
 * so the segment ends with whole records only. If even the truncation fails, the partial
 * record is cut before the next append (which fails while it cannot be), and would otherwise
 * be found as a torn tail on the next open: a record is never appended after garbage.
 *
 * <p><b>Thread safety.</b> The owner calls every method under its own lock. Only
 * {@link #forceInBackground()} runs concurrently, on the {@code unidist-fsync} thread; it holds
 * {@link #fileLock} while forcing, and the file is replaced or closed only under that lock, so
 * it never forces a closed file. Appends do not take that lock: writing and forcing the same
 * file from two threads is safe, and a write then never waits for a background fsync.
 */
final class JournalWriter {
    private static final Logger log = LoggerFactory.getLogger(JournalWriter.class);

    private final Path dir;
    private final StoreIo io;
    private final FsyncPolicy fsync;
    private final ReentrantLock fileLock = new ReentrantLock();
    /** Whether appends wait for a force (periodic policy only: everyWrite forces at once). */
    private final AtomicBoolean unforced = new AtomicBoolean();
    /** Replaced and closed only under {@link #fileLock}, and {@link #segment} with it. */
    private StoreFile file;
    private long segment;
    private long size;
    private boolean partialRecordAtEnd;
    private Future<?> periodicFsync;

    /** A new segment with its header, not yet appended to: {@link #switchTo} it or {@link #discard} it. */
    final class NextSegment {
        private final long number;
        private final StoreFile file;

        private NextSegment(long number, StoreFile file) {
            this.number = number;
            this.file = file;
        }

        long number() {
            return number;
        }

        /** Closes and deletes it: it holds only a header, nothing refers to it yet. */
        void discard() {
            Quietly.close(file, path(number));
            Quietly.delete(io, path(number));
        }
    }

    private JournalWriter(Path dir, StoreIo io, FsyncPolicy fsync) {
        this.dir = dir;
        this.io = io;
        this.fsync = fsync;
    }

    /**
     * Opens segment {@code segment} for appending at its end, writing its header when it is new
     * or a crash left it without a whole one, and starts the periodic fsync when the policy has one.
     *
     * @throws UnidistException naming the file when it cannot be opened or written
     */
    static JournalWriter open(Path dir, StoreIo io, FsyncPolicy fsync, long segment) {
        JournalWriter writer = new JournalWriter(dir, io, fsync);
        writer.openAtEnd(segment);
        if (fsync.interval() != null) {
            writer.periodicFsync = FsyncScheduler.every(fsync.interval(), dir.toString(), writer::forceInBackground);
        }
        return writer;
    }

    private void openAtEnd(long n) {
        Path path = path(n);
        StoreFile opened = null;
        try {
            opened = io.open(path);
            long length = opened.size();
            if (length < JOURNAL_HEADER_SIZE) {
                writeHeader(opened, n);
                SnapshotFiles.forceDirectory(io, dir);
                length = JOURNAL_HEADER_SIZE;
            }
            replaceFile(opened, n);
            size = length;
        } catch (IOException e) {
            Quietly.close(opened, path);
            throw new UnidistException("could not open journal " + path + " for appending: " + e, e);
        }
    }

    long segment() {
        return segment;
    }

    /**
     * Appends one record; forced before returning under {@link FsyncPolicy#everyWrite()}.
     *
     * @throws UnidistException naming the file and offset when it cannot be written or forced;
     *     the segment is then as it was (see the class comment for the one exception)
     */
    void append(byte[] record) {
        byte[] bytes = StoreFormat.encodeRecord(record);
        long start = size;
        try {
            if (partialRecordAtEnd) {
                file.truncate(start);
                partialRecordAtEnd = false;
            }
            file.write(start, bytes);
            if (fsync.isEveryWrite()) {
                file.force();
            }
        } catch (IOException e) {
            boolean undone = truncateBack(start, e);
            throw new UnidistException("could not append a record of " + record.length + " bytes to journal "
                    + path(segment) + " at offset " + start + ": " + e + (undone
                    ? "; the journal is as it was before the call"
                    : "; the partial record will be cut off before the next append (or as a torn tail on the next open)"), e);
        }
        size = start + bytes.length;
        if (!fsync.isEveryWrite()) {
            unforced.set(true);
        }
    }

    /** Cuts a failed append off again; returns whether that worked. */
    private boolean truncateBack(long length, IOException failure) {
        try {
            file.truncate(length);
            return true;
        } catch (IOException e) {
            failure.addSuppressed(e);
            partialRecordAtEnd = true;
            return false;
        }
    }

    /**
     * Forces what was appended and not yet forced, unless the policy is {@code never()}.
     *
     * @throws UnidistException naming the file when the force fails
     */
    void force() {
        if (fsync.isNever() || !unforced.get()) {
            return;
        }
        try {
            file.force();
            unforced.set(false);
        } catch (IOException e) {
            throw new UnidistException("could not force journal " + path(segment) + ": " + e, e);
        }
    }

    /**
     * Creates the segment after the active one, with its header, forced. A file of that name can
     * only be left over from an earlier attempt that failed before anything was appended to it,
     * so it is overwritten.
     *
     * @throws UnidistException naming the file when it cannot be created (it is removed again)
     */
    NextSegment createNext() {
        long n = segment + 1;
        Path path = path(n);
        StoreFile created = null;
        try {
            created = io.open(path);
            writeHeader(created, n);
            return new NextSegment(n, created);
        } catch (IOException e) {
            Quietly.close(created, path);
            Quietly.delete(io, path);
            throw new UnidistException("could not create journal " + path + ": " + e, e);
        }
    }

    /** Appends go to {@code next} from now on; the previous segment is closed (callers forced it). */
    void switchTo(NextSegment next) {
        long previousNumber = segment;
        StoreFile previous = replaceFile(next.file, next.number);
        Quietly.close(previous, path(previousNumber));
        size = JOURNAL_HEADER_SIZE;
        partialRecordAtEnd = false;
    }

    /**
     * Stops the periodic fsync, forces what is unforced (unless the policy is {@code never()})
     * and closes the file.
     *
     * @throws UnidistException naming the file when the force fails; the file is closed all the same
     */
    void close() {
        if (periodicFsync != null) {
            periodicFsync.cancel(false);
        }
        Path path = path(segment);
        fileLock.lock();
        try {
            if (!fsync.isNever() && unforced.get()) {
                file.force();
            }
        } catch (IOException e) {
            throw new UnidistException("could not force journal " + path + " on close: " + e, e);
        } finally {
            Quietly.close(file, path);
            file = null;
            fileLock.unlock();
        }
    }

    /** Run by the fsync thread every interval. */
    private void forceInBackground() {
        fileLock.lock();
        try {
            if (file == null || !unforced.getAndSet(false)) {
                return;
            }
            file.force();
        } catch (IOException e) {
            unforced.set(true);
            log.warn("{}: background fsync failed, retrying at the next interval: {}", path(segment), e.toString());
        } finally {
            fileLock.unlock();
        }
    }

    private StoreFile replaceFile(StoreFile replacement, long number) {
        fileLock.lock();
        try {
            StoreFile previous = file;
            file = replacement;
            segment = number;
            unforced.set(false);
            return previous;
        } finally {
            fileLock.unlock();
        }
    }

    private void writeHeader(StoreFile target, long n) throws IOException {
        target.truncate(0);
        target.write(0, StoreFormat.journalHeader(n));
        if (!fsync.isNever()) {
            target.force();
        }
    }

    private Path path(long n) {
        return dir.resolve(StoreFormat.journalName(n));
    }
}
