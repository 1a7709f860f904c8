package io.unidist.logging;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The logging call's guarantee, with a real {@code kill -9}: a child JVM logs from four threads
 * at once (two tracks, files rotating every 64 KB) and prints an acknowledgement
 * on stdout after each logging call returned; it is killed while it logs. Every acknowledged
 * record must be in the JSON-lines files and in the text files, whole (a line that parses,
 * with the right message), whatever rotation and compression were doing at the kill: a record
 * handed to {@code write(2)} before the call returned survives the process. Records that were
 * written but not acknowledged yet are allowed, and at most one cut line per file. Multi-process,
 * a few seconds.
 */
@Tag("multiprocess")
class KillAfterReturnTest {

    private static final Pattern ACK = Pattern.compile("ack (\\d+) (\\d+)");
    private static final Pattern TEXT_RECORD = Pattern.compile(
            "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z INFO  \\[logger-\\d+] \\S+ AckingLogMain\\.java:\\d+ - record (\\d+ \\d+)$");

    @TempDir
    Path work;

    @Test
    void everyRecordWhoseLoggingCallReturnedIsInBothFilesAfterAKill() throws Exception {
        Path logs = work.resolve("logs");
        Process child = ChildJvm.start(work, null, AckingLogMain.class,
                List.of("-Dunidist.logging.dir=" + logs, "-Dunidist.program=acking", "-Dunidist.logging.console=false",
                        "-Dunidist.logging.file.maxSize=64KB"),
                List.of("4"));
        Path acks = work.resolve("child.out");
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.size(acks) > 400_000); // about 30,000 acks
        } finally {
            child.destroyForcibly(); // SIGKILL
            child.waitFor();
        }

        Set<String> acknowledged = new HashSet<>();
        for (String line : Files.readAllLines(acks, StandardCharsets.UTF_8)) {
            Matcher m = ACK.matcher(line);
            if (m.matches()) { // the last line may be cut by the kill
                acknowledged.add(m.group(1) + " " + m.group(2));
            }
        }
        assertTrue(acknowledged.size() > 20_000, acknowledged.size() + " acknowledged");

        Set<String> inJson = new HashSet<>();
        Set<String> inText = new HashSet<>();
        int badJson = 0;
        int badText = 0;
        for (Path file : files(logs)) {
            String name = file.getFileName().toString();
            for (String line : content(file).split("\n")) {
                if (name.contains(".jsonl")) {
                    try {
                        Map<String, Object> record = MiniJson.parseObject(line);
                        inJson.add(((String) record.get("message")).substring("record ".length()));
                    } catch (RuntimeException e) {
                        badJson++;
                    }
                } else if (!line.startsWith("# unidist-log ")) {
                    Matcher m = TEXT_RECORD.matcher(line);
                    if (m.matches()) {
                        inText.add(m.group(1));
                    } else {
                        badText++;
                    }
                }
            }
        }

        Set<String> missingJson = new TreeSet<>(acknowledged);
        missingJson.removeAll(inJson);
        Set<String> missingText = new TreeSet<>(acknowledged);
        missingText.removeAll(inText);
        assertEquals(Set.of(), missingJson, "acknowledged records missing in the JSON-lines files");
        assertEquals(Set.of(), missingText, "acknowledged records missing in the text files");
        assertTrue(badJson <= 2 && badText <= 2, "at most the lines the kill cut: " + badJson + " JSON, " + badText + " text");
    }

    /** Every log file: active, rotated (a compression's .tmp) and compressed. */
    private static List<Path> files(Path logs) throws IOException {
        try (Stream<Path> list = Files.list(logs)) {
            return list.filter(p -> p.getFileName().toString().matches("acking\\..*(log|jsonl).*"))
                    .collect(Collectors.toList());
        }
    }

    /** The file's text; an archive the kill cut short reads as empty (its .tmp original is still there). */
    private static String content(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            if (file.toString().endsWith(".gz")) {
                return "";
            }
            throw e;
        }
    }
}
