package io.unidist.logging.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The messages of log forwarding, under one topic of the cluster's messaging. Version 1:
 * <pre>
 * BATCH: 'L' 1 1, count, then per record: seq (long), incarnation (long), track (UTF), length, bytes
 * ACK:   'L' 1 2, up-to seq (long)
 * </pre>
 * Lengths are checked against the message before anything is allocated.
 */
final class LogWire {
    static final String TOPIC = "unidist.logs";
    static final byte BATCH = 1;
    static final byte ACK = 2;
    private static final byte MAGIC = 'L';
    private static final byte VERSION = 1;
    static final int MAX_RECORDS = 100_000;

    /** One forwarded record: the sender's spool sequence, its process incarnation, track and JSON line. */
    record Record(long seq, long incarnation, String track, byte[] line) { }

    private LogWire() {
    }

    static byte[] batch(List<Record> records) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + records.size() * 256);
            DataOutputStream out = new DataOutputStream(bytes);
            header(out, BATCH);
            out.writeInt(records.size());
            for (Record r : records) {
                out.writeLong(r.seq());
                out.writeLong(r.incarnation());
                out.writeUTF(r.track());
                out.writeInt(r.line().length);
                out.write(r.line());
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: does not happen
        }
    }

    static byte[] ack(long upTo) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(12);
            DataOutputStream out = new DataOutputStream(bytes);
            header(out, ACK);
            out.writeLong(upTo);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void header(DataOutputStream out, byte kind) throws IOException {
        out.writeByte(MAGIC);
        out.writeByte(VERSION);
        out.writeByte(kind);
    }

    /** The kind of a message, after checking its header. */
    static byte kind(byte[] message) throws IOException {
        if (message.length < 3 || message[0] != MAGIC) {
            throw new IOException("not a log forwarding message");
        }
        if (message[1] != VERSION) {
            throw new IOException("log forwarding version " + message[1] + ", this node speaks " + VERSION);
        }
        return message[2];
    }

    static List<Record> readBatch(byte[] message) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(message, 3, message.length - 3));
        int count = in.readInt();
        if (count < 0 || count > MAX_RECORDS) {
            throw new IOException("a batch of " + count + " records is out of range");
        }
        List<Record> records = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long seq = in.readLong();
            long incarnation = in.readLong();
            String track = in.readUTF();
            int n = in.readInt();
            if (n < 0 || n > in.available()) {
                throw new IOException("record length " + n + " does not fit the message");
            }
            byte[] line = in.readNBytes(n);
            records.add(new Record(seq, incarnation, track, line));
        }
        return records;
    }

    static long readAck(byte[] message) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(message, 3, message.length - 3));
        return in.readLong();
    }

    /** A spool record: incarnation, track, line. */
    static byte[] spoolRecord(long incarnation, String track, byte[] line) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(line.length + 32);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeLong(incarnation);
            out.writeUTF(track);
            out.write(line);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Record fromSpool(long seq, byte[] spooled) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(spooled));
        long incarnation = in.readLong();
        String track = in.readUTF();
        byte[] line = in.readAllBytes();
        return new Record(seq, incarnation, track, line);
    }
}
