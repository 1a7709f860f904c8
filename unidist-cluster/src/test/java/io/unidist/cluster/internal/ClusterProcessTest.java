package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three voters in three processes on 127.0.0.1 ({@code unidist-local.xml}) increment one
 * counter; one is killed with SIGKILL in the middle, the other two go on, and the killed one
 * restarts over its data and rejoins. No value is handed out twice.
 */
@Tag("multiprocess")
class ClusterProcessTest {
    @TempDir
    Path dir;
    private final Map<String, Process> children = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Long> values = new ConcurrentLinkedQueue<>();
    private final Map<String, AtomicInteger> countByNode = new ConcurrentHashMap<>();

    @AfterEach
    void killAll() {
        children.values().forEach(Process::destroyForcibly);
    }

    @Test
    void killNineOfOneVoterAndItsRestart() throws Exception {
        int base = freeBasePort();
        String cluster = "proc-" + ProcessHandle.current().pid() + "-" + base;
        List<String> voters = List.of("p1", "p2", "p3");
        for (String v : voters) {
            start(cluster, v, String.join(",", voters), base);
        }
        await().atMost(Duration.ofSeconds(90)).until(() -> voters.stream().allMatch(v -> count(v) >= 20));
        children.remove("p1").destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        int p2 = count("p2");
        int p3 = count("p3");
        await().atMost(Duration.ofSeconds(60)).until(() -> count("p2") >= p2 + 50 && count("p3") >= p3 + 50);
        int p1 = count("p1");
        start(cluster, "p1", String.join(",", voters), base);
        await().atMost(Duration.ofSeconds(90)).until(() -> count("p1") >= p1 + 20);
        children.values().forEach(Process::destroyForcibly);
        List<Long> all = new ArrayList<>(values);
        assertEquals(all.size(), all.stream().distinct().count(), "a value was handed out twice");
        assertTrue(all.size() > 200);
    }

    private int count(String node) {
        return countByNode.computeIfAbsent(node, n -> new AtomicInteger()).get();
    }

    private void start(String cluster, String node, String voters, int base) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-Djava.net.preferIPv4Stack=true",
                "-cp", System.getProperty("java.class.path"), ClusterChild.class.getName(),
                cluster, node, voters, dir.resolve(node).toString(), Integer.toString(base));
        pb.redirectError(dir.resolve(node + ".err").toFile());
        Process p = pb.start();
        children.put(node, p);
        AtomicInteger counter = countByNode.computeIfAbsent(node, n -> new AtomicInteger());
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.startsWith("C ")) {
                        values.add(Long.parseLong(line.substring(2)));
                        counter.incrementAndGet();
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // the child was killed mid-line
            }
        }, "reader-" + node);
        reader.setDaemon(true);
        reader.start();
    }

    /** A base port with 20 free ports above it and 20 free ports 100 above it (the raft channel). */
    private static int freeBasePort() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20_000, 40_000);
            if (free(base, 20) && free(base + 100, 20)) {
                return base;
            }
        }
        throw new IOException("no free port range found");
    }

    private static boolean free(int from, int count) {
        for (int p = from; p < from + count; p++) {
            try (ServerSocket s = new ServerSocket(p)) {
                s.setReuseAddress(true);
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

}
