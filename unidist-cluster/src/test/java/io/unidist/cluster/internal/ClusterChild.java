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

    /**
     * Arguments: cluster name, node name, comma-separated voters, data dir, base port, and a
     * mode: {@code counter} (the default: increments), {@code work} (offers to queue "q" and
     * puts to bucket "s", printing {@code Q id} and {@code S id} for each that returned), or
     * {@code idle} (joins and waits).
     */
    public static void main(String[] args) throws Exception {
        ClusterConfig config = ClusterConfig.builder()
                .clusterName(args[0]).nodeName(args[1]).voters(args[2].split(","))
                .dataDir(Path.of(args[3]))
                .jgroupsConfig("unidist-local.xml")
                .property("unidist.bind_port", args[4])
                .property("unidist.initial_hosts", "127.0.0.1[" + args[4] + "]")
                .build();
        String mode = args.length > 5 ? args[5] : "counter";
        try (Unidist node = UnidistCluster.join(config)) {
            System.out.println("JOINED");
            System.out.flush();
            if (mode.equals("idle")) {
                Thread.sleep(Long.MAX_VALUE);
            }
            if (mode.equals("work")) {
                work(node, args[1]);
            }
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

    private static void work(Unidist node, String self) throws InterruptedException {
        io.unidist.MessageQueue<String> q = node.queue("q", String.class);
        io.unidist.SharedState<String> s = node.state("s", String.class);
        for (int i = 0; ; i++) {
            String id = self + "-" + i;
            try {
                q.offer(id);
                System.out.println("Q " + id);
                s.put(id, "v" + i);
                System.out.println("S " + id);
                System.out.flush();
            } catch (io.unidist.ClusterUnavailableException e) {
                System.out.println("U");
            }
            Thread.sleep(5); // pacing of the workload
        }
    }
}
