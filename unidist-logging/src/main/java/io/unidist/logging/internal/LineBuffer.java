package io.unidist.logging.internal;

import java.util.Arrays;

/**
 * A growable byte array that log lines are encoded into, as UTF-8, without a {@code String} or
 * a {@code StringBuilder} in between: {@link RecordEncoder} writes a record's text line and JSON
 * line into one of these per thread, and the writer hands the bytes to the files as they are.
 *
 * <p>Two ways to write characters, matching what the files had when they were made through
 * {@code StringBuilder} and {@code String.getBytes(UTF_8)}:
 * <ul>
 *   <li>{@link #appendText}: UTF-8 as {@code String.getBytes(UTF_8)} makes it, a surrogate
 *       that is not half of a pair becoming {@code '?'};</li>
 *   <li>{@link #appendJsonString}: a quoted JSON string with the escapes and the cut of
 *       {@link Json#appendString}, byte for byte the UTF-8 of what that method appends.</li>
 * </ul>
 *
 * <p>Not thread-safe: one thread fills a buffer, then hands it on.
 */
final class LineBuffer {

    private static final byte[] HEX = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
    /** A buffer larger than this after use is replaced by a small one ({@link #shrinkTo}). */
    static final int KEEP_AT_MOST = 64 * 1024;
    private static final byte[] REPLACEMENT = {(byte) 0xef, (byte) 0xbf, (byte) 0xbd}; // U+FFFD

    private byte[] bytes;
    private int size;

    LineBuffer(int capacity) {
        this.bytes = new byte[capacity];
    }

    /** The bytes; valid from 0 to {@link #size()}, and only until the next append. */
    byte[] array() {
        return bytes;
    }

    int size() {
        return size;
    }

    int capacity() {
        return bytes.length;
    }

    void clear() {
        size = 0;
    }

    /**
     * Empties the buffer and gives back what a huge record made it take: past
     * {@value #KEEP_AT_MOST} bytes it starts again at {@code capacity}.
     */
    void shrinkTo(int capacity) {
        size = 0;
        if (bytes.length > KEEP_AT_MOST) {
            bytes = new byte[capacity];
        }
    }

    /** A copy of the bytes from {@code from} to the end. */
    byte[] copyFrom(int from) {
        return Arrays.copyOfRange(bytes, from, size);
    }

    void append(byte b) {
        ensure(1);
        bytes[size++] = b;
    }

    void append(byte[] source) {
        append(source, 0, source.length);
    }

    void append(byte[] source, int offset, int length) {
        ensure(length);
        System.arraycopy(source, offset, bytes, size, length);
        size += length;
    }

    /**
     * Whether {@code utf8}, the UTF-8 of a string as {@code String.getBytes} makes it, goes into
     * a JSON string as it is: printable ASCII without {@code '"'} or {@code '\\'}. A
     * {@code '?'} does not count, as it may stand for a lone surrogate, which JSON lines write
     * as U+FFFD.
     */
    static boolean isPlainJson(byte[] utf8) {
        for (byte b : utf8) {
            // b < 0x20 also catches every byte of a multi-byte character (negative as a byte)
            if (b < 0x20 || b == '"' || b == '\\' || b == '?' || b == 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** Appends {@code value} in decimal. */
    void appendDecimal(long value) {
        if (value == Long.MIN_VALUE) {
            appendText("-9223372036854775808");
            return;
        }
        ensure(20);
        if (value < 0) {
            bytes[size++] = '-';
            value = -value;
        }
        int digits = 1;
        for (long rest = value / 10; rest != 0; rest /= 10) {
            digits++;
        }
        int end = size + digits;
        for (int i = end - 1; i >= size; i--) {
            bytes[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        size = end;
    }

    /** Appends {@code value} as three digits with leading zeros (0 to 999). */
    void appendThreeDigits(int value) {
        ensure(3);
        bytes[size++] = (byte) ('0' + value / 100);
        bytes[size++] = (byte) ('0' + value / 10 % 10);
        bytes[size++] = (byte) ('0' + value % 10);
    }

    /** Appends {@code value} as UTF-8, as {@code value.getBytes(UTF_8)} would encode it. */
    void appendText(CharSequence value) {
        int length = value.length();
        ensure(length);
        int i = 0;
        // ASCII, the common case: one byte per character and room known in advance
        for (byte[] b = bytes; i < length; i++) {
            char c = value.charAt(i);
            if (c >= 0x80) {
                break;
            }
            b[size++] = (byte) c;
        }
        for (; i < length; i++) {
            char c = value.charAt(i);
            if (c < 0x80) {
                ensure(1);
                bytes[size++] = (byte) c;
            } else if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(value.charAt(i + 1))) {
                appendCodePoint(Character.toCodePoint(c, value.charAt(++i)));
            } else if (Character.isSurrogate(c)) {
                append((byte) '?'); // what String.getBytes(UTF_8) puts for a lone surrogate
            } else {
                appendCodePoint(c);
            }
        }
    }

    /**
     * Appends {@code value} as a quoted JSON string cut to {@code maxChars} characters, with
     * the escapes and the cut marker of {@link Json#appendString}.
     */
    void appendJsonString(CharSequence value, int maxChars) {
        int length = value.length();
        int end = Math.min(length, maxChars);
        if (end < length && end > 0 && Character.isHighSurrogate(value.charAt(end - 1))) {
            end--;
        }
        ensure(end + 2);
        bytes[size++] = '"';
        int i = 0;
        for (byte[] b = bytes; i < end; i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
                break;
            }
            b[size++] = (byte) c;
        }
        for (; i < end; i++) {
            i = appendJsonChar(value, i, end);
        }
        if (end < length) {
            appendText("\u2026[truncated, ");
            appendDecimal(length);
            appendText(" chars in total]");
        }
        append((byte) '"');
    }

    /** Appends the character at {@code i}, escaped; returns the index of the last character used. */
    private int appendJsonChar(CharSequence value, int i, int end) {
        char c = value.charAt(i);
        switch (c) {
            case '"' -> appendTwo('\\', '"');
            case '\\' -> appendTwo('\\', '\\');
            case '\n' -> appendTwo('\\', 'n');
            case '\r' -> appendTwo('\\', 'r');
            case '\t' -> appendTwo('\\', 't');
            default -> {
                if (c < 0x20 || c == '\u2028' || c == '\u2029' || c == 0x7f) {
                    appendUnicodeEscape(c);
                } else if (c < 0x80) {
                    append((byte) c);
                } else if (Character.isHighSurrogate(c)) {
                    if (i + 1 < end && Character.isLowSurrogate(value.charAt(i + 1))) {
                        appendCodePoint(Character.toCodePoint(c, value.charAt(i + 1)));
                        return i + 1;
                    }
                    append(REPLACEMENT);
                } else if (Character.isLowSurrogate(c)) {
                    append(REPLACEMENT);
                } else {
                    appendCodePoint(c);
                }
            }
        }
        return i;
    }

    private void appendTwo(char a, char b) {
        ensure(2);
        bytes[size++] = (byte) a;
        bytes[size++] = (byte) b;
    }

    private void appendUnicodeEscape(char c) {
        ensure(6);
        bytes[size++] = '\\';
        bytes[size++] = 'u';
        bytes[size++] = HEX[(c >> 12) & 0xf];
        bytes[size++] = HEX[(c >> 8) & 0xf];
        bytes[size++] = HEX[(c >> 4) & 0xf];
        bytes[size++] = HEX[c & 0xf];
    }

    private void appendCodePoint(int cp) {
        ensure(4);
        if (cp < 0x800) {
            bytes[size++] = (byte) (0xc0 | (cp >> 6));
            bytes[size++] = (byte) (0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            bytes[size++] = (byte) (0xe0 | (cp >> 12));
            bytes[size++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
            bytes[size++] = (byte) (0x80 | (cp & 0x3f));
        } else {
            bytes[size++] = (byte) (0xf0 | (cp >> 18));
            bytes[size++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
            bytes[size++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
            bytes[size++] = (byte) (0x80 | (cp & 0x3f));
        }
    }

    private void ensure(int more) {
        if (size + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
        }
    }
}
