package io.unidist.internal.store;

import static io.unidist.internal.store.StoreFormat.JOURNAL_HEADER_SIZE;

import io.unidist.UnidistException;
import io.unidist.internal.store.SegmentScanner.BadRecord;
import io.unidist.internal.store.SegmentScanner.Result;
import io.unidist.internal.store.StoreIo.StoreFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recovers a store directory into a {@link Recovery}: picks the newest usable snapshot, checks
 * that the journal segments after it are all there, replays them, and cuts off a torn tail.
 * The algorithm is described at the top of {@link DurableStore}.
 *
 * <p>It changes nothing on disk except cutting torn tails, which it does only once everything has
 * been read: when it throws while reading, no file was changed.
 */
final class StoreRecoverer {
    private static final Logger log = LoggerFactory.getLogger(StoreRecoverer.class);

    /**
     * What recovery found. {@code from} is the number of the snapshot used (1 with none: the
     * journal's beginning), which is also the first journal segment replayed.
     */
    record Recovered(long from, long lastSegment, long recordsAfterSnapshot, long highestNumber, Set<Long> unusableSnapshots) {
    }

    /** The snapshot recovery starts from; {@code payload} is null when it starts from nothing. */
    private record Base(long from, Path file, byte[] payload, Set<Long> unusableSnapshots) {
    }

    private final Path dir;
    private final StoreDirectory files;
    private final boolean force;
    private final StoreIo io;
    private final Recovery recovery;
    /** A check (see {@link #check}) reports nothing and cuts nothing: the open that follows will. */
    private final boolean checkOnly;
    /** Cut only once every segment has been read, so that a failing open changes no file. */
    private final List<TornTail> tornTails = new ArrayList<>();

    private record TornTail(Path file, long fileSize, BadRecord bad) {
    }

    private StoreRecoverer(Path dir, StoreDirectory files, boolean force, StoreIo io, Recovery recovery, boolean checkOnly) {
        this.checkOnly = checkOnly;
        this.dir = dir;
        this.files = files;
        this.force = force;
        this.io = io;
        this.recovery = recovery;
    }

    /**
     * Replays {@code files} into {@code recovery}.
     *
     * @param force whether cutting a torn tail is forced to the device
     * @throws UnidistException naming the file (and offset) that cannot be recovered
     */
    static Recovered recover(Path dir, StoreDirectory files, boolean force, StoreIo io, Recovery recovery) {
        return new StoreRecoverer(dir, files, force, io, recovery, false).recover();
    }

    /**
     * Reads {@code files} as {@link #recover} would, checking every checksum, and throws what it
     * would throw; but it logs nothing, changes no file (a torn tail is left for the open to cut)
     * and discards what it reads.
     *
     * @throws UnidistException naming the file (and offset) that cannot be recovered
     */
    static void check(Path dir, StoreDirectory files) {
        Recovery discard = new Recovery() {
            @Override
            public void snapshot(byte[] state) {
            }

            @Override
            public void record(byte[] record) {
            }
        };
        new StoreRecoverer(dir, files, false, StoreIo.real(), discard, true).recover();
    }

    private Recovered recover() {
        Base base = chooseBase();
        NavigableMap<Long, Path> segments = files.journals().tailMap(base.from(), true);
        requireContiguous(base, segments);
        if (base.payload() != null) {
            applySnapshot(base);
        }
        long records = 0;
        for (Map.Entry<Long, Path> segment : segments.entrySet()) {
            records += replay(segment.getKey(), segment.getValue());
        }
        if (!checkOnly) {
            tornTails.forEach(this::cut);
        }
        long lastSegment = segments.isEmpty() ? 0 : segments.lastKey();
        return new Recovered(base.from(), lastSegment, records, files.highestNumber(), base.unusableSnapshots());
    }

    /** The newest usable snapshot, falling back past unusable ones, else the journal's beginning. */
    private Base chooseBase() {
        List<String> unusable = new ArrayList<>();
        Set<Long> unusableNumbers = new HashSet<>();
        for (Map.Entry<Long, Path> snapshot : files.snapshots().descendingMap().entrySet()) {
            SnapshotFiles.Read read = readSnapshot(snapshot.getValue(), snapshot.getKey());
            if (read.usable()) {
                requireNothingLost(unusable, unusableNumbers, snapshot.getKey(), "the older snapshot " + snapshot.getValue());
                warnFallback(unusable, snapshot.getValue());
                return new Base(snapshot.getKey(), snapshot.getValue(), read.payload(), unusableNumbers);
            }
            unusable.add(snapshot.getValue() + " (" + read.problem() + ")");
            unusableNumbers.add(snapshot.getKey());
        }
        boolean journalLacksItsBeginning = !files.journals().isEmpty() && files.journals().firstKey() != 1L;
        if (journalLacksItsBeginning) {
            throw cannotRecoverFromBeginning(unusable);
        }
        requireNothingLost(unusable, unusableNumbers, 1, "empty state");
        if (!unusable.isEmpty()) {
            warn("{}: no usable snapshot: {}; recovering from the beginning of the journal, {}", dir,
                    String.join(", ", unusable), files.journals().firstEntry().getValue());
        }
        return new Base(1, null, null, unusableNumbers);
    }

    /**
     * Falling back past damaged snapshots is allowed only when the journal holds every change they
     * held: the segments from the fallback's number to the one before the newest damaged
     * snapshot (their contiguity is checked afterwards). Otherwise the fallback would silently
     * undo changes that callers were told are saved; a counter used as an id generator would hand
     * out ids twice. In snapshot mode there is no journal, so this always refuses: a human must
     * accept the loss by moving the damaged files aside.
     *
     * @param fallback what recovery would start from, for the message
     */
    private void requireNothingLost(List<String> unusable, Set<Long> unusableNumbers, long from, String fallback) {
        if (unusable.isEmpty()) {
            return;
        }
        long newestDamaged = unusableNumbers.stream().mapToLong(Long::longValue).max().orElseThrow();
        NavigableMap<Long, Path> journals = files.journals();
        if (journals.containsKey(from) && journals.lastKey() >= newestDamaged - 1) {
            return;
        }
        String damaged = unusableNumbers.stream().sorted().map(n -> files.snapshots().get(n).toString())
                .reduce((a, b) -> a + " and " + b).orElseThrow();
        String gap = journals.isEmpty() ? "there is no journal (snapshot mode)"
                : !journals.containsKey(from) ? dir.resolve(StoreFormat.journalName(from)) + " is missing"
                : "the journal ends at " + journals.lastEntry().getValue();
        throw new UnidistException("cannot recover the store in " + dir + ": unusable snapshot(s): "
                + String.join(", ", unusable) + "; " + gap + ", so recovering from " + fallback
                + " would lose the changes saved only in them. No file was changed. Restore the file(s) from a backup, or, to accept"
                + " that loss knowingly, move " + damaged + " out of the directory (or rename it to end in .damaged)"
                + " and open again");
    }

    /** Only called once {@link #requireNothingLost} passed: the journal after the fallback has everything. */
    private void warnFallback(List<String> unusable, Path fallback) {
        if (unusable.isEmpty()) {
            return;
        }
        warn("{}: unusable snapshot(s): {}; recovering from the previous one, {}, and the journal after it,"
                + " which hold every change", dir, String.join(", ", unusable), fallback);
    }

    private UnidistException cannotRecoverFromBeginning(List<String> unusable) {
        String snapshots = unusable.isEmpty() ? "there is no snapshot" : "no snapshot is usable: " + String.join(", ", unusable);
        String journal = files.journals().isEmpty()
                ? "there is no journal"
                : "the oldest journal is " + files.journals().firstEntry().getValue();
        return new UnidistException("cannot recover the store in " + dir + ": " + snapshots + "; and "
                + dir.resolve(StoreFormat.journalName(1)) + " is missing (" + journal
                + "), so the journal does not reach back to the beginning. No file was changed; restore the files from a backup");
    }

    private SnapshotFiles.Read readSnapshot(Path file, long number) {
        try {
            return SnapshotFiles.read(file, number);
        } catch (IOException e) {
            throw new UnidistException("could not read snapshot " + file + ": " + e, e);
        }
    }

    /**
     * Every segment from the base's number on must be there: a missing one held records that
     * the later ones build on. Only the first may be missing when nothing follows it (a crash
     * right after the snapshot, before the new segment reached the disk).
     */
    private void requireContiguous(Base base, NavigableMap<Long, Path> segments) {
        long expected = base.from();
        for (long segment : segments.keySet()) {
            if (segment != expected) {
                String after = base.file() == null ? "the beginning of the journal" : base.file().toString();
                throw new UnidistException("cannot recover the store in " + dir + ": "
                        + dir.resolve(StoreFormat.journalName(expected)) + " is missing between " + after + " and "
                        + segments.get(segment) + ". No file was changed; restore the missing file from a backup");
            }
            expected++;
        }
    }

    private void applySnapshot(Base base) {
        try {
            recovery.snapshot(base.payload());
        } catch (RuntimeException e) {
            throw new UnidistException("snapshot " + base.file() + " (" + base.payload().length
                    + " bytes) could not be applied: " + e, e);
        }
    }

    /** Replays one segment; returns its number of good records. */
    private long replay(long segment, Path file) {
        try {
            long size = Files.size(file);
            if (size < JOURNAL_HEADER_SIZE) {
                return shortSegment(segment, file, size);
            }
            Result result = SegmentScanner.scan(file, segment, (payload, offset) -> applyRecord(file, payload, offset));
            if (result.bad() != null) {
                requireTornTail(segment, file, result);
                tornTails.add(new TornTail(file, result.fileSize(), result.bad()));
            }
            return result.records();
        } catch (IOException e) {
            throw new UnidistException("could not read journal " + file + ": " + e, e);
        }
    }

    /** A segment without a whole header: a crash while creating it, acceptable only as the last one. */
    private long shortSegment(long segment, Path file, long size) throws IOException {
        Path later = laterSegmentWithRecords(segment);
        if (later != null || files.journals().lastKey() != segment) {
            throw new UnidistException("journal " + file + ": only " + size + " bytes, shorter than its "
                    + JOURNAL_HEADER_SIZE + "-byte header, yet later segments follow it. No file was changed");
        }
        warn("{}: only {} bytes, shorter than its {}-byte header (a crash while creating it); it holds no records and will be rewritten",
                file, size, JOURNAL_HEADER_SIZE);
        return 0;
    }

    private void applyRecord(Path file, byte[] payload, long offset) {
        try {
            recovery.record(payload);
        } catch (RuntimeException e) {
            throw new UnidistException("journal " + file + ": the record at offset " + offset + " (" + payload.length
                    + " bytes) could not be applied: " + e, e);
        }
    }

    /**
     * Accepts a bad record as a torn tail, to be cut off, when nothing valid follows it in its
     * file and no later segment holds a record. Anything else is damage that cutting would turn
     * into silent loss, so it fails, naming the file and the offset.
     */
    private void requireTornTail(long segment, Path file, Result result) throws IOException {
        BadRecord bad = result.bad();
        Path later = laterSegmentWithRecords(segment);
        if (bad.validDataAfter() != null || later != null) {
            String evidence = bad.validDataAfter() != null ? bad.validDataAfter() : later + " holds later records";
            throw new UnidistException("journal " + file + ": bad record at offset " + bad.offset() + ": " + bad.problem()
                    + "; " + evidence + ", so this is damage inside the journal, not a write cut short by a crash. "
                    + "The file was left unchanged; restore it from a backup, or truncate it to " + bad.offset()
                    + " bytes to keep the " + result.records() + " records before it and lose the rest");
        }
    }

    private void cut(TornTail torn) {
        BadRecord bad = torn.bad();
        try (StoreFile out = io.open(torn.file())) {
            out.truncate(bad.offset());
            if (force) {
                out.force();
            }
        } catch (IOException e) {
            throw new UnidistException("journal " + torn.file() + ": could not cut off the torn record at offset "
                    + bad.offset() + ": " + e, e);
        }
        warn("{}: cut off a torn record at offset {} ({} bytes dropped: {}); a write was cut short by a crash",
                torn.file(), bad.offset(), torn.fileSize() - bad.offset(), bad.problem());
    }

    private void warn(String format, Object... args) {
        if (!checkOnly) {
            log.warn(format, args);
        }
    }

    /** The first segment after {@code segment} that holds a record, or null. */
    private Path laterSegmentWithRecords(long segment) throws IOException {
        for (Path later : files.journals().tailMap(segment, false).values()) {
            if (Files.size(later) > JOURNAL_HEADER_SIZE) {
                return later;
            }
        }
        return null;
    }
}
