package io.unidist.logging;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real crash: a child JVM logging and rotating every few milliseconds is killed with
 * SIGKILL. What it leaves must hold: the manifest parses, every byte it promises is on disk
 * and made of complete records. When the program runs again the manifest is rewritten (a
 * temporary file from the crash is removed), and a scraper that had read the stale manifest
 * reads the rest: every record that reached the disk exactly once, in order. Multi-process,
 * a few seconds.
 */
@Tag("multiprocess")
class ManifestCrashTest {

    @TempDir
    Path work;

    @Test
    void killedWhileLoggingLeavesAValidManifestAndTheNextRunLetsTheScraperReadEveryRecordOnce() throws Exception {
        Path logs = work.resolve("logs");
        Process child = ChildJvm.start(work, null, ManifestCrashMain.class, "-Dunidist.logging.dir=" + logs,
                "-Dunidist.program=crash", "-Dunidist.logging.file.maxSize=16KB",
                "-Dunidist.logging.manifest.interval=20ms", "-Dunidist.logging.console=false");
        try {
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> compressedFiles(logs) >= 5);
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no last manifest
            child.waitFor();
        }

        ManifestScraper scraper = new ManifestScraper(logs, "crash", "crash.jsonl", Map.of());
        List<Map<String, Object>> read = new ArrayList<>(scraper.poll());
        assertTrue(read.size() > 0, "the manifest the crash left is readable and promises records");
        assertEquals(List.of(), scraper.badLines());

        LoggerContext restarted = new LoggerContext();
        try {
            Properties settings = new Properties();
            settings.setProperty("unidist.logging.dir", logs.toString());
            settings.setProperty("unidist.program", "crash");
            settings.setProperty("unidist.logging.console", "false");
            settings.setProperty("unidist.logging.manifest.interval", "20ms");
            UnidistLogging.configure(restarted, settings);
            restarted.getLogger("test").info("after the restart");

            ManifestScraper resumed = new ManifestScraper(logs, "crash", "crash.jsonl", scraper.state());
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                read.addAll(resumed.poll());
                return read.stream().anyMatch(r -> "after the restart".equals(r.get("message")));
            });
            assertTrue(resumed.badLines().size() <= 1, "at most the one record the kill cut: " + resumed.badLines());
        } finally {
            restarted.stop();
        }

        long childPid = child.pid();
        List<Long> seqs = read.stream().filter(r -> r.get("pid").equals(childPid))
                .map(r -> (Long) r.get("seq")).collect(Collectors.toList());
        TreeSet<Long> onDisk = childSeqsOnDisk(logs, childPid);
        assertEquals(new ArrayList<>(onDisk), seqs,
                "every record of the killed run that reached the disk, once, in order");
        assertEquals(1L, onDisk.first());
        assertEquals(onDisk.size(), onDisk.last(), "no gap: nothing the child wrote was lost");
    }

    @SuppressWarnings("unchecked")
    private static long compressedFiles(Path logs) throws IOException {
        Map<String, Object> manifest = MiniJson.parseObject(Files.readString(logs.resolve("crash.manifest.json")));
        return ((List<Object>) manifest.get("files")).stream()
                .filter(f -> "compressed".equals(((Map<String, Object>) f).get("state"))).count();
    }

    /** Every complete record of {@code pid} in every JSON-lines file, read without the manifest. */
    private static TreeSet<Long> childSeqsOnDisk(Path logs, long pid) throws IOException {
        TreeSet<Long> seqs = new TreeSet<>();
        List<Path> files;
        try (Stream<Path> list = Files.list(logs)) {
            files = list.filter(p -> p.getFileName().toString().matches("crash\\..*jsonl.*"))
                    .collect(Collectors.toList());
        }
        for (Path file : files) {
            byte[] content;
            try (InputStream raw = Files.newInputStream(file);
                 InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
                content = in.readAllBytes();
            } catch (IOException e) {
                continue; // an archive the kill cut short: its rotated original is still there
            }
            for (String line : new String(content, StandardCharsets.UTF_8).split("\n")) {
                try {
                    Map<String, Object> record = MiniJson.parseObject(line);
                    if (record.get("pid").equals(pid)) {
                        seqs.add((Long) record.get("seq"));
                    }
                } catch (RuntimeException e) {
                    // a record cut by the kill
                }
            }
        }
        return seqs;
    }
}
