package io.unidist.internal.store;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/** Captures what the store package logs during one test; register with {@code @RegisterExtension}. */
final class LogCapture implements BeforeEachCallback, AfterEachCallback {
    private final Logger logger = (Logger) LoggerFactory.getLogger("io.unidist.internal.store");
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    @Override
    public void beforeEach(ExtensionContext context) {
        appender.list.clear();
        appender.start();
        logger.addAppender(appender);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        logger.detachAppender(appender);
        appender.stop();
    }

    void clear() {
        synchronized (appender) {
            appender.list.clear();
        }
    }

    /** The formatted WARN messages so far. */
    List<String> warnings() {
        return messages(Level.WARN);
    }

    /** The formatted ERROR messages so far. */
    List<String> errors() {
        return messages(Level.ERROR);
    }

    private List<String> messages(Level level) {
        synchronized (appender) {
            return appender.list.stream()
                    .filter(event -> event.getLevel() == level)
                    .map(ILoggingEvent::getFormattedMessage)
                    .collect(Collectors.toList());
        }
    }
}
