package io.unidist.logging.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import io.unidist.logging.UnidistLogging;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/**
 * End to end through {@link UnidistLogging#configure}: RFC 5424 over UDP and TCP to servers on
 * 127.0.0.1, level and track selection, a server that closes mid-stream and comes back on the
 * same port (nothing lost, duplicates allowed), a server that never reads (drops counted and
 * reported, logging threads never wait, stop is bounded), logback's RFC 3164 appender, and bad
 * keys or an unknown host (warnings, local files unaffected).
 */
class SyslogDeliveryTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final LoggerContext context = new LoggerContext();

    @AfterEach
    void stop() {
        context.stop();
    }

    private Logger configure(String... keyValues) {
        Properties p = new Properties();
        p.setProperty("unidist.logging.dir", dir.toString());
        p.setProperty("unidist.program", "prog");
        p.setProperty("unidist.logging.console", "false");
        p.setProperty("unidist.logging.manifest.enabled", "false");
        p.setProperty("unidist.logging.syslog.enabled", "true");
        p.setProperty("unidist.logging.syslog.host", "127.0.0.1");
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty("unidist.logging.syslog." + keyValues[i], keyValues[i + 1]);
        }
        UnidistLogging.configure(context, p);
        return context.getLogger("com.acme.App");
    }

    private String localLog() throws IOException {
        return Files.readString(dir.resolve("prog.log"), StandardCharsets.UTF_8);
    }

    private Rfc5424Appender appender() {
        return (Rfc5424Appender) context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)
                .getAppender(SyslogAppenders.NAME);
    }

    private static List<Rfc5424Parser.Message> parseAll(List<byte[]> received) {
        List<Rfc5424Parser.Message> messages = new ArrayList<>();
        for (byte[] bytes : received) {
            messages.add(Rfc5424Parser.parse(bytes));
        }
        return messages;
    }

    @Test
    void udpSendsOneDatagramPerRecordOfTheChosenTracksAndLevel() throws IOException {
        try (SyslogReceivers.Udp server = new SyslogReceivers.Udp()) {
            Logger log = configure("port", Integer.toString(server.port()), "facility", "local3",
                    "tracks", "main, audit", "appName", "billing");
            log.debug("below the level");
            UnidistLogging.track(context, "other").info("a track not sent");
            UnidistLogging.track(context, "audit").warn("audited");
            log.atInfo().addKeyValue("order", 7).log("accepted");

            await().atMost(PATIENCE).until(() -> server.received.size() >= 2);
            List<Rfc5424Parser.Message> messages = parseAll(server.received);
            Rfc5424Parser.Message audited = messages.get(0);
            assertEquals("audited", audited.msg(), "debug and the other track were not sent");
            assertEquals("audit", audited.msgId());
            assertEquals(19 * 8 + 4, audited.pri());
            assertEquals("billing", audited.appName());
            assertEquals(Long.toString(ProcessHandle.current().pid()), audited.procId());
            assertNotEquals("-", audited.hostname());
            Rfc5424Parser.Message accepted = messages.get(1);
            assertEquals("main", accepted.msgId());
            assertEquals("7", accepted.param(Rfc5424Format.KV_SD_ID, "order"));
            assertTrue(Long.parseLong(accepted.param(Rfc5424Format.SD_ID, "seq"))
                    > Long.parseLong(audited.param(Rfc5424Format.SD_ID, "seq")), "seq counts per process");
            assertTrue(Long.parseLong(audited.param(Rfc5424Format.SD_ID, "seq")) > 0);
        }
    }

    @Test
    void tcpFramesEachRecordWithItsOctetCount() throws IOException {
        try (SyslogReceivers.Frames server = SyslogReceivers.Frames.tcp()) {
            Logger log = configure("protocol", "tcp", "port", Integer.toString(server.port()));
            log.info("line one\nline two");
            for (int i = 0; i < 100; i++) {
                log.info("record {}", i);
            }

            await().atMost(PATIENCE).until(() -> server.received.size() >= 101);
            List<Rfc5424Parser.Message> messages = parseAll(server.received);
            assertEquals("line one\nline two", messages.get(0).msg(), "octet counting carries newlines");
            long lastSeq = 0;
            for (Rfc5424Parser.Message m : messages) {
                long seq = Long.parseLong(m.param(Rfc5424Format.SD_ID, "seq"));
                assertTrue(seq > lastSeq, "in order, once each");
                lastSeq = seq;
            }
            assertEquals(List.of(), server.errors);
            assertEquals(1, server.connectionCount());
        }
    }

    @Test
    void aServerThatClosesMidStreamAndRestartsOnTheSamePortLosesNothing() throws IOException {
        SyslogReceivers.Frames first = new SyslogReceivers.Frames(null, 0, true, 50);
        int port = first.port();
        Logger log = configure("protocol", "tcp", "port", Integer.toString(port));
        for (int i = 0; i < 200; i++) {
            log.info("record {}", i);
        }
        await().atMost(PATIENCE).until(first::isClosed);

        try (SyslogReceivers.Frames second = new SyslogReceivers.Frames(null, port, true, 0)) {
            for (int i = 200; i < 300; i++) {
                log.info("record {}", i);
            }
            Set<String> expected = new HashSet<>();
            IntStream.range(0, 300).forEach(i -> expected.add("record " + i));
            await().atMost(PATIENCE).until(() -> {
                Set<String> seen = new HashSet<>();
                parseAll(first.received).forEach(m -> seen.add(m.msg()));
                parseAll(second.received).forEach(m -> seen.add(m.msg()));
                return seen.containsAll(expected);
            });
            assertEquals(List.of(), second.errors, "the new connection starts with a whole frame");
            await().atMost(PATIENCE).until(() -> localLog().contains("connected again"));
            assertTrue(localLog().contains("connection lost"), "the break is reported in the local file");
        }
    }

    @Test
    void aServerThatNeverReadsMakesRecordsDropNotTheLoggingThreadWait() throws IOException {
        try (SyslogReceivers.Frames stuck = new SyslogReceivers.Frames(null, 0, false, 0)) {
            Logger log = configure("protocol", "tcp", "port", Integer.toString(stuck.port()), "queueSize", "100");
            String padding = "x".repeat(1000);

            // the kernel's buffers fill, the sender blocks in write, then the queue fills
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                for (int i = 0; i < 1_000_000 && appender().dropped() == 0; i++) {
                    log.info("record {} {}", i, padding);
                }
            });
            assertTrue(appender().dropped() > 0);
            long dropsBefore = appender().dropped();
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                for (int i = 0; i < 1_000; i++) {
                    log.info("more {}", i);
                }
            });
            assertTrue(appender().dropped() > dropsBefore);
            await().atMost(PATIENCE).until(() -> localLog().contains("was full"));
            assertTrue(localLog().contains("more 999"), "the local file has every record");

            long start = System.nanoTime();
            context.stop();
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 5_000,
                    "stop drains for about a second, then closes the stuck connection");
        }
    }

    @Test
    void udp3164IsLogbacksOwnFormat() throws IOException {
        try (SyslogReceivers.Udp server = new SyslogReceivers.Udp()) {
            Logger log = configure("protocol", "UDP3164", "port", Integer.toString(server.port()));
            log.info("hello 3164");

            await().atMost(PATIENCE).until(() -> !server.received.isEmpty());
            String datagram = new String(server.received.get(0), StandardCharsets.UTF_8);
            assertTrue(datagram.matches("<14>[A-Z][a-z]{2} [ \\d]\\d \\d{2}:\\d{2}:\\d{2} \\S+ prog\\["
                    + ProcessHandle.current().pid() + "\\]: \\[[^]]+\\] com\\.acme\\.App - hello 3164"), datagram);
        }
    }

    @Test
    void badKeysAndAnUnknownHostWarnAndLocalFilesKeepWorking() throws IOException {
        PrintStream savedErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Logger log;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            log = configure("protocol", "carrier-pigeon", "facility", "LOCAL9", "host", "no-such-host.invalid",
                    "queueSize", "lots");
        } finally {
            System.setErr(savedErr);
        }
        String warnings = err.toString(StandardCharsets.UTF_8);
        assertTrue(warnings.contains("unidist.logging.syslog.protocol=carrier-pigeon is not one of"), warnings);
        assertTrue(warnings.contains("unidist.logging.syslog.facility=LOCAL9 is not a facility"), warnings);
        assertTrue(warnings.contains("unidist.logging.syslog.queueSize=lots is not a positive integer"), warnings);

        log.info("still logging");
        assertTrue(localLog().contains("still logging"));
        await().atMost(PATIENCE).until(() -> localLog().contains("cannot connect"));
        String report = localLog();
        assertTrue(report.contains("unidist.logging.syslog.host=no-such-host.invalid"), report);
        assertFalse(report.contains("Exception in"), report);
    }
}
