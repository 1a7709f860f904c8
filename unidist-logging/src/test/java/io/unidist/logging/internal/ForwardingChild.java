package io.unidist.logging.internal;

import io.unidist.Unidist;
import io.unidist.cluster.ClusterConfig;
import io.unidist.cluster.UnidistCluster;
import io.unidist.logging.LogForwarding;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node in a process of its own, for {@link ForwardingProcessTest}: joins over
 * {@code unidist-local.xml} on 127.0.0.1, starts log forwarding, logs {@code <prefix>-<i>} for
 * i below the count, then prints {@code DONE}; every 100 ms it prints
 * {@code STAT <collected> <pending> <collectors>}. Runs until killed. Logging settings come
 * from system properties set by the test.
 */
public final class ForwardingChild {
    private ForwardingChild() {
    }

    /** Arguments: cluster, node, voters (comma-separated), data dir, base port, record count, message prefix. */
    public static void main(String[] args) throws Exception {
        ClusterConfig config = ClusterConfig.builder()
                .clusterName(args[0]).nodeName(args[1]).voters(args[2].split(","))
                .dataDir(Path.of(args[3]))
                .jgroupsConfig("unidist-local.xml")
                .property("unidist.bind_port", args[4])
                .property("unidist.initial_hosts", "127.0.0.1[" + args[4] + "]")
                .build();
        int count = Integer.parseInt(args[5]);
        String prefix = args[6];
        Logger app = LoggerFactory.getLogger("app");
        try (Unidist node = UnidistCluster.join(config)) {
            LogForwarding forwarding = LogForwarding.start(node);
            Thread stats = new Thread(() -> {
                while (true) {
                    System.out.println("STAT " + forwarding.collected() + " " + forwarding.pending() + " "
                            + String.join(",", forwarding.collectors()));
                    System.out.flush();
                    try {
                        Thread.sleep(100); // reporting pace of a test child, not synchronisation
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "stats");
            stats.setDaemon(true);
            stats.start();
            System.out.println("JOINED");
            System.out.flush();
            for (int i = 0; i < count; i++) {
                app.info("{}-{}", prefix, i);
                if (i % 200 == 199) {
                    Thread.sleep(1); // pacing, so that three processes share two cores
                }
            }
            System.out.println("DONE");
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
