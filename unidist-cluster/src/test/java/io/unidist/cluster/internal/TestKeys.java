package io.unidist.cluster.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Keys and certificates made once per test JVM by the project's own command, {@code unidist-keys.sh}, exactly as the
 * README tells an operator to make them:
 * <ul>
 *   <li>{@code cluster/}: nodes {@code v1}, {@code v2} and {@code r}; {@code r} was then revoked, so
 *       {@code cluster/truststore.p12} trusts {@code v1} and {@code v2} only, and
 *       {@code cluster/truststore-before-revoke.p12} is the truststore as it was before (what {@code r} still holds);</li>
 *   <li>{@code outsider/}: node {@code x}, made the same way for another cluster: a well-formed key and certificate that
 *       the cluster never trusted.</li>
 * </ul>
 * The passwords are distinctive strings so that tests can look for them in logs.
 */
final class TestKeys {
    static final String KEYSTORE_PASSWORD = "ks-Secret-4711-pw";
    static final String TRUSTSTORE_PASSWORD = "ts-Secret-0815-pw";
    static final Path SCRIPT = Path.of("src/main/scripts/unidist-keys.sh").toAbsolutePath();

    private static volatile TestKeys instance;

    private final Path dir;

    private TestKeys(Path dir) {
        this.dir = dir;
    }

    /** The keys, made on first use (about 3 keytool runs per node) and deleted when the JVM exits. */
    static TestKeys get() {
        TestKeys keys = instance;
        if (keys == null) {
            synchronized (TestKeys.class) {
                keys = instance;
                if (keys == null) {
                    keys = make();
                    instance = keys;
                }
            }
        }
        return keys;
    }

    private static TestKeys make() {
        try {
            Path dir = Files.createTempDirectory("unidist-test-keys");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(dir)));
            // two independent runs side by side: the machine has few cores but keytool is mostly JVM start-up
            Process cluster = start(dir, "node", dir.resolve("cluster").toString(), "v1", "v2", "r");
            Process outsider = start(dir, "node", dir.resolve("outsider").toString(), "x");
            await(cluster, "node cluster v1 v2 r");
            await(outsider, "node outsider x");
            Files.copy(dir.resolve("cluster/truststore.p12"), dir.resolve("cluster/truststore-before-revoke.p12"));
            await(start(dir, "revoke", dir.resolve("cluster").toString(), "r"), "revoke cluster r");
            return new TestKeys(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the test keys with " + SCRIPT + ": " + e.getMessage(), e);
        }
    }

    /** Runs the script with the test passwords in its environment; stdout and stderr go to one file per run. */
    static Process start(Path workDir, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add("bash");
        command.add(SCRIPT.toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment());
        Path log = Files.createTempFile(workDir, "unidist-keys-", ".log");
        return builder.redirectOutput(log.toFile()).start();
    }

    /** The environment the script reads: the passwords, and this JVM's keytool. */
    static Map<String, String> environment() {
        Map<String, String> env = new HashMap<>();
        env.put("UNIDIST_KEYSTORE_PASSWORD", KEYSTORE_PASSWORD);
        env.put("UNIDIST_TRUSTSTORE_PASSWORD", TRUSTSTORE_PASSWORD);
        env.put("KEYTOOL", Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        return env;
    }

    private static void await(Process process, String what) throws IOException {
        try {
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("unidist-keys.sh " + what + " did not finish in 120 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while unidist-keys.sh " + what + " ran", e);
        }
        if (process.exitValue() != 0) {
            throw new IOException("unidist-keys.sh " + what + " exited with " + process.exitValue());
        }
    }

    /** A node's keystore: {@code v1}, {@code v2}, {@code r} (revoked) in cluster/, {@code x} in outsider/. */
    Path keystore(String node) {
        return node.equals("x") ? dir.resolve("outsider/x.p12") : dir.resolve("cluster/" + node + ".p12");
    }

    /** The cluster's truststore now: {@code v1} and {@code v2}. */
    Path truststore() {
        return dir.resolve("cluster/truststore.p12");
    }

    /** The cluster's truststore before {@code r} was revoked: what a revoked node still holds. */
    Path truststoreBeforeRevoke() {
        return dir.resolve("cluster/truststore-before-revoke.p12");
    }

    /** The certificate file the script exported for {@code node}. */
    Path certificate(String node) {
        return keystore(node).resolveSibling(node + ".crt");
    }

    /** The JGroups variables for a node with {@code node}'s keystore and the given truststore. */
    Map<String, String> vars(String node, Path truststore) {
        Map<String, String> vars = new HashMap<>();
        vars.put("unidist.keystore", keystore(node).toString());
        vars.put("unidist.keystore_password", KEYSTORE_PASSWORD);
        vars.put("unidist.truststore", truststore.toString());
        vars.put("unidist.truststore_password", TRUSTSTORE_PASSWORD);
        return vars;
    }

    /** What the script printed in all its runs so far, for tests of its output. */
    String scriptOutput() throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> logs = Files.list(dir)) {
            for (Path log : logs.filter(p -> p.getFileName().toString().startsWith("unidist-keys-")).toList()) {
                all.append(Files.readString(log, UTF_8));
            }
        }
        return all.toString();
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory at JVM exit: nothing else to do
        }
    }
}
