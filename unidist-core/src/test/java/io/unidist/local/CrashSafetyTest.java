package io.unidist.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.Delivery;
import io.unidist.MessageQueue;
import io.unidist.SharedState;
import io.unidist.Unidist;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves that nothing acknowledged is lost and nothing is duplicated when the process dies at a
 * random moment: a child JVM writes state entries, queue messages and counter increments and is
 * killed with SIGKILL after a random number of writes, many times over one data directory.
 * After each kill, everything the child was told was written must be there exactly once, and
 * the counter must not be below any value it handed out.
 *
 * <p>Rounds: {@code -Dunidist.crash.rounds=N} (default 8).
 */
@Tag("crash")
class CrashSafetyTest {
    @TempDir
    Path dir;

    @Test
    void killedAtRandomMomentsLosesNothingAcknowledged() throws Exception {
        int rounds = Integer.getInteger("unidist.crash.rounds", 8);
        long seed = Long.getLong("unidist.crash.seed", System.nanoTime());
        Random random = new Random(seed);
        Set<Long> stateWritten = new HashSet<>();
        Set<Long> queueWritten = new HashSet<>();
        long maxCounter = 0;
        long next = 0;
        for (int round = 0; round < rounds; round++) {
            int writesBeforeKill = 20 + random.nextInt(300);
            Process child = startChild(next);
            long lastSeq = next - 1;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null && !line.equals("READY")) {
                    System.err.println("child: " + line);
                }
                assertEquals("READY", line, "child did not start (seed " + seed + ")");
                int lines = 0;
                while (lines < writesBeforeKill * 3 && (line = out.readLine()) != null) {
                    if (!line.matches("[SQC] \\d+")) {
                        System.err.println("child: " + line); // a log line, not a write
                        continue;
                    }
                    long value = Long.parseLong(line.substring(2));
                    switch (line.charAt(0)) {
                        case 'S' -> {
                            stateWritten.add(value);
                            lastSeq = value;
                        }
                        case 'Q' -> queueWritten.add(value);
                        case 'C' -> maxCounter = Math.max(maxCounter, value);
                        default -> throw new AssertionError("unexpected line " + line);
                    }
                    lines++;
                }
                child.destroyForcibly(); // SIGKILL on Unix: no shutdown hook, no flush
                assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            }
            next = lastSeq + 2; // a write in flight at the kill may or may not have landed; never reuse its number
            verify(seed, round, stateWritten, queueWritten, maxCounter);
        }
    }

    private void verify(long seed, int round, Set<Long> stateWritten, Set<Long> queueWritten, long maxCounter)
            throws InterruptedException {
        String where = "seed " + seed + ", round " + round;
        try (Unidist node = Unidist.local(dir)) {
            SharedState<Long> state = node.state("written", Long.class);
            Map<String, Long> snapshot = state.snapshot();
            for (long i : stateWritten) {
                assertEquals(i, snapshot.get("k" + i), "state entry " + i + " was acknowledged but is gone (" + where + ")");
            }
            MessageQueue<Long> queue = node.queue("written", Long.class);
            Set<Long> found = new HashSet<>();
            long size = queue.size();
            Optional<Delivery<Long>> d;
            while ((d = queue.poll(Duration.ZERO)).isPresent()) {
                assertTrue(found.add(d.get().message()), "message " + d.get().message() + " is in the queue twice (" + where + ")");
                d.get().ack();
            }
            assertEquals(size, found.size());
            assertTrue(found.containsAll(queueWritten), "acknowledged messages lost (" + where + ")");
            queueWritten.clear(); // consumed: the next round checks its own messages
            long counter = node.counter("ids").get();
            assertTrue(counter >= maxCounter, "counter " + counter + " is below " + maxCounter
                    + ", which it already handed out (" + where + ")");
        }
    }

    private Process startChild(long start) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                CrashChild.class.getName(), dir.toString(), Long.toString(start));
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        return pb.start();
    }
}
