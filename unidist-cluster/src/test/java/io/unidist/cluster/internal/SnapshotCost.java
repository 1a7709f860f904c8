package io.unidist.cluster.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jgroups.util.ByteArrayDataInputStream;
import org.jgroups.util.ByteArrayDataOutputStream;

/**
 * Measures what a large backlog costs the replicated state machine: heap per queued message,
 * the time RAFT's thread waits for a snapshot (unidist's freeze) and the heap the frozen copy
 * holds, the time to stream it to disk and to restore it, and, in the same run for
 * comparison, jgroups-raft's own way (the whole state into one byte array on RAFT's thread).
 *
 * <p>Run (after {@code mvn -B -q install -DskipTests}):
 * <pre>
 * mvn -B -q -pl unidist-cluster dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -Xmx4g -cp unidist-cluster/target/test-classes:unidist-cluster/target/classes:$(cat unidist-cluster/target/cp.txt) \
 *     io.unidist.cluster.internal.SnapshotCost 1000000 100
 * </pre>
 */
public final class SnapshotCost {
    private SnapshotCost() {
    }

    /** Arguments: message count (default 1,000,000), payload bytes (default 100). */
    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int size = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        long heapBefore = usedHeap();
        UnidistStateMachine sm = new UnidistStateMachine("bench");
        long session = openSession(sm);
        apply(sm, Cmd.start(Op.QUEUE_DECLARE, session, 1, 1), out -> {
            out.writeUTF("q");
            out.writeBoolean(true);
            out.writeLong(30_000);
            out.writeInt(5);
            out.writeLong(Long.MAX_VALUE);
        });
        byte[] payload = new byte[size];
        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) {
            long seq = i + 2;
            apply(sm, Cmd.start(Op.QUEUE_OFFER, session, seq, seq), out -> {
                out.writeUTF("q");
                out.writeBoolean(false);
                out.writeInt(payload.length);
                out.write(payload);
                out.writeLong(0);
            });
        }
        long applyNanos = System.nanoTime() - t0;
        long heapAfter = usedHeap();

        // unidist's way: RAFT's thread only freezes; another thread streams to the file
        long t1 = System.nanoTime();
        UnidistStateMachine.Frozen frozen = sm.freeze();
        long freezeNanos = System.nanoTime() - t1;
        long heapFrozen = usedHeap();
        Path logDir = Files.createTempDirectory("unidist-snapshot-cost");
        UnidistRaftLog log = new UnidistRaftLog();
        log.init(logDir.resolve("bench.log").toString(), java.util.Map.of());
        long t2 = System.nanoTime();
        long bytes = log.writeSnapshot(1, 1, frozen::writeTo);
        long streamNanos = System.nanoTime() - t2;
        frozen = null;
        long t3 = System.nanoTime();
        UnidistStateMachine restored = new UnidistStateMachine("restored");
        log.readSnapshot(restored::readContentFrom);
        long readNanos = System.nanoTime() - t3;
        long restoredSize = size(restored);
        restored = null;
        log.delete();

        // jgroups-raft's own way, for comparison: the whole state into one growing byte array on RAFT's thread
        long t4 = System.nanoTime();
        ByteArrayDataOutputStream array = new ByteArrayDataOutputStream(128, true);
        sm.writeContentTo(array);
        long arrayNanos = System.nanoTime() - t4;
        Path file = Files.createTempFile("unidist-snapshot", ".bin");
        long t5 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(array.buffer(), 0, array.position()));
            ch.force(false);
        }
        long fileNanos = System.nanoTime() - t5;
        Files.delete(file);

        System.out.printf("messages                         %,d of %d bytes%n", count, size);
        System.out.printf("apply (no Raft)                  %,d ms (%,.0f offers/s)%n", applyNanos / 1_000_000,
                count / (applyNanos / 1e9));
        System.out.printf("heap per message                 %,d bytes%n", (heapAfter - heapBefore) / count);
        System.out.printf("snapshot size                    %,d bytes%n", bytes);
        System.out.printf("unidist: freeze (RAFT waits)     %,d ms%n", freezeNanos / 1_000_000);
        System.out.printf("unidist: heap the freeze holds   %,d bytes (%,d per message)%n", heapFrozen - heapAfter,
                (heapFrozen - heapAfter) / count);
        System.out.printf("unidist: stream to file + fsync  %,d ms (in the background)%n", streamNanos / 1_000_000);
        System.out.printf("unidist: restore, streamed       %,d ms%n", readNanos / 1_000_000);
        System.out.printf("restored queue size              %,d%n", restoredSize);
        System.out.printf("jgroups-raft: to byte array      %,d ms (RAFT waits), array of %,d bytes%n",
                arrayNanos / 1_000_000, array.buffer().length);
        System.out.printf("jgroups-raft: array to file+fsync %,d ms (RAFT waits)%n", fileNanos / 1_000_000);
    }

    private static long size(UnidistStateMachine sm) throws IOException {
        byte[] e = entry(Cmd.start(Op.QUEUE_SIZE, 0, 0, 0), out -> {
            out.writeUTF("q");
            out.writeBoolean(false);
        });
        return Reply.open(sm.apply(e, 0, e.length, true), "size").readLong();
    }

    private static long openSession(UnidistStateMachine sm) throws IOException {
        byte[] e = entry(Cmd.start(Op.OPEN_SESSION, 0, 0, 0), out -> {
            out.writeUTF("bench");
            out.writeUTF("bench-address");
        });
        return Reply.open(sm.apply(e, 0, e.length, true), "open").readLong();
    }

    private static void apply(UnidistStateMachine sm, ByteArrayDataOutputStream cmd,
            java.util.function.Consumer<ByteArrayDataOutputStream> body) {
        byte[] e = entry(cmd, body);
        Reply.open(sm.apply(e, 0, e.length, true), "apply");
    }

    private static byte[] entry(ByteArrayDataOutputStream cmd, java.util.function.Consumer<ByteArrayDataOutputStream> body) {
        body.accept(cmd);
        ByteArrayDataOutputStream e = new ByteArrayDataOutputStream(cmd.position() + 9);
        e.writeByte(Cmd.ENTRY_FORMAT);
        e.writeLong(1_000);
        e.write(cmd.buffer(), 0, cmd.position());
        return Reply.bytes(e);
    }

    private static long usedHeap() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100); // let the collector finish before reading the heap (a measurement, not a test)
        }
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }
}
