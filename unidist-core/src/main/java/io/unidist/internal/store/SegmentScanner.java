package io.unidist.internal.store;

import static io.unidist.internal.store.StoreFormat.JOURNAL_HEADER_SIZE;
import static io.unidist.internal.store.StoreFormat.MAX_RECORD_SIZE;
import static io.unidist.internal.store.StoreFormat.RECORD_HEADER_SIZE;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the records of one journal segment, stopping at the first bad one.
 *
 * <p>It only reads; whether a bad record is a torn tail (cut off) or corruption (open fails) is
 * the caller's decision, made with {@link BadRecord#validDataAfter()}: a crash in the middle of
 * an append leaves one incomplete record at the end and nothing valid after it.
 */
final class SegmentScanner {
    private static final int READ_BUFFER = 64 * 1024;

    /** Receives each good record with the offset of its length field. */
    @FunctionalInterface
    interface RecordSink {
        /**
         * Takes one record whose checksum matched, in file order.
         *
         * @param payload the record's bytes, without length and checksum; the sink may keep it
         * @param offset where the record's length field starts in the file
         */
        void accept(byte[] payload, long offset);
    }

    /** A segment's outcome: {@code bad} is null when every byte after the header is a good record. */
    record Result(long records, long validEnd, long fileSize, BadRecord bad) {
    }

    /**
     * The first bad record: where it starts, what is wrong with it, and (null when nothing) a
     * description of the valid data found after it.
     */
    record BadRecord(long offset, String problem, String validDataAfter) {
    }

    private SegmentScanner() {
    }

    /**
     * Reads the segment's header and records, handing good records to {@code sink}.
     *
     * @throws io.unidist.UnidistException when the header is wrong (naming the file)
     * @throws IOException when the file cannot be read
     */
    static Result scan(Path file, long segment, RecordSink sink) throws IOException {
        long size = Files.size(file);
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(file.toFile()), READ_BUFFER))) {
            byte[] header = in.readNBytes(JOURNAL_HEADER_SIZE);
            if (header.length < JOURNAL_HEADER_SIZE) {
                throw new EOFException(file + " shrank while being read");
            }
            StoreFormat.checkJournalHeader(file, ByteBuffer.wrap(header), segment);
            return readRecords(file, in, size, sink);
        }
    }

    private static Result readRecords(Path file, DataInputStream in, long size, RecordSink sink) throws IOException {
        long offset = JOURNAL_HEADER_SIZE;
        long records = 0;
        while (offset < size) {
            RecordRead read = readRecord(in, size - offset);
            if (read.problem() != null) {
                return new Result(records, offset, size,
                        new BadRecord(offset, read.problem(), findValidDataAfter(file, offset, size)));
            }
            sink.accept(read.payload(), offset);
            records++;
            offset += RECORD_HEADER_SIZE + read.payload().length;
        }
        return new Result(records, offset, size, null);
    }

    /** One record's payload, or (payload null) what is wrong with it. */
    private record RecordRead(byte[] payload, String problem) {
        /** A record that cannot be used, for the reason {@code problem}, which goes into messages. */
        static RecordRead bad(String problem) {
            return new RecordRead(null, problem);
        }
    }

    /** Reads the record at the stream's position, {@code left} bytes before the end of the file. */
    private static RecordRead readRecord(DataInputStream in, long left) throws IOException {
        if (left < RECORD_HEADER_SIZE) {
            return RecordRead.bad("only " + left + " bytes left where a record header needs " + RECORD_HEADER_SIZE);
        }
        int length = in.readInt();
        int stored = in.readInt();
        if (length < 0 || length > MAX_RECORD_SIZE) {
            return RecordRead.bad("record length " + length + " is outside 0.." + MAX_RECORD_SIZE);
        }
        if (length > left - RECORD_HEADER_SIZE) {
            return RecordRead.bad("record length " + length + " runs past the end of the file ("
                    + (left - RECORD_HEADER_SIZE) + " bytes left)");
        }
        byte[] payload = new byte[length];
        in.readFully(payload);
        int computed = StoreFormat.recordChecksum(length, payload, 0);
        if (computed != stored) {
            return RecordRead.bad("checksum mismatch: stored " + StoreFormat.hex(stored) + ", computed " + StoreFormat.hex(computed));
        }
        return new RecordRead(payload, null);
    }

    /**
     * Looks for a valid record starting anywhere after {@code badOffset}. A torn append leaves at
     * most one record's worth of bytes; more than that, or any valid record, means the damage is
     * in the middle of the data and cutting it off would drop acknowledged records.
     */
    static String findValidDataAfter(Path file, long badOffset, long size) throws IOException {
        long rest = size - badOffset - 1;
        if (rest > MAX_RECORD_SIZE + RECORD_HEADER_SIZE) {
            return rest + " bytes follow it, more than one record can hold";
        }
        byte[] tail = new byte[(int) Math.max(rest, 0)];
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            in.seek(badOffset + 1);
            in.readFully(tail);
        }
        ByteBuffer view = ByteBuffer.wrap(tail);
        for (int p = 0; p + RECORD_HEADER_SIZE <= tail.length; p++) {
            int length = view.getInt(p);
            if (length >= 0 && length <= tail.length - p - RECORD_HEADER_SIZE
                    && StoreFormat.recordChecksum(length, tail, p + RECORD_HEADER_SIZE) == view.getInt(p + 4)) {
                return "a valid record follows it at offset " + (badOffset + 1 + p);
            }
        }
        return null;
    }
}
