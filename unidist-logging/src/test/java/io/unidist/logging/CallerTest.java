package io.unidist.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.Marker;

/**
 * Every record's file and line is the statement that logged it, whichever way it was logged:
 * the plain methods with 0 to 3 arguments and a throwable, the fluent API, a track, two calls
 * on one line, calls from lambdas and through reflection, a call made from another turbo filter, repeated calls from one statement (the cached position),
 * and records logged after a call another turbo filter denied or a level that is off.
 * Each expected line is taken from the test's own stack, so the assertions are exact.
 */
class CallerTest {

    @TempDir
    Path dir;

    private final LoggerContext context = new LoggerContext();

    @AfterEach
    void stop() {
        context.stop();
    }

    private Logger configure() {
        Properties p = new Properties();
        p.setProperty("unidist.logging.dir", dir.toString());
        p.setProperty("unidist.program", "prog");
        p.setProperty("unidist.logging.console", "false");
        UnidistLogging.configure(context, p);
        return context.getLogger("test");
    }

    private static int here() {
        return new Throwable().getStackTrace()[1].getLineNumber();
    }

    private List<String> callers(String file) throws IOException {
        List<String> out = new ArrayList<>();
        for (Map<String, Object> r : ZeroConfigTest.jsonLines(dir.resolve(file))) {
            out.add(r.get("message") + "@" + r.get("file") + ":" + r.get("line"));
        }
        return out;
    }

    private static String at(String message, int line) {
        return message + "@CallerTest.java:" + line;
    }

    @Test
    void plainCallsOfEveryArity() throws IOException {
        Logger log = configure();
        int line = here();
        log.info("zero");
        log.info("one {}", 1);
        log.info("two {} {}", 1, 2);
        log.info("three {} {} {}", 1, 2, 3);
        log.warn("thrown", new IllegalStateException("x"));
        log.error("arg and thrown {}", 1, new IllegalStateException("y"));

        assertEquals(List.of(at("zero", line + 1), at("one 1", line + 2), at("two 1 2", line + 3),
                at("three 1 2 3", line + 4), at("thrown", line + 5), at("arg and thrown 1", line + 6)),
                callers("prog.jsonl"));
        String text = Files.readString(dir.resolve("prog.log"));
        assertEquals(true, text.contains(" CallerTest.java:" + (line + 2) + " - one 1"), text);
    }

    @Test
    void twoCallsOnOneLineAndOneStatementRepeated() throws IOException {
        Logger log = configure();
        int line = here();
        log.info("a"); log.info("b {}", 2); // two overloads, one line
        for (int i = 0; i < 3; i++) {
            log.info("loop");
        }

        assertEquals(List.of(at("a", line + 1), at("b 2", line + 1), at("loop", line + 3), at("loop", line + 3),
                at("loop", line + 3)), callers("prog.jsonl"));
    }

    @Test
    void fluentCallsAndTracks() throws IOException {
        Logger log = configure();
        Logger audit = UnidistLogging.track(context, "audit");
        int line = here();
        log.atInfo().addKeyValue("k", 1).log("fluent");
        audit.info("audited {}", 1);
        audit.atWarn().setMessage("fluent track").log();
        log.info("after fluent");

        assertEquals(List.of(at("fluent", line + 1), at("after fluent", line + 4)), callers("prog.jsonl"));
        assertEquals(List.of(at("audited 1", line + 2), at("fluent track", line + 3)), callers("prog.audit.jsonl"));
    }

    @Test
    void callsFromLambdas() throws IOException {
        Logger log = configure();
        int line = here();
        Runnable r = () -> log.info("lambda");
        Supplier<String> s = () -> {
            log.info("block lambda {}", 1);
            return "x";
        };
        r.run();
        s.get();
        List.of(1).forEach(i -> log.info("forEach {}", i));

        assertEquals(List.of(at("lambda", line + 1), at("block lambda 1", line + 3), at("forEach 1", line + 8)),
                callers("prog.jsonl"));
    }

    @Test
    void aCallThroughReflection() throws Exception {
        Logger log = configure();
        int line = here();
        Logger.class.getMethod("info", String.class, Object.class).invoke(log, "reflective {}", 1);

        assertEquals(List.of(at("reflective 1", line + 1)), callers("prog.jsonl"));
    }

    @Test
    void aDeniedOrDisabledCallLendsItsCallerToNoOtherRecord() throws IOException {
        Logger log = configure();
        context.addTurboFilter(new TurboFilter() {
            @Override
            public FilterReply decide(Marker marker, ch.qos.logback.classic.Logger logger, Level level,
                                      String format, Object[] params, Throwable t) {
                return "denied".equals(format) ? FilterReply.DENY : FilterReply.NEUTRAL;
            }
        });
        ch.qos.logback.classic.Logger logback = (ch.qos.logback.classic.Logger) log;
        int line = here();
        log.info("denied");
        logback.callAppenders(new LoggingEvent("x", logback, Level.INFO, "by hand", null, null));
        log.debug("disabled");
        log.atInfo().log("fluent");

        assertEquals(List.of(at("by hand", line + 2), at("fluent", line + 4)), callers("prog.jsonl"));
    }

    @Test
    void aTurboFilterThatLogsGetsItsOwnCallerAndTheOuterCallKeepsItsOwn() throws IOException {
        Logger log = configure();
        int[] nestedLine = new int[1];
        context.addTurboFilter(new TurboFilter() {
            @Override
            public FilterReply decide(Marker marker, ch.qos.logback.classic.Logger logger, Level level,
                                      String format, Object[] params, Throwable t) {
                if ("outer".equals(format)) {
                    nestedLine[0] = here() + 1;
                    logger.info("nested");
                }
                return FilterReply.NEUTRAL;
            }
        });
        int line = here();
        log.info("outer");

        assertEquals(List.of(at("nested", nestedLine[0]), at("outer", line + 1)), callers("prog.jsonl"));
    }

    @Test
    void aTrackWithCallerDataOffHasNoFileAndLine() throws IOException {
        Properties p = new Properties();
        p.setProperty("unidist.logging.dir", dir.toString());
        p.setProperty("unidist.program", "prog");
        p.setProperty("unidist.logging.console", "false");
        p.setProperty("unidist.logging.track.quiet.callerData", "false");
        UnidistLogging.configure(context, p);
        Logger quiet = UnidistLogging.track(context, "quiet");
        Logger log = context.getLogger("test");
        int line = here();
        quiet.info("quiet");
        log.info("loud");

        assertEquals(List.of("quiet@null:null"), callers("prog.quiet.jsonl"));
        assertEquals(List.of(at("loud", line + 2)), callers("prog.jsonl"));
    }
}
