package io.unidist.cluster.internal;

import static io.unidist.cluster.internal.TestNet.LOOPBACK;
import static io.unidist.cluster.internal.TestNet.freeBasePort;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.Event;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.PhysicalAddress;
import org.jgroups.Receiver;
import org.jgroups.Version;
import org.jgroups.blocks.cs.Connection;
import org.jgroups.protocols.BasicTCP;
import org.jgroups.protocols.FD_ALL3;
import org.jgroups.protocols.TCPPING;
import org.jgroups.protocols.TP;
import org.jgroups.protocols.UDP;
import org.jgroups.protocols.VERIFY_SUSPECT;
import org.jgroups.protocols.raft.RAFT;
import org.jgroups.protocols.raft.election.BaseElection;
import org.jgroups.stack.IpAddress;
import org.jgroups.stack.Protocol;
import org.jgroups.util.Util;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The bundled JGroups configurations and {@link Stacks}: every file loads and yields a main channel without Raft
 * and a raft channel with RAFT set up and its ports moved; real channels on the JVM-local and 127.0.0.1 stacks form
 * views, elect a leader, shrug off garbage on their port and ignore another cluster (the secured files have tests of
 * their own: ClusterTlsTest, ClusterUdpSecureTest); bad files fail with messages that name the file, line or
 * protocol. Everything stays on loopback, each networked test on its own random free ports.
 */
class StacksTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    private final List<JChannel> channels = new ArrayList<>();

    @AfterEach
    void closeChannels() {
        Collections.reverse(channels);
        channels.forEach(Util::close);
    }

    // ------------------------------------------------------------------ bundled files, channel shapes

    @ParameterizedTest
    @ValueSource(strings = {"unidist-jvm.xml", "unidist-local.xml", "unidist-tcp.xml", "unidist-udp.xml",
            "unidist-local-secure.xml", "unidist-tcp-secure.xml", "unidist-udp-secure.xml"})
    void everyBundledFileMakesAMainChannelWithoutRaftAndARaftChannelOnMovedPorts(String file) throws Exception {
        Map<String, String> vars = new HashMap<>();
        vars.put("unidist.bind_addr", LOOPBACK); // channels are created, never connected: no traffic at all
        vars.put("unidist.initial_hosts", "127.0.0.1[7800],127.0.0.1[7810]");
        if (file.contains("secure")) { // stores are opened when the file is loaded: real ones, made by unidist-keys.sh
            vars.putAll(TestKeys.get().vars("v1", TestKeys.get().truststore()));
        }
        Stacks stacks = Stacks.load(file, vars);
        assertEquals(file, stacks.source());

        JChannel main = track(stacks.newMainChannel());
        List<Protocol> mainProtocols = main.getProtocolStack().getProtocols();
        assertTrue(mainProtocols.stream().noneMatch(p -> StackRules.isRaftOnly(p.getClass())),
                () -> "main channel of " + file + " has a raft protocol: " + names(mainProtocols));
        TP mainTransport = main.getProtocolStack().getTransport();
        assertFalse(mainTransport.getDiagnosticsHandler().isEnabled(), "diagnostics of " + file);
        if (mainTransport instanceof BasicTCP tcp) {
            assertTrue(tcp.tcpNodelay(), "tcp_nodelay of " + file);
            assertTrue(tcp.getMaxLength() > 0 && tcp.getMaxLength() <= 1_000_000, "max_length of " + file);
        }
        // A hung node must leave the view within 10 s: FD_ALL3 suspects it at most timeout + interval after its
        // last message, VERIFY_SUSPECT adds its timeout, the view change itself takes milliseconds.
        FD_ALL3 fd = main.getProtocolStack().findProtocol(FD_ALL3.class);
        VERIFY_SUSPECT verify = main.getProtocolStack().findProtocol(VERIFY_SUSPECT.class);
        long worstCaseMillis = fd.getTimeout() + fd.getInterval() + verify.getTimeout();
        assertTrue(worstCaseMillis <= 9_000, () -> file + ": a hung node may stay " + worstCaseMillis + " ms");

        Path logDir = tmp.resolve("raft-B");
        JChannel raftChannel = track(stacks.newRaftChannel("B", List.of("A", "B", "C"), logDir, 123_456, 100));
        RAFT raft = raftChannel.getProtocolStack().findProtocol(RAFT.class);
        assertNotNull(raft, "RAFT in the raft channel of " + file);
        assertNotNull(raftChannel.getProtocolStack().findProtocol(BaseElection.class), "election protocol");
        assertEquals("B", raft.raftId());
        assertEquals(List.of("A", "B", "C"), raft.members());
        assertEquals(logDir.toString(), raft.getValue("log_dir"));
        assertEquals("B", raft.logPrefix());
        assertEquals(123_456, raft.maxLogSize());
        assertEquals(Boolean.TRUE, raft.getValue("_log_use_fsync"), "fsync requested before start");
        assertEquals("B", raftChannel.getName());

        TP raftTransport = raftChannel.getProtocolStack().getTransport();
        int mainPort = mainTransport.getBindPort();
        assertEquals(mainPort == 0 ? 0 : mainPort + 100, raftTransport.getBindPort(), "bind_port of " + file);
        if (mainTransport instanceof UDP udp) {
            assertEquals(udp.getMulticastPort() + 100, ((UDP) raftTransport).getMulticastPort());
        }
        TCPPING mainPing = main.getProtocolStack().findProtocol(TCPPING.class);
        if (mainPing != null) {
            TCPPING raftPing = raftChannel.getProtocolStack().findProtocol(TCPPING.class);
            assertFalse(mainPing.getInitialHosts().isEmpty());
            assertEquals(ports(mainPing.getInitialHosts(), 100), ports(raftPing.getInitialHosts(), 0),
                    "TCPPING initial hosts of the raft channel of " + file);
        }
    }

    @Test
    void mainChannelProtocolsLeaveOutEveryRaftProtocol() {
        Stacks stacks = Stacks.load("unidist-local.xml", Map.of());
        List<String> names = stacks.mainProtocolNames();
        assertTrue(names.contains("pbcast.GMS") && names.contains("FD_ALL3"), names::toString);
        assertTrue(names.stream().noneMatch(n -> n.startsWith("raft.")), names::toString);
    }

    @Test
    void hostsWithExplicitPortsMoveByTheOffset() {
        assertEquals("a[7900],b[8001],c", RaftChannelSetup.shiftHosts(" a[7800], b[7901] ,c", 100, "f.xml"));
    }

    // ------------------------------------------------------------------ unidist-jvm.xml: election and main view

    @Test
    void jvmStackVotersElectOneLeaderAndAllNodesShareTheMainView() throws Exception {
        Stacks stacks = Stacks.load("unidist-jvm.xml", Map.of());
        List<String> voters = List.of("A", "B", "C");
        List<RAFT> rafts = new ArrayList<>();
        for (String voter : voters) {
            JChannel channel = track(stacks.newRaftChannel(voter, voters, tmp.resolve(voter), 1_000_000,
                    Stacks.DEFAULT_RAFT_PORT_OFFSET));
            channel.connect("x.raft");
            rafts.add(channel.getProtocolStack().findProtocol(RAFT.class));
        }
        await().atMost(WAIT).until(() -> rafts.stream().filter(RAFT::isLeader).count() == 1
                && rafts.stream().map(RAFT::leader).distinct().count() == 1);
        rafts.forEach(r -> assertTrue(r.logUseFsync(), r.raftId() + " appends without fsync"));

        List<JChannel> mains = new ArrayList<>();
        for (String node : List.of("A", "B", "C", "D")) { // D is not a voter
            mains.add(connect(stacks.newMainChannel(), node, "x"));
        }
        await().atMost(WAIT).until(() -> mains.stream().allMatch(c -> c.getView().size() == 4));
    }

    // ------------------------------------------------------------------ unidist-local.xml on 127.0.0.1

    @Test
    void localStackFormsAViewAndKeepsWorkingAfterGarbageOnItsPort() throws Exception {
        int base = freeBasePort(180);
        Stacks stacks = Stacks.load("unidist-local.xml", localVars(base));
        Inbox inboxA = new Inbox();
        Inbox inboxB = new Inbox();
        JChannel a = connect(stacks.newMainChannel().setReceiver(inboxA), "a", "garbage");
        JChannel b = connect(stacks.newMainChannel().setReceiver(inboxB), "b", "garbage");
        await().atMost(WAIT).until(() -> a.getView().size() == 2 && b.getView().size() == 2);
        int port = physicalAddress(a).getPort();

        byte[] noise = new byte[4096];
        ThreadLocalRandom.current().nextBytes(noise);
        sendAndAwaitClose(port, out -> out.write(noise));
        sendAndAwaitClose(port, out -> { // a valid handshake, then a 2 GiB length prefix
            handshake(out, base + 19);
            out.writeInt(Integer.MAX_VALUE);
        });
        sendAndAwaitClose(port, out -> { // a valid handshake, then a plausible length and random bytes
            handshake(out, base + 18);
            out.writeInt(noise.length);
            out.write(noise);
        });

        a.send(b.getAddress(), "after garbage, a to b".getBytes(UTF_8));
        b.send(a.getAddress(), "after garbage, b to a".getBytes(UTF_8));
        await().atMost(WAIT).until(() -> inboxB.has("after garbage, a to b") && inboxA.has("after garbage, b to a"));
        assertEquals(2, a.getView().size());
    }

    @Test
    void localStackChannelOfAnotherClusterOnTheSamePortsStaysApart() throws Exception {
        int base = freeBasePort(180);
        Stacks stacks = Stacks.load("unidist-local.xml", localVars(base));
        JChannel a = connect(stacks.newMainChannel(), "a", "team");
        JChannel b = connect(stacks.newMainChannel(), "b", "team");
        await().atMost(WAIT).until(() -> a.getView().size() == 2 && b.getView().size() == 2);

        JChannel stranger = connect(stacks.newMainChannel(), "stranger", "other-team");
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(6)).until(() ->
                stranger.getView().size() == 1 && a.getView().size() == 2 && b.getView().size() == 2);
    }

    // ------------------------------------------------------------------ bad input

    @Test
    void syntaxErrorNamesFileAndLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Stacks.load("stacks/bad-syntax.xml", Map.of()));
        assertTrue(e.getMessage().contains("stacks/bad-syntax.xml line 10"), e::getMessage);
    }

    @Test
    void missingFailureDetectionIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Stacks.load("stacks/missing-fd-all3.xml", Map.of()));
        assertTrue(e.getMessage().contains("stacks/missing-fd-all3.xml") && e.getMessage().contains("FD_ALL3"),
                e::getMessage);
    }

    @Test
    void raftClientIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Stacks.load("stacks/with-client.xml", Map.of()));
        assertTrue(e.getMessage().contains("raft.CLIENT") && e.getMessage().contains("line 14"), e::getMessage);
    }

    @Test
    void diagnosticsOnIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Stacks.load("stacks/diag-enabled.xml", Map.of()));
        assertTrue(e.getMessage().contains("diag.enabled") && e.getMessage().contains("stacks/diag-enabled.xml"),
                e::getMessage);
    }

    @Test
    void unknownProtocolIsNamedWithItsLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Stacks.load("stacks/unknown-protocol.xml", Map.of()));
        assertTrue(e.getMessage().contains("NO_SUCH_PROTOCOL") && e.getMessage().contains("line 5"), e::getMessage);
    }

    @Test
    void unknownResourceOrPathIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Stacks.load("no-such-stack.xml", Map.of()));
        assertTrue(e.getMessage().contains("no-such-stack.xml"), e::getMessage);
        Path missing = tmp.resolve("missing.xml");
        e = assertThrows(IllegalArgumentException.class, () -> Stacks.load(missing.toString(), Map.of()));
        assertTrue(e.getMessage().contains(missing.toString()), e::getMessage);
    }

    @Test
    void aFileIsReadFromAPath() throws Exception {
        Path copy = tmp.resolve("my-stack.xml");
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("unidist-jvm.xml")) {
            java.nio.file.Files.write(copy, in.readAllBytes());
        }
        assertEquals(copy.toString(), Stacks.load(copy.toString(), Map.of()).source());
    }

    @Test
    void requiredVariableWithoutValueIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Stacks.load("unidist-tcp.xml", Map.of()));
        assertTrue(e.getMessage().contains("unidist.initial_hosts") && e.getMessage().contains("TCPPING"),
                e::getMessage);
    }

    @Test
    void variablesComeFromVarsThenSystemPropertiesThenTheDefault() {
        assertEquals(7800, bindPort(Stacks.load("unidist-local.xml", Map.of())));
        System.setProperty("unidist.bind_port", "7300");
        try {
            assertEquals(7300, bindPort(Stacks.load("unidist-local.xml", Map.of())));
            assertEquals(7400, bindPort(Stacks.load("unidist-local.xml", Map.of("unidist.bind_port", "7400"))));
        } finally {
            System.clearProperty("unidist.bind_port");
        }
    }

    @Test
    void failureDetectionIsSetByVariables() {
        FD_ALL3 fd = track(Stacks.load("unidist-local.xml", Map.of("unidist.fd_timeout", "20s",
                "unidist.fd_interval", "5s")).newMainChannel()).getProtocolStack().findProtocol(FD_ALL3.class);
        assertEquals(20_000, fd.getTimeout());
        assertEquals(5_000, fd.getInterval());
    }

    private int bindPort(Stacks stacks) {
        return track(stacks.newMainChannel()).getProtocolStack().getTransport().getBindPort();
    }

    @Test
    void anOffsetThatMakesPortRangesOverlapIsRefused() {
        Stacks stacks = Stacks.load("unidist-local.xml", Map.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> stacks.newRaftChannel("A", List.of("A"), tmp.resolve("A"), 1_000_000, 10));
        assertTrue(e.getMessage().contains("offset 10") && e.getMessage().contains("7800-7820"), e::getMessage);
    }

    @Test
    void raftArgumentsAreChecked() {
        Stacks stacks = Stacks.load("unidist-jvm.xml", Map.of());
        assertThrows(IllegalArgumentException.class,
                () -> stacks.newRaftChannel("D", List.of("A", "B", "C"), tmp.resolve("D"), 1_000, 100));
        assertThrows(IllegalArgumentException.class,
                () -> stacks.newRaftChannel("A", List.of("A", "A", "B"), tmp.resolve("A"), 1_000, 100));
        assertThrows(IllegalArgumentException.class,
                () -> stacks.newRaftChannel("A", List.of("A", "B", "C"), tmp.resolve("A"), 0, 100));
    }

    // ------------------------------------------------------------------ helpers

    private JChannel track(JChannel channel) {
        channels.add(channel);
        return channel;
    }

    private JChannel connect(JChannel channel, String name, String cluster) throws Exception {
        track(channel).name(name).connect(cluster);
        return channel;
    }

    private static Map<String, String> localVars(int base) {
        return Map.of("unidist.bind_port", Integer.toString(base),
                "unidist.initial_hosts", LOOPBACK + "[" + base + "]");
    }

    static IpAddress physicalAddress(JChannel channel) {
        return (IpAddress) channel.down(new Event(Event.GET_PHYSICAL_ADDRESS, channel.getAddress()));
    }

    private static Set<Integer> ports(java.util.Collection<PhysicalAddress> hosts, int add) {
        return hosts.stream().map(h -> ((IpAddress) h).getPort() + add).collect(Collectors.toSet());
    }

    private static String names(List<Protocol> protocols) {
        return protocols.stream().map(Protocol::getName).collect(Collectors.joining(","));
    }

    /** What JGroups' TCP server expects first on a new connection: cookie, version, the peer's address. */
    static void handshake(DataOutputStream out, int fakePeerPort) throws Exception {
        IpAddress peer = new IpAddress(LOOPBACK, fakePeerPort);
        out.write(Connection.cookie);
        out.writeShort(Version.version);
        out.writeShort(peer.serializedSize());
        peer.writeTo(out);
    }

    @FunctionalInterface
    interface Writer {
        void write(DataOutputStream out) throws Exception;
    }

    /** Writes to the port, then waits until the channel drops the connection: proof that it read and refused it. */
    static void sendAndAwaitClose(int port, Writer writer) throws Exception {
        try (Socket socket = new Socket(LOOPBACK, port)) {
            socket.setSoTimeout((int) WAIT.toMillis());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            writer.write(out);
            out.flush();
            InputStream in = socket.getInputStream();
            try {
                while (in.read() != -1) {
                    // the server may send its own handshake first; read until it closes
                }
            } catch (IOException closedByPeer) {
                // a reset is a close too
            }
        }
    }

    /** Records received messages as (sender, text). */
    private static final class Inbox implements Receiver {
        private final List<Map.Entry<Address, String>> received = new CopyOnWriteArrayList<>();

        @Override
        public void receive(Message msg) {
            byte[] payload = msg instanceof BytesMessage ? msg.getArray() : new byte[0];
            String text = new String(payload, msg.getOffset(), msg.getLength(), UTF_8);
            received.add(Map.entry(msg.getSrc(), text));
        }

        boolean has(String text) {
            return received.stream().anyMatch(e -> e.getValue().equals(text));
        }
    }
}
