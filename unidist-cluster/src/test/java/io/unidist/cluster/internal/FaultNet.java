package io.unidist.cluster.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.jgroups.Address;
import org.jgroups.JChannel;
import org.jgroups.protocols.DELAY;
import org.jgroups.protocols.DISCARD;
import org.jgroups.protocols.DUPL;
import org.jgroups.protocols.SHUFFLE;
import org.jgroups.protocols.TP;
import org.jgroups.stack.Protocol;
import org.jgroups.stack.ProtocolStack;

/**
 * The network faults of one node in this JVM, injected directly above its transport (below
 * every JGroups protocol, so retransmission, failure detection and Raft all see them) on its
 * main channel and, on a voter, its Raft channel. JGroups' own test protocols do the work:
 * DISCARD (partitions: senders not heard; loss; a silenced node), DELAY (outgoing delay, which
 * also reorders), DUPL (every message twice) and SHUFFLE (reordering of what arrives).
 *
 * <p>The protocols are inserted into the running stacks when the node joined, all passing
 * messages unchanged until a fault is set, and go away with the channels when the node
 * crashes or closes; a restarted node starts with a clean network.
 */
final class FaultNet {
    private final List<JChannel> channels = new ArrayList<>();

    private FaultNet(ClusterNode node) {
        channels.add(node.mainChannel());
        if (node.raftChannel() != null) {
            channels.add(node.raftChannel());
        }
    }

    /** Inserts the fault protocols into {@code node}'s stacks, every fault off. */
    static FaultNet install(ClusterNode node) {
        FaultNet net = new FaultNet(node);
        for (JChannel ch : net.channels) {
            ProtocolStack stack = ch.getProtocolStack();
            // inserted bottom-up right above the transport: DISCARD lowest, so a cut node's
            // messages are gone before they could be duplicated or delayed
            insert(stack, new SHUFFLE().setUp(false).setDown(false).setMaxTime(50).setMaxSize(8));
            insert(stack, new DUPL(true, true, 0, 0));
            insert(stack, new DELAY());
            insert(stack, new DISCARD());
        }
        return net;
    }

    private static void insert(ProtocolStack stack, Protocol p) {
        if (stack.findProtocol(p.getClass()) != null) {
            return;
        }
        try {
            stack.insertProtocol(p, ProtocolStack.Position.ABOVE, TP.class);
            // a stack that is already running does not initialise what is inserted into it
            p.init();
            p.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot insert " + p.getName() + " into a running stack", e);
        }
    }

    /** The addresses of this node's channels: what other nodes ignore to cut it off. */
    List<Address> addresses() {
        List<Address> list = new ArrayList<>();
        channels.forEach(ch -> list.add(ch.getAddress()));
        return list;
    }

    /** From now on this node hears nothing from {@code senders} (the other side does the same for a two-way cut). */
    void ignore(Collection<Address> senders) {
        each(DISCARD.class).forEach(d -> d.addIgnoredMembers(senders.toArray(Address[]::new)));
    }

    /** Drops each incoming and each outgoing message with probability {@code rate}. */
    void loss(double rate) {
        each(DISCARD.class).forEach(d -> d.setUpDiscardRate(rate).setDownDiscardRate(rate));
    }

    /** Delays each outgoing message by a random 0..{@code maxMillis} ms. */
    void delay(int maxMillis) {
        each(DELAY.class).forEach(d -> d.setOutDelay(maxMillis));
    }

    /** Sends and receives every message twice. */
    void duplicate(boolean on) {
        each(DUPL.class).forEach(d -> d.setIncomingCopies(on ? 1 : 0).setOutgoingCopies(on ? 1 : 0));
    }

    /** Reorders what arrives (in groups of up to 8 messages or 50 ms). */
    void reorder(boolean on) {
        for (SHUFFLE s : each(SHUFFLE.class)) {
            if (on) {
                s.setUp(true);
            } else {
                s.flush(true); // what it holds goes up now, in any order
            }
        }
    }

    /**
     * Silences the node both ways, as a stalled process looks to its peers: nothing it sends
     * arrives and nothing sent to it is taken in (its peers retransmit after it comes back).
     */
    void silence(boolean on) {
        each(DISCARD.class).forEach(d -> d.discardAll(on));
    }

    /** Every fault off. */
    void clear() {
        for (DISCARD d : each(DISCARD.class)) {
            d.resetIgnoredMembers().setUpDiscardRate(0).setDownDiscardRate(0).discardAll(false);
        }
        delay(0);
        duplicate(false);
        reorder(false);
    }

    private <P extends Protocol> List<P> each(Class<P> type) {
        List<P> list = new ArrayList<>();
        for (JChannel ch : channels) {
            P p = ch.getProtocolStack().findProtocol(type);
            if (p != null) {
                list.add(p);
            }
        }
        return list;
    }
}
