package io.unidist.logging.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/**
 * Closing log forwarding: it sends what it can within the drain timeout, says how many records
 * stay spooled, and sends them after the next start.
 */
class ForwardingShutdownTest {
    @TempDir
    Path dir;
    private final FakeNetwork net = new FakeNetwork(List.of("c1"));
    private final List<LoggerContext> contexts = new ArrayList<>();
    private final List<Forwarding> running = new ArrayList<>();
    private final ch.qos.logback.classic.Logger forwardingLog =
            (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Forwarding.class);
    private final ListAppender<ILoggingEvent> said = new ListAppender<>();

    @AfterEach
    void stop() {
        running.forEach(Forwarding::close);
        contexts.forEach(LoggerContext::stop);
        forwardingLog.detachAppender(said);
        net.close();
    }

    private LogSetup setup(String node) {
        Properties p = new Properties();
        p.setProperty("unidist.logging.dir", dir.resolve(node).toString());
        p.setProperty("unidist.program", node);
        p.setProperty("unidist.logging.console", "false");
        p.setProperty("unidist.logging.forward.drainTimeout", "400ms");
        p.setProperty("unidist.logging.forward.ackTimeout", "300ms");
        LoggerContext context = new LoggerContext();
        contexts.add(context);
        return LogSetup.install(context, LoggingSettings.of(p));
    }

    @Test
    void closeWithNoCollectorWaitsTheDrainTimeoutSaysWhatStaysSpooledAndSendsItAfterTheNextStart() {
        said.start();
        forwardingLog.addAppender(said);
        LogSetup first = setup("s1");
        Forwarding sender = Forwarding.start(first, net.join("s1"));
        Logger app = first.context().getLogger("app");
        for (int i = 0; i < 50; i++) {
            app.info("record {}", i);
        }
        long spooled = sender.pending();
        assertTrue(spooled >= 50, "no collector is up: every record waits, " + spooled);

        long started = System.nanoTime();
        sender.close();
        long tookMillis = (System.nanoTime() - started) / 1_000_000;
        assertTrue(tookMillis >= 400 && tookMillis < 5_000, "close waited the drain timeout: " + tookMillis + " ms");
        assertTrue(said.list.stream().anyMatch(e -> e.getFormattedMessage()
                        .contains("log forwarding stopped with " + spooled + " records spooled")),
                "close says how many records stay spooled");
        first.context().stop();
        net.crash("s1"); // the process ends

        Forwarding collector = Forwarding.start(setup("c1"), net.join("c1"));
        running.add(collector);
        // the same node starts again over the same directory: its spool goes out first
        Forwarding again = Forwarding.start(setup("s1"), net.join("s1"));
        running.add(again);
        await().atMost(Duration.ofSeconds(20)).until(() -> again.pending() == 0 && collector.collected() >= spooled);
        assertEquals(0, again.dropped());
    }

    @Test
    void closeWithACollectorSendsEverythingFirst() {
        Forwarding collector = Forwarding.start(setup("c1"), net.join("c1"));
        running.add(collector);
        LogSetup s2 = setup("s2");
        Forwarding sender = Forwarding.start(s2, net.join("s2"));
        await().atMost(Duration.ofSeconds(10)).until(() -> sender.collectors().equals(List.of("c1")));
        Logger app = s2.context().getLogger("app");
        for (int i = 0; i < 500; i++) {
            app.info("record {}", i);
        }
        sender.close();
        assertEquals(0, sender.pending(), "every record was acknowledged before close returned");
        await().atMost(Duration.ofSeconds(10)).until(() -> collector.collected() >= 500);
    }
}
