package io.unidist.logging.internal;

import static io.unidist.logging.internal.LoggingSettings.PREFIX;

import ch.qos.logback.classic.Level;
import ch.qos.logback.core.net.SyslogAppenderBase;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;

/**
 * The {@code unidist.logging.syslog.*} keys, parsed once with the helpers of
 * {@link LoggingSettings}: a value that does not parse gives one warning naming the key and
 * the value, and the default is used. Keys and defaults are listed in the package javadoc of
 * {@code io.unidist.logging}.
 *
 * <p>Immutable; the passwords are kept as given and never appear in {@link #toString()}.
 */
final class SyslogSettings {

    static final String SYSLOG = PREFIX + "syslog.";
    /** RFC 5424 §6.1: every receiver must take this much; a smaller limit could not hold a header. */
    static final int MIN_MESSAGE_SIZE = 480;

    /** How records travel; each has the port and message size limit its RFC suggests. */
    enum Protocol {
        /** RFC 5424 over UDP (RFC 5426): one datagram per record. */
        UDP("udp", 514, 2048, 65_507),
        /** RFC 5424 over TCP with octet-counting framing (RFC 6587 §3.4.1). */
        TCP("tcp", 514, 8192, 1 << 20),
        /** RFC 5424 over TLS (RFC 5425), octet-counting framing. */
        TLS("tls", 6514, 8192, 1 << 20),
        /** logback's own RFC 3164 (BSD syslog) appender over UDP; RFC 3164 allows 1024 bytes. */
        UDP3164("udp3164", 514, 1024, 65_000);

        final String keyword;
        final int defaultPort;
        final int defaultMaxMessageSize;
        final int largestMessageSize;

        Protocol(String keyword, int defaultPort, int defaultMaxMessageSize, int largestMessageSize) {
            this.keyword = keyword;
            this.defaultPort = defaultPort;
            this.defaultMaxMessageSize = defaultMaxMessageSize;
            this.largestMessageSize = largestMessageSize;
        }

        boolean streaming() {
            return this == TCP || this == TLS;
        }
    }

    final boolean enabled;
    final String host;
    final Protocol protocol;
    final int port;
    /** Facility name as logback spells it, for {@code udp3164}. */
    final String facilityName;
    /** Facility code, 0 to 23 (RFC 5424 table 1). */
    final int facility;
    final String appName;
    final Level level;
    /** Track names whose records are sent; {@code null} means every track. */
    final Set<String> tracks;
    final int queueSize;
    final int maxMessageSize;
    final long connectTimeoutMillis;
    final Path trustStore;
    final String trustStorePassword;
    final String trustStoreType;
    final Path keyStore;
    final String keyStorePassword;
    final String keyStoreType;
    final boolean verifyHostname;

    private SyslogSettings(Properties p, String program) {
        this.enabled = LoggingSettings.bool(p, SYSLOG + "enabled", false);
        this.host = nonBlank(p, SYSLOG + "host", "localhost");
        this.protocol = protocol(p);
        this.port = port(p, protocol.defaultPort);
        this.facilityName = facilityName(p);
        this.facility = SyslogAppenderBase.facilityStringToint(facilityName) >> 3; // logback's codes are pre-shifted
        this.appName = nonBlank(p, SYSLOG + "appName", program);
        this.level = LoggingSettings.level(p, SYSLOG + "level", Level.INFO);
        this.tracks = tracks(p);
        this.queueSize = LoggingSettings.integer(p, SYSLOG + "queueSize", 10_000);
        this.maxMessageSize = maxMessageSize(p, protocol);
        this.connectTimeoutMillis = LoggingSettings.millis(p, SYSLOG + "connectTimeout", 5_000);
        this.trustStore = path(p, SYSLOG + "tls.trustStore");
        this.trustStorePassword = p.getProperty(SYSLOG + "tls.trustStorePassword");
        this.trustStoreType = nonBlank(p, SYSLOG + "tls.trustStoreType", KeyStore.getDefaultType());
        this.keyStore = path(p, SYSLOG + "tls.keyStore");
        this.keyStorePassword = p.getProperty(SYSLOG + "tls.keyStorePassword");
        this.keyStoreType = nonBlank(p, SYSLOG + "tls.keyStoreType", KeyStore.getDefaultType());
        this.verifyHostname = LoggingSettings.bool(p, SYSLOG + "tls.verifyHostname", true);
    }

    static SyslogSettings read(Properties p, String program) {
        return new SyslogSettings(p, program);
    }

    /** Whether records of {@code track} are sent. */
    boolean sends(String track) {
        return tracks == null || tracks.contains(track);
    }

    /** Where records go, for messages: {@code tls://host:6514}. */
    String target() {
        return protocol.keyword + "://" + host + ":" + port;
    }

    @Override
    public String toString() {
        return "syslog " + (enabled ? "on" : "off") + " " + target() + " facility " + facilityName
                + " level " + level + " tracks " + (tracks == null ? "*" : tracks);
    }

    private static String nonBlank(Properties p, String key, String dflt) {
        String value = p.getProperty(key);
        if (value == null) {
            return dflt;
        }
        if (value.isBlank()) {
            Warnings.warn(key + " is empty; using " + dflt);
            return dflt;
        }
        return value.trim();
    }

    private static Path path(Properties p, String key) {
        String value = p.getProperty(key);
        return value == null || value.isBlank() ? null : Path.of(value.trim());
    }

    private static Protocol protocol(Properties p) {
        String key = SYSLOG + "protocol";
        String value = p.getProperty(key);
        if (value == null) {
            return Protocol.UDP;
        }
        for (Protocol protocol : Protocol.values()) {
            if (protocol.keyword.equalsIgnoreCase(value.trim())) {
                return protocol;
            }
        }
        Warnings.warn(key + "=" + value + " is not one of udp, tcp, tls, udp3164; using udp");
        return Protocol.UDP;
    }

    private static int port(Properties p, int dflt) {
        String key = SYSLOG + "port";
        int port = LoggingSettings.integer(p, key, dflt);
        if (port > 65_535) {
            Warnings.warn(key + "=" + p.getProperty(key) + " is not a port (1 to 65535); using " + dflt);
            return dflt;
        }
        return port;
    }

    private static String facilityName(Properties p) {
        String key = SYSLOG + "facility";
        String value = p.getProperty(key);
        if (value == null) {
            return "USER";
        }
        String name = value.trim().toUpperCase(Locale.ROOT);
        try {
            SyslogAppenderBase.facilityStringToint(name);
            return name;
        } catch (IllegalArgumentException e) {
            Warnings.warn(key + "=" + value + " is not a facility (KERN, USER, MAIL, DAEMON, AUTH, SYSLOG, LPR,"
                    + " NEWS, UUCP, CRON, AUTHPRIV, FTP, NTP, AUDIT, ALERT, CLOCK, LOCAL0 to LOCAL7); using USER");
            return "USER";
        }
    }

    private static Set<String> tracks(Properties p) {
        String key = SYSLOG + "tracks";
        String value = p.getProperty(key);
        if (value == null) {
            return Set.of(LogSetup.MAIN_TRACK);
        }
        if (value.trim().equals("*")) {
            return null;
        }
        Set<String> tracks = new LinkedHashSet<>();
        for (String name : value.split(",")) {
            try {
                LogSetup.checkTrackName(name.trim());
                tracks.add(name.trim());
            } catch (IllegalArgumentException e) {
                Warnings.warn(key + "=" + value + ": " + e.getMessage() + "; ignoring it");
            }
        }
        if (tracks.isEmpty()) {
            Warnings.warn(key + "=" + value + " names no track; using " + LogSetup.MAIN_TRACK);
            return Set.of(LogSetup.MAIN_TRACK);
        }
        return Set.copyOf(tracks);
    }

    private static int maxMessageSize(Properties p, Protocol protocol) {
        String key = SYSLOG + "maxMessageSize";
        int dflt = protocol.defaultMaxMessageSize;
        long size = LoggingSettings.size(p, key, Integer.toString(dflt)).getSize();
        if (size < MIN_MESSAGE_SIZE || size > protocol.largestMessageSize) {
            Warnings.warn(key + "=" + p.getProperty(key) + " is not between " + MIN_MESSAGE_SIZE + " and "
                    + protocol.largestMessageSize + " bytes for " + protocol.keyword + "; using " + dflt);
            return dflt;
        }
        return (int) size;
    }
}
