package io.unidist;

import java.util.Objects;

/**
 * How a primitive keeps its data across restarts. Immutable; change it with the
 * {@code with...} methods.
 *
 * <ul>
 *   <li>{@link #none()}: memory only; a restart starts empty.</li>
 *   <li>{@link #snapshot()}: the whole state is written to a snapshot file (temporary file,
 *       rename) every {@link #snapshotEvery()} changes. With the default of 1, nothing
 *       that returned is lost when the process crashes; with more, a crash loses the changes
 *       since the last snapshot. With {@link FsyncPolicy#everyWrite()} each snapshot is forced
 *       to the device before the rename; with {@link FsyncPolicy#every} the newest snapshot is
 *       forced at that interval (and on close), so a power loss may lose the changes of the
 *       last interval. Right for small state such as a counter. The default for counters.</li>
 *   <li>{@link #archive()}: every change is appended to a journal (length-prefixed,
 *       checksummed records) before the call returns, and a snapshot is taken every
 *       {@link #snapshotEvery()} journal records so that the journal stays bounded. Nothing
 *       that returned is lost. The default for state buckets and queues.</li>
 * </ul>
 * The {@link FsyncPolicy} decides what survives a power loss; the default forces every write.
 *
 * <p>A node made by {@link Unidist#local()} has no data directory and keeps nothing, whatever
 * the primitive's persistence says.
 */
public final class Persistence {
    /** The three ways of keeping data. */
    public enum Mode {
        /** Memory only. */
        NONE,
        /** Whole-state snapshots. */
        SNAPSHOT,
        /** A journal of changes plus snapshots. */
        ARCHIVE
    }

    /** Journal records between two snapshots of an archive, by default. */
    public static final long DEFAULT_ARCHIVE_SNAPSHOT_EVERY = 10_000;

    private final Mode mode;
    private final FsyncPolicy fsync;
    private final long snapshotEvery;

    private Persistence(Mode mode, FsyncPolicy fsync, long snapshotEvery) {
        this.mode = mode;
        this.fsync = fsync;
        this.snapshotEvery = snapshotEvery;
    }

    /** Memory only. */
    public static Persistence none() {
        return new Persistence(Mode.NONE, FsyncPolicy.never(), 1);
    }

    /** A snapshot after every change, fsynced. */
    public static Persistence snapshot() {
        return new Persistence(Mode.SNAPSHOT, FsyncPolicy.everyWrite(), 1);
    }

    /** A journal fsynced on every write, and a snapshot every 10,000 records. */
    public static Persistence archive() {
        return new Persistence(Mode.ARCHIVE, FsyncPolicy.everyWrite(), DEFAULT_ARCHIVE_SNAPSHOT_EVERY);
    }

    /** The same persistence with another fsync policy. */
    public Persistence withFsync(FsyncPolicy policy) {
        return new Persistence(mode, Objects.requireNonNull(policy, "fsync policy"), snapshotEvery);
    }

    /**
     * The same persistence with a snapshot every {@code changes} changes (snapshot mode) or
     * journal records (archive mode).
     *
     * @throws IllegalArgumentException when {@code changes} is not positive
     */
    public Persistence withSnapshotEvery(long changes) {
        if (changes < 1) {
            throw new IllegalArgumentException("snapshotEvery must be at least 1, got " + changes);
        }
        return new Persistence(mode, fsync, changes);
    }

    /** How data is kept. */
    public Mode mode() {
        return mode;
    }

    /** When written data is forced to the device. */
    public FsyncPolicy fsync() {
        return fsync;
    }

    /** Changes (snapshot mode) or journal records (archive mode) between two snapshots. */
    public long snapshotEvery() {
        return snapshotEvery;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Persistence p && p.mode == mode && p.fsync.equals(fsync)
                && p.snapshotEvery == snapshotEvery;
    }

    @Override
    public int hashCode() {
        return Objects.hash(mode, fsync, snapshotEvery);
    }

    @Override
    public String toString() {
        return switch (mode) {
            case NONE -> "persistence none";
            case SNAPSHOT -> "persistence snapshot every " + snapshotEvery + " changes, " + fsync;
            case ARCHIVE -> "persistence archive, snapshot every " + snapshotEvery + " records, " + fsync;
        };
    }
}
