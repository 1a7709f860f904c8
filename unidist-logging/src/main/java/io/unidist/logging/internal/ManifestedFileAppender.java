package io.unidist.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.recovery.RecoveryListener;
import ch.qos.logback.core.recovery.ResilientOutputStreamBase;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.function.LongSupplier;

/**
 * Logback's rolling file appender, telling a {@link LogManifest} which file it has open, where
 * its last complete record ends, and when it rolls the file over. One class for any event type:
 * a program's own files ({@link #local}, events of logback-classic) and a collector's files
 * ({@link #collected}, lines forwarded by other nodes).
 *
 * <p>Hooks, all called with the appender's stream lock held: {@link #openFile} (at start and
 * after each rollover), {@link #written} (after a program's own records were written and
 * flushed by {@link #writeEncoded}, with the {@code seq} of the first and the last),
 * {@link #updateByteCount} (after each record logback's per-record path wrote and flushed, for a
 * collector's files; the {@code fseq} comes from {@code seqOfLastRecord}, see
 * {@link CollectorWriter}), {@link #rollover} and {@link #stop}. The cost per write is a few
 * plain field writes; everything else happens on the manifest's own thread.
 *
 * <p>What it adds to the files:
 * <ul>
 *   <li>a new, empty text file starts with one header line,
 *       {@code # unidist-log file=<32 hex> program=<p> track=<t> pid=<pid> opened=<ISO time>},
 *       so that its first line, and so its fingerprint, is unique even when two files start
 *       with the same record (JSON files need none: their first record has host, pid and
 *       {@code seq}, or for a collector's the forwarding key);</li>
 *   <li>a file that is reopened and does not end with {@code '\n'} (a record cut by a crash)
 *       gets one, so the cut record stays one bad line instead of gluing itself to the next
 *       good one.</li>
 * </ul>
 *
 * <p>Offsets count only records written and flushed: this relies on logback's immediate flush,
 * which neither {@link LogSetup} nor {@link CollectorWriter} turns off, and on
 * {@link #writeEncoded} being given whole records.
 *
 * @param <E> the event type the encoder takes
 */
final class ManifestedFileAppender<E> extends EncodedFileAppender<E> {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] NEWLINE = {'\n'};
    private static final LongSupplier NO_SEQ = () -> 0;

    private final LogManifest manifest;
    private final String program;
    private final String node;
    private final String track;
    private final String format;
    private final boolean json;
    private final long pid;
    private final LongSupplier seqOfLastRecord;
    private ActiveFile current; // guarded by streamWriteLock

    private ManifestedFileAppender(LogManifest manifest, String program, String node, String track, String format,
                                   long pid, LongSupplier seqOfLastRecord) {
        this.manifest = manifest;
        this.program = program;
        this.node = node;
        this.track = track;
        this.format = format;
        this.json = format.equals("json");
        this.pid = pid;
        this.seqOfLastRecord = seqOfLastRecord;
    }

    /**
     * An appender of one of a program's own files, written through {@link #writeEncoded}, which
     * passes the records' {@code seq}.
     *
     * @param format {@code json} or {@code text}
     */
    static ManifestedFileAppender<ILoggingEvent> local(LogManifest manifest, String program, String track,
                                                       String format, long pid) {
        return new ManifestedFileAppender<>(manifest, program, null, track, format, pid, NO_SEQ);
    }

    /**
     * An appender of a collector's JSON-lines file of {@code node} and {@code track}.
     *
     * @param seqOfLastRecord the {@code fseq} of the record just written, called on the writing
     *                        thread right after the record was flushed
     */
    static <E> ManifestedFileAppender<E> collected(LogManifest manifest, String node, String track, long pid,
                                                   LongSupplier seqOfLastRecord) {
        return new ManifestedFileAppender<>(manifest, LogFileName.COLLECTED, node, track, "json", pid,
                seqOfLastRecord);
    }

    @Override
    public void openFile(String fileName) throws IOException {
        streamWriteLock.lock();
        try {
            super.openFile(fileName);
            Path path = Path.of(fileName);
            long length = path.toFile().length();
            ActiveFile file = new ActiveFile(path.getFileName().toString(), node, track, format, path,
                    streamWriteLock, length);
            current = file;
            if (getOutputStream() instanceof ResilientOutputStreamBase stream) {
                stream.addRecoveryListener(new Recovery(file));
            }
            if (length == 0 && !json) {
                writeRaw(file, header());
            } else if (length > 0 && !endsWithNewline(path, length)) {
                writeRaw(file, NEWLINE);
            }
            file.fingerprintExisting();
            manifest.opened(file);
        } finally {
            streamWriteLock.unlock();
        }
    }

    @Override
    protected void updateByteCount(byte[] bytes) {
        super.updateByteCount(bytes);
        ActiveFile file = current;
        if (file != null && bytes != null) {
            file.written(bytes, seqOfLastRecord.getAsLong());
        }
    }

    @Override
    void written(byte[] bytes, int offset, int length, long firstSeq, long lastSeq) {
        ActiveFile file = current;
        if (file != null) {
            file.written(bytes, offset, length, json ? firstSeq : 0, json ? lastSeq : 0);
        }
    }

    @Override
    public void rollover() {
        streamWriteLock.lock();
        try {
            ActiveFile before = current;
            super.rollover(); // closes, renames, and reopens through openFile
            if (before != null) {
                // if logback could not rename, it reopened the same file: the manifest sees the
                // same fingerprint opened again and keeps the file active
                before.close();
                manifest.rotated(before);
            }
        } finally {
            streamWriteLock.unlock();
        }
    }

    @Override
    public void stop() {
        super.stop();
        ActiveFile file;
        streamWriteLock.lock();
        try {
            file = current;
            current = null;
            if (file != null) {
                file.close();
            }
        } finally {
            streamWriteLock.unlock();
        }
        if (file != null) {
            manifest.stopped(file);
        }
    }

    /** Bytes that are not a record (header, newline after a cut record), counted like one. */
    private void writeRaw(ActiveFile file, byte[] bytes) throws IOException {
        writeByteArrayToOutputStreamWithPossibleFlush(bytes);
        super.updateByteCount(bytes);
        file.written(bytes, 0);
    }

    private byte[] header() {
        byte[] id = new byte[16];
        RANDOM.nextBytes(id);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        return ("# unidist-log file=" + HexFormat.of().formatHex(id) + " program=" + program
                + " track=" + track + " pid=" + pid + " opened=" + now + "\n").getBytes(StandardCharsets.UTF_8);
    }

    private static boolean endsWithNewline(Path path, long length) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "r")) {
            file.seek(length - 1);
            return file.read() == '\n';
        }
    }

    /** Logback's resilient stream reports failures and recovery on the writing thread, under the lock. */
    private static final class Recovery implements RecoveryListener {
        private final ActiveFile file;

        Recovery(ActiveFile file) {
            this.file = file;
        }

        @Override
        public void newFailure(IOException e) {
            file.failed();
        }

        @Override
        public void recoveryOccured() {
            file.recovered();
        }
    }
}
