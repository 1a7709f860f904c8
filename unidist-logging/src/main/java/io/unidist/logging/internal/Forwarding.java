package io.unidist.logging.internal;

import io.unidist.cluster.ClusterMessaging;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/** Wires log forwarding into an installed {@link LogSetup}: spool, forwarder, appender. */
public final class Forwarding implements AutoCloseable {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Forwarding.class);

    private final LogSetup setup;
    private final ForwardSettings settings;
    private final Spool spool;
    private final Forwarder forwarder;
    private final ForwardingAppender appender;
    private final String self;

    private Forwarding(LogSetup setup, ClusterMessaging messaging) throws IOException {
        this.setup = setup;
        this.settings = ForwardSettings.of(setup.settings());
        this.self = messaging.self();
        List<String> candidates = settings.candidates.isEmpty() ? messaging.voters() : settings.candidates;
        Path spoolDir = settings.spoolDir.resolve(LoggingSettings.fileSafe(self));
        this.spool = Spool.open(spoolDir, spoolOptions(settings));
        try {
            this.forwarder = new Forwarder(messaging, settings, spool, candidates);
        } catch (IOException | RuntimeException e) {
            spool.close();
            throw e;
        }
        this.appender = new ForwardingAppender(setup, settings, forwarder);
        appender.start();
        setup.attachToEveryTrack(appender);
    }

    /**
     * Starts forwarding the records of {@code setup}'s context over {@code messaging}.
     *
     * @throws UncheckedIOException naming the directory if the spool or the collector's
     *     directory cannot be used
     */
    public static Forwarding start(LogSetup setup, ClusterMessaging messaging) {
        try {
            return new Forwarding(setup, messaging);
        } catch (IOException e) {
            throw new UncheckedIOException("log forwarding cannot start on " + messaging.self() + ": " + e.getMessage(), e);
        }
    }

    static Spool.Options spoolOptions(ForwardSettings s) {
        Spool.FullPolicy policy = switch (s.spoolFullPolicy.toLowerCase(java.util.Locale.ROOT)) {
            case "block" -> Spool.FullPolicy.BLOCK;
            case "drop-newest" -> Spool.FullPolicy.DROP_NEWEST;
            case "drop-oldest" -> Spool.FullPolicy.DROP_OLDEST;
            default -> {
                Warnings.warn(ForwardSettings.PREFIX + "spool.whenFull=" + s.spoolFullPolicy
                        + " is not block, drop-newest or drop-oldest; using drop-oldest");
                yield Spool.FullPolicy.DROP_OLDEST;
            }
        };
        return Spool.Options.defaults()
                .withMaxBytes(s.spoolMaxBytes)
                .withFsyncInterval(s.spoolFsyncInterval)
                .withFullPolicy(policy);
    }

    /** The collectors as this node sees them. */
    public List<String> collectors() {
        return forwarder.collectors();
    }

    /** Whether this node collects now. */
    public boolean isCollector() {
        return forwarder.isCollector();
    }

    /** Records spooled and not yet acknowledged by a collector. */
    public long pending() {
        return spool.pending();
    }

    /** Records this node wrote as a collector since it started. */
    public long collected() {
        return forwarder.collectedCounts()[0];
    }

    /** Records the spool dropped because it was full. */
    public long dropped() {
        return spool.dropped();
    }

    /** This process's incarnation, part of every forwarded record's key. */
    public long incarnation() {
        return forwarder.incarnation();
    }

    /** The collector directory this node writes to when it collects. */
    public Path collectedDir() {
        return settings.collectedDir;
    }

    /**
     * Sends what it can within the drain timeout, then stops; what remains stays in the spool
     * and is sent after the next start. Says on the local log how many records remained.
     */
    @Override
    public void close() {
        long remaining;
        try {
            remaining = forwarder.drain(settings.drainTimeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            remaining = spool.pending();
        }
        setup.detachFromEveryTrack(appender);
        appender.stop();
        forwarder.close();
        spool.close();
        if (remaining > 0) {
            log.warn("{}: log forwarding stopped with {} records spooled in {}; they are sent after the next start",
                    self, remaining, settings.spoolDir);
        } else {
            log.info("{}: log forwarding stopped; every record was acknowledged by a collector", self);
        }
    }
}
