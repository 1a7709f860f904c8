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
 * logging framework. Two places call it on the logging thread: {@link CallerCapture}, logback's
 * turbo filter, about five frames above the caller (the common case, see there), and, for the
 * records it did not see (the fluent API's {@code log()}), the track's
 * {@link TrackFilesAppender} through {@link #fill}, about ten frames above it. The appenders
 * that follow (syslog, forwarding) read the caller set on the event instead of computing their
 * own. Events that already have caller data, and events that are not logback's own
 * {@link LoggingEvent} (replayed or deserialised), are left to logback.
 *
 * <p>The caller is the first frame after the last frame of the logging framework: classes of
 * logback and SLF4J, this class, the turbo filter and the track appender, reflection's
 * classes, and the context's framework packages ({@code LoggerContext.getFrameworkPackages()}), as logback's own search
 * does.
 *
 * <h2>Cost</h2>
 * On Java 17 the walker resolves every frame it fetches to its method, in batches of at least
 * eight frames, and that is most of the cost: about 0.4 µs per frame on the project's machine,
 * so about 3 µs from the turbo filter (six frames down to the caller of a plain call) and
 * about 4.5 µs from the appender. So the filter walks with the smallest first batch
 * ({@code estimateDepth} {@value #SHALLOW_DEPTH}) and calls {@link StackWalker#walk} itself
 * (one frame fewer). Caching the {@code StackTraceElement} by bytecode position (declaring
 * class, method name, descriptor, bytecode index) was measured and not kept: in a
 * micro-benchmark here, reading the frame's method name and descriptor, which the key needs,
 * cost about as much as making the element; the gain was within the noise.
 *
 * <p>Thread safety: immutable; may be called from any thread.
 */
final class CallerFinder {
    /** Frames from the turbo filter down to the caller of a plain {@code log.info(...)}, with room. */
    static final int SHALLOW_DEPTH = 8;
    /** Frames from the appender down to the caller of the fluent API's {@code log()}, with room. */
    static final int DEEP_DEPTH = 16;

    /**
     * The walkers show reflection frames: on Java 17 hiding them tests every frame's class
     * (about 15% of a walk here). Reflection's own classes count as framework instead, so that a
     * logging method called through {@code Method.invoke} still reports the code that called it.
     */
    private static final Set<StackWalker.Option> OPTIONS = Set.of(StackWalker.Option.SHOW_REFLECT_FRAMES);
    private static final String[] BUILT_IN = {"ch.qos.logback.", "org.slf4j.", CallerFinder.class.getName(),
        CallerCapture.class.getName(), TrackFilesAppender.class.getName(), "jdk.internal.reflect.",
        "java.lang.reflect."};

    private final String[] framework;
    private final StackWalker shallow = StackWalker.getInstance(OPTIONS, SHALLOW_DEPTH);
    private final StackWalker deep = StackWalker.getInstance(OPTIONS, DEEP_DEPTH);
    private final Function<Stream<StackWalker.StackFrame>, StackTraceElement[]> search = this::callerOf;

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
        StackTraceElement[] caller = deep.walk(search);
        if (caller != null) {
            e.setCallerData(caller);
        }
    }

    /**
     * The caller of the logging framework on the calling thread's stack, for a caller a few
     * frames above it (the turbo filter): {@code shallow().walk(search())}, called by that frame
     * itself so that the walk starts there.
     */
    StackWalker shallow() {
        return shallow;
    }

    /** @return what {@link #shallow()}'s walk applies: a one-element caller array, or {@code null} */
    Function<Stream<StackWalker.StackFrame>, StackTraceElement[]> search() {
        return search;
    }

    private StackTraceElement[] callerOf(Stream<StackWalker.StackFrame> frames) {
        boolean inside = false;
        for (Iterator<StackWalker.StackFrame> it = frames.iterator(); it.hasNext(); ) {
            StackWalker.StackFrame frame = it.next();
            if (inFramework(frame.getClassName())) {
                inside = true;
            } else if (inside) {
                return elementOf(frame);
            }
        }
        return null;
    }

    private static StackTraceElement[] elementOf(StackWalker.StackFrame frame) {
        return new StackTraceElement[] {frame.toStackTraceElement()};
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
