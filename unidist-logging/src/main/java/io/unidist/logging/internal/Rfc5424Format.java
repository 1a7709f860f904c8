package io.unidist.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.classic.util.LevelToSyslogSeverity;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.slf4j.event.KeyValuePair;

/**
 * Turns an event into one RFC 5424 syslog message of at most {@code maxBytes} bytes.
 *
 * <pre>
 * &lt;PRI&gt;1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [unidist@32473 seq=".." thread=".." logger=".." file=".." line=".."][mdc@32473 ..][kv@32473 ..] BOM MSG
 * </pre>
 *
 * <ul>
 *   <li>PRI = facility * 8 + severity, severities as logback maps them (ERROR 3, WARN 4,
 *       INFO 6, DEBUG and TRACE 7); TIMESTAMP is RFC 3339 UTC with milliseconds.</li>
 *   <li>Header fields keep printable US-ASCII only (others become {@code _}), are cut to their
 *       RFC lengths (HOSTNAME 255, APP-NAME 48, PROCID 128, MSGID 32) and are the NILVALUE
 *       {@code -} when empty. MSGID is the track name.</li>
 *   <li>Structured data: {@code unidist@32473} carries the per-process sequence number, thread,
 *       logger and, when caller data is on for the track, file and line; {@code mdc@32473} the
 *       MDC and {@code kv@32473} SLF4J key-value pairs, each only when not empty. 32473 is the
 *       private enterprise number IANA reserves for documentation (RFC 5612), a placeholder
 *       until unidist has its own. Param names are cut to 32 characters with {@code = ] " space}
 *       and non-printable characters replaced by {@code _}; values are cut to
 *       {@value #MAX_PARAM_VALUE_BYTES} bytes and escape {@code " \ ]} with a backslash.
 *       Params are added in order while they fit, leaving room for the message; a param that
 *       does not fit is left out, never cut, so the structured data always parses.</li>
 *   <li>MSG is the UTF-8 BOM, the formatted message and, with an exception, the first
 *       {@value #STACK_LINES} lines of its stack trace. The whole message is cut at
 *       {@code maxBytes}, always before a complete UTF-8 character.</li>
 * </ul>
 *
 * <p>Thread safety: immutable; {@link #format} may be called from any thread.
 */
final class Rfc5424Format {

    /** IANA's documentation PEN (RFC 5612): a placeholder, documented as such, not a registered number. */
    static final String ENTERPRISE_NUMBER = "32473";
    static final String SD_ID = "unidist@" + ENTERPRISE_NUMBER;
    static final String MDC_SD_ID = "mdc@" + ENTERPRISE_NUMBER;
    static final String KV_SD_ID = "kv@" + ENTERPRISE_NUMBER;
    static final int STACK_LINES = 20;
    static final int MAX_PARAM_VALUE_BYTES = 255;
    /** Bytes kept free for the BOM and the start of the message when structured data is large. */
    private static final int MESSAGE_ROOM = 64;
    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final int facility;
    /** " HOSTNAME APP-NAME PROCID ", the part of the header that never changes. */
    private final String fixedHeader;
    private final int maxBytes;
    private final Predicate<String> callerData;

    /**
     * @param facility   0 to 23
     * @param host       HOSTNAME
     * @param appName    APP-NAME
     * @param procId     PROCID, the process id
     * @param maxBytes   the largest message made, at least {@value SyslogSettings#MIN_MESSAGE_SIZE}
     * @param callerData whether records of a track carry file and line
     */
    Rfc5424Format(int facility, String host, String appName, String procId, int maxBytes,
                  Predicate<String> callerData) {
        this.facility = facility;
        this.fixedHeader = " " + headerField(host, 255) + " " + headerField(appName, 48) + " "
                + headerField(procId, 128) + " ";
        this.maxBytes = maxBytes;
        this.callerData = callerData;
    }

    /** The message for {@code event} of {@code track}, at most {@code maxBytes} long. */
    byte[] format(ILoggingEvent event, String track) {
        StringBuilder head = new StringBuilder(128);
        head.append('<').append(facility * 8 + LevelToSyslogSeverity.convert(event)).append(">1 ");
        TIME.formatTo(event.getInstant(), head);
        head.append(fixedHeader).append(headerField(track, 32)).append(' ');
        int sdBudget = maxBytes - head.length() - 1 - MESSAGE_ROOM; // the header is ASCII: chars = bytes
        head.append(structuredData(event, track, sdBudget)).append(' ');
        byte[] header = head.toString().getBytes(StandardCharsets.UTF_8);
        byte[] text = cutChars(message(event), maxBytes).getBytes(StandardCharsets.UTF_8);

        byte[] out = new byte[header.length + BOM.length + text.length];
        System.arraycopy(header, 0, out, 0, header.length);
        System.arraycopy(BOM, 0, out, header.length, BOM.length);
        System.arraycopy(text, 0, out, header.length + BOM.length, text.length);
        return out.length <= maxBytes ? out : Arrays.copyOf(out, utf8Boundary(out, maxBytes));
    }

    /** The largest length not above {@code limit} that does not end inside a UTF-8 character. */
    static int utf8Boundary(byte[] bytes, int limit) {
        int cut = Math.min(limit, bytes.length);
        while (cut > 0 && cut < bytes.length && (bytes[cut] & 0xC0) == 0x80) {
            cut--; // bytes[cut] continues the character that starts before it: cut before that one
        }
        return cut;
    }

    /** Printable US-ASCII (33 to 126) only, at most {@code max} characters, {@code -} if empty. */
    static String headerField(String value, int max) {
        if (value == null || value.isEmpty()) {
            return "-";
        }
        StringBuilder out = new StringBuilder(Math.min(value.length(), max));
        for (int i = 0; i < value.length() && out.length() < max; i++) {
            char c = value.charAt(i);
            out.append(c >= 33 && c <= 126 ? c : '_');
        }
        return out.toString();
    }

    /** An SD-NAME (RFC 5424 §6.3): 1 to 32 printable US-ASCII characters but {@code = ] " space}. */
    static String sdName(String name) {
        String printable = headerField(name, 32);
        StringBuilder out = new StringBuilder(printable.length());
        for (int i = 0; i < printable.length(); i++) {
            char c = printable.charAt(i);
            out.append(c == '=' || c == ']' || c == '"' ? '_' : c);
        }
        return out.toString();
    }

    private String structuredData(ILoggingEvent event, String track, int budget) {
        StringBuilder sd = new StringBuilder(256);
        Element own = new Element(sd, SD_ID, budget);
        own.param("seq", Long.toString(JsonLinesEncoder.sequenceOf(event)));
        own.param("thread", event.getThreadName());
        own.param("logger", event.getLoggerName());
        if (callerData.test(track)) {
            StackTraceElement[] callers = event.getCallerData();
            if (callers != null && callers.length > 0) {
                own.param("file", String.valueOf(callers[0].getFileName()));
                own.param("line", Integer.toString(callers[0].getLineNumber()));
            }
        }
        own.end();
        Map<String, String> mdc = event.getMDCPropertyMap();
        if (mdc != null && !mdc.isEmpty()) {
            Element element = new Element(sd, MDC_SD_ID, budget);
            mdc.forEach(element::param);
            element.end();
        }
        List<KeyValuePair> pairs = event.getKeyValuePairs();
        if (pairs != null && !pairs.isEmpty()) {
            Element element = new Element(sd, KV_SD_ID, budget);
            pairs.forEach(pair -> element.param(pair.key, String.valueOf(pair.value)));
            element.end();
        }
        return sd.length() == 0 ? "-" : sd.toString();
    }

    /**
     * One SD-ELEMENT being written into {@code sd}; it appears only if at least one param fits
     * in the budget, which counts UTF-8 bytes of everything written so far.
     */
    private static final class Element {
        private final StringBuilder sd;
        private final int start;
        private final int budget;
        private int used;
        private boolean hasParam;

        Element(StringBuilder sd, String id, int budget) {
            this.sd = sd;
            this.start = sd.length();
            this.budget = budget;
            this.used = utf8Length(sd) + 1 + id.length() + 1; // "[" id ... "]"
            sd.append('[').append(id);
        }

        void param(String name, String value) {
            String param = " " + sdName(name) + "=\"" + escape(cutBytes(String.valueOf(value))) + "\"";
            int length = utf8Length(param);
            if (used + length <= budget) {
                sd.append(param);
                used += length;
                hasParam = true;
            }
        }

        void end() {
            if (hasParam) {
                sd.append(']');
            } else {
                sd.setLength(start);
            }
        }
    }

    /** RFC 5424 §6.3.3: {@code "}, {@code \} and {@code ]} are escaped with a backslash. */
    static String escape(String value) {
        StringBuilder out = null;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\' || c == ']') {
                if (out == null) {
                    out = new StringBuilder(value.length() + 8).append(value, 0, i);
                }
                out.append('\\');
            }
            if (out != null) {
                out.append(c);
            }
        }
        return out == null ? value : out.toString();
    }

    /** {@code value} cut to at most {@value #MAX_PARAM_VALUE_BYTES} UTF-8 bytes, between characters. */
    private static String cutBytes(String value) {
        if (value.length() * 3 <= MAX_PARAM_VALUE_BYTES) {
            return value; // no character takes more than 3 bytes per char
        }
        byte[] bytes = cutChars(value, MAX_PARAM_VALUE_BYTES).getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_PARAM_VALUE_BYTES) {
            return new String(bytes, StandardCharsets.UTF_8);
        }
        return new String(bytes, 0, utf8Boundary(bytes, MAX_PARAM_VALUE_BYTES), StandardCharsets.UTF_8);
    }

    /**
     * At most {@code max} chars, never ending in half a surrogate pair. Each char is at least one
     * UTF-8 byte, so chars beyond the byte limit can never be sent; this saves encoding them.
     */
    private static String cutChars(String value, int max) {
        if (value.length() <= max) {
            return value;
        }
        int end = Character.isHighSurrogate(value.charAt(max - 1)) ? max - 1 : max;
        return value.substring(0, end);
    }

    private static int utf8Length(CharSequence s) {
        int bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3; // other chars, and a lone surrogate, which the encoder turns into '?' (1 byte): over-counts
            }
        }
        return bytes;
    }

    private static String message(ILoggingEvent event) {
        String message = String.valueOf(event.getFormattedMessage());
        IThrowableProxy proxy = event.getThrowableProxy();
        if (proxy == null) {
            return message;
        }
        String[] lines = ThrowableProxyUtil.asString(proxy).split("\r?\n");
        StringBuilder out = new StringBuilder(message.length() + 2048).append(message);
        int shown = Math.min(lines.length, STACK_LINES);
        for (int i = 0; i < shown; i++) {
            out.append('\n').append(lines[i]);
        }
        if (lines.length > shown) {
            out.append("\n\t... ").append(lines.length - shown).append(" more lines");
        }
        return out.toString();
    }
}
