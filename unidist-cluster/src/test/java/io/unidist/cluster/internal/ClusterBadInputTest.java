package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.ClusterUnavailableException;
import io.unidist.Unidist;
import io.unidist.cluster.ClusterConfig;
import io.unidist.cluster.UnidistCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.jgroups.BytesMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Bad configurations and bad bytes: each a clear error or a logged warning, and the cluster keeps working. */
class ClusterBadInputTest {
    @TempDir
    Path dir;

    @Test
    void configurationsThatCannotWorkAreRefusedWithTheReason() {
        IllegalArgumentException noVoters = assertThrows(IllegalArgumentException.class,
                () -> ClusterConfig.builder().clusterName("c").nodeName("a").build());
        assertTrue(noVoters.getMessage().contains("no voters"), noVoters.getMessage());
        IllegalArgumentException noDir = assertThrows(IllegalArgumentException.class,
                () -> ClusterConfig.builder().clusterName("c").nodeName("a").voters("a").build());
        assertTrue(noDir.getMessage().contains("dataDir"), noDir.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> ClusterConfig.builder().clusterName("c").nodeName("a").voters("a", "a").dataDir(dir).build());
        assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
    }

    @Test
    void aLeaseTimeoutNotShorterThanFailureDetectionIsRefusedAtJoin() {
        ClusterConfig config = ClusterConfig.builder().clusterName("lease-" + System.nanoTime()).nodeName("v1")
                .voters("v1").jgroupsConfig("unidist-jvm.xml").dataDir(dir.resolve("v1"))
                .leaseTimeout(Duration.ofSeconds(3)) // unidist-jvm.xml: FD_ALL3 timeout 3 s
                .build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UnidistCluster.join(config));
        assertTrue(e.getMessage().contains("leaseTimeout PT3S") && e.getMessage().contains("FD_ALL3 timeout PT3S")
                && e.getMessage().contains("unidist-jvm.xml"), e.getMessage());
    }

    @Test
    void anXmlFileThatDoesNotParseNamesFileAndLine() throws Exception {
        Path bad = dir.resolve("broken.xml");
        Files.writeString(bad, "<config>\n  <TCP bind_port=\"7800\"\n  <MERGE3/>\n</config>\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UnidistCluster.join(
                ClusterConfig.builder().clusterName("c").nodeName("a").voters("b").jgroupsConfig(bad.toString()).build()));
        assertTrue(e.getMessage().contains("broken.xml"), e.getMessage());
        assertTrue(e.getMessage().contains("line"), e.getMessage());
    }

    @Test
    void unknownVotersAndAnotherClustersNameGiveUnavailableNamingTheVoters() throws Exception {
        try (TestCluster cluster = TestCluster.start(dir, 3, 0)) {
            cluster.node("v1").counter("c").incrementAndGet();
            ClusterConfig stranger = ClusterConfig.builder().clusterName(cluster.name() + "-other").nodeName("s")
                    .voters("v1", "v2", "v3").operationTimeout(Duration.ofSeconds(2)).build();
            try (Unidist outsider = UnidistCluster.join(stranger)) {
                ClusterUnavailableException e = assertThrows(ClusterUnavailableException.class,
                        () -> outsider.counter("c").incrementAndGet());
                assertTrue(e.getMessage().contains("voters in view: 0 of 3, not seen: v1, v2, v3"), e.getMessage());
            }
            assertEquals(2, cluster.node("v2").counter("c").incrementAndGet(), "the cluster kept working");
        }
    }

    @Test
    void votersThatNeverAppearAreNamedInTheUnavailableError() throws Exception {
        String name = "ghosts-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        ClusterConfig.Builder config = ClusterConfig.builder().clusterName(name).voters("v1", "ghost-a", "ghost-b")
                .operationTimeout(Duration.ofSeconds(2));
        try (Unidist v1 = UnidistCluster.join(config.nodeName("v1").dataDir(dir.resolve("v1")).build());
             Unidist n1 = UnidistCluster.join(ClusterConfig.builder().clusterName(name).nodeName("n1")
                     .voters("v1", "ghost-a", "ghost-b").operationTimeout(Duration.ofSeconds(2)).build())) {
            for (Unidist node : java.util.List.of(n1, v1)) {
                long start = System.nanoTime();
                ClusterUnavailableException e = assertThrows(ClusterUnavailableException.class,
                        () -> node.counter("c").incrementAndGet());
                assertTrue(System.nanoTime() - start < Duration.ofSeconds(4).toNanos(), "took longer than the timeout");
                assertTrue(e.getMessage().contains("voters in view: 1 of 3, not seen: ghost-a, ghost-b"), e.getMessage());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"SHARED_LOOPBACK_PING", "MERGE3", "FD_SOCK", "FD_ALL3", "VERIFY_SUSPECT", "pbcast.NAKACK2",
            "UNICAST3", "pbcast.GMS", "raft.ELECTION2", "raft.RAFT"})
    void aUsersStackWithoutARequiredProtocolFailsAtJoinNamingTheFileAndTheProtocol(String protocol) throws Exception {
        String bundled;
        try (java.io.InputStream in = getClass().getClassLoader().getResourceAsStream("unidist-jvm.xml")) {
            bundled = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        String without = bundled.replaceAll("(?s)<" + java.util.regex.Pattern.quote(protocol) + "[\\s/][^>]*>", "");
        assertTrue(without.length() < bundled.length(), "the test removed no " + protocol);
        Path mine = Files.writeString(dir.resolve("my-stack.xml"), without);
        for (String node : java.util.List.of("v1", "n1")) { // a voter and a non-voter, which has no Raft channel
            ClusterConfig config = ClusterConfig.builder().clusterName("missing-" + protocol).nodeName(node)
                    .voters("v1").dataDir(dir.resolve(node)).jgroupsConfig(mine.toString()).build();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UnidistCluster.join(config));
            assertTrue(e.getMessage().contains(mine.toString()) && e.getMessage().contains(protocol)
                    && e.getMessage().contains("missing"), e.getMessage());
        }
    }

    @Test
    void oversizedValuesAndCallsOnAClosedNodeAreClearErrorsAndLoseNothing() throws Exception {
        try (TestCluster cluster = TestCluster.start(dir, 1, 1)) {
            ClusterNode n1 = cluster.node("n1");
            io.unidist.MessageQueue<byte[]> q = n1.queue("big", byte[].class);
            q.offer(new byte[100]);
            IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
                    () -> q.offer(new byte[UnidistStateMachine.MAX_VALUE_BYTES + 1]));
            assertTrue(tooBig.getMessage().contains("queue 'big'") && tooBig.getMessage().contains("limit"),
                    tooBig.getMessage());
            io.unidist.SharedState<byte[]> s = n1.state("big", byte[].class);
            s.put("small", new byte[10]);
            assertThrows(IllegalArgumentException.class, () -> s.put("huge", new byte[UnidistStateMachine.MAX_VALUE_BYTES + 1]));
            assertEquals(1, q.size());
            assertEquals(java.util.Set.of("small"), s.keys());
            n1.close();
            IllegalStateException closed = assertThrows(IllegalStateException.class, () -> q.poll(Duration.ofSeconds(1)));
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
            assertEquals(1, cluster.node("v1").queue("big", byte[].class).size(), "nothing stored was lost");
        }
    }

    @Test
    void garbageOnTheMainChannelIsDroppedAndTheNodeKeepsWorking() throws Exception {
        try (TestCluster cluster = TestCluster.start(dir, 3, 1)) {
            String leader = cluster.awaitLeader();
            ClusterNode sender = cluster.node("n1");
            Random random = new Random(42);
            for (int i = 0; i < 200; i++) {
                byte[] garbage = new byte[random.nextInt(64)];
                random.nextBytes(garbage);
                if (i % 3 == 0 && garbage.length > 4) {
                    garbage[0] = Wire.MAGIC_0; // past the magic, into the parsers
                    garbage[1] = Wire.MAGIC_1;
                    garbage[2] = Wire.VERSION;
                    garbage[3] = (byte) (1 + random.nextInt(3));
                }
                sender.mainChannel().send(new BytesMessage(cluster.node(leader).mainChannel().getAddress(), garbage));
            }
            assertEquals(1, cluster.node("n1").counter("after-garbage").incrementAndGet());
            assertEquals(2, cluster.node(leader).counter("after-garbage").incrementAndGet());
        }
    }

    /** Set when JGroups deserialises a {@link Gadget}: what an attacker's class would run. */
    static final java.util.concurrent.atomic.AtomicInteger DESERIALISED = new java.util.concurrent.atomic.AtomicInteger();

    /** Stands for a deserialisation gadget: a class whose readObject runs code. */
    static final class Gadget implements java.io.Serializable {
        private static final long serialVersionUID = 1L;

        private void readObject(java.io.ObjectInputStream in) throws java.io.IOException, ClassNotFoundException {
            in.defaultReadObject();
            DESERIALISED.incrementAndGet();
        }
    }

    /** Stands for a class that JGroups would instantiate by the name in the message. */
    public static final class NamedPayload implements org.jgroups.util.SizeStreamable {
        public NamedPayload() {
            DESERIALISED.incrementAndGet();
        }

        @Override
        public int serializedSize() {
            return 0;
        }

        @Override
        public void writeTo(java.io.DataOutput out) {
        }

        @Override
        public void readFrom(java.io.DataInput in) {
        }
    }

    @Test
    void objectMessagesThatWouldDeserialiseOrInstantiateByNameAreDropped() throws Exception {
        try (TestCluster cluster = TestCluster.start(dir, 3, 1)) {
            String leader = cluster.awaitLeader();
            org.jgroups.Address target = cluster.node(leader).mainChannel().getAddress();
            org.jgroups.JChannel sender = cluster.node("n1").mainChannel();
            // unreliable, as a stranger would send them: a refused reliable message would also hold up
            // the sender's later messages to that node (a gap in its sequence), which hurts only the sender
            sender.send(new org.jgroups.ObjectMessage(target, (Object) new Gadget())
                    .setFlag(org.jgroups.Message.Flag.NO_RELIABILITY));
            sender.send(new org.jgroups.ObjectMessage(target, new NamedPayload())
                    .setFlag(org.jgroups.Message.Flag.NO_RELIABILITY));
            sender.send(new org.jgroups.EmptyMessage(target).setFlag(org.jgroups.Message.Flag.NO_RELIABILITY));
            DESERIALISED.set(0); // the sender's own constructor call above
            assertEquals(1, cluster.node("n1").counter("after-objects").incrementAndGet());
            assertEquals(2, cluster.node(leader).counter("after-objects").incrementAndGet());
            assertEquals(0, DESERIALISED.get(), "the leader decoded a payload it should have refused");
        }
    }
}
