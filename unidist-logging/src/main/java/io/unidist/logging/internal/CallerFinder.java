package io.unidist.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Finds the file and line a record was logged from with a {@link StackWalker}, before anything
 * that prints them asks logback for it.
 *
 * <p>Why: logback fills in caller data by building a {@code Throwable} and its whole stack
 * trace, several microseconds per record. A stack walker stops at the first frame outside the
 * logging framework and makes a {@code StackTraceElement} of that one frame only. The track's
 * {@link TrackFilesAppender}, the first appender of its logger, calls {@link #fill} on the
 * logging thread and sets the caller on the event; the appenders that follow (syslog,
 * forwarding) read it instead of computing their own. Events that already have caller data,
 * and events that are not logback's own {@link LoggingEvent} (replayed or deserialised), are
 * left to logback.
 *
 * <p>The caller is the first frame after the last frame of the logging framework: classes of
 * logback and SLF4J, this class and the track appender, and the context's framework packages
 * ({@code LoggerContext.getFrameworkPackages()}), as logback's own search does.
 *
 * <p>Cost: the walk still costs microseconds per record (measured in
 * {@code io.unidist.bench.LoggingBenchmark}): on Java 17 each frame walked is resolved to its
 * method, from the appender down to the caller, about ten frames.
 *
 * <p>Thread safety: immutable; may be called from any thread.
 */
final class CallerFinder {
    /** Frames from the appender down to the caller of a plain {@code log.info(...)}, with room. */
    private static final int ESTIMATED_DEPTH = 16;
    private static final StackWalker WALKER = StackWalker.getInstance(Set.of(), ESTIMATED_DEPTH);
    private static final String[] BUILT_IN = {"ch.qos.logback.", "org.slf4j.",
        CallerFinder.class.getName(), TrackFilesAppender.class.getName()};

    private final String[] framework;
    private final Function<Stream<StackWalker.StackFrame>, StackWalker.StackFrame> search = this::callerOf;

    CallerFinder(List<String> frameworkPackages) {
        String[] all = new String[BUILT_IN.length + frameworkPackages.size()];
        System.arraycopy(BUILT_IN, 0, all, 0, BUILT_IN.length);
        for (int i = 0; i < frameworkPackages.size(); i++) {
            all[BUILT_IN.length + i] = frameworkPackages.get(i);
        }
        this.framework = all;
    }

    /** Sets the caller on {@code event} unless it has one or is not logback's own event. */
    void fill(ILoggingEvent event) {
        if (!(event instanceof LoggingEvent e) || e.hasCallerData()) {
            return;
        }
        StackWalker.StackFrame caller = WALKER.walk(search);
        if (caller != null) {
            e.setCallerData(new StackTraceElement[] {caller.toStackTraceElement()});
        }
    }

    private StackWalker.StackFrame callerOf(Stream<StackWalker.StackFrame> frames) {
        boolean inside = false;
        for (Iterator<StackWalker.StackFrame> it = frames.iterator(); it.hasNext(); ) {
            StackWalker.StackFrame frame = it.next();
            if (inFramework(frame.getClassName())) {
                inside = true;
            } else if (inside) {
                return frame;
            }
        }
        return null;
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
