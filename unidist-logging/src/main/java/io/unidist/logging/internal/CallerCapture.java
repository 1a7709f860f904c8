package io.unidist.logging.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import ch.qos.logback.core.spi.SequenceNumberGenerator;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.slf4j.Marker;

/**
 * Finds a record's caller where the stack is shallowest, in logback's turbo filter, and hands
 * it to the track's appender on the same thread, bound to that record's event.
 *
 * <p>Why: logback asks the turbo filters before it builds the event, about five frames above
 * the caller; the appender runs about ten frames above it, and on Java 17 each frame walked
 * costs (see {@link CallerFinder}).
 *
 * <p>How the caller reaches the right event: the filter cannot see the event, which does not
 * exist yet. It leaves the caller in this thread's slot, <em>armed</em>, with the message
 * format. This object is also the context's sequence number generator, which logback calls in
 * the constructor of every event: the first event made on this thread after the filter gets
 * the armed caller bound to its sequence number, and disarms it. Between the filter and
 * {@code new LoggingEvent} logback runs only the turbo filters after this one, so that event is
 * the one the filter saw (a filter that logs makes a nested call, which arms and takes its own
 * caller first; the outer event then finds none bound). Unless a turbo filter after this one
 * denied the call: then the next event made without a filter call (the fluent API, or an event
 * made by hand) could take it. Two guards: every {@code isXxxEnabled()} call for a level that is
 * on (which the fluent {@code atXxx()} makes) disarms, and {@link #take} also requires the
 * event's message to be the very format string the filter saw, and its logger and level to be
 * the filter's.
 * An event that gets no caller here is walked for by the appender ({@link CallerFinder#fill}).
 *
 * <p>Cost: every logging call and {@code isXxxEnabled()} of the context now passes through this
 * filter. For a level that is off it costs a level check and nothing else (no walk, no
 * thread-local); {@code isXxxEnabled()} for a level that is on, a thread-local look-up; a record
 * of a logger whose track has caller data off, a map look-up by logger name (a prefix check for
 * the main track).
 *
 * <p>Thread safety: any thread may log; each thread's slot is its own. Sequence numbers are
 * unique within the context, as logback's {@code BasicSequenceNumberGenerator} makes them.
 */
final class CallerCapture extends TurboFilter implements SequenceNumberGenerator {

    private final StackWalker walker;
    private final Function<Stream<StackWalker.StackFrame>, StackTraceElement[]> search;
    /** Whether a logger's records get a caller: its track has caller data on. */
    private final Predicate<Logger> wantsCaller;
    private final AtomicLong sequence = new AtomicLong();
    private final ThreadLocal<Slot> slots = ThreadLocal.withInitial(Slot::new);

    /**
     * @param finder      walks the stack
     * @param wantsCaller whether records of a logger need a caller; called once per record, keep it cheap
     */
    CallerCapture(CallerFinder finder, Predicate<Logger> wantsCaller) {
        this.walker = finder.shallow();
        this.search = finder.search();
        this.wantsCaller = wantsCaller;
        setName("unidist-caller");
    }

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params,
                              Throwable t) {
        if (level.levelInt < logger.getEffectiveLevel().levelInt) {
            return FilterReply.NEUTRAL; // off: logback drops the call (or makes a no-op builder), no walk, no slot
        }
        if (format == null) {
            slots.get().armed = false; // isXxxEnabled(), or atXxx() of the fluent API: no event follows directly
            return FilterReply.NEUTRAL;
        }
        if (!wantsCaller.test(logger)) {
            return FilterReply.NEUTRAL; // the track prints no caller: no walk
        }
        Slot slot = slots.get();
        slot.caller = walker.walk(search); // here, not in a method of the finder: one frame fewer to walk
        slot.format = format;
        slot.logger = logger.getName();
        slot.level = level;
        slot.armed = slot.caller != null;
        return FilterReply.NEUTRAL;
    }

    /** Called by logback in the constructor of every event of the context. */
    @Override
    public long nextSequenceNumber() {
        long seq = sequence.incrementAndGet();
        Slot slot = slots.get();
        if (slot.armed) {
            slot.armed = false;
            slot.seq = seq;
        }
        return seq;
    }

    /**
     * Sets on {@code event} the caller the filter found for it, if it did.
     *
     * @return whether it did; if not, the caller is still to be found
     */
    boolean take(ILoggingEvent event) {
        if (!(event instanceof LoggingEvent e) || e.hasCallerData()) {
            return true; // as CallerFinder.fill: not ours to fill
        }
        Slot slot = slots.get();
        if (slot.seq != e.getSequenceNumber() || slot.format != e.getMessage()
                || slot.logger != e.getLoggerName() || slot.level != e.getLevel()) {
            return false;
        }
        e.setCallerData(slot.caller);
        slot.seq = 0;
        slot.caller = null;
        slot.format = null;
        slot.logger = null;
        return true;
    }

    /** One thread's caller on its way from the filter to the appender. */
    private static final class Slot {
        StackTraceElement[] caller;
        String format;
        String logger;
        Level level;
        boolean armed;
        long seq;
    }
}
