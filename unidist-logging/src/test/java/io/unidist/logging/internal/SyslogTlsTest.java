package io.unidist.logging.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import io.unidist.logging.UnidistLogging;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/**
 * RFC 5425 against an {@link javax.net.ssl.SSLServerSocket} whose self-signed certificates the
 * JDK's {@code keytool} makes for each run: delivery with the trust store set through the keys,
 * a client certificate from the key store, the wrong trust store and a name mismatch failing
 * the handshake and being reported (never thrown at the program), and a missing trust store.
 */
class SyslogTlsTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);
    private static final String PASSWORD = "changeit";

    @TempDir
    static Path keys;

    @TempDir
    Path dir;

    private final LoggerContext context = new LoggerContext();

    @BeforeAll
    static void makeKeys() throws IOException, InterruptedException {
        keyPair("server", "SAN=ip:127.0.0.1,dns:localhost");
        keyPair("stranger", "SAN=ip:127.0.0.1");
        keyPair("misnamed", "SAN=dns:elsewhere.example");
        keyPair("client", "SAN=dns:client.example");
        trustStoreOf("server");
        trustStoreOf("stranger");
        trustStoreOf("misnamed");
        trustStoreOf("client");
    }

    private static void keyPair(String name, String subjectAltNames) throws IOException, InterruptedException {
        keytool("-genkeypair", "-alias", name, "-keyalg", "EC", "-keysize", "256", "-dname", "CN=" + name,
                "-ext", subjectAltNames, "-validity", "2", "-storetype", "PKCS12",
                "-keystore", keys.resolve(name + ".p12").toString(), "-storepass", PASSWORD, "-keypass", PASSWORD);
        keytool("-exportcert", "-alias", name, "-keystore", keys.resolve(name + ".p12").toString(),
                "-storepass", PASSWORD, "-file", keys.resolve(name + ".cer").toString());
    }

    /** {@code <name>-trust.p12}: a trust store holding only {@code name}'s certificate. */
    private static void trustStoreOf(String name) throws IOException, InterruptedException {
        keytool("-importcert", "-noprompt", "-alias", name, "-file", keys.resolve(name + ".cer").toString(),
                "-storetype", "PKCS12", "-keystore", keys.resolve(name + "-trust.p12").toString(),
                "-storepass", PASSWORD);
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), "keytool " + String.join(" ", args) + ": " + output);
    }

    private static SSLContext serverContext(String keyPair, String trustedClient) throws IOException,
            GeneralSecurityException {
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(store(keyPair + ".p12"), PASSWORD.toCharArray());
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trustedClient == null ? null : store(trustedClient + "-trust.p12"));
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(keyManagers.getKeyManagers(), trust.getTrustManagers(), null);
        return tls;
    }

    private static KeyStore store(String file) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keys.resolve(file))) {
            store.load(in, PASSWORD.toCharArray());
        }
        return store;
    }

    @AfterEach
    void stop() {
        context.stop();
    }

    private Logger configure(int port, String... keyValues) {
        Properties p = new Properties();
        p.setProperty("unidist.logging.dir", dir.toString());
        p.setProperty("unidist.program", "prog");
        p.setProperty("unidist.logging.console", "false");
        p.setProperty("unidist.logging.manifest.enabled", "false");
        p.setProperty("unidist.logging.syslog.enabled", "true");
        p.setProperty("unidist.logging.syslog.protocol", "tls");
        p.setProperty("unidist.logging.syslog.host", "127.0.0.1");
        p.setProperty("unidist.logging.syslog.port", Integer.toString(port));
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty("unidist.logging.syslog." + keyValues[i], keyValues[i + 1]);
        }
        UnidistLogging.configure(context, p);
        return context.getLogger("com.acme.App");
    }

    private static String[] trusting(String name) {
        return new String[] {"tls.trustStore", keys.resolve(name + "-trust.p12").toString(),
                "tls.trustStorePassword", PASSWORD, "tls.trustStoreType", "PKCS12"};
    }

    private String localLog() throws IOException {
        return Files.readString(dir.resolve("prog.log"), StandardCharsets.UTF_8);
    }

    private static void awaitMessages(SyslogReceivers.Frames server, String... messages) {
        await().atMost(PATIENCE).until(() -> server.received.size() >= messages.length);
        for (int i = 0; i < messages.length; i++) {
            assertEquals(messages[i], Rfc5424Parser.parse(server.received.get(i)).msg());
        }
    }

    @Test
    void deliversToAServerTheConfiguredTrustStoreTrusts() throws Exception {
        try (SyslogReceivers.Frames server = new SyslogReceivers.Frames(serverContext("server", null), 0, true, 0)) {
            Logger log = configure(server.port(), trusting("server"));
            log.info("over tls");
            log.warn("second\nwith a newline");

            awaitMessages(server, "over tls", "second\nwith a newline");
            assertEquals(List.of(), server.errors);
        }
    }

    @Test
    void offersTheClientCertificateFromTheKeyStore() throws Exception {
        try (SyslogReceivers.Frames server = new SyslogReceivers.Frames(serverContext("server", "client"), 0, true, 0)
                .requireClientCertificates()) {
            String[] trust = trusting("server");
            Logger log = configure(server.port(), trust[0], trust[1], trust[2], trust[3],
                    "tls.keyStore", keys.resolve("client.p12").toString(), "tls.keyStorePassword", PASSWORD);
            log.info("mutual");

            awaitMessages(server, "mutual");
        }
    }

    @Test
    void theWrongTrustStoreFailsTheHandshakeAndIsReportedNotThrown() throws Exception {
        try (SyslogReceivers.Frames server = new SyslogReceivers.Frames(serverContext("server", null), 0, true, 0)) {
            Logger log = configure(server.port(), trusting("stranger"));
            log.info("never over the wire");

            await().atMost(PATIENCE).until(() -> localLog().contains("cannot connect"));
            String report = localLog();
            assertTrue(report.contains("SSLHandshakeException"), report);
            assertTrue(report.contains("unidist.logging.syslog.tls.trustStore=" + keys.resolve("stranger-trust.p12")),
                    report);
            assertTrue(report.contains("never over the wire"), "local files keep working");
            assertTrue(server.received.isEmpty());
        }
    }

    @Test
    void aNameMismatchFailsUnlessHostnameVerificationIsOff() throws Exception {
        try (SyslogReceivers.Frames server = new SyslogReceivers.Frames(serverContext("misnamed", null), 0, true, 0)) {
            Logger log = configure(server.port(), trusting("misnamed"));
            log.info("not to a server of another name");
            await().atMost(PATIENCE).until(() -> localLog().contains("SSLHandshakeException"));
            assertTrue(server.received.isEmpty());

            String[] trust = trusting("misnamed");
            log = configure(server.port(), trust[0], trust[1], trust[2], trust[3], "tls.verifyHostname", "false");
            log.info("name not checked");
            awaitMessages(server, "name not checked");
        }
    }

    @Test
    void aMissingTrustStoreWarnsNamingTheKeyAndTheJdkDefaultsDoNotTrustTheServer() throws Exception {
        Path missing = keys.resolve("no-such-trust.p12");
        try (SyslogReceivers.Frames server = new SyslogReceivers.Frames(serverContext("server", null), 0, true, 0)) {
            PrintStream savedErr = System.err;
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Logger log;
            try {
                System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
                log = configure(server.port(), "tls.trustStore", missing.toString());
            } finally {
                System.setErr(savedErr);
            }
            String warning = err.toString(StandardCharsets.UTF_8);
            assertTrue(warning.contains("unidist.logging.syslog.tls.trustStore=" + missing + " cannot be read"), warning);
            assertTrue(warning.contains("using the JDK's default trust store"), warning);

            log.info("kept local");
            await().atMost(PATIENCE).until(() -> localLog().contains("SSLHandshakeException"));
            assertTrue(localLog().contains("kept local"));
            assertTrue(server.received.isEmpty());
        }
    }
}
