package io.unidist.bench;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import io.unidist.logging.UnidistLogging;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.slf4j.Logger;

/**
 * Records per second written to disk by the unidist-logging defaults, and with caller data off,
 * against plain logback with one {@link FileAppender} and a {@link PatternLayoutEncoder}, in the
 * same run, with the same message and the same number of threads.
 *
 * <ul>
 *   <li>{@code unidist-defaults}: {@link UnidistLogging#configure} with nothing but the directory,
 *       the program name and the console turned off (the baseline has no console either): the
 *       text file and the JSON-lines file, both rotated at 10 MB into gzip archives, the
 *       manifest, caller file and line;</li>
 *   <li>{@code unidist-no-caller-data}: the same with {@code unidist.logging.callerData=false};</li>
 *   <li>{@code logback-file}: logback's {@code FileAppender}, immediate flush (its default), the
 *       pattern of our text line without caller data, one file, no rotation.</li>
 * </ul>
 * Every set-up hands each record to {@code write(2)} before the logging call returns (logback's
 * immediate flush; ours, see {@code io.unidist.logging}). Each set-up gets its own
 * private {@link LoggerContext} and temporary directory; put {@code java.io.tmpdir} on a tmpfs
 * to measure the logging rather than the disk.
 *
 * <p>Run: {@code mvn -B -o package -pl unidist-benchmarks -am -DskipTests && java
 * -Djava.io.tmpdir=/dev/shm -jar unidist-benchmarks/target/benchmarks.jar LoggingBenchmark
 * -jvmArgs "-Djava.io.tmpdir=/dev/shm" -wi 2 -w 1 -i 3 -r 1 -f 1}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class LoggingBenchmark {

    /** Which set-up writes the records. */
    @Param({"unidist-defaults", "unidist-no-caller-data", "logback-file"})
    public String setup;

    private Path dir;
    private LoggerContext context;
    private Logger log;

    /** Counts the records one benchmark thread wrote. */
    @State(Scope.Thread)
    public static class Counter {
        long records;
    }

    /** Makes the directory and the logger context for {@link #setup}. */
    @Setup(Level.Trial)
    public void start() throws IOException {
        dir = Files.createTempDirectory("logging-bench");
        context = new LoggerContext();
        switch (setup) {
            case "unidist-defaults" -> unidist(new Properties());
            case "unidist-no-caller-data" -> {
                Properties p = new Properties();
                p.setProperty("unidist.logging.callerData", "false");
                unidist(p);
            }
            case "logback-file" -> plainLogbackFile();
            default -> throw new IllegalArgumentException("unknown setup '" + setup + "'");
        }
        log = context.getLogger("io.unidist.bench.LoggingBenchmark");
    }

    private void unidist(Properties p) {
        p.setProperty("unidist.logging.dir", dir.toString());
        p.setProperty("unidist.program", "bench");
        p.setProperty("unidist.logging.console", "false");
        UnidistLogging.configure(context, p);
    }

    private void plainLogbackFile() {
        context.setMDCAdapter(org.slf4j.MDC.getMDCAdapter());
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z',UTC} %-5level [%thread] %logger - %msg%n");
        encoder.start();
        FileAppender<ILoggingEvent> appender = new FileAppender<>();
        appender.setContext(context);
        appender.setFile(dir.resolve("bench.log").toString());
        appender.setImmediateFlush(true);
        appender.setEncoder(encoder);
        appender.start();
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(ch.qos.logback.classic.Level.INFO);
        root.addAppender(appender);
    }

    /** Stops the context and deletes its files. */
    @TearDown(Level.Trial)
    public void stop() throws IOException {
        context.stop();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** @return the records this thread has written */
    @Benchmark
    @Threads(1)
    public long oneThread(Counter counter) {
        return write(counter);
    }

    /** @return the records this thread has written */
    @Benchmark
    @Threads(4)
    public long fourThreads(Counter counter) {
        return write(counter);
    }

    private long write(Counter counter) {
        log.info("order {} accepted for {}", counter.records, "customer-42");
        return ++counter.records;
    }
}
