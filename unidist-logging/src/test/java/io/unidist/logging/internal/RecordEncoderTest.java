package io.unidist.logging.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import io.unidist.logging.MiniJson;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;

/**
 * The lines a track's files get, against independent references: the text line is byte for
 * byte what logback's own {@code PatternLayout} makes of the same pattern (for every level,
 * any characters, caller data on and off, a missing caller, a message that is null or spans
 * lines, a time before 1970); the JSON line parses, has the documented fields in order with
 * the event's values, and its strings are the UTF-8 of {@link Json#appendString}. The
 * per-thread caches notice a new thread name or logger.
 */
class RecordEncoderTest {

    private static final List<String> ODD = List.of("", "plain", "what? plain ascii", "q\"uo\\te\nnew\rline\ttab\u0000\u0001\u001f\u007f",
            "\u2028\u2029 é ✓ 😀", "lone \ud800 high", "lone \udc00 low", "end high \ud83d", "\ud83d\ude00\ud83d\ude00",
            "x".repeat(3000) + "ü");

    private final LoggerContext context = new LoggerContext();

    RecordEncoderTest() {
        context.setMDCAdapter(org.slf4j.MDC.getMDCAdapter());
    }

    @AfterEach
    void stop() {
        context.stop();
    }

    @Test
    void textLineIsWhatLogbacksPatternLayoutWritesForAnyEvent() {
        for (boolean caller : new boolean[] {true, false}) {
            PatternLayoutEncoder layout = layout(caller);
            RecordEncoder encoder = new RecordEncoder("h", "p", 1, "main", caller, 65_536, layout);
            RecordEncoder.Scratch scratch = new RecordEncoder.Scratch();
            for (ILoggingEvent event : events()) {
                LineBuffer out = new LineBuffer(16);
                encoder.encodeText(event, scratch, out);
                assertEquals(new String(layout.encode(event), StandardCharsets.UTF_8),
                        new String(out.copyFrom(0), StandardCharsets.UTF_8), "caller " + caller);
                assertArrayEquals(layout.encode(event), out.copyFrom(0), "caller " + caller + ": " + event);
            }
        }
    }

    @Test
    void jsonLineHasTheDocumentedFieldsInOrderWithTheEventsValues() {
        RecordEncoder encoder = new RecordEncoder("host-1", "prog \"x\"", 4242, "audit", true, 65_536, null);
        RecordEncoder.Scratch scratch = new RecordEncoder.Scratch();
        long seq = 1;
        for (ILoggingEvent event : events()) {
            LineBuffer out = new LineBuffer(16);
            encoder.encodeJson(event, seq, scratch, out);
            String line = new String(out.copyFrom(0), StandardCharsets.UTF_8);
            assertTrue(line.endsWith("}\n") && line.indexOf('\n') == line.length() - 1, "one line: " + line);
            Map<String, Object> record = MiniJson.parseObject(line.substring(0, line.length() - 1));

            List<String> keys = new ArrayList<>(List.of("time", "level", "host", "program", "pid", "track", "seq",
                    "thread", "logger", "message", "mdc", "kv"));
            if (event.getThrowableProxy() != null) {
                keys.add("exception");
            }
            StackTraceElement[] callers = event.getCallerData();
            if (callers.length > 0) {
                keys.addAll(List.of("file", "line"));
            }
            assertEquals(keys, new ArrayList<>(record.keySet()), line);
            assertEquals(event.getInstant().toString().replaceFirst("(\\.\\d+)?Z$", "") + millis(event) + "Z",
                    record.get("time"));
            assertEquals(event.getLevel().toString(), record.get("level"));
            assertEquals("host-1", record.get("host"));
            assertEquals("prog \"x\"", record.get("program"));
            assertEquals(4242L, record.get("pid"));
            assertEquals("audit", record.get("track"));
            assertEquals(seq, record.get("seq"));
            assertEquals(wellFormed(event.getThreadName()), record.get("thread"));
            assertEquals(wellFormed(event.getLoggerName()), record.get("logger"));
            assertEquals(wellFormed(String.valueOf(event.getFormattedMessage())), record.get("message"));
            assertEquals(event.getMDCPropertyMap(), record.get("mdc"));
            if (callers.length > 0) {
                assertEquals(String.valueOf(callers[0].getFileName()), record.get("file"));
                assertEquals((long) callers[0].getLineNumber(), record.get("line"));
            }
            seq += 1000;
        }
    }

    @Test
    void jsonStringsAreTheUtf8OfJsonAppendStringAndTextIsTheUtf8OfTheString() {
        for (String value : ODD) {
            for (int max : new int[] {0, 1, 2, 5, 11, 3000, 65_536}) {
                LineBuffer out = new LineBuffer(4);
                out.appendJsonString(value, max);
                StringBuilder reference = new StringBuilder();
                Json.appendString(reference, value, max);
                assertArrayEquals(reference.toString().getBytes(StandardCharsets.UTF_8), out.copyFrom(0),
                        value + " cut at " + max);
            }
            LineBuffer text = new LineBuffer(4);
            text.appendText(value);
            assertArrayEquals(value.getBytes(StandardCharsets.UTF_8), text.copyFrom(0), value);
        }
        for (long n : new long[] {0, 7, -7, 10, 999, Long.MAX_VALUE, Long.MIN_VALUE}) {
            LineBuffer out = new LineBuffer(1);
            out.appendDecimal(n);
            assertEquals(Long.toString(n), new String(out.copyFrom(0), StandardCharsets.UTF_8));
        }
    }

    @Test
    void longJsonStringsAreCutAndTheCachesFollowANewThreadNameOrLogger() {
        RecordEncoder encoder = new RecordEncoder("h", "p", 1, "main", false, 5, null);
        RecordEncoder.Scratch scratch = new RecordEncoder.Scratch();

        Map<String, Object> first = json(encoder, scratch, event("loggerA", Level.INFO, "message-long", "thread-one"));
        Map<String, Object> second = json(encoder, scratch, event("loggerB", Level.INFO, "short", "thread-two"));
        Map<String, Object> third = json(encoder, scratch, event("loggerA", Level.INFO, "m", "thread-one"));

        assertEquals("messa\u2026[truncated, 12 chars in total]", first.get("message"));
        assertEquals("threa\u2026[truncated, 10 chars in total]", first.get("thread"));
        assertEquals("short", second.get("message"));
        assertEquals("logge\u2026[truncated, 7 chars in total]", second.get("logger"));
        assertFalse(first.equals(second));
        assertEquals(first.get("thread"), third.get("thread"));
        LineBuffer text = new LineBuffer(8);
        new RecordEncoder("h", "p", 1, "main", false, 5, null)
                .encodeText(event("x.Y", Level.WARN, "hi", "thread-two"), scratch, text);
        assertTrue(new String(text.copyFrom(0), StandardCharsets.UTF_8).endsWith(" WARN  [thread-two] x.Y - hi\n"),
                "the text line is never cut");
    }

    private Map<String, Object> json(RecordEncoder encoder, RecordEncoder.Scratch scratch, ILoggingEvent event) {
        LineBuffer out = new LineBuffer(8);
        encoder.encodeJson(event, 1, scratch, out);
        String line = new String(out.copyFrom(0), StandardCharsets.UTF_8);
        return MiniJson.parseObject(line.substring(0, line.length() - 1));
    }

    /** Events of every level and of odd content, some with caller data, one with an exception. */
    private List<ILoggingEvent> events() {
        List<ILoggingEvent> events = new ArrayList<>();
        Level[] levels = {Level.TRACE, Level.DEBUG, Level.INFO, Level.WARN, Level.ERROR};
        for (int i = 0; i < ODD.size(); i++) {
            LoggingEvent event = event("com.acme.L" + i + ODD.get(i), levels[i % levels.length],
                    ODD.get(i), "wörker-" + ODD.get((i + 3) % ODD.size()));
            event.setCallerData(new StackTraceElement[] {
                new StackTraceElement("com.acme.App", "run", i % 2 == 0 ? "App.java" : null, i * 7 - 2)});
            events.add(event);
        }
        LoggingEvent noCaller = event("com.acme.App", Level.INFO, "no caller found", "main");
        noCaller.setCallerData(new StackTraceElement[0]);
        events.add(noCaller);
        LoggingEvent nullMessage = event("com.acme.App", Level.INFO, null, "main");
        nullMessage.setCallerData(new StackTraceElement[0]);
        events.add(nullMessage);
        LoggingEvent formatted = event("com.acme.App", Level.INFO, "order {} for {}\r\nnext line", "main");
        formatted.setArgumentArray(new Object[] {42, "ann"});
        formatted.setMDCPropertyMap(Map.of("request", "r-1"));
        formatted.addKeyValuePair(new KeyValuePair("user", "ann"));
        formatted.setInstant(Instant.parse("1969-12-31T23:59:59.007Z"));
        formatted.setCallerData(new StackTraceElement[] {new StackTraceElement("A", "b", "A.java", 3)});
        events.add(formatted);
        LoggingEvent failed = new LoggingEvent("fqcn", context.getLogger("com.acme.App"), Level.ERROR, "failed",
                new IllegalStateException("boom"), null);
        failed.setCallerData(new StackTraceElement[] {new StackTraceElement("A", "b", "A.java", 4)});
        events.add(failed);
        return events;
    }

    private LoggingEvent event(String logger, Level level, String message, String thread) {
        LoggingEvent event = new LoggingEvent("fqcn", context.getLogger(logger), level, message, null, null);
        event.setThreadName(thread);
        event.setInstant(Instant.parse("2026-12-03T17:00:01.234Z"));
        return event;
    }

    private PatternLayoutEncoder layout(boolean caller) {
        PatternLayoutEncoder layout = new PatternLayoutEncoder();
        layout.setContext(context);
        layout.setPattern(RecordEncoder.TEXT_PATTERN_HEAD + (caller ? " %file:%line" : "") + " - %msg%n");
        layout.setCharset(StandardCharsets.UTF_8);
        layout.start();
        return layout;
    }

    private static String millis(ILoggingEvent event) {
        return String.format(".%03d", Math.floorMod(event.getTimeStamp(), 1000));
    }

    /** What a JSON parser reads back: lone surrogates became U+FFFD. */
    private static String wellFormed(String value) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                out.append(c).append(value.charAt(++i));
            } else {
                out.append(Character.isSurrogate(c) ? '\ufffd' : c);
            }
        }
        return out.toString();
    }
}
