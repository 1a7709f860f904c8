package io.unidist.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves the zero-config promise in a fresh JVM, where logback's configurator SPI really runs:
 * a program with no XML and no settings writes the console line and the text and JSON-lines
 * files of its main track and of a named track under {@code ./logs}, and at its normal exit a
 * scrapers' manifest that lists every file to its end; a user's
 * {@code logback.xml} on the class path takes over; an unwritable directory gives one warning
 * and console logging. Multi-process, about a second per JVM.
 */
@Tag("multiprocess")
class ZeroConfigTest {

    private static final List<String> EVERY_FIELD = List.of("time", "level", "host", "program",
            "pid", "track", "seq", "thread", "logger", "message", "mdc", "kv", "file", "line");

    @TempDir
    Path work;

    @Test
    void programWithNoConfigurationWritesConsoleTextAndJsonFiles() throws Exception {
        ChildJvm child = ChildJvm.run(work, null);

        assertEquals(0, child.exitCode, child.stderr);
        assertTrue(child.stdout.contains("INFO  [main] io.unidist.logging.ZeroConfigMain - hello from the child"),
                child.stdout);
        Path logs = work.resolve("logs");
        String text = Files.readString(logs.resolve("ZeroConfigMain.log"));
        assertTrue(text.contains("ZeroConfigMain.java:"), text);
        assertTrue(text.contains("hello from the child"), text);
        assertFalse(text.contains("audited record"), "track records stay out of the main file");

        List<Map<String, Object>> main = jsonLines(logs.resolve("ZeroConfigMain.jsonl"));
        assertEquals(3, main.size());
        for (Map<String, Object> record : main) {
            assertTrue(record.keySet().containsAll(EVERY_FIELD), record.toString());
            assertEquals("ZeroConfigMain", record.get("program"));
            assertEquals(child.pid, record.get("pid"));
            assertEquals("main", record.get("track"));
            assertTrue(((String) record.get("time")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"));
        }
        Map<String, Object> warn = main.get(1);
        assertEquals("WARN", warn.get("level"));
        assertEquals("with \"everything\"", warn.get("message"));
        assertEquals(Map.of("request", "r-1"), warn.get("mdc"));
        assertEquals(Map.of("user", "ann"), warn.get("kv"));
        @SuppressWarnings("unchecked")
        Map<String, Object> exception = (Map<String, Object>) warn.get("exception");
        assertNotNull(exception);
        assertEquals("java.lang.IllegalStateException", exception.get("class"));
        assertEquals("boom", exception.get("message"));
        assertTrue(((String) exception.get("stack")).contains("at io.unidist.logging.ZeroConfigMain.main"));

        List<Map<String, Object>> audit = jsonLines(logs.resolve("ZeroConfigMain.audit.jsonl"));
        assertEquals(List.of("audited record", "second audited record"),
                audit.stream().map(r -> r.get("message")).collect(Collectors.toList()));
        assertEquals("audit", audit.get(0).get("track"));
        assertTrue(Files.readString(logs.resolve("ZeroConfigMain.audit.log")).contains("audited record"));

        assertManifestListsEveryFileToItsEnd(logs);

        long[] seq = java.util.stream.Stream.concat(main.stream(), audit.stream())
                .mapToLong(r -> (Long) r.get("seq")).sorted().toArray();
        assertEquals(5, java.util.Arrays.stream(seq).distinct().count(), "one sequence across tracks");
        assertEquals(1, seq[0]);
        assertEquals(5, seq[4]);
    }

    @Test
    void usersLogbackXmlTakesOver() throws Exception {
        Path userConfig = Files.createDirectories(work.resolve("user-config"));
        Path userLog = work.resolve("user.log");
        Files.writeString(userConfig.resolve("logback.xml"), """
                <configuration>
                  <appender name="F" class="ch.qos.logback.core.FileAppender">
                    <file>%s</file>
                    <encoder><pattern>USER %%level %%msg%%n</pattern></encoder>
                  </appender>
                  <root level="INFO"><appender-ref ref="F"/></root>
                </configuration>
                """.formatted(userLog.toString().replace("\\", "/")));

        ChildJvm child = ChildJvm.run(work, userConfig);

        assertEquals(0, child.exitCode, child.stderr);
        String written = Files.readString(userLog);
        assertTrue(written.contains("USER INFO hello from the child"), written);
        assertTrue(written.contains("USER INFO audited record"), "tracks are plain loggers then: " + written);
        assertFalse(Files.exists(work.resolve("logs")), "no unidist files when the user's file is used");
        assertFalse(child.stdout.contains("hello from the child"), "no unidist console line");
    }

    @Test
    void unwritableDirectoryWarnsOnceAndKeepsTheConsole() throws Exception {
        Path notADirectory = Files.writeString(work.resolve("plain-file"), "x");
        Path logDir = notADirectory.resolve("logs");

        ChildJvm child = ChildJvm.run(work, null,
                "-Dunidist.logging.dir=" + logDir, "-Dunidist.logging.console=false");

        assertEquals(0, child.exitCode, child.stderr);
        String warning = "unidist-logging: WARNING: log directory '" + logDir.toAbsolutePath() + "' is not writable";
        assertEquals(1, child.stderr.split(java.util.regex.Pattern.quote(warning), -1).length - 1, child.stderr);
        assertTrue(child.stderr.contains("logging to the console only"), child.stderr);
        assertTrue(child.stdout.contains("hello from the child"), child.stdout);
        assertTrue(child.stdout.contains("bye"), child.stdout);
        assertTrue(child.stdout.contains("audited record"), "tracks fall back to the console: " + child.stdout);
    }

    @Test
    void settingsComeFromClassPathFileThenConfigFileThenSystemProperties() throws Exception {
        Path classPathDir = Files.createDirectories(work.resolve("cp"));
        Files.writeString(classPathDir.resolve("unidist-logging.properties"),
                "unidist.logging.dir=from-classpath\nunidist.program=cp\nunidist.logging.level=WARN\n");
        Path configFile = Files.writeString(work.resolve("my.properties"),
                "unidist.program=from-file\nunidist.logging.level=INFO\nunidist.logging.console=true\n");

        ChildJvm child = ChildJvm.run(work, classPathDir,
                "-Dunidist.logging.config=" + configFile, "-Dunidist.logging.console=false");

        assertEquals(0, child.exitCode, child.stderr);
        List<Map<String, Object>> records = jsonLines(work.resolve("from-classpath/from-file.jsonl"));
        assertEquals("from-file", records.get(0).get("program"));
        assertEquals("hello from the child", records.get(0).get("message"), "INFO from the file beat WARN");
        assertFalse(child.stdout.contains("hello from the child"), "the system property turned the console off");
    }

    /** The program exited normally: the exit hook wrote the manifest with every record in it. */
    @SuppressWarnings("unchecked")
    private static void assertManifestListsEveryFileToItsEnd(Path logs) throws IOException {
        Map<String, Object> manifest =
                MiniJson.parseObject(Files.readString(logs.resolve("ZeroConfigMain.manifest.json")));
        List<Map<String, Object>> files = (List<Map<String, Object>>) manifest.get("files");
        assertEquals(List.of("ZeroConfigMain.audit.jsonl", "ZeroConfigMain.audit.log", "ZeroConfigMain.jsonl",
                "ZeroConfigMain.log"), files.stream().map(f -> f.get("path")).collect(Collectors.toList()));
        for (Map<String, Object> file : files) {
            assertEquals(Files.size(logs.resolve((String) file.get("path"))), file.get("offset"), file.toString());
            assertEquals("active", file.get("state"));
        }
        // main: hello (1), warning (2), bye (5); audit: its two records (3, 4)
        assertEquals(List.of(3L, 4L), List.of(files.get(0).get("firstSeq"), files.get(0).get("lastSeq")));
        assertEquals(List.of(1L, 5L), List.of(files.get(2).get("firstSeq"), files.get(2).get("lastSeq")));
    }

    static List<Map<String, Object>> jsonLines(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                .map(MiniJson::parseObject).collect(Collectors.toList());
    }
}
