package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fault-injection suite in one JVM: every primitive under a workload from every node while
 * a nemesis partitions (halves, a lone leader, a bridge), crashes and restarts nodes, loses,
 * delays, duplicates and reorders messages, and stalls nodes; then the checkers over the
 * recorded histories. What it proves: no checker finds an anomaly under any of these faults,
 * for the seed it prints.
 *
 * <p>{@code mvn verify} runs a short mix (every kind of fault once, about 45 s of load in one JVM and 15 s in processes). The long run:
 * <pre>
 * mvn -B -pl unidist-cluster -am test -Dtest=FaultSuiteTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dunidist.fault.duration=30m -Dunidist.fault.report=fault-report.md
 * </pre>
 * Other properties: {@code unidist.fault.seed} (replay a run), {@code unidist.fault.kinds}
 * (a comma-separated subset of {@link Nemesis.Kind}, e.g. {@code pause,crash-leader}).
 */
class FaultSuiteTest {
    private static final Logger log = LoggerFactory.getLogger(FaultSuiteTest.class);

    @TempDir
    Path dir;

    @Test
    void everyPrimitiveStaysCorrectUnderAMixOfEveryFault() throws Exception {
        Set<Nemesis.Kind> kinds = System.getProperty("unidist.fault.kinds") == null
                ? FaultRun.IN_JVM : FaultRun.kinds(System.getProperty("unidist.fault.kinds"));
        FaultRun.Settings settings = settings("unidist.fault.duration", "30s").withKinds(kinds);
        FaultReport report;
        try (FaultRun run = FaultRun.start(settings, dir)) {
            report = run.run();
        }
        verdict(report, settings, kinds, "unidist.fault.report", "target/fault-report.md");
        if (kinds.contains(Nemesis.Kind.PARTITION_LONE_LEADER)) {
            // the cut is real: calls on the leader's side failed for want of a quorum
            long unavailable = report.availability().entrySet().stream()
                    .filter(e -> e.getKey().startsWith("partition"))
                    .flatMap(e -> e.getValue().values().stream())
                    .mapToLong(c -> c.get(FaultWorkload.Outcome.UNAVAILABLE)).sum();
            assertTrue(unavailable > 0, "no call failed for want of a quorum during a partition (seed "
                    + settings.seed() + ")");
        }
    }

    /**
     * The same workload and checkers with every node in a process of its own on 127.0.0.1: kill -9
     * and restarts, the leader's kill -9, and real stalls (SIGSTOP, SIGCONT). Long run:
     * {@code -Dunidist.fault.process_duration=30m -Dunidist.fault.process_report=FILE}.
     */
    @Test
    void everyPrimitiveStaysCorrectWhenProcessesAreKilledRestartedAndStalled() throws Exception {
        FaultRun.Settings settings = settings("unidist.fault.process_duration", "12s").withNodes(3, 1);
        // a restart costs a JVM start and a join (about 15 s on 2 cores): the short run of mvn verify
        // kills the leader and every node, the long one also a minority of the voters
        settings = settings.withKinds(settings.duration().compareTo(Duration.ofMinutes(1)) < 0
                ? java.util.EnumSet.of(Nemesis.Kind.CRASH_LEADER, Nemesis.Kind.CRASH_ALL, Nemesis.Kind.PAUSE)
                : FaultProcesses.KINDS);
        FaultReport report;
        try (FaultProcesses run = FaultProcesses.start(settings, Files.createDirectories(dir.resolve("processes")))) {
            report = run.run();
        }
        verdict(report, settings, settings.kinds(), "unidist.fault.process_report",
                "target/fault-report-processes.md");
        // the nodes left standing went on: calls begun while the leader was down succeeded
        long ok = report.availability().getOrDefault("crash leader", Map.of()).values().stream()
                .mapToLong(c -> c.get(FaultWorkload.Outcome.OK)).sum();
        assertTrue(ok > 0, "no call succeeded while the killed leader was down (seed " + settings.seed() + ")");
    }

    private static FaultRun.Settings settings(String durationProperty, String defaultDuration) {
        long seed = Long.getLong("unidist.fault.seed", FaultRun.newSeed());
        Duration duration = Duration.parse("PT" + System.getProperty(durationProperty, defaultDuration)
                .toUpperCase(java.util.Locale.ROOT));
        log.info("fault suite: seed {} (replay with -Dunidist.fault.seed={})", seed, seed);
        FaultRun.Settings settings = FaultRun.Settings.of(seed, duration);
        // the short mix of mvn verify: each fault just past the 3 s failure detection; long runs hold them longer
        return duration.compareTo(Duration.ofMinutes(1)) < 0
                ? settings.withPace(Duration.ofMillis(3500), Duration.ofMillis(500)) : settings;
    }

    /** Writes the report, then: no anomaly, every kind of fault applied, every checker fed. */
    private static void verdict(FaultReport report, FaultRun.Settings settings, Set<Nemesis.Kind> kinds,
            String reportProperty, String defaultFile) throws java.io.IOException {
        Path out = Path.of(System.getProperty(reportProperty, defaultFile));
        Files.writeString(out, report.markdown());
        log.info("fault suite: report in {}", out.toAbsolutePath());
        long seed = settings.seed();
        assertNull(report.failure(), report.failure());
        Set<Nemesis.Kind> applied = report.events().stream().map(Nemesis.Event::kind).collect(Collectors.toSet());
        assertEquals(kinds, applied, "every kind of fault was applied at least once (seed " + seed + ")");
        for (String checker : FaultHistories.CHECKERS) {
            assertTrue(report.recorded().getOrDefault(checker, 0) >= FaultRun.ENOUGH_OPERATIONS, "the " + checker + " checker read only "
                    + report.recorded().get(checker) + " operations (seed " + seed + ")");
        }
    }
}
