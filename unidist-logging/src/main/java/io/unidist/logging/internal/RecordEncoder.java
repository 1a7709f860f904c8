package io.unidist.logging.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.encoder.Encoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import org.slf4j.event.KeyValuePair;

/**
 * Encodes an event as the lines of a track's two files, straight into a {@link LineBuffer}:
 * the text line and the JSON line, once each, with what they share (the time, the caller, the
 * formatted message) computed once.
 *
 * <p>The text line is, byte for byte, what logback's {@code PatternLayout} makes of
 * {@value #TEXT_PATTERN_HEAD}{@code [ %file:%line] - %msg%n} in UTF-8; a record with an
 * exception is handed to that layout itself ({@code textWithException}), for logback's stack
 * trace format. The JSON line's fields are listed in {@link JsonLinesEncoder}.
 *
 * <p>Cost: what does not change between records is encoded once and kept: the fixed JSON
 * fields of the track, per thread the time up to the second, the thread's name and the last
 * logger's name (see {@link Scratch}); per record, only the message, the milliseconds, the
 * numbers, MDC, key-values and the caller are encoded.
 *
 * <p>Thread safety: immutable; the per-thread state is in the {@link Scratch} passed in.
 */
final class RecordEncoder {

    /** The head of the text line's pattern, up to the logger. */
    static final String TEXT_PATTERN_HEAD = "%d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z',UTC} %-5level [%thread] %logger";

    private static final DateTimeFormatter SECOND =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.").withZone(ZoneOffset.UTC);
    private static final byte[] LINE_END = CoreConstants.LINE_SEPARATOR.getBytes(StandardCharsets.UTF_8);
    private static final byte[] TEXT_MESSAGE = ascii(" - ");
    private static final byte[] JSON_TIME = ascii("{\"time\":\"");
    private static final byte[] JSON_LEVEL = ascii("Z\",\"level\":\"");
    private static final byte[] JSON_SEQ = ascii(",\"seq\":");
    private static final byte[] JSON_THREAD = ascii(",\"thread\":");
    private static final byte[] JSON_LOGGER = ascii(",\"logger\":");
    private static final byte[] JSON_MESSAGE = ascii(",\"message\":");
    private static final byte[] JSON_MDC = ascii(",\"mdc\":{");
    private static final byte[] JSON_KV = ascii(",\"kv\":{");
    private static final byte[] JSON_EXCEPTION = ascii(",\"exception\":{\"class\":");
    private static final byte[] JSON_EXCEPTION_MESSAGE = ascii(",\"message\":");
    private static final byte[] JSON_STACK = ascii(",\"stack\":");
    private static final byte[] JSON_FILE = ascii(",\"file\":");
    private static final byte[] JSON_LINE = ascii(",\"line\":");
    private static final byte[] JSON_END = ascii("}\n");
    private static final byte[] NULL = ascii("null");
    private static final byte[] NOT_AVAILABLE = ascii("?"); // logback's CallerData.NA

    private final byte[] jsonFixed;
    private final boolean callerData;
    private final int maxChars;
    private final Encoder<ILoggingEvent> textWithException;

    /**
     * @param host              the host name written in every JSON record
     * @param program           the program name written in every JSON record
     * @param pid               the process id written in every JSON record
     * @param track             the track ({@code main} for the default one)
     * @param callerData        whether the lines carry the caller's file and line
     * @param maxChars          the length at which JSON strings are cut
     * @param textWithException logback's layout of the text line, for records with an
     *                          exception; {@code null} if this encoder makes JSON only
     */
    RecordEncoder(String host, String program, long pid, String track, boolean callerData, int maxChars,
                  Encoder<ILoggingEvent> textWithException) {
        LineBuffer fixed = new LineBuffer(128);
        fixed.append(ascii(",\"host\":"));
        fixed.appendJsonString(host, Integer.MAX_VALUE);
        fixed.append(ascii(",\"program\":"));
        fixed.appendJsonString(program, Integer.MAX_VALUE);
        fixed.append(ascii(",\"pid\":"));
        fixed.appendDecimal(pid);
        fixed.append(ascii(",\"track\":"));
        fixed.appendJsonString(track, Integer.MAX_VALUE);
        this.jsonFixed = fixed.copyFrom(0);
        this.callerData = callerData;
        this.maxChars = maxChars;
        this.textWithException = textWithException;
    }

    boolean callerData() {
        return callerData;
    }

    /**
     * Appends the text line of {@code event} to {@code out}, as the text file holds it.
     */
    void encodeText(ILoggingEvent event, Scratch scratch, LineBuffer out) {
        if (event.getThrowableProxy() != null && textWithException != null) {
            out.append(textWithException.encode(event));
            return;
        }
        appendTime(event.getTimeStamp(), scratch, out);
        out.append((byte) 'Z');
        out.append((byte) ' ');
        out.append(LevelBytes.of(event.getLevel()).text);
        out.append((byte) ' ');
        out.append((byte) '[');
        out.append(scratch.threadText(event.getThreadName()));
        out.append((byte) ']');
        out.append((byte) ' ');
        out.append(scratch.loggerText(event.getLoggerName()));
        if (callerData) {
            StackTraceElement[] callers = event.getCallerData();
            out.append((byte) ' ');
            if (callers != null && callers.length > 0) {
                out.appendText(String.valueOf(callers[0].getFileName()));
                out.append((byte) ':');
                out.appendDecimal(callers[0].getLineNumber());
            } else {
                out.append(NOT_AVAILABLE);
                out.append((byte) ':');
                out.append(NOT_AVAILABLE);
            }
        }
        out.append(TEXT_MESSAGE);
        out.appendText(String.valueOf(event.getFormattedMessage()));
        out.append(LINE_END);
    }

    /**
     * Appends the JSON line of {@code event} to {@code out}, ending with {@code '\n'}.
     *
     * @param seq the record's {@code seq}
     */
    void encodeJson(ILoggingEvent event, long seq, Scratch scratch, LineBuffer out) {
        out.append(JSON_TIME);
        appendTime(event.getTimeStamp(), scratch, out);
        out.append(JSON_LEVEL);
        out.append(LevelBytes.of(event.getLevel()).json);
        out.append((byte) '"');
        out.append(jsonFixed);
        out.append(JSON_SEQ);
        out.appendDecimal(seq);
        out.append(JSON_THREAD);
        out.append(scratch.threadJson(event.getThreadName(), maxChars));
        out.append(JSON_LOGGER);
        out.append(scratch.loggerJson(event.getLoggerName(), maxChars));
        out.append(JSON_MESSAGE);
        out.appendJsonString(String.valueOf(event.getFormattedMessage()), maxChars);
        appendMdc(event.getMDCPropertyMap(), out);
        appendKeyValues(event.getKeyValuePairs(), out);
        appendException(event.getThrowableProxy(), out);
        if (callerData) {
            appendCaller(event.getCallerData(), out);
        }
        out.append(JSON_END);
    }

    /** {@code yyyy-MM-ddTHH:mm:ss.SSS} of {@code millis} in UTC, without the zone. */
    private static void appendTime(long millis, Scratch scratch, LineBuffer out) {
        out.append(scratch.secondPrefix(Math.floorDiv(millis, 1000)));
        out.appendThreeDigits((int) Math.floorMod(millis, 1000));
    }

    private void appendMdc(Map<String, String> mdc, LineBuffer out) {
        out.append(JSON_MDC);
        boolean first = true;
        if (mdc != null) {
            for (Map.Entry<String, String> e : mdc.entrySet()) {
                first = appendMember(first, e.getKey(), e.getValue(), out);
            }
        }
        out.append((byte) '}');
    }

    private void appendKeyValues(List<KeyValuePair> pairs, LineBuffer out) {
        out.append(JSON_KV);
        boolean first = true;
        if (pairs != null) {
            for (KeyValuePair pair : pairs) {
                first = appendMember(first, pair.key, String.valueOf(pair.value), out);
            }
        }
        out.append((byte) '}');
    }

    private boolean appendMember(boolean first, String key, String value, LineBuffer out) {
        if (!first) {
            out.append((byte) ',');
        }
        out.appendJsonString(String.valueOf(key), maxChars);
        out.append((byte) ':');
        out.appendJsonString(String.valueOf(value), maxChars);
        return false;
    }

    private void appendException(IThrowableProxy proxy, LineBuffer out) {
        if (proxy == null) {
            return;
        }
        out.append(JSON_EXCEPTION);
        out.appendJsonString(proxy.getClassName(), maxChars);
        out.append(JSON_EXCEPTION_MESSAGE);
        if (proxy.getMessage() == null) {
            out.append(NULL);
        } else {
            out.appendJsonString(proxy.getMessage(), maxChars);
        }
        out.append(JSON_STACK);
        out.appendJsonString(ThrowableProxyUtil.asString(proxy), maxChars);
        out.append((byte) '}');
    }

    private void appendCaller(StackTraceElement[] callers, LineBuffer out) {
        if (callers == null || callers.length == 0) {
            return;
        }
        StackTraceElement caller = callers[0];
        out.append(JSON_FILE);
        out.appendJsonString(String.valueOf(caller.getFileName()), maxChars);
        out.append(JSON_LINE);
        out.appendDecimal(caller.getLineNumber());
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** A level as the text line pads it ({@code %-5level}) and as the JSON line writes it. */
    private enum LevelBytes {
        TRACE(Level.TRACE), DEBUG(Level.DEBUG), INFO(Level.INFO), WARN(Level.WARN), ERROR(Level.ERROR);

        final byte[] text;
        final byte[] json;

        LevelBytes(Level level) {
            this.text = ascii(String.format("%-5s", level.levelStr));
            this.json = ascii(level.levelStr);
        }

        static LevelBytes of(Level level) {
            return switch (level.levelInt) {
                case Level.TRACE_INT -> TRACE;
                case Level.DEBUG_INT -> DEBUG;
                case Level.INFO_INT -> INFO;
                case Level.WARN_INT -> WARN;
                default -> ERROR; // events are TRACE to ERROR; OFF and ALL are thresholds only
            };
        }
    }

    /**
     * What one thread keeps between records: the time up to the second, and its name and the
     * last logger's name, encoded. A name is checked by identity (an event carries the
     * thread's and the logger's own {@code String}), the second by value; either is encoded
     * again when it changed.
     *
     * <p>Confined to one thread.
     */
    static final class Scratch {
        private final LineBuffer work = new LineBuffer(128);
        private final Name thread = new Name();
        private final Name logger = new Name();
        private long second = Long.MIN_VALUE;
        private byte[] secondPrefix;

        byte[] secondPrefix(long epochSecond) {
            if (epochSecond != second || secondPrefix == null) {
                secondPrefix = SECOND.format(Instant.ofEpochSecond(epochSecond)).getBytes(StandardCharsets.UTF_8);
                second = epochSecond;
            }
            return secondPrefix;
        }

        byte[] threadText(String name) {
            return thread.text(name, work);
        }

        byte[] threadJson(String name, int maxChars) {
            return thread.json(name, maxChars, work);
        }

        byte[] loggerText(String name) {
            return logger.text(name, work);
        }

        byte[] loggerJson(String name, int maxChars) {
            return logger.json(name, maxChars, work);
        }
    }

    /** One name and its encodings, made when first asked for. */
    private static final class Name {
        private String name;
        private byte[] text;
        private byte[] json;
        private int jsonMaxChars;

        byte[] text(String value, LineBuffer work) {
            if (value != name) {
                reset(value);
            }
            if (text == null) {
                work.clear();
                work.appendText(String.valueOf(value));
                text = work.copyFrom(0);
            }
            return text;
        }

        byte[] json(String value, int maxChars, LineBuffer work) {
            if (value != name) {
                reset(value);
            }
            if (json == null || jsonMaxChars != maxChars) {
                work.clear();
                work.appendJsonString(String.valueOf(value), maxChars);
                json = work.copyFrom(0);
                jsonMaxChars = maxChars;
            }
            return json;
        }

        private void reset(String value) {
            name = value;
            text = null;
            json = null;
        }
    }
}
