package io.unidist.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.event.KeyValuePair;

/**
 * Encodes each event as one line of JSON (JSON Lines).
 *
 * <p>Fields, in this order: {@code time} (ISO-8601 UTC, milliseconds), {@code level},
 * {@code host}, {@code program}, {@code pid}, {@code track}, {@code seq}, {@code thread},
 * {@code logger}, {@code message}, {@code mdc}, {@code kv}, then {@code exception}
 * ({@code class}, {@code message}, {@code stack}) when the event has one, and {@code file},
 * {@code line} when caller data is on. {@code seq} counts records per process across all
 * tracks, starting at 1. Strings are escaped by {@link Json}; the message and the stack are
 * cut to the configured length.
 *
 * <p>Thread safety: the appender calls {@link #encode} under its own lock; the only shared
 * state is the process-wide sequence counter, which is atomic.
 */
public final class JsonLinesEncoder extends EncoderBase<ILoggingEvent> {

    private static final AtomicLong SEQUENCE = new AtomicLong();
    /** The seq of the record this thread encoded last, for the manifest (see {@link #takeLastSeq}). */
    private static final ThreadLocal<long[]> LAST_SEQ = ThreadLocal.withInitial(() -> new long[1]);
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final byte[] EMPTY = new byte[0];

    private final String fixedFields;
    private final String track;
    private final boolean callerData;
    private final int maxChars;

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
        StringBuilder fixed = new StringBuilder();
        fixed.append(",\"host\":");
        Json.appendString(fixed, host, Integer.MAX_VALUE);
        fixed.append(",\"program\":");
        Json.appendString(fixed, program, Integer.MAX_VALUE);
        fixed.append(",\"pid\":").append(pid).append(",\"track\":");
        Json.appendString(fixed, track, Integer.MAX_VALUE);
        this.fixedFields = fixed.toString();
        this.track = track;
        this.callerData = callerData;
        this.maxChars = maxChars;
    }

    /** @return the track this encoder writes */
    public String track() {
        return track;
    }

    /** @return whether records carry the caller's file and line */
    public boolean callerData() {
        return callerData;
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
        StringBuilder out = new StringBuilder(256);
        out.append("{\"time\":\"");
        TIME.formatTo(event.getInstant(), out);
        out.append("\",\"level\":\"").append(event.getLevel()).append('"');
        out.append(fixedFields);
        long seq = sequenceOf(event);
        LAST_SEQ.get()[0] = seq;
        out.append(",\"seq\":").append(seq);
        out.append(",\"thread\":");
        Json.appendString(out, event.getThreadName(), maxChars);
        out.append(",\"logger\":");
        Json.appendString(out, event.getLoggerName(), maxChars);
        out.append(",\"message\":");
        Json.appendString(out, String.valueOf(event.getFormattedMessage()), maxChars);
        appendMdc(out, event.getMDCPropertyMap());
        appendKeyValues(out, event.getKeyValuePairs());
        appendException(out, event.getThrowableProxy());
        if (callerData) {
            appendCaller(out, event.getCallerData());
        }
        out.append("}\n");
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The {@code seq} of the record this thread encoded last, then 0 until it encodes another.
     * Logback encodes and writes an event on the same thread, so the appender that has just
     * written a record learns its seq here without parsing the bytes.
     */
    static long takeLastSeq() {
        long[] holder = LAST_SEQ.get();
        long seq = holder[0];
        holder[0] = 0;
        return seq;
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

    private void appendMdc(StringBuilder out, Map<String, String> mdc) {
        out.append(",\"mdc\":{");
        boolean first = true;
        if (mdc != null) {
            for (Map.Entry<String, String> e : mdc.entrySet()) {
                first = appendMember(out, first, e.getKey(), e.getValue());
            }
        }
        out.append('}');
    }

    private void appendKeyValues(StringBuilder out, List<KeyValuePair> pairs) {
        out.append(",\"kv\":{");
        boolean first = true;
        if (pairs != null) {
            for (KeyValuePair pair : pairs) {
                first = appendMember(out, first, pair.key, String.valueOf(pair.value));
            }
        }
        out.append('}');
    }

    private boolean appendMember(StringBuilder out, boolean first, String key, String value) {
        if (!first) {
            out.append(',');
        }
        Json.appendString(out, String.valueOf(key), maxChars);
        out.append(':');
        Json.appendString(out, String.valueOf(value), maxChars);
        return false;
    }

    private void appendException(StringBuilder out, IThrowableProxy proxy) {
        if (proxy == null) {
            return;
        }
        out.append(",\"exception\":{\"class\":");
        Json.appendString(out, proxy.getClassName(), maxChars);
        out.append(",\"message\":");
        if (proxy.getMessage() == null) {
            out.append("null");
        } else {
            Json.appendString(out, proxy.getMessage(), maxChars);
        }
        out.append(",\"stack\":");
        Json.appendString(out, ThrowableProxyUtil.asString(proxy), maxChars);
        out.append('}');
    }

    private void appendCaller(StringBuilder out, StackTraceElement[] callers) {
        if (callers == null || callers.length == 0) {
            return;
        }
        StackTraceElement caller = callers[0];
        out.append(",\"file\":");
        Json.appendString(out, String.valueOf(caller.getFileName()), maxChars);
        out.append(",\"line\":").append(caller.getLineNumber());
    }
}
