package io.unidist.cluster.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Everything JGroups and unidist log while it is open, down to DEBUG, kept in memory instead of printed: for tests
 * that look for a line (a refused handshake) or for something that must never be logged (a password). Closing it puts
 * the loggers back as they were.
 */
final class CapturedLogs implements AutoCloseable {
    private static final String[] LOGGERS = {"org.jgroups", "io.unidist"};

    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final List<Logger> loggers = new ArrayList<>();
    private final List<Level> levels = new ArrayList<>();
    private final List<Boolean> additivity = new ArrayList<>();

    /** Starts capturing at DEBUG. */
    CapturedLogs() {
        appender.start();
        for (String name : LOGGERS) {
            Logger logger = (Logger) LoggerFactory.getLogger(name);
            loggers.add(logger);
            levels.add(logger.getLevel());
            additivity.add(logger.isAdditive());
            logger.setLevel(Level.DEBUG);
            logger.setAdditive(false); // DEBUG lines stay here, out of the test output
            logger.addAppender(appender);
        }
    }

    /** Every captured line as text: the message, then each throwable's class and message in the cause chain. */
    List<String> lines() {
        List<String> lines = new ArrayList<>();
        synchronized (appender) {
            for (ILoggingEvent event : appender.list) {
                StringBuilder line = new StringBuilder(event.getLevel() + " " + event.getLoggerName() + " "
                        + event.getFormattedMessage());
                for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
                    line.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
                }
                lines.add(line.toString());
            }
        }
        return lines;
    }

    /** True if some captured line contains {@code text}. */
    boolean contains(String text) {
        return lines().stream().anyMatch(l -> l.contains(text));
    }

    @Override
    public void close() {
        for (int i = 0; i < loggers.size(); i++) {
            Logger logger = loggers.get(i);
            logger.detachAppender(appender);
            logger.setLevel(levels.get(i));
            logger.setAdditive(additivity.get(i));
        }
        appender.stop();
    }
}
