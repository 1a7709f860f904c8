package io.unidist.internal;

import java.nio.charset.StandardCharsets;

/** Checks primitive names and turns them into file names. */
public final class Names {
    /** The longest name a primitive may have. */
    public static final int MAX_LENGTH = 200;

    private Names() {
    }

    /**
     * Checks a primitive's name.
     *
     * @throws NullPointerException     when it is null
     * @throws IllegalArgumentException when it is empty, too long, or holds a control character
     */
    public static String check(String name, String kind) {
        if (name == null) {
            throw new NullPointerException(kind + " name is null");
        }
        if (name.isEmpty()) {
            throw new IllegalArgumentException(kind + " name is empty");
        }
        if (name.length() > MAX_LENGTH) {
            throw new IllegalArgumentException(kind + " name is " + name.length() + " characters long, more than "
                    + MAX_LENGTH + ": '" + name.substring(0, 40) + "...'");
        }
        for (int i = 0; i < name.length(); i++) {
            if (Character.isISOControl(name.charAt(i))) {
                throw new IllegalArgumentException(kind + " name '" + name.replaceAll("\\p{Cntrl}", "?")
                        + "' holds a control character at index " + i);
            }
        }
        return name;
    }

    /**
     * A file name for a primitive's name that is the same on every platform: letters, digits,
     * '-' and '_' stay, everything else is written as %XX of its UTF-8 bytes (so "." and ".."
     * cannot escape the directory, and two names never map to one file).
     */
    public static String toFileName(String name) {
        StringBuilder sb = new StringBuilder(name.length() + 8);
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
                sb.append(c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
            }
        }
        return sb.toString();
    }
}
