package io.unidist.cluster.internal;

import java.io.DataInput;
import java.io.IOException;
import java.util.function.Supplier;
import org.jgroups.Message;
import org.jgroups.MessageFactory;
import org.jgroups.ObjectMessage;
import org.jgroups.conf.ClassConfigurator;
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
            payload.readFrom(in);
            obj = payload;
        }
    }

    /** Reaches the protected table of {@link MessageFactory}; the subclass exists for that alone. */
    private static final class Installer extends MessageFactory {
        private static volatile boolean installed;

        static synchronized void run() {
            if (!installed) {
                creators[Message.OBJ_MSG] = CheckedObjectMessage::new;
                installed = true;
            }
        }
    }
}
