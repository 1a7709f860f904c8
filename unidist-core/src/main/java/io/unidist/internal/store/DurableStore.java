package io.unidist.internal.store;

import static io.unidist.internal.store.StoreFormat.MAX_RECORD_SIZE;

import io.unidist.FsyncPolicy;
import io.unidist.Persistence;
import io.unidist.UnidistException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * File layout (one directory per store; the bytes are in StoreFormat)
 * -----------------------------------------------------------------
 *   store.lock          held with a FileLock while the store is open: one store per directory
 *   journal-<n>.log     segment n of the journal (archive mode): header, then records
 *                       [int length][int CRC32C(length, payload)][payload]
 *   snapshot-<n>.snap   the whole state as of the start of journal segment n: header
 *                       (magic, version, n, payload length, payload CRC32C, header CRC32C), payload
 *   snapshot-<n>.snap.tmp   a snapshot being written; removed on open
 *
 * Snapshot n covers every record in segments < n; recovery replays segments n, n+1, ... after
 * it. Without a snapshot, recovery starts from empty state and segment 1. In snapshot mode
 * there is no journal and snapshots are simply numbered 1, 2, 3, ...
 *
 * Snapshot mode with FsyncPolicy.every(interval): each change still writes and renames a whole
 * snapshot (so a killed process loses nothing: the bytes are in the OS), but nothing is forced
 * then. Every interval the unidist-fsync thread forces the newest snapshot and the directory;
 * that snapshot becomes the "durable" one. Snapshots written after the durable one are not
 * fallbacks (a power loss may leave them empty), so retention keeps the two newest durable
 * snapshots plus the newest written one, and deletes the unforced ones in between, which the
 * newest supersedes; without that, a busy counter would leave a file per change per interval.
 *
 * Taking a snapshot in archive mode, while on segment k:
 *   1. force segment k (unless fsync never): a fallback to the previous snapshot will need it;
 *   2. create journal-(k+1).log with its header, forced;
 *   3. write snapshot-(k+1).snap.tmp, force it, rename it to snapshot-(k+1).snap, force the dir;
 *   4. switch appends to segment k+1;
 *   5. only now delete what is no longer needed (retention).
 * A crash between any two steps recovers: before 3 completes, snapshot k+1 does not exist and
 * the empty segment k+1 just follows k; after it, segment k+1 follows snapshot k+1.
 * If step 2 or 3 fails, segment k+1 is deleted again and appends stay on segment k.
 *
 * Retention: keep the two newest snapshots not known to be unusable, and every journal segment
 * from the older of them on, so that a newest snapshot found corrupt at the next open falls
 * back to the older one plus the journal after it, losing nothing. With only one snapshot,
 * the journal back to segment 1 is kept for the same reason.
 *
 * Recovery on open (StoreRecoverer):
 *   1. Try snapshots from the newest down; a damaged one (short, checksum or header mismatch)
 *      is skipped with a WARN naming it, but only when the journal holds every change it held
 *      (segments from the fallback's number up to the damaged snapshot's). Otherwise (always in
 *      snapshot mode, which has no journal) open fails naming it: falling back would undo
 *      acknowledged changes, and a human must accept that by moving the file aside. A wrong
 *      magic or an unknown version is not damage but a foreign or newer file: open fails
 *      naming it rather than guess.
 *   2. With no usable snapshot, start from empty state if journal-1.log exists (or there are no
 *      files at all), under the same rule; otherwise fail, naming the unusable snapshots and
 *      the missing segment.
 *   3. Require every segment from the chosen snapshot's number to the last one: a gap fails.
 *   4. Hand the snapshot to Recovery.snapshot, then each record of those segments in order to
 *      Recovery.record.
 *   5. At the first bad record (short header, length out of range or past the end of file,
 *      checksum mismatch): if nothing valid follows it in its file (checked by looking for a
 *      valid record at every later offset) and no later segment holds a record, it is a torn
 *      tail left by a crash mid-append: truncate the file there and WARN with file, offset and
 *      bytes dropped. Anything else is damage: fail naming the file and offset, change nothing.
 *   6. Delete leftover snapshot-*.snap.tmp files; open the last segment for appending.
 */

/**
 * The durable storage of one primitive: a directory with a journal of changes and snapshots of
 * the whole state, written as its {@link Persistence} says. Layout and recovery are described
 * in the comment at the top of this file.
 *
 * <p><b>Durability.</b> Whatever the {@link FsyncPolicy}, a change is handed to the operating
 * system before {@link #write} returns, so it survives the process being killed. With
 * {@link FsyncPolicy#everyWrite()} it is also forced to the device before {@code write}
 * returns; with {@link FsyncPolicy#every} a shared daemon thread, {@code unidist-fsync}, forces
 * the journal at that interval and {@link #close()} forces the rest; with
 * {@link FsyncPolicy#never()} nothing is forced. In archive mode a snapshot is forced unless the
 * policy is {@code never()}; in snapshot mode it is forced as the policy says (with
 * {@code every}, the newest snapshot is forced by the same thread at that interval and by
 * {@link #close()}). In snapshot mode, changes between two snapshots are not written at all:
 * the caller takes a {@link #snapshot} on close when {@link #hasUnsnapshottedChanges()}.
 *
 * <p><b>Failure.</b> {@code open} fails with an {@link UnidistException} naming the file (and
 * offset) that cannot be recovered, never dropping data silently. {@code write} on an I/O error
 * (a full disk) throws an {@link UnidistException} naming the file and leaves the files as they
 * were, so the caller can undo its change and keep going: the store works again once the cause
 * is gone. A snapshot that fails after its record was appended in archive mode does not fail
 * the write (the record is durable in the journal): it is logged and retried on the next write.
 *
 * <p><b>Thread safety.</b> All methods may be called from any thread; they are serialised by an
 * internal lock (callers hold their own lock anyway, so it is uncontended). The background
 * fsync thread does not take that lock: it synchronises with the journal alone, so that it never
 * forces a closed file and never makes a write wait (see {@link JournalWriter}).
 */
public final class DurableStore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DurableStore.class);

    private final Path dir;
    private final Persistence persistence;
    private final StoreIo io;
    private final FileChannel directoryLock;
    /** Serialises the public methods; the journal's background fsync does not take it. */
    private final ReentrantLock stateLock = new ReentrantLock();
    /** Snapshots found unusable at open: retention does not count them as fallbacks. */
    private final Set<Long> unusableSnapshots;

    // Guarded by stateLock.
    /** The journal in archive mode, else null. */
    private JournalWriter journal;
    private long nextSnapshot;
    private long changesSinceSnapshot;
    private boolean snapshotsFailing;
    private boolean closed;
    /** The newest snapshot known to be on the device; below {@code nextSnapshot - 1} only while a periodic force is due. */
    private long durableSnapshot;
    /** The periodic force of snapshots in snapshot mode with {@link FsyncPolicy#every}, else null. */
    private Future<?> periodicSnapshotForce;

    private DurableStore(Path dir, Persistence persistence, StoreIo io, FileChannel directoryLock, Set<Long> unusableSnapshots) {
        this.dir = dir;
        this.persistence = persistence;
        this.io = io;
        this.directoryLock = directoryLock;
        this.unusableSnapshots = unusableSnapshots;
    }

    /**
     * Opens the store in {@code dir}, creating the directory if needed, and replays its contents
     * into {@code recovery}. With {@link Persistence.Mode#NONE} no file is touched and
     * {@code recovery} is never called.
     *
     * @throws UnidistException naming the file (and the offset) when something cannot be
     *     recovered, naming the directory when it cannot be created or is in use by another store
     */
    public static DurableStore open(Path dir, Persistence persistence, Recovery recovery) {
        return open(dir, persistence, recovery, StoreIo.real());
    }

    /** {@link #open(Path, Persistence, Recovery)} through {@code io}: for tests that inject faults. */
    static DurableStore open(Path dir, Persistence persistence, Recovery recovery, StoreIo io) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(persistence, "persistence");
        Objects.requireNonNull(recovery, "recovery");
        if (persistence.mode() == Persistence.Mode.NONE) {
            return new DurableStore(dir, persistence, io, null, Set.of());
        }
        createDirectory(dir);
        FileChannel directoryLock = lockDirectory(dir);
        try {
            return recoverAndStart(dir, persistence, recovery, io, directoryLock);
        } catch (RuntimeException e) {
            Quietly.close(directoryLock, dir.resolve(StoreFormat.LOCK_FILE));
            throw e;
        }
    }

    /**
     * Reads the store in {@code dir} as {@link #open} would, without applying, logging or changing
     * anything, so that a node can refuse to start over a file it could not recover. The caller
     * makes sure that no store has {@code dir} open.
     *
     * @throws UnidistException naming the file (and the offset) when something cannot be
     *     recovered, exactly as {@code open} would
     */
    public static void check(Path dir) {
        StoreRecoverer.check(dir, listFiles(dir));
    }

    private static DurableStore recoverAndStart(Path dir, Persistence persistence, Recovery recovery, StoreIo io,
                                                FileChannel directoryLock) {
        StoreDirectory files = listFiles(dir);
        boolean force = !persistence.fsync().isNever();
        StoreRecoverer.Recovered recovered = StoreRecoverer.recover(dir, files, force, io, recovery);
        removeLeftovers(files.temporaries(), io);
        DurableStore store = new DurableStore(dir, persistence, io, directoryLock, new HashSet<>(recovered.unusableSnapshots()));
        store.start(recovered);
        return store;
    }

    /** Temporary snapshots are never read: one left behind is from a snapshot a crash interrupted. */
    private static void removeLeftovers(List<Path> temporaries, StoreIo io) {
        for (Path temp : temporaries) {
            log.info("{}: removing a temporary snapshot left by an interrupted snapshot", temp);
            Quietly.delete(io, temp);
        }
    }

    private void start(StoreRecoverer.Recovered recovered) {
        changesSinceSnapshot = recovered.recordsAfterSnapshot();
        nextSnapshot = recovered.highestNumber() + 1;
        durableSnapshot = recovered.highestNumber();
        if (forcesSnapshotsPeriodically()) {
            periodicSnapshotForce = FsyncScheduler.every(persistence.fsync().interval(), dir.toString(),
                    this::forceSnapshotInBackground);
        }
        if (persistence.mode() != Persistence.Mode.ARCHIVE) {
            return;
        }
        long active = Math.max(recovered.lastSegment(), recovered.from());
        journal = JournalWriter.open(dir, io, persistence.fsync(), active);
    }

    /**
     * Makes one change durable as the persistence says (see the class comment). {@code state} is
     * asked for only when a snapshot is due, and must return the state including this change.
     *
     * @throws UnidistException naming the file when it cannot be written; the files are then
     *     as they were before the call
     * @throws IllegalArgumentException when an archive's record is larger than 64 MiB
     * @throws IllegalStateException when the store is closed
     */
    public void write(byte[] record, Supplier<byte[]> state) {
        Objects.requireNonNull(record, "record");
        Objects.requireNonNull(state, "state");
        stateLock.lock();
        try {
            requireOpen();
            switch (persistence.mode()) {
                case NONE -> {
                }
                case SNAPSHOT -> countChangeAndMaybeSnapshot(state);
                case ARCHIVE -> appendAndMaybeSnapshot(record, state);
                default -> throw new AssertionError(persistence.mode());
            }
        } finally {
            stateLock.unlock();
        }
    }

    /**
     * Writes a snapshot of {@code state} now; in archive mode the journal continues in a new
     * segment after it.
     *
     * @throws UnidistException naming the file when it cannot be written; the snapshots and the
     *     journal are then as they were
     * @throws IllegalStateException when the store is closed
     */
    public void snapshot(byte[] state) {
        Objects.requireNonNull(state, "state");
        stateLock.lock();
        try {
            requireOpen();
            switch (persistence.mode()) {
                case NONE -> {
                }
                case SNAPSHOT -> writeWholeSnapshot(state);
                case ARCHIVE -> rollOver(state);
                default -> throw new AssertionError(persistence.mode());
            }
        } finally {
            stateLock.unlock();
        }
    }

    /** Whether changes were written (or recovered from the journal) since the last snapshot. */
    public boolean hasUnsnapshottedChanges() {
        stateLock.lock();
        try {
            return changesSinceSnapshot > 0;
        } finally {
            stateLock.unlock();
        }
    }

    /**
     * Forces what is written (unless the policy is {@code never()}) and closes the files. Does
     * not take a snapshot: in snapshot mode, call {@link #snapshot} first when
     * {@link #hasUnsnapshottedChanges()}. Idempotent.
     *
     * @throws UnidistException naming the journal when the final force fails; the store is
     *     closed all the same
     */
    @Override
    public void close() {
        stateLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (journal != null) {
                    journal.close();
                }
                if (periodicSnapshotForce != null) {
                    periodicSnapshotForce.cancel(false);
                    forceNewestSnapshot();
                }
            } finally {
                Quietly.close(directoryLock, dir.resolve(StoreFormat.LOCK_FILE));
            }
        } finally {
            stateLock.unlock();
        }
    }

    @Override
    public String toString() {
        return "DurableStore[" + dir + ", " + persistence + "]";
    }

    // ---- snapshot mode ----

    private void countChangeAndMaybeSnapshot(Supplier<byte[]> state) {
        changesSinceSnapshot++;
        if (changesSinceSnapshot < persistence.snapshotEvery()) {
            return;
        }
        try {
            writeWholeSnapshot(state.get());
        } catch (RuntimeException e) {
            changesSinceSnapshot--; // the caller undoes the change
            throw e;
        }
    }

    private void writeWholeSnapshot(byte[] state) {
        boolean forceNow = forcing() && !forcesSnapshotsPeriodically();
        SnapshotFiles.write(io, dir, nextSnapshot, state, forceNow);
        if (!forcesSnapshotsPeriodically()) {
            durableSnapshot = nextSnapshot;
        }
        nextSnapshot++;
        changesSinceSnapshot = 0;
        deleteSuperseded();
    }

    /** Run by the fsync thread every interval; takes the lock so that no write deletes the file it forces. */
    private void forceSnapshotInBackground() {
        stateLock.lock();
        try {
            if (!closed) {
                forceNewestSnapshot();
            }
        } finally {
            stateLock.unlock();
        }
    }

    /** Forces the newest snapshot and the directory, unless already done; the older ones may then go. */
    private void forceNewestSnapshot() {
        long newest = nextSnapshot - 1;
        if (newest <= durableSnapshot) {
            return;
        }
        Path file = dir.resolve(StoreFormat.snapshotName(newest));
        try (StoreIo.StoreFile snapshot = io.open(file)) {
            snapshot.force();
        } catch (IOException e) {
            throw new UnidistException("could not force snapshot " + file + ": " + e, e);
        }
        SnapshotFiles.forceDirectory(io, dir);
        durableSnapshot = newest;
        deleteSuperseded();
    }

    // ---- archive mode ----

    private void appendAndMaybeSnapshot(byte[] record, Supplier<byte[]> state) {
        if (record.length > MAX_RECORD_SIZE) {
            throw new IllegalArgumentException("a record of " + record.length + " bytes is larger than the journal's limit of "
                    + MAX_RECORD_SIZE + " bytes (store " + dir + ")");
        }
        journal.append(record);
        changesSinceSnapshot++;
        if (changesSinceSnapshot >= persistence.snapshotEvery()) {
            snapshotAfterAppend(state);
        }
    }

    /**
     * The record is already durable in the journal, so a failed snapshot must not fail the write
     * (the caller would undo a change that a restart replays). It is logged once per run of
     * failures and retried on the next write; the journal keeps everything meanwhile.
     */
    private void snapshotAfterAppend(Supplier<byte[]> state) {
        try {
            rollOver(state.get());
            if (snapshotsFailing) {
                log.info("{}: snapshots are written again", dir);
                snapshotsFailing = false;
            }
        } catch (RuntimeException e) {
            if (!snapshotsFailing) {
                log.warn("{}: could not take a snapshot after {} journal records; the journal keeps every change and the"
                        + " snapshot is retried on each write: {}", dir, changesSinceSnapshot, e.toString(), e);
            }
            snapshotsFailing = true;
        }
    }

    /** Snapshot k+1 and a fresh segment k+1; the steps are in the comment at the top of the file. */
    private void rollOver(byte[] state) {
        journal.force();
        JournalWriter.NextSegment next = journal.createNext();
        try {
            SnapshotFiles.write(io, dir, next.number(), state, forcing());
        } catch (RuntimeException e) {
            next.discard();
            throw e;
        }
        journal.switchTo(next);
        changesSinceSnapshot = 0;
        durableSnapshot = next.number();
        nextSnapshot = next.number() + 1;
        deleteSuperseded();
    }

    // ---- retention ----

    /**
     * Deletes snapshots and segments older than the older of the two newest usable durable
     * snapshots, and the unforced snapshots that the newest one supersedes. Runs only after a new
     * snapshot is written. A failure to list or delete is logged: the files are merely kept
     * longer, and the next snapshot tries again.
     */
    private void deleteSuperseded() {
        StoreDirectory files;
        try {
            files = StoreDirectory.list(dir);
        } catch (IOException e) {
            log.warn("{}: could not list the directory to delete old files: {}", dir, e.toString());
            return;
        }
        long newest = nextSnapshot - 1;
        List<Long> fallbacks = new ArrayList<>(2);
        for (Map.Entry<Long, Path> snapshot : files.snapshots().descendingMap().entrySet()) {
            long n = snapshot.getKey();
            if (n > durableSnapshot && n < newest) {
                Quietly.delete(io, snapshot.getValue());
            } else if (n <= durableSnapshot && fallbacks.size() < 2 && !unusableSnapshots.contains(n)) {
                fallbacks.add(n);
            }
        }
        if (fallbacks.size() < 2) {
            return;
        }
        long oldestKept = fallbacks.get(1);
        deleteBelow(files.journals(), oldestKept);
        deleteBelow(files.snapshots(), oldestKept);
        unusableSnapshots.removeIf(n -> n < oldestKept);
    }

    private void deleteBelow(Map<Long, Path> files, long oldestKept) {
        files.forEach((n, file) -> {
            if (n < oldestKept) {
                Quietly.delete(io, file);
            }
        });
    }

    // ---- helpers ----

    private boolean forcing() {
        return !persistence.fsync().isNever();
    }

    /** Snapshot mode with {@link FsyncPolicy#every}: snapshots are forced by the fsync thread, not by writes. */
    private boolean forcesSnapshotsPeriodically() {
        return persistence.mode() == Persistence.Mode.SNAPSHOT && persistence.fsync().interval() != null;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("store " + dir + " is closed");
        }
    }

    private static StoreDirectory listFiles(Path dir) {
        try {
            return StoreDirectory.list(dir);
        } catch (IOException e) {
            throw new UnidistException("could not list store directory " + dir + ": " + e, e);
        }
    }

    private static void createDirectory(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UnidistException("could not create store directory " + dir + ": " + e, e);
        }
    }

    /** One store per directory: two would interleave their appends and delete each other's files. */
    private static FileChannel lockDirectory(Path dir) {
        Path file = dir.resolve(StoreFormat.LOCK_FILE);
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UnidistException("could not open lock file " + file + ": " + e, e);
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException heldInThisProcess) {
            lock = null;
        } catch (IOException e) {
            Quietly.close(channel, file);
            throw new UnidistException("could not lock " + file + ": " + e, e);
        }
        if (lock == null) {
            Quietly.close(channel, file);
            throw new UnidistException("store directory " + dir + " is in use by another store (" + file
                    + " is locked); one store, in one process, may use a directory at a time");
        }
        return channel;
    }
}
