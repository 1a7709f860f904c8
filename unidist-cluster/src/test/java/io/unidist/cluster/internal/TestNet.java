package io.unidist.cluster.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Loopback ports for the stack tests. */
final class TestNet {
    static final String LOOPBACK = "127.0.0.1";

    private TestNet() {}

    /**
     * A random base port whose next {@code span} ports are free on 127.0.0.1 right now, so that each test has its own
     * ports (never a fixed one that another test or process could hold).
     */
    static int freeBasePort(int span) {
        for (int attempt = 0; attempt < 100; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20_000, 60_000 - span);
            if (allFree(base, span)) {
                return base;
            }
        }
        throw new IllegalStateException("no " + span + " free consecutive ports found on " + LOOPBACK);
    }

    private static boolean allFree(int base, int span) {
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int port = base; port <= base + span; port++) {
                ServerSocket socket = new ServerSocket();
                held.add(socket);
                socket.bind(new InetSocketAddress(InetAddress.getByName(LOOPBACK), port));
            }
            return true;
        } catch (IOException e) {
            return false;
        } finally {
            for (ServerSocket socket : held) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing a probe socket: nothing to do
                }
            }
        }
    }
}
