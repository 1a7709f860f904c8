package io.unidist.internal;

import io.unidist.UnidistException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Helpers for the primitives' journal and snapshot records: each starts with a format version
 * byte and (for journal records) an operation id byte, stable numbers that are never reused.
 */
final class Records {
    private Records() {
    }

    /** Writes what {@code body} writes into a byte array. */
    static byte[] write(IoConsumer<DataOutputStream> body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            body.accept(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    /** A reader over a record, with its version byte checked. */
    static DataInputStream read(byte[] record, int expectedVersion, String what) {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(record));
        int version = record.length == 0 ? -1 : record[0];
        if (version != expectedVersion) {
            throw new UnidistException(what + ": record format version " + version + ", expected " + expectedVersion);
        }
        try {
            in.readByte();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return in;
    }

    static byte[] readBytes(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > in.available()) {
            throw new IOException("length " + length + " exceeds the " + in.available() + " bytes left");
        }
        return in.readNBytes(length);
    }

    static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    static UnidistException corrupt(String what, Exception cause) {
        return new UnidistException(what + ": unreadable record: " + cause, cause);
    }

    /** A consumer that may throw IOException. */
    interface IoConsumer<T> {
        /**
         * Writes the record's fields to {@code t}.
         *
         * @throws IOException as the stream does; over a byte array it does not happen
         */
        void accept(T t) throws IOException;
    }
}
