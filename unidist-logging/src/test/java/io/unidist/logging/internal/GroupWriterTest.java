package io.unidist.logging.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
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
 * The group write protocol on its own, with a sink that records what it was given: a call
 * returns only once its record was written; records that arrive while a write is under way
 * go out together in the next batch, in arrival order; many threads at once get every record
 * written exactly once, by one writer at a time; a failing sink releases every waiting thread.
 */
class GroupWriterTest {

    /** One record: who logged it and its number. */
    static final class Item extends GroupWriter.Entry<Item> {
        String id;
    }

    /** A sink that keeps every batch; may be held at its first batch and may fail on one. */
    static final class RecordingSink implements GroupWriter.Sink<Item> {
        final List<List<String>> batches = new CopyOnWriteArrayList<>();
        final Set<String> written = ConcurrentHashMap.newKeySet();
        final AtomicInteger inside = new AtomicInteger();
        final AtomicBoolean overlapped = new AtomicBoolean();
        final CountDownLatch firstBatchEntered = new CountDownLatch(1);
        volatile CountDownLatch holdFirstBatch;
        volatile String failOn;

        @Override
        public void write(Item first) {
            if (inside.incrementAndGet() != 1) {
                overlapped.set(true);
            }
            try {
                List<String> batch = new ArrayList<>();
                for (Item item = first; item != null; item = item.next()) {
                    batch.add(item.id);
                }
                boolean isFirst = batches.isEmpty();
                batches.add(batch);
                if (isFirst) {
                    firstBatchEntered.countDown();
                    awaitRelease();
                }
                if (batch.contains(failOn)) {
                    throw new IllegalStateException("simulated failure writing " + batch);
                }
                written.addAll(batch);
            } finally {
                inside.decrementAndGet();
            }
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

    private static Item item(String id) {
        Item item = new Item();
        item.id = id;
        return item;
    }

    @Test
    void aThreadAloneWritesEachOfItsRecordsAsItsOwnBatch() {
        RecordingSink sink = new RecordingSink();
        GroupWriter<Item> writer = new GroupWriter<>(sink);
        Item reused = new Item();

        for (int i = 0; i < 3; i++) {
            reused.id = "r" + i;
            writer.write(reused);
            assertTrue(sink.written.contains("r" + i), "written before write returned");
        }

        assertEquals(List.of(List.of("r0"), List.of("r1"), List.of("r2")), sink.batches);
        assertEquals(3, writer.counts()[0]);
        assertEquals(3, writer.counts()[1]);
    }

    @Test
    void recordsArrivingDuringAWriteGoOutTogetherInTheNextBatchAndNoCallReturnsBeforeItsRecordIsWritten()
            throws InterruptedException {
        RecordingSink sink = new RecordingSink();
        sink.holdFirstBatch = new CountDownLatch(1);
        GroupWriter<Item> writer = new GroupWriter<>(sink);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        Set<String> returned = ConcurrentHashMap.newKeySet();

        Thread first = logger(writer, "first", sink, returned, failures);
        first.start();
        assertTrue(sink.firstBatchEntered.await(30, TimeUnit.SECONDS));
        List<Thread> others = new ArrayList<>();
        for (String id : List.of("b", "c", "d")) {
            Thread other = logger(writer, id, sink, returned, failures);
            others.add(other);
            other.start();
        }
        // parked: each has pushed its record and found the first thread writing
        await().atMost(Duration.ofSeconds(30)).until(() -> others.stream().allMatch(t -> t.getState() == Thread.State.WAITING));
        assertEquals(Set.of(), returned, "no call returns while its record waits");

        sink.holdFirstBatch.countDown();
        first.join(30_000);
        for (Thread other : others) {
            other.join(30_000);
        }

        assertEquals(List.of(), failures);
        assertEquals(Set.of("first", "b", "c", "d"), returned);
        assertEquals(2, sink.batches.size(), "one batch for the record written first, one for the rest: " + sink.batches);
        assertEquals(List.of("first"), sink.batches.get(0));
        List<String> second = new ArrayList<>(sink.batches.get(1));
        Collections.sort(second);
        assertEquals(List.of("b", "c", "d"), second);
        assertEquals(2, writer.counts()[0]);
        assertEquals(4, writer.counts()[1]);
    }

    @Test
    void manyThreadsAtOnceEveryRecordIsWrittenExactlyOnceByOneWriterAtATime() throws InterruptedException {
        RecordingSink sink = new RecordingSink();
        GroupWriter<Item> writer = new GroupWriter<>(sink);
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
                    if (!sink.written.contains(mine.id)) {
                        failures.add(new AssertionError(mine.id + " returned before it was written"));
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
        assertFalse(sink.overlapped.get(), "the sink is called by one thread at a time");
        List<String> all = new ArrayList<>();
        sink.batches.forEach(all::addAll);
        assertEquals(threads * perThread, all.size(), "every record written once");
        assertEquals(threads * perThread, Set.copyOf(all).size(), "no record written twice");
        for (int t = 0; t < threads; t++) {
            String prefix = "t" + t + "-";
            List<String> own = all.stream().filter(id -> id.startsWith(prefix)).toList();
            for (int i = 0; i < perThread; i++) {
                assertEquals(prefix + i, own.get(i), "a thread's records stay in its order");
            }
        }
        assertEquals(sink.batches.size(), writer.counts()[0]);
        assertEquals(threads * perThread, writer.counts()[1]);
    }

    @Test
    void aFailingWriteReleasesEveryWaitingThreadAndTheWriterThrowsItThenWritingGoesOn() throws InterruptedException {
        RecordingSink sink = new RecordingSink();
        sink.holdFirstBatch = new CountDownLatch(1);
        sink.failOn = "c";
        GroupWriter<Item> writer = new GroupWriter<>(sink);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        Set<String> returned = ConcurrentHashMap.newKeySet();

        Thread first = logger(writer, "first", sink, returned, failures);
        first.start();
        assertTrue(sink.firstBatchEntered.await(30, TimeUnit.SECONDS));
        List<Thread> others = new ArrayList<>();
        for (String id : List.of("b", "c")) {
            Thread other = logger(writer, id, sink, returned, failures);
            others.add(other);
            other.start();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> others.stream().allMatch(t -> t.getState() == Thread.State.WAITING));
        sink.holdFirstBatch.countDown();
        first.join(30_000);
        for (Thread other : others) {
            other.join(30_000);
        }

        assertEquals(Set.of("first", "b", "c"), returned, "every call returned");
        // the thread that wrote the failed batch threw; the others did not: here "first" wrote it
        assertEquals(1, failures.size(), failures.toString());
        assertSame(IllegalStateException.class, failures.get(0).getClass());
        Item after = item("after");
        writer.write(after);
        assertTrue(sink.written.contains("after"));
        assertThrows(IllegalStateException.class, () -> writer.write(item("c")), "a failure alone is thrown at once");
    }

    private static Thread logger(GroupWriter<Item> writer, String id, RecordingSink sink, Set<String> returned,
                                 List<Throwable> failures) {
        return new Thread(() -> {
            try {
                writer.write(item(id));
                if (!sink.written.contains(id) && sink.failOn == null) { // with failOn, a failed batch is lost
                    failures.add(new AssertionError(id + " returned before it was written"));
                }
            } catch (RuntimeException e) {
                failures.add(e);
            } finally {
                returned.add(id);
            }
        }, "logger-" + id);
    }
}
