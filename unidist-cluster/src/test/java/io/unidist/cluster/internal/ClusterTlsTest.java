package io.unidist.cluster.internal;

import static io.unidist.cluster.internal.StacksTest.handshake;
import static io.unidist.cluster.internal.StacksTest.physicalAddress;
import static io.unidist.cluster.internal.StacksTest.sendAndAwaitClose;
import static io.unidist.cluster.internal.TestNet.LOOPBACK;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.unidist.ClusterUnavailableException;
import io.unidist.Unidist;
import io.unidist.UnidistException;
import io.unidist.cluster.ClusterConfig;
import io.unidist.testing.FreePorts;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.jgroups.JChannel;
import org.jgroups.protocols.FD_SOCK2;
import org.jgroups.protocols.TCP;
import org.jgroups.util.TLSClientAuth;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code unidist-local-secure.xml} (TLS with client certificates; {@code unidist-tcp-secure.xml} is the same stack)
 * keeps out every node the cluster's truststore does not hold. Two voters run in this JVM on 127.0.0.1 with keys made
 * by {@code unidist-keys.sh} ({@link TestKeys}); against them: a node whose certificate was never trusted, a node whose
 * certificate was revoked (it still has its key and the old truststore), and raw plain and TLS connections to every
 * port the members listen on. None of them joins, reads, writes or gets a byte read; the members keep serving; and no
 * password appears in anything logged or thrown during the whole class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTlsTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String CONFIG = "unidist-local-secure.xml";
    private static final String WRONG_PASSWORD = "Wrong-Pw-31337";

    @TempDir
    static Path dir;

    private TestKeys keys;
    private CapturedLogs logs;
    private int base;
    private String clusterName;
    private final Map<String, ClusterNode> members = new LinkedHashMap<>();

    @BeforeAll
    void startTwoVoters() throws Exception {
        keys = TestKeys.get();
        logs = new CapturedLogs(); // from the members' own joins on: see secretsNeverAppear...
        base = FreePorts.freeBasePort();
        clusterName = "tls-" + ProcessHandle.current().pid() + "-" + base;
        for (String voter : List.of("v1", "v2")) {
            members.put(voter, (ClusterNode) ClusterNode.join(config(voter, keys.truststore())
                    .dataDir(dir.resolve(voter)).build()));
        }
        await().atMost(WAIT).until(() -> members.values().stream().allMatch(n -> n.mainChannel().getView().size() == 2)
                && members.values().stream().anyMatch(ClusterNode::isLeader));
        assertEquals(5, members.get("v2").counter("c").addAndGet(5));
    }

    @AfterAll
    void stop() {
        members.values().forEach(ClusterNode::close);
        if (logs != null) {
            logs.close();
        }
    }

    @Test
    @Order(1)
    void membersTalkOnlyThroughTlsWithClientCertificatesOnBothChannels() {
        for (ClusterNode member : members.values()) {
            for (JChannel channel : List.of(member.mainChannel(), member.raftChannel())) {
                TCP tcp = (TCP) channel.getProtocolStack().getTransport();
                assertTrue(tcp.tls().enabled(), member.nodeName() + ": TLS off on " + channel.getClusterName());
                assertEquals(TLSClientAuth.NEED, tcp.tls().getClientAuth(), member.nodeName() + " client auth");
            }
        }
        assertEquals(6, members.get("v1").counter("c").incrementAndGet()); // the Raft channel works over TLS
    }

    @Test
    @Order(2)
    void eachVoterListensOnExactlyTheDocumentedPortsAndOnlyOnItsBindAddress() {
        assumeTrue(Listeners.available(), "needs Linux's /proc to list this JVM's sockets");
        Set<String> expected = new TreeSet<>();
        for (ClusterNode member : members.values()) {
            int transport = physicalAddress(member.mainChannel()).getPort();
            // README, "Ports": transport, FD_SOCK2 at +50, the voters' Raft channel at +100 and its FD_SOCK2 at +150
            for (int port : List.of(transport, transport + 50, transport + 100, transport + 150)) {
                expected.add(LOOPBACK + ":" + port);
            }
        }
        Set<String> actual = new TreeSet<>();
        for (Listeners.Listener l : Listeners.tcp()) {
            int offset = l.port() - base; // the transport ranges and the failure-detection ranges 50 above them
            if (offset >= 0 && offset < 200 && offset % 50 <= 23) {
                actual.add(l.toString());
            }
        }
        assertEquals(expected, actual, "listening sockets of the two voters");
        assertTrue(Listeners.tcp().stream().noneMatch(l -> l.port() == 1965), "a raft.CLIENT port is open");
    }

    @Test
    @Order(3)
    void aNodeWhoseCertificateWasNeverTrustedCannotJoinReadOrWrite() {
        // x trusts the members (it holds a copy of the truststore from before the revocation), they do not trust x
        assertKeptOut("x", keys.truststoreBeforeRevoke());
    }

    @Test
    @Order(4)
    void aRevokedNodeWithItsOldKeyAndTruststoreCannotJoinReadOrWrite() throws Exception {
        // Proof that r's credentials were good: the truststore from before the revocation accepts r in a TLS
        // handshake like the transport's, and the members' truststore, with r revoked, refuses it.
        assertTrue(handshakeSucceeds(keys.truststoreBeforeRevoke(), keys.keystore("r")), "r before the revocation");
        assertFalse(handshakeSucceeds(keys.truststore(), keys.keystore("r")), "r after the revocation");
        assertKeptOut("r", keys.truststoreBeforeRevoke());
    }

    @Test
    @Order(5)
    void bytesSentToAnyPortOfAMemberAreNeverReadAndChangeNothing() throws Exception {
        long before = members.get("v1").counter("c").get();
        Map<String, Integer> tlsPorts = new LinkedHashMap<>();
        List<Integer> failureDetectionPorts = new ArrayList<>();
        for (ClusterNode member : members.values()) {
            tlsPorts.put(member.nodeName() + " transport", physicalAddress(member.mainChannel()).getPort());
            tlsPorts.put(member.nodeName() + " raft transport", physicalAddress(member.raftChannel()).getPort());
            for (JChannel channel : List.of(member.mainChannel(), member.raftChannel())) {
                failureDetectionPorts.add(((FD_SOCK2) channel.getProtocolStack().findProtocol(FD_SOCK2.class))
                        .getActualBindPort());
            }
        }
        SSLContext outsider = context(keys.keystore("x"), keys.truststoreBeforeRevoke());
        SSLContext revoked = context(keys.keystore("r"), keys.truststoreBeforeRevoke());
        SSLContext noCertificate = context(null, keys.truststore());
        for (Map.Entry<String, Integer> port : tlsPorts.entrySet()) {
            // plain bytes, as a JGroups node without TLS sends them: a greeting and a frame
            sendPlainAndAwaitClose(port.getValue(), out -> {
                handshake(out, base + 19);
                out.writeInt(64);
                out.write(new byte[64]);
            });
            for (SSLContext context : List.of(outsider, revoked, noCertificate)) {
                assertNoApplicationDataExchanged(context, port.getValue(), port.getKey());
            }
        }
        for (int port : failureDetectionPorts) { // plain TCP: a greeting and a frame longer than FD_SOCK2 ever sends
            sendPlainAndAwaitClose(port, out -> {
                handshake(out, base + 18);
                out.writeInt(BoundedFdSock2.MAX_FRAME_BYTES + 1);
                out.write(new byte[1024]);
            });
        }
        assertTrue(logs.lines().stream().anyMatch(l -> l.contains("failed accepting connection")),
                "no member logged a refused connection");
        for (ClusterNode member : members.values()) {
            assertEquals(2, member.mainChannel().getView().size(), member.nodeName() + "'s view");
            assertEquals(before, member.counter("c").get(), member.nodeName() + " reads another value");
        }
        assertEquals(before + 1, members.get("v2").counter("c").incrementAndGet(), "the members keep serving");
    }

    @Test
    @Order(6)
    void aMissingOrWrongStoreSettingFailsTheJoinNamingItAndNeverShowsAPassword() throws Exception {
        List<String> messages = new ArrayList<>();
        Map<String, String> vars = keys.vars("v1", keys.truststore());
        vars.remove("unidist.truststore_password");
        messages.add(refusedJoin(config("v3", vars), "unidist.truststore_password"));

        vars = keys.vars("v1", keys.truststore());
        vars.put("unidist.keystore_password", WRONG_PASSWORD);
        messages.add(refusedJoin(config("v3", vars), "TCP.tls.keystore_password", "v1.p12"));

        vars = keys.vars("v1", keys.truststore());
        vars.put("unidist.truststore", dir.resolve("no-such-truststore.p12").toString());
        messages.add(refusedJoin(config("v3", vars), "no-such-truststore.p12", "${unidist.truststore}"));

        vars = keys.vars("v1", keys.certificate("v1")); // a certificate file where a PKCS12 truststore belongs
        messages.add(refusedJoin(config("v3", vars), "v1.crt", "TCP.tls.truststore_password"));
        // a misspelled password attribute: the store's password is missing, and named
        String misspelled = new String(getClass().getClassLoader().getResourceAsStream(CONFIG).readAllBytes(), UTF_8)
                .replace("tls.keystore_password=", "tls.keystore_pasword=");
        Path file = java.nio.file.Files.writeString(dir.resolve("misspelled.xml"), misspelled);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Stacks.load(file.toString(),
                keys.vars("v1", keys.truststore()))).getMessage().contains("TCP.tls.keystore_password"));

        // JGroups quotes the value of an attribute it does not know, here one that holds a password
        String unknownAttribute = new String(getClass().getClassLoader().getResourceAsStream(CONFIG).readAllBytes(),
                UTF_8).replace("tls.enabled=", "tls.keystore_pwd=\"${unidist.keystore_password}\" tls.enabled=");
        Path other = java.nio.file.Files.writeString(dir.resolve("unknown-attribute.xml"), unknownAttribute);
        Stacks stacks = Stacks.load(other.toString(), keys.vars("v1", keys.truststore()));
        UnidistException unknown = assertThrows(UnidistException.class, stacks::newMainChannel);
        assertTrue(unknown.getMessage().contains("keystore_pwd=****"), unknown::getMessage);
        messages.add(unknown.getMessage());
        for (String message : messages) {
            for (String secret : List.of(TestKeys.KEYSTORE_PASSWORD, TestKeys.TRUSTSTORE_PASSWORD, WRONG_PASSWORD)) {
                assertFalse(message.contains(secret), () -> "a password in an error: " + message);
            }
        }
    }

    /** Joins with {@code config}, expecting a refusal before any network traffic whose message names {@code what}. */
    private static String refusedJoin(ClusterConfig.Builder config, String... what) {
        ClusterConfig built = config.build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClusterNode.join(built));
        for (String name : what) {
            assertTrue(e.getMessage().contains(name), () -> "does not name " + name + ": " + e.getMessage());
        }
        return e.getMessage();
    }

    @Test
    @Order(99)
    void secretsNeverAppearInAnythingLoggedDuringTheClass() {
        List<String> lines = logs.lines();
        assertTrue(lines.size() > 10, "the capture saw " + lines.size() + " lines: is it working?");
        for (String line : lines) {
            for (String secret : List.of(TestKeys.KEYSTORE_PASSWORD, TestKeys.TRUSTSTORE_PASSWORD, WRONG_PASSWORD)) {
                assertFalse(line.contains(secret), () -> "a password was logged: " + line);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** {@code node}, with its own key and {@code truststore}, cannot get into the cluster, read or write. */
    private void assertKeptOut(String node, Path truststore) {
        long before = members.get("v1").counter("c").get();
        ClusterConfig config = config(node, truststore).operationTimeout(Duration.ofSeconds(1)).build();
        try (Unidist stranger = joinOrNull(config)) {
            if (stranger != null) { // it found no one to join and runs alone
                ClusterNode alone = (ClusterNode) stranger;
                assertEquals(1, alone.mainChannel().getView().size(), node + " got into a view");
                assertThrows(ClusterUnavailableException.class, () -> stranger.counter("c").get(), node + " read");
                assertThrows(ClusterUnavailableException.class, () -> stranger.counter("c").incrementAndGet(),
                        node + " wrote");
            }
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() ->
                    members.values().stream().allMatch(m -> m.mainChannel().getView().size() == 2
                            && m.mainChannel().getView().getMembers().stream().noneMatch(
                                    a -> node.equals(String.valueOf(a)))));
        }
        for (ClusterNode member : members.values()) {
            assertEquals(before, member.counter("c").get(), member.nodeName() + " sees another value");
        }
        assertTrue(logs.lines().stream().anyMatch(l -> l.contains("failed accepting connection")
                        && memberTransports().stream().anyMatch(l::contains)),
                () -> "no member logged the refused connection of " + node + ": " + String.join("\n", logs.lines().stream()
                        .filter(l -> l.contains("WARN") || l.contains("ERROR") || l.contains("accept")).toList()));
    }

    /** The members' main transport addresses as JGroups' transport names itself in its log lines. */
    private List<String> memberTransports() {
        return members.values().stream().map(m -> physicalAddress(m.mainChannel()) + ":").toList();
    }

    private static Unidist joinOrNull(ClusterConfig config) {
        try {
            return ClusterNode.join(config);
        } catch (RuntimeException e) {
            return null; // refused outright: also kept out
        }
    }

    private ClusterConfig.Builder config(String node, Path truststore) {
        return config(node, keys.vars(node, truststore));
    }

    /** A node of this cluster on 127.0.0.1 with exactly {@code storeVars} for its keystore and truststore. */
    private ClusterConfig.Builder config(String node, Map<String, String> storeVars) {
        ClusterConfig.Builder b = ClusterConfig.builder().clusterName(clusterName).nodeName(node)
                .jgroupsConfig(CONFIG).voters("v1", "v2").operationTimeout(Duration.ofSeconds(5))
                .property("unidist.bind_port", Integer.toString(base))
                .property("unidist.initial_hosts", LOOPBACK + "[" + base + "]");
        storeVars.forEach(b::property);
        return b;
    }

    /** Plain bytes to a TLS port: the member may hang up before all of them are written, which is the point. */
    private static void sendPlainAndAwaitClose(int port, StacksTest.Writer writer) throws Exception {
        try {
            sendAndAwaitClose(port, writer);
        } catch (java.net.SocketException closedWhileWriting) {
            // broken pipe or reset: the member closed the connection on the first bytes that were not TLS
        }
    }

    /**
     * A TLS client with {@code context} connects to {@code port}, sends a JGroups greeting and a frame, and reads: the
     * member must end the connection (an alert, a reset or end of stream) without sending any application data.
     */
    private void assertNoApplicationDataExchanged(SSLContext context, int port, String what) throws Exception {
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
            socket.connect(new InetSocketAddress(LOOPBACK, port), 5_000);
            socket.setSoTimeout((int) WAIT.toMillis());
            int read;
            try {
                socket.startHandshake(); // TLS 1.3: the client may finish before the server checked its certificate
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                handshake(out, base + 17);
                out.writeInt(64);
                out.write(new byte[64]);
                out.flush();
                read = socket.getInputStream().read();
            } catch (SocketTimeoutException e) {
                throw new AssertionError(what + ": the member neither answered nor closed the connection", e);
            } catch (SSLException | java.net.SocketException e) {
                return; // refused during or right after the handshake
            }
            assertEquals(-1, read, what + ": the member sent application data to an untrusted client");
        }
    }

    /** Whether a client with {@code clientKeystore} passes the TLS handshake of a server that trusts {@code trust}. */
    private boolean handshakeSucceeds(Path trust, Path clientKeystore) throws Exception {
        SSLContext server = context(keys.keystore("v1"), trust);
        try (SSLServerSocket listener = (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0, 1,
                java.net.InetAddress.getByName(LOOPBACK))) {
            listener.setNeedClientAuth(true);
            CompletableFuture<Boolean> accepted = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket s = (SSLSocket) listener.accept()) {
                    s.setSoTimeout(10_000);
                    s.startHandshake();
                    s.getOutputStream().write(1);
                    s.getOutputStream().flush();
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
            try (SSLSocket client = (SSLSocket) context(clientKeystore, keys.truststoreBeforeRevoke())
                    .getSocketFactory().createSocket(LOOPBACK, listener.getLocalPort())) {
                client.setSoTimeout(10_000);
                client.startHandshake();
                InputStream in = client.getInputStream();
                in.read();
            } catch (IOException refused) {
                // the server's verdict below is the answer
            }
            return accepted.get(15, TimeUnit.SECONDS);
        }
    }

    /** A TLS context with {@code keystore} (none if null) and {@code truststore}, as JGroups' TLS makes it. */
    private static SSLContext context(Path keystore, Path truststore) throws Exception {
        KeyManagerFactory keyManagers = null;
        if (keystore != null) {
            keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keyManagers.init(load(keystore, TestKeys.KEYSTORE_PASSWORD), TestKeys.KEYSTORE_PASSWORD.toCharArray());
        }
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(load(truststore, TestKeys.TRUSTSTORE_PASSWORD));
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(keyManagers == null ? null : keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
        return context;
    }

    private static KeyStore load(Path file, String password) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = java.nio.file.Files.newInputStream(file)) {
            store.load(in, password.toCharArray());
        }
        return store;
    }
}
