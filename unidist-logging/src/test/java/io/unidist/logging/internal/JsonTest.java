package io.unidist.logging.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Escaping and cutting of JSON strings, character by character. */
class JsonTest {

    private static String json(String value, int max) {
        StringBuilder out = new StringBuilder();
        Json.appendString(out, value, max);
        return out.toString();
    }

    @Test
    void escapesQuotesBackslashesAndControlCharacters() {
        assertEquals("\"a\\\"b\\\\c\\nd\\re\\tf\\u0000\\u001f\\u007f\\u2028\"",
                json("a\"b\\c\nd\re\tf\u0000\u001f\u007f\u2028", 100));
    }

    @Test
    void loneSurrogatesBecomeReplacementCharactersAndPairsStay() {
        assertEquals("\"\ufffd x \ufffd \ud83d\ude00\"", json("\ud800 x \udc00 \ud83d\ude00", 100));
    }

    @Test
    void cutsWithAMarkerAndNeverInsideAPair() {
        assertEquals("\"ab\u2026[truncated, 5 chars in total]\"", json("abcde", 2));
        assertEquals("\"a\u2026[truncated, 3 chars in total]\"", json("a\ud83d\ude00", 2));
    }
}
