package io.unidist.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.EncoderBase;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Encodes each event as one line of JSON (JSON Lines).
 *
 * <p>Fields, in this order: {@code time} (ISO-8601 UTC, milliseconds), {@code level},
 * {@code host}, {@code program}, {@code pid}, {@code track}, {@code seq}, {@code thread},
 * {@code logger}, {@code message}, {@code mdc}, {@code kv}, then {@code exception}
 * ({@code class}, {@code message}, {@code stack}) when the event has one, and {@code file},
 * {@code line} when caller data is on. {@code seq} counts records per process across all
 * tracks, starting at 1. Strings are escaped as {@link Json} does; the message and the stack
 * are cut to the configured length. The bytes are {@link RecordEncoder}'s, which the track's
 * own JSON-lines file holds: a forwarded record is the same line.
 *
 * <p>Thread safety: {@link #encode} may be called from any thread; the only shared state is
 * the process-wide sequence counter, which is atomic.
 */
public final class JsonLinesEncoder extends EncoderBase<ILoggingEvent> {

    private static final AtomicLong SEQUENCE = new AtomicLong();
    private static final byte[] EMPTY = new byte[0];
    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);

    private final RecordEncoder encoder;
    private final String track;

    /**
     * @param host       the host name written in every record
     * @param program    the program name written in every record
     * @param pid        the process id written in every record
     * @param track      the track this encoder writes ({@code main} for the default one)
     * @param callerData whether to compute and write the caller's file and line
     * @param maxChars   the length at which messages and stacks are cut
     */
    public JsonLinesEncoder(String host, String program, long pid, String track,
                            boolean callerData, int maxChars) {
        this.encoder = new RecordEncoder(host, program, pid, track, callerData, maxChars, null);
        this.track = track;
    }

    /** @return the track this encoder writes */
    public String track() {
        return track;
    }

    /** @return whether records carry the caller's file and line */
    public boolean callerData() {
        return encoder.callerData();
    }

    @Override
    public byte[] headerBytes() {
        return EMPTY;
    }

    @Override
    public byte[] footerBytes() {
        return EMPTY;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        Work work = WORK.get();
        if (work.busy) {
            work = new Work(); // a record logged while this thread encodes another (from a toString)
        }
        work.busy = true;
        try {
            work.line.clear();
            encoder.encodeJson(event, sequenceOf(event), work.scratch, work.line);
            return work.line.copyFrom(0);
        } finally {
            work.scratch.forgetMessage();
            work.line.shrinkTo(Work.CAPACITY);
            work.busy = false;
        }
    }

    /**
     * The event's number from the context's sequence generator (installed by {@link LogSetup},
     * so that every appender of one event, local file and forwarding alike, writes the same
     * number), or the next of this class's own counter when the context has none.
     */
    static long sequenceOf(ILoggingEvent event) {
        long seq = event.getSequenceNumber();
        return seq != 0 ? seq : SEQUENCE.incrementAndGet();
    }

    /** A thread's buffer and caches. */
    private static final class Work {
        static final int CAPACITY = 1024;
        final LineBuffer line = new LineBuffer(CAPACITY);
        final RecordEncoder.Scratch scratch = new RecordEncoder.Scratch();
        boolean busy;
    }
}
