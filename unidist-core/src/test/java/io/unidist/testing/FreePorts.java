package io.unidist.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Port ranges for multi-process tests on 127.0.0.1: a random base whose ports are free now,
 * so that tests never share a fixed port. (A port found free may still be taken before the
 * child binds it; the range is random to make that unlikely.)
 */
public final class FreePorts {
    private FreePorts() {
    }

    /** A base port with 20 free ports above it and 20 free ports 100 above it (a voter's Raft channel). */
    public static int freeBasePort() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20_000, 40_000);
            if (free(base, 20) && free(base + 100, 20)) {
                return base;
            }
        }
        throw new IOException("no free port range found");
    }

    private static boolean free(int from, int count) {
        for (int p = from; p < from + count; p++) {
            try (ServerSocket s = new ServerSocket(p)) {
                s.setReuseAddress(true);
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }
}
