package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.unidist.UnidistException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jgroups.protocols.raft.FileBasedLog;
import org.jgroups.protocols.raft.LogEntries;
import org.jgroups.protocols.raft.LogEntry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A voter's Raft directory damaged, cut or foreign: every case either starts with every entry
 * that was committed, or stops with an error that names the file; none starts silently with
 * less. jgroups-raft's own file log, given the same files, starts with an empty or shortened log
 * and says nothing (checked here too, as the reason for the checks).
 */
class UnidistRaftLogDamageTest {
    private static final int HEADER = 26;

    @TempDir
    Path dir;
    private UnidistRaftLog log;
    private final ListAppender<ILoggingEvent> warnings = new ListAppender<>();
    private final ch.qos.logback.classic.Logger filesLogger =
            (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(RaftLogFiles.class);

    @BeforeEach
    void capture() {
        warnings.start();
        filesLogger.addAppender(warnings);
    }

    @AfterEach
    void close() {
        filesLogger.detachAppender(warnings);
        if (log != null) {
            log.close();
        }
    }

    private Path logDir() {
        return dir.resolve("raft").resolve("v1.log");
    }

    private Path entries() {
        return logDir().resolve(RaftLogFiles.ENTRIES);
    }

    private Path metadata() {
        return logDir().resolve(RaftLogFiles.METADATA);
    }

    private static Map<String, String> args(String cluster, String voter) {
        Map<String, String> args = new HashMap<>();
        for (String kv : RaftLogFiles.args(cluster, voter).split(",")) {
            String[] parts = kv.split("=");
            args.put(parts[0], parts[1]);
        }
        return args;
    }

    private UnidistRaftLog open() throws Exception {
        return open(logDir(), "c1", "v1");
    }

    private UnidistRaftLog open(Path where, String cluster, String voter) throws Exception {
        if (log != null) {
            log.close();
            log = null;
        }
        UnidistRaftLog l = new UnidistRaftLog();
        l.useFsync(false);
        l.init(where.toString(), args(cluster, voter));
        log = l;
        return l;
    }

    /** Ten entries of term 3, the first {@code committed} committed; then closed. */
    private void writeTen(int committed) throws Exception {
        open();
        for (int i = 1; i <= 10; i++) {
            log.append(i, new LogEntries().add(new LogEntry(3, ("entry-" + i).getBytes(StandardCharsets.UTF_8))));
        }
        log.commitIndex(committed);
        log.close();
        log = null;
    }

    /** The offset of each entry in the file, by walking jgroups-raft's headers. */
    private List<Long> offsets() throws Exception {
        List<Long> offsets = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(entries(), StandardOpenOption.READ)) {
            long at = 0;
            ByteBuffer h = ByteBuffer.allocate(HEADER);
            while (at + HEADER <= ch.size()) {
                h.clear();
                ch.read(h, at);
                if (h.get(0) != 1) {
                    break;
                }
                offsets.add(at);
                at += HEADER + h.getInt(22);
            }
        }
        return offsets;
    }

    private void write(Path file, long at, byte[] bytes) throws Exception {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes), at);
        }
    }

    private void cutAt(Path file, long size) throws Exception {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    private IllegalStateException refused() {
        return assertThrows(IllegalStateException.class, this::open);
    }

    /** Every part appears in the message of {@code e} or of one of its causes. */
    private static void assertNames(Exception e, String... parts) {
        StringBuilder messages = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            messages.append(t.getMessage()).append(" | ");
        }
        for (String part : parts) {
            assertTrue(messages.toString().contains(part), "\"" + part + "\" missing from: " + messages);
        }
    }

    private void deleteLog() throws Exception {
        if (log != null) {
            log.close();
            log = null;
        }
        try (var files = Files.walk(logDir())) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void aTornLastEntryIsCutWithAWarningAndEveryOtherEntryKept() throws Exception {
        writeTen(8);
        long tenth = offsets().get(9);
        cutAt(entries(), tenth + HEADER + 3); // the last write stopped inside entry 10's data
        open();
        assertEquals(9, log.lastAppended());
        for (int i = 1; i <= 9; i++) {
            assertArrayEquals(("entry-" + i).getBytes(StandardCharsets.UTF_8), bytes(log.get(i)));
        }
        assertEquals(1, warnings.list.size(), "one warning");
        assertTrue(warnings.list.get(0).getFormattedMessage().contains("offset " + tenth + " (index 10)"),
                warnings.list.get(0).getFormattedMessage());
        log.append(10, new LogEntries().add(new LogEntry(3, "again".getBytes(StandardCharsets.UTF_8))));
        open();
        assertEquals(10, log.lastAppended());
        assertArrayEquals("again".getBytes(StandardCharsets.UTF_8), bytes(log.get(10)));
    }

    @Test
    void aTornEntryThatHadBeenCommittedStopsTheStart() throws Exception {
        writeTen(10);
        long tenth = offsets().get(9);
        cutAt(entries(), tenth + HEADER + 3);
        assertNames(refused(), entries().toString(), "offset " + tenth + " (index 10)", "committed");
    }

    @Test
    void aDamagedEntryInTheMiddleStopsTheStartNamingFileOffsetAndIndex() throws Exception {
        writeTen(10);
        long fifth = offsets().get(4);
        write(entries(), fifth + HEADER + 7, new byte[] {'X'}); // one byte of entry 5's command
        assertNames(refused(), entries().toString(), "offset " + fifth + " (index 5)", "checksum");

        deleteLog();
        writeTen(10);
        write(entries(), offsets().get(4), new byte[] {9}); // entry 5's header
        assertNames(refused(), entries().toString(), "index 5", "header");
        // what jgroups-raft's own log does with the same file: starts with 4 of 10 entries, and says nothing
        FileBasedLog plain = new FileBasedLog();
        plain.useFsync(false);
        plain.init(logDir().toString(), Map.of());
        assertEquals(4, plain.lastAppended());
        plain.close();
    }

    @Test
    void anEntryDamagedWhileRunningIsAnErrorNamingIt() throws Exception {
        writeTen(10);
        open();
        write(entries(), offsets().get(2) + HEADER + 7, new byte[] {'X'});
        assertNames(assertThrows(IllegalStateException.class, () -> log.get(3)), entries().toString(), "index 3");
    }

    @Test
    void anotherFormatsFilesAreRefusedNotStartedEmptyBeside() throws Exception {
        // jgroups-raft's own file log, with entries unidist never framed, and no identity
        FileBasedLog plain = new FileBasedLog();
        plain.useFsync(false);
        plain.init(logDir().toString(), Map.of());
        plain.append(1, new LogEntries().add(new LogEntry(1, new byte[] {1, 2, 3})));
        plain.close();
        assertNames(refused(), logDir().toString(), "entries.raft", RaftLogFiles.IDENTITY, "not a unidist Raft log");

        // garbage where the entries belong, in a directory that is unidist's
        deleteLog();
        writeTen(0);
        byte[] garbage = new byte[4096];
        new java.util.Random(1).nextBytes(garbage);
        write(entries(), 0, garbage);
        assertNames(refused(), entries().toString(), "offset 0");
        assertEquals(0, new FileBasedLogProbe(logDir()).lastAppended(), "jgroups-raft would start empty from it");
    }

    @Test
    void anotherClustersOrVotersLogIsRefused() throws Exception {
        writeTen(10);
        assertNames(assertThrows(IllegalStateException.class, () -> open(logDir(), "c2", "v1")),
                "cluster 'c1'", "cluster 'c2'", logDir().resolve(RaftLogFiles.IDENTITY).toString());
        assertNames(assertThrows(IllegalStateException.class, () -> open(logDir(), "c1", "v2")),
                "voter 'v1'", "voter 'v2'");
        // a renamed voter would start empty beside its old log
        assertNames(assertThrows(IllegalStateException.class, () -> open(dir.resolve("raft").resolve("v4.log"), "c1", "v4")),
                "voter 'v4'", logDir().toString(), "voter 'v1'");
        open();
        assertEquals(10, log.lastAppended(), "the right cluster and voter still start");
    }

    @Test
    void aDamagedOrForeignIdentityIsRefused() throws Exception {
        writeTen(10);
        Path id = logDir().resolve(RaftLogFiles.IDENTITY);
        Files.writeString(id, "format=1\n");
        assertNames(refused(), "format 1", id.toString());
        Files.write(id, new byte[] {0, (byte) 0xff, 3});
        assertNames(refused(), id.toString());
    }

    @Test
    void damagedMetadataIsRefusedNamingTheFile() throws Exception {
        writeTen(10);
        byte[] whole = Files.readAllBytes(metadata());
        cutAt(metadata(), 10);
        assertNames(refused(), metadata().toString(), "10 bytes");

        Files.delete(metadata());
        assertNames(refused(), metadata().toString(), "missing");

        Files.write(metadata(), whole);
        write(metadata(), 8, ByteBuffer.allocate(8).putLong(0, 0).array()); // the term, zeroed
        assertNames(refused(), metadata().toString(), "term 0", "term 3");

        Files.write(metadata(), whole);
        write(metadata(), 0, ByteBuffer.allocate(8).putLong(0, 1_000).array()); // a commit index past the log
        assertNames(refused(), metadata().toString(), "commit index 1000");

        Files.write(metadata(), whole);
        write(metadata(), 16, ByteBuffer.allocate(8).putInt(0, 1_000_000_000).array()); // a vote of a gigabyte
        assertNames(refused(), metadata().toString(), "vote");

        Files.write(metadata(), whole);
        open();
        assertEquals(10, log.lastAppended());
    }

    @Test
    void aVoterOfAnotherClusterOnTheSameDataDirectoryFailsToJoinNamingTheFile() throws Exception {
        try (TestCluster first = TestCluster.start(dir, 1, 0)) {
            assertEquals(1, first.node("v1").counter("c").incrementAndGet());
        }
        UnidistException e = assertThrows(UnidistException.class, () -> TestCluster.start(dir, 1, 0));
        assertNames(e, RaftLogFiles.IDENTITY, "belongs to cluster");
    }

    private static byte[] bytes(LogEntry e) {
        return java.util.Arrays.copyOfRange(e.command(), e.offset(), e.offset() + e.length());
    }

    /** jgroups-raft's file log opened read-only on a directory, to show what it would start with. */
    private static final class FileBasedLogProbe {
        private final long last;

        FileBasedLogProbe(Path dir) throws Exception {
            FileBasedLog plain = new FileBasedLog();
            plain.useFsync(false);
            plain.init(dir.toString(), Map.of());
            last = plain.lastAppended();
            plain.close();
        }

        long lastAppended() {
            return last;
        }
    }
}
