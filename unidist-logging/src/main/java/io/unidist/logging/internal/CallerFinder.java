package io.unidist.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import java.util.List;
import java.util.Optional;

/**
 * Finds the file and line a record was logged from with a {@link StackWalker}, before the
 * appenders that print them ask logback for it.
 *
 * <p>Why: logback fills in caller data by building a {@code Throwable} and its whole stack
 * trace, several microseconds per record. A stack walker stops at the first frame outside the
 * logging framework and makes a {@code StackTraceElement} of that one frame only. Attached as
 * the first appender of a logger, it runs on the logging thread (logback calls appenders
 * synchronously) and sets the caller on the event; the encoders that follow read it instead
 * of computing their own. Events that already have caller data, and events that are not
 * logback's own {@link LoggingEvent} (replayed or deserialised), are left to logback.
 *
 * <p>The caller is the first frame after the last frame of the logging framework: classes of
 * logback and SLF4J, and the context's framework packages
 * ({@code LoggerContext.getFrameworkPackages()}), as logback's own search does.
 */
final class CallerFinder extends UnsynchronizedAppenderBase<ILoggingEvent> {
    private static final StackWalker WALKER = StackWalker.getInstance();
    private static final String[] BUILT_IN = {"ch.qos.logback.", "org.slf4j.", "io.unidist.logging.internal.CallerFinder"};

    private final String[] framework;

    CallerFinder(List<String> frameworkPackages) {
        String[] all = new String[BUILT_IN.length + frameworkPackages.size()];
        System.arraycopy(BUILT_IN, 0, all, 0, BUILT_IN.length);
        for (int i = 0; i < frameworkPackages.size(); i++) {
            all[BUILT_IN.length + i] = frameworkPackages.get(i);
        }
        this.framework = all;
        setName("unidist-caller");
    }

    @Override
    protected void append(ILoggingEvent event) {
        if (!(event instanceof LoggingEvent e) || e.hasCallerData()) {
            return;
        }
        Optional<StackWalker.StackFrame> caller = WALKER.walk(frames -> frames
                .dropWhile(f -> !inFramework(f.getClassName()))
                .dropWhile(f -> inFramework(f.getClassName()))
                .findFirst());
        if (caller.isPresent()) {
            e.setCallerData(new StackTraceElement[] {caller.get().toStackTraceElement()});
        }
    }

    private boolean inFramework(String className) {
        for (String prefix : framework) {
            if (className.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }
}
