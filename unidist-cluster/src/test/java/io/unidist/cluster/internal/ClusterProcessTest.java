package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import io.unidist.testing.FreePorts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three voters in three processes on 127.0.0.1 ({@code unidist-local.xml}), every one killed
 * with SIGKILL in the middle of increments and puts, then restarted over its data: nothing
 * that returned is lost. (kill -9 of one voter at a time, the others going on and the killed
 * one rejoining, is {@code FaultSuiteTest}'s process run, with every primitive checked.)
 */
@Tag("multiprocess")
class ClusterProcessTest {
    @TempDir
    Path dir;
    private final Map<String, Process> children = new ConcurrentHashMap<>();

    @AfterEach
    void killAll() {
        children.values().forEach(Process::destroyForcibly);
    }

    @Test
    void killNineOfEveryProcessAndARestartLoseNothingThatReturned() throws Exception {
        int base = FreePorts.freeBasePort();
        String cluster = "all-" + ProcessHandle.current().pid() + "-" + base;
        List<String> voters = List.of("p1", "p2", "p3");
        java.util.Set<String> offered = ConcurrentHashMap.newKeySet();
        java.util.Set<String> written = ConcurrentHashMap.newKeySet();
        for (String v : voters) {
            start(cluster, v, String.join(",", voters), base, "work", line -> {
                if (line.startsWith("Q ")) {
                    offered.add(line.substring(2));
                } else if (line.startsWith("S ")) {
                    written.add(line.substring(2));
                }
            });
        }
        await().atMost(Duration.ofSeconds(90)).until(() -> offered.size() >= 150 && written.size() >= 150);
        for (Process p : children.values()) {
            p.destroyForcibly(); // SIGKILL, all at once
        }
        for (Process p : children.values()) {
            p.waitFor(30, TimeUnit.SECONDS);
        }
        children.clear();
        java.util.Set<String> offeredBeforeKill = java.util.Set.copyOf(offered);
        java.util.Set<String> writtenBeforeKill = java.util.Set.copyOf(written);
        for (String v : voters) {
            start(cluster, v, String.join(",", voters), base, "idle", line -> { });
        }
        io.unidist.cluster.ClusterConfig me = io.unidist.cluster.ClusterConfig.builder().clusterName(cluster)
                .nodeName("checker").voters(voters.toArray(String[]::new)).jgroupsConfig("unidist-local.xml")
                .property("unidist.bind_port", Integer.toString(base))
                .property("unidist.initial_hosts", "127.0.0.1[" + base + "]")
                .operationTimeout(Duration.ofSeconds(30)).build();
        try (io.unidist.Unidist checker = io.unidist.cluster.UnidistCluster.join(me)) {
            java.util.Map<String, String> state = checker.state("s", String.class).snapshot();
            for (String id : writtenBeforeKill) {
                assertTrue(state.containsKey(id), "state write " + id + " returned but is gone");
            }
            io.unidist.MessageQueue<String> q = checker.queue("q", String.class);
            java.util.Set<String> found = new java.util.HashSet<>();
            java.util.Optional<io.unidist.Delivery<String>> d;
            while ((d = q.poll(Duration.ZERO)).isPresent()) {
                assertTrue(found.add(d.get().message()), "message " + d.get().message() + " is in the queue twice");
                d.get().ack();
            }
            for (String id : offeredBeforeKill) {
                assertTrue(found.contains(id), "offer " + id + " returned but the message is gone");
            }
        }
    }

    private void start(String cluster, String node, String voters, int base, String mode,
            java.util.function.Consumer<String> lines) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-Djava.net.preferIPv4Stack=true",
                "-cp", System.getProperty("java.class.path"), ClusterChild.class.getName(),
                cluster, node, voters, dir.resolve(node).toString(), Integer.toString(base), mode);
        pb.redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve(node + ".err").toFile()));
        Process p = pb.start();
        children.put(node, p);
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.accept(line);
                }
            } catch (IOException | NumberFormatException e) {
                // the child was killed mid-line
            }
        }, "reader-" + node);
        reader.setDaemon(true);
        reader.start();
    }

}
