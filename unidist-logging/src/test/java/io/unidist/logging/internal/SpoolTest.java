package io.unidist.logging.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The forwarding spool: order, acknowledgement, restarts, torn files and its bounds. */
class SpoolTest {
    @TempDir
    Path dir;
    private final List<Spool> open = new ArrayList<>();

    @AfterEach
    void closeAll() {
        open.forEach(Spool::close);
    }

    private Spool open(Spool.Options options) throws IOException {
        Spool s = Spool.open(dir, options);
        open.add(s);
        return s;
    }

    private Spool open() throws IOException {
        return open(Spool.Options.defaults());
    }

    private static byte[] rec(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> texts(List<Spool.Entry> entries) {
        return entries.stream().map(e -> new String(e.bytes(), StandardCharsets.UTF_8)).toList();
    }

    private List<Path> segments() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".seg")).sorted().toList();
        }
    }

    @Test
    void recordsComeBackInOrderUntilAcknowledged() throws IOException {
        Spool spool = open();
        for (int i = 0; i < 10; i++) {
            assertEquals(i + 1, spool.append(rec("r" + i)));
        }
        assertEquals(List.of("r0", "r1", "r2"), texts(spool.peek(Long.MIN_VALUE, 3, 1 << 20)));
        assertEquals(10, spool.pending());
        spool.acknowledge(4);
        List<Spool.Entry> next = spool.peek(Long.MIN_VALUE, 100, 1 << 20);
        assertEquals(5, next.get(0).seq());
        assertEquals(List.of("r4", "r5", "r6", "r7", "r8", "r9"), texts(next));
        assertEquals(List.of("r7", "r8", "r9"), texts(spool.peek(7, 100, 1 << 20)), "afterSeq skips further");
        assertEquals(6, spool.pending());
        spool.acknowledge(2); // an old acknowledgement changes nothing
        assertEquals(6, spool.pending());
        spool.acknowledge(10);
        assertEquals(0, spool.pending());
        assertTrue(spool.peek(Long.MIN_VALUE, 100, 1 << 20).isEmpty());
    }

    @Test
    void aBatchKeepsToItsByteLimitButHoldsAtLeastOneRecord() throws IOException {
        Spool spool = open();
        spool.append(new byte[300]);
        spool.append(new byte[300]);
        spool.append(new byte[300]);
        assertEquals(2, spool.peek(Long.MIN_VALUE, 100, 600).size());
        assertEquals(1, spool.peek(Long.MIN_VALUE, 100, 10).size());
    }

    @Test
    void aRestartKeepsUnacknowledgedRecordsAndSequenceNumbersKeepGrowing() throws IOException {
        Spool first = open();
        for (int i = 0; i < 5; i++) {
            first.append(rec("a" + i));
        }
        first.acknowledge(2);
        // a second process opens the directory without the first closing it: a kill -9
        Spool second = open();
        assertEquals(List.of("a2", "a3", "a4"), texts(second.peek(Long.MIN_VALUE, 100, 1 << 20)));
        assertEquals(6, second.append(rec("b0")));
        second.acknowledge(6);
        second.close();
        Spool third = open();
        assertEquals(0, third.pending());
        assertEquals(7, third.append(rec("c0")), "numbers continue after everything was acknowledged");
    }

    @Test
    void aTornTailIsCutAtTheLastGoodRecord() throws IOException {
        Spool spool = open();
        for (int i = 0; i < 5; i++) {
            spool.append(rec("record-" + i));
        }
        spool.close();
        Path seg = segments().get(0);
        long size = Files.size(seg);
        try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
            f.setLength(size - 3); // the last record half written
        }
        Spool reopened = open();
        assertEquals(4, reopened.pending());
        assertEquals(5, reopened.append(rec("after")), "the torn record's number is used again: it was never returned");
        assertEquals(List.of("record-0", "record-1", "record-2", "record-3", "after"),
                texts(reopened.peek(Long.MIN_VALUE, 100, 1 << 20)));
    }

    @Test
    void aDamagedRecordCutsTheRestOfItsSegment() throws IOException {
        Spool spool = open();
        for (int i = 0; i < 5; i++) {
            spool.append(rec("record-" + i));
        }
        spool.close();
        Path seg = segments().get(0);
        long recordSize = Spool.HEADER + "record-0".length();
        try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
            f.seek(2 * recordSize + Spool.HEADER + 1); // a byte inside the third record's body
            f.write('X');
        }
        Spool reopened = open();
        assertEquals(List.of("record-0", "record-1"), texts(reopened.peek(Long.MIN_VALUE, 100, 1 << 20)));
        assertEquals(2 * recordSize, Files.size(seg));
    }

    @Test
    void garbageInTheDirectoryAndADamagedAckFileLoseNothing() throws IOException {
        Spool spool = open();
        spool.append(rec("x"));
        spool.append(rec("y"));
        spool.acknowledge(1);
        spool.close();
        Files.write(dir.resolve("acked"), rec("not an acknowledgement"));
        Files.write(dir.resolve("notes.txt"), rec("left by someone"));
        Spool reopened = open();
        assertEquals(List.of("x", "y"), texts(reopened.peek(Long.MIN_VALUE, 100, 1 << 20)),
                "without a trusted acknowledgement everything is sent again");
        assertEquals(3, reopened.append(rec("z")));
    }

    @Test
    void acknowledgedSegmentsAreDeleted() throws IOException {
        Spool spool = open(Spool.Options.defaults().withMaxBytes(Spool.MIN_BYTES));
        byte[] kilobyte = new byte[1000];
        long last = 0;
        for (int i = 0; i < 30; i++) {
            last = spool.append(kilobyte);
        }
        assertTrue(segments().size() > 3, "segments: " + segments());
        spool.acknowledge(last);
        assertEquals(1, segments().size(), "only the segment being written is kept");
        assertEquals(0, spool.pending());
    }

    @Test
    void dropOldestStaysWithinTheBudgetAndCountsWhatItDropped() throws IOException {
        Spool spool = open(Spool.Options.defaults().withMaxBytes(Spool.MIN_BYTES));
        int n = 500;
        for (int i = 0; i < n; i++) {
            assertTrue(spool.append(rec(String.format("%0500d", i))) > 0);
            assertTrue(spool.diskBytes() <= Spool.MIN_BYTES);
        }
        long dirBytes = 0;
        for (Path p : segments()) {
            dirBytes += Files.size(p);
        }
        assertTrue(dirBytes <= Spool.MIN_BYTES, "on disk: " + dirBytes);
        assertTrue(spool.dropped() > 0);
        assertEquals(n, spool.pending() + spool.dropped());
        List<Spool.Entry> kept = spool.peek(Long.MIN_VALUE, n, Integer.MAX_VALUE);
        assertEquals(n, kept.get(kept.size() - 1).seq(), "the newest records are kept");
        for (int i = 1; i < kept.size(); i++) {
            assertEquals(kept.get(i - 1).seq() + 1, kept.get(i).seq());
        }
    }

    @Test
    void dropNewestKeepsWhatIsSpooled() throws IOException {
        Spool spool = open(Spool.Options.defaults().withMaxBytes(Spool.MIN_BYTES)
                .withFullPolicy(Spool.FullPolicy.DROP_NEWEST));
        int accepted = 0;
        for (int i = 0; i < 500; i++) {
            if (spool.append(rec(String.format("%0500d", i))) > 0) {
                accepted++;
            }
        }
        assertTrue(spool.dropped() > 0);
        assertEquals(500, accepted + spool.dropped());
        assertEquals(1, spool.peek(Long.MIN_VALUE, 1, Integer.MAX_VALUE).get(0).seq(), "the oldest is kept");
        assertEquals(accepted, spool.pending());
    }

    @Test
    void blockWaitsForAnAcknowledgement() throws Exception {
        Spool spool = open(Spool.Options.defaults().withMaxBytes(Spool.MIN_BYTES)
                .withFullPolicy(Spool.FullPolicy.BLOCK));
        byte[] big = new byte[20_000];
        spool.append(big);
        spool.append(big);
        spool.append(big);
        CompletableFuture<Long> blocked = CompletableFuture.supplyAsync(() -> spool.append(big));
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !blocked.isDone());
        spool.acknowledge(2);
        assertEquals(4L, blocked.get());
        assertEquals(0, spool.dropped());
    }

    @Test
    void aRecordBiggerThanHalfTheSpoolIsDroppedNotWritten() throws IOException {
        Spool spool = open(Spool.Options.defaults().withMaxBytes(Spool.MIN_BYTES));
        assertEquals(-1, spool.append(new byte[(int) Spool.MIN_BYTES]));
        assertEquals(1, spool.dropped());
        assertEquals(1, spool.append(rec("fits")));
    }

    @Test
    void concurrentAppendersGetDistinctNumbersWithoutGaps() throws Exception {
        Spool spool = open(Spool.Options.defaults().withFsyncInterval(Duration.ofMillis(5)));
        Set<Long> seqs = ConcurrentHashMap.newKeySet();
        List<CompletableFuture<Void>> writers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int id = t;
            writers.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 2_000; i++) {
                    seqs.add(spool.append(rec(id + ":" + i)));
                }
            }));
        }
        CompletableFuture.allOf(writers.toArray(CompletableFuture<?>[]::new)).get();
        assertEquals(8_000, seqs.size());
        List<Spool.Entry> all = spool.peek(Long.MIN_VALUE, 10_000, Integer.MAX_VALUE);
        assertEquals(8_000, all.size());
        Set<String> texts = new HashSet<>(texts(all));
        assertTrue(texts.contains("3:1999"));
        for (int i = 0; i < all.size(); i++) {
            assertEquals(i + 1, all.get(i).seq());
        }
    }
}
