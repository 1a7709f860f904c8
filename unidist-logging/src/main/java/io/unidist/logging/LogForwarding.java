package io.unidist.logging;

import ch.qos.logback.classic.LoggerContext;
import io.unidist.Unidist;
import io.unidist.cluster.UnidistCluster;
import io.unidist.logging.internal.Forwarding;
import io.unidist.logging.internal.LogSetup;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Forwards this process's log records to the cluster's collector nodes, and collects on this
 * node when it is elected.
 *
 * <pre>{@code
 * Unidist node = UnidistCluster.join(config);
 * LogForwarding forwarding = LogForwarding.start(node);   // records now also go to the collector
 * ...
 * forwarding.close();                                      // drains, then stops
 * }</pre>
 *
 * <p><b>Collectors.</b> The first {@code unidist.logging.forward.collectors} (default 1)
 * candidates in the cluster view's order; candidates are {@code unidist.logging.forward.candidates}
 * or, by default, the voters. Every node makes the same choice from the same view, and a new
 * collector takes over when the view changes (within the failure-detection time). A collector
 * writes {@code collected.<node>.<track>.jsonl} under {@code unidist.logging.forward.collector.dir}
 * (default {@code <log dir>/collected}), rotated and capped.
 *
 * <p><b>Guarantees.</b> At least once, in order per sender: every record is kept in an on-disk
 * spool (checksummed, bounded by {@code unidist.logging.forward.spool.maxSize}, fsynced every
 * {@code spool.fsyncInterval}) until a collector acknowledges it, and sent again after a
 * collector failover or a restart of this process. Each record carries its key (node,
 * incarnation, {@code fseq}); a collector skips keys it has written, and after a failover a
 * record may be in two collectors' files with the same key. A record is lost only when the
 * spool is full and its policy ({@code spool.whenFull}: {@code drop-oldest} (default),
 * {@code drop-newest} or {@code block}) drops one, which is counted ({@link #dropped()}) and
 * reported in the log itself, or when a power loss takes records not yet fsynced. Memory stays
 * bounded when no collector is reachable: the backlog is on disk.
 *
 * <p>Thread safety: all methods may be called from any thread.
 */
public final class LogForwarding implements AutoCloseable {
    private final Forwarding forwarding;

    private LogForwarding(Forwarding forwarding) {
        this.forwarding = forwarding;
    }

    /**
     * Starts forwarding the records of the global logback context over {@code node}'s cluster.
     *
     * @throws IllegalArgumentException if {@code node} is not a clustered node
     * @throws IllegalStateException if logback was configured by a user's own file (forwarding
     *     works with unidist's logging defaults)
     * @throws java.io.UncheckedIOException naming the directory if the spool cannot be opened
     */
    public static LogForwarding start(Unidist node) {
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!(factory instanceof LoggerContext context)) {
            throw new IllegalStateException("log forwarding needs logback as the SLF4J provider, found "
                    + factory.getClass().getName());
        }
        return start(node, context);
    }

    /** As {@link #start(Unidist)}, for a context configured by {@link UnidistLogging#configure}. */
    public static LogForwarding start(Unidist node, LoggerContext context) {
        Objects.requireNonNull(node, "node");
        LogSetup setup = LogSetup.of(Objects.requireNonNull(context, "context"));
        if (setup == null) {
            throw new IllegalStateException("logger context '" + context.getName() + "' was configured by a file"
                    + " of your own; log forwarding works with unidist's logging defaults");
        }
        return new LogForwarding(Forwarding.start(setup, UnidistCluster.messaging(node)));
    }

    /** The collectors as this node sees them now (node names). */
    public List<String> collectors() {
        return forwarding.collectors();
    }

    /** Whether this node collects now. */
    public boolean isCollector() {
        return forwarding.isCollector();
    }

    /** Records waiting in the spool for a collector's acknowledgement. */
    public long pending() {
        return forwarding.pending();
    }

    /** Records this node wrote to its collected files as a collector, since this process started. */
    public long collected() {
        return forwarding.collected();
    }

    /** Records dropped because the spool was full, since this process started. */
    public long dropped() {
        return forwarding.dropped();
    }

    /** Where this node writes the records it collects. */
    public Path collectedDir() {
        return forwarding.collectedDir();
    }

    /**
     * Sends what it can within {@code unidist.logging.forward.drainTimeout} (default 5 s),
     * then stops; records still spooled are logged as a count and sent after the next start.
     */
    @Override
    public void close() {
        forwarding.close();
    }
}
