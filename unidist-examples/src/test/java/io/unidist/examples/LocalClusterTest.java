package io.unidist.examples;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local example cluster, as a newcomer runs it but short (20 s of work): five JVMs on
 * 127.0.0.1, one of them killed halfway. Proves from the launcher's output that the kill was
 * announced, that ids were handed out and jobs done after it, that no id was handed out twice,
 * that every job offered was done once or became a dead letter, and that no node process outlives
 * the launcher.
 */
@Tag("multiprocess")
class LocalClusterTest {
    private static final Pattern STARTED = Pattern.compile("^started (\\S+) \\((?:voter|non-voter), pid (\\d+)\\)");
    private static final Pattern KILLED = Pattern.compile("KILLED (\\S+) \\(pid (\\d+)\\) with SIGKILL");

    @TempDir
    Path dir;
    private Process launcher;
    private final List<String> output = new CopyOnWriteArrayList<>();
    private final Map<String, ProcessHandle> nodes = new ConcurrentHashMap<>();

    @AfterEach
    void leaveNothingRunning() {
        if (launcher != null) {
            launcher.destroyForcibly();
        }
        nodes.values().forEach(ProcessHandle::destroyForcibly);
    }

    @Test
    void aShortRunKillsOneNodeAndTheClusterCarriesOn() throws Exception {
        launch("--seconds=20", "--kill=voter");

        assertTrue(launcher.waitFor(160, TimeUnit.SECONDS), "the launcher did not end:\n" + String.join("\n", output));
        // the reader thread reaches the end of the output soon after the launcher ended
        await().atMost(Duration.ofSeconds(5)).until(() -> output.stream().anyMatch(l -> l.startsWith("  backup-target/")));
        String all = String.join("\n", output);
        assertEquals(0, launcher.exitValue(), all);

        List<Long> startedPids = output.stream().map(STARTED::matcher).filter(Matcher::find)
                .map(m -> Long.parseLong(m.group(2))).toList();
        assertEquals(5, startedPids.size(), all);
        assertTrue(nodes.keySet().containsAll(startedPids.stream().map(String::valueOf).toList()), all);
        Matcher killed = KILLED.matcher(all);
        assertTrue(killed.find(), "no kill announced:\n" + all);
        assertTrue(List.of("v1", "v2", "v3").contains(killed.group(1)), all);

        assertTrue(grew("ids handed out \\(counter job-ids\\)", all), "no new ids after the kill:\n" + all);
        assertTrue(grew("jobs done", all), "no jobs done after the kill:\n" + all);
        assertTrue(all.contains("duplicates: none"), all);
        assertTrue(all.contains("acknowledged twice: none"), all);
        assertTrue(all.contains("the queue is empty: every job is done or a dead letter"), all);
        assertTrue(all.contains("not done and not a dead letter: none"), "a job was lost:\n" + all);
        assertTrue(Pattern.compile("jobs offered by the producer: [1-9]").matcher(all).find(), all);
        assertTrue(all.contains("central logs: records from 5 hosts [n1, n2, v1, v2, v3]"), "every host in the collectors' files:\n" + all);
        assertTrue(Pattern.compile("\\| collector v[123] \\|").matcher(all).find(),
                "the summary names the log collector:\n" + all);
        assertTrue(all.contains("checks: all passed"), all);
        for (ProcessHandle node : nodes.values()) {
            assertFalse(node.isAlive(), "node process " + node.pid() + " is still running");
        }
    }

    @Test
    void stoppingTheLauncherStopsEveryNode() throws Exception {
        launch("--seconds=300", "--kill=none");
        await().atMost(Duration.ofSeconds(120)).until(() -> output.stream().anyMatch(l -> l.contains("the cluster answers")));

        // SIGTERM, like Ctrl-C's SIGINT: the JVM runs its shutdown hooks (the handle, unlike Process, keeps our end of its output open)
        launcher.toHandle().destroy();
        assertTrue(launcher.waitFor(60, TimeUnit.SECONDS), "the launcher did not end:\n" + String.join("\n", output));
        await().atMost(Duration.ofSeconds(10)).until(() -> nodes.values().stream().noneMatch(ProcessHandle::isAlive));
        assertEquals(5, nodes.size());
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> output.stream().anyMatch(l -> l.startsWith("stopped every node")));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("the launcher did not say it stopped the nodes:\n" + String.join("\n", output), e);
        }
    }

    /** Starts the launcher with {@code options} and waits for its five node processes. */
    private void launch(String... options) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>(List.of(java, "-Xmx256m", "-Djava.net.preferIPv4Stack=true",
                "-cp", System.getProperty("java.class.path"), LocalCluster.class.getName(), "--dir=" + dir));
        command.addAll(List.of(options));
        launcher = new ProcessBuilder(command).redirectErrorStream(true).start();
        readOutput();
        // the node processes, by handle (a handle knows its process's start time: a reused pid is not it)
        await().atMost(Duration.ofSeconds(30)).until(() -> launcher.descendants().count() >= 5);
        launcher.descendants().forEach(p -> nodes.put(Long.toString(p.pid()), p));
    }

    /** Whether the final summary's row {@code label} is larger at the end than at the kill. */
    private static boolean grew(String label, String all) {
        Matcher m = Pattern.compile(label + "\\s+(\\d+)\\s+(\\d+)").matcher(all);
        return m.find() && Long.parseLong(m.group(2)) > Long.parseLong(m.group(1));
    }

    private void readOutput() {
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(launcher.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    output.add(line);
                }
            } catch (IOException e) {
                output.add("(reading the launcher's output failed: " + e + ")");
            }
        }, "launcher-output");
        reader.setDaemon(true);
        reader.start();
    }
}
