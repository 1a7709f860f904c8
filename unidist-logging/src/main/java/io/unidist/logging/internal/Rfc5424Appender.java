package io.unidist.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;

/**
 * Sends records to a syslog server as RFC 5424 messages over UDP, TCP or TLS.
 *
 * <p>The logging thread only formats the record ({@link Rfc5424Format}: MDC, key-values and
 * caller data are read while they are still the caller's) and offers the bytes to the
 * {@link SyslogSender}'s bounded queue; it never waits for the network. A record that finds
 * the queue full is dropped and counted, and the count is reported at most every 10 s
 * ({@link SyslogReporter}). Delivery and what a broken connection does are described on
 * {@link SyslogSender}: duplicates are possible around a reconnect; records are lost only
 * from a full queue, at stop, or beyond the resend window of a broken TCP/TLS connection.
 *
 * <p>Stop drains the queue for up to {@value SyslogSender#DRAIN_MILLIS} ms, then closes the connection;
 * at JVM exit the sender does the same by itself.
 *
 * <p>Thread safety: {@link #append} may run on many threads at once (no lock is taken); the
 * appender may be attached to several loggers, and stopping it more than once is harmless.
 */
final class Rfc5424Appender extends UnsynchronizedAppenderBase<ILoggingEvent> {

    private final Rfc5424Format format;
    private final SyslogSender sender;
    private final SyslogReporter reporter;

    Rfc5424Appender(Rfc5424Format format, SyslogSender sender, SyslogReporter reporter) {
        this.format = format;
        this.sender = sender;
        this.reporter = reporter;
    }

    @Override
    public void start() {
        sender.start();
        super.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
        byte[] message = format.format(event, LogSetup.trackOf(event.getLoggerName()));
        if (!sender.offer(message)) {
            reporter.dropped();
        }
    }

    @Override
    public synchronized void stop() {
        if (!isStarted()) {
            return; // attached to several loggers, a context reset stops it once per logger
        }
        super.stop();
        sender.stop(SyslogSender.DRAIN_MILLIS);
    }

    /** @return records dropped on a full queue since start */
    long dropped() {
        return reporter.droppedCount();
    }
}
