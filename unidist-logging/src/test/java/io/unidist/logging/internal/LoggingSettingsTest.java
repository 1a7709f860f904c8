package io.unidist.logging.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** Defaults, per-track and per-logger keys, and what a bad value does. */
class LoggingSettingsTest {

    private static LoggingSettings of(String... keyValues) {
        Properties p = new Properties();
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return LoggingSettings.of(p);
    }

    @Test
    void defaults() {
        LoggingSettings s = of();
        assertEquals(Path.of("./logs"), s.dir());
        assertEquals(Level.INFO, s.rootLevel);
        assertTrue(s.console);
        assertEquals(10L * 1024 * 1024, s.maxFileSize.getSize());
        assertEquals(1024L * 1024 * 1024, s.totalSizeCap.getSize());
        assertEquals(30, s.maxHistoryDays);
        assertTrue(s.callerData("main"), "every record carries its caller unless turned off");
        assertTrue(s.callerData("audit"), "a track inherits the default");
        assertEquals(65_536, s.maxMessageChars);
        assertTrue(s.manifest);
        assertEquals(1_000, s.manifestIntervalMillis);
    }

    @Test
    void manifestIntervalTakesMillisecondsSecondsAndMinutes() {
        assertEquals(250, of("unidist.logging.manifest.interval", "250ms").manifestIntervalMillis);
        assertEquals(250, of("unidist.logging.manifest.interval", "250").manifestIntervalMillis);
        assertEquals(2_000, of("unidist.logging.manifest.interval", " 2 s ").manifestIntervalMillis);
        assertEquals(60_000, of("unidist.logging.manifest.interval", "1m").manifestIntervalMillis);
        assertFalse(of("unidist.logging.manifest.enabled", "false").manifest);
    }

    @Test
    void perTrackCallerDataAndPerLoggerLevels() {
        LoggingSettings s = of("unidist.logging.callerData", "false",
                "unidist.logging.track.audit.callerData", "true",
                "unidist.logging.level.com.acme", "DEBUG");
        assertFalse(s.callerData("main"));
        assertFalse(s.callerData("other"));
        assertTrue(s.callerData("audit"));
        LoggingSettings on = of("unidist.logging.callerData", "true", "unidist.logging.track.quiet.callerData", "false");
        assertTrue(on.callerData("main"));
        assertTrue(on.callerData("other"));
        assertFalse(on.callerData("quiet"));
        assertEquals(Level.DEBUG, s.levels.get("com.acme"));
    }

    @Test
    void programNameIsFileSafeAndUnidistProgramWins() {
        assertEquals("my_app_1", of("unidist.program", "my app/1").program());
        assertEquals("a", of("unidist.program", "a", "unidist.logging.program", "b").program());
    }

    @Test
    void badValuesFallBackToTheDefaults() {
        LoggingSettings s = of("unidist.logging.file.maxSize", "lots",
                "unidist.logging.level", "LOUD", "unidist.logging.console", "yes please",
                "unidist.logging.json.maxMessageChars", "-3", "unidist.logging.manifest.interval", "5ms",
                "unidist.logging.manifest.enabled", "sometimes");
        assertEquals(10L * 1024 * 1024, s.maxFileSize.getSize());
        assertEquals(Level.INFO, s.rootLevel);
        assertTrue(s.console);
        assertEquals(65_536, s.maxMessageChars);
        assertEquals(1_000, s.manifestIntervalMillis, "below 10ms is refused");
        assertTrue(s.manifest);
    }

    @Test
    void aCapBelowTheFileSizeIsRaisedToTheFileSize() {
        LoggingSettings s = of("unidist.logging.file.maxSize", "2MB", "unidist.logging.totalSizeCap", "1MB");
        assertEquals(2L * 1024 * 1024, s.totalSizeCap.getSize());
    }

    @Test
    void mainClassNameIsTheSimpleNameOrTheJarName() {
        String saved = System.getProperty("sun.java.command");
        try {
            System.setProperty("sun.java.command", "com.acme.Server --port 1");
            assertEquals("Server", LoggingSettings.mainClassName());
            System.setProperty("sun.java.command", "/opt/app/billing.jar x");
            assertEquals("billing", LoggingSettings.mainClassName());
        } finally {
            if (saved == null) {
                System.clearProperty("sun.java.command");
            } else {
                System.setProperty("sun.java.command", saved);
            }
        }
    }
}
