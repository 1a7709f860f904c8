package io.unidist.cluster.internal;

import io.unidist.SharedCounter;
import io.unidist.Unidist;
import io.unidist.cluster.ClusterConfig;
import io.unidist.cluster.UnidistCluster;
import java.nio.file.Path;

/**
 * A node in a process of its own, for {@link ClusterProcessTest}: joins over
 * {@code unidist-local.xml} on 127.0.0.1 and increments a counter in a loop, printing
 * {@code C <value>} for each increment that returned, until killed.
 */
public final class ClusterChild {
    private ClusterChild() {
    }

    /** Arguments: cluster name, node name, comma-separated voters, data dir, base port. */
    public static void main(String[] args) throws Exception {
        ClusterConfig config = ClusterConfig.builder()
                .clusterName(args[0]).nodeName(args[1]).voters(args[2].split(","))
                .dataDir(Path.of(args[3]))
                .jgroupsConfig("unidist-local.xml")
                .property("unidist.bind_port", args[4])
                .property("unidist.initial_hosts", "127.0.0.1[" + args[4] + "]")
                .build();
        try (Unidist node = UnidistCluster.join(config)) {
            System.out.println("JOINED");
            System.out.flush();
            SharedCounter ids = node.counter("ids");
            while (true) {
                try {
                    System.out.println("C " + ids.incrementAndGet());
                    System.out.flush();
                } catch (io.unidist.ClusterUnavailableException e) {
                    System.out.println("U");
                }
                Thread.sleep(5); // pacing of the workload, so that three processes share two cores
            }
        }
    }
}
