package io.unidist.internal.serial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.io.Output;
import io.unidist.Serializers;
import io.unidist.UnidistException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Value bytes that claim a huge string, array or collection: another node stored them, so a
 * reader must refuse them as malformed without allocating what they claim. Kryo 5.6 itself
 * allocates first: a length of 2<sup>31</sup>-1 then fails with an OutOfMemoryError, one of
 * 2<sup>28</sup> takes half a gigabyte of a 1 GB heap. Each case decodes on this thread and
 * checks what this thread allocated.
 */
class ValueCodecHostileBytesTest {
    /** Far above what decoding a few dozen bytes needs, far below any of the claimed sizes. */
    private static final long ALLOCATION_CAP = 4L << 20;
    private static final int[] HUGE = {Integer.MAX_VALUE - 1, 1 << 30, 1 << 28, 1 << 24};

    /** A registered class with a String field: Kryo reads it with its own string code. */
    static final class Named {
        String name;
    }

    /** A registered class with a field of every JDK class that gets a checked serializer. */
    static final class Holder {
        long[] numbers;
        Object[] objects;
        String[] strings;
        ArrayList<String> list;
        LinkedHashSet<String> set;
        HashMap<String, Long> map;
    }

    @BeforeAll
    static void register() {
        Serializers.register(Named.class, 7_341);
        Serializers.register(Holder.class, 7_342);
    }

    static Stream<Arguments> hostileValues() {
        List<Arguments> cases = new ArrayList<>();
        for (int n : HUGE) {
            cases.add(Arguments.of("a string of " + n + " chars", value(out -> {
                out.writeByte(1); // STRING
                out.writeVarIntFlag(true, n + 1, true); // Kryo's UTF-8 form: length + 1, flagged
                out.writeBytes(new byte[] {'a', 'b', 'c'});
            })));
            cases.add(Arguments.of("a registered long[] of " + n, registered(long[].class, new long[] {1, 2, 3}, n)));
            cases.add(Arguments.of("a registered int[] of " + n, registered(int[].class, new int[] {1, 2, 3}, n)));
            cases.add(Arguments.of("a registered Object[] of " + n, registered(Object[].class, new Object[] {1L, 2L, 3L}, n)));
            cases.add(Arguments.of("a registered String[] of " + n, registered(String[].class, new String[] {"a", "b", "c"}, n)));
            cases.add(Arguments.of("a registered ArrayList of " + n,
                    registered(ArrayList.class, new ArrayList<>(List.of("a", "b", "c")), n)));
            cases.add(Arguments.of("a registered LinkedHashSet of " + n,
                    registered(LinkedHashSet.class, new LinkedHashSet<>(List.of("a", "b", "c")), n)));
            cases.add(Arguments.of("a registered HashMap of " + n,
                    registered(HashMap.class, new HashMap<>(Map.of("a", "b", "c", "d", "e", "f")), n)));
            cases.add(Arguments.of("a String field of " + n + " chars", namedWithHugeString(n)));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileValues")
    void aHugeClaimedLengthIsRefusedWithoutAllocatingIt(String what, byte[] bytes) {
        long before = allocatedByThisThread();
        UnidistException e = assertThrows(UnidistException.class, () -> ValueCodec.decode(bytes, Object.class, what));
        assertFalse(ValueCodec.sameValue(bytes, ValueCodec.encode("x", String.class, what)), what);
        long allocated = allocatedByThisThread() - before;
        assertTrue(allocated < ALLOCATION_CAP, what + ": allocated " + allocated + " bytes");
        assertTrue(e.getMessage().contains(what) && e.getMessage().contains("cannot be read from the"), e.getMessage());
    }

    @Test
    void theCheckedSerializersStillReadGenuineValues() {
        Named named = new Named();
        named.name = "é-" + "x".repeat(100);
        assertEquals(named.name, ValueCodec.decode(ValueCodec.encode(named, Named.class, "v"), Named.class, "v").name);
        Holder h = new Holder();
        h.numbers = new long[] {1, -2, Long.MAX_VALUE};
        h.objects = new Object[] {"a", null, 3L};
        h.strings = new String[] {"x", null};
        h.list = new ArrayList<>(List.of("a", "b"));
        h.set = new LinkedHashSet<>(List.of("c", "d"));
        h.map = new HashMap<>(Map.of("k", 1L));
        Holder back = ValueCodec.decode(ValueCodec.encode(h, Holder.class, "v"), Holder.class, "v");
        assertTrue(Arrays.equals(h.numbers, back.numbers));
        assertTrue(Arrays.equals(h.objects, back.objects));
        assertTrue(Arrays.equals(h.strings, back.strings));
        assertEquals(h.list, back.list);
        assertEquals(h.set, back.set);
        assertEquals(h.map, back.map);
    }

    /** A value of {@code type} whose first length (after Kryo's class id) says {@code n}. */
    private static byte[] registered(Class<?> type, Object sample, int n) {
        byte[] inner = Registry.withKryo(kryo -> {
            try (Output out = new Output(64, -1)) {
                kryo.writeClassAndObject(out, sample);
                return out.toBytes();
            }
        });
        // [class id + 2, one byte for these ids][length + 1, one byte for 3 elements][elements...]; arrays write
        // the length as a plain varint, collections and maps with a flag in the top bit of its first byte
        boolean flagged = !type.isArray();
        assertEquals(4, flagged ? inner[1] & 0x7f : inner[1],
                "Kryo's layout of " + type.getName() + " changed; this test patches its length");
        byte[] patched = withVarInt(inner, 1, n + 1, flagged, (inner[1] & 0x80) != 0);
        return value(out -> {
            out.writeByte(10); // REGISTERED
            out.writeVarInt(patched.length, true);
            out.writeBytes(patched);
        });
    }

    private static byte[] namedWithHugeString(int n) {
        return value(out -> {
            byte[] inner = Registry.withKryo(kryo -> {
                try (Output o = new Output(64, -1)) {
                    o.writeVarInt(kryo.getRegistration(Named.class).getId() + 2, true);
                    o.writeVarIntFlag(true, n + 1, true); // FieldSerializer reads the name with Input.readString
                    o.writeBytes(new byte[] {'a', 'b'});
                    return o.toBytes();
                }
            });
            out.writeByte(10); // REGISTERED
            out.writeVarInt(inner.length, true);
            out.writeBytes(inner);
        });
    }

    private static byte[] withVarInt(byte[] bytes, int at, int value, boolean flagged, boolean flag) {
        try (Output out = new Output(bytes.length + 8, -1)) {
            out.writeBytes(bytes, 0, at);
            if (flagged) {
                out.writeVarIntFlag(flag, value, true);
            } else {
                out.writeVarInt(value, true);
            }
            out.writeBytes(bytes, at + 1, bytes.length - at - 1);
            return out.toBytes();
        }
    }

    private static byte[] value(java.util.function.Consumer<Output> body) {
        try (Output out = new Output(64, -1)) {
            out.writeByte(ValueCodec.FORMAT_VERSION);
            body.accept(out);
            return out.toBytes();
        }
    }

    private static long allocatedByThisThread() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
