package io.unidist.logging.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.Lock;

/**
 * What the appender knows about the file it has open: where the last complete record ends,
 * the first and last {@code seq} it wrote there, and the file's fingerprint.
 *
 * <p>Thread safety: every field is guarded by the appender's stream lock, which logback holds
 * while it writes and flushes a record and while it rolls the file over. The appender updates
 * the fields under that lock already (no extra cost per record beyond a few plain writes); the
 * manifest thread reads them through {@link #snapshot()}, which takes the lock, so it sees a
 * consistent offset and seq, and the file is not renamed while it looks at its size.
 *
 * <p>Failure: logback's resilient stream swallows write errors (a full disk) and drops records
 * until it has reopened the file. From the first failure until a write succeeds again the
 * offset does not move; after that it is re-read from the file's length, so it never points
 * past what is on disk. A record cut by the failure then sits before the offset.
 */
final class ActiveFile {

    /** Immutable view of an active file at one moment. */
    record Snapshot(String fingerprint, long offset, long size, long firstSeq, long lastSeq, boolean closed) {
    }

    final String stream;
    /** The node whose records a collector writes here; {@code null} for a program's own files. */
    final String node;
    final String track;
    final String format;
    final Path path;
    private final Lock lock;

    private long position;
    private boolean healthy = true;
    private boolean resync;
    private String fingerprint;
    private long firstSeq;
    private long lastSeq;
    private boolean closed;

    /** Called by the appender, holding {@code lock}, right after it opened {@code path}. */
    ActiveFile(String stream, String node, String track, String format, Path path, Lock lock, long length) {
        this.stream = stream;
        this.node = node;
        this.track = track;
        this.format = format;
        this.path = path;
        this.lock = lock;
        this.position = length;
    }

    /** The file had content when it was opened: fingerprint it from disk (under the lock). */
    void fingerprintExisting() throws IOException {
        if (position > 0 && fingerprint == null) {
            fingerprint = Fingerprints.ofFile(path, false);
        }
    }

    /** {@code bytes} were written and flushed as one record ({@code seq} 0 if it has none). */
    void written(byte[] bytes, long seq) {
        written(bytes, 0, bytes.length, seq, seq);
    }

    /**
     * {@code bytes[offset, offset + length)} were written and flushed: one or more complete
     * records, the first with {@code firstSeq} and the last with {@code lastSeq} (0 if they
     * have none).
     */
    void written(byte[] bytes, int offset, int length, long firstSeq, long lastSeq) {
        if (closed) {
            return;
        }
        if (!healthy) {
            if (!resync) {
                return; // logback dropped or cut these records: they are not complete
            }
            position = path.toFile().length(); // reopened in append mode: the end is the truth
            healthy = true;
            resync = false;
        } else {
            position += length;
        }
        if (fingerprint == null) {
            fingerprint = position == length ? Fingerprints.ofHead(bytes, offset, length) : headFromDisk();
        }
        if (lastSeq > 0) {
            if (this.firstSeq == 0) {
                this.firstSeq = firstSeq;
            }
            this.lastSeq = lastSeq;
        }
    }

    /** The output stream reported a write error: hold the offset until it recovers. */
    void failed() {
        healthy = false;
    }

    /** The output stream wrote again after an error. */
    void recovered() {
        resync = true;
    }

    /** The appender closed the file (rolled it over or stopped); the offset is final. */
    void close() {
        closed = true;
    }

    /** @return the current state, read under the appender's lock */
    Snapshot snapshot() {
        lock.lock();
        try {
            long size = position;
            if (!closed) {
                try {
                    size = Files.size(path);
                } catch (IOException e) {
                    // deleted under us or unreadable: report what we wrote
                }
            }
            return new Snapshot(fingerprint, position, size, firstSeq, lastSeq, closed);
        } finally {
            lock.unlock();
        }
    }

    private String headFromDisk() {
        try {
            return Fingerprints.ofFile(path, false);
        } catch (IOException e) {
            return null; // tried again after the next record; the logging call must not fail
        }
    }
}
