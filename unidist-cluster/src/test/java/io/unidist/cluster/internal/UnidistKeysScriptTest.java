package io.unidist.cluster.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code unidist-keys.sh}, the command the README gives for making a cluster's keys: what {@link TestKeys} made with
 * it is checked here store by store (one private key per node, a truststore of exactly the trusted nodes' certificates,
 * a revoked node gone from it), and the other commands and refusals are run against copies.
 */
class UnidistKeysScriptTest {
    @TempDir
    Path tmp;

    private final TestKeys keys = TestKeys.get();

    @Test
    void eachNodeGetsItsOwnPrivateKeyAndCertificateReadableByItsOwnerOnly() throws Exception {
        for (String node : List.of("v1", "v2", "r", "x")) {
            KeyStore store = load(keys.keystore(node), TestKeys.KEYSTORE_PASSWORD);
            List<String> aliases = Collections.list(store.aliases());
            assertEquals(List.of(node), aliases, node + ".p12 holds another alias");
            assertTrue(store.isKeyEntry(node), node + ".p12 holds no private key");
            X509Certificate certificate = (X509Certificate) store.getCertificate(node);
            assertEquals("CN=" + node + ",OU=unidist", certificate.getSubjectX500Principal().getName());
            assertTrue(certificate.getExtendedKeyUsage().containsAll(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2")),
                    node + ": the certificate must serve as TLS server and client");
            certificate.checkValidity();
            assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                    Files.getPosixFilePermissions(keys.keystore(node)), node + ".p12 is readable by others");
        }
    }

    @Test
    void theTruststoreHoldsExactlyTheTrustedNodesCertificatesAndRevokeRemovesOne() throws Exception {
        assertEquals(Set.of("v1", "v2", "r"), trusted(keys.truststoreBeforeRevoke()));
        assertEquals(Set.of("v1", "v2"), trusted(keys.truststore()), "r was revoked");
        KeyStore truststore = load(keys.truststore(), TestKeys.TRUSTSTORE_PASSWORD);
        for (String node : List.of("v1", "v2")) {
            Certificate own = load(keys.keystore(node), TestKeys.KEYSTORE_PASSWORD).getCertificate(node);
            assertEquals(own, truststore.getCertificate(node), node + "'s trusted certificate is not its own");
        }
        String output = keys.scriptOutput();
        assertFalse(output.contains(TestKeys.KEYSTORE_PASSWORD) || output.contains(TestKeys.TRUSTSTORE_PASSWORD),
                "the script printed a password: " + output);
    }

    @Test
    void trustAddsACertificateMadeElsewhereAndListShowsTheTrustedNodes() throws Exception {
        Path cluster = Files.createDirectories(tmp.resolve("cluster"));
        Files.copy(keys.truststore(), cluster.resolve("truststore.p12"));
        Run trust = run(Map.of(), "trust", cluster.toString(), "x", keys.certificate("x").toString());
        assertEquals(0, trust.exit, trust.output);
        assertEquals(Set.of("v1", "v2", "x"), trusted(cluster.resolve("truststore.p12")));
        Run list = run(Map.of(), "list", cluster.toString());
        assertEquals(0, list.exit, list.output);
        assertTrue(list.output.contains("v1,") && list.output.contains("x,") && !list.output.contains("r,"), list.output);
    }

    @Test
    void refusalsNameWhatIsWrongAndChangeNothing() throws Exception {
        Path cluster = keys.keystore("v1").getParent();
        Run overwrite = run(Map.of(), "node", cluster.toString(), "v1");
        assertEquals(1, overwrite.exit, overwrite.output);
        assertTrue(overwrite.output.contains("v1.p12 exists"), overwrite.output);

        Run noPassword = run(Map.of("UNIDIST_TRUSTSTORE_PASSWORD", ""), "node", tmp.toString(), "n9");
        assertEquals(1, noPassword.exit, noPassword.output);
        assertTrue(noPassword.output.contains("UNIDIST_TRUSTSTORE_PASSWORD"), noPassword.output);

        Run badName = run(Map.of(), "node", tmp.toString(), "../evil");
        assertEquals(1, badName.exit, badName.output);
        assertTrue(badName.output.contains("'../evil' is not allowed"), badName.output);

        Run unknownNode = run(Map.of(), "revoke", cluster.toString(), "nobody");
        assertEquals(1, unknownNode.exit, unknownNode.output);
        assertTrue(unknownNode.output.contains("nobody"), unknownNode.output);

        Run usage = run(Map.of(), "rotate", tmp.toString());
        assertEquals(2, usage.exit, usage.output);
        assertTrue(usage.output.contains("Usage:"), usage.output);

        assertEquals(Set.of("v1", "v2"), trusted(keys.truststore()), "a refused command changed the truststore");
        try (var files = Files.list(tmp)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".p12")), "a refused command made a key");
        }
    }

    private record Run(int exit, String output) {
    }

    /** Runs the script with the test passwords, overridden by {@code env} (an empty value removes the variable). */
    private Run run(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", TestKeys.SCRIPT.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(TestKeys.environment());
        env.forEach((k, v) -> {
            if (v.isEmpty()) {
                builder.environment().remove(k);
            } else {
                builder.environment().put(k, v);
            }
        });
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the script did not finish");
        return new Run(process.exitValue(), output);
    }

    private static Set<String> trusted(Path truststore) throws Exception {
        KeyStore store = load(truststore, TestKeys.TRUSTSTORE_PASSWORD);
        Set<String> aliases = new TreeSet<>();
        for (String alias : Collections.list(store.aliases())) {
            assertTrue(store.isCertificateEntry(alias), alias + " in the truststore is not a trusted certificate");
            aliases.add(alias);
        }
        return aliases;
    }

    private static KeyStore load(Path file, String password) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            store.load(in, password.toCharArray());
        }
        return store;
    }
}
