package io.unidist.cluster.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.jgroups.util.ByteArrayDataInputStream;
import org.jgroups.util.ByteArrayDataOutputStream;

/**
 * A command as a client writes it, and as the state machine reads it back.
 *
 * <p>Layout: {@code [short op id][byte version][long session][long seq][long lowWatermark]}
 * then the op's body. {@code session} is 0 for commands that need none (reads, opening a
 * session); {@code seq} numbers the session's requests, so that a retried write is applied
 * once; {@code lowWatermark} is the smallest seq the client still waits for, below which the
 * state machine may forget answers.
 *
 * <p>In the Raft log an entry is {@code [byte entry format][long leader time]} followed by the
 * command: the leader's clock enters the log as data, so every replica decides time-based
 * questions the same way. A read that skips the log has the same layout with
 * {@link #READ_FORMAT}.
 */
final class Cmd {
    static final byte VERSION = 1;
    /** Op id, version, session, seq, low watermark. */
    static final int HEADER_BYTES = 2 + 1 + 8 + 8 + 8;
    static final byte ENTRY_FORMAT = 1;
    /**
     * A read answered by the leader without entering the log: jgroups-raft hands it to the
     * state machine on the leader alone, so the state machine must refuse a write in this form.
     */
    static final byte READ_FORMAT = 2;
    /**
     * Several commands in one entry (group commit): {@code [byte format][long leader time][int n]}
     * then each command as {@code [int length][bytes]}; the answer is {@code [int n]} then each
     * answer as {@code [int length][bytes]}, in the same order.
     */
    static final byte BATCH_FORMAT = 3;
    final Op op;
    final long session;
    final long seq;
    final long lowWatermark;
    final ByteArrayDataInputStream body;

    private Cmd(Op op, long session, long seq, long lowWatermark, ByteArrayDataInputStream body) {
        this.op = op;
        this.session = session;
        this.seq = seq;
        this.lowWatermark = lowWatermark;
        this.body = body;
    }

    /** Starts writing a command. */
    static ByteArrayDataOutputStream start(Op op, long session, long seq, long lowWatermark) {
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream(64);
        out.writeShort(op.id);
        out.writeByte(VERSION);
        out.writeLong(session);
        out.writeLong(seq);
        out.writeLong(lowWatermark);
        return out;
    }

    /**
     * The op of a command as a client wrote it (its first two bytes), or null when they name
     * none: the server decides from the command itself, never from what a client claims.
     */
    static Op peekOp(byte[] command) {
        return command.length < 2 ? null : Op.byId(((command[0] & 0xff) << 8) | (command[1] & 0xff));
    }

    /** Reads a command; throws IOException naming what is wrong with it. */
    static Cmd read(ByteArrayDataInputStream in) throws IOException {
        short id = in.readShort();
        Op op = Op.byId(id);
        if (op == null) {
            throw new IOException("unknown command id " + id);
        }
        byte version = in.readByte();
        if (version != VERSION) {
            throw new IOException("command " + op + " has version " + version + ", this node knows " + VERSION);
        }
        return new Cmd(op, in.readLong(), in.readLong(), in.readLong(), in);
    }

    /** The body of a batch entry after its leader time: each command's bytes. */
    static ByteArrayDataOutputStream batchEntry(long leaderTime, List<byte[]> commands) {
        int size = 13;
        for (byte[] c : commands) {
            size += 4 + c.length;
        }
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream(size);
        out.writeByte(BATCH_FORMAT);
        out.writeLong(leaderTime);
        out.writeInt(commands.size());
        for (byte[] c : commands) {
            out.writeInt(c.length);
            out.write(c);
        }
        return out;
    }

    /** The commands of a batch entry, each a stream over its own bytes; throws naming a bad length. */
    static List<ByteArrayDataInputStream> readBatch(ByteArrayDataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 1 || n > Wire.MAX_BATCH) {
            throw new IOException("batch of " + n + " commands (1.." + Wire.MAX_BATCH + ")");
        }
        List<ByteArrayDataInputStream> commands = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int length = in.readInt();
            int left = in.limit() - in.position();
            if (length < 0 || length > left) {
                throw new IOException("command " + i + " of a batch claims " + length + " bytes, " + left + " left");
            }
            commands.add(new ByteArrayDataInputStream(in.buffer(), in.position(), length));
            in.skipBytes(length);
        }
        return commands;
    }

    /** A batch's answers, in the form {@link #readAnswers} reads. */
    static byte[] writeAnswers(byte[][] answers) {
        int size = 4;
        for (byte[] a : answers) {
            size += 4 + a.length;
        }
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream(size);
        out.writeInt(answers.length);
        for (byte[] a : answers) {
            out.writeInt(a.length);
            out.write(a);
        }
        return out.buffer().length == out.position() ? out.buffer() : java.util.Arrays.copyOf(out.buffer(), out.position());
    }

    /** A batch's answers; throws when they are not {@code expected} well-formed ones. */
    static byte[][] readAnswers(byte[] answer, int expected) throws IOException {
        ByteArrayDataInputStream in = new ByteArrayDataInputStream(answer);
        int n = in.readInt();
        if (n != expected) {
            throw new IOException("a batch of " + expected + " commands got " + n + " answers");
        }
        byte[][] answers = new byte[n][];
        for (int i = 0; i < n; i++) {
            answers[i] = Wire.readBytes(in);
        }
        return answers;
    }

    @Override
    public String toString() {
        return op + "(session " + session + ", seq " + seq + ")";
    }
}
