package io.unidist.internal.store;

import io.unidist.UnidistException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The bytes of a store on disk: file names, headers and records. All integers are big-endian.
 * See {@link DurableStore} for how the files fit together.
 *
 * <pre>
 * journal-&lt;n&gt;.log   header:   int magic 'UDJL', int version, long segment number n    (16 bytes)
 *                   records:  int length, int CRC32C(length bytes + payload), payload
 * snapshot-&lt;n&gt;.snap header:   int magic 'UDSN', int version, long n, int payload length,
 *                             int CRC32C(payload), int CRC32C(the 24 header bytes before it)  (28 bytes)
 *                   payload
 * </pre>
 * The record checksum covers the length too, so that a run of zero bytes (what some file
 * systems show after a power loss) never reads as a valid empty record.
 */
final class StoreFormat {
    static final int JOURNAL_MAGIC = 0x55444A4C;
    static final int SNAPSHOT_MAGIC = 0x5544534E;
    static final int VERSION = 1;
    static final int JOURNAL_HEADER_SIZE = 16;
    static final int RECORD_HEADER_SIZE = 8;
    static final int SNAPSHOT_HEADER_SIZE = 28;
    /** Larger lengths are garbage: reading them must not allocate huge arrays. */
    static final int MAX_RECORD_SIZE = 64 * 1024 * 1024;
    static final String TEMP_SUFFIX = ".tmp";
    static final String LOCK_FILE = "store.lock";

    private static final String JOURNAL_PREFIX = "journal-";
    private static final String JOURNAL_SUFFIX = ".log";
    private static final String SNAPSHOT_PREFIX = "snapshot-";
    private static final String SNAPSHOT_SUFFIX = ".snap";

    private StoreFormat() {
    }

    static String journalName(long segment) {
        return JOURNAL_PREFIX + segment + JOURNAL_SUFFIX;
    }

    static String snapshotName(long number) {
        return SNAPSHOT_PREFIX + number + SNAPSHOT_SUFFIX;
    }

    /** The segment number of a journal file name, or -1 when the name is not one. */
    static long journalNumber(String fileName) {
        return number(fileName, JOURNAL_PREFIX, JOURNAL_SUFFIX);
    }

    /** The number of a snapshot file name, or -1 when the name is not one. */
    static long snapshotNumber(String fileName) {
        return number(fileName, SNAPSHOT_PREFIX, SNAPSHOT_SUFFIX);
    }

    private static long number(String name, String prefix, String suffix) {
        if (!name.startsWith(prefix) || !name.endsWith(suffix)) {
            return -1;
        }
        String digits = name.substring(prefix.length(), name.length() - suffix.length());
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        long n = Long.parseLong(digits);
        return n >= 1 ? n : -1;
    }

    static byte[] journalHeader(long segment) {
        return ByteBuffer.allocate(JOURNAL_HEADER_SIZE).putInt(JOURNAL_MAGIC).putInt(VERSION).putLong(segment).array();
    }

    /**
     * Checks a journal header. A wrong magic, version or segment number is not something a torn
     * write produces, so it is never repaired: it fails naming the file and what was found.
     */
    static void checkJournalHeader(Path file, ByteBuffer header, long segment) {
        checkMagicAndVersion(file, "journal", header.getInt(0), JOURNAL_MAGIC, header.getInt(4));
        long found = header.getLong(8);
        if (found != segment) {
            throw new UnidistException("journal " + file + ": header says segment " + found
                    + " but the file name says " + segment + "; was the file renamed or copied over another?");
        }
    }

    static void checkMagicAndVersion(Path file, String kind, int magic, int expectedMagic, int version) {
        if (magic != expectedMagic) {
            throw new UnidistException(kind + " " + file + ": bad header: expected magic " + describeMagic(expectedMagic)
                    + ", found " + describeMagic(magic) + "; it is not a unidist " + kind + " file, or it is damaged");
        }
        if (version != VERSION) {
            throw new UnidistException(kind + " " + file + ": unknown format version " + version
                    + " (this unidist reads version " + VERSION + "); was it written by a newer unidist?");
        }
    }

    /** A record as appended: length, checksum, payload. */
    static byte[] encodeRecord(byte[] payload) {
        return ByteBuffer.allocate(RECORD_HEADER_SIZE + payload.length)
                .putInt(payload.length)
                .putInt(recordChecksum(payload.length, payload, 0))
                .put(payload)
                .array();
    }

    /** The CRC32C of a record: its length's four bytes, then its payload. */
    static int recordChecksum(int length, byte[] bytes, int payloadOffset) {
        CRC32C crc = new CRC32C();
        crc.update(length >>> 24);
        crc.update(length >>> 16);
        crc.update(length >>> 8);
        crc.update(length);
        crc.update(bytes, payloadOffset, length);
        return (int) crc.getValue();
    }

    static int checksum(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }

    static byte[] snapshotHeader(long number, byte[] payload) {
        ByteBuffer header = ByteBuffer.allocate(SNAPSHOT_HEADER_SIZE)
                .putInt(SNAPSHOT_MAGIC)
                .putInt(VERSION)
                .putLong(number)
                .putInt(payload.length)
                .putInt(checksum(payload, 0, payload.length));
        header.putInt(checksum(header.array(), 0, SNAPSHOT_HEADER_SIZE - 4));
        return header.array();
    }

    static String hex(int value) {
        return String.format("0x%08x", value);
    }

    /** A magic number as hex and, when printable, as text: {@code 0x55444a4c ('UDJL')}. */
    static String describeMagic(int magic) {
        StringBuilder text = new StringBuilder();
        for (int shift = 24; shift >= 0; shift -= 8) {
            int c = (magic >>> shift) & 0xFF;
            if (c < 0x20 || c > 0x7E) {
                return hex(magic);
            }
            text.append((char) c);
        }
        return hex(magic) + " ('" + text + "')";
    }
}
