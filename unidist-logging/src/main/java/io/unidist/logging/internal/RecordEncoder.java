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
 * the text line and the JSON line, with what they share (the time, the caller, the formatted
 * message and its UTF-8) computed once.
 *
 * <p>The text line is, byte for byte, what logback's {@code PatternLayout} makes of
 * {@value #TEXT_PATTERN_HEAD}{@code [ %file:%line] - %msg%n} in UTF-8; a record with an
 * exception is handed to that layout itself ({@code textWithException}), for logback's stack
 * trace format. The JSON line's fields are listed in {@link JsonLinesEncoder}; its strings are
 * those of {@link Json#appendString}.
 *
 * <p>Cost: what does not change between records is encoded once and kept: per level, the
 * constant bytes around it (for the JSON line with the track's fixed fields); per thread, the
 * time up to the second, the thread's name and the last logger's name (see {@link Scratch}).
 * The message is encoded to UTF-8 once, by the JDK, for both lines; the JSON line copies those
 * bytes as they are when they are printable ASCII with nothing to escape (the common case),
 * and escapes character by character otherwise.
 *
 * <p>Thread safety: immutable; the per-thread state is in the {@link Scratch} passed in.
 */
final class RecordEncoder {

    /** The head of the text line's pattern, up to the logger. */
    static final String TEXT_PATTERN_HEAD = "%d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z',UTC} %-5level [%thread] %logger";

    private static final DateTimeFormatter SECOND =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.").withZone(ZoneOffset.UTC);
    private static final Level[] LEVELS = {Level.TRACE, Level.DEBUG, Level.INFO, Level.WARN, Level.ERROR};
    private static final byte[] LINE_END = CoreConstants.LINE_SEPARATOR.getBytes(StandardCharsets.UTF_8);
    private static final byte[] TEXT_MESSAGE = ascii(" - ");
    private static final byte[] JSON_TIME = ascii("{\"time\":\"");
    private static final byte[] JSON_NO_MDC_NO_KV = ascii(",\"mdc\":{},\"kv\":{}");
    private static final byte[] JSON_MDC = ascii(",\"mdc\":{");
    private static final byte[] JSON_KV = ascii(",\"kv\":{");
    private static final byte[] JSON_EXCEPTION = ascii(",\"exception\":{\"class\":");
    private static final byte[] JSON_EXCEPTION_MESSAGE = ascii(",\"message\":");
    private static final byte[] JSON_STACK = ascii(",\"stack\":");
    private static final byte[] JSON_FILE = ascii(",\"file\":");
    private static final byte[] JSON_LINE = ascii(",\"line\":");
    private static final byte[] JSON_END = ascii("}\n");
    private static final byte[] NULL = ascii("null");
    private static final byte[] NO_CALLER = ascii(" ?:?"); // logback's CallerData.NA for file and line

    /** Per level ({@link #levelIndex}): {@code Z <LEVEL padded to 5> [}. */
    private static final byte[][] TEXT_LEVEL = new byte[LEVELS.length][];

    static {
        for (int i = 0; i < LEVELS.length; i++) {
            TEXT_LEVEL[i] = ascii(String.format("Z %-5s [", LEVELS[i].levelStr));
        }
    }

    /** Per level: {@code Z","level":"<LEVEL>","host":…,"track":…,"seq":}. */
    private final byte[][] jsonLevelAndFixed = new byte[LEVELS.length][];
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
        for (int i = 0; i < LEVELS.length; i++) {
            LineBuffer fixed = new LineBuffer(160);
            fixed.append(ascii("Z\",\"level\":\"" + LEVELS[i].levelStr + "\",\"host\":"));
            fixed.appendJsonString(host, Integer.MAX_VALUE);
            fixed.append(ascii(",\"program\":"));
            fixed.appendJsonString(program, Integer.MAX_VALUE);
            fixed.append(ascii(",\"pid\":"));
            fixed.appendDecimal(pid);
            fixed.append(ascii(",\"track\":"));
            fixed.appendJsonString(track, Integer.MAX_VALUE);
            fixed.append(ascii(",\"seq\":"));
            jsonLevelAndFixed[i] = fixed.copyFrom(0);
        }
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
        out.append(TEXT_LEVEL[levelIndex(event.getLevel())]);
        out.append(scratch.threadText(event.getThreadName()));
        out.append(scratch.loggerText(event.getLoggerName()));
        if (callerData) {
            StackTraceElement[] callers = event.getCallerData();
            if (callers != null && callers.length > 0) {
                out.append((byte) ' ');
                out.appendText(String.valueOf(callers[0].getFileName()));
                out.append((byte) ':');
                out.appendDecimal(callers[0].getLineNumber());
            } else {
                out.append(NO_CALLER);
            }
        }
        out.append(TEXT_MESSAGE);
        out.append(scratch.messageUtf8(event.getFormattedMessage()));
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
        out.append(jsonLevelAndFixed[levelIndex(event.getLevel())]);
        out.appendDecimal(seq);
        out.append(scratch.threadJson(event.getThreadName(), maxChars));
        out.append(scratch.loggerJson(event.getLoggerName(), maxChars));
        String message = String.valueOf(event.getFormattedMessage());
        byte[] utf8 = scratch.messageUtf8(event.getFormattedMessage());
        if (message.length() <= maxChars && LineBuffer.isPlainJson(utf8)) {
            out.append((byte) '"');
            out.append(utf8);
            out.append((byte) '"');
        } else {
            out.appendJsonString(message, maxChars);
        }
        Map<String, String> mdc = event.getMDCPropertyMap();
        List<KeyValuePair> pairs = event.getKeyValuePairs();
        if ((mdc == null || mdc.isEmpty()) && (pairs == null || pairs.isEmpty())) {
            out.append(JSON_NO_MDC_NO_KV);
        } else {
            appendMdc(mdc, out);
            appendKeyValues(pairs, out);
        }
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

    /** TRACE 0 to ERROR 4; events are TRACE to ERROR (OFF and ALL are thresholds only). */
    private static int levelIndex(Level level) {
        return switch (level.levelInt) {
            case Level.TRACE_INT -> 0;
            case Level.DEBUG_INT -> 1;
            case Level.INFO_INT -> 2;
            case Level.WARN_INT -> 3;
            default -> 4;
        };
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

    /**
     * What one thread keeps between records: the time up to the second; its name and the last
     * logger's name, encoded with the bytes around them (text {@code name] }, JSON
     * {@code ,"thread":"name"} and {@code ,"logger":"name","message":}); and the UTF-8 of the
     * message of the record being encoded, for its second line. A name is checked by identity
     * (an event carries the thread's and the logger's own {@code String}), the second by value;
     * either is encoded again when it changed.
     *
     * <p>Confined to one thread.
     */
    static final class Scratch {
        private static final byte[] THREAD_END = ascii("] ");
        private static final byte[] JSON_THREAD = ascii(",\"thread\":");
        private static final byte[] JSON_LOGGER = ascii(",\"logger\":");
        private static final byte[] JSON_MESSAGE = ascii(",\"message\":");
        private static final byte[] NONE = new byte[0];

        private final LineBuffer work = new LineBuffer(128);
        private final Name thread = new Name(NONE, THREAD_END, JSON_THREAD, NONE);
        private final Name logger = new Name(NONE, NONE, JSON_LOGGER, JSON_MESSAGE);
        private long second = Long.MIN_VALUE;
        private byte[] secondPrefix;
        private String message;
        private byte[] messageUtf8;

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

        /**
         * {@code String.valueOf(formatted)} in UTF-8 as {@code String.getBytes} makes it (a lone
         * surrogate is {@code '?'}), encoded once for both lines of a record.
         */
        byte[] messageUtf8(String formatted) {
            if (formatted != message || messageUtf8 == null) {
                messageUtf8 = String.valueOf(formatted).getBytes(StandardCharsets.UTF_8);
                message = formatted;
            }
            return messageUtf8;
        }

        /** Drops the last message, so that a large one is not kept until the next record. */
        void forgetMessage() {
            message = null;
            messageUtf8 = null;
        }
    }

    /** One name and its encodings with the constant bytes around them, made when first asked for. */
    private static final class Name {
        private final byte[] textBefore;
        private final byte[] textAfter;
        private final byte[] jsonBefore;
        private final byte[] jsonAfter;
        private String name;
        private byte[] text;
        private byte[] json;
        private int jsonMaxChars;

        Name(byte[] textBefore, byte[] textAfter, byte[] jsonBefore, byte[] jsonAfter) {
            this.textBefore = textBefore;
            this.textAfter = textAfter;
            this.jsonBefore = jsonBefore;
            this.jsonAfter = jsonAfter;
        }

        byte[] text(String value, LineBuffer work) {
            if (value != name) {
                reset(value);
            }
            if (text == null) {
                work.clear();
                work.append(textBefore);
                work.appendText(String.valueOf(value));
                work.append(textAfter);
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
                work.append(jsonBefore);
                work.appendJsonString(String.valueOf(value), maxChars);
                work.append(jsonAfter);
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
