package io.unidist;

/**
 * No quorum answered in time: this node is on the minority side of a partition, the voters are
 * down, or a leader election did not finish within the operation's timeout.
 *
 * <p>The outcome of a write that fails this way is unknown: it may have been committed. Every
 * write carries a request id, so retrying the same call object's operation is safe for
 * idempotent operations ({@code put}, {@code compareAndSet}); for {@code incrementAndGet} a
 * retry after this exception may hand out a second value, never a duplicate one. Retry with a
 * backoff; the cluster answers again as soon as a majority of voters can talk to each other.
 */
public class ClusterUnavailableException extends UnidistException {
    private static final long serialVersionUID = 1L;

    /** An exception whose message names the operation and how long it waited. */
    public ClusterUnavailableException(String message) {
        super(message);
    }

    /** An exception whose message names the operation, with its cause. */
    public ClusterUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
