package io.unidist.examples;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.MessageQueue;
import io.unidist.Subscription;
import ch.qos.logback.classic.LoggerContext;
import io.unidist.Unidist;
import io.unidist.logging.LogForwarding;
import io.unidist.logging.UnidistLogging;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/** The example programs' logic, on one voter and two other nodes in this JVM ({@code unidist-jvm.xml}). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProgramsTest {
    @TempDir
    static Path dir;
    private JvmCluster cluster;
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @BeforeAll
    void start() {
        cluster = new JvmCluster(dir, 2);
    }

    @AfterAll
    void stop() {
        threads.shutdownNow();
        cluster.close();
    }

    @Test
    void idsFromEveryNodeAreAllDifferent() throws Exception {
        List<Future<List<Long>>> takers = new ArrayList<>();
        for (Unidist node : cluster.nodes()) {
            takers.add(threads.submit(() -> {
                List<Long> ids = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    ids.add(UniqueJobIds.nextId(node));
                }
                return ids;
            }));
        }
        Set<Long> all = new HashSet<>();
        for (Future<List<Long>> f : takers) {
            for (long id : f.get()) {
                assertTrue(all.add(id), "id " + id + " was handed out twice");
            }
        }
        assertEquals(150, all.size());
    }

    @Test
    void workersRetryAFlakyJobAndDeadLetterACorruptOne() throws InterruptedException {
        Unidist producer = cluster.node(1);
        MessageQueue<String> work = WorkQueue.queue(producer);
        work.offer("job 3");        // succeeds at once
        work.offer("job 7");        // fails on its first attempt, then succeeds
        work.offer("job 10 corrupt"); // fails every attempt: a dead letter after 3
        long doneBefore = producer.counter(WorkQueue.DONE).get();
        long failedBefore = producer.counter(WorkQueue.FAILED).get();
        Future<?> w1 = threads.submit(worker(cluster.node(0)));
        Future<?> w2 = threads.submit(worker(cluster.node(2)));
        MessageQueue<String> dead = producer.queue(WorkQueue.QUEUE + ".dead", String.class);
        await().atMost(Duration.ofSeconds(30)).until(() -> dead.size() == 1
                && producer.counter(WorkQueue.DONE).get() == doneBefore + 2);
        w1.cancel(true);
        w2.cancel(true);
        assertEquals(failedBefore + 1 + WorkQueue.OPTIONS.maxAttempts(), producer.counter(WorkQueue.FAILED).get());
        assertEquals(0, work.size());
        assertEquals("job 10 corrupt", dead.poll(Duration.ZERO).orElseThrow().message());
    }

    private static Callable<Void> worker(Unidist node) {
        return () -> {
            WorkQueue.work(node, Duration.ZERO, job -> { });
            return null;
        };
    }

    @Test
    void neverMoreThanTwoBackupsAtOnceAndTheStorageRefusesAStaleToken() throws Exception {
        FencedDirectory storage = new FencedDirectory(dir.resolve("backups"));
        List<Future<List<RunChecks.Interval>>> hosts = new ArrayList<>();
        for (Unidist node : cluster.nodes()) {
            hosts.add(threads.submit(() -> {
                List<RunChecks.Interval> runs = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    RollingBackup.backupOnce(node, storage, Duration.ofSeconds(20), Duration.ofMillis(200))
                            .ifPresent(r -> runs.add(new RunChecks.Interval(r.fencingToken(), r.start(), r.end())));
                }
                return runs;
            }));
        }
        List<RunChecks.Interval> all = new ArrayList<>();
        for (Future<List<RunChecks.Interval>> f : hosts) {
            all.addAll(f.get());
        }
        assertEquals(9, all.size(), "every backup got a permit within its wait");
        assertTrue(RunChecks.maxOverlap(all) <= RollingBackup.AT_ONCE, "more than two backups ran at once");
        assertEquals(9, all.stream().map(RunChecks.Interval::token).distinct().count());

        long newest = storage.newestToken("v1");
        assertTrue(newest > 0);
        java.io.IOException refused = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> storage.write("v1", newest - 1, "a stale writer"));
        assertTrue(refused.getMessage().contains("stale fencing token " + (newest - 1)), refused.getMessage());
    }

    @Test
    void aHostThatStopsRenewingLeavesTheBoardAndWatchersHearIt() {
        Unidist publisher = cluster.node(1);
        Unidist watcher = cluster.node(2);
        Map<String, Optional<String>> heard = new ConcurrentHashMap<>();
        Subscription watching = StatusBoard.watch(watcher, heard::put);
        try {
            StatusBoard.board(publisher).put("host-a", "up 1 s", StatusBoard.TTL);
            await().atMost(Duration.ofSeconds(10)).until(() -> heard.getOrDefault("host-a", Optional.empty()).isPresent());
            // not renewed: the entry expires after the TTL, and the watcher hears an empty status
            await().atMost(StatusBoard.TTL.plusSeconds(10)).until(() -> heard.get("host-a").isEmpty());
        } finally {
            watching.close();
        }
        assertFalse(StatusBoard.board(watcher).snapshot().containsKey("host-a"));
    }

    @Test
    void everyHostsHeartbeatsEndUpInTheCollectorsFiles() throws Exception {
        List<LogForwarding> forwardings = new ArrayList<>();
        List<LoggerContext> contexts = new ArrayList<>();
        List<Future<?>> beats = new ArrayList<>();
        try {
            for (Unidist node : cluster.nodes()) {
                // each node its own logging set-up, as each host has in a real cluster
                Properties p = new Properties();
                p.setProperty("unidist.logging.dir", dir.resolve("logs-" + node.nodeName()).toString());
                p.setProperty("unidist.program", node.nodeName());
                p.setProperty("unidist.logging.console", "false");
                LoggerContext context = new LoggerContext();
                UnidistLogging.configure(context, p);
                contexts.add(context);
                forwardings.add(LogForwarding.start(node, context));
                Logger out = context.getLogger(CentralLogging.class);
                beats.add(threads.submit(() -> {
                    CentralLogging.run(node, out, Duration.ofMillis(50));
                    return null;
                }));
            }
            LogForwarding collector = forwardings.stream()
                    .filter(LogForwarding::isCollector).findFirst().orElseThrow();
            Set<String> hosts = cluster.nodes().stream().map(Unidist::nodeName).collect(Collectors.toSet());
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> CentralLogs.read(collector.collectedDir()).hosts().containsAll(hosts));
            for (String host : hosts) {
                String collected = Files.readString(
                        collector.collectedDir().resolve("collected." + host + ".main.jsonl"));
                assertTrue(collected.contains("heartbeat 1 from " + host), collected);
            }
        } finally {
            beats.forEach(b -> b.cancel(true));
            forwardings.forEach(LogForwarding::close);
            contexts.forEach(LoggerContext::stop);
        }
    }
}
