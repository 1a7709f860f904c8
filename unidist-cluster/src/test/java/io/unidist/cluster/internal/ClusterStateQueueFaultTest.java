package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.Delivery;
import io.unidist.MessageQueue;
import io.unidist.QueueOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Queues under faults, in one JVM: a work queue whose consumers crash mid-message, with
 * poison messages that end in the dead-letter queue. (State and queue histories under leader
 * crashes, partitions and every other fault are checked by {@code FaultSuiteTest}.)
 */
@Tag("faults")
class ClusterStateQueueFaultTest {
    private static final Duration WAIT = Duration.ofSeconds(2);

    @TempDir
    Path dir;
    private TestCluster cluster;
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        pool.shutdownNow();
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aWorkQueueAcrossNodesAcknowledgesEveryJobOnceDespiteCrashingConsumers() throws Exception {
        cluster = TestCluster.start(dir, 3, 3);
        QueueOptions opts = QueueOptions.defaults().withMaxAttempts(2).withVisibilityTimeout(Duration.ofSeconds(20));
        int perProducer = 60;
        Set<String> acked = ConcurrentHashMap.newKeySet();
        AtomicInteger ackedTwice = new AtomicInteger();
        // a consumer that takes a job and dies before acknowledging it
        MessageQueue<String> doomed = cluster.node("n3").queue("jobs", String.class, opts);
        List<Future<?>> tasks = new ArrayList<>();
        for (String producer : List.of("n1", "n2")) {
            MessageQueue<String> q = cluster.node(producer).queue("jobs", String.class, opts);
            tasks.add(pool.submit(() -> {
                for (int i = 0; i < perProducer; i++) {
                    q.offer(producer + "-job-" + i);
                }
                q.offer(producer + "-poison");
                return null;
            }));
        }
        Delivery<String> taken = doomed.poll(Duration.ofSeconds(10)).orElseThrow();
        cluster.crash("n3"); // taken is never acknowledged: it must be delivered again at once
        AtomicBoolean producersDone = new AtomicBoolean();
        for (String consumer : List.of("v2", "v3", "n1")) {
            MessageQueue<String> q = cluster.node(consumer).queue("jobs", String.class, opts);
            tasks.add(pool.submit(() -> {
                while (true) {
                    Optional<Delivery<String>> d = q.poll(WAIT);
                    if (d.isEmpty()) {
                        if (producersDone.get() && q.size() == 0) {
                            return null;
                        }
                        continue;
                    }
                    if (d.get().message().endsWith("poison")) {
                        d.get().nack();
                        continue;
                    }
                    d.get().ack();
                    if (!acked.add(d.get().message())) {
                        ackedTwice.incrementAndGet();
                    }
                }
            }));
        }
        tasks.get(0).get(60, TimeUnit.SECONDS);
        tasks.get(1).get(60, TimeUnit.SECONDS);
        producersDone.set(true);
        for (Future<?> f : tasks) {
            f.get(120, TimeUnit.SECONDS);
        }
        assertEquals(0, ackedTwice.get());
        assertEquals(2 * perProducer, acked.size(), "every job acknowledged once");
        assertTrue(acked.contains(taken.message()) || taken.message().endsWith("poison"),
                "the crashed consumer's job was delivered again");
        MessageQueue<String> dead = cluster.node("v2").queue("jobs.dead", String.class);
        Set<String> corpses = new HashSet<>();
        Optional<Delivery<String>> d;
        while ((d = dead.poll(Duration.ZERO)).isPresent()) {
            corpses.add(d.get().message());
            d.get().ack();
        }
        assertEquals(Set.of("n1-poison", "n2-poison"), corpses);
        assertEquals(0, cluster.node("v2").queue("jobs", String.class).size());
    }
}
