package io.unidist;

import java.time.Instant;
import java.util.Objects;

/**
 * One lease of a lock or semaphore as it is held now.
 *
 * @param node         the name of the node that holds the lease
 * @param fencingToken the lease's fencing token: larger for every later lease of the same lock
 * @param since        when the lease was granted, by the granting node's clock
 */
public record LeaseInfo(String node, long fencingToken, Instant since) {
    /** Checks that no component is null. */
    public LeaseInfo {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(since, "since");
    }
}
