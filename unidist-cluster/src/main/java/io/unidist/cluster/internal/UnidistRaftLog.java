package io.unidist.cluster.internal;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;
import org.jgroups.protocols.raft.FileBasedLog;
import org.jgroups.protocols.raft.LogEntries;
import org.jgroups.protocols.raft.LogEntry;

/**
 * jgroups-raft's file log with the snapshot handling a voter of unidist needs, set as RAFT's
 * {@code log_class}.
 *
 * <p>Why not FileBasedLog as it is (jgroups-raft 1.1.4): its snapshot is one byte array
 * written without fsync (the first one not even through a rename) just before the log is
 * truncated, so a power loss can leave neither; and its appends print an I/O error and carry
 * on. Here:
 * <ul>
 *   <li>A snapshot is streamed to a temporary file, forced to disk and renamed into place, with
 *       a checksum of its content and the log index and term it stands for. Only then may the
 *       log be truncated; a node that crashed in between truncates at start-up.</li>
 *   <li>A snapshot is read back as a stream and checked before use: a corrupt one stops the
 *       node with an error naming the file, instead of restoring damaged state.</li>
 *   <li>An append, truncation or re-initialisation that the file log did not carry out throws,
 *       so that RAFT does not go on believing it holds entries it does not have.</li>
 * </ul>
 * A snapshot a follower receives from the leader is written to a temporary file and put in
 * place when RAFT re-initialises the log to the snapshot's index (the moment it learns it).
 *
 * <p><b>Damaged and foreign files.</b> Every entry carries a checksum, and the directory an
 * identity (cluster, voter, format); at start the whole log is checked before jgroups-raft reads
 * it ({@link RaftLogFiles}). A torn last write is cut off with a warning; any other damage, a
 * directory of another cluster, voter or format, or metadata that does not fit the entries stops
 * the voter with an error naming the file, never a silent start that loses entries.
 *
 * <p><b>Failed writes.</b> An append that cannot be written (a full disk) throws
 * {@link WriteFailure} naming the directory and the entries, and leaves the log as it was: the
 * entries were not taken, and nothing was acknowledged for them. The next append writes at the
 * same place, so service resumes when the disk has room again.
 */
public class UnidistRaftLog extends FileBasedLog {
    static final String SNAPSHOT_FILE = "unidist-snapshot.raft";
    private static final String TMP_SUFFIX = ".tmp";
    private static final String INSTALL_FILE = "unidist-snapshot-install" + TMP_SUFFIX;
    private static final long MAGIC = 0x554e49534e415031L; // "UNISNAP1"
    /** magic, index, term, header checksum. */
    private static final int HEADER_BYTES = 8 + 8 + 8 + 4;
    /** payload length, payload checksum. */
    private static final int TRAILER_BYTES = 8 + 4;

    /** Writes a snapshot's content. */
    @FunctionalInterface
    interface ContentWriter {
        void writeTo(DataOutput out) throws Exception;
    }

    /** Reads a snapshot's content. */
    @FunctionalInterface
    interface ContentReader {
        void readFrom(DataInput in) throws Exception;
    }

    /** The index and term the snapshot in place stands for. */
    record SnapshotInfo(long index, long term, long bytes) { }

    /** A write the log could not carry out (a full or read-only disk); the log is as it was before. */
    static final class WriteFailure extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        WriteFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Where a test makes this log's writes fail as on a full disk: throws to refuse the write. */
    @FunctionalInterface
    interface WriteFaults {
        void beforeWrite(Path dir, String what) throws java.io.IOException;
    }

    private static final WriteFaults NO_FAULTS = (d, what) -> { };

    private Path dir;
    private final Object snapshotLock = new Object();
    private long tmpCounter;
    private volatile WriteFaults faults = NO_FAULTS;

    /**
     * Checks the directory (identity, metadata, every entry; see {@link RaftLogFiles}) and opens
     * the log in it, then finishes a truncation a crash interrupted. {@code args} may name the
     * cluster and voter ({@link RaftLogFiles#args}); a log opened without them is checked for
     * format only.
     *
     * @throws IllegalStateException naming the file, if the directory is foreign or damaged
     */
    @Override
    public void init(String log_name, Map<String, String> args) throws Exception {
        dir = Path.of(log_name);
        try {
            RaftLogFiles.checkBeforeOpen(dir, RaftLogFiles.arg(args, RaftLogFiles.ARG_CLUSTER),
                    RaftLogFiles.arg(args, RaftLogFiles.ARG_VOTER));
        } catch (IOException e) {
            throw RaftLogFiles.unreadable(dir, e);
        }
        try {
            super.init(log_name, args);
        } catch (Exception e) {
            throw new IllegalStateException("cannot open the Raft log in " + dir + ": " + e, e);
        }
        removeTemporaryFiles();
        SnapshotInfo info = snapshotInfo();
        RaftLogFiles.checkAfterOpen(dir, commitIndex(), lastAppended(), info == null ? 0 : info.index());
        if (info != null) {
            // the snapshot was renamed into place before the log was cut to it: cut it now, or
            // the entries it already holds would be applied on top of it a second time
            if (info.index() > commitIndex() || info.index() > lastAppended()) {
                super.reinitializeTo(info.index(), RaftLogFiles.frame(info.index(), new LogEntry(info.term(), null)));
                checkReinitialized(info.index());
            } else if (info.index() > firstAppended()) {
                super.truncate(info.index());
                checkTruncated(info.index());
            }
        }
    }

    /** Makes this log's writes go through {@code faults} first (tests: a full disk); null restores them. */
    void faults(WriteFaults faults) {
        this.faults = faults == null ? NO_FAULTS : faults;
    }

    private void beforeWrite(String what) {
        try {
            faults.beforeWrite(dir, what);
        } catch (IOException e) {
            throw new WriteFailure("the Raft log in " + dir + " could not write " + what + ": " + e.getMessage()
                    + " (is the disk full or read-only?); nothing of it was taken", e);
        }
    }

    private void removeTemporaryFiles() throws IOException {
        try (DirectoryStream<Path> tmp = Files.newDirectoryStream(dir, "unidist-snapshot*" + TMP_SUFFIX)) {
            for (Path p : tmp) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The directory of this log. */
    Path directory() {
        return dir;
    }

    private Path snapshotPath() {
        return dir.resolve(SNAPSHOT_FILE);
    }

    /**
     * Streams a snapshot of the state at log index {@code index} (term {@code term}) to disk:
     * a temporary file, forced, then renamed over the previous snapshot. The log is not touched:
     * the caller truncates it once this returns.
     *
     * @return the snapshot's content size in bytes
     * @throws IOException if the file cannot be written; the previous snapshot stays in place
     */
    long writeSnapshot(long index, long term, ContentWriter content) throws Exception {
        beforeWrite("the snapshot at index " + index);
        Path tmp;
        synchronized (snapshotLock) {
            tmp = dir.resolve("unidist-snapshot-" + (++tmpCounter) + TMP_SUFFIX);
        }
        long bytes;
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            writeHeader(ch, index, term);
            CRC32C crc = new CRC32C();
            CountingStream counting = new CountingStream(Channels.newOutputStream(ch));
            DataOutputStream out = new DataOutputStream(
                    new BufferedOutputStream(new CheckedOutputStream(counting, crc), 1 << 16));
            content.writeTo(out);
            out.flush();
            bytes = counting.count;
            ByteBuffer trailer = ByteBuffer.allocate(TRAILER_BYTES).putLong(bytes).putInt((int) crc.getValue()).flip();
            while (trailer.hasRemaining()) {
                ch.write(trailer);
            }
            ch.force(true);
        } catch (Exception e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        synchronized (snapshotLock) {
            SnapshotInfo current = snapshotInfo();
            if (current != null && current.index() > index) {
                Files.deleteIfExists(tmp); // a newer snapshot (one a leader sent) is already in place
                return bytes;
            }
            moveIntoPlace(tmp);
        }
        return bytes;
    }

    private static void writeHeader(FileChannel ch, long index, long term) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).putLong(MAGIC).putLong(index).putLong(term);
        header.putInt(headerChecksum(index, term)).flip();
        while (header.hasRemaining()) {
            ch.write(header, header.position());
        }
        ch.position(HEADER_BYTES);
    }

    private static int headerChecksum(long index, long term) {
        CRC32C crc = new CRC32C();
        crc.update(ByteBuffer.allocate(16).putLong(index).putLong(term).flip());
        return (int) crc.getValue();
    }

    private void moveIntoPlace(Path tmp) throws IOException {
        try {
            Files.move(tmp, snapshotPath(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, snapshotPath(), StandardCopyOption.REPLACE_EXISTING);
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true); // the rename itself must survive a power loss
        } catch (IOException e) {
            // some file systems cannot open a directory; the rename is then as durable as they make it
        }
    }

    /**
     * The index, term and size of the snapshot in place, or null if there is none.
     *
     * @throws UncheckedIOException naming the file if its header is damaged
     */
    SnapshotInfo snapshotInfo() {
        Path p = snapshotPath();
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < HEADER_BYTES + TRAILER_BYTES) {
                throw corrupt(p, "it has " + size + " bytes, fewer than a header and trailer");
            }
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
            readFully(ch, header, 0);
            header.flip();
            if (header.getLong() != MAGIC) {
                throw corrupt(p, "it does not start with unidist's snapshot marker");
            }
            long index = header.getLong();
            long term = header.getLong();
            if (header.getInt() != headerChecksum(index, term)) {
                throw corrupt(p, "the checksum of its index and term does not match");
            }
            return new SnapshotInfo(index, term, size - HEADER_BYTES - TRAILER_BYTES);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the Raft snapshot " + p + ": " + e.getMessage(), e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer into, long position) throws IOException {
        long at = position;
        while (into.hasRemaining()) {
            int n = ch.read(into, at);
            if (n < 0) {
                throw new EOFException();
            }
            at += n;
        }
    }

    private static UncheckedIOException corrupt(Path p, String why) {
        return new UncheckedIOException(new IOException("the Raft snapshot " + p + " is damaged (" + why
                + "); this voter cannot restore its state from it. Move the directory " + p.getParent()
                + " aside and restart the voter: it then receives a snapshot from the leader"));
    }

    /** True if a snapshot is in place. */
    boolean hasSnapshot() {
        return Files.exists(snapshotPath());
    }

    /**
     * Checks the snapshot in place against its checksum, then streams its content to
     * {@code reader} without holding the whole file in memory.
     *
     * @return what was read, or null if there is no snapshot
     * @throws UncheckedIOException naming the file if the snapshot is damaged; nothing was read
     */
    SnapshotInfo readSnapshot(ContentReader reader) throws Exception {
        SnapshotInfo info = snapshotInfo();
        if (info == null) {
            return null;
        }
        Path p = snapshotPath();
        verifyContent(p, info);
        try (InputStream raw = Files.newInputStream(p)) {
            raw.skipNBytes(HEADER_BYTES);
            DataInputStream in = new DataInputStream(new BufferedInputStream(new BoundedStream(raw, info.bytes()), 1 << 16));
            reader.readFrom(in);
        }
        return info;
    }

    private static void verifyContent(Path p, SnapshotInfo info) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer trailer = ByteBuffer.allocate(TRAILER_BYTES);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            long at = HEADER_BYTES;
            long end = HEADER_BYTES + info.bytes();
            while (at < end) {
                buf.clear().limit((int) Math.min(buf.capacity(), end - at));
                int n = ch.read(buf, at);
                if (n < 0) {
                    throw corrupt(p, "it ends early");
                }
                buf.flip();
                crc.update(buf);
                at += n;
            }
            readFully(ch, trailer, end);
        }
        trailer.flip();
        if (trailer.getLong() != info.bytes() || trailer.getInt() != (int) crc.getValue()) {
            throw corrupt(p, "the checksum of its content does not match");
        }
    }

    /**
     * The content of the snapshot in place, checked, in one buffer: RAFT sends it to a follower
     * that is too far behind in one message.
     */
    @Override
    public ByteBuffer getSnapshot() {
        Path p = snapshotPath();
        SnapshotInfo info = snapshotInfo();
        if (info == null) {
            return null;
        }
        if (info.bytes() > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("the Raft snapshot " + p + " has " + info.bytes()
                    + " bytes, too many to send to a follower in one message");
        }
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            verifyContent(p, info);
            ByteBuffer buf = ByteBuffer.allocate((int) info.bytes());
            readFully(ch, buf, HEADER_BYTES);
            return buf.flip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the Raft snapshot " + p + ": " + e.getMessage(), e);
        }
    }

    /**
     * Keeps a snapshot the leader sent; it is put in place by {@link #reinitializeTo}, when RAFT
     * says which index it stands for.
     */
    @Override
    public void setSnapshot(ByteBuffer sn) {
        Path tmp = dir.resolve(INSTALL_FILE);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeHeader(ch, 0, 0);
            CRC32C crc = new CRC32C();
            ByteBuffer content = sn.duplicate();
            crc.update(content.duplicate());
            long bytes = content.remaining();
            while (content.hasRemaining()) {
                ch.write(content);
            }
            ByteBuffer trailer = ByteBuffer.allocate(TRAILER_BYTES).putLong(bytes).putInt((int) crc.getValue()).flip();
            while (trailer.hasRemaining()) {
                ch.write(trailer);
            }
            ch.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the snapshot received from the leader to " + tmp
                    + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void reinitializeTo(long index, LogEntry entry) {
        beforeWrite("the log re-initialised to index " + index);
        Path install = dir.resolve(INSTALL_FILE);
        if (Files.exists(install)) {
            synchronized (snapshotLock) {
                try (FileChannel ch = FileChannel.open(install, StandardOpenOption.WRITE)) {
                    writeHeader(ch, index, entry.term());
                    ch.force(true);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot complete the snapshot received from the leader in "
                            + install + ": " + e.getMessage(), e);
                }
                try {
                    moveIntoPlace(install);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot put the snapshot received from the leader in place at "
                            + snapshotPath() + ": " + e.getMessage(), e);
                }
            }
        }
        super.reinitializeTo(index, RaftLogFiles.frame(index, entry));
        checkReinitialized(index);
    }

    /**
     * Appends, each entry in a checksummed frame, and throws {@link WriteFailure} if the file log
     * did not take them (FileBasedLog only prints its I/O errors).
     */
    @Override
    public long append(long index, LogEntries entries) {
        long expected = index + entries.size() - 1;
        beforeWrite("entries " + index + ".." + expected);
        LogEntries framed = new LogEntries();
        long i = index;
        for (LogEntry e : entries) {
            framed.add(RaftLogFiles.frame(i++, e)); // new objects: RAFT's log cache keeps the ones it passed
        }
        long last = super.append(index, framed);
        if (entries.size() > 0 && last < expected) {
            throw new WriteFailure("the Raft log in " + dir + " did not take entries " + index + ".." + expected
                    + " (it ends at " + last + "): is the disk full or read-only?", null);
        }
        return last;
    }

    /** The entry at {@code index} as RAFT appended it, its checksum verified. */
    @Override
    public LogEntry get(long index) {
        return RaftLogFiles.unframe(dir.resolve(RaftLogFiles.ENTRIES), index, super.get(index));
    }

    @Override
    public void forEach(java.util.function.ObjLongConsumer<LogEntry> function, long start_index, long end_index) {
        Path file = dir.resolve(RaftLogFiles.ENTRIES);
        super.forEach((e, index) -> function.accept(RaftLogFiles.unframe(file, index, e), index), start_index, end_index);
    }

    @Override
    public void truncate(long index_exclusive) {
        super.truncate(index_exclusive);
        checkTruncated(index_exclusive);
    }

    private void checkTruncated(long index) {
        long expected = Math.min(index, commitIndex());
        if (firstAppended() < expected) {
            throw new IllegalStateException("the Raft log in " + dir + " could not be truncated to " + expected
                    + " (it starts at " + firstAppended() + ")");
        }
    }

    private void checkReinitialized(long index) {
        if (firstAppended() != index || lastAppended() != index) {
            throw new IllegalStateException("the Raft log in " + dir + " could not be re-initialised to " + index
                    + " (first " + firstAppended() + ", last " + lastAppended() + ")");
        }
    }

    @Override
    public void delete() {
        try {
            Files.deleteIfExists(snapshotPath());
            removeTemporaryFiles();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the Raft snapshot in " + dir + ": " + e.getMessage(), e);
        }
        super.delete();
    }

    /** Counts bytes on their way to the file. */
    private static final class CountingStream extends OutputStream {
        private final OutputStream target;
        long count;

        CountingStream(OutputStream target) {
            this.target = target;
        }

        @Override
        public void write(int b) throws IOException {
            target.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            target.write(b, off, len);
            count += len;
        }
    }

    /** Reads at most {@code limit} bytes: the trailer is not content. */
    private static final class BoundedStream extends InputStream {
        private final InputStream source;
        private long left;

        BoundedStream(InputStream source, long limit) {
            this.source = source;
            this.left = limit;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = source.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = source.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }
    }
}
