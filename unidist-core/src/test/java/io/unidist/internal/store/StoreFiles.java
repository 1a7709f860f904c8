package io.unidist.internal.store;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** What tests do to store files behind the store's back: a crash, a bad disk, a stray file. */
final class StoreFiles {
    private StoreFiles() {
    }

    static Path journal(Path dir, long n) {
        return dir.resolve(StoreFormat.journalName(n));
    }

    static Path snapshot(Path dir, long n) {
        return dir.resolve(StoreFormat.snapshotName(n));
    }

    /** The directory's file names, sorted, without the lock file. */
    static String names(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(name -> !name.equals(StoreFormat.LOCK_FILE))
                    .sorted()
                    .collect(Collectors.joining(" "));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void flipByte(Path file, long offset) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(offset);
            int b = raf.read();
            raf.seek(offset);
            raf.write(b ^ 0x40);
        }
    }

    static void overwriteInt(Path file, long offset, int value) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(offset);
            raf.writeInt(value);
        }
    }

    static void cutBytes(Path file, int count) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(raf.length() - count);
        }
    }

    static void append(Path file, byte[] bytes) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(raf.length());
            raf.write(bytes);
        }
    }
}
