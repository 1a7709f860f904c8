package io.unidist;

import com.esotericsoftware.kryo.Serializer;
import io.unidist.internal.serial.Registry;

/**
 * Registration of the classes that values and messages may have, beyond the built-in ones.
 *
 * <p>The built-in types need no registration: String, Long, Integer, Double, Boolean, byte[],
 * and List / Map / Set of them (read back as ArrayList, LinkedHashMap and LinkedHashSet). Any
 * other class is encoded with Kryo, which requires registration: a class that is not
 * registered fails at the call that uses it, with a message that says how to register it.
 *
 * <p>Register each class once per process, before it is used, with the same id on every node
 * and across restarts: the id is what is written to disk and sent on the wire. Ids below
 * {@value #FIRST_USER_ID} are reserved. Registration is process-wide and thread-safe.
 */
public final class Serializers {
    /** The smallest id a user class may have. */
    public static final int FIRST_USER_ID = 100;

    private Serializers() {
    }

    /**
     * Registers {@code type} under {@code id}, encoded field by field (Kryo's FieldSerializer;
     * the class needs a no-argument constructor, which may be private).
     *
     * @throws IllegalArgumentException when {@code id} is below {@value #FIRST_USER_ID}, or
     *     the class or the id is already registered otherwise
     */
    public static <T> void register(Class<T> type, int id) {
        Registry.register(type, id, null);
    }

    /**
     * Registers {@code type} under {@code id}, encoded by {@code serializer}.
     *
     * @throws IllegalArgumentException as {@link #register(Class, int)}
     */
    public static <T> void register(Class<T> type, int id, Serializer<T> serializer) {
        Registry.register(type, id, java.util.Objects.requireNonNull(serializer, "serializer"));
    }

    /** Whether values of {@code type} can be stored: a built-in type or a registered class. */
    public static boolean isRegistered(Class<?> type) {
        return Registry.isKnown(type);
    }
}
