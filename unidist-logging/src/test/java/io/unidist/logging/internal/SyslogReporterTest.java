package io.unidist.logging.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Drop reports are rate limited on a clock the test moves: the first drop at once, then at
 * most one report per interval with the count since the last; and the sender's backoff.
 */
class SyslogReporterTest {

    private final AtomicLong now = new AtomicLong(1_000);
    private final ListAppender<ILoggingEvent> reports = new ListAppender<>();
    private final SyslogReporter reporter;

    SyslogReporterTest() {
        LoggerContext context = new LoggerContext();
        Logger log = context.getLogger(SyslogReporter.LOGGER);
        reports.setContext(context);
        reports.start();
        log.addAppender(reports);
        reporter = new SyslogReporter(log, "udp://h:514", "check the trust store", 100, now::get);
    }

    private void advanceMillis(long millis) {
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    @Test
    void dropsAreReportedAtOnceThenAtMostEveryIntervalWithTheCountSince() {
        reporter.dropped();
        reporter.dropped();
        reporter.dropped();
        assertEquals(1, reports.list.size());
        assertTrue(reports.list.get(0).getFormattedMessage().contains(": 1 records dropped"),
                reports.list.get(0).getFormattedMessage());
        assertEquals(Level.WARN, reports.list.get(0).getLevel());

        advanceMillis(SyslogReporter.DROP_REPORT_INTERVAL_MILLIS - 1);
        reporter.dropped();
        assertEquals(1, reports.list.size(), "not within the interval");

        advanceMillis(1);
        reporter.reportDrops(); // as the sender does when no logging thread drops more
        assertEquals(2, reports.list.size());
        assertTrue(reports.list.get(1).getFormattedMessage().contains(": 3 records dropped"));
        assertTrue(reports.list.get(1).getFormattedMessage().contains("4 dropped since start"));

        advanceMillis(SyslogReporter.DROP_REPORT_INTERVAL_MILLIS);
        reporter.reportDrops();
        assertEquals(2, reports.list.size(), "nothing new, nothing said");
        assertEquals(4, reporter.droppedCount());
    }

    @Test
    void aTlsFailureNamesTheKeysToCheck() {
        reporter.unreachable(new javax.net.ssl.SSLHandshakeException("PKIX path building failed"));
        reporter.unreachable(new java.net.ConnectException("Connection refused"));
        assertTrue(reports.list.get(0).getFormattedMessage().contains("check the trust store"));
        assertTrue(!reports.list.get(1).getFormattedMessage().contains("check the trust store"));
    }

    @Test
    void backoffDoublesUpToTheMaximumAndResets() {
        SyslogSender.Backoff backoff = new SyslogSender.Backoff();
        long[] expected = {100, 200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000};
        for (long wait : expected) {
            assertEquals(wait, backoff.next());
        }
        backoff.reset();
        assertEquals(100, backoff.next());
    }
}
