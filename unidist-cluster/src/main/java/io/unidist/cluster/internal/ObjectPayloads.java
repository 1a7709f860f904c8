package io.unidist.cluster.internal;

import java.io.DataInput;
import java.io.IOException;
import java.util.function.Supplier;
import org.jgroups.BytesMessage;
import org.jgroups.Message;
import org.jgroups.MessageFactory;
import org.jgroups.ObjectMessage;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.raft.LogEntries;
import org.jgroups.util.Bits;
import org.jgroups.util.ByteArrayDataInputStream;
import org.jgroups.util.ObjectWrapperSerializable;
import org.jgroups.util.SizeStreamable;

/**
 * Keeps JGroups from deserialising what a stranger sends. JGroups decodes an incoming
 * {@link ObjectMessage} in its transport, before any protocol (ENCRYPT, AUTH) can check the
 * sender: a payload that names its class is instantiated by name, and one wrapped in
 * {@link ObjectWrapperSerializable} goes through Java serialization. Either lets anyone who can
 * reach a port run the constructor or deserialisation gadget of any class on the class path.
 *
 * <p>{@link #install()} replaces JGroups' creator of object messages (a JVM-wide table) with
 * one that accepts only payloads of classes registered by number in JGroups' class
 * configurator, except the Java-serialization wrapper. Every object message that JGroups and
 * jgroups-raft send themselves (digests, retransmission lists, Raft log entries) is of such a
 * class. A refused message fails to decode with an {@link IOException} that names the cause;
 * the transport logs it and drops the message, and the node carries on.
 *
 * <p>The table is shared by every channel of the JVM, so a program that also sends
 * Java-serialized objects over JGroups in the same JVM must use {@code BytesMessage}s for them.
 *
 * <p><b>Lengths.</b> JGroups allocates what a payload's length field says before reading it: a
 * byte message that claims 2<sup>31</sup>-1 bytes (in a frame of a few bytes) fails with an
 * OutOfMemoryError, one that claims 2<sup>28</sup> takes 256 MB, and jgroups-raft's log entries
 * do the same with their count and each command's length. The creators installed here refuse,
 * with an {@link IOException}, a byte message payload or a {@link LogEntries} count or command
 * length that the bytes left in the frame cannot hold (when JGroups reads from a byte array, as
 * its transports do).
 */
final class ObjectPayloads {
    /** JGroups marks a payload that names its class instead of a registered number with this. */
    private static final short CLASS_BY_NAME = -1;

    private ObjectPayloads() {
    }

    /** Installs the checked creator; idempotent and thread-safe. */
    static void install() {
        Installer.run();
    }

    /** An object message whose payload must be of a class registered by number, and not Java-serialized. */
    static final class CheckedObjectMessage extends ObjectMessage {
        private static final short SERIALIZED = ClassConfigurator.getMagicNumber(ObjectWrapperSerializable.class);

        @Override
        public Supplier<Message> create() {
            return CheckedObjectMessage::new;
        }

        @Override
        public void readPayload(DataInput in) throws IOException, ClassNotFoundException {
            if (in.readByte() == 0) {
                obj = null;
                return;
            }
            short magic = in.readShort();
            if (magic == CLASS_BY_NAME) {
                throw new IOException("refused an object message whose payload names its class (" + in.readUTF()
                        + "): only classes registered with JGroups by number are decoded");
            }
            if (magic == SERIALIZED) {
                throw new IOException("refused an object message with a Java-serialized payload");
            }
            Object created = ClassConfigurator.create(magic);
            if (!(created instanceof SizeStreamable payload)) {
                throw new IOException("refused an object message whose payload class " + magic + " is not a payload");
            }
            if (created instanceof LogEntries && in instanceof ByteArrayDataInputStream bytes) {
                checkLogEntries(bytes);
            }
            payload.readFrom(in);
            obj = payload;
        }
    }

    /**
     * Walks serialized {@link LogEntries} without allocating: {@code [compressed count]} then per
     * entry {@code [compressed term][1: has command][int length][command][internal]}; refuses a
     * count or length that the bytes left cannot hold. The stream is left where it was.
     */
    static void checkLogEntries(ByteArrayDataInputStream in) throws IOException {
        int start = in.position();
        try {
            int count = Bits.readIntCompressed(in);
            if (count < 0 || count > (in.limit() - in.position()) / 3) { // an entry takes at least 3 bytes
                throw new IOException("refused Raft log entries that claim " + count + " entries in "
                        + (in.limit() - in.position()) + " bytes");
            }
            for (int i = 0; i < count; i++) {
                Bits.readLongCompressed(in);
                if (in.readByte() == 1) {
                    int length = in.readInt();
                    int left = in.limit() - in.position();
                    if (length < 0 || length > left) {
                        throw new IOException("refused a Raft log entry whose command claims " + length + " bytes, "
                                + left + " follow");
                    }
                    in.skipBytes(length);
                }
                in.readBoolean();
            }
        } finally {
            in.position(start);
        }
    }

    /** A byte message whose payload length must fit the bytes that follow it. */
    static final class CheckedBytesMessage extends BytesMessage {
        @Override
        public Supplier<Message> create() {
            return CheckedBytesMessage::new;
        }

        @Override
        public void readPayload(DataInput in) throws IOException {
            if (in instanceof ByteArrayDataInputStream bytes) {
                int start = bytes.position();
                int length = bytes.readInt();
                bytes.position(start);
                int left = bytes.limit() - start - Integer.BYTES;
                if (length > left) {
                    throw new IOException("refused a byte message that claims " + length + " bytes of payload, "
                            + left + " follow");
                }
            }
            super.readPayload(in);
        }
    }

    /** Reaches the protected table of {@link MessageFactory}; the subclass exists for that alone. */
    private static final class Installer extends MessageFactory {
        private static volatile boolean installed;

        static synchronized void run() {
            if (!installed) {
                creators[Message.OBJ_MSG] = CheckedObjectMessage::new;
                creators[Message.BYTES_MSG] = CheckedBytesMessage::new;
                installed = true;
            }
        }
    }
}
