package io.unidist.logging;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/**
 * The file side of the defaults, on a private logger context configured programmatically
 * (the configurator SPI runs once per JVM; {@link ZeroConfigTest} covers it): rotation by
 * size with compression, one size cap across tracks, tracks in their own files, caller file
 * and line, and JSON that stays one valid line for any message.
 */
class FilesTest {

    @TempDir
    Path dir;

    private final LoggerContext context = new LoggerContext();

    @AfterEach
    void stop() {
        context.stop();
    }

    private Logger configure(String... keyValues) {
        Properties p = new Properties();
        p.setProperty("unidist.logging.dir", dir.toString());
        p.setProperty("unidist.program", "prog");
        p.setProperty("unidist.logging.console", "false");
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        UnidistLogging.configure(context, p);
        return context.getLogger("test");
    }

    @Test
    void rotatesBySizeIntoCompressedArchivesOfValidJsonLines() throws IOException {
        Logger log = configure("unidist.logging.file.maxSize", "8KB");

        for (int i = 0; i < 500; i++) {
            log.info("record {} {}", i, UUID.randomUUID());
        }

        await().atMost(Duration.ofSeconds(20)).until(() -> archives(".jsonl.gz").size() >= 3
                && noCompressionRunning());
        assertTrue(archives(".log.gz").size() >= 3);
        long records = 0;
        for (Path archive : archives(".jsonl.gz")) {
            for (String line : gunzip(archive).split("\n")) {
                MiniJson.parseObject(line);
                records++;
            }
        }
        records += Files.readAllLines(dir.resolve("prog.jsonl")).size();
        assertEquals(500, records, "no record lost in rotation");
        assertTrue(Files.size(dir.resolve("prog.jsonl")) < 9 * 1024);
    }

    @Test
    void oneTotalSizeCapCoversAllTracks() {
        Logger log = configure("unidist.logging.file.maxSize", "4KB",
                "unidist.logging.totalSizeCap", "40KB");
        Logger audit = UnidistLogging.track(context, "audit");

        for (int i = 0; i < 800; i++) {
            log.info("main {} {}", i, UUID.randomUUID());
            audit.info("audit {} {}", i, UUID.randomUUID());
        }
        log.info("one more rollover check");

        await().atMost(Duration.ofSeconds(20)).until(this::noCompressionRunning);
        audit.info("{}", "x".repeat(5_000)); // a last rollover, with every compression done
        await().atMost(Duration.ofSeconds(20)).until(this::noCompressionRunning);
        long total = files().stream().mapToLong(FilesTest::size).sum();
        long active = Stream.of("prog.log", "prog.jsonl", "prog.audit.log", "prog.audit.jsonl")
                .mapToLong(name -> size(dir.resolve(name))).sum();
        assertTrue(total - active <= 40 * 1024, "archives " + (total - active) + " bytes in " + files().size() + " files");
        assertTrue(archives(".gz").stream().anyMatch(p -> p.getFileName().toString().startsWith("prog.audit.")));
        assertFalse(files().stream().anyMatch(p -> p.getFileName().toString().startsWith("prog.2")
                && p.getFileName().toString().endsWith(".0.log.gz")), "the oldest archives were deleted");
    }

    @Test
    void tracksWriteOnlyToTheirOwnFilesAndCallerDataIsPerTrack() throws IOException {
        Logger log = configure("unidist.logging.track.quiet.callerData", "false");
        Logger audit = UnidistLogging.track(context, "audit");
        Logger quiet = UnidistLogging.track(context, "quiet");

        log.info("to main");
        audit.info("to audit");
        quiet.info("to quiet");

        assertEquals(List.of("to main"), messages("prog.jsonl"));
        assertEquals(List.of("to audit"), messages("prog.audit.jsonl"));
        assertEquals(List.of("to quiet"), messages("prog.quiet.jsonl"));
        assertTrue(Files.readString(dir.resolve("prog.audit.log")).contains("FilesTest.java:"));
        Map<String, Object> quietRecord = ZeroConfigTest.jsonLines(dir.resolve("prog.quiet.jsonl")).get(0);
        assertNull(quietRecord.get("file"));
        assertNull(quietRecord.get("line"));
        assertFalse(Files.readString(dir.resolve("prog.quiet.log")).contains("FilesTest.java:"));
        assertThrows(IllegalArgumentException.class, () -> UnidistLogging.track(context, "../etc"));
    }

    @Test
    void callerFileAndLineAreTheLoggingStatement() throws IOException {
        Logger log = configure();

        int line = new Throwable().getStackTrace()[0].getLineNumber() + 1;
        log.info("here");

        Map<String, Object> record = ZeroConfigTest.jsonLines(dir.resolve("prog.jsonl")).get(0);
        assertEquals("FilesTest.java", record.get("file"));
        assertEquals((long) line, record.get("line"));
        assertTrue(Files.readString(dir.resolve("prog.log")).contains(" FilesTest.java:" + line + " - here"));
    }

    @Test
    void callerOfTheFluentApiAndOfATrackIsTheLoggingStatementToo() throws IOException {
        Logger log = configure();
        Logger audit = UnidistLogging.track(context, "audit");

        int line = new Throwable().getStackTrace()[0].getLineNumber() + 1;
        log.atInfo().setMessage("fluent").addKeyValue("k", 1).log();
        audit.warn("audited");

        Map<String, Object> fluent = ZeroConfigTest.jsonLines(dir.resolve("prog.jsonl")).get(0);
        assertEquals("FilesTest.java", fluent.get("file"));
        assertEquals((long) line, fluent.get("line"));
        Map<String, Object> audited = ZeroConfigTest.jsonLines(dir.resolve("prog.audit.jsonl")).get(0);
        assertEquals("FilesTest.java", audited.get("file"));
        assertEquals((long) line + 1, audited.get("line"));
    }

    @Test
    void oddAndHugeMessageIsOneValidJsonLine() throws IOException {
        Logger log = configure("unidist.logging.json.maxMessageChars", "100000");
        String odd = "q\"uo\\te\nnew\rline\ttab\u0000\u0001\u001f\u007f\u2028 lone \ud800 low \udc00 pair \ud83d\ude00 ";
        String huge = odd + "m".repeat(1024 * 1024);

        log.info(huge);
        log.info(odd);

        List<String> lines = Files.readAllLines(dir.resolve("prog.jsonl"), StandardCharsets.UTF_8);
        assertEquals(2, lines.size());
        String cut = (String) MiniJson.parseObject(lines.get(0)).get("message");
        assertTrue(cut.startsWith(odd.replace('\ud800', '\ufffd').replace('\udc00', '\ufffd')), cut.substring(0, 80));
        assertTrue(cut.endsWith("\u2026[truncated, " + huge.length() + " chars in total]"));
        assertTrue(cut.length() < 100_100);
        assertEquals(odd.replace('\ud800', '\ufffd').replace('\udc00', '\ufffd'),
                MiniJson.parseObject(lines.get(1)).get("message"));
    }

    @Test
    void manyThreadsAtOnceEveryRecordIsInBothFilesWholeOnceAndInTheSameOrder() throws Exception {
        Logger log = configure();
        int threads = 8;
        int perThread = 2_000;
        List<Thread> loggers = new java.util.ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            loggers.add(new Thread(() -> {
                for (int i = 0; i < perThread; i++) {
                    // now and then a record larger than a file buffer, and characters beyond ASCII
                    log.info("t{} r{} {}", thread, i, i % 97 == 0 ? "ü".repeat(10_000) : "é✓");
                }
            }, "logger-" + t));
        }
        loggers.forEach(Thread::start);
        for (Thread logger : loggers) {
            logger.join(120_000);
        }

        List<Map<String, Object>> json = ZeroConfigTest.jsonLines(dir.resolve("prog.jsonl"));
        List<String> fromJson = json.stream().map(r -> (String) r.get("message")).collect(Collectors.toList());
        List<String> text = Files.readAllLines(dir.resolve("prog.log"), StandardCharsets.UTF_8);
        assertTrue(text.get(0).startsWith("# unidist-log "), text.get(0));
        List<String> fromText = text.subList(1, text.size()).stream()
                .map(line -> line.substring(line.indexOf(" - ") + 3)).collect(Collectors.toList());
        assertEquals(threads * perThread, fromJson.size());
        assertEquals(fromJson.size(), fromText.size());
        for (int i = 0; i < fromJson.size(); i++) {
            if (!fromJson.get(i).equals(fromText.get(i))) {
                throw new AssertionError("the files differ at record " + i + ": JSON " + shortened(fromJson.get(i))
                        + ", text " + shortened(fromText.get(i)) + " (the same records, whole, in one order in both)");
            }
        }
        assertEquals(threads * perThread, json.stream().map(r -> r.get("seq")).distinct().count());
        for (int t = 0; t < threads; t++) {
            String prefix = "t" + t + " ";
            List<String> own = fromJson.stream().filter(m -> m.startsWith(prefix)).collect(Collectors.toList());
            assertEquals(perThread, own.size());
            for (int i = 0; i < perThread; i++) {
                assertEquals(prefix + "r" + i + " " + (i % 97 == 0 ? "ü".repeat(10_000) : "é✓"), own.get(i));
            }
        }
    }

    @Test
    void rootAndPerLoggerLevels() throws IOException {
        configure("unidist.logging.level", "WARN", "unidist.logging.level.chatty", "DEBUG");

        context.getLogger("quiet").info("dropped");
        context.getLogger("quiet").warn("kept warning");
        context.getLogger("chatty.sub").debug("kept debug");

        assertEquals(List.of("kept warning", "kept debug"), messages("prog.jsonl"));
    }

    private static String shortened(String message) {
        return message.length() <= 40 ? message : message.substring(0, 40) + "…";
    }

    private List<Object> messages(String file) throws IOException {
        return ZeroConfigTest.jsonLines(dir.resolve(file)).stream().map(r -> r.get("message"))
                .collect(Collectors.toList());
    }

    private boolean noCompressionRunning() {
        return files().stream().noneMatch(p -> p.getFileName().toString().endsWith(".tmp"));
    }

    private List<Path> archives(String suffix) {
        return files().stream().filter(p -> p.getFileName().toString().endsWith(suffix))
                .collect(Collectors.toList());
    }

    /** The log files: not the scrapers' manifest, which is not counted in the cap. */
    private List<Path> files() {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> !p.getFileName().toString().startsWith("prog.manifest.json"))
                    .sorted().collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private static String gunzip(Path archive) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(archive))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}
