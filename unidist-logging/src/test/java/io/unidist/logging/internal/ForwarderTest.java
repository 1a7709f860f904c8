package io.unidist.logging.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.cluster.ClusterMessaging;
import io.unidist.logging.ManifestScraper;
import io.unidist.logging.MiniJson;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Forwarding and collecting over a fake network: collector failover, a sender restart,
 * resends, hostile messages, no collector at all; the collector's manifest, followed by a
 * scraper that stops while the collected files rotate and resumes with every record once,
 * files deleted by the collector's budget, and node names that try to escape the directory or
 * confuse the name parser.
 */
class ForwarderTest {
    private static final Pattern KEY = Pattern.compile(
            "^\\{\"node\":\"([^\"]+)\",\"incarnation\":\"([0-9a-f]+)\",\"fseq\":(-?\\d+),\"message\":\"([^\"]+)\"}$");

    @TempDir
    Path dir;
    private final FakeNetwork net = new FakeNetwork(List.of("c1", "c2", "c3"));
    private final Map<String, Forwarder> forwarders = new HashMap<>();
    private final Map<String, Spool> spools = new HashMap<>();
    private final Map<String, ClusterMessaging> joined = new HashMap<>();
    /** Settings added to every node started after they are set. */
    private final Properties extra = new Properties();

    @AfterEach
    void stop() {
        forwarders.values().forEach(Forwarder::close);
        spools.values().forEach(Spool::close);
        net.close();
    }

    private ForwardSettings settings(String node) {
        Properties p = new Properties();
        p.setProperty("unidist.logging.dir", dir.resolve(node).toString());
        p.setProperty("unidist.logging.forward.ackTimeout", "300ms");
        p.setProperty("unidist.logging.forward.batch.records", "500");
        p.putAll(extra);
        return ForwardSettings.of(LoggingSettings.of(p));
    }

    private Forwarder start(String node) throws IOException {
        ForwardSettings s = settings(node);
        ClusterMessaging m = joined.computeIfAbsent(node, net::join);
        Spool spool = Spool.open(s.spoolDir.resolve(node), Forwarding.spoolOptions(s));
        Forwarder f = new Forwarder(m, s, spool, List.of("c1", "c2"));
        spools.put(node, spool);
        forwarders.put(node, f);
        return f;
    }

    /** A crash: the network loses the node, its threads stop, nothing is drained. */
    private void crash(String node) {
        net.crash(node);
        joined.remove(node);
        forwarders.remove(node).close();
        spools.remove(node).close();
    }

    private static byte[] line(String message) {
        return ("{\"message\":\"" + message + "\"}\n").getBytes(StandardCharsets.UTF_8);
    }

    /** Every collected line of every collector, per sender, deduplicated by key and sorted by fseq. */
    private Map<String, List<String>> collected(Map<String, Integer> duplicates) throws IOException {
        Map<String, TreeMap<Long, String>> bySender = new HashMap<>();
        Set<String> keys = new HashSet<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("collected.")
                    && p.toString().endsWith(".jsonl")).toList()) {
                long lastFseq = Long.MIN_VALUE;
                String lastInc = null;
                for (String l : Files.readAllLines(f)) {
                    Matcher m = KEY.matcher(l);
                    assertTrue(m.matches(), "a collected line: " + l);
                    long fseq = Long.parseLong(m.group(3));
                    if (m.group(2).equals(lastInc)) {
                        assertTrue(fseq > lastFseq, "a file holds one incarnation's records in order: " + f);
                    }
                    lastInc = m.group(2);
                    lastFseq = fseq;
                    if (!keys.add(m.group(1) + "/" + m.group(2) + "/" + fseq)) {
                        duplicates.merge(m.group(1), 1, Integer::sum);
                        continue;
                    }
                    bySender.computeIfAbsent(m.group(1), s -> new TreeMap<>()).put(fseq, m.group(4));
                }
            }
        }
        Map<String, List<String>> out = new HashMap<>();
        bySender.forEach((s, m) -> out.put(s, new ArrayList<>(m.values())));
        return out;
    }

    private static List<String> expected(String sender, int count) {
        List<String> e = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            e.add(sender + "-" + i);
        }
        return e;
    }

    @Test
    void everyRecordIsCollectedOnceAfterDeduplicationDespiteACollectorCrashAndASenderRestart() throws Exception {
        start("c1");
        start("c2");
        int perSender = 20_000;
        Forwarder s1 = start("s1");
        start("s2");
        await().atMost(Duration.ofSeconds(10)).until(() -> s1.collectors().equals(List.of("c1")));
        for (int i = 0; i < perSender / 2; i++) {
            s1.spool("main", line("s1-" + i));
            forwarders.get("s2").spool("main", line("s2-" + i));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> forwarders.get("c1").collectedCounts()[0] > 2_000);
        crash("c1");
        // s2 restarts: what its spool held unacknowledged goes out again under its old incarnation
        forwarders.remove("s2").close();
        spools.remove("s2").close();
        Forwarder s2 = start("s2");
        await().atMost(Duration.ofSeconds(10)).until(() -> s2.collectors().equals(List.of("c2")));
        for (int i = perSender / 2; i < perSender; i++) {
            s1.spool("main", line("s1-" + i));
            s2.spool("main", line("s2-" + i));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> spools.get("s1").pending() == 0 && spools.get("s2").pending() == 0);
        Map<String, Integer> duplicates = new HashMap<>();
        Map<String, List<String>> got = collected(duplicates);
        assertEquals(expected("s1", perSender), got.get("s1"));
        assertEquals(expected("s2", perSender), got.get("s2"));
        assertTrue(forwarders.get("c2").collectedCounts()[0] > 0, "c2 took over");
    }

    @Test
    void withNoCollectorRecordsWaitInTheSpoolAndGoOutWhenOneJoins() throws Exception {
        Forwarder s1 = start("s1");
        for (int i = 0; i < 3_000; i++) {
            s1.spool("main", line("s1-" + i));
        }
        assertEquals(3_000, spools.get("s1").pending());
        assertEquals(0, s1.batchCounts()[0], "nothing is sent while there is no collector");
        start("c1");
        await().atMost(Duration.ofSeconds(20)).until(() -> spools.get("s1").pending() == 0);
        assertEquals(expected("s1", 3_000), collected(new HashMap<>()).get("s1"));
    }

    @Test
    void hostileMessagesAreDroppedAndTheCollectorKeepsWorking() throws Exception {
        Forwarder c1 = start("c1");
        ClusterMessaging evil = net.join("evil");
        evil.send("c1", LogWire.TOPIC, "garbage".getBytes(StandardCharsets.UTF_8));
        evil.send("c1", LogWire.TOPIC, new byte[] {'L', 1, 1, 0x7f, 0, 0, 0});
        evil.send("c1", LogWire.TOPIC, LogWire.batch(List.of(new LogWire.Record(1, 7, "../../escape", line("x")))));
        evil.send("c1", LogWire.TOPIC, LogWire.batch(List.of(new LogWire.Record(2, 7, "main", line("evil-0")))));
        await().atMost(Duration.ofSeconds(10)).until(() -> c1.collectedCounts()[0] == 1);
        try (Stream<Path> files = Files.walk(dir)) {
            assertFalse(files.anyMatch(p -> p.toString().contains("escape")), "no file is named from a hostile track");
        }
        assertEquals(List.of("evil-0"), collected(new HashMap<>()).get("evil"));
    }

    @Test
    void aFullSpoolDropsCountsAndSaysSoInTheLog() throws Exception {
        ch.qos.logback.classic.Logger forwarderLog =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Forwarder.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
                new ch.qos.logback.core.read.ListAppender<>();
        seen.start();
        forwarderLog.addAppender(seen);
        try {
            Properties p = new Properties();
            p.setProperty("unidist.logging.dir", dir.resolve("s1").toString());
            p.setProperty("unidist.logging.forward.spool.maxSize", "64KB");
            ForwardSettings s = ForwardSettings.of(LoggingSettings.of(p));
            Spool spool = Spool.open(s.spoolDir.resolve("s1"), Forwarding.spoolOptions(s));
            spools.put("s1", spool);
            Forwarder s1 = new Forwarder(joined.computeIfAbsent("s1", net::join), s, spool, List.of("c1"));
            forwarders.put("s1", s1);
            for (int i = 0; i < 2_000; i++) {
                s1.spool("main", line(String.format("%0100d", i)));
            }
            assertTrue(spool.dropped() > 0, "a 64 KB spool cannot hold 2,000 records of 100 bytes");
            assertTrue(spool.diskBytes() <= 64 * 1024);
            assertEquals(2_000, spool.pending() + spool.dropped(), "every record is either spooled or counted");
            Pattern report = Pattern.compile(".*the log spool was full: [1-9]\\d* records dropped.*policy drop-oldest.*");
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.list.stream()
                    .anyMatch(e -> report.matcher(e.getFormattedMessage()).matches()));
        } finally {
            forwarderLog.detachAppender(seen);
        }
    }

    // ---- the collector's manifest

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    private void smallCollectedFiles() {
        extra.setProperty("unidist.logging.forward.collector.file.maxSize", "4KB");
        extra.setProperty("unidist.logging.manifest.interval", "20ms");
        extra.setProperty("unidist.logging.forward.batch.records", "20"); // rollovers fall inside and between batches
    }

    private Path collectedDir(String collector) {
        return settings(collector).collectedDir;
    }

    private static String message(String node, String track, int i) {
        return node + "-" + track + "-" + i + "-" + "p".repeat(i % 40);
    }

    @Test
    void aScraperOfTheCollectorsManifestStoppedWhileTheFilesRotateResumesWithEveryRecordOnce() throws Exception {
        smallCollectedFiles();
        start("c1");
        List<String> nodes = List.of("web.1", "s2"); // a dot in a node: the track is the last part of a name
        List<String> tracks = List.of("main", "audit");
        for (String node : nodes) {
            Forwarder f = start(node);
            await().atMost(Duration.ofSeconds(10)).until(() -> f.collectors().equals(List.of("c1")));
        }
        Path collected = collectedDir("c1");
        Map<String, ManifestScraper> scrapers = new HashMap<>();
        Map<String, List<String>> read = new HashMap<>();
        for (String node : nodes) {
            for (String track : tracks) {
                String stream = "collected." + node + "." + track + ".jsonl";
                scrapers.put(stream, new ManifestScraper(collected, "collected", stream, Map.of()));
                read.put(stream, new ArrayList<>());
            }
        }
        int total = 300;
        spoolRecords(nodes, tracks, 0, total / 2);
        readUntil(scrapers, read, total / 2);
        Map<String, Map<String, Long>> saved = new HashMap<>(); // the scraper stops here
        scrapers.forEach((stream, scraper) -> saved.put(stream, scraper.state()));

        spoolRecords(nodes, tracks, total / 2, total);
        await().atMost(PATIENCE).ignoreExceptions().until(() -> nodes.stream().allMatch(n -> spools.get(n).pending() == 0)
                && caughtUp(collected));
        scrapers.replaceAll((stream, old) -> new ManifestScraper(collected, "collected", stream, saved.get(stream)));
        readUntil(scrapers, read, total);

        for (String node : nodes) {
            for (String track : tracks) {
                String stream = "collected." + node + "." + track + ".jsonl";
                List<String> expected = new ArrayList<>();
                for (int i = 0; i < total; i++) {
                    expected.add(message(node, track, i));
                }
                assertEquals(expected, read.get(stream), "every record of " + stream + " once, in order");
                assertEquals(List.of(), scrapers.get(stream).losses());
                assertTrue(manifestFiles(collected).stream().filter(f -> f.get("stream").equals(stream))
                        .filter(f -> f.get("state").equals("compressed")).count() >= 3, stream + " rotated");
            }
        }
        for (Map<String, Object> file : manifestFiles(collected)) {
            String path = (String) file.get("path");
            LogFileName name = LogFileName.parseCollected(path);
            assertEquals(name.node(), file.get("node"), path);
            assertEquals(name.track(), file.get("track"), path);
            assertEquals(name.stream(), file.get("stream"), path);
            assertEquals("json", file.get("format"), path);
            List<String> lines = new String(content(collected, file), StandardCharsets.UTF_8).lines().toList();
            assertEquals(fseq(lines.get(0)), file.get("firstSeq"), "firstSeq is the first record's fseq: " + path);
            assertEquals(fseq(lines.get(lines.size() - 1)), file.get("lastSeq"), "lastSeq is the last one's: " + path);
        }

        // the collector restarts: its next manifest finds the same files by name and fingerprint,
        // and the scrapers, resuming from their state, have nothing more to read
        List<Map<String, Object>> before = manifestFiles(collected);
        forwarders.remove("c1").close();
        spools.remove("c1").close();
        List<Map<String, Object>> after = restartedCollectorsManifest(collected);
        assertEquals(withoutSeq(before), withoutSeq(after));
        for (Map.Entry<String, ManifestScraper> e : scrapers.entrySet()) {
            ManifestScraper resumed = new ManifestScraper(collected, "collected", e.getKey(), e.getValue().state());
            assertEquals(List.of(), resumed.poll(), e.getKey());
        }
    }

    /** A new collector on the same directory, with the manifest of the last run removed: what it lists. */
    private List<Map<String, Object>> restartedCollectorsManifest(Path collected) throws IOException {
        Files.delete(collected.resolve("collected.manifest.json"));
        try (CollectorWriter again = CollectorWriter.of(settings("c1"))) {
            again.manifest().tickNow();
            return manifestFiles(collected);
        }
    }

    /** The entries as a set, without what only the writing process knows ({@code firstSeq}, {@code lastSeq}). */
    private static Set<Map<String, Object>> withoutSeq(List<Map<String, Object>> files) {
        Set<Map<String, Object>> out = new HashSet<>();
        for (Map<String, Object> file : files) {
            Map<String, Object> copy = new HashMap<>(file);
            copy.remove("firstSeq");
            copy.remove("lastSeq");
            out.add(copy);
        }
        return out;
    }

    @Test
    void collectedFilesDeletedByTheCollectorsBudgetAreListedAsDeleted() throws Exception {
        smallCollectedFiles();
        // archives of these records compress to about 400 bytes: 4KB holds ten of them
        extra.setProperty("unidist.logging.forward.collector.totalSizeCap", "4KB");
        start("c1");
        Forwarder s1 = start("s1");
        await().atMost(Duration.ofSeconds(10)).until(() -> s1.collectors().equals(List.of("c1")));
        spoolRecords(List.of("s1"), List.of("main"), 0, 1_000);
        Path collected = collectedDir("c1");

        await().atMost(PATIENCE).ignoreExceptions().until(() -> spools.get("s1").pending() == 0 && caughtUp(collected)
                && manifestFiles(collected).stream().anyMatch(f -> f.get("state").equals("deleted")));
        // a scraper that comes only now learns what it lost and reads what is left, to the last record
        ManifestScraper late = new ManifestScraper(collected, "collected", "collected.s1.main.jsonl", Map.of());
        List<String> read = new ArrayList<>();
        readUntil(Map.of("collected.s1.main.jsonl", late), Map.of("collected.s1.main.jsonl", read), 1);
        assertFalse(late.losses().isEmpty());
        assertEquals(message("s1", "main", 999), read.get(read.size() - 1));
    }

    @Test
    void nodeNamesFromTheNetworkCannotEscapeTheCollectorsDirectoryOrConfuseItsManifest() throws Exception {
        extra.setProperty("unidist.logging.manifest.interval", "20ms");
        Forwarder c1 = start("c1");
        List<String> names = List.of("../../escape", "a.b.main", "x.2026-11-29.3", "a\\b\nc", "n".repeat(300));
        for (String name : names) {
            net.join(name).send("c1", LogWire.TOPIC, LogWire.batch(List.of(
                    new LogWire.Record(1, 7, "main", line("m-" + name.length())),
                    new LogWire.Record(2, 7, "audit", line("a-" + name.length())))));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> c1.collectedCounts()[0] == 2L * names.size());
        Path collected = collectedDir("c1");
        await().atMost(PATIENCE).ignoreExceptions().until(() -> caughtUp(collected)
                && manifestFiles(collected).size() == 2 * names.size());

        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                assertTrue(p.getParent().equals(collected) || p.startsWith(dir.resolve("c1").resolve("spool")),
                        "nothing outside the collector's directory: " + p);
            }
        }
        Set<String> expected = new HashSet<>();
        for (String name : names) {
            expected.add(CollectorWriter.nodeFileName(name) + "/main");
            expected.add(CollectorWriter.nodeFileName(name) + "/audit");
        }
        Set<String> listed = new HashSet<>();
        for (Map<String, Object> file : manifestFiles(collected)) {
            listed.add(file.get("node") + "/" + file.get("track"));
            assertEquals("collected." + file.get("node") + "." + file.get("track") + ".jsonl", file.get("path"));
        }
        assertEquals(expected, listed, "one file per node and track, each read back to its node and track");

        // a collector that did not write them reads node and track from the names alone
        forwarders.remove("c1").close();
        spools.remove("c1").close();
        Set<String> found = new HashSet<>();
        for (Map<String, Object> file : restartedCollectorsManifest(collected)) {
            found.add(file.get("node") + "/" + file.get("track"));
        }
        assertEquals(expected, found);
    }

    @Test
    void withManifestsTurnedOffTheCollectorWritesItsFilesAndNoManifest() throws Exception {
        extra.setProperty("unidist.logging.manifest.enabled", "false");
        start("c1");
        Forwarder s1 = start("s1");
        for (int i = 0; i < 10; i++) {
            s1.spool("main", line("s1-" + i));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> spools.get("s1").pending() == 0);
        assertEquals(expected("s1", 10), collected(new HashMap<>()).get("s1"));
        assertFalse(Files.exists(collectedDir("c1").resolve("collected.manifest.json")));
    }

    private void spoolRecords(List<String> nodes, List<String> tracks, int from, int to) {
        for (int i = from; i < to; i++) {
            for (String node : nodes) {
                for (String track : tracks) {
                    forwarders.get(node).spool(track, line(message(node, track, i)));
                }
            }
        }
    }

    /** Polls every scraper until each stream has {@code count} records; records are kept as their message. */
    private static void readUntil(Map<String, ManifestScraper> scrapers, Map<String, List<String>> read, int count) {
        await().atMost(PATIENCE).ignoreExceptions().until(() -> {
            for (Map.Entry<String, ManifestScraper> e : scrapers.entrySet()) {
                for (Map<String, Object> record : e.getValue().poll()) {
                    read.get(e.getKey()).add((String) record.get("message"));
                }
            }
            return read.values().stream().allMatch(r -> r.size() >= count);
        });
    }

    private static long fseq(String line) {
        return (Long) MiniJson.parseObject(line).get("fseq");
    }

    /**
     * No compression running, the manifest lists as present exactly the files on disk, and
     * every listed offset is its file's whole (uncompressed) length.
     */
    private static boolean caughtUp(Path collected) throws IOException {
        Set<String> onDisk;
        try (Stream<Path> list = Files.list(collected)) {
            onDisk = list.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(HashSet::new));
        }
        if (onDisk.stream().anyMatch(n -> n.endsWith(".tmp"))) {
            return false;
        }
        Set<String> listed = new HashSet<>(Set.of("collected.manifest.json"));
        for (Map<String, Object> file : manifestFiles(collected)) {
            if (!file.get("state").equals("deleted")) {
                listed.add((String) file.get("path"));
                if (!file.get("offset").equals((long) content(collected, file).length)) {
                    return false;
                }
            }
        }
        return listed.equals(onDisk);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> manifestFiles(Path collected) {
        try {
            Map<String, Object> manifest = MiniJson.parseObject(
                    Files.readString(collected.resolve("collected.manifest.json"), StandardCharsets.UTF_8));
            assertEquals("collected", manifest.get("program"));
            List<Map<String, Object>> files = new ArrayList<>();
            for (Object file : (List<Object>) manifest.get("files")) {
                files.add((Map<String, Object>) file);
            }
            return files;
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] content(Path collected, Map<String, Object> file) throws IOException {
        try (InputStream raw = Files.newInputStream(collected.resolve((String) file.get("path")));
             InputStream in = "gzip".equals(file.get("compression")) ? new GZIPInputStream(raw) : raw) {
            return in.readAllBytes();
        }
    }
}
