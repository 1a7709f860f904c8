package io.unidist.logging.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.core.util.FileSize;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The settings of one logging set-up, read once at start.
 *
 * <p>Sources, later ones win: the defaults, {@code unidist-logging.properties} on the class
 * path, the file named by {@code -Dunidist.logging.config}, then system properties. Keys and
 * defaults are listed in the package javadoc of {@code io.unidist.logging}. A value that does
 * not parse gives one warning on stderr naming the key and the value, and the default is used.
 */
public final class LoggingSettings {

    /** Prefix of every logging key. */
    public static final String PREFIX = "unidist.logging.";
    static final String CONFIG_KEY = PREFIX + "config";
    static final String PROGRAM_KEY = "unidist.program";
    static final String CLASSPATH_FILE = "unidist-logging.properties";

    final Path dir;
    final String program;
    final Level rootLevel;
    final Map<String, Level> levels;
    final boolean console;
    final FileSize maxFileSize;
    final int maxHistoryDays;
    final FileSize totalSizeCap;
    final boolean callerData;
    final int maxMessageChars;
    final boolean manifest;
    final long manifestIntervalMillis;
    /** The {@code unidist.logging.syslog.*} keys. */
    final SyslogSettings syslog;
    private final Properties source;

    private LoggingSettings(Properties p) {
        this.source = p;
        this.dir = Path.of(p.getProperty(PREFIX + "dir", "./logs"));
        this.program = fileSafe(p.getProperty(PROGRAM_KEY,
                p.getProperty(PREFIX + "program", mainClassName())));
        this.rootLevel = level(p, PREFIX + "level", Level.INFO);
        this.levels = new LinkedHashMap<>();
        for (String key : p.stringPropertyNames()) {
            if (key.startsWith(PREFIX + "level.")) {
                levels.put(key.substring((PREFIX + "level.").length()), level(p, key, Level.INFO));
            }
        }
        this.console = bool(p, PREFIX + "console", true);
        this.maxFileSize = size(p, PREFIX + "file.maxSize", "10MB");
        this.maxHistoryDays = integer(p, PREFIX + "file.maxHistoryDays", 30);
        this.totalSizeCap = capAtLeastFileSize(size(p, PREFIX + "totalSizeCap", "1GB"), maxFileSize);
        // on: every record says where it was logged from (a requirement); a track may turn it off
        this.callerData = bool(p, PREFIX + "callerData", true);
        this.maxMessageChars = integer(p, PREFIX + "json.maxMessageChars", 65_536);
        this.manifest = bool(p, PREFIX + "manifest.enabled", true);
        this.manifestIntervalMillis = millis(p, PREFIX + "manifest.interval", 1_000);
        this.syslog = SyslogSettings.read(p, program);
    }

    /** Reads the settings from the class path file, the config file and system properties. */
    public static LoggingSettings load() {
        Properties merged = new Properties();
        URL resource = classLoader().getResource(CLASSPATH_FILE);
        if (resource != null) {
            try (InputStream in = resource.openStream()) {
                merged.load(in);
            } catch (IOException e) {
                Warnings.warn("cannot read " + resource + ": " + e);
            }
        }
        String configFile = System.getProperty(CONFIG_KEY);
        if (configFile != null) {
            try (Reader in = Files.newBufferedReader(Path.of(configFile), StandardCharsets.UTF_8)) {
                merged.load(in);
            } catch (IOException | RuntimeException e) {
                Warnings.warn("cannot read " + CONFIG_KEY + "=" + configFile + ": " + e);
            }
        }
        for (String key : System.getProperties().stringPropertyNames()) {
            if (key.startsWith(PREFIX) || key.equals(PROGRAM_KEY)) {
                merged.setProperty(key, System.getProperty(key));
            }
        }
        return new LoggingSettings(merged);
    }

    /** Settings from the given properties and the defaults only (tests, benchmarks). */
    public static LoggingSettings of(Properties properties) {
        Properties copy = new Properties();
        copy.putAll(properties);
        return new LoggingSettings(copy);
    }

    /** Whether records of {@code track} carry caller file and line ({@code main}: the default track). */
    boolean callerData(String track) {
        return bool(source, PREFIX + "track." + track + ".callerData", callerData);
    }

    /** Every key and value these settings were read from, for the settings of add-ons. */
    Properties source() {
        return source;
    }

    /** @return the program name used in file names and records */
    public String program() {
        return program;
    }

    /** @return the log directory as configured */
    public Path dir() {
        return dir;
    }

    private static ClassLoader classLoader() {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        return context != null ? context : LoggingSettings.class.getClassLoader();
    }

    /**
     * The simple name of the main class, or the jar's name without {@code .jar}, from the
     * command line the JVM was started with; {@code app} when it is not known.
     */
    static String mainClassName() {
        String command = System.getProperty("sun.java.command", "").trim();
        if (command.isEmpty()) {
            return "app";
        }
        String first = command.split("\\s+")[0];
        if (first.endsWith(".jar")) {
            String name = Path.of(first).getFileName().toString();
            return name.substring(0, name.length() - ".jar".length());
        }
        return first.substring(first.lastIndexOf('.') + 1);
    }

    static String fileSafe(String name) {
        String safe = name.replaceAll("[^A-Za-z0-9._-]", "_");
        return safe.isEmpty() ? "app" : safe;
    }

    static Level level(Properties p, String key, Level dflt) {
        String value = p.getProperty(key);
        if (value == null) {
            return dflt;
        }
        Level level = Level.toLevel(value.trim(), null);
        if (level == null) {
            Warnings.warn(key + "=" + value + " is not a level (TRACE, DEBUG, INFO, WARN, ERROR, OFF); using " + dflt);
            return dflt;
        }
        return level;
    }

    static boolean bool(Properties p, String key, boolean dflt) {
        String value = p.getProperty(key);
        if (value == null) {
            return dflt;
        }
        String v = value.trim();
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        Warnings.warn(key + "=" + value + " is not true or false; using " + dflt);
        return dflt;
    }

    static int integer(Properties p, String key, int dflt) {
        String value = p.getProperty(key);
        if (value == null) {
            return dflt;
        }
        try {
            int parsed = Integer.parseInt(value.trim());
            if (parsed > 0) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // warned below
        }
        Warnings.warn(key + "=" + value + " is not a positive integer; using " + dflt);
        return dflt;
    }

    private static final java.util.regex.Pattern DURATION =
            java.util.regex.Pattern.compile("\\s*(\\d{1,9})\\s*(ms|s|m)?\\s*");

    /** A duration such as {@code 250ms}, {@code 1s} or {@code 2m}; a bare number is milliseconds. */
    static long millis(Properties p, String key, long dflt) {
        String value = p.getProperty(key);
        if (value == null) {
            return dflt;
        }
        java.util.regex.Matcher m = DURATION.matcher(value);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "ms" : m.group(2);
            long ms = unit.equals("m") ? n * 60_000 : unit.equals("s") ? n * 1_000 : n;
            if (ms >= 10) {
                return ms;
            }
        }
        Warnings.warn(key + "=" + value + " is not a duration of at least 10ms such as 250ms or 1s; using "
                + dflt + "ms");
        return dflt;
    }

    /** Logback refuses to start a policy whose cap is below its file size, which would lose every file. */
    private static FileSize capAtLeastFileSize(FileSize cap, FileSize fileSize) {
        if (cap.getSize() >= fileSize.getSize()) {
            return cap;
        }
        Warnings.warn(PREFIX + "totalSizeCap=" + cap + " is smaller than " + PREFIX + "file.maxSize="
                + fileSize + "; using " + fileSize + " as the cap");
        return fileSize;
    }

    static FileSize size(Properties p, String key, String dflt) {
        String value = p.getProperty(key, dflt);
        try {
            return FileSize.valueOf(value.trim());
        } catch (IllegalArgumentException e) {
            Warnings.warn(key + "=" + value + " is not a size such as 10MB; using " + dflt);
            return FileSize.valueOf(dflt);
        }
    }
}
