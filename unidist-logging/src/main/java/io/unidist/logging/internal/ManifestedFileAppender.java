package io.unidist.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.recovery.RecoveryListener;
import ch.qos.logback.core.recovery.ResilientOutputStreamBase;
import ch.qos.logback.core.rolling.RollingFileAppender;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;

/**
 * Logback's rolling file appender, telling a {@link LogManifest} which file it has open, where
 * its last complete record ends, and when it rolls the file over.
 *
 * <p>Hooks, all called by logback with the appender's stream lock held: {@link #openFile} (at
 * start and after each rollover), {@link #updateByteCount} (after each record is written and
 * flushed; logback calls it for the size trigger), {@link #rollover} and {@link #stop}. The
 * cost per record is a few plain field writes and, for JSON, a thread-local read of the
 * record's {@code seq}; everything else happens on the manifest's own thread.
 *
 * <p>What it adds to the files:
 * <ul>
 *   <li>a new, empty text file starts with one header line,
 *       {@code # unidist-log file=<32 hex> program=<p> track=<t> pid=<pid> opened=<ISO time>},
 *       so that its first line, and so its fingerprint, is unique even when two files start
 *       with the same record (JSON files need none: their first record has host, pid and
 *       {@code seq});</li>
 *   <li>a file that is reopened and does not end with {@code '\n'} (a record cut by a crash)
 *       gets one, so the cut record stays one bad line instead of gluing itself to the next
 *       good one.</li>
 * </ul>
 *
 * <p>Offsets count only records written and flushed: this relies on logback's immediate flush,
 * which {@link LogSetup} never turns off.
 */
final class ManifestedFileAppender extends RollingFileAppender<ILoggingEvent> {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] NEWLINE = {'\n'};

    private final LogManifest manifest;
    private final String program;
    private final String track;
    private final String format;
    private final boolean json;
    private final long pid;
    private ActiveFile current; // guarded by streamWriteLock

    ManifestedFileAppender(LogManifest manifest, String program, String track, String format, long pid) {
        this.manifest = manifest;
        this.program = program;
        this.track = track;
        this.format = format;
        this.json = format.equals("json");
        this.pid = pid;
    }

    @Override
    public void openFile(String fileName) throws IOException {
        streamWriteLock.lock();
        try {
            super.openFile(fileName);
            Path path = Path.of(fileName);
            long length = path.toFile().length();
            ActiveFile file = new ActiveFile(path.getFileName().toString(), track, format, path,
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
            file.written(bytes, json ? JsonLinesEncoder.takeLastSeq() : 0);
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
