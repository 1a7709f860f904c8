package io.unidist.logging.internal;

import ch.qos.logback.core.rolling.LengthCounter;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.TriggeringPolicy;
import ch.qos.logback.core.status.ErrorStatus;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Logback's rolling file appender that also takes records already encoded, several at once:
 * {@link #writeEncoded} writes whole lines with one write call and one flush, after
 * the same roll-over check {@code RollingFileAppender} makes before each record. Rotation,
 * compression, the size count, the output stream's recovery from write errors and stopping are
 * logback's, unchanged; a track's files ({@link TrackFilesAppender}) are written this way, and
 * logback's own per-record path ({@code doAppend}) still works for other uses.
 *
 * <p>Thread safety: {@link #writeEncoded} must be called by one thread at a time (the track's
 * {@link TrackFilesAppender} holds the file's lock; it replaces the roll-over lock logback takes
 * per record);
 * the write itself holds logback's stream lock, as {@code doAppend} does, so it excludes a
 * concurrent stop and the manifest's reads.
 *
 * @param <E> the event type of the encoder (logback's per-record path)
 */
class EncodedFileAppender<E> extends RollingFileAppender<E> {

    private volatile File activeFile;

    @Override
    public void openFile(String fileName) throws IOException {
        streamWriteLock.lock();
        try {
            super.openFile(fileName);
            activeFile = new File(fileName);
        } finally {
            streamWriteLock.unlock();
        }
    }

    /**
     * Rolls the file over if its policy says so, then writes {@code bytes[offset, offset +
     * length)}, one or more complete records, with one write and (logback's immediate flush)
     * one flush. Does nothing once the appender is stopped.
     *
     * @param last     the last record's event, for the roll-over check
     * @param firstSeq the {@code seq} of the first record, 0 if the records have none
     * @param lastSeq  the {@code seq} of the last record, 0 if the records have none
     */
    final void writeEncoded(E last, byte[] bytes, int offset, int length, long firstSeq, long lastSeq) {
        if (!isStarted() || length == 0) {
            return;
        }
        TriggeringPolicy<E> policy = getTriggeringPolicy();
        if (policy.isTriggeringEvent(activeFile, last)) {
            rollover();
        }
        streamWriteLock.lock();
        try {
            if (!isStarted()) {
                return;
            }
            OutputStream out = getOutputStream();
            out.write(bytes, offset, length);
            if (isImmediateFlush()) {
                out.flush();
            }
            LengthCounter counter = policy.getLengthCounter();
            if (counter != null) {
                counter.add(length); // what logback's own write counts, for the size trigger
            }
            written(bytes, offset, length, firstSeq, lastSeq);
        } catch (IOException e) {
            // as logback's per-record write does: stop, and say so once in the status
            started = false;
            addStatus(new ErrorStatus("IO failure in appender named \"" + name + "\".", this, e));
        } finally {
            streamWriteLock.unlock();
        }
    }

    /**
     * Called with the stream lock held after {@link #writeEncoded} wrote and flushed records.
     * Does nothing here; the manifest's appender follows its offsets.
     */
    void written(byte[] bytes, int offset, int length, long firstSeq, long lastSeq) {
    }
}
