package io.unidist.cluster.internal;

import java.util.List;
import java.util.Map;
import org.jgroups.protocols.Discovery;
import org.jgroups.protocols.FD_ALL3;
import org.jgroups.protocols.FD_SOCK;
import org.jgroups.protocols.FD_SOCK2;
import org.jgroups.protocols.MERGE3;
import org.jgroups.protocols.TP;
import org.jgroups.protocols.UNICAST3;
import org.jgroups.protocols.VERIFY_SUSPECT;
import org.jgroups.protocols.VERIFY_SUSPECT2;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.protocols.raft.CLIENT;
import org.jgroups.protocols.raft.NO_DUPES;
import org.jgroups.protocols.raft.RAFT;
import org.jgroups.protocols.raft.REDIRECT;
import org.jgroups.protocols.raft.election.BaseElection;
import org.jgroups.stack.Protocol;

/**
 * What a unidist JGroups configuration must and must not contain, and which protocols belong to the voters' channel
 * only. Protocols are matched by class (a subclass counts), so {@code raft.RAFT} and
 * {@code org.jgroups.protocols.raft.RAFT} are the same thing.
 */
final class StackRules {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(StackRules.class);

    /** A protocol the stack needs, any of {@code types}, and the reason, for the error message. */
    private record Required(String name, String why, List<Class<? extends Protocol>> types) {
        boolean isMetBy(Class<? extends Protocol> type) {
            return types.stream().anyMatch(t -> t.isAssignableFrom(type));
        }
    }

    private static final List<Required> REQUIRED = List.of(
            new Required("a transport (TCP, UDP or SHARED_LOOPBACK)",
                    "it is the bottom of the stack that sends and receives the bytes", List.of(TP.class)),
            new Required("a discovery protocol (TCPPING, PING or SHARED_LOOPBACK_PING)",
                    "a starting node finds the cluster through it", List.of(Discovery.class)),
            new Required("MERGE3", "without it a cluster split by a network partition stays split after it heals",
                    List.of(MERGE3.class)),
            new Required("FD_SOCK2 (or FD_SOCK)",
                    "it notices a killed process within milliseconds; Raft elections start on the view change",
                    List.of(FD_SOCK2.class, FD_SOCK.class)),
            new Required("FD_ALL3", "it notices a hung process or a vanished host, which no socket reports",
                    List.of(FD_ALL3.class)),
            new Required("VERIFY_SUSPECT", "it double-checks a suspected node before it is removed from the view",
                    List.of(VERIFY_SUSPECT.class, VERIFY_SUSPECT2.class)),
            new Required("pbcast.NAKACK2", "it makes messages to all members reliable and ordered",
                    List.of(NAKACK2.class)),
            new Required("UNICAST3", "it makes messages to one member reliable and ordered", List.of(UNICAST3.class)),
            new Required("pbcast.GMS", "it maintains the view (who is a member)", List.of(GMS.class)),
            new Required("raft.ELECTION2 (or raft.ELECTION)", "it elects the Raft leader among the voters",
                    List.of(BaseElection.class)),
            new Required("raft.RAFT", "it is the replicated log that the voters agree on", List.of(RAFT.class)));

    /** Protocols that run on the voters' channel only: they are removed from the main channel. */
    private static final List<Class<? extends Protocol>> RAFT_ONLY =
            List.of(RAFT.class, BaseElection.class, REDIRECT.class, NO_DUPES.class, CLIENT.class);

    private StackRules() {}

    /** True if {@code type} belongs to the voters' channel only (RAFT, ELECTION, ELECTION2, REDIRECT, NO_DUPES, CLIENT). */
    static boolean isRaftOnly(Class<? extends Protocol> type) {
        return RAFT_ONLY.stream().anyMatch(t -> t.isAssignableFrom(type));
    }

    /**
     * Checks the stack.
     *
     * @param layers the protocols bottom first, with variables already substituted
     * @throws IllegalArgumentException naming {@code source}, the protocol and the reason
     */
    static void check(String source, List<Stacks.Layer> layers) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException(source + ": the configuration lists no protocols");
        }
        checkTransport(source, layers);
        for (Stacks.Layer layer : layers) {
            if (CLIENT.class.isAssignableFrom(layer.type())) {
                throw new IllegalArgumentException(String.format(
                        "%s: %s is not allowed: it opens a TCP port (1965 by default) without any"
                                + " authentication through which anyone who reaches it can submit Raft commands; remove it",
                        Stacks.where(source, layer.line()), layer.name()));
            }
        }
        for (Required required : REQUIRED) {
            if (layers.stream().noneMatch(l -> required.isMetBy(l.type()))) {
                throw new IllegalArgumentException(String.format("%s: %s is missing and is required: %s",
                        source, required.name(), required.why()));
            }
        }
        for (Stacks.Layer layer : layers) {
            if (org.jgroups.protocols.raft.ELECTION.class.isAssignableFrom(layer.type())) {
                log.warn("{}: {} has no pre-vote: a voter that comes back from a partition starts an election with a"
                        + " higher term and unseats a working leader; raft.ELECTION2 avoids that",
                        Stacks.where(source, layer.line()), layer.name());
            }
        }
    }

    private static void checkTransport(String source, List<Stacks.Layer> layers) {
        Stacks.Layer bottom = layers.get(0);
        if (!TP.class.isAssignableFrom(bottom.type())) {
            throw new IllegalArgumentException(String.format(
                    "%s: the first protocol is %s, but a transport (TCP, UDP, SHARED_LOOPBACK) must come"
                            + " first: the stack is listed bottom first",
                    Stacks.where(source, bottom.line()), bottom.name()));
        }
        for (Stacks.Layer layer : layers.subList(1, layers.size())) {
            if (TP.class.isAssignableFrom(layer.type())) {
                throw new IllegalArgumentException(String.format(
                        "%s: a second transport %s; a stack has exactly one, at the bottom",
                        Stacks.where(source, layer.line()), layer.name()));
            }
        }
        Map<String, String> properties = bottom.config().getProperties();
        String diag = properties.get("diag.enabled");
        if (diag != null && !diag.trim().equalsIgnoreCase("false")) {
            throw new IllegalArgumentException(String.format(
                    "%s: %s has diag.enabled=\"%s\", which is not allowed: the diagnostics handler answers"
                            + " probe requests from anyone on the network and can invoke operations"
                            + " (RAFT.addServer included); set diag.enabled=\"false\"",
                    Stacks.where(source, bottom.line()), bottom.name(), diag));
        }
    }
}
