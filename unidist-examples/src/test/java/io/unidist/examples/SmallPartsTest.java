package io.unidist.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The settings, the pretend job failures and the end-of-run checks, without a cluster. */
class SmallPartsTest {
    @TempDir
    Path dir;

    @Test
    void argumentsWinOverSystemPropertiesAndDefaultsMakeAOneVoterCluster() {
        ExampleSettings defaults = ExampleSettings.from("--node=web-1");
        assertEquals("web-1", defaults.voters());
        assertEquals("unidist-local.xml", defaults.jgroups());
        assertEquals(Path.of("unidist-data/web-1"), defaults.dataDir());
        assertTrue(defaults.config().isVoter());

        ExampleSettings given = ExampleSettings.from("--node=web-2", "--voters=web-1, web-2,web-3",
                "--jgroups=unidist-tcp.xml", "--data-dir=/var/lib/unidist", "--cluster=ops");
        assertEquals(List.of("web-1", "web-2", "web-3"), given.config().voters());
        assertEquals("ops", given.config().clusterName());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExampleSettings.from("--nodes=x"));
        assertTrue(e.getMessage().contains("unknown setting 'nodes'"), e.getMessage());
    }

    @Test
    void corruptJobsAlwaysFailAndEverySeventhFailsOnce() {
        assertTrue(WorkQueue.fails("job 20 corrupt", 3));
        assertTrue(WorkQueue.fails("job 14", 1));
        assertEquals(false, WorkQueue.fails("job 14", 2));
        assertEquals(false, WorkQueue.fails("job 15", 1));
    }

    @Test
    void checksFindDuplicateIdsAndOverlappingBackups() throws Exception {
        Path a = Files.createDirectories(dir.resolve("a"));
        Path b = Files.createDirectories(dir.resolve("b"));
        Files.writeString(a.resolve(ExampleNode.IDS_FILE), "1\n2\n3\n");
        Files.writeString(b.resolve(ExampleNode.IDS_FILE), "4\n2\n5"); // "5": cut off by a kill, not counted
        Files.writeString(a.resolve(ExampleNode.BACKUPS_FILE),
                "a 1 2030-01-01T00:00:00Z 2030-01-01T00:00:02Z\na 3 2030-01-01T00:00:03Z 2030-01-01T00:00:04Z\n");
        Files.writeString(b.resolve(ExampleNode.BACKUPS_FILE),
                "b 2 2030-01-01T00:00:01Z 2030-01-01T00:00:03Z\n");
        RunChecks checks = RunChecks.of(List.of(a, b), null, List.of());
        assertEquals(5, checks.ids());
        assertEquals(Set.of(2L), checks.duplicates());
        assertEquals(3, checks.backupRuns());
        assertEquals(2, checks.maxConcurrent(), "a run that ends when another starts does not overlap it");
        assertTrue(checks.tokensUnique());

        Instant t = Instant.parse("2030-01-01T00:00:00Z");
        assertEquals(3, RunChecks.maxOverlap(List.of(new RunChecks.Interval(1, t, t.plusSeconds(5)),
                new RunChecks.Interval(2, t.plusSeconds(1), t.plusSeconds(5)),
                new RunChecks.Interval(3, t.plusSeconds(2), t.plusSeconds(3)))));
    }

    @Test
    void aJobAcknowledgedByTwoWorkersIsReported(@TempDir Path dir)
            throws java.io.IOException {
        Path n1 = Files.createDirectories(dir.resolve("n1"));
        Path n2 = Files.createDirectories(dir.resolve("n2"));
        Files.writeString(n1.resolve(ExampleNode.DONE_FILE), "job 1\njob 2\n");
        Files.writeString(n2.resolve(ExampleNode.DONE_FILE), "job 3\njob 2\n");
        RunChecks checks = RunChecks.of(List.of(n1, n2), null, List.of());
        assertEquals(4, checks.jobsDone());
        assertEquals(Set.of("job 2"), checks.doneTwice());
    }

    @Test
    void aJobNeitherDoneNorDeadIsLostUnlessTheKilledWorkerWasAcknowledgingIt() throws Exception {
        Path producer = Files.createDirectories(dir.resolve("n1"));
        Path worker = Files.createDirectories(dir.resolve("n2"));
        Path killed = Files.createDirectories(dir.resolve("v2"));
        Files.writeString(producer.resolve(ExampleNode.PRODUCED_FILE), "job 1\njob 2\njob 3\njob 4\njob 5\njob 10 corrupt\n");
        Files.writeString(worker.resolve(ExampleNode.ACKING_FILE), "job 1\njob 3\n");
        Files.writeString(worker.resolve(ExampleNode.DONE_FILE), "job 1\njob 3\n");
        // the killed worker: job 2 was acked long before the kill and never done (lost); job 4 at the kill
        Files.writeString(killed.resolve(ExampleNode.ACKING_FILE), "job 2\njob 4\n");

        RunChecks checks = RunChecks.of(List.of(producer, worker, killed), killed, List.of("job 10 corrupt", "job 3"));
        assertEquals(6, checks.jobsProduced());
        assertEquals(Set.of("job 2", "job 5"), checks.lost());
        assertEquals(Set.of("job 4"), checks.uncertain());
        assertEquals(Set.of("job 3"), checks.doneAndDead());

        RunChecks noKill = RunChecks.of(List.of(producer, worker, killed), null, List.of("job 10 corrupt"));
        assertEquals(Set.of("job 2", "job 4", "job 5"), noKill.lost(), "without a kill nothing is uncertain");
        assertTrue(noKill.doneAndDead().isEmpty());
    }
}
