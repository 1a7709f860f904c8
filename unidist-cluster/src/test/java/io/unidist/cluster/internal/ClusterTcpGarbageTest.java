package io.unidist.cluster.internal;

import static io.unidist.cluster.internal.StacksTest.handshake;
import static io.unidist.cluster.internal.StacksTest.physicalAddress;
import static io.unidist.cluster.internal.StacksTest.sendAndAwaitClose;
import static io.unidist.cluster.internal.TestNet.LOOPBACK;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.testing.FreePorts;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jgroups.JChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Garbage bytes from plain sockets on a running cluster's real TCP ports: 3 voters and a
 * non-voter in this JVM over {@code unidist-local.xml} on 127.0.0.1, each on its own free
 * ports. Every node's main transport port and every voter's Raft channel port gets random
 * bytes, a truncated handshake, and after a valid handshake an oversized, a negative, and a
 * truncated length prefix and a frame of random bytes. Meanwhile a client increments without
 * a single failure, the views stay whole, and every node reads the final value.
 */
class ClusterTcpGarbageTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;
    private TestCluster cluster;
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        pool.shutdownNow();
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void garbageOnTheTransportAndRaftPortsChangesNothingAndTheNodesKeepServing() throws Exception {
        int base = FreePorts.freeBasePort();
        cluster = TestCluster.start(dir, 3, 1, Duration.ofSeconds(10), b -> b.jgroupsConfig("unidist-local.xml")
                .property("unidist.bind_port", Integer.toString(base))
                .property("unidist.initial_hosts", LOOPBACK + "[" + base + "]"));
        await().atMost(WAIT).until(() -> cluster.running().stream().allMatch(n -> n.mainChannel().getView().size() == 4));
        assertEquals(10, cluster.node("n1").counter("c").addAndGet(10));

        CounterHistory history = new CounterHistory();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger acked = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        Future<?> client = history.drive(pool, "n1", () -> cluster.node("n1").counter("c"), 4, stop, acked, failed);

        Map<String, Integer> ports = new LinkedHashMap<>();
        for (ClusterNode n : cluster.running()) {
            ports.put(n.nodeName() + " transport", port(n.mainChannel()));
            if (n.raftChannel() != null) {
                ports.put(n.nodeName() + " raft", port(n.raftChannel()));
            }
        }
        assertEquals(7, ports.size());
        Random random = new Random(7);
        int fakePeer = base + 19; // an address no node has: the handshake names no real member
        for (int port : ports.values()) {
            int before = acked.get();
            sendGarbage(port, random, fakePeer);
            await().atMost(WAIT).until(() -> acked.get() > before); // the client still goes on after each port
        }
        stop.set(true);
        client.get(30, TimeUnit.SECONDS);

        assertEquals(0, failed.get(), "calls failed while garbage arrived");
        assertNull(history.check(), "history not linearizable");
        long expected = 10 + acked.get();
        for (ClusterNode n : cluster.running()) {
            assertEquals(4, n.mainChannel().getView().size(), n.nodeName() + "'s view");
            assertEquals(expected, n.counter("c").get(), n.nodeName() + " reads another value");
        }
        List<Long> after = new ArrayList<>();
        for (ClusterNode n : cluster.running()) {
            after.add(n.counter("c").incrementAndGet());
        }
        assertEquals(List.of(expected + 1, expected + 2, expected + 3, expected + 4), after);
    }

    private static int port(JChannel channel) {
        return physicalAddress(channel).getPort();
    }

    /** Every kind of bad connection, one after the other, to {@code port}. */
    private static void sendGarbage(int port, Random random, int fakePeer) throws Exception {
        byte[] noise = new byte[4096];
        random.nextBytes(noise);
        sendAndAwaitClose(port, out -> out.write(noise));
        sendAndHalfClose(port, out -> { }); // connect, say nothing, hang up
        sendAndHalfClose(port, out -> out.write(noise, 0, 3)); // a truncated handshake
        sendAndAwaitClose(port, out -> {
            handshake(out, fakePeer);
            out.writeInt(Integer.MAX_VALUE); // a 2 GiB frame
        });
        sendAndAwaitClose(port, out -> {
            handshake(out, fakePeer);
            out.writeInt(-4);
            out.write(noise, 0, 64);
        });
        sendAndHalfClose(port, out -> {
            handshake(out, fakePeer);
            out.writeInt(1000); // promises 1000 bytes, sends 10
            out.write(noise, 0, 10);
        });
        sendAndAwaitClose(port, out -> {
            handshake(out, fakePeer);
            out.writeInt(noise.length);
            out.write(noise);
        });
    }

    /** Writes, then ends the stream (as a peer that dies mid-message) and waits until the node hangs up too. */
    private static void sendAndHalfClose(int port, StacksTest.Writer writer) throws Exception {
        try (Socket socket = new Socket(LOOPBACK, port)) {
            socket.setSoTimeout((int) WAIT.toMillis());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            writer.write(out);
            out.flush();
            socket.shutdownOutput();
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
}
