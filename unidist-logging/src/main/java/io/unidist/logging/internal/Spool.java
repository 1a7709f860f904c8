package io.unidist.logging.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * A bounded on-disk queue of records that waits for a collector's acknowledgement: what a
 * forwarding node has logged and no collector has written yet.
 *
 * <p><b>Layout.</b> A directory of segment files {@code spool-<first seq>.seg}, appended to in
 * order, and {@code acked}, the highest acknowledged sequence number. A record is
 * {@code [int length][int CRC32C of seq and bytes][long seq][bytes]}. Sequence numbers grow by
 * one per record and keep growing across restarts (they continue after the highest number on
 * disk, in a segment or in {@code acked}), so that a collector can tell a resend from a new
 * record.
 *
 * <p><b>Durability.</b> Each append is one {@code write} to the file, so a killed process
 * loses nothing that {@link #append} returned for; the data reaches the disk itself within the
 * fsync interval (every append with {@code Duration.ZERO}), which bounds what a power loss
 * takes. The acknowledgement is saved by atomic rename but not forced, because a lost
 * acknowledgement only makes records go out again, and collectors drop such resends.
 *
 * <p><b>Recovery.</b> {@link #open} checks every record. A torn or damaged tail (a crash in
 * the middle of a write, a bad sector) is cut off at the last good record and reported on
 * stderr with the file and the bytes dropped; the spool then works on. A damaged
 * {@code acked} file means everything on disk is sent again.
 *
 * <p><b>Bounds.</b> Segments together stay under {@link Options#maxBytes}. When a record
 * does not fit, the {@link FullPolicy} applies: drop the oldest segment (its unacknowledged
 * records are counted in {@link #dropped}), drop the new record, or block the caller until the
 * collector frees space. Memory holds only a few numbers per segment and one batch in
 * {@link #peek}. A write that fails (disk full, I/O error) drops that record, counts it, cuts
 * the file back to its last good record and warns once; later appends try again.
 *
 * <p><b>Thread safety.</b> Every method may be called from any thread; one lock orders them.
 * {@link #peek} reads the files without it, so appends do not wait for a batch to be read.
 */
final class Spool implements AutoCloseable {

    /** What to do with a record that does not fit in {@link Options#maxBytes}. */
    enum FullPolicy {
        /** Delete the oldest segment, unacknowledged or not; the default, as logs age. */
        DROP_OLDEST,
        /** Keep what is spooled and drop the new record. */
        DROP_NEWEST,
        /** Make the logging thread wait until a collector acknowledges enough records. */
        BLOCK
    }

    /**
     * How big the spool may grow, how often it is forced to disk and what happens when full.
     *
     * @param maxBytes disk the segments may use together, at least 64 KiB
     * @param fsyncInterval how often written records are forced to disk; zero forces every append
     * @param fullPolicy what happens to a record that does not fit
     */
    record Options(long maxBytes, Duration fsyncInterval, FullPolicy fullPolicy) {
        Options {
            if (maxBytes < MIN_BYTES) {
                throw new IllegalArgumentException("spool maxBytes " + maxBytes + " is below " + MIN_BYTES);
            }
            Objects.requireNonNull(fsyncInterval, "fsyncInterval");
            if (fsyncInterval.isNegative()) {
                throw new IllegalArgumentException("spool fsyncInterval " + fsyncInterval + " is negative");
            }
            Objects.requireNonNull(fullPolicy, "fullPolicy");
        }

        static Options defaults() {
            return new Options(64L << 20, Duration.ofSeconds(1), FullPolicy.DROP_OLDEST);
        }

        Options withMaxBytes(long bytes) {
            return new Options(bytes, fsyncInterval, fullPolicy);
        }

        Options withFsyncInterval(Duration interval) {
            return new Options(maxBytes, interval, fullPolicy);
        }

        Options withFullPolicy(FullPolicy policy) {
            return new Options(maxBytes, fsyncInterval, policy);
        }

        /** Sixteen segments to the budget, so that dropping the oldest drops a sixteenth. */
        long segmentBytes() {
            return Math.max(MIN_BYTES / 16, Math.min(8L << 20, maxBytes / 16));
        }
    }

    /** One spooled record and its sequence number. */
    record Entry(long seq, byte[] bytes) {
    }

    static final long MIN_BYTES = 64 << 10;
    static final int HEADER = 16;
    private static final Pattern SEGMENT = Pattern.compile("spool-(\\d{20})\\.seg");
    private static final String ACKED = "acked";

    /** A segment: its records have the sequence numbers {@code first..last}, without gaps. */
    private static final class Segment {
        final long first;
        final Path path;
        long last;
        long size;

        Segment(long first, Path path) {
            this.first = first;
            this.path = path;
            this.last = first - 1;
        }

        long unacked(long acked) {
            return Math.max(0, last - Math.max(acked, first - 1));
        }
    }

    private final Path dir;
    private final Options options;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition space = lock.newCondition();
    private final Deque<Segment> segments = new ArrayDeque<>();
    private final Thread syncer;
    private FileChannel active;
    private long nextSeq;
    private long acked;
    private long totalBytes;
    private long dropped;
    private boolean dirty;
    private boolean closed;
    /** Read position of the first unacknowledged record, so a peek does not scan from the start. */
    private Segment cursorSegment;
    private long cursorOffset;
    private long cursorSeq;

    private Spool(Path dir, Options options) {
        this.dir = dir;
        this.options = options;
        this.syncer = options.fsyncInterval().isZero() ? null : new Thread(this::syncLoop, "unidist-spool-sync");
    }

    /**
     * Opens the spool in {@code dir} (made if missing), checking and repairing what is there.
     *
     * @throws IOException naming the directory if it cannot be made, read or written
     */
    static Spool open(Path dir, Options options) throws IOException {
        Spool spool = new Spool(dir, options);
        spool.lock.lock();
        try {
            spool.recover();
        } catch (IOException e) {
            spool.closeQuietly();
            throw new IOException("log spool " + dir + ": " + e.getMessage(), e);
        } finally {
            spool.lock.unlock();
        }
        if (spool.syncer != null) {
            spool.syncer.setDaemon(true);
            spool.syncer.start();
        }
        return spool;
    }

    private void recover() throws IOException {
        Files.createDirectories(dir);
        acked = readAcked();
        List<Segment> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Matcher m = SEGMENT.matcher(p.getFileName().toString());
                if (m.matches()) {
                    found.add(new Segment(Long.parseLong(m.group(1)), p));
                } else if (p.getFileName().toString().endsWith(".tmp")) {
                    Files.deleteIfExists(p);
                }
            }
        }
        found.sort((a, b) -> Long.compare(a.first, b.first));
        long highest = acked == Long.MIN_VALUE ? 0 : acked;
        for (Segment s : found) {
            Segment prev = segments.peekLast();
            if (prev != null && s.first <= prev.last) {
                // only a hand-made copy gets here; the later numbers would repeat earlier ones
                Warnings.warn("log spool " + s.path + " overlaps the segment before it; deleted");
                Files.deleteIfExists(s.path);
                continue;
            }
            scan(s);
            if (s.last < s.first && s != found.get(found.size() - 1)) {
                Files.deleteIfExists(s.path);
                continue;
            }
            segments.addLast(s);
            totalBytes += s.size;
            highest = Math.max(highest, s.last);
        }
        if (acked == Long.MIN_VALUE) {
            acked = segments.isEmpty() ? 0 : segments.peekFirst().first - 1;
        }
        nextSeq = Math.max(highest, acked) + 1;
        dropFullyAcked();
        Segment tail = segments.peekLast();
        if (tail == null || tail.last + 1 != nextSeq) {
            // appends must continue the tail's numbers, or the next scan would stop at them
            if (tail != null && tail.size == 0) {
                segments.pollLast();
                Files.deleteIfExists(tail.path);
            }
            segments.addLast(newSegment(nextSeq));
        }
        active = FileChannel.open(segments.peekLast().path, StandardOpenOption.WRITE);
        active.position(segments.peekLast().size);
        resetCursor();
    }

    /** Finds the last good record of {@code s} and cuts off what follows it. */
    private void scan(Segment s) throws IOException {
        try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long fileSize = ch.size();
            long pos = 0;
            long expect = s.first;
            ByteBuffer header = ByteBuffer.allocate(HEADER);
            while (pos + HEADER <= fileSize) {
                header.clear();
                readFully(ch, header, pos);
                header.flip();
                int length = header.getInt();
                int crc = header.getInt();
                long seq = header.getLong();
                if (length < 0 || pos + HEADER + length > fileSize || seq != expect) {
                    break;
                }
                ByteBuffer body = ByteBuffer.allocate(length);
                readFully(ch, body, pos + HEADER);
                if (crc(seq, body.array()) != crc) {
                    break;
                }
                pos += HEADER + length;
                expect++;
            }
            if (pos < fileSize) {
                Warnings.warn("log spool " + s.path + ": damaged or torn record at offset " + pos + "; "
                        + (fileSize - pos) + " bytes cut off, " + (expect - s.first) + " records kept");
                ch.truncate(pos);
                ch.force(true);
            }
            s.size = pos;
            s.last = expect - 1;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    private long readAcked() {
        Path p = dir.resolve(ACKED);
        try {
            byte[] b = Files.readAllBytes(p);
            ByteBuffer buf = ByteBuffer.wrap(b);
            if (b.length == 12) {
                long seq = buf.getLong();
                int crc = buf.getInt();
                if (crc(seq, new byte[0]) == crc) {
                    return seq;
                }
            }
            Warnings.warn("log spool " + p + " is damaged; every spooled record is sent again");
        } catch (NoSuchFileException e) {
            // a new spool
        } catch (IOException e) {
            Warnings.warn("log spool " + p + " cannot be read (" + e.getMessage() + "); every spooled record is sent again");
        }
        return Long.MIN_VALUE;
    }

    private void writeAcked() {
        Path p = dir.resolve(ACKED);
        Path tmp = dir.resolve(ACKED + ".tmp");
        ByteBuffer buf = ByteBuffer.allocate(12).putLong(acked).putInt(crc(acked, new byte[0]));
        try {
            Files.write(tmp, buf.array());
            try {
                Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            Warnings.warn("log spool " + p + " cannot be written (" + e.getMessage()
                    + "); acknowledged records may be sent again after a restart");
        }
    }

    private static int crc(long seq, byte[] bytes) {
        CRC32C c = new CRC32C();
        c.update(ByteBuffer.allocate(8).putLong(0, seq));
        c.update(bytes);
        return (int) c.getValue();
    }

    private Segment newSegment(long first) throws IOException {
        Path p = dir.resolve(String.format("spool-%020d.seg", first));
        Files.deleteIfExists(p);
        Files.createFile(p);
        return new Segment(first, p);
    }

    /**
     * Spools {@code bytes} and returns its sequence number, or -1 if it was dropped (the spool
     * was full under {@link FullPolicy#DROP_NEWEST}, the record alone is bigger than the spool,
     * the write failed, or the spool is closed). Under {@link FullPolicy#BLOCK} waits for space.
     */
    long append(byte[] bytes) {
        long need = HEADER + (long) bytes.length;
        lock.lock();
        try {
            if (closed || need > options.maxBytes() / 2) {
                if (!closed) {
                    Warnings.warn("log spool " + dir + ": a record of " + bytes.length
                            + " bytes is more than half the spool; such records are dropped");
                }
                dropped++;
                return -1;
            }
            while (totalBytes + need > options.maxBytes()) {
                if (!makeRoom()) {
                    dropped++;
                    return -1;
                }
            }
            Segment tail = segments.peekLast();
            if (tail.size > 0 && tail.size + need > options.segmentBytes()) {
                tail = roll();
            }
            long seq = nextSeq;
            ByteBuffer buf = ByteBuffer.allocate((int) need);
            buf.putInt(bytes.length).putInt(crc(seq, bytes)).putLong(seq).put(bytes).flip();
            try {
                while (buf.hasRemaining()) {
                    active.write(buf);
                }
                if (syncer == null) {
                    active.force(false);
                }
            } catch (IOException e) {
                undoPartialWrite(tail, e);
                dropped++;
                return -1;
            }
            nextSeq++;
            tail.last = seq;
            tail.size += need;
            totalBytes += need;
            dirty = true;
            return seq;
        } catch (IOException e) {
            Warnings.warn("log spool " + dir + ": cannot start a new segment (" + e.getMessage()
                    + "); records are dropped until it can");
            dropped++;
            return -1;
        } finally {
            lock.unlock();
        }
    }

    /** Frees space by the policy; false if the record must be dropped instead. */
    private boolean makeRoom() throws IOException {
        switch (options.fullPolicy()) {
            case DROP_NEWEST:
                return false;
            case BLOCK:
                try {
                    // a bounded wait re-checks closed; the sender's acknowledgement signals sooner
                    space.await(100, TimeUnit.MILLISECONDS);
                    return !closed;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            default:
                if (segments.size() == 1) {
                    roll();
                }
                Segment oldest = segments.pollFirst();
                dropped += oldest.unacked(acked);
                acked = Math.max(acked, oldest.last);
                totalBytes -= oldest.size;
                Files.deleteIfExists(oldest.path);
                if (cursorSegment == oldest) {
                    resetCursor();
                }
                return true;
        }
    }

    private Segment roll() throws IOException {
        Segment next = newSegment(nextSeq);
        FileChannel old = active;
        active = FileChannel.open(next.path, StandardOpenOption.WRITE);
        segments.addLast(next);
        if (dirty) {
            old.force(false);
        }
        old.close();
        return next;
    }

    private void undoPartialWrite(Segment tail, IOException cause) {
        Warnings.warn("log spool " + dir + ": write failed (" + cause.getMessage()
                + "); records are dropped and counted until writes succeed");
        try {
            active.truncate(tail.size);
            active.position(tail.size);
        } catch (IOException e) {
            Warnings.warn("log spool " + tail.path + ": cannot cut a failed write back (" + e.getMessage()
                    + "); it is repaired at the next start");
        }
    }

    /**
     * Up to {@code maxRecords} records, at most {@code maxBytes} in all (but at least one), with
     * sequence numbers above both {@code afterSeq} and the acknowledged one, in order.
     *
     * @throws IOException if a segment cannot be read
     */
    List<Entry> peek(long afterSeq, int maxRecords, int maxBytes) throws IOException {
        long from;
        long offset;
        long seq;
        List<SegmentView> views = new ArrayList<>();
        lock.lock();
        try {
            from = Math.max(afterSeq, acked) + 1;
            if (closed || from >= nextSeq) {
                return new ArrayList<>();
            }
            if (cursorSegment == null || cursorSeq > from || !segments.contains(cursorSegment)) {
                resetCursor();
            }
            offset = cursorOffset;
            seq = cursorSeq;
            boolean started = false;
            for (Segment s : segments) {
                started |= s == cursorSegment;
                if (started) {
                    views.add(new SegmentView(s, s.path, s.first, s.last));
                }
            }
        } finally {
            lock.unlock();
        }
        // read without the lock, so that logging threads append while a batch is read: the
        // records up to each view's last sequence number were written before the lock was released
        List<Entry> out = new ArrayList<>();
        long bytes = 0;
        Segment skippedTo = null;
        long skippedOffset = 0;
        long skippedSeq = 0;
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        for (int v = 0; v < views.size() && out.size() < maxRecords; v++) {
            SegmentView view = views.get(v);
            if (v > 0) {
                offset = 0;
                seq = view.first();
            }
            FileChannel in;
            try {
                in = FileChannel.open(view.path(), StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                break; // dropped as the oldest while we read: the next peek starts after it
            }
            try (in) {
                while (seq <= view.last() && out.size() < maxRecords) {
                    header.clear();
                    readFully(in, header, offset);
                    int length = header.getInt(0);
                    if (seq >= from) {
                        if (!out.isEmpty() && bytes + length > maxBytes) {
                            return finishPeek(out, skippedTo, skippedOffset, skippedSeq);
                        }
                        ByteBuffer body = ByteBuffer.allocate(length);
                        readFully(in, body, offset + HEADER);
                        out.add(new Entry(seq, body.array()));
                        bytes += length;
                    }
                    offset += HEADER + length;
                    seq++;
                    if (seq <= from) {
                        // acknowledged since the cursor was set: the cursor can move past it
                        skippedTo = view.segment();
                        skippedOffset = offset;
                        skippedSeq = seq;
                    }
                }
            }
        }
        return finishPeek(out, skippedTo, skippedOffset, skippedSeq);
    }

    /** Moves the cursor past records found acknowledged, if nothing moved it meanwhile. */
    private List<Entry> finishPeek(List<Entry> out, Segment skippedTo, long offset, long seq) {
        if (skippedTo != null) {
            lock.lock();
            try {
                if (segments.contains(skippedTo) && seq > cursorSeq && seq - 1 <= acked) {
                    cursorSegment = skippedTo;
                    cursorOffset = offset;
                    cursorSeq = seq;
                }
            } finally {
                lock.unlock();
            }
        }
        return out;
    }

    /** What a peek reads of one segment, taken under the lock. */
    private record SegmentView(Segment segment, Path path, long first, long last) {
    }

    private void resetCursor() {
        cursorSegment = segments.peekFirst();
        cursorOffset = 0;
        cursorSeq = cursorSegment == null ? nextSeq : cursorSegment.first;
    }

    /**
     * Marks every record up to {@code upTo} as written by a collector; segments wholly
     * acknowledged are deleted and blocked appenders wake.
     */
    void acknowledge(long upTo) {
        lock.lock();
        try {
            if (closed || upTo <= acked) {
                return;
            }
            acked = Math.min(upTo, nextSeq - 1);
            try {
                dropFullyAcked();
            } catch (IOException e) {
                Warnings.warn("log spool " + dir + ": cannot delete an acknowledged segment (" + e.getMessage() + ")");
            }
            writeAcked();
            space.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Deletes acknowledged segments except the one being written. */
    private void dropFullyAcked() throws IOException {
        while (segments.size() > 1 && segments.peekFirst().last <= acked) {
            Segment s = segments.pollFirst();
            totalBytes -= s.size;
            Files.deleteIfExists(s.path);
            if (cursorSegment == s) {
                resetCursor();
            }
        }
    }

    /** Records spooled and not yet acknowledged. */
    long pending() {
        lock.lock();
        try {
            long n = 0;
            for (Segment s : segments) {
                n += s.unacked(acked);
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    /** Records dropped since this spool was opened: full, too big, or a failed write. */
    long dropped() {
        lock.lock();
        try {
            return dropped;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes the segments take on disk. */
    long diskBytes() {
        lock.lock();
        try {
            return totalBytes;
        } finally {
            lock.unlock();
        }
    }

    private void syncLoop() {
        long intervalNanos = options.fsyncInterval().toNanos();
        while (true) {
            lock.lock();
            try {
                if (closed) {
                    return;
                }
                space.awaitNanos(intervalNanos); // woken early only by acks; a spare fsync check is cheap
                if (closed) {
                    return;
                }
                if (dirty) {
                    dirty = false;
                    active.force(false);
                }
            } catch (InterruptedException e) {
                return;
            } catch (IOException e) {
                Warnings.warn("log spool " + dir + ": fsync failed (" + e.getMessage() + ")");
            } finally {
                lock.unlock();
            }
        }
    }

    /** Forces what is written to disk and closes the files; appends after this are dropped. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            space.signalAll();
            try {
                if (active != null && active.isOpen()) {
                    active.force(false);
                }
            } catch (IOException e) {
                Warnings.warn("log spool " + dir + ": final fsync failed (" + e.getMessage() + ")");
            }
            closeQuietly();
        } finally {
            lock.unlock();
        }
        if (syncer != null && Thread.currentThread() != syncer) {
            try {
                syncer.join(1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void closeQuietly() {
        closed = true;
        try {
            if (active != null) {
                active.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
