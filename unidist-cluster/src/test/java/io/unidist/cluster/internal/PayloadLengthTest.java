package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import org.jgroups.BytesMessage;
import org.jgroups.Message;
import org.jgroups.MessageFactory;
import org.jgroups.ObjectMessage;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.raft.LogEntries;
import org.jgroups.protocols.raft.LogEntry;
import org.jgroups.util.Bits;
import org.jgroups.util.ByteArrayDataInputStream;
import org.jgroups.util.ByteArrayDataOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Payload length fields from the network that claim far more than the frame holds, read the way
 * JGroups' transport reads every message (the message factory, then {@code readPayload} from a
 * byte array): refused with an IOException, without allocating what they claim. JGroups and
 * jgroups-raft themselves allocate first: 2<sup>31</sup>-1 gives an OutOfMemoryError, 2<sup>28</sup>
 * a quarter of a gigabyte, from a frame of a few bytes that anyone who reaches a port can send.
 */
class PayloadLengthTest {
    private static final long ALLOCATION_CAP = 1L << 20;

    @BeforeAll
    static void install() {
        ObjectPayloads.install();
    }

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /** Reads {@code payload} as a message of {@code type}, as the transport would; the IOException it gives. */
    private static IOException refused(short type, ByteArrayDataOutputStream payload) {
        Message m = MessageFactory.create(type);
        long before = allocated();
        IOException e = assertThrows(IOException.class,
                () -> m.readPayload(new ByteArrayDataInputStream(payload.buffer(), 0, payload.position())));
        long allocated = allocated() - before;
        assertTrue(allocated < ALLOCATION_CAP, "reading a forged length allocated " + allocated + " bytes");
        return e;
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MAX_VALUE, 1 << 30, 1 << 28, 1 << 20, 4})
    void aByteMessageClaimingMoreThanItsFrameIsRefused(int claimed) {
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream();
        out.writeInt(claimed);
        out.write(new byte[] {1, 2, 3});
        IOException e = refused(Message.BYTES_MSG, out);
        assertTrue(e.getMessage().contains(Integer.toString(claimed)), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MAX_VALUE, 1 << 30, 1 << 28, 1 << 20})
    void raftLogEntriesClaimingMoreThanTheirFrameAreRefused(int claimed) throws Exception {
        short magic = ClassConfigurator.getMagicNumber(LogEntries.class);
        ByteArrayDataOutputStream count = new ByteArrayDataOutputStream();
        count.writeByte(1);
        count.writeShort(magic);
        Bits.writeIntCompressed(claimed, count); // entries
        count.write(new byte[16]);
        assertTrue(refused(Message.OBJ_MSG, count).getMessage().contains(Integer.toString(claimed)));

        ByteArrayDataOutputStream length = new ByteArrayDataOutputStream();
        length.writeByte(1);
        length.writeShort(magic);
        Bits.writeIntCompressed(1, length);
        Bits.writeLongCompressed(3, length); // term
        length.writeByte(1); // has a command
        length.writeInt(claimed);
        length.write(new byte[] {7, 7});
        assertTrue(refused(Message.OBJ_MSG, length).getMessage().contains(Integer.toString(claimed)));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, 5000})
    void genuinePayloadsStillRead(int size) throws Exception {
        byte[] data = new byte[size];
        java.util.Arrays.fill(data, (byte) 5);
        Message bytes = roundTrip(new BytesMessage(null, data));
        assertArrayEquals(data, bytes.getArray());

        LogEntries entries = new LogEntries().add(new LogEntry(3, data), new LogEntry(4, null));
        Message object = roundTrip(new ObjectMessage(null, entries));
        LogEntries back = object.getObject();
        assertEquals(2, back.size());
        assertArrayEquals(data, back.iterator().next().command());
    }

    private static Message roundTrip(Message m) throws Exception {
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream();
        m.writePayload(out);
        Message read = MessageFactory.create(m.getType());
        read.readPayload(new ByteArrayDataInputStream(out.buffer(), 0, out.position()));
        return read;
    }
}
