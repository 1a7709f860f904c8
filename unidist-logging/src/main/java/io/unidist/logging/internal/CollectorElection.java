package io.unidist.logging.internal;

import java.util.Collection;
import java.util.List;

/**
 * Which nodes collect the cluster's logs, decided by every node alone from the same inputs.
 *
 * <p>Why no consensus: the collectors are the first {@code n} candidates in the view's order,
 * and every member that has installed a view has the same member list in the same order, so
 * they agree without a message; a new view (a collector died, a partition healed) gives a new
 * choice within the failure-detection time. In a partition each side chooses its own
 * collectors, and a sender may switch collectors with records unacknowledged: both only cause
 * duplicates, which carry the same (node, incarnation, sequence) key and are dropped by the
 * collector that sees them twice or by a reader merging collectors' files.
 */
final class CollectorElection {
    private CollectorElection() {
    }

    /** The first {@code n} of {@code members} (view order) that are {@code candidates}. */
    static List<String> collectors(List<String> members, Collection<String> candidates, int n) {
        return members.stream().filter(candidates::contains).limit(n).toList();
    }

    /**
     * The collector {@code sender} sends to: spread by the sender's name, stable while the
     * collectors stay the same; null when there is none.
     */
    static String collectorFor(String sender, List<String> collectors) {
        if (collectors.isEmpty()) {
            return null;
        }
        return collectors.get(Math.floorMod(sender.hashCode(), collectors.size()));
    }
}
