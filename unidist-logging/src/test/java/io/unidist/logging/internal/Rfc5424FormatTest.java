package io.unidist.logging.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;

/**
 * Every message {@link Rfc5424Format} makes is parsed by the strict {@link Rfc5424Parser}:
 * PRI and version, header fields and their limits, NILVALUE, structured data with escaping
 * and sanitised names, the BOM, bounded stack traces, and cuts at the size limit that never
 * split a UTF-8 character or the structured data.
 */
class Rfc5424FormatTest {

    private static final int LOCAL3 = 19;
    private final LoggerContext context = new LoggerContext();

    Rfc5424FormatTest() {
        context.setMDCAdapter(new LogbackMDCAdapter()); // empty: events without MDC of their own have none
    }

    private LoggingEvent event(Level level, String message) {
        LoggingEvent event = new LoggingEvent("fqcn", context.getLogger("com.acme.Billing"), level, message, null, null);
        event.setInstant(Instant.parse("2024-02-29T23:59:59.123456Z"));
        event.setThreadName("worker-1");
        event.setSequenceNumber(42);
        event.setCallerData(new StackTraceElement[] {
                new StackTraceElement("com.acme.Billing", "charge", "Billing.java", 77)});
        return event;
    }

    private static Rfc5424Format format(int maxBytes) {
        return new Rfc5424Format(LOCAL3, "host-1.example.com", "billing", "4242", maxBytes, track -> true);
    }

    private static Rfc5424Parser.Message parse(byte[] bytes) {
        return Rfc5424Parser.parse(bytes);
    }

    @Test
    void headerHasPriVersionUtcMillisAndTheFieldsInOrder() {
        Rfc5424Parser.Message m = parse(format(2048).format(event(Level.WARN, "disk at 91%"), "main"));
        assertEquals(LOCAL3 * 8 + 4, m.pri());
        assertEquals(1, m.version());
        assertEquals("2024-02-29T23:59:59.123Z", m.timestamp());
        assertEquals("host-1.example.com", m.hostname());
        assertEquals("billing", m.appName());
        assertEquals("4242", m.procId());
        assertEquals("main", m.msgId());
        assertTrue(m.bom(), "UTF-8 MSG starts with the BOM (RFC 5424 §6.4)");
        assertEquals("disk at 91%", m.msg());
        assertEquals(Map.of("seq", "42", "thread", "worker-1", "logger", "com.acme.Billing",
                "file", "Billing.java", "line", "77"), m.sd().get(Rfc5424Format.SD_ID));
        assertEquals(1, m.sd().size(), "no mdc or kv element when they are empty");
    }

    @Test
    void severitiesFollowLogbackLevels() {
        Map<Level, Integer> expected = Map.of(Level.ERROR, 3, Level.WARN, 4, Level.INFO, 6, Level.DEBUG, 7,
                Level.TRACE, 7);
        expected.forEach((level, severity) -> {
            Rfc5424Parser.Message m = parse(format(2048).format(event(level, "x"), "main"));
            assertEquals(severity, m.severity(), level.toString());
            assertEquals(LOCAL3, m.facility());
        });
    }

    @Test
    void emptyHeaderFieldsAreTheNilValue() {
        Rfc5424Format format = new Rfc5424Format(1, "", "", "", 2048, track -> false);
        Rfc5424Parser.Message m = parse(format.format(event(Level.INFO, "x"), ""));
        assertEquals("-", m.hostname());
        assertEquals("-", m.appName());
        assertEquals("-", m.procId());
        assertEquals("-", m.msgId());
        assertNull(m.param(Rfc5424Format.SD_ID, "file"), "no caller data when it is off for the track");
    }

    @Test
    void longOrNonAsciiHeaderFieldsAreCutAndReplaced() {
        Rfc5424Format format = new Rfc5424Format(1, "h".repeat(300), "app name é " + "a".repeat(60), "1",
                2048, track -> true);
        Rfc5424Parser.Message m = parse(format.format(event(Level.INFO, "x"), "t".repeat(64)));
        assertEquals("h".repeat(255), m.hostname());
        assertEquals(48, m.appName().length());
        assertTrue(m.appName().startsWith("app_name___a"), m.appName());
        assertEquals("t".repeat(32), m.msgId());
    }

    @Test
    void mdcAndKeyValuesAreParamsWithEscapedValuesAndSafeNames() {
        LoggingEvent event = event(Level.INFO, "x");
        Map<String, String> mdc = new LinkedHashMap<>();
        mdc.put("user", "a\"b\\c]d");
        mdc.put("a b=c]\"d", "v");
        mdc.put("k".repeat(40), "long name");
        mdc.put("ünïcode", "välue ✓");
        event.setMDCPropertyMap(mdc);
        event.addKeyValuePair(new KeyValuePair("order", 42));
        event.addKeyValuePair(new KeyValuePair("note", "]]\"\\"));

        Rfc5424Parser.Message m = parse(format(2048).format(event, "main"));
        Map<String, String> parsedMdc = m.sd().get(Rfc5424Format.MDC_SD_ID);
        assertEquals("a\"b\\c]d", parsedMdc.get("user"));
        assertEquals("v", parsedMdc.get("a_b_c__d"));
        assertEquals("long name", parsedMdc.get("k".repeat(32)));
        assertEquals("välue ✓", parsedMdc.get("_n_code"));
        assertEquals(Map.of("order", "42", "note", "]]\"\\"), m.sd().get(Rfc5424Format.KV_SD_ID));
    }

    @Test
    void aStackTraceFollowsTheMessageAndIsBounded() {
        LoggingEvent event = new LoggingEvent("fqcn", context.getLogger("x"), Level.ERROR, "failed",
                deepException(60), null);
        Rfc5424Parser.Message m = parse(format(65_000).format(event, "main"));
        String[] lines = m.msg().split("\n");
        assertEquals("failed", lines[0]);
        assertTrue(lines[1].startsWith("java.lang.IllegalStateException: deep"), lines[1]);
        assertEquals(1 + Rfc5424Format.STACK_LINES + 1, lines.length, m.msg());
        assertTrue(lines[lines.length - 1].matches("\t\\.\\.\\. \\d+ more lines"), lines[lines.length - 1]);
    }

    private static RuntimeException deepException(int depth) {
        if (depth == 0) {
            return new IllegalStateException("deep");
        }
        return deepException(depth - 1);
    }

    @Test
    void longMessagesAreCutAtTheLimitNeverInsideAUtf8Character() {
        // 1, 2, 3 and 4 byte characters, so that every limit falls on each kind of boundary
        String text = "aé€𝄞".repeat(300);
        for (int max = SyslogSettings.MIN_MESSAGE_SIZE; max < SyslogSettings.MIN_MESSAGE_SIZE + 40; max++) {
            byte[] bytes = format(max).format(event(Level.INFO, text), "main");
            assertTrue(bytes.length <= max && bytes.length >= max - 3, bytes.length + " for limit " + max);
            Rfc5424Parser.Message m = parse(bytes); // strict: a split character would not decode
            assertTrue(text.startsWith(m.msg()), "a prefix of the message");
            assertFalse(m.msg().isEmpty());
        }
    }

    @Test
    void bigStructuredDataLeavesRoomForTheMessageAndStillParses() {
        LoggingEvent event = event(Level.INFO, "the message");
        Map<String, String> mdc = new LinkedHashMap<>();
        for (int i = 0; i < 100; i++) {
            mdc.put("key" + i, "v".repeat(300)); // each value is cut to 255 bytes, then params stop fitting
        }
        event.setMDCPropertyMap(mdc);
        byte[] bytes = format(2048).format(event, "main");

        assertTrue(bytes.length <= 2048);
        Rfc5424Parser.Message m = parse(bytes);
        assertEquals("v".repeat(Rfc5424Format.MAX_PARAM_VALUE_BYTES), m.param(Rfc5424Format.MDC_SD_ID, "key0"));
        assertTrue(m.sd().get(Rfc5424Format.MDC_SD_ID).size() < 100, "params that do not fit are left out");
        assertEquals("the message", m.msg());
    }

    @Test
    void aFullMessageIsNotCut() {
        String text = "ü".repeat(500);
        byte[] bytes = format(8192).format(event(Level.INFO, text), "main");
        assertEquals(text, parse(bytes).msg());
        assertTrue(new String(bytes, StandardCharsets.UTF_8).endsWith(text));
    }
}
