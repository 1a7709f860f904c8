package io.unidist.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Puts every record of the chosen tracks and levels into the forwarding spool, encoded as the
 * local JSON-lines files encode it (same fields, same per-process sequence number).
 *
 * <p>Cost on the logging thread: one encoding and one spool append (a buffered file write);
 * never a network call. When the spool is full its policy applies and the drop is counted.
 */
final class ForwardingAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {
    private final LogSetup setup;
    private final ForwardSettings settings;
    private final Forwarder forwarder;
    private final Map<String, JsonLinesEncoder> encoders = new ConcurrentHashMap<>();

    ForwardingAppender(LogSetup setup, ForwardSettings settings, Forwarder forwarder) {
        this.setup = setup;
        this.settings = settings;
        this.forwarder = forwarder;
        setContext(setup.context());
        setName("unidist-forwarding");
    }

    @Override
    protected void append(ILoggingEvent event) {
        String track = LogSetup.trackOf(event.getLoggerName());
        if (!settings.forwards(track, event.getLevel())) {
            return;
        }
        JsonLinesEncoder encoder = encoders.computeIfAbsent(track, setup::jsonEncoder);
        forwarder.spool(track, encoder.encode(event));
    }
}
