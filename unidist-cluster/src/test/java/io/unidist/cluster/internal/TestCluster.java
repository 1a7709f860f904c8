package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;

import io.unidist.cluster.ClusterConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.jgroups.Address;
import org.jgroups.JChannel;
import org.jgroups.protocols.DISCARD;
import org.jgroups.protocols.TP;
import org.jgroups.stack.ProtocolStack;

/**
 * A cluster of nodes in this JVM over {@code unidist-jvm.xml} (SHARED_LOOPBACK), with faults a
 * test can inject: crashes (channels closed without a goodbye to the state machine),
 * partitions (DISCARD below every channel, both ways) and restarts over the same data.
 */
final class TestCluster implements AutoCloseable {
    private static final AtomicInteger CLUSTERS = new AtomicInteger();

    private final String name;
    private final Path dir;
    private final List<String> voters;
    private final Map<String, ClusterNode> nodes = new LinkedHashMap<>();
    private final Duration operationTimeout;
    private final java.util.function.UnaryOperator<ClusterConfig.Builder> settings;

    private TestCluster(String name, Path dir, List<String> voters, Duration operationTimeout,
                        java.util.function.UnaryOperator<ClusterConfig.Builder> settings) {
        this.name = name;
        this.dir = dir;
        this.voters = voters;
        this.operationTimeout = operationTimeout;
        this.settings = settings;
    }

    /** Starts voters {@code v1..vN} and non-voters {@code n1..nM}, and waits for a leader. */
    static TestCluster start(Path dir, int voterCount, int nonVoters) {
        return start(dir, voterCount, nonVoters, Duration.ofSeconds(10));
    }

    static TestCluster start(Path dir, int voterCount, int nonVoters, Duration operationTimeout) {
        return start(dir, voterCount, nonVoters, operationTimeout, b -> b);
    }

    /** As {@link #start(Path, int, int, Duration)}, with {@code settings} applied to every node's configuration. */
    static TestCluster start(Path dir, int voterCount, int nonVoters, Duration operationTimeout,
                             java.util.function.UnaryOperator<ClusterConfig.Builder> settings) {
        List<String> voters = new ArrayList<>();
        for (int i = 1; i <= voterCount; i++) {
            voters.add("v" + i);
        }
        TestCluster cluster = new TestCluster("test-" + CLUSTERS.incrementAndGet() + "-" + ProcessHandle.current().pid(),
                dir, voters, operationTimeout, settings);
        try {
            for (String v : voters) {
                cluster.startNode(v);
            }
            for (int i = 1; i <= nonVoters; i++) {
                cluster.startNode("n" + i);
            }
            cluster.awaitLeader();
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    /**
     * As {@link #start(Path, int, int, Duration, java.util.function.UnaryOperator)}, but starts
     * {@code v1}, then every other voter {@code v2..vN} and non-voter {@code n1..nM} at
     * once, {@code joiners} joins at a time (nodes that boot together: JGroups folds concurrent
     * joins into fewer views), and waits for a leader.
     */
    static TestCluster startTogether(Path dir, int voterCount, int nonVoters, Duration operationTimeout,
                                     java.util.function.UnaryOperator<ClusterConfig.Builder> settings, int joiners) {
        List<String> voters = new ArrayList<>();
        for (int i = 1; i <= voterCount; i++) {
            voters.add("v" + i);
        }
        TestCluster cluster = new TestCluster("test-" + CLUSTERS.incrementAndGet() + "-" + ProcessHandle.current().pid(),
                dir, voters, operationTimeout, settings);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(joiners);
        try {
            cluster.startNode(voters.get(0)); // the first member: the others find it and join it
            List<String> rest = new ArrayList<>(voters.subList(1, voters.size()));
            for (int i = 1; i <= nonVoters; i++) {
                rest.add("n" + i);
            }
            List<java.util.concurrent.Future<ClusterNode>> joins = new ArrayList<>();
            for (String n : rest) {
                joins.add(pool.submit(() -> cluster.startNode(n)));
            }
            for (java.util.concurrent.Future<ClusterNode> f : joins) {
                f.get();
            }
            cluster.awaitLeader();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cluster.close();
            throw new IllegalStateException("interrupted while starting " + cluster.name, e);
        } catch (java.util.concurrent.ExecutionException | RuntimeException e) {
            cluster.close();
            throw new IllegalStateException("starting " + cluster.name + " failed: " + e, e);
        } finally {
            pool.shutdownNow();
        }
        return cluster;
    }

    ClusterConfig config(String node) {
        ClusterConfig.Builder b = ClusterConfig.builder().clusterName(name).nodeName(node)
                .jgroupsConfig("unidist-jvm.xml").voters(voters.toArray(String[]::new))
                .operationTimeout(operationTimeout);
        if (voters.contains(node)) {
            b.dataDir(dir.resolve(node));
        }
        return settings.apply(b).build();
    }

    ClusterNode startNode(String node) {
        ClusterNode n = (ClusterNode) ClusterNode.join(config(node));
        synchronized (nodes) { // startTogether joins from several threads
            nodes.put(node, n);
        }
        return n;
    }

    ClusterNode node(String node) {
        ClusterNode n = nodes.get(node);
        if (n == null) {
            throw new IllegalArgumentException("no running node " + node);
        }
        return n;
    }

    Collection<ClusterNode> running() {
        return nodes.values();
    }

    List<String> voters() {
        return voters;
    }

    /**
     * Waits until every running voter has applied the same entries and holds the same state
     * machine, byte for byte: replicas that applied different entries at one index (a follower
     * that committed entries of an old term) never get there.
     */
    void awaitReplicasAgree(Duration timeout) {
        org.awaitility.Awaitility.await().atMost(timeout).until(() -> {
            byte[] first = null;
            for (String v : voters) {
                ClusterNode n = nodes.get(v);
                if (n == null) {
                    continue;
                }
                org.jgroups.util.ByteArrayDataOutputStream out = new org.jgroups.util.ByteArrayDataOutputStream();
                n.server().stateMachine().writeContentTo(out);
                byte[] state = java.util.Arrays.copyOf(out.buffer(), out.position());
                if (first == null) {
                    first = state;
                } else if (!java.util.Arrays.equals(first, state)) {
                    return false;
                }
            }
            return true;
        });
    }

    String name() {
        return name;
    }

    /** Waits until the running voters agree on a leader, and returns its name. */
    String awaitLeader() {
        String[] leader = new String[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            for (ClusterNode n : nodes.values()) {
                if (n.isLeader()) {
                    leader[0] = n.nodeName();
                    return true;
                }
            }
            return false;
        });
        return leader[0];
    }

    /** The process dies: its channels close without closing its session. */
    void crash(String node) {
        ClusterNode n = nodes.remove(node);
        if (n != null) {
            n.crashForTest();
        }
    }

    ClusterNode restart(String node) {
        crash(node);
        return startNode(node);
    }

    /** Cuts the cluster in two: {@code side} and the rest stop hearing each other. */
    void partition(Set<String> side) {
        List<Address> a = new ArrayList<>();
        List<Address> b = new ArrayList<>();
        nodes.forEach((n, node) -> (side.contains(n) ? a : b).addAll(addresses(node)));
        nodes.forEach((n, node) -> {
            List<Address> other = side.contains(n) ? b : a;
            for (JChannel ch : channels(node)) {
                discard(ch).addIgnoredMembers(other.toArray(Address[]::new));
            }
        });
    }

    /** Ends every partition; MERGE3 joins the views again. */
    void heal() {
        nodes.values().forEach(node -> channels(node).forEach(ch -> discard(ch).resetIgnoredMembers()));
    }

    private static List<JChannel> channels(ClusterNode node) {
        List<JChannel> list = new ArrayList<>();
        list.add(node.mainChannel());
        if (node.raftChannel() != null) {
            list.add(node.raftChannel());
        }
        return list;
    }

    private static List<Address> addresses(ClusterNode node) {
        List<Address> list = new ArrayList<>();
        channels(node).forEach(ch -> list.add(ch.getAddress()));
        return list;
    }

    private static DISCARD discard(JChannel ch) {
        DISCARD d = ch.getProtocolStack().findProtocol(DISCARD.class);
        if (d == null) {
            d = new DISCARD();
            try {
                ch.getProtocolStack().insertProtocol(d, ProtocolStack.Position.ABOVE, TP.class);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return d;
    }

    @Override
    public void close() {
        for (ClusterNode n : new ArrayList<>(nodes.values())) {
            try {
                n.close();
            } catch (RuntimeException e) {
                // closing a broken test cluster: keep closing the rest
            }
        }
        nodes.clear();
    }
}
