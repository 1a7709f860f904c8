package io.unidist.cluster.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.zip.CRC32C;
import org.jgroups.protocols.raft.LogEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files of one voter's Raft log directory, checked when the voter starts, and the frame
 * that {@link UnidistRaftLog} puts around every entry.
 *
 * <p><b>Layout.</b> jgroups-raft's file log keeps {@value #ENTRIES} (per entry a 26-byte header
 * {@code [magic 1][total length][term][index][internal][data length]} then the data; zeros after
 * the last entry, which it writes ahead) and {@value #METADATA} ({@code [commit index][term]},
 * then {@code [vote length][vote]} when it has voted). It keeps no checksum and, reading the log
 * at start, stops silently at the first entry it cannot read: a damaged entry in the middle, or
 * a file from anything else, loses every entry after it without a word. So unidist adds:
 * <ul>
 *   <li>{@value #IDENTITY}, written once when the directory is new: the format, the cluster and
 *       the voter. A directory that holds a log but no identity (another format, another
 *       program) or the identity of another cluster or voter is refused, naming the file;</li>
 *   <li>a frame in every entry's data, {@code [kind: 0 no command, 1 command][CRC-32C]} then the
 *       command; the CRC covers the index, term, internal flag, kind and command;</li>
 *   <li>a scan of {@value #ENTRIES} before jgroups-raft reads it: a damaged or cut entry
 *       followed by nothing but zeros is a torn last write, never acknowledged, and is cut off
 *       with a warning (unless the commit index says it was committed); a damaged entry with
 *       data after it stops the start with an error naming the file, the offset and the index;</li>
 *   <li>checks of {@value #METADATA}: present and whole whenever there are entries, a vote
 *       length that fits, a term not below the last entry's, a commit index not past the log.</li>
 * </ul>
 * Every error is an {@link IllegalStateException} whose message names the file and says what to
 * do; nothing is repaired silently except a torn last write.
 */
final class RaftLogFiles {
    private static final Logger log = LoggerFactory.getLogger(RaftLogFiles.class);

    static final String ENTRIES = "entries.raft";
    static final String METADATA = "metadata.raft";
    static final String IDENTITY = "unidist-raft.id";
    /** 2: the identity file and a framed, checksummed entry (format 1 had neither). */
    static final int FORMAT = 2;
    /** log_args keys, hex-encoded UTF-8 values (RAFT splits log_args at commas and equals signs). */
    static final String ARG_CLUSTER = "unidist.cluster";
    static final String ARG_VOTER = "unidist.voter";

    private static final int ENTRY_HEADER = 1 + 4 + 8 + 8 + 1 + 4;
    private static final byte ENTRY_MAGIC = 1;
    /** Kind and CRC before an entry's command. */
    static final int FRAME = 1 + 4;
    private static final byte NO_COMMAND = 0;
    private static final byte COMMAND = 1;
    private static final int MAX_VOTE_BYTES = 4096;

    /** What the scan of {@value #ENTRIES} found: its last entry, or zeros when it holds none. */
    record Entries(long lastIndex, long lastTerm) { }

    private RaftLogFiles() {
    }

    /** RAFT's log_args for a voter of {@code cluster}. */
    static String args(String cluster, String voter) {
        HexFormat hex = HexFormat.of();
        return ARG_CLUSTER + "=" + hex.formatHex(cluster.getBytes(StandardCharsets.UTF_8)) + ","
                + ARG_VOTER + "=" + hex.formatHex(voter.getBytes(StandardCharsets.UTF_8));
    }

    /** A value that {@link #args} put in, or null when the log was opened without one (tests). */
    static String arg(Map<String, String> args, String key) {
        String hex = args == null ? null : args.get(key);
        return hex == null ? null : new String(HexFormat.of().parseHex(hex), StandardCharsets.UTF_8);
    }

    // ----- the frame of an entry

    /** The entry as stored: the command inside a frame that carries its checksum. */
    static LogEntry frame(long index, LogEntry entry) {
        boolean none = entry.command() == null;
        int length = none ? 0 : entry.length();
        byte[] data = new byte[FRAME + length];
        data[0] = none ? NO_COMMAND : COMMAND;
        if (!none) {
            System.arraycopy(entry.command(), entry.offset(), data, FRAME, length);
        }
        ByteBuffer.wrap(data).putInt(1, crc(index, entry.term(), entry.internal(), data));
        return new LogEntry(entry.term(), data, 0, data.length, entry.internal());
    }

    /**
     * The entry as RAFT wrote it, from what the file holds at {@code index}.
     *
     * @throws IllegalStateException naming the file and the index if the frame or checksum is wrong
     */
    static LogEntry unframe(Path file, long index, LogEntry stored) {
        if (stored == null) {
            return null;
        }
        byte[] data = stored.command();
        String problem = frameProblem(index, stored.term(), stored.internal(), data, stored.offset(), stored.length());
        if (problem != null) {
            throw new IllegalStateException("the Raft log " + file + " is damaged at index " + index + ": " + problem
                    + ". Move the voter's directory " + file.getParent() + " aside and restart it: it then receives"
                    + " a snapshot from the leader");
        }
        if (data[stored.offset()] == NO_COMMAND) {
            return new LogEntry(stored.term(), null, 0, 0, stored.internal());
        }
        return new LogEntry(stored.term(), data, stored.offset() + FRAME, stored.length() - FRAME, stored.internal());
    }

    private static String frameProblem(long index, long term, boolean internal, byte[] data, int offset, int length) {
        if (data == null || length < FRAME) {
            return "its data has " + length + " bytes, fewer than a frame";
        }
        byte kind = data[offset];
        if (kind != NO_COMMAND && kind != COMMAND) {
            return "its frame has kind " + kind;
        }
        if (kind == NO_COMMAND && length != FRAME) {
            return "an entry without a command has " + (length - FRAME) + " bytes of command";
        }
        int expected = ByteBuffer.wrap(data, offset + 1, 4).getInt();
        byte[] copy = offset == 0 && length == data.length ? data : java.util.Arrays.copyOfRange(data, offset, offset + length);
        if (crc(index, term, internal, copy) != expected) {
            return "its checksum does not match";
        }
        return null;
    }

    /** CRC-32C of an entry's index, term, internal flag, kind and command (the frame's CRC field left out). */
    private static int crc(long index, long term, boolean internal, byte[] framed) {
        CRC32C crc = new CRC32C();
        crc.update(ByteBuffer.allocate(17).putLong(index).putLong(term).put((byte) (internal ? 1 : 0)).flip());
        crc.update(framed, 0, 1);
        crc.update(framed, FRAME, framed.length - FRAME);
        return (int) crc.getValue();
    }

    // ----- the checks at start

    /**
     * Checks the directory before jgroups-raft opens it: the identity, the metadata, and every
     * entry; cuts a torn last write. Writes the identity of a new directory.
     *
     * @return the commit index and term the metadata holds, and the last entry
     * @throws IllegalStateException naming the file, if the directory is foreign or damaged
     */
    static Entries checkBeforeOpen(Path dir, String cluster, String voter) throws IOException {
        Files.createDirectories(dir);
        checkIdentity(dir, cluster, voter);
        long[] commitAndTerm = readMetadata(dir);
        Entries entries = scanEntries(dir.resolve(ENTRIES), commitAndTerm[0]);
        Path meta = dir.resolve(METADATA);
        if (entries.lastIndex() > 0 && commitAndTerm[1] < entries.lastTerm()) {
            throw damaged(meta, "its term " + commitAndTerm[1] + " is below the term " + entries.lastTerm()
                    + " of the last entry (index " + entries.lastIndex() + ") in " + ENTRIES + ": it was reset or"
                    + " damaged, and the voter could vote twice in one term");
        }
        return entries;
    }

    /**
     * Checks what jgroups-raft read against the scan: a commit index past the last entry and past
     * the snapshot would make RAFT apply entries it does not have.
     */
    static void checkAfterOpen(Path dir, long commitIndex, long lastAppended, long snapshotIndex) {
        if (commitIndex > Math.max(lastAppended, snapshotIndex)) {
            throw damaged(dir.resolve(METADATA), "its commit index " + commitIndex + " is past the last entry "
                    + lastAppended + (snapshotIndex > 0 ? " and the snapshot's index " + snapshotIndex : "")
                    + ": entries that were committed are missing from " + dir.resolve(ENTRIES));
        }
    }

    private static void checkIdentity(Path dir, String cluster, String voter) throws IOException {
        Path id = dir.resolve(IDENTITY);
        if (!Files.exists(id)) {
            List<String> held = heldData(dir);
            if (!held.isEmpty()) {
                throw new IllegalStateException("the Raft directory " + dir + " holds " + String.join(", ", held)
                        + " but no " + IDENTITY + ": it is not a unidist Raft log of format " + FORMAT + " (another"
                        + " format, another program's files, or a copy without its identity). The voter neither"
                        + " starts from it nor starts empty beside it: move the directory aside and restart the voter;"
                        + " it then receives a snapshot from the leader");
            }
            checkNoOtherVoterBeside(dir, voter);
            writeIdentity(dir, id, cluster, voter);
            return;
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(id)) {
            p.load(in);
        } catch (IOException | IllegalArgumentException e) {
            throw damaged(id, "it cannot be read: " + e.getMessage());
        }
        String format = p.getProperty("format");
        if (format == null) {
            throw damaged(id, "it names no format");
        }
        if (!format.equals(Integer.toString(FORMAT))) {
            throw new IllegalStateException("the Raft log in " + dir + " has format " + format + " (" + id + "); this"
                    + " version of unidist reads format " + FORMAT);
        }
        String ownCluster = p.getProperty("cluster");
        if (cluster != null && ownCluster != null && !ownCluster.equals(cluster)) {
            throw new IllegalStateException("the Raft log in " + dir + " belongs to cluster '" + ownCluster + "' (" + id
                    + "), and this node joins cluster '" + cluster + "': check the data directory and the cluster"
                    + " name; a voter must not start from another cluster's log");
        }
        String ownVoter = p.getProperty("voter");
        if (voter != null && ownVoter != null && !ownVoter.equals(voter)) {
            throw new IllegalStateException("the Raft log in " + dir + " belongs to voter '" + ownVoter + "' (" + id
                    + "), and this node is voter '" + voter + "': a voter must not start from another voter's log");
        }
    }

    /** The files of a directory without identity that hold something; empty for a new directory. */
    private static List<String> heldData(Path dir) throws IOException {
        List<String> held = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.endsWith(".tmp")) {
                    continue;
                }
                if ((name.equals(ENTRIES) || name.equals(METADATA)) && allZero(f)) {
                    continue; // what jgroups-raft creates before anything is written
                }
                held.add(name + (Files.isRegularFile(f) ? " (" + Files.size(f) + " bytes)" : ""));
            }
        }
        held.sort(null);
        return held;
    }

    /**
     * A new directory beside the log of another voter of this cluster (in the same data
     * directory): the voter was renamed or its data directory is another's. Starting empty would
     * silently give up that log.
     */
    private static void checkNoOtherVoterBeside(Path dir, String voter) throws IOException {
        Path parent = dir.getParent();
        if (parent == null || voter == null) {
            return;
        }
        try (DirectoryStream<Path> siblings = Files.newDirectoryStream(parent, "*.log")) {
            for (Path s : siblings) {
                Path id = s.resolve(IDENTITY);
                if (s.equals(dir) || !Files.isRegularFile(id)) {
                    continue;
                }
                Properties p = new Properties();
                try (InputStream in = Files.newInputStream(id)) {
                    p.load(in);
                }
                throw new IllegalStateException("voter '" + voter + "' has no Raft log in " + dir + ", but beside it "
                        + s + " holds the log of voter '" + p.getProperty("voter") + "' of cluster '"
                        + p.getProperty("cluster") + "': a renamed voter or another node's data directory."
                        + " Give the node its own data directory, or its old name");
            }
        }
    }

    private static void writeIdentity(Path dir, Path id, String cluster, String voter) throws IOException {
        Properties p = new Properties();
        p.setProperty("format", Integer.toString(FORMAT));
        if (cluster != null) {
            p.setProperty("cluster", cluster);
        }
        if (voter != null) {
            p.setProperty("voter", voter);
        }
        Path tmp = dir.resolve(IDENTITY + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            p.store(out, "unidist Raft log of one voter: written when the log was created, checked at every start");
        }
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        try {
            Files.move(tmp, id, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, id);
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // some file systems cannot open a directory; the rename is then as durable as they make it
        }
    }

    /** The commit index and term in {@value #METADATA}; zeros for a new log. */
    private static long[] readMetadata(Path dir) throws IOException {
        Path meta = dir.resolve(METADATA);
        Path entries = dir.resolve(ENTRIES);
        boolean hasEntries = Files.exists(entries) && !allZero(entries);
        if (!Files.exists(meta)) {
            if (hasEntries) {
                throw damaged(meta, "it is missing while " + entries + " holds entries: the voter's term and vote"
                        + " would be lost, and it could vote twice in one term");
            }
            return new long[] {0, 0};
        }
        long size = Files.size(meta);
        if (size == 0 && !hasEntries) {
            return new long[] {0, 0};
        }
        if (size < 16) {
            throw damaged(meta, "it has " + size + " bytes, fewer than the 16 of the commit index and the term");
        }
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(size, 20));
        try (FileChannel ch = FileChannel.open(meta, StandardOpenOption.READ)) {
            readFully(ch, b, 0);
        }
        long commit = b.getLong(0);
        long term = b.getLong(8);
        if (commit < 0 || term < 0) {
            throw damaged(meta, "it holds commit index " + commit + " and term " + term);
        }
        if (size > 16) {
            if (size < 20) {
                throw damaged(meta, "its vote is cut short (" + size + " bytes)");
            }
            int vote = b.getInt(16);
            if (vote < 0 || vote > size - 20 || vote > MAX_VOTE_BYTES) {
                throw damaged(meta, "its vote claims " + vote + " bytes, and " + (size - 20) + " follow");
            }
        }
        return new long[] {commit, term};
    }

    /**
     * Reads every entry of {@value #ENTRIES} and checks its header, its place in the sequence and
     * its frame. A damaged entry followed only by zeros (or the end) is a torn last write: cut off,
     * with a warning, unless it was committed. Any other damage stops the start.
     */
    static Entries scanEntries(Path file, long commitIndex) throws IOException {
        if (!Files.exists(file)) {
            return new Entries(0, 0);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            long at = 0;
            long lastIndex = 0;
            long lastTerm = 0;
            ByteBuffer header = ByteBuffer.allocate(ENTRY_HEADER);
            while (at < size) {
                String problem = null;
                long index = lastIndex > 0 ? lastIndex + 1 : -1;
                long end = Math.min(size, at + ENTRY_HEADER);
                if (size - at < ENTRY_HEADER) {
                    if (allZero(ch, at, size)) {
                        break;
                    }
                    problem = "its header is cut short";
                } else {
                    header.clear();
                    readFully(ch, header, at);
                    header.flip();
                    byte magic = header.get();
                    int total = header.getInt();
                    long term = header.getLong();
                    long stated = header.getLong();
                    boolean internal = header.get() == 1;
                    int length = header.getInt();
                    if (magic == 0 && allZero(ch, at, size)) {
                        break; // the zeros jgroups-raft writes ahead of the next entry
                    }
                    if (magic != ENTRY_MAGIC || term <= 0 || stated <= 0 || length < 0
                            || total != ENTRY_HEADER + length) {
                        problem = "its header is not an entry's (magic " + magic + ", term " + term + ", index " + stated
                                + ", length " + length + ")";
                    } else if (index > 0 && stated != index) {
                        problem = "it has index " + stated + " where " + index + " belongs";
                    } else {
                        index = stated;
                        end = at + ENTRY_HEADER + length;
                        if (end > size) {
                            problem = "its data is cut short (" + (size - at - ENTRY_HEADER) + " of " + length + " bytes)";
                            end = size;
                        } else {
                            ByteBuffer data = ByteBuffer.allocate(length);
                            readFully(ch, data, at + ENTRY_HEADER);
                            problem = frameProblem(stated, term, internal, data.array(), 0, length);
                        }
                    }
                    if (problem == null) {
                        lastIndex = stated;
                        lastTerm = term;
                        at = end;
                        continue;
                    }
                }
                String where = "offset " + at + (index > 0 ? " (index " + index + ")" : "");
                boolean committed = index > 0 ? index <= commitIndex : commitIndex > lastIndex;
                if (!committed && allZero(ch, end, size)) {
                    log.warn("cut a torn last write off the Raft log {} at {}: {}; {} bytes removed. It was never"
                            + " acknowledged (commit index {}), so nothing committed is lost", file, where, problem,
                            size - at, commitIndex);
                    ch.truncate(at);
                    ch.force(true);
                    break;
                }
                throw damaged(file, "the entry at " + where + " is damaged: " + problem
                        + (committed ? "; it was committed" : "; entries follow it") + ", and starting would lose them");
            }
            return new Entries(lastIndex, lastTerm);
        }
    }

    private static boolean allZero(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return allZero(ch, 0, ch.size());
        }
    }

    private static boolean allZero(FileChannel ch, long from, long to) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        long at = from;
        while (at < to) {
            buf.clear().limit((int) Math.min(buf.capacity(), to - at));
            int n = ch.read(buf, at);
            if (n < 0) {
                return true;
            }
            for (int i = 0; i < n; i++) {
                if (buf.get(i) != 0) {
                    return false;
                }
            }
            at += n;
        }
        return true;
    }

    private static void readFully(FileChannel ch, ByteBuffer into, long position) throws IOException {
        long at = position;
        while (into.hasRemaining()) {
            int n = ch.read(into, at);
            if (n < 0) {
                throw new java.io.EOFException("end of file at " + at);
            }
            at += n;
        }
    }

    static IllegalStateException damaged(Path file, String why) {
        return new IllegalStateException("the Raft file " + file + " is damaged: " + why + ". The voter does not start"
                + " from it: move the directory " + file.getParent() + " aside and restart the voter; it then receives"
                + " a snapshot from the leader");
    }

    /** For an I/O error reading the files at start. */
    static UncheckedIOException unreadable(Path dir, IOException e) {
        return new UncheckedIOException("cannot read the Raft log in " + dir + ": " + e.getMessage(), e);
    }
}
