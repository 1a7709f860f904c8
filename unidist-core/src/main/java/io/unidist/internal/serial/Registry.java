package io.unidist.internal.serial;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.CollectionSerializer;
import com.esotericsoftware.kryo.serializers.MapSerializer;
import java.util.Collection;
import com.esotericsoftware.kryo.util.Pool;
import io.unidist.Serializers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * The process-wide table of classes that Kryo may encode, and the pool of Kryo instances.
 *
 * <p>Kryo instances are not thread-safe, so each encode borrows one from a pool. Every instance
 * requires registration, so that nothing can make it instantiate a class by name. A
 * registration made after an instance was created reaches it the next time it is borrowed:
 * each instance remembers how many registrations it has applied.
 */
public final class Registry {
    /** JDK classes that user classes commonly hold in their fields; ids below the user range. */
    private static final List<Class<?>> JDK_CLASSES = List.of(
            ArrayList.class, LinkedList.class, HashMap.class, LinkedHashMap.class, TreeMap.class,
            HashSet.class, LinkedHashSet.class, TreeSet.class, String[].class, long[].class,
            int[].class, double[].class, boolean[].class, Object[].class);
    private static final int FIRST_JDK_ID = 20;

    private record Registration(Class<?> type, int id, Serializer<?> serializer) { }

    private static final CopyOnWriteArrayList<Registration> REGISTRATIONS = new CopyOnWriteArrayList<>();
    private static final ConcurrentHashMap<Class<?>, Registration> BY_CLASS = new ConcurrentHashMap<>();

    private static final Pool<PooledKryo> POOL = new Pool<>(true, false, 64) {
        @Override
        protected PooledKryo create() {
            return new PooledKryo();
        }
    };

    private Registry() {
    }

    /** Registers a user class; see {@link Serializers#register(Class, int)}. */
    public static synchronized void register(Class<?> type, int id, Serializer<?> serializer) {
        Objects.requireNonNull(type, "type");
        if (id < Serializers.FIRST_USER_ID) {
            throw new IllegalArgumentException("cannot register " + type.getName() + " with id " + id
                    + ": ids below " + Serializers.FIRST_USER_ID + " are reserved by unidist");
        }
        if (type.isPrimitive() || BuiltIns.isBuiltIn(type)) {
            throw new IllegalArgumentException(type.getName() + " is built in and needs no registration");
        }
        Registration existing = BY_CLASS.get(type);
        if (existing != null) {
            if (existing.id == id && Objects.equals(existing.serializer, serializer)) {
                return;
            }
            throw new IllegalArgumentException("class " + type.getName() + " is already registered with id "
                    + existing.id + (existing.id == id ? " and another serializer" : ", not " + id));
        }
        for (Registration r : REGISTRATIONS) {
            if (r.id == id) {
                throw new IllegalArgumentException("id " + id + " is already registered for class "
                        + r.type.getName() + ", cannot use it for " + type.getName());
            }
        }
        Registration registration = new Registration(type, id, serializer);
        REGISTRATIONS.add(registration);
        BY_CLASS.put(type, registration);
    }

    /** Whether values of {@code type} can be encoded. */
    public static boolean isKnown(Class<?> type) {
        return BuiltIns.isBuiltIn(type) || BY_CLASS.containsKey(type);
    }

    /** Whether {@code type} was registered by a user. */
    static boolean isRegistered(Class<?> type) {
        return BY_CLASS.containsKey(type);
    }

    /** Runs {@code work} with a pooled Kryo instance that has every registration applied. */
    static <R> R withKryo(Function<Kryo, R> work) {
        PooledKryo pooled = POOL.obtain();
        try {
            pooled.catchUp();
            return work.apply(pooled.kryo);
        } finally {
            POOL.free(pooled);
        }
    }

    /** A Kryo instance and how many registrations it has applied. */
    private static final class PooledKryo {
        final Kryo kryo = new Kryo();
        int applied;

        PooledKryo() {
            kryo.setRegistrationRequired(true);
            kryo.setReferences(false);
            for (int i = 0; i < JDK_CLASSES.size(); i++) {
                Class<?> type = JDK_CLASSES.get(i);
                Serializer<?> checked = checkedSerializer(type);
                if (checked == null) {
                    kryo.register(type, FIRST_JDK_ID + i);
                } else {
                    kryo.register(type, checked, FIRST_JDK_ID + i);
                }
            }
        }

        /**
         * For a class whose default serializer allocates what a length in the bytes says (object
         * arrays, and the collections Kryo pre-sizes), the same serializer with that length checked
         * against the bytes left; the encoding is unchanged. Null for any other class: strings and
         * primitive arrays are checked by {@link CheckedInput}; linked lists, tree sets and tree
         * maps grow as they read.
         */
        private Serializer<?> checkedSerializer(Class<?> type) {
            if (type.isArray() && !type.getComponentType().isPrimitive()) {
                return new CheckedArraySerializer(kryo.getDefaultSerializer(type));
            }
            if (type == ArrayList.class || type == HashSet.class || type == LinkedHashSet.class) {
                return new CheckedCollectionSerializer();
            }
            if (type == HashMap.class || type == LinkedHashMap.class) {
                return new CheckedMapSerializer();
            }
            return null;
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        void catchUp() {
            List<Registration> all = REGISTRATIONS;
            for (int i = applied; i < all.size(); i++) {
                Registration r = all.get(i);
                Serializer<?> checked = r.serializer == null ? checkedSerializer(r.type) : null;
                if (checked != null) {
                    kryo.register(r.type, checked, r.id);
                } else if (r.serializer == null) {
                    kryo.register(r.type, r.id);
                } else {
                    kryo.register(r.type, (Serializer) r.serializer, r.id);
                }
            }
            applied = all.size();
        }
    }

    /** Throws unless {@code count} elements of at least {@code bytesEach} bytes fit in what {@code input} has left. */
    private static void checkFits(Input input, long count, int bytesEach, Class<?> type) {
        long left = input.limit() - input.position();
        if (count < 0 || count * bytesEach > left) {
            throw new KryoException("a " + type.getName() + " of " + count + " elements cannot be read from the "
                    + left + " bytes left");
        }
    }

    /** Kryo's collection serializer, with the size it pre-allocates checked first; same encoding. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class CheckedCollectionSerializer extends CollectionSerializer {
        @Override
        protected Collection create(Kryo kryo, Input input, Class type, int size) {
            checkFits(input, size, 1, type);
            return super.create(kryo, input, type, size);
        }
    }

    /** Kryo's map serializer, with the size it pre-allocates checked first; same encoding. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class CheckedMapSerializer extends MapSerializer {
        @Override
        protected Map create(Kryo kryo, Input input, Class type, int size) {
            checkFits(input, size, 2, type);
            return super.create(kryo, input, type, size);
        }
    }

    /**
     * An object array serializer that checks the length (written first, plus one; 0 for null)
     * before the delegate allocates the array; same encoding.
     */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class CheckedArraySerializer extends Serializer<Object> {
        private final Serializer delegate;

        CheckedArraySerializer(Serializer<?> delegate) {
            super(delegate.getAcceptsNull(), delegate.isImmutable());
            this.delegate = delegate;
        }

        @Override
        public void write(Kryo kryo, Output output, Object object) {
            delegate.write(kryo, output, object);
        }

        @Override
        public Object read(Kryo kryo, Input input, Class<?> type) {
            int start = input.position();
            int lengthPlusOne = input.readVarInt(true);
            input.setPosition(start);
            if (lengthPlusOne != 0) {
                checkFits(input, lengthPlusOne - 1L, 1, type);
            }
            return delegate.read(kryo, input, (Class) type);
        }

        @Override
        public Object copy(Kryo kryo, Object original) {
            return delegate.copy(kryo, original);
        }
    }

    /** The types that {@link ValueCodec} encodes itself. */
    static final class BuiltIns {
        private BuiltIns() {
        }

        static boolean isBuiltIn(Class<?> type) {
            return type == String.class || type == Long.class || type == Integer.class || type == Double.class
                    || type == Boolean.class || type == byte[].class || List.class.isAssignableFrom(type)
                    || Map.class.isAssignableFrom(type) || java.util.Set.class.isAssignableFrom(type);
        }
    }
}
