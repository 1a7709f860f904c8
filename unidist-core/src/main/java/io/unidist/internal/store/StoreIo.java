package io.unidist.internal.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The file operations a {@link DurableStore} writes with. {@link #real()} is the only production
 * implementation; the interface exists so that tests can make an operation fail (a full disk)
 * or count forces.
 */
interface StoreIo {
    /** Opens {@code file} for reading and writing, creating it when missing. */
    StoreFile open(Path file) throws IOException;

    /** Renames {@code source} to {@code target} atomically, replacing it. */
    void move(Path source, Path target) throws IOException;

    /**
     * Forces the directory's entries (new, renamed, deleted files) to the device. Returns quietly
     * on platforms that cannot open a directory; throws when the force itself fails.
     */
    void forceDirectory(Path dir) throws IOException;

    /** Deletes {@code file} if it exists. */
    void delete(Path file) throws IOException;

    /** The files of the file system, through RandomAccessFile; the only implementation outside tests. */
    static StoreIo real() {
        return RealStoreIo.INSTANCE;
    }

    /**
     * An open file. Not safe for concurrent use, except that {@link #force()} may run while
     * another thread writes.
     */
    interface StoreFile extends Closeable {
        /** The file's length in bytes now. */
        long size() throws IOException;

        /** Writes all of {@code bytes} at {@code position}, or throws. */
        void write(long position, byte[] bytes) throws IOException;

        /** Sets the file's length to {@code size} bytes; callers use it to cut a file short. */
        void truncate(long size) throws IOException;

        /** Forces the file's data and metadata to the device. */
        void force() throws IOException;
    }
}
