package io.unidist.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What the collectors wrote in a run directory: the hosts whose records are in
 * {@code <node>/logs/collected/collected.<host>.<track>.jsonl}, read from each line's
 * {@code "node"} key, and the directories that hold them.
 *
 * @param hosts the hosts with at least one collected record
 * @param dirs  the collectors' directories that hold collected files
 */
record CentralLogs(Set<String> hosts, List<Path> dirs) {
    private static final Pattern KEY = Pattern.compile("^\\{\"node\":\"([^\"]+)\"");

    /** Reads every collected file below {@code runDir}. */
    static CentralLogs read(Path runDir) {
        Set<String> hosts = new TreeSet<>();
        Set<Path> dirs = new TreeSet<>();
        try (Stream<Path> files = Files.walk(runDir)) {
            for (Path f : files.filter(CentralLogs::isCollected).toList()) {
                dirs.add(f.getParent());
                // decoded leniently: a collector killed mid-write may leave half a character at the end
                new String(Files.readAllBytes(f), StandardCharsets.UTF_8).lines().forEach(line -> {
                    Matcher m = KEY.matcher(line);
                    if (m.find()) {
                        hosts.add(m.group(1));
                    }
                });
            }
        } catch (IOException e) {
            throw new UncheckedIOException(runDir + ": cannot read the collected logs", e);
        }
        return new CentralLogs(hosts, List.copyOf(dirs));
    }

    private static boolean isCollected(Path f) {
        String name = f.getFileName().toString();
        return name.startsWith("collected.") && name.endsWith(".jsonl") && Files.isRegularFile(f);
    }
}
