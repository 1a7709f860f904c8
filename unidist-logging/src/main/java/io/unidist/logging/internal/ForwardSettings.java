package io.unidist.logging.internal;

import ch.qos.logback.classic.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The settings of log forwarding, read from the same sources as {@link LoggingSettings}; keys
 * and defaults are listed in the package javadoc of {@code io.unidist.logging}. A value that
 * does not parse gives one warning naming the key and the value, and the default is used.
 */
public final class ForwardSettings {
    static final String PREFIX = LoggingSettings.PREFIX + "forward.";

    final int collectors;
    /** Node names that may be collectors; empty: the cluster's voters. */
    final List<String> candidates;
    final Level level;
    /** Tracks forwarded; null: all. */
    final Set<String> tracks;
    final Path spoolDir;
    final long spoolMaxBytes;
    final Duration spoolFsyncInterval;
    final String spoolFullPolicy;
    final Duration drainTimeout;
    final Duration ackTimeout;
    final int batchRecords;
    final int batchBytes;
    final Path collectedDir;
    final long collectedSizeCap;
    final long collectedFileSize;
    /** How often the collector's manifest is written: the local manifest's interval; 0 when manifests are off. */
    final long collectedManifestIntervalMillis;

    private ForwardSettings(LoggingSettings logging) {
        Properties p = logging.source();
        collectors = LoggingSettings.integer(p, PREFIX + "collectors", 1);
        candidates = list(p.getProperty(PREFIX + "candidates", ""));
        level = LoggingSettings.level(p, PREFIX + "level", Level.TRACE);
        String t = p.getProperty(PREFIX + "tracks", "*").trim();
        tracks = t.equals("*") ? null : Set.copyOf(list(t));
        spoolDir = Path.of(p.getProperty(PREFIX + "spool.dir", logging.dir().resolve("spool").toString()));
        spoolMaxBytes = LoggingSettings.size(p, PREFIX + "spool.maxSize", "64MB").getSize();
        spoolFsyncInterval = duration(p, PREFIX + "spool.fsyncInterval", Duration.ofSeconds(1));
        spoolFullPolicy = p.getProperty(PREFIX + "spool.whenFull", "drop-oldest").trim();
        drainTimeout = duration(p, PREFIX + "drainTimeout", Duration.ofSeconds(5));
        ackTimeout = duration(p, PREFIX + "ackTimeout", Duration.ofSeconds(3));
        batchRecords = LoggingSettings.integer(p, PREFIX + "batch.records", 1000);
        batchBytes = (int) Math.min(4 << 20, LoggingSettings.size(p, PREFIX + "batch.maxSize", "512KB").getSize());
        collectedDir = Path.of(p.getProperty(PREFIX + "collector.dir", logging.dir().resolve("collected").toString()));
        collectedSizeCap = LoggingSettings.size(p, PREFIX + "collector.totalSizeCap", "10GB").getSize();
        collectedFileSize = LoggingSettings.size(p, PREFIX + "collector.file.maxSize", "100MB").getSize();
        collectedManifestIntervalMillis = logging.manifest ? logging.manifestIntervalMillis : 0;
    }

    /** The forwarding settings that go with {@code logging}. */
    public static ForwardSettings of(LoggingSettings logging) {
        return new ForwardSettings(logging);
    }

    /** Whether records of {@code track} at {@code eventLevel} are forwarded. */
    boolean forwards(String track, Level eventLevel) {
        return eventLevel.isGreaterOrEqual(level) && (tracks == null || tracks.contains(track));
    }

    private static List<String> list(String value) {
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .collect(Collectors.toUnmodifiableList());
    }

    /** A duration as {@code 500ms}, {@code 5s}, {@code 2m} or ISO-8601 ({@code PT5S}). */
    static Duration duration(Properties p, String key, Duration dflt) {
        String value = p.getProperty(key);
        if (value == null) {
            return dflt;
        }
        String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        try {
            if (v.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2).trim()));
            }
            if (v.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1).trim()));
            }
            if (v.endsWith("m")) {
                return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1).trim()));
            }
            Duration d = Duration.parse(value.trim());
            if (!d.isNegative()) {
                return d;
            }
        } catch (NumberFormatException | DateTimeParseException e) {
            // warned below
        }
        Warnings.warn(key + "=" + value + " is not a duration such as 500ms, 5s or 2m; using " + dflt);
        return dflt;
    }
}
