package io.unidist.internal.store;

import static io.unidist.internal.store.StoreFormat.SNAPSHOT_HEADER_SIZE;
import static io.unidist.internal.store.StoreFormat.SNAPSHOT_MAGIC;

import io.unidist.UnidistException;
import io.unidist.internal.store.StoreIo.StoreFile;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads and writes snapshot files; see {@link StoreFormat} for their bytes. */
final class SnapshotFiles {
    private static final Logger log = LoggerFactory.getLogger(SnapshotFiles.class);

    /** A snapshot as read: its payload, or (payload null) why it cannot be used. */
    record Read(byte[] payload, String problem) {
        boolean usable() {
            return payload != null;
        }
    }

    private SnapshotFiles() {
    }

    /**
     * Reads and checks a snapshot. Damage that a crash or a bad disk can cause (short file,
     * checksum mismatch) makes an unusable {@link Read}, from which the caller falls back.
     *
     * @throws UnidistException naming the file when the magic or the version is wrong: that is
     *     not a damaged unidist snapshot but a foreign or newer file, and falling back past it
     *     could lose what it holds
     * @throws IOException when the file cannot be read
     */
    static Read read(Path file, long number) throws IOException {
        long size = Files.size(file);
        if (size < SNAPSHOT_HEADER_SIZE) {
            return unusable("only " + size + " bytes, shorter than the " + SNAPSHOT_HEADER_SIZE + "-byte header");
        }
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            byte[] headerBytes = new byte[SNAPSHOT_HEADER_SIZE];
            in.readFully(headerBytes);
            ByteBuffer header = ByteBuffer.wrap(headerBytes);
            StoreFormat.checkMagicAndVersion(file, "snapshot", header.getInt(0), SNAPSHOT_MAGIC, header.getInt(4));
            String problem = headerProblem(header, number, size);
            if (problem != null) {
                return unusable(problem);
            }
            byte[] payload = new byte[header.getInt(16)];
            in.readFully(payload);
            int stored = header.getInt(20);
            int computed = StoreFormat.checksum(payload, 0, payload.length);
            if (stored != computed) {
                return unusable("payload checksum mismatch: stored " + StoreFormat.hex(stored)
                        + ", computed " + StoreFormat.hex(computed));
            }
            return new Read(payload, null);
        }
    }

    private static String headerProblem(ByteBuffer header, long number, long size) {
        int stored = header.getInt(SNAPSHOT_HEADER_SIZE - 4);
        int computed = StoreFormat.checksum(header.array(), 0, SNAPSHOT_HEADER_SIZE - 4);
        if (stored != computed) {
            return "header checksum mismatch: stored " + StoreFormat.hex(stored) + ", computed " + StoreFormat.hex(computed);
        }
        if (header.getLong(8) != number) {
            return "header says snapshot " + header.getLong(8) + " but the file name says " + number;
        }
        long payloadLength = header.getInt(16) & 0xFFFF_FFFFL;
        if (payloadLength > Integer.MAX_VALUE - 8 || payloadLength != size - SNAPSHOT_HEADER_SIZE) {
            return "header says the payload has " + payloadLength + " bytes but the file holds "
                    + (size - SNAPSHOT_HEADER_SIZE) + " after the header";
        }
        return null;
    }

    private static Read unusable(String problem) {
        return new Read(null, problem);
    }

    /**
     * Writes snapshot {@code number} durably: a temporary file, forced when {@code force}, renamed
     * over the final name atomically, then the directory forced. A crash at any point leaves
     * either the old files or the complete new snapshot, plus perhaps a temporary file that the
     * next open removes.
     *
     * @throws UnidistException naming the file when it cannot be written (the temporary file is
     *     removed; no snapshot file changed)
     */
    static Path write(StoreIo io, Path dir, long number, byte[] payload, boolean force) {
        Path target = dir.resolve(StoreFormat.snapshotName(number));
        Path temp = dir.resolve(target.getFileName() + StoreFormat.TEMP_SUFFIX);
        try {
            writeTemp(io, temp, number, payload, force);
            io.move(temp, target);
        } catch (IOException e) {
            Quietly.delete(io, temp);
            throw new UnidistException("could not write snapshot " + target + " (" + payload.length
                    + " bytes, through " + temp.getFileName() + "): " + e, e);
        }
        if (force) {
            forceDirectory(io, dir);
        }
        return target;
    }

    private static void writeTemp(StoreIo io, Path temp, long number, byte[] payload, boolean force) throws IOException {
        try (StoreFile file = io.open(temp)) {
            file.truncate(0);
            file.write(0, StoreFormat.snapshotHeader(number, payload));
            file.write(SNAPSHOT_HEADER_SIZE, payload);
            if (force) {
                file.force();
            }
        }
    }

    /**
     * Forces the directory so that a rename survives a power loss. A failure is logged, not
     * thrown: the rename has happened and cannot be taken back safely, and the data in the file
     * itself is already forced.
     */
    static void forceDirectory(StoreIo io, Path dir) {
        try {
            io.forceDirectory(dir);
        } catch (IOException e) {
            log.warn("{}: could not force the directory; the newest file names may not survive a power loss: {}", dir, e.toString());
        }
    }
}
