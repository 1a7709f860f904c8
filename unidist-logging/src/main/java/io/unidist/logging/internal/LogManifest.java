package io.unidist.logging.internal;

import ch.qos.logback.core.spi.LifeCycle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The manifest of one program's log files in one directory, {@code <dir>/<program>.manifest.json},
 * for scrapers that must resume without loss or duplicates; or of a collector's files,
 * {@code <collector dir>/collected.manifest.json} ({@link #startCollected}). The format and the
 * scraper's algorithm are in {@code docs/LOG-MANIFEST.md}.
 *
 * <h2>How it follows the files</h2>
 * A file is known by its {@linkplain Fingerprints fingerprint}, never by its name. Files this
 * process writes are reported by {@link ManifestedFileAppender} (opened, rotated, stopped),
 * whether a program's own ({@link LogSetup}) or a collector's ({@link CollectorWriter});
 * their offset and {@code seq} come from {@link ActiveFile#snapshot()}. Everything else is
 * found by listing the directory on each tick and fingerprinting files not seen before: where
 * logback renamed a rotated file, when its compression finished, what earlier processes left,
 * what logback's own clean-up deleted. Two rules keep a listing that races with a rename
 * (POSIX lets {@code readdir} miss such a file) from doing harm: a file counts as deleted only
 * after two ticks in a row without it, and a rotated file counts as compressed only when no
 * uncompressed copy is listed and the archive's trailer holds the expected length. Deletions
 * by {@link DiskBudget} are reported directly and show at once.
 *
 * <h2>Threads and cost</h2>
 * One daemon thread per manifest runs a tick every interval and soon after each event; logging
 * threads only enqueue events (on open, rollover and stop, not per record). Logback compresses
 * archives on its own thread and tells no one when it is done, so for up to 30 s after a
 * rollover, while the file is not compressed yet, ticks come every 50 ms (or the interval, if
 * shorter). A tick reads each
 * active file's snapshot under its appender's lock, lists the directory, and rewrites the
 * manifest through {@link AtomicFileWriter} only if something changed. On a logback reset or
 * stop, and at JVM exit (a shutdown hook), a last tick runs.
 *
 * <h2>Failure</h2>
 * If the manifest cannot be written (read-only directory, a directory in its place), one
 * warning goes to stderr, logging goes on, and each tick tries again; a successful write ends
 * the episode. Between two writes the manifest lags the files by up to one interval; a crash
 * loses only that lag, never the manifest itself.
 */
final class LogManifest implements LifeCycle {

    /** Suffix of the manifest's file name after the program name. */
    static final String SUFFIX = ".manifest.json";
    /** Deleted files listed at most, so that a scraper that was away learns of its loss. */
    static final int MAX_DELETED = 64;
    private static final int TICKS_BEFORE_DELETED = 2;
    /** How long after a rollover to look often for the end of its compression. */
    private static final long COMPRESSION_WATCH_NANOS = TimeUnit.SECONDS.toNanos(30);

    /** A file's place in its life; the wire names are part of the format. */
    enum State {
        ACTIVE("active"), ROTATED("rotated"), COMPRESSED("compressed"), DELETED("deleted");

        final String wire;

        State(String wire) {
            this.wire = wire;
        }
    }

    /** One listed file. Confined to the manifest thread. */
    static final class Entry {
        final String fingerprint;
        final String stream;
        final String node; // null for a program's own files
        final String track;
        final String format;
        final long order;
        String name;
        State state;
        long size;
        long offset = -1;
        long firstSeq;
        long lastSeq;
        ActiveFile writer;
        int misses;
        long rotatedAtNanos; // when this process rolled it over, 0 if it did not

        Entry(String fingerprint, String stream, String node, String track, String format, long order) {
            this.fingerprint = fingerprint;
            this.stream = stream;
            this.node = node;
            this.track = track;
            this.format = format;
            this.order = order;
        }
    }

    /** A file found by listing, with what reading it told. */
    private record Seen(LogFileName name, Object fileKey, long size, long modified, String fingerprint) {
        boolean sameAs(BasicFileAttributes attributes) {
            return Objects.equals(fileKey, attributes.fileKey()) && size == attributes.size()
                    && modified == attributes.lastModifiedTime().toMillis();
        }

        boolean compressed() {
            return name.kind() == LogFileName.Kind.COMPRESSED;
        }
    }

    private final Path dir;
    private final String program;
    private final Function<String, LogFileName> names;
    private final String host;
    private final long pid;
    private final long intervalMillis;
    private final Path file;
    private final AtomicFileWriter writer;
    private final ScheduledExecutorService executor;
    private final Queue<Runnable> events = new ConcurrentLinkedQueue<>();
    private final Set<String> streamsWritten = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean tickPending = new AtomicBoolean();
    private final AtomicBoolean started = new AtomicBoolean();
    private final Thread shutdownHook;

    // confined to the manifest thread (and to the constructor before the thread starts)
    private final List<Entry> entries = new ArrayList<>();
    private final List<ActiveFile> pending = new ArrayList<>();
    private final Map<String, Seen> seen = new HashMap<>();
    private long nextOrder;
    private String lastWritten;
    private boolean failing;

    private LogManifest(Path dir, String program, Function<String, LogFileName> names, String host, long pid,
                        long intervalMillis) {
        this.dir = dir;
        this.program = program;
        this.names = names;
        this.host = host;
        this.pid = pid;
        this.intervalMillis = intervalMillis;
        this.file = dir.resolve(program + SUFFIX);
        this.writer = new AtomicFileWriter(file);
        this.executor = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "unidist-log-manifest-" + program);
            thread.setDaemon(true);
            return thread;
        });
        this.shutdownHook = new Thread(this::lastTick, "unidist-log-manifest-exit-" + program);
    }

    /**
     * Removes a temporary file a crash left behind, lists what is already in {@code dir}, and
     * starts the manifest's thread; the first write follows at once.
     */
    static LogManifest start(Path dir, String program, String host, long pid, long intervalMillis) {
        return start(new LogManifest(dir, program, name -> LogFileName.parse(program, name), host, pid,
                intervalMillis));
    }

    /**
     * As {@link #start(Path, String, String, long, long)}, for a collector's directory:
     * {@code <dir>/collected.manifest.json}, following the files named as
     * {@link LogFileName#parseCollected} reads them.
     */
    static LogManifest startCollected(Path dir, String host, long pid, long intervalMillis) {
        return start(new LogManifest(dir, LogFileName.COLLECTED, LogFileName::parseCollected, host, pid,
                intervalMillis));
    }

    private static LogManifest start(LogManifest manifest) {
        manifest.writer.removeLeftover();
        manifest.scan();
        manifest.started.set(true);
        manifest.executor.scheduleWithFixedDelay(manifest::tick, manifest.intervalMillis, manifest.intervalMillis,
                TimeUnit.MILLISECONDS);
        manifest.requestTick();
        try {
            Runtime.getRuntime().addShutdownHook(manifest.shutdownHook);
        } catch (IllegalStateException e) {
            // configured while the JVM exits (a first log call in a shutdown hook): no exit write
        }
        return manifest;
    }

    // ---- events, from logging threads; cheap and non-blocking

    /** An appender opened {@code file} (at start, or after a rollover). */
    void opened(ActiveFile file) {
        streamsWritten.add(file.stream); // at once: a listing must never take an open file as unknown
        enqueue(() -> pending.add(file));
    }

    /** An appender rolled {@code file} over: it was renamed and will not grow. */
    void rotated(ActiveFile file) {
        enqueue(() -> detach(file, true));
    }

    /** An appender stopped writing {@code file}; it keeps its name and may grow in a later run. */
    void stopped(ActiveFile file) {
        enqueue(() -> {
            detach(file, false);
            streamsWritten.remove(file.stream);
        });
    }

    /** {@link DiskBudget} deleted {@code path}. */
    void deleted(Path path) {
        String name = path.getFileName().toString();
        enqueue(() -> markDeleted(name));
    }

    private void enqueue(Runnable event) {
        events.add(event);
        requestTick();
    }

    private void requestTick() {
        if (started.get() && tickPending.compareAndSet(false, true)) {
            try {
                executor.execute(this::tick);
            } catch (RejectedExecutionException e) {
                // stopping: the last tick has run or is running
            }
        }
    }

    private void requestTickSoon() {
        if (started.get() && tickPending.compareAndSet(false, true)) {
            try {
                executor.schedule((Runnable) this::tick, Math.min(intervalMillis, 50), TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                // stopping
            }
        }
    }

    // ---- lifecycle

    @Override
    public void start() {
        // started by start(...); logback calls stop() on reset
    }

    /** Runs a last tick (so the manifest shows every record written so far) and ends the thread. */
    @Override
    public void stop() {
        if (!started.getAndSet(false)) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is exiting; the hook runs the last tick
        }
        lastTick();
        executor.shutdown();
    }

    @Override
    public boolean isStarted() {
        return started.get();
    }

    /** For tests: runs a tick on the manifest thread and waits for it. */
    void tickNow() {
        tickAndWait(10, false);
    }

    /** At stop and at exit: a last tick, not waited for long (a hung disk must not hang the exit). */
    private void lastTick() {
        tickAndWait(3, true);
    }

    private void tickAndWait(long seconds, boolean last) {
        try {
            executor.submit(() -> tick(last)).get(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RejectedExecutionException e) {
            // already stopped: its last tick has run
        } catch (ExecutionException | TimeoutException e) {
            Warnings.warn("log manifest '" + file.toAbsolutePath() + "': last update did not finish: " + e);
        }
    }

    // ---- the tick, on the manifest thread

    private void tick() {
        tick(false);
    }

    /** @param last the last chance to write: write even if a rotated file has not been found yet */
    private void tick(boolean last) {
        tickPending.set(false);
        try {
            for (Runnable event; (event = events.poll()) != null; ) {
                event.run();
            }
            refreshWritten();
            scan();
            trimDeleted();
            if (!last && unlocated()) {
                // a rotated file not found yet: look again soon rather than write a stale path
                // (bounded: a file missing from two listings counts as deleted)
                requestTickSoon();
                return;
            }
            write();
            if (compressing()) {
                requestTickSoon(); // logback tells no one when an archive is done: look often for a while
            }
        } catch (RuntimeException e) {
            // keep the periodic schedule alive: an uncaught exception would cancel it
            Warnings.warn("log manifest '" + file.toAbsolutePath() + "' could not be updated: " + e);
        }
    }

    private void refreshWritten() {
        for (Iterator<ActiveFile> it = pending.iterator(); it.hasNext(); ) {
            ActiveFile active = it.next();
            ActiveFile.Snapshot snapshot = active.snapshot();
            if (snapshot.fingerprint() != null) {
                attach(active, snapshot);
                it.remove();
            } else if (snapshot.closed()) {
                it.remove(); // closed while empty: nothing to list
            }
        }
        for (Entry entry : entries) {
            if (entry.writer != null) {
                apply(entry, entry.writer.snapshot());
            }
        }
    }

    private void attach(ActiveFile active, ActiveFile.Snapshot snapshot) {
        Entry entry = find(snapshot.fingerprint());
        if (entry == null) {
            entry = new Entry(snapshot.fingerprint(), active.stream, active.node, active.track, active.format,
                    nextOrder++);
            entries.add(entry);
        }
        // also when logback reopened the same file after a failed rename: the newer writer wins
        entry.writer = active;
        entry.name = active.stream;
        entry.state = State.ACTIVE;
        entry.misses = 0;
        apply(entry, snapshot);
    }

    private void apply(Entry entry, ActiveFile.Snapshot snapshot) {
        entry.offset = snapshot.offset();
        entry.size = snapshot.size();
        if (entry.firstSeq == 0) {
            entry.firstSeq = snapshot.firstSeq(); // this process's first record in the file
        }
        if (snapshot.lastSeq() != 0) {
            entry.lastSeq = snapshot.lastSeq();
        }
    }

    private void detach(ActiveFile active, boolean rotated) {
        if (pending.remove(active)) {
            ActiveFile.Snapshot last = active.snapshot();
            if (last.fingerprint() == null) {
                return; // closed while empty: nothing to list
            }
            attach(active, last); // opened and rolled over between two ticks
        }
        for (Entry entry : entries) {
            if (entry.writer == active) {
                ActiveFile.Snapshot last = active.snapshot();
                if (last.fingerprint() != null) {
                    apply(entry, last);
                }
                entry.writer = null;
                if (rotated && entry.state == State.ACTIVE) {
                    entry.state = State.ROTATED; // its new name comes from the next listing
                    entry.rotatedAtNanos = System.nanoTime();
                }
                return;
            }
        }
    }

    private void markDeleted(String name) {
        seen.remove(name);
        for (Entry entry : entries) {
            if (entry.state != State.DELETED && entry.writer == null && (name.equals(entry.name)
                    || (entry.state == State.ROTATED && name.equals(LogFileName.compressedNameOf(entry.name))))) {
                entry.state = State.DELETED;
                return;
            }
        }
    }

    private void scan() {
        Map<String, List<Seen>> byFingerprint = new HashMap<>();
        List<String> listed = new ArrayList<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Iterator<Path> it = list.iterator(); it.hasNext(); ) {
                String name = it.next().getFileName().toString();
                LogFileName parsed = names.apply(name);
                if (parsed == null || streamsWritten.contains(name)) {
                    continue; // not ours, or an active file whose appender reports it
                }
                listed.add(name);
                Seen found = look(parsed);
                if (found != null) {
                    byFingerprint.computeIfAbsent(found.fingerprint(), k -> new ArrayList<>()).add(found);
                }
            }
        } catch (IOException | RuntimeException e) {
            Warnings.warn("cannot list log directory '" + dir.toAbsolutePath() + "' for the manifest: " + e);
            return;
        }
        seen.keySet().retainAll(listed);
        for (Entry entry : entries) {
            List<Seen> found = byFingerprint.remove(entry.fingerprint);
            // a deleted entry found again (restored, or a listing that missed it twice) comes back
            if (entry.writer == null && (entry.state != State.DELETED || found != null)) {
                locate(entry, found);
            }
        }
        byFingerprint.values().stream().map(found -> preferred(found, null))
                .sorted(Comparator.comparing(Seen::name, LogFileName.AGE))
                .forEach(this::discover);
    }

    /** A file of an earlier run, or one this process has not followed: list it. */
    private void discover(Seen found) {
        LogFileName name = found.name();
        Entry entry = new Entry(found.fingerprint(), name.stream(), name.node(), name.track(), name.format(),
                nextOrder++);
        if (update(entry, found)) {
            entries.add(entry);
        }
    }

    private void locate(Entry entry, List<Seen> found) {
        if (found == null) {
            if (++entry.misses >= TICKS_BEFORE_DELETED) {
                entry.state = State.DELETED;
            }
            return;
        }
        entry.misses = 0;
        Seen best = preferred(found, entry.name);
        if (best.compressed() && entry.state != State.COMPRESSED && !compressionDone(entry, best)) {
            return; // logback is still writing the archive
        }
        update(entry, best);
    }

    /** Copies where and how big {@code found} is into {@code entry}; false if it cannot be read. */
    private boolean update(Entry entry, Seen found) {
        Path path = dir.resolve(found.name().name());
        try {
            if (found.compressed()) {
                if (entry.offset < 0) {
                    entry.offset = Fingerprints.gzipLength(path);
                }
            } else if (entry.offset < 0 || entry.size != found.size()) {
                entry.offset = Fingerprints.endOfLastLine(path, found.size());
            }
        } catch (IOException e) {
            return false; // gone or unreadable: the next tick looks again
        }
        entry.name = found.name().name();
        entry.size = found.size();
        entry.state = switch (found.name().kind()) {
            case ACTIVE -> State.ACTIVE;
            case ROTATED -> State.ROTATED;
            case COMPRESSED -> State.COMPRESSED;
        };
        return true;
    }

    /**
     * Logback writes the archive, closes it, then deletes the uncompressed file; the gzip
     * trailer's length equals the file's when the archive is complete.
     */
    private boolean compressionDone(Entry entry, Seen archive) {
        if (entry.offset < 0) {
            return true;
        }
        try {
            return Fingerprints.gzipLength(dir.resolve(archive.name().name())) == (entry.offset & 0xffffffffL);
        } catch (IOException e) {
            return false;
        }
    }

    /** Of several files with one fingerprint, the uncompressed one, else the one at {@code name}. */
    private static Seen preferred(List<Seen> found, String name) {
        Seen best = null;
        for (Seen candidate : found) {
            if (best == null || (best.compressed() && !candidate.compressed())
                    || (best.compressed() == candidate.compressed() && candidate.name().name().equals(name))) {
                best = candidate;
            }
        }
        return best;
    }

    private Seen look(LogFileName name) {
        Path path = dir.resolve(name.name());
        try {
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            Seen cached = seen.get(name.name());
            if (cached != null && cached.sameAs(attributes)) {
                return cached.fingerprint() == null ? null : cached;
            }
            String fingerprint = Fingerprints.ofFile(path, name.kind() == LogFileName.Kind.COMPRESSED);
            Seen fresh = new Seen(name, attributes.fileKey(), attributes.size(),
                    attributes.lastModifiedTime().toMillis(), fingerprint);
            seen.put(name.name(), fresh);
            return fingerprint == null ? null : fresh;
        } catch (IOException e) {
            return null; // renamed or deleted while we looked, or a corrupt archive
        }
    }

    private boolean unlocated() {
        for (Entry entry : entries) {
            if (entry.state == State.ROTATED && entry.writer == null && entry.name.equals(entry.stream)) {
                return true;
            }
        }
        return false;
    }

    private boolean compressing() {
        long now = System.nanoTime();
        for (Entry entry : entries) {
            if (entry.state == State.ROTATED && entry.rotatedAtNanos != 0
                    && now - entry.rotatedAtNanos < COMPRESSION_WATCH_NANOS) {
                return true;
            }
        }
        return false;
    }

    private void trimDeleted() {
        long deleted = entries.stream().filter(e -> e.state == State.DELETED).count();
        if (deleted > MAX_DELETED) {
            entries.stream().filter(e -> e.state == State.DELETED)
                    .sorted(Comparator.comparingLong(e -> e.order)).limit(deleted - MAX_DELETED)
                    .toList().forEach(entries::remove);
        }
    }

    private Entry find(String fingerprint) {
        for (Entry entry : entries) {
            if (entry.fingerprint.equals(fingerprint)) {
                return entry;
            }
        }
        return null;
    }

    // ---- writing

    private void write() {
        String files = ManifestJson.files(entries);
        if (files.equals(lastWritten)) {
            return;
        }
        String content = ManifestJson.document(program, host, pid, intervalMillis,
                Instant.now().truncatedTo(ChronoUnit.MILLIS), files);
        try {
            writer.write(content);
            lastWritten = files;
            failing = false;
        } catch (IOException | RuntimeException e) {
            if (!failing) {
                failing = true;
                Warnings.warn("cannot write log manifest '" + file.toAbsolutePath() + "' (" + e
                        + "); logging goes on, scrapers see the last manifest written, and it is retried every "
                        + intervalMillis + " ms");
            }
        }
    }
}
