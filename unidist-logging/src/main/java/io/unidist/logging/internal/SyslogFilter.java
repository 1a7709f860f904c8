package io.unidist.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;

/**
 * Lets through to a syslog appender the records at or above {@code unidist.logging.syslog.level}
 * of the tracks in {@code unidist.logging.syslog.tracks}, and never the syslog reports
 * themselves (logger {@value SyslogReporter#LOGGER}), which would recurse.
 *
 * <p>Thread safety: immutable.
 */
final class SyslogFilter extends Filter<ILoggingEvent> {

    private final SyslogSettings settings;

    SyslogFilter(SyslogSettings settings) {
        this.settings = settings;
    }

    @Override
    public FilterReply decide(ILoggingEvent event) {
        if (!event.getLevel().isGreaterOrEqual(settings.level)
                || SyslogReporter.LOGGER.equals(event.getLoggerName())
                || !settings.sends(LogSetup.trackOf(event.getLoggerName()))) {
            return FilterReply.DENY;
        }
        return FilterReply.NEUTRAL;
    }
}
