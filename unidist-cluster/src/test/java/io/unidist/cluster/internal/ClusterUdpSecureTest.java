package io.unidist.cluster.internal;

import static io.unidist.cluster.internal.StacksTest.physicalAddress;
import static io.unidist.cluster.internal.TestNet.LOOPBACK;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.unidist.testing.FreePorts;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.Event;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.ASYM_ENCRYPT;
import org.jgroups.protocols.EncryptHeader;
import org.jgroups.protocols.SSL_KEY_EXCHANGE;
import org.jgroups.protocols.TpHeader;
import org.jgroups.protocols.UDP;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.stack.IpAddress;
import org.jgroups.util.ByteArray;
import org.jgroups.util.ByteArrayDataOutputStream;
import org.jgroups.util.Tuple;
import org.jgroups.util.UUID;
import org.jgroups.util.Util;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code unidist-udp-secure.xml} (ASYM_ENCRYPT with a group key handed out by SSL_KEY_EXCHANGE, AUTH with
 * {@link CertificateToken}, SERIALIZE built as {@link CheckedSerialize}) over real UDP multicast on 127.0.0.1
 * ({@code ip_ttl 0}: the packets never leave this host). Two members with trusted certificates form a view; a node
 * whose certificate was never trusted and a revoked node are refused at join and never get the key; packets crafted
 * byte by byte (a plain message, a message smuggled inside an unencrypted join envelope, an empty message under the
 * sniffed key version) and a stranger's own encrypted messages reach no receiver; no password is logged.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterUdpSecureTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String CONFIG = "unidist-udp-secure.xml";
    private static final short UDP_ID = ClassConfigurator.getProtocolId(UDP.class);
    private static final short GMS_ID = ClassConfigurator.getProtocolId(GMS.class);

    @TempDir
    static Path dir;

    private TestKeys keys;
    private CapturedLogs logs;
    private Map<String, String> network;
    private String clusterName;
    private final List<JChannel> channels = new ArrayList<>();
    private final Inbox inbox1 = new Inbox();
    private final Inbox inbox2 = new Inbox();
    private JChannel m1;
    private JChannel m2;

    @BeforeAll
    void startTwoMembers() throws Exception {
        keys = TestKeys.get();
        logs = new CapturedLogs();
        int base = FreePorts.freeBasePort();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        network = Map.of("unidist.bind_addr", LOOPBACK,
                "unidist.mcast_addr", "232." + random.nextInt(1, 255) + "." + random.nextInt(1, 255) + "."
                        + random.nextInt(1, 255),
                "unidist.mcast_port", Integer.toString(base),
                "unidist.key_exchange_port", Integer.toString(base + 1),
                "unidist.ip_ttl", "0");
        clusterName = "udp-secure-" + ProcessHandle.current().pid() + "-" + base;
        m1 = connect(channel("v1", keys.truststore()).setReceiver(inbox1), "v1");
        try {
            m2 = connect(channel("v2", keys.truststore()).setReceiver(inbox2), "v2");
        } catch (Exception e) {
            logs.lines().stream().filter(l -> !l.startsWith("DEBUG")).forEach(System.out::println);
            throw e;
        }
        await().atMost(WAIT).until(() -> m1.getView().size() == 2 && m2.getView().size() == 2);
    }

    @AfterAll
    void stop() {
        Collections.reverse(channels);
        channels.forEach(Util::close);
        if (logs != null) {
            logs.close();
        }
    }

    @Test
    @Order(1)
    void membersWithTrustedCertificatesShareTheGroupKeyAndTalk() throws Exception {
        m1.send(m2.getAddress(), "v1 to v2".getBytes(UTF_8));
        m2.send(null, "v2 to all".getBytes(UTF_8));
        await().atMost(WAIT).until(() -> inbox2.has("v1 to v2") && inbox1.has("v2 to all"));
        ASYM_ENCRYPT e1 = m1.getProtocolStack().findProtocol(ASYM_ENCRYPT.class);
        ASYM_ENCRYPT e2 = m2.getProtocolStack().findProtocol(ASYM_ENCRYPT.class);
        assertNotNull(e1.symVersion());
        assertEquals(Util.byteArrayToHexString(e1.symVersion()), Util.byteArrayToHexString(e2.symVersion()),
                "v2 got the coordinator's group key through SSL_KEY_EXCHANGE");
    }

    @Test
    @Order(2)
    void onlyTheCoordinatorListensForKeyRequestsAndEveryTcpPortIsOnTheBindAddress() {
        assumeTrue(Listeners.available(), "needs Linux's /proc to list this JVM's sockets");
        int keyPort = Integer.parseInt(network.get("unidist.key_exchange_port"));
        List<String> expected = new ArrayList<>(List.of(LOOPBACK + ":" + keyPort)); // the coordinator's, v1's
        for (JChannel member : List.of(m1, m2)) {
            expected.add(LOOPBACK + ":" + (physicalAddress(member).getPort() + 50)); // FD_SOCK2
        }
        List<String> actual = Listeners.tcp().stream()
                .filter(l -> expected.stream().anyMatch(e -> e.endsWith(":" + l.port())))
                .map(Listeners.Listener::toString).sorted().toList();
        assertEquals(expected.stream().sorted().toList(), actual, "TCP listeners of the two members");
    }

    @Test
    @Order(3)
    void aNodeWhoseCertificateWasNeverTrustedIsRefusedAndCannotSendAnything() throws Exception {
        assertRefused("x");
    }

    @Test
    @Order(4)
    void aRevokedNodeWithItsOldKeyAndTruststoreIsRefused() throws Exception {
        assertRefused("r");
    }

    @Test
    @Order(5)
    void craftedPacketsReachNoReceiver() throws Exception {
        IpAddress target = physicalAddress(m1);
        UUID stranger = UUID.randomUUID();
        byte[] sniffedVersion = ((ASYM_ENCRYPT) m1.getProtocolStack().findProtocol(ASYM_ENCRYPT.class)).symVersion();
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getByName(LOOPBACK))) {
            // 1. a plain message, no encryption at all
            send(socket, target, new BytesMessage(m1.getAddress(), "plain".getBytes(UTF_8)).setSrc(stranger));
            // 2. a message inside the unencrypted envelope of a join request, which ASYM_ENCRYPT lets through
            Message inner = new BytesMessage(m1.getAddress(), "smuggled".getBytes(UTF_8)).setSrc(stranger);
            ByteArray wrapped = Util.messageToBuffer(inner);
            send(socket, target, new BytesMessage(m1.getAddress(), wrapped.getArray(), wrapped.getOffset(),
                    wrapped.getLength()).setSrc(stranger).putHeader(GMS_ID, new GMS.GmsHeader(GMS.GmsHeader.JOIN_REQ)));
            // 3. an empty message under the group key's version, read off any packet on the wire: ASYM_ENCRYPT has
            //    nothing to decrypt and passes it up as it is
            short asymId = ClassConfigurator.getProtocolId(ASYM_ENCRYPT.class);
            send(socket, target, new BytesMessage(m1.getAddress()).setSrc(stranger)
                    .putHeader(asymId, new EncryptHeader((byte) 0, sniffedVersion, new byte[16])));
        }
        List<String> drops = List.of("received message without encrypt header", "smuggled past encryption",
                "whose payload is not a serialized message"); // one line per packet, in the order sent
        await().atMost(WAIT).until(() -> inbox1.hasFrom(stranger) || drops.stream().allMatch(logs::contains));
        assertFalse(inbox1.hasFrom(stranger), () -> "a crafted packet was delivered: " + inbox1);
        m2.send(m1.getAddress(), "after the packets".getBytes(UTF_8));
        await().atMost(WAIT).until(() -> inbox1.has("after the packets"));
        assertEquals(2, m1.getView().size());
    }

    @Test
    @Order(6)
    void theVotersChannelMovesTheKeyExchangePortByTheRaftOffset() {
        Stacks stacks = Stacks.load(CONFIG, vars("v1", keys.truststore()));
        JChannel main = track(stacks.newMainChannel());
        JChannel raft = track(stacks.newRaftChannel("v1", List.of("v1", "v2"), dir.resolve("raft-v1"), 1_000_000,
                Stacks.DEFAULT_RAFT_PORT_OFFSET));
        int mainPort = ((SSL_KEY_EXCHANGE) main.getProtocolStack().findProtocol(SSL_KEY_EXCHANGE.class)).getPort();
        int raftPort = ((SSL_KEY_EXCHANGE) raft.getProtocolStack().findProtocol(SSL_KEY_EXCHANGE.class)).getPort();
        assertEquals(mainPort + Stacks.DEFAULT_RAFT_PORT_OFFSET, raftPort, "the two key servers would share a port");
    }

    @Test
    @Order(99)
    void secretsNeverAppearInAnythingLoggedDuringTheClass() {
        List<String> lines = logs.lines();
        assertTrue(lines.size() > 10, "the capture saw " + lines.size() + " lines: is it working?");
        for (String line : lines) {
            for (String secret : List.of(TestKeys.KEYSTORE_PASSWORD, TestKeys.TRUSTSTORE_PASSWORD)) {
                assertFalse(line.contains(secret), () -> "a password was logged: " + line);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /**
     * {@code node} (its own key, and the truststore from before the revocation, so it trusts the members) tries to
     * join: the coordinator refuses it, it never gets the group key, and what it then sends as a cluster of its own
     * reaches neither member.
     */
    private void assertRefused(String node) throws Exception {
        JChannel stranger = channel(node, keys.truststoreBeforeRevoke());
        GMS gms = stranger.getProtocolStack().findProtocol(GMS.class);
        gms.setMaxJoinAttempts(1); // the stranger's own choice: give up after one refused try and run alone
        try {
            stranger.connect(clusterName);
        } catch (Exception refused) {
            // refused outright: also kept out
        }
        String refusal = "refused a join or merge message from " + node;
        await().atMost(WAIT).until(() -> inbox1.sawMember(node) || inbox2.sawMember(node) || logs.contains(refusal));
        assertFalse(inbox1.sawMember(node) || inbox2.sawMember(node), node + " got into a member's view");
        assertTrue(logs.contains(refusal), "the coordinator did not log the refusal");
        assertTrue(logs.contains(node + ": failed fetching group key"), node + " got the group key");
        if (stranger.isConnected()) {
            assertEquals(1, stranger.getView().size(), node + " is in a view with others");
            stranger.down(new Event(Event.ADD_PHYSICAL_ADDRESS, new Tuple<>(m1.getAddress(), physicalAddress(m1))));
            stranger.send(m1.getAddress(), (node + " unicast").getBytes(UTF_8));
            stranger.send(null, (node + " multicast").getBytes(UTF_8));
        }
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() ->
                m1.getView().size() == 2 && m2.getView().size() == 2
                        && !inbox1.hasFrom(stranger.getAddress()) && !inbox2.hasFrom(stranger.getAddress()));
        Util.close(stranger);
    }

    private JChannel channel(String node, Path truststore) {
        return track(Stacks.load(CONFIG, vars(node, truststore)).newMainChannel()).name(node);
    }

    private Map<String, String> vars(String node, Path truststore) {
        Map<String, String> vars = new HashMap<>(network);
        vars.putAll(keys.vars(node, truststore));
        return vars;
    }

    private JChannel connect(JChannel channel, String name) throws Exception {
        channel.name(name).connect(clusterName);
        return channel;
    }

    private JChannel track(JChannel channel) {
        channels.add(channel);
        return channel;
    }

    /** One datagram as JGroups' UDP transport writes a single message: this cluster's name in the transport header. */
    private void send(DatagramSocket socket, IpAddress target, Message msg) throws Exception {
        msg.putHeader(UDP_ID, new TpHeader(clusterName));
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream(256);
        Util.writeMessage(msg, out, false);
        socket.send(new DatagramPacket(out.buffer(), out.position(), target.getIpAddress(), target.getPort()));
    }

    /** Records received messages as (sender, text), and the names of everyone in any view it was given. */
    private static final class Inbox implements Receiver {
        private final List<Map.Entry<Address, String>> received = new CopyOnWriteArrayList<>();
        private final java.util.Set<String> members = java.util.concurrent.ConcurrentHashMap.newKeySet();

        @Override
        public void viewAccepted(org.jgroups.View view) {
            view.getMembers().forEach(m -> members.add(String.valueOf(m)));
        }

        boolean sawMember(String name) {
            return members.contains(name);
        }

        @Override
        public void receive(Message msg) {
            byte[] payload = msg.hasArray() ? msg.getArray() : new byte[0];
            received.add(Map.entry(msg.getSrc(), new String(payload, msg.getOffset(), msg.getLength(), UTF_8)));
        }

        boolean has(String text) {
            return received.stream().anyMatch(e -> e.getValue().equals(text));
        }

        boolean hasFrom(Address sender) {
            return received.stream().anyMatch(e -> e.getKey().equals(sender));
        }

        @Override
        public String toString() {
            return received.toString();
        }
    }
}
