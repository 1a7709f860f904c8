package io.unidist.logging.internal;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A strict parser of RFC 5424 §6 messages, written from the ABNF and independent of
 * {@link Rfc5424Format}: it rejects (with {@link IllegalArgumentException}) anything the
 * grammar does not allow, so the tests check the format, not our own assumptions.
 */
final class Rfc5424Parser {

    /** One parsed message; {@code sd} maps SD-ID to its params (last value wins for a repeated name). */
    record Message(int pri, int version, String timestamp, String hostname, String appName, String procId,
                   String msgId, Map<String, Map<String, String>> sd, boolean bom, String msg) {

        int facility() {
            return pri / 8;
        }

        int severity() {
            return pri % 8;
        }

        String param(String sdId, String name) {
            Map<String, String> params = sd.get(sdId);
            return params == null ? null : params.get(name);
        }
    }

    private final byte[] in;
    private int pos;

    private Rfc5424Parser(byte[] in) {
        this.in = in;
    }

    static Message parse(byte[] message) {
        return new Rfc5424Parser(message).message();
    }

    private Message message() {
        expect('<');
        String prival = digits(1, 3);
        int pri = Integer.parseInt(prival);
        check(pri <= 191 && (prival.length() == 1 || prival.charAt(0) != '0'), "PRI " + prival);
        expect('>');
        String versionText = digits(1, 3);
        check(versionText.charAt(0) != '0', "VERSION " + versionText);
        sp();
        String timestamp = field(Integer.MAX_VALUE);
        check(timestamp.equals("-") || timestamp.matches(
                "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?(Z|[+-]\\d{2}:\\d{2})"), "TIMESTAMP " + timestamp);
        sp();
        String hostname = field(255);
        sp();
        String appName = field(48);
        sp();
        String procId = field(128);
        sp();
        String msgId = field(32);
        sp();
        Map<String, Map<String, String>> sd = structuredData();
        boolean bom = false;
        String msg = null;
        if (pos < in.length) {
            sp();
            if (in.length - pos >= 3 && (in[pos] & 0xFF) == 0xEF && (in[pos + 1] & 0xFF) == 0xBB
                    && (in[pos + 2] & 0xFF) == 0xBF) {
                bom = true;
                pos += 3;
            }
            msg = utf8(pos, in.length);
            pos = in.length;
        }
        return new Message(pri, Integer.parseInt(versionText), timestamp, hostname, appName, procId, msgId,
                sd, bom, msg);
    }

    private Map<String, Map<String, String>> structuredData() {
        Map<String, Map<String, String>> sd = new LinkedHashMap<>();
        if (peek() == '-') {
            pos++;
            return sd;
        }
        check(peek() == '[', "STRUCTURED-DATA must be - or start with [");
        while (pos < in.length && in[pos] == '[') {
            pos++;
            String id = sdName();
            check(!sd.containsKey(id), "SD-ID " + id + " repeated");
            Map<String, String> params = new LinkedHashMap<>();
            while (peek() == ' ') {
                pos++;
                String name = sdName();
                expect('=');
                expect('"');
                params.put(name, paramValue());
            }
            expect(']');
            sd.put(id, params);
        }
        return sd;
    }

    /** SD-NAME: 1 to 32 of PRINTUSASCII except '=', SP, ']', '"'. */
    private String sdName() {
        int start = pos;
        while (pos < in.length && in[pos] >= 33 && in[pos] <= 126 && in[pos] != '=' && in[pos] != ']'
                && in[pos] != '"') {
            pos++;
        }
        check(pos - start >= 1 && pos - start <= 32, "SD-NAME length " + (pos - start) + " at " + start);
        return new String(in, start, pos - start, StandardCharsets.US_ASCII);
    }

    /** PARAM-VALUE up to the closing quote: UTF-8 with '"', '\' and ']' escaped (§6.3.3). */
    private String paramValue() {
        java.io.ByteArrayOutputStream value = new java.io.ByteArrayOutputStream();
        while (true) {
            check(pos < in.length, "unterminated PARAM-VALUE");
            byte b = in[pos++];
            if (b == '"') {
                break;
            }
            check(b != ']', "unescaped ] in PARAM-VALUE at " + (pos - 1));
            if (b == '\\' && pos < in.length && (in[pos] == '"' || in[pos] == '\\' || in[pos] == ']')) {
                b = in[pos++];
            }
            value.write(b);
        }
        byte[] bytes = value.toByteArray();
        return new Rfc5424Parser(bytes).utf8(0, bytes.length);
    }

    /** A header field: NILVALUE or 1..max printable US-ASCII characters. */
    private String field(int max) {
        int start = pos;
        while (pos < in.length && in[pos] >= 33 && in[pos] <= 126) {
            pos++;
        }
        check(pos > start && pos - start <= max, "header field of length " + (pos - start) + " at " + start
                + " (max " + max + ")");
        return new String(in, start, pos - start, StandardCharsets.US_ASCII);
    }

    private String digits(int min, int max) {
        int start = pos;
        while (pos < in.length && in[pos] >= '0' && in[pos] <= '9') {
            pos++;
        }
        check(pos - start >= min && pos - start <= max, "digits at " + start);
        return new String(in, start, pos - start, StandardCharsets.US_ASCII);
    }

    private String utf8(int from, int to) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(in, from, to - from)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not valid UTF-8: " + e);
        }
    }

    private int peek() {
        check(pos < in.length, "message ends early at " + pos);
        return in[pos];
    }

    private void sp() {
        expect(' ');
    }

    private void expect(char c) {
        check(pos < in.length && in[pos] == c, "expected '" + c + "' at " + pos);
        pos++;
    }

    private void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalArgumentException("not RFC 5424: " + what + " in: "
                    + new String(in, 0, Math.min(in.length, 300), StandardCharsets.UTF_8));
        }
    }
}
