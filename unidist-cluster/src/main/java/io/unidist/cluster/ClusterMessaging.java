package io.unidist.cluster;

import java.util.List;
import java.util.function.Consumer;

/**
 * Direct messages between the members of a cluster, outside the replicated log: for add-ons
 * that need neither consensus nor persistence, such as log forwarding. Obtain it with
 * {@link UnidistCluster#messaging(io.unidist.Unidist)}.
 *
 * <p><b>Guarantees.</b> Messages travel on the node's main JGroups channel, so they get what
 * its file configures: encryption and authentication in the {@code *-secure.xml} files, and
 * reliable FIFO delivery from one sender to one receiver while both stay members. Nothing
 * more: a message to a node that leaves, crashes or is partitioned away may be lost, and
 * nothing is stored. Callers that need more acknowledge and resend themselves.
 *
 * <p><b>Membership.</b> {@link #members()} lists the node names of the current view in view
 * order; every member that has installed the same view sees the same list, so a choice made
 * from it (the first candidate, say) is the same on each of them. In a partition each side
 * has its own view and may choose differently.
 *
 * <p><b>Threads.</b> Handlers and listeners run on JGroups' receiving threads: they must be
 * quick and must not block (hand work to a thread of your own). All methods are thread-safe.
 */
public interface ClusterMessaging {

    /** This node's name. */
    String self();

    /** The voters this node was configured with (the same list on every node of a cluster). */
    List<String> voters();

    /** The names of the members in this node's current view, in view order. */
    List<String> members();

    /**
     * Calls {@code listener} with the current members at once and again after every view
     * change, until the returned handle is closed.
     */
    AutoCloseable watchMembers(Consumer<List<String>> listener);

    /**
     * Sends {@code payload} to {@code node} under {@code topic}.
     *
     * @return false if {@code node} is not in the current view or the node is closed (nothing
     *     was sent); true if the message was handed to the channel, which does not mean it
     *     arrived
     * @throws IllegalArgumentException if the payload is over {@link #MAX_PAYLOAD} bytes or the
     *     topic is blank or over 255 characters
     */
    boolean send(String node, String topic, byte[] payload);

    /**
     * Hands every message that arrives under {@code topic} to {@code handler}, until the
     * returned handle is closed. Messages under a topic nobody subscribed to are dropped.
     *
     * @throws IllegalStateException if the topic already has a handler
     */
    AutoCloseable subscribe(String topic, Handler handler);

    /** The largest payload {@link #send} takes: 8 MiB. */
    int MAX_PAYLOAD = 8 * 1024 * 1024;

    /** Receives the messages of one topic. */
    @FunctionalInterface
    interface Handler {
        /**
         * One message.
         *
         * @param from    the sender's node name
         * @param payload the bytes it sent
         */
        void received(String from, byte[] payload);
    }
}
