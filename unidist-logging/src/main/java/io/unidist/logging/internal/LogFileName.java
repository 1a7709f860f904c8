package io.unidist.logging.internal;

import java.util.Comparator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the name of a file in the log directory says, for files of one program: the track, the
 * format, and whether it is an active file, a rotated one waiting for compression or a
 * compressed archive, and its stream: the name of the active file it was rotated from.
 *
 * <p>Names, as {@link LogSetup} and logback make them: {@code <program>[.<track>].log|jsonl}
 * (active), {@code <program>[.<track>].<yyyy-MM-dd>.<i>.log|jsonl<nanos>.tmp} (renamed by the
 * rollover, being compressed) and {@code <program>[.<track>].<yyyy-MM-dd>.<i>.log|jsonl.gz}.
 * The name only matters for files found on disk that this process did not write; files it
 * writes are followed by their fingerprint.
 *
 * <p>A collector's files ({@link CollectorWriter}) are named the same way with the node before
 * the track, always present: {@code collected.<node>.<track>.jsonl} and its archives, parsed by
 * {@link #parseCollected}. The node is made {@linkplain CollectorWriter#nodeFileName file-safe}
 * and may hold dots; a track never does. So the rule is: <b>the track is the last dot-separated
 * part before the date or the extension, the node is everything between {@code collected.} and
 * it</b>, which gives every name one reading ({@code collected.a.b.main.jsonl} is node
 * {@code a.b}, track {@code main}).
 */
record LogFileName(String name, String stream, String node, String track, String format, Kind kind,
                   String date, long index) {

    /** Where a file is in its life, as far as its name tells. */
    enum Kind { ACTIVE, ROTATED, COMPRESSED }

    private static final Pattern REST = Pattern.compile(
            "(?:([A-Za-z0-9_-]{1,64})\\.)?(?:(\\d{4}-\\d\\d-\\d\\d)\\.(\\d{1,9})\\.)?(log|jsonl)(\\.gz|\\d+\\.tmp)?");

    /** The program name of a collector's files and manifest. */
    static final String COLLECTED = "collected";

    /**
     * The node may hold dots, so that only the last part before the date or extension can be
     * the track; the active and archive forms are separate alternatives, so that a node with a
     * date-like part ({@code collected.x.2026-01-01.3.main.jsonl}) is not read as an archive.
     */
    private static final Pattern COLLECTED_NAME = Pattern.compile(Pattern.quote(COLLECTED + ".")
            + "([A-Za-z0-9._-]{1," + CollectorWriter.MAX_NODE_CHARS + "})\\.([A-Za-z0-9_-]{1,64})"
            + "(?:\\.jsonl|\\.(\\d{4}-\\d\\d-\\d\\d)\\.(\\d{1,9})\\.jsonl(\\.gz|\\d+\\.tmp))");

    /** Oldest first: archives by date and index, then the active file. */
    static final Comparator<LogFileName> AGE = Comparator
            .comparing((LogFileName n) -> n.kind == Kind.ACTIVE)
            .thenComparing(n -> n.date == null ? "" : n.date)
            .thenComparingLong(LogFileName::index)
            .thenComparing(LogFileName::name);

    /** @return what {@code name} says, or {@code null} if it is not a log file of {@code program} */
    static LogFileName parse(String program, String name) {
        if (!name.startsWith(program + ".")) {
            return null;
        }
        Matcher m = REST.matcher(name.substring(program.length() + 1));
        if (!m.matches() || (m.group(2) == null) != (m.group(5) == null)) {
            return null; // archives carry a date and index, active files neither
        }
        String track = m.group(1) == null ? LogSetup.MAIN_TRACK : m.group(1);
        String format = m.group(4).equals("jsonl") ? "json" : "text";
        // the active name of the family: a track called "main" has files of its own
        String stream = program + (m.group(1) == null ? "" : "." + m.group(1)) + "." + m.group(4);
        Kind kind = m.group(5) == null ? Kind.ACTIVE
                : m.group(5).equals(".gz") ? Kind.COMPRESSED : Kind.ROTATED;
        long index = m.group(3) == null ? 0 : Long.parseLong(m.group(3));
        return new LogFileName(name, stream, null, track, format, kind, m.group(2), index);
    }

    /** @return what {@code name} says, or {@code null} if it is not a collector's file */
    static LogFileName parseCollected(String name) {
        Matcher m = COLLECTED_NAME.matcher(name);
        if (!m.matches()) {
            return null;
        }
        String stream = COLLECTED + "." + m.group(1) + "." + m.group(2) + ".jsonl";
        Kind kind = m.group(5) == null ? Kind.ACTIVE
                : m.group(5).equals(".gz") ? Kind.COMPRESSED : Kind.ROTATED;
        long index = m.group(4) == null ? 0 : Long.parseLong(m.group(4));
        return new LogFileName(name, stream, m.group(1), m.group(2), "json", kind, m.group(3), index);
    }

    /**
     * The name the compressed archive of a rotated file will have: logback renames the active
     * file to {@code <archive name without .gz><nanos>.tmp} and compresses that into
     * {@code <archive name>}.
     */
    static String compressedNameOf(String rotatedName) {
        return rotatedName.replaceFirst("\\d+\\.tmp$", ".gz");
    }
}
