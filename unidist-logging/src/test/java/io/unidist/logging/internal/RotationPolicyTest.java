package io.unidist.logging.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.encoder.EncoderBase;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rotation with a clock the test moves: by size into numbered archives of the day, compressed
 * by the archiver with every byte kept and in order; at midnight (the clock's zone) under the
 * day the records are from, the index starting again; after a restart the index goes on after
 * what is on disk (archives and files still waiting), and records left from an earlier day are
 * archived under that day; archives older than the age limit are deleted.
 */
class RotationPolicyTest {

    private static final ZoneId ZONE = ZoneId.of("Pacific/Auckland");

    @TempDir
    Path dir;

    private final LoggerContext context = new LoggerContext();
    private final MovableClock clock = new MovableClock(LocalDateTime.parse("2026-03-01T10:00:00").atZone(ZONE).toInstant());
    private final List<EncodedFileAppender<String>> appenders = new ArrayList<>();
    private Archiver archiver;

    /** A clock the test moves. */
    static final class MovableClock extends Clock {
        private volatile Instant now;

        MovableClock(Instant start) {
            this.now = start;
        }

        void set(Instant instant) {
            now = instant;
        }

        @Override
        public ZoneId getZone() {
            return ZONE;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    /** Lines as they are. */
    static final class LineEncoder extends EncoderBase<String> {
        @Override
        public byte[] headerBytes() {
            return new byte[0];
        }

        @Override
        public byte[] encode(String line) {
            return line.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public byte[] footerBytes() {
            return new byte[0];
        }
    }

    @AfterEach
    void stop() {
        appenders.forEach(EncodedFileAppender::stop);
        if (archiver != null) {
            archiver.stop();
        }
    }

    private EncodedFileAppender<String> start(long maxFileSize, int maxHistoryDays) {
        DiskBudget budget = new DiskBudget(dir, "app", Long.MAX_VALUE, path -> { });
        archiver = new Archiver(dir, "app", maxHistoryDays, budget, path -> { }, clock);
        EncodedFileAppender<String> appender = new EncodedFileAppender<>();
        appender.setContext(context);
        appender.setName("app.log");
        appender.setFile(dir.resolve("app.log").toString());
        RotationPolicy<String> policy = new RotationPolicy<>(dir, "app", "app", "log", maxFileSize, archiver, clock);
        policy.setContext(context);
        policy.start();
        appender.setRollingPolicy(policy);
        LineEncoder encoder = new LineEncoder();
        encoder.setContext(context);
        encoder.start();
        appender.setEncoder(encoder);
        appender.start();
        appenders.add(appender);
        return appender;
    }

    private static void write(EncodedFileAppender<String> appender, String line) {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        appender.writeEncoded(line, bytes, 0, bytes.length, 0, 0);
    }

    @Test
    void rotatesAtTheSizeIntoNumberedArchivesOfTheDayWithEveryLineKeptInOrder() throws IOException {
        EncodedFileAppender<String> appender = start(1_000, 30);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 45; i++) {
            String line = "line " + i + " " + "x".repeat(90);
            lines.add(line);
            write(appender, line);
        }

        awaitNoRotatedFiles();
        assertEquals(List.of("app.2026-03-01.0.log.gz", "app.2026-03-01.1.log.gz", "app.2026-03-01.2.log.gz",
                "app.2026-03-01.3.log.gz", "app.log"), names());
        assertEquals(lines, linesInOrder(names()));
        assertTrue(Files.size(dir.resolve("app.2026-03-01.0.log.gz")) < 1_000, "compressed");
    }

    @Test
    void atMidnightTheFileIsArchivedUnderTheDayOfItsRecordsAndTheIndexStartsAgain() throws IOException {
        clock.set(LocalDateTime.parse("2026-03-01T23:59:58").atZone(ZONE).toInstant());
        EncodedFileAppender<String> appender = start(1_000, 30);
        write(appender, "a".repeat(1_000)); // reaches the size: the next write rotates
        write(appender, "late on the first");
        clock.set(LocalDateTime.parse("2026-03-02T00:00:00").atZone(ZONE).toInstant());
        write(appender, "first of the second");
        write(appender, "b".repeat(1_000));
        write(appender, "then a new file");

        awaitNoRotatedFiles();
        assertEquals(List.of("app.2026-03-01.0.log.gz", "app.2026-03-01.1.log.gz", "app.2026-03-02.0.log.gz",
                "app.log"), names());
        assertEquals(List.of("late on the first"), gunzip("app.2026-03-01.1.log.gz"));
        assertEquals(List.of("first of the second", "b".repeat(1_000)), gunzip("app.2026-03-02.0.log.gz"));
        assertEquals(List.of("then a new file"), Files.readAllLines(dir.resolve("app.log")));
    }

    @Test
    void afterARestartTheIndexGoesOnAndRecordsOfAnEarlierDayAreArchivedUnderThatDay() throws IOException {
        Files.write(dir.resolve("app.2026-03-01.4.log.gz"), new byte[0]);
        Files.writeString(dir.resolve("app.2026-03-01.6.log123456.tmp"), "waiting from the last run\n");
        Files.writeString(dir.resolve("app.log"), "from the 27th\n");
        Files.setLastModifiedTime(dir.resolve("app.log"),
                FileTime.from(LocalDateTime.parse("2026-02-27T18:00:00").atZone(ZONE).toInstant()));

        EncodedFileAppender<String> appender = start(1_000, 30);
        write(appender, "today " + "c".repeat(1_000));
        write(appender, "today, second file");

        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(dir.resolve("app.2026-03-01.7.log.gz"))
                && Files.exists(dir.resolve("app.2026-02-27.0.log.gz")));
        assertEquals(List.of("from the 27th"), gunzip("app.2026-02-27.0.log.gz"));
        assertEquals(List.of("today " + "c".repeat(1_000)), gunzip("app.2026-03-01.7.log.gz"));
        assertTrue(Files.exists(dir.resolve("app.2026-03-01.6.log123456.tmp")), "another run's file is left alone");
        assertEquals(List.of("today, second file"), Files.readAllLines(dir.resolve("app.log")));
    }

    @Test
    void archivesOlderThanTheAgeLimitAreDeletedAfterTheNextArchive() throws IOException {
        Files.write(dir.resolve("app.2026-01-15.0.log.gz"), new byte[0]);
        Files.write(dir.resolve("app.2026-02-20.0.log.gz"), new byte[0]);
        Files.write(dir.resolve("other.2026-01-15.0.log.gz"), new byte[0]);
        EncodedFileAppender<String> appender = start(100, 30);

        write(appender, "d".repeat(100));
        write(appender, "rotates");

        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(dir.resolve("app.2026-01-15.0.log.gz")));
        awaitNoRotatedFiles();
        assertTrue(Files.exists(dir.resolve("app.2026-02-20.0.log.gz")), "within 30 days");
        assertTrue(Files.exists(dir.resolve("other.2026-01-15.0.log.gz")), "another program's");
        assertFalse(names().contains("app.2026-01-15.0.log.gz"));
    }

    private void awaitNoRotatedFiles() {
        await().atMost(Duration.ofSeconds(30)).until(() -> names().stream().noneMatch(n -> n.endsWith(".tmp")));
    }

    private List<String> names() {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Lines of the archives in index order, then of the active file. */
    private List<String> linesInOrder(List<String> names) throws IOException {
        List<String> lines = new ArrayList<>();
        for (String name : names) {
            lines.addAll(name.endsWith(".gz") ? gunzip(name) : Files.readAllLines(dir.resolve(name)));
        }
        return lines;
    }

    private List<String> gunzip(String name) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(dir.resolve(name)))) {
            String content = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return content.isEmpty() ? List.of() : List.of(content.split("\n"));
        }
    }
}
