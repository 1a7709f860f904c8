package io.unidist.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes each record of one track to its two files, the text file and the JSON-lines file,
 * and returns once both writes are done.
 *
 * <p>Per record, on the logging thread and in parallel with other threads: the caller (when caller data is on:
 * found by {@link CallerCapture} in logback's turbo filter, else by {@link CallerFinder} from here), then both lines encoded once into this
 * thread's buffer ({@link RecordEncoder}). Then the thread writes its text line under the text
 * file's lock and its JSON line under the JSON file's lock, one write call each
 * ({@link EncodedFileAppender#writeEncoded}). It takes the JSON lock before it lets the text lock
 * go (hand over hand): the JSON file gets the records in the text file's order, and while one
 * thread writes its JSON line the next can write its text line.
 *
 * <p>Why not group writes (a thread that finds a write under way hands its record to the
 * writing thread, which writes all that arrived in one call): built and measured on the
 * project's 2-core machine, they were slower with 4 threads (196,000 against 240,000 records/s
 * with the defaults, logback's FileAppender 420,000 in the same runs): with two cores only two
 * threads run at once, both busy writing, so batches stayed at about one record, and the
 * waiting cost more than a lock's. See the logging section of {@code docs/BENCHMARKS.md}.
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
 * <p>Thread safety: any number of threads may log; each file is written by one at a time, the
 * two files by two threads at once. {@link #stop} stops both files.
 */
final class TrackFilesAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {

    private static final int RECORD_CAPACITY = 1024;
    private static final ThreadLocal<Pending> PENDING = ThreadLocal.withInitial(Pending::new);

    private final CallerCapture capture;
    private final CallerFinder caller;
    private final RecordEncoder encoder;
    private final EncodedFileAppender<ILoggingEvent> text;
    private final EncodedFileAppender<ILoggingEvent> json;
    private final ReentrantLock textLock = new ReentrantLock();
    private final ReentrantLock jsonLock = new ReentrantLock();

    /**
     * @param capture hands over the caller found in logback's turbo filter, {@code null} when caller data is off
     * @param caller  finds the caller's file and line otherwise, {@code null} when caller data is off
     * @param encoder the track's encoder
     * @param text    the text file, started
     * @param json    the JSON-lines file, started
     */
    TrackFilesAppender(String name, CallerCapture capture, CallerFinder caller, RecordEncoder encoder,
                       EncodedFileAppender<ILoggingEvent> text, EncodedFileAppender<ILoggingEvent> json) {
        this.capture = capture;
        this.caller = caller;
        this.encoder = encoder;
        this.text = text;
        this.json = json;
        setName(name);
    }

    @Override
    protected void append(ILoggingEvent event) {
        if (caller != null && !capture.take(event)) {
            caller.fill(event); // the turbo filter did not see it (the fluent API): walk from here
        }
        Pending record = PENDING.get();
        if (record.busy) {
            record = new Pending(); // a record logged while this thread encodes another (from a toString)
        }
        record.busy = true;
        try {
            record.encode(encoder, event);
            write(record);
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

    /** Both lines, one write each, hand over hand (see the class comment). */
    private void write(Pending record) {
        byte[] bytes = record.line.array();
        int jsonLength = record.line.size() - record.textEnd;
        RuntimeException failure = null;
        textLock.lock();
        try {
            text.writeEncoded(record.event, bytes, 0, record.textEnd, 0, 0);
        } catch (RuntimeException e) {
            failure = e; // the JSON line is still written
        } finally {
            jsonLock.lock(); // before the text lock goes: the JSON file keeps the text file's order
            textLock.unlock();
        }
        try {
            json.writeEncoded(record.event, bytes, record.textEnd, jsonLength, record.seq, record.seq);
        } finally {
            jsonLock.unlock();
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** A thread's record on its way: both lines in one buffer, text first. */
    static final class Pending {
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
