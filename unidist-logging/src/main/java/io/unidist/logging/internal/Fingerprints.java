package io.unidist.logging.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.zip.GZIPInputStream;

/**
 * Content facts about log files that do not depend on their names: the fingerprint, where the
 * last complete line ends, and the uncompressed length of a gzip file.
 *
 * <p>The fingerprint is the SHA-256, in lower-case hex, of the file's first line including its
 * {@code '\n'}, or of its first {@value #MAX_BYTES} bytes if no {@code '\n'} occurs in them,
 * always over the uncompressed content. A rename does not change it, and neither does
 * compression: a {@code .gz} file has the fingerprint of the file it was made from. A file whose
 * first line is not complete yet has none.
 *
 * <p>Why the first line: it is written once and never changes, it can be checked by anyone who
 * can read the file (a scraper verifies that the file it opened is the one the manifest
 * meant), and in our files it is unique: the first line of a JSON-lines file carries the host,
 * the pid, the per-process {@code seq} and the millisecond; the first line of a text file is a
 * header with a random id (see {@link ManifestedFileAppender}).
 */
final class Fingerprints {

    /** Bytes of the first line that count at most. */
    static final int MAX_BYTES = 4096;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Fingerprints() {
    }

    /**
     * @return the fingerprint of content that starts with {@code head[0..length)}, or
     *         {@code null} if those bytes do not yet hold a complete first line
     */
    static String ofHead(byte[] head, int length) {
        return ofHead(head, 0, length);
    }

    /**
     * @return the fingerprint of content that starts with {@code head[offset, offset + length)},
     *         or {@code null} if those bytes do not yet hold a complete first line
     */
    static String ofHead(byte[] head, int offset, int length) {
        int end = Math.min(length, MAX_BYTES);
        for (int i = 0; i < end; i++) {
            if (head[offset + i] == '\n') {
                return sha256(head, offset, i + 1);
            }
        }
        return end == MAX_BYTES ? sha256(head, offset, MAX_BYTES) : null;
    }

    /**
     * Reads the start of {@code file} (decompressed if {@code gzip}) and fingerprints it.
     *
     * @return the fingerprint, or {@code null} if the file has no complete first line yet or a
     *         gzip file ends early (still being written)
     * @throws IOException if the file cannot be read
     */
    static String ofFile(Path file, boolean gzip) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = gzip ? new GZIPInputStream(raw) : raw) {
            byte[] head = in.readNBytes(MAX_BYTES);
            return ofHead(head, head.length);
        } catch (EOFException e) {
            return null;
        }
    }

    /**
     * @return the offset just past the last {@code '\n'} in the first {@code size} bytes of
     *         {@code file}, 0 if there is none
     */
    static long endOfLastLine(Path file, long size) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(8192);
            long end = Math.min(size, channel.size());
            while (end > 0) {
                long start = Math.max(0, end - buffer.capacity());
                buffer.clear().limit((int) (end - start));
                while (buffer.hasRemaining() && channel.read(buffer, start + buffer.position()) >= 0) {
                    // positional reads until the chunk is full
                }
                for (int i = buffer.position() - 1; i >= 0; i--) {
                    if (buffer.get(i) == '\n') {
                        return start + i + 1;
                    }
                }
                end = start;
            }
            return 0;
        }
    }

    /**
     * The uncompressed length of a single-member gzip file from its trailer (ISIZE, RFC 1952),
     * which holds the length modulo 2^32: exact below 4 GiB.
     */
    static long gzipLength(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 18) { // header (10) + trailer (8): not a complete gzip file
                throw new EOFException("gzip file " + file + " is " + size + " bytes long");
            }
            ByteBuffer trailer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            while (trailer.hasRemaining() && channel.read(trailer, size - 4 + trailer.position()) >= 0) {
                // positional reads until 4 bytes are in
            }
            return Integer.toUnsignedLong(trailer.getInt(0));
        }
    }

    private static String sha256(byte[] bytes, int offset, int length) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(bytes, offset, length);
            byte[] hash = digest.digest();
            char[] hex = new char[hash.length * 2];
            for (int i = 0; i < hash.length; i++) {
                hex[2 * i] = HEX[(hash[i] >> 4) & 0xf];
                hex[2 * i + 1] = HEX[hash[i] & 0xf];
            }
            return new String(hex);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
