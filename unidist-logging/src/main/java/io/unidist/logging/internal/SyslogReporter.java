package io.unidist.logging.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;

/**
 * Tells the user what the syslog sender cannot do: records dropped on a full queue, a server
 * that cannot be reached, a connection lost and restored, records given up at stop.
 *
 * <p>Reports are WARN (and INFO) records of the logger {@value #LOGGER}, so they reach the
 * console and the local files; {@link SyslogFilter} keeps them out of syslog itself, which
 * is what is failing and would only recurse. Drops are reported at most every
 * {@link #DROP_REPORT_INTERVAL_MILLIS} ms, counting those since the last report; what is left
 * at stop goes to stderr because the logger context is stopping then.
 *
 * <p>Thread safety: {@link #dropped} and {@link #reportDrops} are called by logging threads
 * and the sender thread; the connection reports by the sender thread only.
 */
final class SyslogReporter {

    /** The logger of the reports; its records are never sent to syslog. */
    static final String LOGGER = "io.unidist.logging.syslog";
    static final long DROP_REPORT_INTERVAL_MILLIS = 10_000;

    private final Logger log;
    private final String where;
    private final String tlsHint;
    private final int queueSize;
    private final LongSupplier nanoTime;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong reported = new AtomicLong();
    private final AtomicLong nextReportNanos;

    /**
     * @param log       the logger of the reports
     * @param where     the server as the keys name it, e.g.
     *                  {@code tcp://logs:514 (unidist.logging.syslog.host=logs, unidist.logging.syslog.port=514)}
     * @param tlsHint   added to a TLS failure: which keys to check
     * @param queueSize the capacity of the sender's queue
     * @param nanoTime  the clock of the rate limit ({@code System::nanoTime}; tests move their own)
     */
    SyslogReporter(Logger log, String where, String tlsHint, int queueSize, LongSupplier nanoTime) {
        this.log = log;
        this.where = where;
        this.tlsHint = tlsHint;
        this.queueSize = queueSize;
        this.nanoTime = nanoTime;
        this.nextReportNanos = new AtomicLong(nanoTime.getAsLong()); // the first drop is reported at once
    }

    /** Counts one record dropped because the queue was full, and reports if it is time. */
    void dropped() {
        dropped.incrementAndGet();
        reportDrops();
    }

    /** @return records dropped on a full queue since start */
    long droppedCount() {
        return dropped.get();
    }

    /** Reports the drops since the last report, unless one was made in the last interval. */
    void reportDrops() {
        long total = dropped.get();
        long next = nextReportNanos.get();
        long now = nanoTime.getAsLong();
        if (total == reported.get() || now - next < 0
                || !nextReportNanos.compareAndSet(next, now + TimeUnit.MILLISECONDS.toNanos(DROP_REPORT_INTERVAL_MILLIS))) {
            return;
        }
        long before = reported.getAndSet(total);
        log.warn("syslog {}: {} records dropped because the queue of {} was full (server slow or unreachable);"
                + " {} dropped since start", where, total - before, queueSize, total);
    }

    /** The server could not be reached (the first failure of an outage only). */
    void unreachable(Exception cause) {
        log.warn("syslog {}: cannot connect ({}){}; records wait in the queue (up to {}) while it retries"
                + " with backoff up to {} s", where, cause, hint(cause), queueSize,
                SyslogSender.MAX_BACKOFF_MILLIS / 1000);
    }

    /** A working connection broke. */
    void lost(Exception cause, int resending) {
        log.warn("syslog {}: connection lost ({}); reconnecting, then sending the last {} records again"
                + " (the server may see some twice)", where, cause, resending);
    }

    /** The connection works again after {@link #unreachable} or {@link #lost}. */
    void restored(int resent) {
        log.info("syslog {}: connected again; {} records sent again", where, resent);
    }

    /** At stop: records that could not be sent in time, and drops not yet reported. */
    void stopped(int notSent) {
        long unreported = dropped.get() - reported.getAndSet(dropped.get());
        if (notSent > 0 || unreported > 0) {
            Warnings.warn("syslog " + where + ": at stop, records not sent in time: " + notSent
                    + "; dropped on a full queue since the last report: " + unreported + " (" + dropped.get()
                    + " since start)");
        }
    }

    private String hint(Exception cause) {
        return cause instanceof SSLException ? "; " + tlsHint : "";
    }
}
