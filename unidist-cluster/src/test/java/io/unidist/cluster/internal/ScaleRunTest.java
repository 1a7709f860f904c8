package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A short {@link ScaleRun} in one JVM: 20 nodes (3 voters, 17 non-voters) start together, every
 * node sees every member and makes a first call, the paced workload over every primitive runs
 * from every node, the leader crashes under it, and the checkers read every history. What it
 * proves: a cluster formed by concurrent joins serves every node, the histories of all of them
 * are linearizable through a leader's crash, and a non-voter is served again within 5 s of it.
 * The run of 10 to 200 nodes and in processes is {@link ScaleRun}'s (docs/SCALE.md).
 */
class ScaleRunTest {
    @Test
    void twentyNodesFormServeEveryNodeAndStayCorrectThroughALeadersCrash() throws Exception {
        // no idle window or warm-up, and three times the calls of a full run: enough for every checker in 2 s
        ScaleRun.Settings settings = ScaleRun.Settings.defaults().with(Duration.ZERO, Duration.ZERO,
                Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofMillis(50), Duration.ofMillis(150));
        ScaleResult r = ScaleInJvm.run(20, settings);
        assertTrue(r.passed(), () -> "checkers: " + r.verdict() + "\n" + r.figures);
        String next = r.figures.get("failover: kill → next successful call of a non-voter (ms)");
        assertTrue(!next.equals("none") && Long.parseLong(next.replace(",", "")) < 5_000,
                () -> "a non-voter's next call after the leader's crash: " + next + " ms\n" + r.figures);
    }
}
