package io.unidist.examples;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Free ports on 127.0.0.1 for the local example cluster: never a fixed one. */
final class Ports {
    /**
     * The span above a base port that {@code unidist-local.xml} uses: the transport's port
     * range (base..base+20), FD_SOCK2 (+50), the voters' Raft channel (+100) and its FD_SOCK2
     * (+150), each with its own small range.
     */
    static final int SPAN = 180;

    private Ports() {
    }

    /** A random base port whose {@link #SPAN} ports above it are all free now. */
    static int freeBase() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20_000, 50_000);
            if (allFree(base, SPAN)) {
                return base;
            }
        }
        throw new IllegalStateException("no " + SPAN + " free consecutive ports found on 127.0.0.1 between 20000 and"
                + " 50000; is something holding most of them?");
    }

    private static boolean allFree(int base, int span) {
        List<ServerSocket> held = new ArrayList<>();
        try {
            InetAddress loopback = InetAddress.getByName("127.0.0.1");
            for (int port = base; port <= base + span; port++) {
                ServerSocket socket = new ServerSocket();
                held.add(socket);
                socket.bind(new InetSocketAddress(loopback, port));
            }
            return true;
        } catch (IOException e) {
            return false;
        } finally {
            for (ServerSocket socket : held) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // a probe socket: nothing to do
                }
            }
        }
    }
}
