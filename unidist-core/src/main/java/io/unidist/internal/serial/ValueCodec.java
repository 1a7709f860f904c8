package io.unidist.internal.serial;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.unidist.Serializers;
import io.unidist.UnidistException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Encodes values and messages to bytes and back.
 *
 * <p>Format: one version byte, then a tagged value. The built-in types are written by this
 * class with a tag of their own (so no JDK-internal class such as the one behind
 * {@code List.of} ever reaches Kryo); any other value is written by Kryo under its registered
 * id. Lists, sets and maps are read back as ArrayList, LinkedHashSet and LinkedHashMap. Lengths
 * are checked against the bytes that remain before anything is allocated, in this class and in
 * Kryo ({@link CheckedInput}, and the checked serializers of {@link Registry}): bytes from another
 * node that claim a huge string or array are refused as malformed instead of exhausting memory.
 * A user's own serializer must check its lengths itself.
 */
public final class ValueCodec {
    static final byte FORMAT_VERSION = 1;

    private static final byte NULL = 0;
    private static final byte STRING = 1;
    private static final byte LONG = 2;
    private static final byte INT = 3;
    private static final byte DOUBLE = 4;
    private static final byte BOOLEAN = 5;
    private static final byte BYTES = 6;
    private static final byte LIST = 7;
    private static final byte SET = 8;
    private static final byte MAP = 9;
    private static final byte REGISTERED = 10;

    /** How deep lists, sets and maps may nest. */
    private static final int MAX_DEPTH = 64;

    private ValueCodec() {
    }

    /**
     * Checks that values of {@code type} can be stored, before a primitive is opened with it.
     *
     * @throws IllegalArgumentException naming the type and how to fix it
     */
    public static void checkStorableType(Class<?> type, String what) {
        if (type.isPrimitive()) {
            throw new IllegalArgumentException(what + ": primitive type " + type.getName()
                    + " cannot be a value type; use its wrapper class");
        }
        if (type == Object.class || type == Collection.class || type == List.class || type == Set.class
                || type == Map.class || type == ArrayList.class || type == LinkedHashSet.class
                || type == LinkedHashMap.class) {
            return;
        }
        if (Registry.BuiltIns.isBuiltIn(type) && !Collection.class.isAssignableFrom(type)
                && !Map.class.isAssignableFrom(type)) {
            return;
        }
        if (Collection.class.isAssignableFrom(type) || Map.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException(what + ": values of " + type.getName()
                    + " would be read back as ArrayList, LinkedHashSet or LinkedHashMap; declare List, Set or Map");
        }
        if (!Registry.isRegistered(type)) {
            throw unregistered(type);
        }
    }

    /**
     * Encodes {@code value}, which must be an instance of {@code type}.
     *
     * @throws NullPointerException     when {@code value} is null
     * @throws IllegalArgumentException when the value is of another type, or holds an
     *     unregistered class (the message names it and says how to register it)
     */
    public static byte[] encode(Object value, Class<?> type, String what) {
        if (value == null) {
            throw new NullPointerException(what + ": value is null");
        }
        if (!type.isInstance(value)) {
            throw new IllegalArgumentException(what + " holds " + type.getName() + " values, got "
                    + value.getClass().getName());
        }
        try (Output out = new Output(64, -1)) {
            out.writeByte(FORMAT_VERSION);
            write(out, value, 0);
            return out.toBytes();
        }
    }

    /**
     * Decodes bytes made by {@link #encode}, checking that the result is a {@code type}.
     *
     * @throws UnidistException when the bytes are not a valid encoding or of another type
     */
    public static <T> T decode(byte[] bytes, Class<T> type, String what) {
        try (Input in = new CheckedInput(bytes)) {
            byte version = in.readByte();
            if (version != FORMAT_VERSION) {
                throw new UnidistException(what + ": unknown value format version " + version);
            }
            Object value = read(in, 0);
            if (in.position() != bytes.length) {
                throw new UnidistException(what + ": " + (bytes.length - in.position()) + " bytes after the value");
            }
            if (!type.isInstance(value)) {
                throw new UnidistException(what + ": stored value is a "
                        + (value == null ? "null" : value.getClass().getName()) + ", not a " + type.getName());
            }
            return type.cast(value);
        } catch (KryoException | IndexOutOfBoundsException | NegativeArraySizeException e) {
            throw new UnidistException(what + ": value bytes are not a valid encoding: " + e.getMessage(), e);
        }
    }

    private static void write(Output out, Object value, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("value nests deeper than " + MAX_DEPTH + " levels");
        }
        if (value == null) {
            out.writeByte(NULL);
        } else if (value instanceof String s) {
            out.writeByte(STRING);
            out.writeString(s);
        } else if (value instanceof Long l) {
            out.writeByte(LONG);
            out.writeVarLong(l, false);
        } else if (value instanceof Integer i) {
            out.writeByte(INT);
            out.writeVarInt(i, false);
        } else if (value instanceof Double d) {
            out.writeByte(DOUBLE);
            out.writeDouble(d);
        } else if (value instanceof Boolean b) {
            out.writeByte(BOOLEAN);
            out.writeBoolean(b);
        } else if (value instanceof byte[] bytes) {
            out.writeByte(BYTES);
            out.writeVarInt(bytes.length, true);
            out.writeBytes(bytes);
        } else if (value instanceof List<?> list) {
            writeElements(out, LIST, list, depth);
        } else if (value instanceof Set<?> set) {
            writeElements(out, SET, set, depth);
        } else if (value instanceof Map<?, ?> map) {
            writeMap(out, map, depth);
        } else {
            writeRegistered(out, value);
        }
    }

    private static void writeElements(Output out, byte tag, Collection<?> elements, int depth) {
        Object[] copy = elements.toArray();
        out.writeByte(tag);
        out.writeVarInt(copy.length, true);
        for (Object element : copy) {
            write(out, element, depth + 1);
        }
    }

    private static void writeMap(Output out, Map<?, ?> map, int depth) {
        List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
        out.writeByte(MAP);
        out.writeVarInt(entries.size(), true);
        for (Map.Entry<?, ?> e : entries) {
            write(out, e.getKey(), depth + 1);
            write(out, e.getValue(), depth + 1);
        }
    }

    private static void writeRegistered(Output out, Object value) {
        Class<?> type = value.getClass();
        if (!Registry.isRegistered(type)) {
            throw unregistered(type);
        }
        out.writeByte(REGISTERED);
        try {
            // length-prefixed, so that a reader without the class (a voter) can still skip and compare it
            byte[] encoded = Registry.withKryo(kryo -> {
                try (Output inner = new Output(64, -1)) {
                    kryo.writeClassAndObject(inner, value);
                    return inner.toBytes();
                }
            });
            out.writeVarInt(encoded.length, true);
            out.writeBytes(encoded);
        } catch (IllegalArgumentException | KryoException e) {
            throw new IllegalArgumentException("cannot encode " + type.getName() + ": " + e.getMessage()
                    + " (every class it holds must be registered with Serializers.register(...))", e);
        }
    }

    private static Object read(Input in, int depth) {
        if (depth > MAX_DEPTH) {
            throw new UnidistException("value nests deeper than " + MAX_DEPTH + " levels");
        }
        byte tag = in.readByte();
        return switch (tag) {
            case NULL -> null;
            case STRING -> in.readString();
            case LONG -> in.readVarLong(false);
            case INT -> in.readVarInt(false);
            case DOUBLE -> in.readDouble();
            case BOOLEAN -> in.readBoolean();
            case BYTES -> in.readBytes(checkedLength(in, 1));
            case LIST -> readInto(in, new ArrayList<>(), depth);
            case SET -> readInto(in, new LinkedHashSet<>(), depth);
            case MAP -> readMap(in, depth);
            case REGISTERED -> readRegistered(in);
            default -> throw new UnidistException("unknown value tag " + tag);
        };
    }

    private static Object readRegistered(Input in) {
        byte[] encoded = in.readBytes(checkedLength(in, 1));
        return Registry.withKryo(kryo -> {
            try (Input inner = new CheckedInput(encoded)) {
                Object value = kryo.readClassAndObject(inner);
                if (inner.position() != encoded.length) {
                    throw new UnidistException((encoded.length - inner.position()) + " bytes after a registered value");
                }
                return value;
            }
        });
    }

    /**
     * Whether two encodings hold equal values, judged without the registered classes (so that a
     * node that does not have them, such as a voter, can judge): lists by order, sets and maps
     * by content whatever their order, byte arrays by content, registered values by their bytes.
     * Equal encodings are always equal values.
     */
    public static boolean sameValue(byte[] a, byte[] b) {
        if (java.util.Arrays.equals(a, b)) {
            return true;
        }
        try {
            return java.util.Objects.equals(structure(a), structure(b));
        } catch (RuntimeException malformed) {
            return false;
        }
    }

    private static Object structure(byte[] bytes) {
        try (Input in = new CheckedInput(bytes)) {
            if (in.readByte() != FORMAT_VERSION) {
                throw new UnidistException("unknown value format version");
            }
            return readStructure(in, 0);
        }
    }

    /** Like {@link #read}, with byte arrays and registered values as comparable ByteBuffers. */
    private static Object readStructure(Input in, int depth) {
        if (depth > MAX_DEPTH) {
            throw new UnidistException("value nests deeper than " + MAX_DEPTH + " levels");
        }
        byte tag = in.readByte();
        switch (tag) {
            case BYTES:
            case REGISTERED:
                return java.nio.ByteBuffer.wrap(in.readBytes(checkedLength(in, 1)));
            case LIST: {
                int n = checkedLength(in, 1);
                List<Object> list = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    list.add(readStructure(in, depth + 1));
                }
                return list;
            }
            case SET: {
                int n = checkedLength(in, 1);
                Set<Object> set = new java.util.HashSet<>();
                for (int i = 0; i < n; i++) {
                    set.add(readStructure(in, depth + 1));
                }
                return set;
            }
            case MAP: {
                int n = checkedLength(in, 2);
                Map<Object, Object> map = new java.util.HashMap<>();
                for (int i = 0; i < n; i++) {
                    map.put(readStructure(in, depth + 1), readStructure(in, depth + 1));
                }
                return map;
            }
            default:
                in.setPosition(in.position() - 1);
                return read(in, depth);
        }
    }

    private static <C extends Collection<Object>> C readInto(Input in, C into, int depth) {
        int n = checkedLength(in, 1);
        for (int i = 0; i < n; i++) {
            into.add(read(in, depth + 1));
        }
        return into;
    }

    private static Map<Object, Object> readMap(Input in, int depth) {
        int n = checkedLength(in, 2);
        Map<Object, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            map.put(read(in, depth + 1), read(in, depth + 1));
        }
        return map;
    }

    /** A length that cannot exceed the bytes left, given each item takes at least {@code minBytes}. */
    private static int checkedLength(Input in, int minBytes) {
        int n = in.readVarInt(true);
        long left = in.limit() - in.position();
        if (n < 0 || (long) n * minBytes > left) {
            throw new UnidistException("length " + n + " exceeds the " + left + " bytes left");
        }
        return n;
    }

    private static IllegalArgumentException unregistered(Class<?> type) {
        return new IllegalArgumentException("unregistered class " + type.getName()
                + ": register it with Serializers.register(" + type.getSimpleName() + ".class, id) with an id >= "
                + Serializers.FIRST_USER_ID + ", the same on every node");
    }
}
