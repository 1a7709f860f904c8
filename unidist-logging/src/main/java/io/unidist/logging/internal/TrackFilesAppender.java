package io.unidist.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;

/**
 * Writes each record of one track to its two files, the text file and the JSON-lines file,
 * and returns once both writes are done.
 *
 * <p>Per record, on the logging thread and in parallel with other threads: the caller lookup
 * ({@link CallerFinder}, when caller data is on), then both lines encoded once into this
 * thread's buffer ({@link RecordEncoder}). Then the record goes to the track's
 * {@link GroupWriter}, with one lane per file: each file is written by one thread at a time,
 * the two files at the same time by different threads, and records that threads log while a
 * write is under way go out together in the next one, one write call per file for the whole
 * batch ({@link EncodedFileAppender#writeEncoded}); records keep one order, the same in both
 * files.
 *
 * <h2>Guarantee</h2>
 * When a logging call returns, its record has been handed to the operating system with
 * {@code write(2)} for both files (logback's immediate flush, then no buffer of ours holds it):
 * it survives the process being killed ({@code kill -9}, a JVM crash, {@code halt}), not an
 * operating system crash or a power cut (nothing is fsynced). Exceptions: a write error (a full
 * disk), after which logback drops records until it can write again and reports it in its
 * status; and records logged while the appender stops. A record whose call has not returned
 * when the process dies may be in neither file, in the text file only, or cut at the end of a
 * file (the next start ends such a line, see {@link ManifestedFileAppender}).
 *
 * <p>Thread safety: any number of threads may log; each file is written by one at a time.
 * {@link #stop} stops both files.
 */
final class TrackFilesAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {

    private static final int RECORD_CAPACITY = 1024;
    private static final int BATCH_CAPACITY = 16 * 1024;
    private static final ThreadLocal<Pending> PENDING = ThreadLocal.withInitial(Pending::new);

    private final CallerFinder caller;
    private final RecordEncoder encoder;
    private final EncodedFileAppender<ILoggingEvent> text;
    private final EncodedFileAppender<ILoggingEvent> json;
    private final GroupWriter<Pending> writer = new GroupWriter<>(this::writeText, this::writeJson);
    // each used by its lane's writer only (one thread at a time)
    private final LineBuffer textBatch = new LineBuffer(BATCH_CAPACITY);
    private final LineBuffer jsonBatch = new LineBuffer(BATCH_CAPACITY);

    /**
     * @param caller  finds the caller's file and line, {@code null} when caller data is off
     * @param encoder the track's encoder
     * @param text    the text file, started
     * @param json    the JSON-lines file, started
     */
    TrackFilesAppender(String name, CallerFinder caller, RecordEncoder encoder,
                       EncodedFileAppender<ILoggingEvent> text, EncodedFileAppender<ILoggingEvent> json) {
        this.caller = caller;
        this.encoder = encoder;
        this.text = text;
        this.json = json;
        setName(name);
    }

    @Override
    protected void append(ILoggingEvent event) {
        if (caller != null) {
            caller.fill(event);
        }
        Pending record = PENDING.get();
        if (record.busy) {
            record = new Pending(); // a record logged while this thread encodes another (from a toString)
        }
        record.busy = true;
        try {
            record.encode(encoder, event);
            writer.write(record);
        } finally {
            record.clear();
        }
    }

    @Override
    public void stop() {
        super.stop();
        text.stop();
        json.stop();
    }

    /** The text file's lane: one write for the whole batch. */
    private void writeText(GroupWriter.Batch<Pending> batch) {
        int count = batch.size();
        if (count == 1) {
            Pending only = batch.get(0);
            text.writeEncoded(only.event, only.line.array(), 0, only.textEnd, 0, 0);
            return;
        }
        try {
            for (int i = 0; i < count; i++) {
                Pending record = batch.get(i);
                textBatch.append(record.line.array(), 0, record.textEnd);
            }
            text.writeEncoded(batch.get(count - 1).event, textBatch.array(), 0, textBatch.size(), 0, 0);
        } finally {
            textBatch.shrinkTo(BATCH_CAPACITY);
        }
    }

    /** The JSON-lines file's lane: one write for the whole batch. */
    private void writeJson(GroupWriter.Batch<Pending> batch) {
        int count = batch.size();
        Pending first = batch.get(0);
        Pending last = batch.get(count - 1);
        if (count == 1) {
            json.writeEncoded(first.event, first.line.array(), first.textEnd, first.line.size() - first.textEnd,
                    first.seq, first.seq);
            return;
        }
        try {
            for (int i = 0; i < count; i++) {
                Pending record = batch.get(i);
                jsonBatch.append(record.line.array(), record.textEnd, record.line.size() - record.textEnd);
            }
            json.writeEncoded(last.event, jsonBatch.array(), 0, jsonBatch.size(), first.seq, last.seq);
        } finally {
            jsonBatch.shrinkTo(BATCH_CAPACITY);
        }
    }

    /** A thread's record on its way: both lines in one buffer, text first. */
    static final class Pending extends GroupWriter.Entry {
        final LineBuffer line = new LineBuffer(RECORD_CAPACITY);
        final RecordEncoder.Scratch scratch = new RecordEncoder.Scratch();
        ILoggingEvent event;
        int textEnd;
        long seq;
        boolean busy;

        void encode(RecordEncoder encoder, ILoggingEvent e) {
            event = e;
            seq = JsonLinesEncoder.sequenceOf(e);
            line.clear();
            encoder.encodeText(e, scratch, line);
            textEnd = line.size();
            encoder.encodeJson(e, seq, scratch, line);
        }

        void clear() {
            event = null; // do not keep the event (and its arguments) until the next record
            scratch.forgetMessage();
            line.shrinkTo(RECORD_CAPACITY);
            busy = false;
        }
    }
}
