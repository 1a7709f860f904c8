package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.ClusterUnavailableException;
import io.unidist.Delivery;
import io.unidist.MessageQueue;
import io.unidist.QueueOptions;
import io.unidist.SharedState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
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
 * State buckets and queues under faults, in one JVM: a work queue whose consumers crash
 * mid-message, a leader crash during offers and polls, and a state history under a leader
 * crash and a partition checked for linearizability per key.
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

    @Test
    void aLeaderCrashDuringOffersAndPollsLosesNoOfferAndRedeliversNoAcknowledgedMessage() throws Exception {
        cluster = TestCluster.start(dir, 3, 2);
        String leader = cluster.awaitLeader();
        // a delivery whose reply is lost in the crash is held until its visibility timeout ends:
        // a short one lets the final drain see it again instead of calling it lost
        QueueOptions opts = QueueOptions.defaults().withVisibilityTimeout(Duration.ofSeconds(3));
        MessageQueue<Integer> producer = cluster.node("n1").queue("q", Integer.class, opts);
        MessageQueue<Integer> consumer = cluster.node("n2").queue("q", Integer.class, opts);
        Set<Integer> offered = ConcurrentHashMap.newKeySet();
        Set<Integer> acked = ConcurrentHashMap.newKeySet();
        Set<Integer> ackUnknown = ConcurrentHashMap.newKeySet();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicInteger redeliveredAfterAck = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        Future<?> p = pool.submit(() -> {
            for (int i = 0; !stop.get(); i++) {
                try {
                    producer.offer(i);
                    offered.add(i);
                } catch (ClusterUnavailableException e) {
                    failures.add("offer " + i + ": " + e.getMessage());
                }
            }
            return null;
        });
        Future<?> c = pool.submit(() -> {
            while (!stop.get()) {
                Optional<Delivery<Integer>> d;
                try {
                    d = consumer.poll(WAIT);
                } catch (ClusterUnavailableException | IllegalStateException e) {
                    failures.add("poll: " + e);
                    continue; // unknown outcome: the message stays or comes back after the visibility timeout
                }
                if (d.isEmpty()) {
                    continue;
                }
                int m = d.get().message();
                if (acked.contains(m)) {
                    redeliveredAfterAck.incrementAndGet();
                }
                try {
                    d.get().ack();
                    acked.add(m);
                } catch (ClusterUnavailableException e) {
                    ackUnknown.add(m); // removed or not: either is correct
                    failures.add("ack " + m + ": " + e.getMessage());
                } catch (IllegalStateException e) {
                    failures.add("ack " + m + ": " + e.getMessage()); // superseded: it comes back
                }
            }
            return null;
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> alive(p, c) && acked.size() >= 50);
        cluster.crash(leader);
        int atCrash = acked.size();
        await().atMost(Duration.ofSeconds(60)).until(() -> alive(p, c) && acked.size() >= atCrash + 50);
        stop.set(true);
        p.get(60, TimeUnit.SECONDS);
        c.get(60, TimeUnit.SECONDS);
        Set<Integer> left = new HashSet<>();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            Optional<Delivery<Integer>> d;
            while ((d = consumer.poll(Duration.ofMillis(200))).isPresent()) {
                if (acked.contains(d.get().message())) {
                    redeliveredAfterAck.incrementAndGet();
                }
                left.add(d.get().message());
                d.get().ack();
            }
            List<Integer> lost = offered.stream()
                    .filter(i -> !acked.contains(i) && !left.contains(i) && !ackUnknown.contains(i)).sorted().toList();
            assertTrue(lost.isEmpty(), "offered but neither acknowledged nor left: " + lost + "; errors seen: " + failures);
        });
        assertEquals(0, redeliveredAfterAck.get(), "an acknowledged message was handed out again; " + failures);
    }

    /** Fails the wait at once with a worker's own exception instead of a bare timeout. */
    private static boolean alive(Future<?>... workers) throws Exception {
        for (Future<?> w : workers) {
            if (w.isDone()) {
                w.get();
                throw new AssertionError("a worker stopped early");
            }
        }
        return true;
    }

    @Test
    void stateHistoryUnderALeaderCrashAndAPartitionIsLinearizablePerKey() throws Exception {
        cluster = TestCluster.start(dir, 3, 2, Duration.ofSeconds(3));
        String leader = cluster.awaitLeader();
        List<String> clients = new ArrayList<>(List.of("n1", "n2"));
        cluster.voters().stream().filter(v -> !v.equals(leader)).forEach(clients::add);
        RegisterHistory history = new RegisterHistory();
        AtomicInteger done = new AtomicInteger();
        AtomicInteger unique = new AtomicInteger();
        List<Future<?>> workers = new ArrayList<>();
        for (String name : clients) {
            SharedState<String> s = cluster.node(name).state("reg", String.class);
            long seed = name.hashCode();
            workers.add(pool.submit(() -> {
                Random random = new Random(seed);
                String lastSeen = null;
                for (int i = 0; i < 48; i++) {
                    String key = "k" + random.nextInt(8);
                    String value = name + "-" + unique.incrementAndGet();
                    long start = System.nanoTime();
                    int choice = random.nextInt(3);
                    try {
                        if (choice == 0) {
                            s.put(key, value);
                            history.put(key, start, System.nanoTime(), value);
                        } else if (choice == 1 && lastSeen != null) {
                            boolean ok = s.replace(key, lastSeen, value);
                            history.replace(key, start, System.nanoTime(), lastSeen, value, ok);
                        } else {
                            String seen = s.get(key).orElse(null);
                            history.get(key, start, System.nanoTime(), seen);
                            lastSeen = seen;
                        }
                    } catch (ClusterUnavailableException e) {
                        if (choice == 0) {
                            history.putUnknown(key, start, value);
                        } else if (choice == 1 && lastSeen != null) {
                            history.replaceUnknown(key, start, lastSeen, value);
                        }
                    }
                    done.incrementAndGet();
                }
                return null;
            }));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> done.get() >= 40);
        cluster.crash(leader);
        await().atMost(Duration.ofSeconds(60)).until(() -> done.get() >= 80);
        cluster.partition(Set.of("n2"));
        await().atMost(Duration.ofSeconds(60)).until(() -> done.get() >= 120);
        cluster.heal();
        for (Future<?> f : workers) {
            f.get(180, TimeUnit.SECONDS);
        }
        assertNull(history.check());
        assertTrue(history.size() >= 150);
    }
}
