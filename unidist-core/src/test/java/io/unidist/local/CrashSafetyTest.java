package io.unidist.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
import java.util.HashMap;
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
 * random moment: a child JVM ({@link CrashChild}) overwrites state entries, offers, consumes and
 * acknowledges queue messages and increments a counter, and is killed with SIGKILL after a
 * random number of writes, many times over one data directory. After each kill:
 * <ul>
 *   <li>every state key holds the last value the child was told was written, or the one write
 *       in flight at the kill (keys are overwritten, so a lost or replayed-twice write shows);</li>
 *   <li>every message offered is either acknowledged or still in the queue, once; no message
 *       whose ack returned is in the queue or is ever delivered again; none is acknowledged
 *       twice; and the effect of every acknowledged message is in the bucket {@code done};</li>
 *   <li>the counter is not below any value it handed out.</li>
 * </ul>
 *
 * <p>Rounds: {@code -Dunidist.crash.rounds=N} (default 10, about 30 s); seed: {@code -Dunidist.crash.seed}.
 */
@Tag("crash")
class CrashSafetyTest {
    @TempDir
    Path dir;

    /** What the child was told, accumulated over all rounds, and checked after each kill. */
    private final Map<String, Long> stateWritten = new HashMap<>();
    private final Set<Long> offered = new HashSet<>();
    private final Set<Long> acked = new HashSet<>();
    /** Delivered, ack not returned: at a kill, an ack that may or may not have landed. */
    private final Set<Long> ackPending = new HashSet<>();
    private long maxCounter;
    private long lastSeq = -1;

    @Test
    void killedAtRandomMomentsLosesNothingAcknowledged() throws Exception {
        int rounds = Integer.getInteger("unidist.crash.rounds", 10);
        long seed = Long.getLong("unidist.crash.seed", System.nanoTime());
        Random random = new Random(seed);
        long next = 0;
        for (int round = 0; round < rounds; round++) {
            String where = "seed " + seed + ", round " + round;
            runChildUntilKilled(next, 20 + random.nextInt(300), where);
            next = lastSeq + 2; // a write in flight at the kill may or may not have landed; never reuse its number
            verify(where);
        }
        assertTrue(acked.size() > rounds, "the child acknowledged only " + acked.size() + " messages");
    }

    /**
     * Kills the child after it reported {@code writesBeforeKill} state writes, then reads what
     * it printed before it died: it runs on between the parent's last read and the kill, and
     * those steps count too. Each line is one write to the pipe, so none is cut in two.
     */
    private void runChildUntilKilled(long start, int writesBeforeKill, String where) throws IOException, InterruptedException {
        Process child = startChild(start);
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null && !line.equals("READY")) {
                System.err.println("child: " + line);
            }
            assertEquals("READY", line, "child did not start (" + where + ")");
            int writes = 0;
            while (writes < writesBeforeKill && (line = out.readLine()) != null) {
                if (take(line, where)) {
                    writes++;
                }
            }
            // SIGKILL on Unix: no shutdown hook, no flush. Through the handle, because
            // Process.destroyForcibly also closes the pipe that still holds the last lines.
            child.toHandle().destroyForcibly();
            while ((line = out.readLine()) != null) { // until the pipe closes with the child
                take(line, where);
            }
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        }
    }

    /** Takes in one line of the child's; returns whether it was a state write. */
    private boolean take(String line, String where) {
        if (!line.matches("[SQPAC] \\d+")) {
            System.err.println("child: " + line); // a log line, not a step
            return false;
        }
        return record(line.charAt(0), Long.parseLong(line.substring(2)), where);
    }

    /** Takes in one step the child reported; returns whether it was a state write. */
    private boolean record(char step, long value, String where) {
        switch (step) {
            case 'S' -> {
                stateWritten.put(key(value), value);
                lastSeq = value;
                return true;
            }
            case 'Q' -> offered.add(value);
            case 'P' -> {
                if (acked.contains(value)) {
                    fail("message " + value + " was delivered again after its ack returned (" + where + ")");
                }
                ackPending.add(value);
            }
            case 'A' -> {
                assertTrue(acked.add(value), "message " + value + " was acknowledged twice (" + where + ")");
                ackPending.remove(value);
            }
            case 'C' -> maxCounter = Math.max(maxCounter, value);
            default -> throw new AssertionError("unexpected step " + step);
        }
        return false;
    }

    private void verify(String where) throws InterruptedException {
        try (Unidist node = Unidist.local(dir)) {
            verifyState(node.state("written", Long.class).snapshot(), where);
            Set<Long> queued = drainWithoutAck(node.queue("written", Long.class, CrashChild.QUEUE_OPTIONS), where);
            for (long m : ackPending) {
                if (!queued.contains(m)) {
                    acked.add(m); // its ack landed before the kill
                }
            }
            ackPending.clear();
            for (long m : offered) {
                assertTrue(acked.contains(m) || queued.contains(m), "message " + m + " was offered but is gone (" + where + ")");
                assertTrue(!(acked.contains(m) && queued.contains(m)), "message " + m + " is queued after its ack (" + where + ")");
            }
            SharedState<Long> done = node.state("done", Long.class);
            for (long m : acked) {
                assertEquals(m, done.get("m" + m).orElse(null), "the effect of acknowledged message " + m + " is gone (" + where + ")");
            }
            long counter = node.counter("ids").get();
            assertTrue(counter >= maxCounter, "counter " + counter + " is below " + maxCounter
                    + ", which it already handed out (" + where + ")");
        } // closing without acks: every message polled here is deliverable again to the next child
    }

    /** Every key holds the last value written to it, or the one write in flight at the kill. */
    private void verifyState(Map<String, Long> found, String where) {
        long inFlight = lastSeq + 1;
        assertTrue(found.size() <= CrashChild.KEYS, "keys " + found.keySet() + " (" + where + ")");
        for (int k = 0; k < CrashChild.KEYS; k++) {
            String key = "k" + k;
            Long actual = found.get(key);
            Long expected = stateWritten.get(key);
            boolean inFlightLanded = key.equals(key(inFlight)) && actual != null && actual == inFlight;
            if (!inFlightLanded) {
                assertEquals(expected, actual, key + " must hold the last value written to it (" + where + ")");
            }
            if (actual == null) {
                assertNull(expected);
            } else {
                stateWritten.put(key, actual);
            }
        }
    }

    /** Polls every deliverable message once, failing on a duplicate; acknowledges none. */
    private static Set<Long> drainWithoutAck(MessageQueue<Long> queue, String where) throws InterruptedException {
        Set<Long> found = new HashSet<>();
        long size = queue.size();
        Optional<Delivery<Long>> d;
        while ((d = queue.poll(Duration.ZERO)).isPresent()) {
            assertTrue(found.add(d.get().message()), "message " + d.get().message() + " is in the queue twice (" + where + ")");
        }
        assertEquals(size, found.size(), "messages not acknowledged (" + where + ")");
        return found;
    }

    private static String key(long seq) {
        return "k" + (seq % CrashChild.KEYS);
    }

    private Process startChild(long start) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                CrashChild.class.getName(), dir.toString(), Long.toString(start));
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        return pb.start();
    }
}
