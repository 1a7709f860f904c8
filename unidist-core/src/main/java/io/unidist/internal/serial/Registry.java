package io.unidist.internal.serial;

import com.esotericsoftware.kryo.Serializer;

/** Process-wide class registrations (being written). */
public final class Registry {
    private Registry() {
    }

    /** Registers a class. */
    public static void register(Class<?> type, int id, Serializer<?> serializer) {
        throw new UnsupportedOperationException("not yet");
    }

    /** Whether a class is known. */
    public static boolean isKnown(Class<?> type) {
        return false;
    }
}
