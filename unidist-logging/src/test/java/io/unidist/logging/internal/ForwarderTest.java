package io.unidist.logging.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.cluster.ClusterMessaging;
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
 * resends, hostile messages, no collector at all.
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
}
