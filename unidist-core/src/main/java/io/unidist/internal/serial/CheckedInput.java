package io.unidist.internal.serial;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;

/**
 * A Kryo input over a byte array that refuses, before allocating, any string or array whose
 * stated length the remaining bytes cannot hold.
 *
 * <p>Why: Kryo 5.6 allocates what a length field says ({@code new char[n]} for a string,
 * {@code new long[n]} for an array) and only then finds the bytes missing. Stored values come from
 * other nodes, so a forged length of 2<sup>31</sup>-1 would make every reader fail with an
 * {@link OutOfMemoryError}, and one of 2<sup>28</sup> would make it allocate half a gigabyte.
 * Each element takes at least one byte (a string's characters in UTF-8, an array's elements in
 * their variable-length form), so a length above the remaining bytes cannot be genuine.
 *
 * <p>This covers what Kryo reads through the input's own methods: strings (also those in fields
 * of registered classes) and primitive arrays. Object arrays and collections allocate in their
 * serializers; {@link Registry} registers checked ones for the classes it registers itself.
 */
final class CheckedInput extends Input {
    CheckedInput(byte[] bytes) {
        super(bytes);
    }

    /** Bytes between the position and the end. */
    int remaining() {
        return limit - position;
    }

    /**
     * Throws unless {@code count} elements of at least {@code bytesEach} bytes fit in what is left.
     *
     * @throws KryoException naming the count and the bytes left
     */
    void checkFits(long count, int bytesEach, String what) {
        long left = remaining();
        if (count < 0 || count * bytesEach > left) {
            throw new KryoException(what + " of " + count + " elements cannot be read from the " + left
                    + " bytes left");
        }
    }

    @Override
    public String readString() {
        checkStringLength();
        return super.readString();
    }

    @Override
    public StringBuilder readStringBuilder() {
        checkStringLength();
        return super.readStringBuilder();
    }

    /**
     * A string in Kryo's UTF-8 form starts with its length + 1 (0 is null, 1 empty); one in its
     * ASCII form ends at a marked byte and allocates only as it reads, so it needs no check.
     */
    private void checkStringLength() {
        if (position >= limit || !readVarIntFlag()) {
            return; // nothing left (Kryo says so itself) or ASCII
        }
        int start = position;
        int lengthPlusOne = readVarIntFlag(true);
        position = start;
        if (lengthPlusOne > 1 || lengthPlusOne < 0) { // 0 is null, 1 is empty
            checkFits(lengthPlusOne - 1L, 1, "a string");
        }
    }

    @Override
    public byte[] readBytes(int length) {
        checkFits(length, 1, "a byte array");
        return super.readBytes(length);
    }

    @Override
    public int[] readInts(int length) {
        checkFits(length, Integer.BYTES, "an int array");
        return super.readInts(length);
    }

    @Override
    public int[] readInts(int length, boolean optimizePositive) {
        checkFits(length, varEncoding ? 1 : Integer.BYTES, "an int array");
        return super.readInts(length, optimizePositive);
    }

    @Override
    public long[] readLongs(int length) {
        checkFits(length, Long.BYTES, "a long array");
        return super.readLongs(length);
    }

    @Override
    public long[] readLongs(int length, boolean optimizePositive) {
        checkFits(length, varEncoding ? 1 : Long.BYTES, "a long array");
        return super.readLongs(length, optimizePositive);
    }

    @Override
    public float[] readFloats(int length) {
        checkFits(length, Float.BYTES, "a float array");
        return super.readFloats(length);
    }

    @Override
    public double[] readDoubles(int length) {
        checkFits(length, Double.BYTES, "a double array");
        return super.readDoubles(length);
    }

    @Override
    public short[] readShorts(int length) {
        checkFits(length, Short.BYTES, "a short array");
        return super.readShorts(length);
    }

    @Override
    public char[] readChars(int length) {
        checkFits(length, Character.BYTES, "a char array");
        return super.readChars(length);
    }

    @Override
    public boolean[] readBooleans(int length) {
        checkFits(length, 1, "a boolean array");
        return super.readBooleans(length);
    }
}
