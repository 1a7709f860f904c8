package io.unidist.logging;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/**
 * The scrapers' manifest seen from outside, on a private logger context: a scraper that
 * follows it, is stopped while the files rotate many times, and resumes reads every record
 * exactly once and in order; fingerprints are the first line, differ between files, and stay
 * with a file through rotation, compression and a rename; a file deleted by the size cap is
 * listed as deleted. Without the manifest the scraper reads nothing and the first test fails.
 */
class ManifestTest {

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final LoggerContext context = new LoggerContext();

    @AfterEach
    void stop() {
        context.stop();
    }

    private Logger configure(String... keyValues) {
        UnidistLogging.configure(context, settings(keyValues));
        return context.getLogger("test");
    }

    private Properties settings(String... keyValues) {
        Properties p = new Properties();
        p.setProperty("unidist.logging.dir", dir.toString());
        p.setProperty("unidist.program", "prog");
        p.setProperty("unidist.logging.console", "false");
        p.setProperty("unidist.logging.manifest.interval", "20ms");
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return p;
    }

    @Test
    void scraperStoppedWhileFilesRotateResumesWithEveryRecordExactlyOnceInOrder() throws IOException {
        Logger log = configure("unidist.logging.file.maxSize", "4KB");
        List<Map<String, Object>> read = new ArrayList<>();
        ManifestScraper scraper = new ManifestScraper(dir, "prog", "prog.jsonl", Map.of());

        for (int i = 0; i < 20; i++) {
            log.info("record {}", i);
        }
        readUntil(scraper, read, 20);
        Map<String, Long> saved = scraper.state(); // the scraper stops here
        String activeWhenStopped = fingerprintOf("prog.jsonl");

        for (int i = 20; i < 400; i++) {
            log.info("record {} {}", i, "p".repeat(i % 50));
        }
        await().atMost(PATIENCE).ignoreExceptions().until(() -> files("prog.jsonl").stream()
                .filter(f -> f.get("state").equals("compressed")).count() >= 5);
        assertTrue(saved.containsKey(activeWhenStopped), "it stopped half-way through a file");

        ManifestScraper resumed = new ManifestScraper(dir, "prog", "prog.jsonl", saved);
        readUntil(resumed, read, 400);

        assertEquals(400, read.size(), "no record lost or read twice");
        long firstSeq = (Long) read.get(0).get("seq");
        for (int i = 0; i < read.size(); i++) {
            assertEquals(firstSeq + i, read.get(i).get("seq"), "record " + i + " in order");
            assertTrue(((String) read.get(i).get("message")).startsWith("record " + i), read.get(i).toString());
        }
        assertEquals(List.of(), resumed.losses());
    }

    @Test
    void scraperResumesAcrossARestartOfTheProgram() throws IOException {
        Logger log = configure("unidist.logging.file.maxSize", "4KB");
        for (int i = 0; i < 100; i++) {
            log.info("first run {}", i);
        }
        List<Map<String, Object>> read = new ArrayList<>();
        ManifestScraper scraper = new ManifestScraper(dir, "prog", "prog.jsonl", Map.of());
        readUntil(scraper, read, 60);
        Map<String, Long> saved = scraper.state();
        context.stop(); // the program exits; its active file stays and is appended to next time

        LoggerContext second = new LoggerContext();
        try {
            UnidistLogging.configure(second, settings("unidist.logging.file.maxSize", "4KB"));
            for (int i = 0; i < 100; i++) {
                second.getLogger("test").info("second run {}", i);
            }
            ManifestScraper resumed = new ManifestScraper(dir, "prog", "prog.jsonl", saved);
            readUntil(resumed, read, 200);
        } finally {
            second.stop();
        }

        List<Object> messages = read.stream().map(r -> r.get("message")).collect(Collectors.toList());
        for (int i = 0; i < 200; i++) {
            assertEquals((i < 100 ? "first run " : "second run ") + i % 100, messages.get(i));
        }
        assertEquals(200, messages.size());
    }

    @Test
    void fingerprintIsTheFirstLineDiffersBetweenFilesAndSurvivesRotationCompressionAndRename() throws IOException {
        Logger log = configure("unidist.logging.file.maxSize", "4KB");
        for (int i = 0; i < 150; i++) {
            log.info("record {}", i);
        }
        await().atMost(PATIENCE).ignoreExceptions()
                .until(() -> caughtUp() && files("prog.jsonl").size() >= 4 && files("prog.log").size() >= 2);

        List<Map<String, Object>> all = files(null);
        Set<Object> fingerprints = all.stream().map(f -> f.get("fingerprint")).collect(Collectors.toSet());
        assertEquals(all.size(), fingerprints.size(), "every file has its own fingerprint: " + all);
        for (Map<String, Object> file : all) {
            byte[] content = content(file);
            assertEquals(file.get("fingerprint"), ManifestScraper.fingerprintOf(content), file.toString());
            assertEquals(file.get("offset"), (long) content.length, "every record is complete: " + file);
            if (file.get("format").equals("text")) {
                assertTrue(new String(content, StandardCharsets.UTF_8).startsWith("# unidist-log file="), file.toString());
            }
        }

        String active = fingerprintOf("prog.jsonl");
        log.info("{}", "x".repeat(5000)); // over the size: the next record rolls the file over
        log.info("after the rollover");
        await().atMost(PATIENCE).ignoreExceptions()
                .until(() -> settled() && "compressed".equals(byFingerprint(active).get("state")));
        Map<String, Object> archived = byFingerprint(active);
        assertNotEquals("prog.jsonl", archived.get("path"));
        assertEquals(active, ManifestScraper.fingerprintOf(content(archived)), "compression keeps the fingerprint");

        Path renamed = dir.resolve("prog.2000-01-01.7.jsonl.gz");
        Files.move(dir.resolve((String) archived.get("path")), renamed);
        await().atMost(PATIENCE).ignoreExceptions()
                .until(() -> renamed.getFileName().toString().equals(byFingerprint(active).get("path")));
        assertEquals(archived.get("offset"), byFingerprint(active).get("offset"));
        assertEquals("compressed", byFingerprint(active).get("state"));
    }

    @Test
    void rolloverAndCompressionShowAtOnceEvenWithALongInterval() {
        Logger log = configure("unidist.logging.file.maxSize", "4KB", "unidist.logging.manifest.interval", "10m");
        for (int i = 0; i < 25; i++) { // one rollover
            log.info("record {}", i);
        }

        // with only the periodic write this would take ten minutes
        await().atMost(PATIENCE).ignoreExceptions().until(() -> settled() && files("prog.jsonl").stream()
                .anyMatch(f -> f.get("state").equals("compressed")));
    }

    @Test
    void fileDeletedByTheSizeCapIsListedAsDeleted() {
        Logger log = configure("unidist.logging.file.maxSize", "4KB", "unidist.logging.totalSizeCap", "12KB");
        for (int i = 0; i < 600; i++) {
            log.info("record {} {}", i, "q".repeat(40));
        }

        // settled: every file on disk is listed, and nothing listed as deleted is on disk
        await().atMost(PATIENCE).ignoreExceptions().until(() -> settled() && files("prog.jsonl").stream()
                .anyMatch(f -> f.get("state").equals("deleted")));
    }

    private static void readUntil(ManifestScraper scraper, List<Map<String, Object>> read, int count) {
        await().atMost(PATIENCE).ignoreExceptions().until(() -> {
            read.addAll(scraper.poll());
            return read.size() >= count;
        });
    }

    /** Settled, and every file's offset is its whole (uncompressed) length. */
    private boolean caughtUp() throws IOException {
        if (!settled()) {
            return false;
        }
        for (Map<String, Object> file : files(null)) {
            if (!file.get("offset").equals((long) content(file).length)) {
                return false;
            }
        }
        return true;
    }

    /** No compression running, and the manifest lists as present exactly the files on disk. */
    private boolean settled() throws IOException {
        List<String> onDisk;
        try (var list = Files.list(dir)) {
            onDisk = list.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
        if (onDisk.stream().anyMatch(n -> n.endsWith(".tmp"))) {
            return false;
        }
        Set<String> listed = files(null).stream().filter(f -> !f.get("state").equals("deleted"))
                .map(f -> (String) f.get("path")).collect(Collectors.toCollection(HashSet::new));
        listed.add("prog.manifest.json");
        return listed.equals(new HashSet<>(onDisk));
    }

    private Map<String, Object> byFingerprint(String fingerprint) {
        return files(null).stream().filter(f -> f.get("fingerprint").equals(fingerprint)).findFirst()
                .orElse(Map.of());
    }

    private String fingerprintOf(String path) {
        return files(null).stream().filter(f -> f.get("path").equals(path)).findFirst()
                .map(f -> (String) f.get("fingerprint")).orElseThrow();
    }

    /** The manifest's files, of one stream or all. */
    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> files(String stream) {
        try {
            Map<String, Object> manifest = MiniJson.parseObject(
                    Files.readString(dir.resolve("prog.manifest.json"), StandardCharsets.UTF_8));
            List<Map<String, Object>> files = new ArrayList<>();
            for (Object file : (List<Object>) manifest.get("files")) {
                if (stream == null || stream.equals(((Map<String, Object>) file).get("stream"))) {
                    files.add(new HashMap<>((Map<String, Object>) file));
                }
            }
            return files;
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private byte[] content(Map<String, Object> file) throws IOException {
        try (InputStream raw = Files.newInputStream(dir.resolve((String) file.get("path")));
             InputStream in = "gzip".equals(file.get("compression")) ? new GZIPInputStream(raw) : raw) {
            return in.readAllBytes();
        }
    }
}
