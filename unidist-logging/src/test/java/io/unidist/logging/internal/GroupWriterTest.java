package io.unidist.logging.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The group write protocol on its own, with two lanes whose sinks record what they were given:
 * a call returns only once every lane wrote its record; records that arrive while a lane is
 * writing go out together in its next batch; many threads at once get every record written
 * exactly once per lane, in one order shared by the lanes, each lane by one thread at a time;
 * a failing sink releases every waiting thread and the lanes go on.
 */
class GroupWriterTest {

    /** One record: who logged it and its number. */
    static final class Item extends GroupWriter.Entry {
        String id;
    }

    /** A lane's sink that keeps every batch; may be held at its first batch and may fail on one record. */
    static final class RecordingSink implements GroupWriter.Sink<Item> {
        final List<List<String>> batches = new CopyOnWriteArrayList<>();
        final Set<String> written = ConcurrentHashMap.newKeySet();
        final AtomicInteger inside = new AtomicInteger();
        final AtomicBoolean overlapped = new AtomicBoolean();
        final CountDownLatch firstBatchEntered = new CountDownLatch(1);
        volatile CountDownLatch holdFirstBatch;
        volatile String failOn;

        @Override
        public void write(GroupWriter.Batch<Item> batch) {
            if (inside.incrementAndGet() != 1) {
                overlapped.set(true);
            }
            try {
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < batch.size(); i++) {
                    ids.add(batch.get(i).id);
                }
                boolean isFirst = batches.isEmpty();
                batches.add(ids);
                if (isFirst) {
                    firstBatchEntered.countDown();
                    awaitRelease();
                }
                if (ids.contains(failOn)) {
                    throw new IllegalStateException("simulated failure writing " + ids);
                }
                written.addAll(ids);
            } finally {
                inside.decrementAndGet();
            }
        }

        List<String> all() {
            List<String> all = new ArrayList<>();
            batches.forEach(all::addAll);
            return all;
        }

        private void awaitRelease() {
            CountDownLatch hold = holdFirstBatch;
            if (hold == null) {
                return;
            }
            try {
                assertTrue(hold.await(30, TimeUnit.SECONDS), "the test releases the first batch");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    private final RecordingSink text = new RecordingSink();
    private final RecordingSink json = new RecordingSink();
    private final GroupWriter<Item> writer = new GroupWriter<>(text, json);

    private static Item item(String id) {
        Item item = new Item();
        item.id = id;
        return item;
    }

    private boolean writtenEverywhere(String id) {
        return text.written.contains(id) && json.written.contains(id);
    }

    @Test
    void aThreadAloneWritesEachRecordToEveryLaneAsItsOwnBatch() {
        Item reused = new Item();

        for (int i = 0; i < 3; i++) {
            reused.id = "r" + i;
            writer.write(reused);
            assertTrue(writtenEverywhere("r" + i), "written to both lanes before write returned");
        }

        List<List<String>> oneEach = List.of(List.of("r0"), List.of("r1"), List.of("r2"));
        assertEquals(oneEach, text.batches);
        assertEquals(oneEach, json.batches);
        assertEquals(3, writer.counts()[0][0]);
        assertEquals(3, writer.counts()[1][1]);
    }

    @Test
    void recordsArrivingWhileALaneWritesGoOutTogetherAndNoCallReturnsBeforeEveryLaneWroteIt()
            throws InterruptedException {
        text.holdFirstBatch = new CountDownLatch(1);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        Set<String> returned = ConcurrentHashMap.newKeySet();

        Thread first = logger("first", returned, failures);
        first.start();
        assertTrue(text.firstBatchEntered.await(30, TimeUnit.SECONDS));
        List<Thread> others = new ArrayList<>();
        for (String id : List.of("b", "c", "d")) {
            Thread other = logger(id, returned, failures);
            others.add(other);
            other.start();
        }
        // parked: each has published its record and waits for the text lane, which "first" holds
        await().atMost(Duration.ofSeconds(30)).until(() -> others.stream().allMatch(t -> t.getState() == Thread.State.WAITING));
        assertEquals(Set.of(), returned, "no call returns while its record waits for a lane");

        text.holdFirstBatch.countDown();
        first.join(30_000);
        for (Thread other : others) {
            other.join(30_000);
        }

        assertEquals(List.of(), failures);
        assertEquals(Set.of("first", "b", "c", "d"), returned);
        assertEquals(2, text.batches.size(), "the record written first, then all that arrived meanwhile: " + text.batches);
        assertEquals(List.of("first"), text.batches.get(0));
        assertEquals(Set.of("b", "c", "d"), Set.copyOf(text.batches.get(1)));
        assertEquals(text.all(), json.all(), "one order in both lanes");
        assertTrue(json.batches.size() <= 4);
    }

    @Test
    void manyThreadsAtOnceEveryRecordIsWrittenOncePerLaneInOneOrderByOneWriterAtATime() throws InterruptedException {
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        int threads = 8;
        int perThread = 5_000;
        List<Thread> loggers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String name = "t" + t;
            loggers.add(new Thread(() -> {
                Item mine = new Item();
                for (int i = 0; i < perThread; i++) {
                    mine.id = name + "-" + i;
                    writer.write(mine);
                    if (!writtenEverywhere(mine.id)) {
                        failures.add(new AssertionError(mine.id + " returned before both lanes wrote it"));
                    }
                }
            }, name));
        }
        loggers.forEach(Thread::start);
        for (Thread logger : loggers) {
            logger.join(60_000);
            assertFalse(logger.isAlive(), logger.getName() + " finished");
        }

        assertEquals(List.of(), failures);
        assertFalse(text.overlapped.get() || json.overlapped.get(), "a lane's sink is called by one thread at a time");
        List<String> all = text.all();
        assertEquals(threads * perThread, all.size(), "every record written once");
        assertEquals(threads * perThread, Set.copyOf(all).size(), "no record written twice");
        assertEquals(all, json.all(), "both lanes in one order");
        for (int t = 0; t < threads; t++) {
            String prefix = "t" + t + "-";
            List<String> own = all.stream().filter(id -> id.startsWith(prefix)).toList();
            for (int i = 0; i < perThread; i++) {
                assertEquals(prefix + i, own.get(i), "a thread's records stay in its order");
            }
        }
        assertEquals(threads * perThread, writer.counts()[0][1]);
        assertEquals(threads * perThread, writer.counts()[1][1]);
    }

    @Test
    void moreThreadsThanTheRingHoldsWaitForRoomAndEveryRecordIsWritten() throws InterruptedException {
        text.holdFirstBatch = new CountDownLatch(1);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        Set<String> returned = ConcurrentHashMap.newKeySet();
        Thread first = logger("first", returned, failures);
        first.start();
        assertTrue(text.firstBatchEntered.await(30, TimeUnit.SECONDS));
        int more = GroupWriter.CAPACITY + 20; // the text lane's cursor stays at 0: the last 21 find the ring full
        List<Thread> others = new ArrayList<>();
        for (int i = 0; i < more; i++) {
            Thread other = logger("t" + i, returned, failures);
            other.setDaemon(true);
            others.add(other);
            other.start();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> json.written.size() >= GroupWriter.CAPACITY);
        assertEquals(Set.of(), returned, "no call returns while the text lane holds every record back");

        text.holdFirstBatch.countDown();
        first.join(60_000);
        for (Thread other : others) {
            other.join(60_000);
        }

        assertEquals(List.of(), failures);
        assertEquals(more + 1, returned.size());
        assertEquals(more + 1, Set.copyOf(text.all()).size(), "every record written once");
        assertEquals(text.all(), json.all(), "one order in both lanes");
    }

    @Test
    void aFailingSinkThrowsToTheThreadWritingTheBatchAndTheLanesGoOn() {
        json.failOn = "boom";

        assertThrows(IllegalStateException.class, () -> writer.write(item("boom")));
        writer.write(item("after"));

        assertTrue(text.written.contains("boom"), "the other lane wrote it");
        assertTrue(writtenEverywhere("after"));
        assertEquals(List.of("boom", "after"), json.all());
    }

    @Test
    void aFailingBatchReleasesEveryWaitingThreadAndOnlyItsWriterThrows() throws InterruptedException {
        text.holdFirstBatch = new CountDownLatch(1);
        text.failOn = "c";
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        Set<String> returned = ConcurrentHashMap.newKeySet();

        Thread first = logger("first", returned, failures);
        first.start();
        assertTrue(text.firstBatchEntered.await(30, TimeUnit.SECONDS));
        List<Thread> others = new ArrayList<>();
        for (String id : List.of("b", "c")) {
            Thread other = logger(id, returned, failures);
            others.add(other);
            other.start();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> others.stream().allMatch(t -> t.getState() == Thread.State.WAITING));
        text.holdFirstBatch.countDown();
        first.join(30_000);
        for (Thread other : others) {
            other.join(30_000);
        }

        assertEquals(Set.of("first", "b", "c"), returned, "every call returned");
        // "first" held the text lane, so it wrote the failing batch [b, c]; b and c did not write it
        assertEquals(1, failures.size(), failures.toString());
        assertSame(IllegalStateException.class, failures.get(0).getClass());
        writer.write(item("after"));
        assertTrue(writtenEverywhere("after"));
    }

    private Thread logger(String id, Set<String> returned, List<Throwable> failures) {
        return new Thread(() -> {
            try {
                writer.write(item(id));
                if (!writtenEverywhere(id) && text.failOn == null && json.failOn == null) {
                    failures.add(new AssertionError(id + " returned before both lanes wrote it"));
                }
            } catch (RuntimeException e) {
                failures.add(e);
            } finally {
                returned.add(id);
            }
        }, "logger-" + id);
    }
}
