package io.unidist.logging.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.recovery.ResilientOutputStreamBase;
import io.unidist.logging.MiniJson;
import io.unidist.logging.UnidistLogging;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/**
 * The manifest's failure behaviour, driven from inside: a crash at each step of the atomic
 * write leaves a manifest that parses (old or new) and a temporary file that the next start
 * removes; an unwritable manifest gives one warning while logging goes on; a write error in a
 * log file never lets the offset pass what is on disk; a file cut by a crash is reopened
 * cleanly; turned off, there is no manifest and no header line; a collector's file names have
 * one reading whatever the node is called.
 */
class LogManifestTest {

    @TempDir
    Path dir;

    private final LoggerContext context = new LoggerContext();

    /** Thrown by a stage hook: the writer stops there as a killed process would. */
    static final class SimulatedCrash extends RuntimeException {
        SimulatedCrash(AtomicFileWriter.Stage stage) {
            super("simulated crash at " + stage);
        }
    }

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

    private LogManifest manifest() {
        return LogSetup.of(context).manifest();
    }

    private Map<String, Object> read() throws IOException {
        return MiniJson.parseObject(Files.readString(dir.resolve("prog.manifest.json"), StandardCharsets.UTF_8));
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> file(String path) throws IOException {
        for (Object file : (List<Object>) read().get("files")) {
            if (path.equals(((Map<String, Object>) file).get("path"))) {
                return (Map<String, Object>) file;
            }
        }
        throw new AssertionError(path + " is not in the manifest: " + read());
    }

    @Test
    void crashAtAnyStepOfTheWriteLeavesTheOldOrTheNewManifestAndATmpTheNextStartRemoves() throws IOException {
        for (AtomicFileWriter.Stage stage : AtomicFileWriter.Stage.values()) {
            Path target = dir.resolve(stage + ".manifest.json");
            AtomicFileWriter writer = new AtomicFileWriter(target);
            writer.write("{\"v\":1}\n");
            writer.hook(reached -> {
                if (reached == stage) {
                    throw new SimulatedCrash(stage);
                }
            });

            assertThrows(SimulatedCrash.class, () -> writer.write("{\"v\":2,\"pad\":\"" + "x".repeat(10_000) + "\"}\n"));

            Map<String, Object> survivor = MiniJson.parseObject(Files.readString(target));
            assertEquals(stage == AtomicFileWriter.Stage.RENAMED ? 2L : 1L, survivor.get("v"), stage.toString());
            assertEquals(stage != AtomicFileWriter.Stage.RENAMED, Files.exists(writer.tmp()), stage.toString());
            if (stage == AtomicFileWriter.Stage.TMP_HALF_WRITTEN) {
                String torn = Files.readString(writer.tmp());
                assertThrows(IllegalArgumentException.class, () -> MiniJson.parse(torn),
                        "the tmp is torn: readers must ignore it");
            }
            new AtomicFileWriter(target).removeLeftover(); // what the next start does
            assertFalse(Files.exists(writer.tmp()));
        }
    }

    @Test
    void startRemovesATmpLeftByACrashAndWritesAValidManifest() throws IOException {
        Files.writeString(dir.resolve("prog.manifest.json"),
                "{\"manifest\":\"unidist-log-manifest\",\"version\":1,\"files\":[]}\n");
        Files.writeString(dir.resolve("prog.manifest.json.tmp"), "{\"manifest\":\"unidist-log-ma");

        Logger log = configure();
        log.info("hello");
        manifest().tickNow();

        assertFalse(Files.exists(dir.resolve("prog.manifest.json.tmp")));
        assertEquals(Files.size(dir.resolve("prog.jsonl")), file("prog.jsonl").get("offset"));
        assertEquals("active", file("prog.jsonl").get("state"));
        assertEquals("main", file("prog.jsonl").get("track"));
        assertEquals("json", file("prog.jsonl").get("format"));
        assertEquals("text", file("prog.log").get("format"));
    }

    @Test
    void unwritableManifestWarnsOnceAndLoggingGoesOn() throws IOException {
        Logger log = configure();
        log.info("before");
        manifest().tickNow();
        Path manifestPath = dir.resolve("prog.manifest.json");
        Files.delete(manifestPath);
        Files.createDirectories(manifestPath.resolve("in-the-way")); // even root cannot rename a file over it

        PrintStream savedErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            for (int i = 0; i < 5; i++) {
                log.info("while the manifest cannot be written {}", i);
                manifest().tickNow();
            }
        } finally {
            System.setErr(savedErr);
        }

        String warnings = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, warnings.split("cannot write log manifest", -1).length - 1, warnings);
        assertTrue(warnings.contains(manifestPath.toAbsolutePath().toString()), warnings);
        assertEquals(6, Files.readAllLines(dir.resolve("prog.jsonl")).size(), "logging went on");
        assertFalse(Files.exists(dir.resolve("prog.manifest.json.tmp")), "a failed write cleans up");

        Files.delete(manifestPath.resolve("in-the-way"));
        Files.delete(manifestPath);
        log.info("after");
        manifest().tickNow();
        assertEquals(Files.size(dir.resolve("prog.jsonl")), file("prog.jsonl").get("offset"), "written again");
    }

    @Test
    void writeErrorInALogFileNeverLetsTheOffsetPassWhatIsOnDisk() throws IOException {
        Logger log = configure();
        log.info("before the failure");
        OutputStreamAppender<?> appender = LogSetup.of(context).fileAppender("prog.jsonl");
        ((ResilientOutputStreamBase) appender.getOutputStream()).postIOFailure(new IOException("simulated: disk full"));

        int[] n = {0};
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            log.info("after the failure {}", n[0]++); // dropped until logback has reopened the file
            manifest().tickNow();
            long offset = (Long) file("prog.jsonl").get("offset");
            long size = Files.size(dir.resolve("prog.jsonl"));
            assertTrue(offset <= size, offset + " > " + size);
            List<String> lines = Files.readAllLines(dir.resolve("prog.jsonl"));
            return offset == size && lines.size() > 1;
        });
        for (String line : Files.readAllLines(dir.resolve("prog.jsonl"))) {
            MiniJson.parseObject(line);
        }
    }

    @Test
    void fileCutByACrashIsReopenedWithANewlineAndKeepsItsFingerprint() throws IOException {
        String first = "{\"seq\":1,\"message\":\"from the run that crashed\"}\n";
        Files.writeString(dir.resolve("prog.jsonl"), first + "{\"time\":\"2026-11-29T1");

        Logger log = configure();
        log.info("after the restart");
        manifest().tickNow();

        List<String> lines = Files.readAllLines(dir.resolve("prog.jsonl"));
        assertEquals(3, lines.size(), lines.toString());
        assertEquals("after the restart", MiniJson.parseObject(lines.get(2)).get("message"));
        Map<String, Object> entry = file("prog.jsonl");
        assertEquals(Files.size(dir.resolve("prog.jsonl")), entry.get("offset"));
        byte[] firstLine = first.getBytes(StandardCharsets.UTF_8);
        assertEquals(Fingerprints.ofHead(firstLine, firstLine.length), entry.get("fingerprint"));
    }

    @Test
    void turnedOffThereIsNoManifestAndNoHeaderLine() throws IOException {
        Logger log = configure("unidist.logging.manifest.enabled", "false");
        log.info("plain");

        assertNull(manifest());
        assertFalse(Files.exists(dir.resolve("prog.manifest.json")));
        assertTrue(Files.readAllLines(dir.resolve("prog.log")).get(0).endsWith(" - plain"));
    }

    @Test
    void collectedNamesHaveOneReadingTheTrackIsTheLastDotSeparatedPart() {
        assertCollected("collected.a.b.main.jsonl", "a.b", "main", LogFileName.Kind.ACTIVE, null, 0);
        assertCollected("collected.a.b.main.2026-11-29.3.jsonl.gz", "a.b", "main", LogFileName.Kind.COMPRESSED,
                "2026-11-29", 3);
        assertCollected("collected.a.b.main.2026-11-29.3.jsonl1732994001.tmp", "a.b", "main",
                LogFileName.Kind.ROTATED, "2026-11-29", 3);
        // a node with a date-like part is a node, not an archive
        assertCollected("collected.x.2026-11-29.3.main.jsonl", "x.2026-11-29.3", "main", LogFileName.Kind.ACTIVE,
                null, 0);
        assertCollected("collected.x.main.2026-11-29.3.jsonl", "x.main.2026-11-29", "3", LogFileName.Kind.ACTIVE,
                null, 0);
        assertCollected("collected.....audit.jsonl", "...", "audit", LogFileName.Kind.ACTIVE, null, 0);
        for (String notCollected : List.of("collected.manifest.json", "collected.manifest.json.tmp",
                "collected.main.jsonl", "collected.a.main.log", "collected.a.main.2026-11-29.jsonl.gz",
                "collected.a/b.main.jsonl", "prog.jsonl", "collected.a.main.jsonl.gz")) {
            assertNull(LogFileName.parseCollected(notCollected), notCollected);
        }
    }

    @Test
    void everyNodeNameGivesAFileNameInTheDirectoryThatParsesBackToIt() {
        List<String> nodes = List.of("../../etc/passwd", "a.b", "..", ".", "", "-", "ä/ö\n\u0000x",
                "C:\\Windows", "2026-11-29.3", "main", "n".repeat(300), "n".repeat(299) + "m", "web-1.jsonl");
        java.util.Set<String> fileNames = new java.util.HashSet<>();
        for (String node : nodes) {
            String safe = CollectorWriter.nodeFileName(node);
            assertTrue(safe.length() <= CollectorWriter.MAX_NODE_CHARS, safe);
            assertTrue(fileNames.add(safe), "these names stay apart: " + node + " -> " + safe);
            for (String track : List.of("main", "a-b_C9")) {
                String active = "collected." + safe + "." + track + ".jsonl";
                assertEquals(dir.resolve(active).getParent(), dir, active);
                assertEquals(active, dir.resolve(active).normalize().getFileName().toString(), active);
                assertCollected(active, safe, track, LogFileName.Kind.ACTIVE, null, 0);
                assertCollected("collected." + safe + "." + track + ".2026-11-29.12.jsonl.gz", safe, track,
                        LogFileName.Kind.COMPRESSED, "2026-11-29", 12);
                assertTrue(("collected." + safe + "." + track + ".2026-11-29.123456789.jsonl"
                        + Long.MAX_VALUE + ".tmp").length() < 255, "a name the file system takes");
            }
        }
        // two long names with one prefix: cut to the same start, kept apart by the hash of the whole
        assertEquals(CollectorWriter.nodeFileName("n".repeat(300)).substring(0, 80),
                CollectorWriter.nodeFileName("n".repeat(299) + "m").substring(0, 80));
    }

    private static void assertCollected(String name, String node, String track, LogFileName.Kind kind, String date,
                                        long index) {
        LogFileName parsed = LogFileName.parseCollected(name);
        assertTrue(parsed != null, name + " is a collected file");
        assertEquals(node, parsed.node(), name);
        assertEquals(track, parsed.track(), name);
        assertEquals(kind, parsed.kind(), name);
        assertEquals(date, parsed.date(), name);
        assertEquals(index, parsed.index(), name);
        assertEquals("json", parsed.format(), name);
        assertEquals("collected." + node + "." + track + ".jsonl", parsed.stream(), name);
    }
}
