package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.unidist.Unidist;
import io.unidist.cluster.ClusterConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every bundled JGroups file, each of the {@code unidist.*} properties it reads set to a wrong or
 * malformed value, or left out when it has no default: joining fails before any channel opens,
 * with an error that names the property and the value (a password's value never appears).
 * The properties and the files are read from the files themselves, so a property added to a
 * file is covered (with an empty value, unless a bad value is listed for it here).
 */
class BundledConfigPropertyTest {
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{(unidist\\.[a-z_]+)(:[^}]*)?}");
    private static final AtomicInteger CLUSTERS = new AtomicInteger();

    /** Bad values by property; a property not listed here is tried empty. */
    private static final Map<String, List<String>> BAD = Map.ofEntries(
            Map.entry("unidist.bind_port", List.of("abc", "-1", "70000")),
            Map.entry("unidist.mcast_port", List.of("abc", "0", "70000")),
            Map.entry("unidist.fd_timeout", List.of("abc", "-1", "0s")),
            Map.entry("unidist.fd_interval", List.of("abc", "-5", "10s")), // 10s: not below the 6s timeout
            Map.entry("unidist.initial_hosts", List.of("", "host1:7800", "10.0.0.1[abc]", "10.0.0.1[70000]",
                    "300.1.1.1[7800]", "10.0.0.1[7800],,bad host[7801]")),
            Map.entry("unidist.bind_addr", List.of("300.1.1.1", "not an address!", "10.0.0")),
            Map.entry("unidist.mcast_addr", List.of("10.0.0.1", "not an address!")),
            Map.entry("unidist.ip_ttl", List.of("abc", "300", "-1")),
            Map.entry("unidist.keystore", List.of("/no/such/dir/keystore.p12", "")),
            Map.entry("unidist.keystore_type", List.of("nosuchtype")),
            Map.entry("unidist.key_alias", List.of("", "nosuchalias")),
            Map.entry("unidist.keystore_password", List.of("", "wrong-password-7")),
            Map.entry("unidist.truststore", List.of("/no/such/dir/truststore.p12", "")),
            Map.entry("unidist.truststore_type", List.of("nosuchtype")),
            Map.entry("unidist.truststore_password", List.of("", "wrong-password-8")),
            Map.entry("unidist.key_exchange_port", List.of("abc", "70000")));

    @TempDir
    Path dir;

    static List<Path> bundledFiles() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("src/main/resources"))) {
            return files.filter(p -> p.getFileName().toString().matches("unidist-.*\\.xml")).sorted().toList();
        }
    }

    /** The unidist.* properties a file reads, each with whether it has a default. */
    private static Map<String, Boolean> properties(Path file) throws IOException {
        Map<String, Boolean> hasDefault = new LinkedHashMap<>();
        Matcher m = VARIABLE.matcher(Files.readString(file));
        while (m.find()) {
            hasDefault.merge(m.group(1), m.group(2) != null, Boolean::logicalAnd);
        }
        return hasDefault;
    }

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> cases = new ArrayList<>();
        for (Path file : bundledFiles()) {
            String name = file.getFileName().toString();
            properties(file).forEach((property, hasDefault) -> {
                for (String bad : BAD.getOrDefault(property, List.of(""))) {
                    cases.add(Arguments.of(name, property, bad));
                }
                if (!hasDefault) {
                    cases.add(Arguments.of(name, property, null)); // left out
                }
            });
        }
        return cases.stream();
    }

    @Test
    void everyBundledFileIsCovered() throws IOException {
        List<Path> files = bundledFiles();
        assertTrue(files.size() >= 7, "bundled files found: " + files);
        TreeSet<String> all = new TreeSet<>();
        for (Path f : files) {
            all.addAll(properties(f).keySet());
        }
        assertTrue(all.containsAll(List.of("unidist.bind_port", "unidist.initial_hosts", "unidist.fd_timeout",
                "unidist.fd_interval", "unidist.mcast_addr", "unidist.keystore")), all::toString);
    }

    @ParameterizedTest(name = "{0}: {1}={2}")
    @MethodSource("cases")
    void aWrongMalformedOrMissingPropertyFailsTheJoinNamingItAndItsValue(String file, String property, String bad)
            throws Exception {
        Map<String, String> good = goodValues(file);
        Map<String, String> values = new LinkedHashMap<>(good);
        if (bad == null) {
            values.remove(property);
        } else {
            values.put(property, bad);
        }
        ClusterConfig.Builder b = ClusterConfig.builder().clusterName("props-" + CLUSTERS.incrementAndGet())
                .nodeName("v1").voters("v1").dataDir(dir.resolve("data")).jgroupsConfig(file);
        values.forEach(b::property);
        String messages;
        try (Unidist joined = ClusterNode.join(b.build())) {
            fail(file + " with " + property + "=" + bad + " joined: " + joined);
            return;
        } catch (RuntimeException e) {
            StringBuilder all = new StringBuilder();
            for (Throwable t = e; t != null; t = t.getCause()) {
                all.append(t.getMessage()).append(" | ");
            }
            messages = all.toString();
        }
        assertTrue(messages.contains(property), "the error does not name " + property + ": " + messages);
        if (bad != null && property.contains("password")) {
            assertFalse(!bad.isEmpty() && messages.contains(bad), "the error shows the password: " + messages);
        } else if (bad != null) {
            assertTrue(messages.contains("'" + bad + "'"), "the error does not show the value '" + bad + "': " + messages);
        }
    }

    /** Values that let a node of {@code file} start alone on this host, on ports no other test uses. */
    private Map<String, String> goodValues(String file) throws Exception {
        int port = TestNet.freeBasePort(200);
        Map<String, String> v = new LinkedHashMap<>();
        v.put("unidist.bind_addr", TestNet.LOOPBACK);
        v.put("unidist.bind_port", Integer.toString(port));
        v.put("unidist.initial_hosts", TestNet.LOOPBACK + "[" + port + "]");
        v.put("unidist.mcast_port", Integer.toString(port + 7));
        v.put("unidist.key_exchange_port", Integer.toString(port + 20));
        TestKeys keys = TestKeys.get(); // the project's own key command made them
        v.putAll(keys.vars("v1", keys.truststore()));
        v.keySet().retainAll(properties(Path.of("src/main/resources", file)).keySet());
        return v;
    }
}
