package io.unidist.internal.store;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Files through {@link RandomAccessFile} rather than {@link FileChannel}: an interrupted thread
 * closes a FileChannel under everyone's feet, and the callers of a primitive may well be
 * interrupted (a cancelled task) in the middle of a write.
 */
final class RealStoreIo implements StoreIo {
    static final RealStoreIo INSTANCE = new RealStoreIo();

    private RealStoreIo() {
    }

    @Override
    public StoreFile open(Path file) throws IOException {
        return new RandomAccessStoreFile(new RandomAccessFile(file.toFile(), "rw"));
    }

    @Override
    public void move(Path source, Path target) throws IOException {
        Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        FileChannel channel;
        try {
            channel = FileChannel.open(dir, StandardOpenOption.READ);
        } catch (IOException | UnsupportedOperationException platformCannotOpenDirectories) {
            // Windows, for one: directory entries are durable there without this.
            return;
        }
        try (channel) {
            channel.force(true);
        }
    }

    @Override
    public void delete(Path file) throws IOException {
        Files.deleteIfExists(file);
    }

    private static final class RandomAccessStoreFile implements StoreFile {
        private final RandomAccessFile file;

        RandomAccessStoreFile(RandomAccessFile file) {
            this.file = file;
        }

        @Override
        public long size() throws IOException {
            return file.length();
        }

        @Override
        public void write(long position, byte[] bytes) throws IOException {
            file.seek(position);
            file.write(bytes);
        }

        @Override
        public void truncate(long size) throws IOException {
            file.setLength(size);
        }

        @Override
        public void force() throws IOException {
            file.getFD().sync();
        }

        @Override
        public void close() throws IOException {
            file.close();
        }
    }
}
