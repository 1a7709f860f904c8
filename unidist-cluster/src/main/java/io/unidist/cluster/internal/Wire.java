package io.unidist.cluster.internal;

import java.io.IOException;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.Message;
import org.jgroups.util.ByteArrayDataInputStream;
import org.jgroups.util.ByteArrayDataOutputStream;
import org.jgroups.util.UUID;

/**
 * The messages unidist sends on the main channel, each {@code [magic 'U' 'D'][version][type]}
 * then its fields. A message with another magic, version or type is dropped with a warning:
 * nothing from the network is deserialised into an arbitrary class.
 */
final class Wire {
    static final byte MAGIC_0 = 'U';
    static final byte MAGIC_1 = 'D';
    /** 2: a request no longer carries a read flag (the server tells reads by their op). */
    static final byte VERSION = 2;

    static final byte REQUEST = 1;
    static final byte RESPONSE = 2;
    static final byte GRANTED = 3;
    static final byte DELIVERED = 4;
    static final byte CHANGED = 5;
    /** A {@link io.unidist.cluster.ClusterMessaging} message: topic, payload. */
    static final byte APP = 6;

    static final byte ANSWER = 0;
    static final byte NOT_LEADER = 1;
    static final byte UNAVAILABLE = 2;

    /** Largest command a client may send; the state machine's own limits are below it. */
    static final int MAX_COMMAND = 16 * 1024 * 1024;

    private Wire() {
    }

    static ByteArrayDataOutputStream start(byte type, int size) {
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream(size + 4);
        out.writeByte(MAGIC_0);
        out.writeByte(MAGIC_1);
        out.writeByte(VERSION);
        out.writeByte(type);
        return out;
    }

    static Message message(Address to, ByteArrayDataOutputStream out) {
        return new BytesMessage(to, out.buffer(), 0, out.position());
    }

    static Message request(Address to, long requestId, byte[] command) {
        ByteArrayDataOutputStream out = start(REQUEST, command.length + 16);
        out.writeLong(requestId);
        out.writeInt(command.length);
        out.write(command);
        return message(to, out);
    }

    static Message answer(Address to, long requestId, byte[] answer) {
        ByteArrayDataOutputStream out = start(RESPONSE, answer.length + 16);
        out.writeLong(requestId);
        out.writeByte(ANSWER);
        out.writeInt(answer.length);
        out.write(answer);
        return message(to, out);
    }

    static Message notLeader(Address to, long requestId, String leader) {
        ByteArrayDataOutputStream out = start(RESPONSE, 64);
        out.writeLong(requestId);
        out.writeByte(NOT_LEADER);
        out.writeUTF(leader == null ? "" : leader);
        return message(to, out);
    }

    static Message unavailable(Address to, long requestId, String reason) {
        ByteArrayDataOutputStream out = start(RESPONSE, 64);
        out.writeLong(requestId);
        out.writeByte(UNAVAILABLE);
        out.writeUTF(reason == null ? "" : reason);
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

    /** Opens a received message, checking its header; returns its type. */
    static byte open(ByteArrayDataInputStream in) throws IOException {
        if (in.limit() - in.position() < 4) {
            throw new IOException("message of " + (in.limit() - in.position()) + " bytes is too short");
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
        return in.readByte();
    }

    /** Reads a length-prefixed byte array, refusing lengths that do not fit the message. */
    static byte[] readBytes(ByteArrayDataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_COMMAND || n > in.limit() - in.position()) {
            throw new IOException("length " + n + " does not fit the message");
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
