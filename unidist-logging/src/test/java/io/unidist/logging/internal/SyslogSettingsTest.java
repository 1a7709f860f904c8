package io.unidist.logging.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The {@code unidist.logging.syslog.*} keys: defaults per protocol, accepted spellings, bad values. */
class SyslogSettingsTest {

    private static SyslogSettings of(String... keyValues) {
        Properties p = new Properties();
        p.setProperty("unidist.program", "prog");
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty("unidist.logging.syslog." + keyValues[i], keyValues[i + 1]);
        }
        return LoggingSettings.of(p).syslog;
    }

    @Test
    void defaults() {
        SyslogSettings s = of();
        assertFalse(s.enabled);
        assertEquals("localhost", s.host);
        assertEquals(SyslogSettings.Protocol.UDP, s.protocol);
        assertEquals(514, s.port);
        assertEquals(1, s.facility);
        assertEquals("prog", s.appName);
        assertEquals(Level.INFO, s.level);
        assertEquals(Set.of("main"), s.tracks);
        assertEquals(10_000, s.queueSize);
        assertEquals(2048, s.maxMessageSize);
        assertEquals(5_000, s.connectTimeoutMillis);
        assertNull(s.trustStore);
        assertTrue(s.verifyHostname);
    }

    @Test
    void eachProtocolHasItsPortAndSizeLimit() {
        assertEquals(514, of("protocol", "tcp").port);
        assertEquals(8192, of("protocol", "tcp").maxMessageSize);
        assertEquals(6514, of("protocol", "TLS").port);
        assertEquals(8192, of("protocol", "tls").maxMessageSize);
        assertEquals(1024, of("protocol", "udp3164").maxMessageSize);
        assertEquals(1514, of("protocol", "tls", "port", "1514").port);
    }

    @Test
    void facilitiesByNameTracksAndSizes() {
        assertEquals(23, of("facility", "local7").facility);
        assertEquals(3, of("facility", "DAEMON").facility);
        assertEquals(4, of("facility", "auth").facility);
        assertNull(of("tracks", " * ").tracks);
        assertEquals(Set.of("main", "audit"), of("tracks", "main, audit").tracks);
        assertTrue(of("tracks", "audit").sends("audit"));
        assertFalse(of("tracks", "audit").sends("main"));
        assertEquals(4096, of("maxMessageSize", "4KB").maxMessageSize);
        assertEquals(250, of("connectTimeout", "250ms").connectTimeoutMillis);
        assertEquals(Path.of("/etc/trust.p12"), of("tls.trustStore", "/etc/trust.p12").trustStore);
    }

    @Test
    void badValuesFallBackToTheDefaults() {
        SyslogSettings s = of("protocol", "tsl", "facility", "LOCAL8", "port", "70000", "maxMessageSize", "100",
                "tracks", "not a track, audit", "queueSize", "0", "enabled", "maybe", "level", "LOUDEST",
                "host", " ");
        assertEquals(SyslogSettings.Protocol.UDP, s.protocol);
        assertEquals("USER", s.facilityName);
        assertEquals(514, s.port);
        assertEquals(2048, s.maxMessageSize);
        assertEquals(Set.of("audit"), s.tracks);
        assertEquals(10_000, s.queueSize);
        assertFalse(s.enabled);
        assertEquals(Level.INFO, s.level);
        assertEquals("localhost", s.host);
        assertEquals(65_507, of("maxMessageSize", "65507").maxMessageSize);
        assertEquals(2048, of("maxMessageSize", "65508").maxMessageSize, "no UDP datagram is that big");
    }

    @Test
    void theReportNamesTheKeysButNeverAPassword() {
        SyslogSettings s = of("tls.trustStorePassword", "s3cret", "tls.keyStorePassword", "s3cret");
        assertFalse(s.toString().contains("s3cret"));
        assertFalse(SyslogAppenders.keys(s).contains("s3cret"));
        assertEquals("prog_name_with_spaces", SyslogAppenders.tag("prog name with spaces"));
    }

    @Test
    void trackOfALogger() {
        assertEquals("main", LogSetup.trackOf("com.acme.App"));
        assertEquals("audit", LogSetup.trackOf("unidist.track.audit"));
        assertEquals("audit", LogSetup.trackOf("unidist.track.audit.child"));
    }
}
