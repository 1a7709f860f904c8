package io.unidist.internal.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Real files, plus faults on demand: the next write to a file fails half-way as on a full disk,
 * or every write does while the disk is full; truncation fails; forces are counted per kind of
 * file.
 */
final class FaultyIo implements StoreIo {
    private final Queue<String> forced = new ConcurrentLinkedQueue<>();
    private volatile String failNextWriteTo;
    private volatile boolean failTruncates;
    private volatile boolean diskFull;

    /** The next write to a file whose name starts with {@code prefix} writes half its bytes and throws. */
    void failNextWriteTo(String prefix) {
        failNextWriteTo = prefix;
    }

    /** While {@code full}, every write to any file writes half its bytes and throws, as on a full disk. */
    void diskFull(boolean full) {
        diskFull = full;
    }

    void failTruncates(boolean fail) {
        failTruncates = fail;
    }

    /** Forces of files whose name starts with {@code prefix}. */
    int forcesOf(String prefix) {
        return (int) forced.stream().filter(name -> name.startsWith(prefix)).count();
    }

    @Override
    public StoreFile open(Path file) throws IOException {
        return new FaultyFile(file, StoreIo.real().open(file));
    }

    @Override
    public void move(Path source, Path target) throws IOException {
        StoreIo.real().move(source, target);
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        StoreIo.real().forceDirectory(dir);
    }

    @Override
    public void delete(Path file) throws IOException {
        StoreIo.real().delete(file);
    }

    private final class FaultyFile implements StoreFile {
        private final String name;
        private final StoreFile file;

        FaultyFile(Path path, StoreFile file) {
            this.name = path.getFileName().toString();
            this.file = file;
        }

        @Override
        public long size() throws IOException {
            return file.size();
        }

        @Override
        public void write(long position, byte[] bytes) throws IOException {
            String prefix = failNextWriteTo;
            if (diskFull || prefix != null && name.startsWith(prefix)) {
                if (!diskFull) {
                    failNextWriteTo = null;
                }
                file.write(position, Arrays.copyOf(bytes, bytes.length / 2));
                throw new IOException("No space left on device");
            }
            file.write(position, bytes);
        }

        @Override
        public void truncate(long size) throws IOException {
            if (failTruncates) {
                throw new IOException("Input/output error");
            }
            file.truncate(size);
        }

        @Override
        public void force() throws IOException {
            file.force();
            forced.add(name);
        }

        @Override
        public void close() throws IOException {
            file.close();
        }
    }
}
