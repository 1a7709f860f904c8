package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.stream.Stream;
import org.jgroups.protocols.raft.LogEntries;
import org.jgroups.protocols.raft.LogEntry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The voters' Raft log: durable, checked, streamed snapshots and repair after a crash. */
class UnidistRaftLogTest {
    @TempDir
    Path dir;
    private UnidistRaftLog log;

    @AfterEach
    void close() {
        if (log != null) {
            log.close();
        }
    }

    private UnidistRaftLog open() throws Exception {
        if (log != null) {
            log.close();
        }
        log = new UnidistRaftLog();
        log.useFsync(false);
        log.init(dir.resolve("v1.log").toString(), Map.of());
        return log;
    }

    private void appendCommitted(int count, long term) {
        for (int i = 0; i < count; i++) {
            long index = log.lastAppended() + 1;
            log.append(index, new LogEntries().add(new LogEntry(term, ("e" + index).getBytes())));
        }
        log.commitIndex(log.lastAppended());
    }

    private static byte[] content(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31);
        }
        return b;
    }

    private byte[] read() throws Exception {
        byte[][] got = new byte[1][];
        log.readSnapshot(in -> {
            int n = in.readInt();
            got[0] = new byte[n];
            in.readFully(got[0]);
        });
        return got[0];
    }

    @Test
    void aSnapshotIsStreamedAndReadBackWithItsIndexAndTerm() throws Exception {
        open();
        appendCommitted(10, 3);
        byte[] data = content(300_000);
        long bytes = log.writeSnapshot(7, 3, out -> {
            out.writeInt(data.length);
            out.write(data);
        });
        assertEquals(4 + data.length, bytes);
        assertEquals(new UnidistRaftLog.SnapshotInfo(7, 3, bytes), log.snapshotInfo());
        assertArrayEquals(data, read());
        ByteBuffer whole = log.getSnapshot();
        assertEquals(bytes, whole.remaining());
        assertEquals(data.length, whole.getInt());
        try (Stream<Path> files = Files.list(dir.resolve("v1.log"))) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file is left");
        }
    }

    @Test
    void withoutASnapshotThereIsNothingToRead() throws Exception {
        open();
        assertFalse(log.hasSnapshot());
        assertNull(log.snapshotInfo());
        assertNull(log.getSnapshot());
        assertNull(log.readSnapshot(in -> { }));
    }

    @Test
    void aDamagedSnapshotIsRefusedWithAnErrorNamingTheFileAndNothingIsRead() throws Exception {
        open();
        appendCommitted(5, 1);
        log.writeSnapshot(5, 1, out -> {
            out.writeInt(1000);
            out.write(content(1000));
        });
        Path file = dir.resolve("v1.log").resolve(UnidistRaftLog.SNAPSHOT_FILE);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, 500);
            one.flip().put(0, (byte) (one.get(0) ^ 0x40));
            ch.write(one, 500);
        }
        boolean[] read = {false};
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> log.readSnapshot(in -> read[0] = true));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
        assertFalse(read[0], "a damaged snapshot is not handed to the state machine");
        assertThrows(UncheckedIOException.class, () -> log.getSnapshot());
    }

    @Test
    void aDamagedHeaderIsRefusedAtStartWithAnErrorNamingTheFile() throws Exception {
        open();
        appendCommitted(5, 1);
        log.writeSnapshot(5, 1, out -> out.writeInt(0));
        log.close();
        log = null;
        Path file = dir.resolve("v1.log").resolve(UnidistRaftLog.SNAPSHOT_FILE);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {9}), 10); // inside the index
        }
        Exception e = assertThrows(Exception.class, this::open);
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void aCrashBetweenTheSnapshotAndTheTruncationIsRepairedAtStart() throws Exception {
        open();
        appendCommitted(20, 2);
        log.writeSnapshot(12, 2, out -> out.writeInt(0));
        assertEquals(0, log.firstAppended(), "the log is cut only by the caller");
        open(); // as after a crash before the truncation
        assertEquals(12, log.firstAppended(), "entries the snapshot holds would otherwise be applied twice");
        assertEquals(20, log.lastAppended());
        assertEquals(20, log.commitIndex());
    }

    @Test
    void anOlderSnapshotFinishingLateDoesNotReplaceANewerOne() throws Exception {
        open();
        appendCommitted(30, 1);
        log.writeSnapshot(25, 1, out -> out.writeInt(25));
        log.writeSnapshot(10, 1, out -> out.writeInt(10));
        assertEquals(25, log.snapshotInfo().index());
        int[] seen = {0};
        log.readSnapshot(in -> seen[0] = in.readInt());
        assertEquals(25, seen[0]);
    }

    @Test
    void aSnapshotFromTheLeaderTakesEffectOnlyWhenTheLogIsReinitialisedToItsIndex() throws Exception {
        open();
        appendCommitted(5, 1);
        log.writeSnapshot(5, 1, out -> out.writeInt(5));
        ByteBuffer received = ByteBuffer.allocate(4).putInt(0, 99);
        log.setSnapshot(received);
        assertEquals(5, log.snapshotInfo().index(), "not in place before its index is known");
        open(); // a crash before the re-initialisation: the old snapshot and log are consistent
        assertEquals(5, log.snapshotInfo().index());
        log.setSnapshot(received);
        log.reinitializeTo(40, new LogEntry(4, null));
        assertEquals(new UnidistRaftLog.SnapshotInfo(40, 4, 4), log.snapshotInfo());
        assertEquals(40, log.firstAppended());
        assertEquals(40, log.lastAppended());
        int[] seen = {0};
        log.readSnapshot(in -> seen[0] = in.readInt());
        assertEquals(99, seen[0]);
    }

    @Test
    void aSnapshotPastTheLogReinitialisesTheLogAtStart() throws Exception {
        open();
        appendCommitted(5, 1);
        // as if the leader's snapshot was put in place and the node died before RAFT re-initialised the log
        log.setSnapshot(ByteBuffer.allocate(4));
        Path install = Files.list(dir.resolve("v1.log")).filter(p -> p.toString().endsWith(".tmp")).findFirst().orElseThrow();
        log.close();
        log = null;
        try (FileChannel ch = FileChannel.open(install, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.allocate(28).putLong(0x554e49534e415031L).putLong(50).putLong(6);
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(ByteBuffer.allocate(16).putLong(50).putLong(6).flip());
            header.putInt((int) crc.getValue()).flip();
            ch.write(header, 0);
        }
        Files.move(install, dir.resolve("v1.log").resolve(UnidistRaftLog.SNAPSHOT_FILE));
        open();
        assertEquals(50, log.firstAppended());
        assertEquals(50, log.lastAppended());
        assertEquals(6, log.currentTerm());
    }

    @Test
    void aFailedSnapshotWriteLeavesThePreviousOneAndNoTemporaryFile() throws Exception {
        open();
        appendCommitted(10, 1);
        log.writeSnapshot(4, 1, out -> out.writeInt(4));
        assertThrows(IllegalStateException.class, () -> log.writeSnapshot(9, 1, out -> {
            out.writeInt(9);
            throw new IllegalStateException("disk full, say");
        }));
        assertEquals(4, log.snapshotInfo().index());
        try (Stream<Path> files = Files.list(dir.resolve("v1.log"))) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
    }
}
