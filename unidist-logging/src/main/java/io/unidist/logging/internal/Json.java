package io.unidist.logging.internal;

/**
 * Writes JSON string literals that are valid for any Java string.
 *
 * <p>Quotes, backslashes and every control character are escaped; a surrogate that is not half
 * of a proper pair becomes U+FFFD, so the UTF-8 bytes of the result are always well formed.
 * A string longer than the cap is cut (never inside a surrogate pair) and a marker that says
 * how long the original was is appended.
 */
final class Json {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Json() {
    }

    /** Appends {@code value} as a quoted JSON string, cut to {@code maxChars} characters. */
    static void appendString(StringBuilder out, CharSequence value, int maxChars) {
        int length = value.length();
        int end = Math.min(length, maxChars);
        if (end < length && end > 0 && Character.isHighSurrogate(value.charAt(end - 1))) {
            end--;
        }
        out.append('"');
        appendEscaped(out, value, end);
        if (end < length) {
            out.append("\u2026[truncated, ").append(length).append(" chars in total]");
        }
        out.append('"');
    }

    private static void appendEscaped(StringBuilder out, CharSequence value, int end) {
        for (int i = 0; i < end; i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029' || c == 0x7f) {
                        appendUnicodeEscape(out, c);
                    } else if (Character.isHighSurrogate(c)) {
                        if (i + 1 < end && Character.isLowSurrogate(value.charAt(i + 1))) {
                            out.append(c).append(value.charAt(++i));
                        } else {
                            out.append('\ufffd');
                        }
                    } else if (Character.isLowSurrogate(c)) {
                        out.append('\ufffd');
                    } else {
                        out.append(c);
                    }
                }
            }
        }
    }

    private static void appendUnicodeEscape(StringBuilder out, char c) {
        out.append("\\u").append(HEX[(c >> 12) & 0xf]).append(HEX[(c >> 8) & 0xf])
                .append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
    }
}
