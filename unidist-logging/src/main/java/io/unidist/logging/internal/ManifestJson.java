package io.unidist.logging.internal;

import java.time.Instant;
import java.util.Comparator;
import java.util.List;

/**
 * The manifest's JSON, version 1 (documented field by field in {@code docs/LOG-MANIFEST.md}).
 *
 * <p>One object; {@code files} holds one object per file on a line of its own, grouped by
 * stream (the name of the active file a file was rotated from) and oldest first within a
 * stream, so that a scraper reads a stream's records in the order they were written. Fields
 * whose value is not known are left out rather than written as {@code null}. Field names and
 * state names are the wire format: renaming one needs a new {@code version}.
 */
final class ManifestJson {

    /** Value of the {@code manifest} field, so that a reader knows what it opened. */
    static final String KIND = "unidist-log-manifest";
    /** Value of the {@code version} field; a reader must refuse versions it does not know. */
    static final int VERSION = 1;

    private ManifestJson() {
    }

    /** @return the {@code files} array, in the order a scraper must read them */
    static String files(List<LogManifest.Entry> entries) {
        StringBuilder out = new StringBuilder(128 + 320 * entries.size());
        out.append('[');
        String separator = "\n";
        List<LogManifest.Entry> sorted = entries.stream().filter(e -> e.offset >= 0)
                .sorted(Comparator.comparing((LogManifest.Entry e) -> e.stream).thenComparingLong(e -> e.order))
                .toList();
        for (LogManifest.Entry entry : sorted) {
            out.append(separator);
            separator = ",\n";
            appendFile(out, entry);
        }
        return out.append("\n]").toString();
    }

    /** @return the whole manifest around a {@code files} array made by {@link #files} */
    static String document(String program, String host, long pid, long intervalMillis, Instant written,
                           String files) {
        StringBuilder out = new StringBuilder(files.length() + 256);
        out.append("{\"manifest\":\"").append(KIND).append("\",\"version\":").append(VERSION);
        out.append(",\"program\":");
        Json.appendString(out, program, Integer.MAX_VALUE);
        out.append(",\"host\":");
        Json.appendString(out, host, Integer.MAX_VALUE);
        out.append(",\"pid\":").append(pid);
        out.append(",\"intervalMillis\":").append(intervalMillis);
        out.append(",\"written\":\"").append(written).append('"');
        out.append(",\"files\":").append(files).append("}\n");
        return out.toString();
    }

    private static void appendFile(StringBuilder out, LogManifest.Entry e) {
        out.append("{\"path\":");
        Json.appendString(out, e.name, Integer.MAX_VALUE);
        out.append(",\"stream\":");
        Json.appendString(out, e.stream, Integer.MAX_VALUE);
        if (e.node != null) {
            out.append(",\"node\":");
            Json.appendString(out, e.node, Integer.MAX_VALUE);
        }
        out.append(",\"track\":");
        Json.appendString(out, e.track, Integer.MAX_VALUE);
        out.append(",\"format\":\"").append(e.format).append('"');
        out.append(",\"state\":\"").append(e.state.wire).append('"');
        out.append(",\"fingerprint\":\"").append(e.fingerprint).append('"');
        out.append(",\"compression\":\"").append(e.name.endsWith(".gz") ? "gzip" : "none").append('"');
        out.append(",\"size\":").append(e.size);
        out.append(",\"offset\":").append(e.offset);
        if (e.firstSeq > 0) {
            out.append(",\"firstSeq\":").append(e.firstSeq).append(",\"lastSeq\":").append(e.lastSeq);
        }
        out.append('}');
    }
}
