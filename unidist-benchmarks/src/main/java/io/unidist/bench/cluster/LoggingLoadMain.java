package io.unidist.bench.cluster;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import io.unidist.Unidist;
import io.unidist.cluster.UnidistCluster;
import io.unidist.logging.LogForwarding;
import io.unidist.logging.UnidistLogging;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * The logging rows of {@link ClusterBench}, in a JVM of their own (the launcher's logging stays
 * as it is): logging calls in a closed loop, each timed, through one of three set-ups:
 * <ul>
 *   <li>{@code logback}: plain logback, one {@link FileAppender} with a pattern and no caller
 *       data (logback's defaults: flushed on every record), the baseline;</li>
 *   <li>{@code unidist}: the unidist-logging defaults ({@link UnidistLogging#configure}, console off);</li>
 *   <li>{@code forwarded}: the same defaults with {@link LogForwarding} on, this JVM a non-voter
 *       of a cluster whose only voter is a {@link CollectorMain}; after the window it waits until
 *       the collector has acknowledged every record, so the rate is one the collector kept up with.</li>
 * </ul>
 * Prints one line, {@code result } and the {@link Measurement}, on standard output.
 *
 * <p>Arguments: mode, threads, warm-up ms, window ms, directory; for {@code forwarded} also the
 * cluster name, the collector's name, the cluster's first port and this node's port.
 */
public final class LoggingLoadMain {
    private LoggingLoadMain() {
    }

    /** See the class comment for the arguments. */
    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable e) {
            e.printStackTrace();
            Runtime.getRuntime().halt(1); // JGroups' threads would keep a failed run alive
        }
    }

    private static void run(String[] args) throws Exception {
        PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        String mode = args[0];
        int threads = Integer.parseInt(args[1]);
        long warmupNanos = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[2]));
        long windowNanos = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[3]));
        Path dir = Files.createDirectories(Path.of(args[4]));
        LoggerContext context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        Unidist node = null;
        LogForwarding forwarding = null;
        switch (mode) {
            case "logback" -> plainLogback(context, dir.resolve("bench.log"));
            case "unidist" -> UnidistLogging.configure(context, unidistDefaults(dir));
            case "forwarded" -> {
                UnidistLogging.configure(context, unidistDefaults(dir));
                String cluster = args[5];
                String collector = args[6];
                int firstPort = Integer.parseInt(args[7]);
                int port = Integer.parseInt(args[8]);
                node = UnidistCluster.join(VoterMain.config(cluster, "sender-" + port, List.of(collector), port,
                        firstPort, dir.resolve("sender-data"), false));
                forwarding = LogForwarding.start(node, context);
                LogForwarding f = forwarding;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!f.collectors().contains(collector)) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("no collector within 60 s");
                    }
                    TimeUnit.MILLISECONDS.sleep(20); // polling the collector election: nothing to wait on
                }
            }
            default -> throw new IllegalArgumentException("unknown mode '" + mode + "' (logback, unidist, forwarded)");
        }
        Logger log = context.getLogger("bench.app");
        Measurement m = ClosedLoop.run(threads, warmupNanos, windowNanos, t -> {
            long[] n = new long[1];
            return () -> log.info("order {} of worker {} accepted for {}", n[0]++, t, "customer-42");
        });
        if (forwarding != null) {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (forwarding.pending() > 0) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the collector did not acknowledge " + forwarding.pending()
                            + " records within 5 minutes");
                }
                TimeUnit.MILLISECONDS.sleep(20); // polling another process's progress: nothing to wait on
            }
            forwarding.close();
        }
        protocol.println("result " + m.encode());
        if (node != null) {
            node.close();
        }
        context.stop();
        Runtime.getRuntime().halt(0); // JGroups' threads
    }

    private static Properties unidistDefaults(Path dir) {
        Properties p = new Properties();
        p.setProperty("unidist.logging.dir", dir.resolve("logs").toString());
        p.setProperty("unidist.program", "bench");
        p.setProperty("unidist.logging.console", "false");
        p.setProperty("unidist.logging.totalSizeCap", "2GB");
        p.setProperty("unidist.logging.forward.spool.maxSize", "512MB");
        return p;
    }

    /** Plain logback as a user would set it up: one file appender, a pattern, INFO. */
    static void plainLogback(LoggerContext context, Path file) {
        context.reset();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z',UTC} %-5level [%thread] %logger - %msg%n");
        encoder.start();
        FileAppender<ILoggingEvent> appender = new FileAppender<>();
        appender.setContext(context);
        appender.setFile(file.toString());
        appender.setEncoder(encoder);
        appender.start();
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(ch.qos.logback.classic.Level.INFO);
        root.addAppender(appender);
    }

    /** How long a child of this kind may take: its windows, a drain, and a JVM start and join. */
    static Duration budget(Duration warmup, Duration window) {
        return warmup.plus(window).plus(Duration.ofMinutes(6));
    }
}
