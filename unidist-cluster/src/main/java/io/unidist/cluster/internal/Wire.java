package io.unidist.cluster.internal;

import java.io.IOException;
import java.util.zip.CRC32C;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.Message;
import org.jgroups.util.ByteArrayDataInputStream;
import org.jgroups.util.ByteArrayDataOutputStream;
import org.jgroups.util.UUID;

/**
 * The messages unidist sends on the main channel, each {@code [magic 'U' 'D'][version][type][crc]}
 * then its fields. A message with another magic, version or type, or whose CRC-32C (over every
 * byte but the CRC's own) does not match, is dropped with a warning: nothing from the network is
 * deserialised into an arbitrary class, and a damaged request (a flipped bit that turns one
 * counter, session or sequence number into another) never reaches the Raft log. Every length
 * field is checked against the bytes the message still holds before anything is allocated.
 */
final class Wire {
    static final byte MAGIC_0 = 'U';
    static final byte MAGIC_1 = 'D';
    /**
     * 2: a request no longer carries a read flag (the server tells reads by their op); 3: every
     * message carries a CRC-32C after its type.
     */
    static final byte VERSION = 3;
    /** Magic, version, type, CRC. */
    static final int HEADER_BYTES = 8;
    private static final int CRC_AT = 4;

    static final byte REQUEST = 1;
    static final byte RESPONSE = 2;
    static final byte GRANTED = 3;
    static final byte DELIVERED = 4;
    static final byte CHANGED = 5;
    /** A {@link io.unidist.cluster.ClusterMessaging} message: topic, payload. */
    static final byte APP = 6;
    /** Several requests of one client in one message: count, then each request's id and command. */
    static final byte REQUESTS = 7;
    /** The answers to one {@link #REQUESTS} message, in one message: count, then each as in a RESPONSE. */
    static final byte RESPONSES = 8;
    /** Most requests in one {@link #REQUESTS} message: a count above it is refused before anything is allocated. */
    static final int MAX_BATCH = 4096;

    static final byte ANSWER = 0;
    static final byte NOT_LEADER = 1;
    static final byte UNAVAILABLE = 2;

    /**
     * Largest command a client may send. The largest real one is a state replace: two values of
     * at most {@link UnidistStateMachine#MAX_VALUE_BYTES} each, plus names; a request that claims
     * more is refused before its bytes are copied.
     */
    static final int MAX_COMMAND = 2 * UnidistStateMachine.MAX_VALUE_BYTES + 256 * 1024;

    private Wire() {
    }

    static ByteArrayDataOutputStream start(byte type, int size) {
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream(size + 4);
        out.writeByte(MAGIC_0);
        out.writeByte(MAGIC_1);
        out.writeByte(VERSION);
        out.writeByte(type);
        out.writeInt(0); // the CRC, filled in by message() once the fields are written
        return out;
    }

    /** The finished message: its CRC is computed over what {@code out} holds now. */
    static Message message(Address to, ByteArrayDataOutputStream out) {
        seal(out.buffer(), out.position());
        return new BytesMessage(to, out.buffer(), 0, out.position());
    }

    /** Writes the CRC of the message in {@code buf[0, length)} into its header. */
    static void seal(byte[] buf, int length) {
        int crc = crc(buf, 0, length);
        buf[CRC_AT] = (byte) (crc >>> 24);
        buf[CRC_AT + 1] = (byte) (crc >>> 16);
        buf[CRC_AT + 2] = (byte) (crc >>> 8);
        buf[CRC_AT + 3] = (byte) crc;
    }

    /** CRC-32C of a message at {@code [offset, offset + length)}, leaving out the CRC field itself. */
    private static int crc(byte[] buf, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(buf, offset, CRC_AT);
        crc.update(buf, offset + HEADER_BYTES, length - HEADER_BYTES);
        return (int) crc.getValue();
    }

    static Message request(Address to, long requestId, byte[] command) {
        ByteArrayDataOutputStream out = start(REQUEST, command.length + 16);
        out.writeLong(requestId);
        out.writeInt(command.length);
        out.write(command);
        return message(to, out);
    }

    /** Several requests in one message; {@code ids} and {@code commands} are parallel. */
    static Message requests(Address to, long[] ids, byte[][] commands, int count) {
        int size = 4;
        for (int i = 0; i < count; i++) {
            size += 12 + commands[i].length;
        }
        ByteArrayDataOutputStream out = start(REQUESTS, size);
        out.writeInt(count);
        for (int i = 0; i < count; i++) {
            out.writeLong(ids[i]);
            out.writeInt(commands[i].length);
            out.write(commands[i]);
        }
        return message(to, out);
    }

    /** Reads the count of a {@link #REQUESTS} or {@link #RESPONSES} message, refusing an impossible one. */
    static int readCount(ByteArrayDataInputStream in) throws IOException {
        int n = in.readInt();
        int left = in.limit() - in.position();
        // every item takes at least 12 bytes (an id and a length or a kind)
        if (n < 1 || n > MAX_BATCH || (long) n * 9 > left) {
            throw new IOException("batch of " + n + " items does not fit the message (" + left + " bytes left, at most "
                    + MAX_BATCH + " items)");
        }
        return n;
    }

    /** One answer of a {@link #RESPONSES} message, as {@link RaftServer} hands it over. */
    record Outcome(byte kind, byte[] answer, String hint) {
        static Outcome answered(byte[] answer) {
            return new Outcome(ANSWER, answer, null);
        }
    }

    /** The answers to a {@link #REQUESTS} message; {@code ids} and {@code outcomes} are parallel. */
    static Message responses(Address to, long[] ids, Outcome[] outcomes) {
        int size = 4;
        for (Outcome o : outcomes) {
            size += 16 + (o.answer() != null ? o.answer().length : 64);
        }
        ByteArrayDataOutputStream out = start(RESPONSES, size);
        out.writeInt(ids.length);
        for (int i = 0; i < ids.length; i++) {
            out.writeLong(ids[i]);
            writeOutcome(out, outcomes[i]);
        }
        return message(to, out);
    }

    /** Reads an outcome as {@link #writeOutcome} wrote it. */
    static Outcome readOutcome(ByteArrayDataInputStream in) throws IOException {
        byte kind = in.readByte();
        return switch (kind) {
            case ANSWER -> new Outcome(kind, readBytes(in), null);
            case NOT_LEADER, UNAVAILABLE -> new Outcome(kind, null, in.readUTF());
            default -> throw new IOException("unknown response kind " + kind);
        };
    }

    private static void writeOutcome(ByteArrayDataOutputStream out, Outcome o) {
        out.writeByte(o.kind());
        if (o.kind() == ANSWER) {
            out.writeInt(o.answer().length);
            out.write(o.answer());
        } else {
            out.writeUTF(o.hint() == null ? "" : o.hint());
        }
    }

    static Message answer(Address to, long requestId, byte[] answer) {
        return response(to, requestId, Outcome.answered(answer));
    }

    static Message notLeader(Address to, long requestId, String leader) {
        return response(to, requestId, new Outcome(NOT_LEADER, null, leader));
    }

    static Message unavailable(Address to, long requestId, String reason) {
        return response(to, requestId, new Outcome(UNAVAILABLE, null, reason));
    }

    static Message response(Address to, long requestId, Outcome outcome) {
        ByteArrayDataOutputStream out = start(RESPONSE, 16 + (outcome.answer() != null ? outcome.answer().length : 64));
        out.writeLong(requestId);
        writeOutcome(out, outcome);
        return message(to, out);
    }

    static Message granted(Address to, long session, LockTable.Holder h) {
        ByteArrayDataOutputStream out = start(GRANTED, 64);
        out.writeLong(session);
        out.writeUTF(h.lock());
        out.writeLong(h.seq());
        out.writeLong(h.token());
        out.writeLong(h.since());
        return message(to, out);
    }

    static Message delivered(Address to, QueueTable.Delivery d) {
        ByteArrayDataOutputStream out = start(DELIVERED, d.payload().length + 64);
        out.writeLong(d.session());
        out.writeLong(d.seq());
        out.writeUTF(d.queue());
        out.writeBoolean(d.dead());
        out.writeLong(d.id());
        out.writeInt(d.attempt());
        out.writeInt(d.payload().length);
        out.write(d.payload());
        return message(to, out);
    }

    static Message changed(Address to, StateTable.Change c) {
        ByteArrayDataOutputStream out = start(CHANGED, (c.value() == null ? 0 : c.value().length) + 64);
        out.writeUTF(c.bucket());
        UnidistStateMachine.writeChange(out, c);
        return message(to, out);
    }

    /** Opens a received message, checking its header and CRC; returns its type. */
    static byte open(ByteArrayDataInputStream in) throws IOException {
        int start = in.position();
        int length = in.limit() - start;
        if (length < HEADER_BYTES) {
            throw new IOException("message of " + length + " bytes is too short");
        }
        byte m0 = in.readByte();
        byte m1 = in.readByte();
        if (m0 != MAGIC_0 || m1 != MAGIC_1) {
            throw new IOException("message does not start with unidist's magic");
        }
        byte version = in.readByte();
        if (version != VERSION) {
            throw new IOException("message version " + version + ", this node speaks " + VERSION);
        }
        byte type = in.readByte();
        int expected = in.readInt();
        int actual = crc(in.buffer(), start, length);
        if (actual != expected) {
            throw new IOException("message of type " + type + " and " + length + " bytes fails its CRC check"
                    + " (damaged or forged)");
        }
        return type;
    }

    /**
     * Reads a length-prefixed byte array, refusing a length the message does not hold: a forged
     * length never makes the node allocate more than the message's own size.
     */
    static byte[] readBytes(ByteArrayDataInputStream in) throws IOException {
        return readBytes(in, Integer.MAX_VALUE, "length");
    }

    /** Reads a request's command: as {@link #readBytes}, and at most {@link #MAX_COMMAND} bytes. */
    static byte[] readCommand(ByteArrayDataInputStream in) throws IOException {
        return readBytes(in, MAX_COMMAND, "command length");
    }

    private static byte[] readBytes(ByteArrayDataInputStream in, int max, String what) throws IOException {
        int n = in.readInt();
        int left = in.limit() - in.position();
        if (n < 0 || n > max || n > left) {
            throw new IOException(what + " " + n + " does not fit the message (" + left + " bytes left"
                    + (max < Integer.MAX_VALUE ? ", at most " + max : "") + ")");
        }
        byte[] bytes = new byte[n];
        in.readFully(bytes);
        return bytes;
    }

    /** A stable text form of a main-channel address, for sessions and views. */
    static String addressKey(Address address) {
        return address instanceof UUID uuid ? uuid.toStringLong() : String.valueOf(address);
    }
}
