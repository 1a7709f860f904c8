package io.unidist.examples;

import io.unidist.Unidist;
import io.unidist.cluster.internal.ClusterNode;
import java.util.List;
import java.util.stream.Collectors;
import org.jgroups.Address;
import org.jgroups.View;

/**
 * What the launcher shows but the public API does not offer yet: the members of the JGroups
 * view and the Raft leader as this node knows it. This is the one place in the examples that
 * reaches into {@code io.unidist.cluster.internal}; the example programs never do.
 */
final class ClusterPeek {
    private ClusterPeek() {
    }

    /** The names of the members in this node's current view, oldest first; empty when not clustered. */
    static List<String> members(Unidist node) {
        if (!(node instanceof ClusterNode cluster)) {
            return List.of();
        }
        View view = cluster.mainChannel().getView();
        return view == null ? List.of()
                : view.getMembers().stream().map(Address::toString).collect(Collectors.toList());
    }

    /** The leader's name as this node last heard it, or null when it does not know one. */
    static String leader(Unidist node) {
        return node instanceof ClusterNode cluster ? cluster.leaderName() : null;
    }
}
