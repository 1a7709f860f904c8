package io.unidist.cluster;

import io.unidist.Unidist;
import io.unidist.cluster.internal.ClusterNode;

/**
 * Joins a unidist cluster: the entry point of the clustered node.
 *
 * <pre>{@code
 * Unidist node = UnidistCluster.join(ClusterConfig.builder()
 *         .clusterName("ops").nodeName("web-1")
 *         .jgroupsConfig("unidist-local.xml")
 *         .voters("web-1", "web-2", "web-3")
 *         .dataDir(Path.of("/var/lib/unidist"))
 *         .build());
 * }</pre>
 */
public final class UnidistCluster {
    private UnidistCluster() {
    }

    /**
     * Joins the cluster and returns once this node is a member of its view (voters have also
     * joined the Raft group). The primitives' calls need a majority of the voters; they wait for
     * one up to their timeout and then throw {@link io.unidist.ClusterUnavailableException}.
     *
     * @throws IllegalArgumentException when the JGroups file does not parse or lacks a required
     *     protocol (the message names the file, line or protocol)
     * @throws io.unidist.UnidistException when the channels cannot start
     */
    public static Unidist join(ClusterConfig config) {
        return ClusterNode.join(config);
    }

    /**
     * Direct messages between the members of {@code node}'s cluster (see
     * {@link ClusterMessaging} for what they guarantee: less than the primitives).
     *
     * @throws IllegalArgumentException if {@code node} was not returned by {@link #join}
     */
    public static ClusterMessaging messaging(Unidist node) {
        if (node instanceof ClusterNode clustered) {
            return clustered.messaging();
        }
        throw new IllegalArgumentException("not a clustered node: " + node
                + " (only a node returned by UnidistCluster.join has cluster messaging)");
    }
}
