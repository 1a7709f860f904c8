package io.unidist.cluster.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jgroups.protocols.FD_SOCK2;
import org.jgroups.protocols.SSL_KEY_EXCHANGE;
import org.jgroups.protocols.TCPPING;
import org.jgroups.protocols.TP;
import org.jgroups.protocols.UDP;
import org.jgroups.protocols.raft.RAFT;
import org.jgroups.stack.Protocol;

/**
 * Turns the protocols of a full stack into those of a voter's raft channel, as JGroups creates them: it is called
 * for each protocol bottom first, after the XML attributes (and JGroups' {@code jgroups.*} system properties) are
 * applied and before the protocol's {@code init()}, so it moves the values JGroups would really use.
 *
 * <ul>
 *   <li>transport: {@code bind_port} + offset (0, "any free port", stays 0); UDP: {@code mcast_port} + offset;</li>
 *   <li>TCPPING: every explicit {@code host[port]} of {@code initial_hosts} + offset (entries without a port use
 *       the transport's port, already moved);</li>
 *   <li>FD_SOCK2 listens at the transport's actual port + its own offset: the port windows of both channels are
 *       checked not to overlap, else the channels would answer each other's connections;</li>
 *   <li>SSL_KEY_EXCHANGE: {@code port} + offset. Its key server listens on the coordinator at that fixed port, and a
 *       member asks the coordinator's host for the key on the first port of the range that answers: two channels on
 *       one port range would hand out each other's group keys;</li>
 *   <li>RAFT: id, members, log directory and prefix, snapshot threshold, fsync, and unidist's log
 *       ({@link UnidistRaftLog}) under {@link UnidistRaft}.</li>
 * </ul>
 * Every node must use the same offset: a node looks for the voters at their main ports + offset.
 *
 * <p>Problems are collected, not thrown, and {@link #verify} reports them once the channel is built: an exception
 * thrown from this hook makes JGroups 5.4 destroy a half-initialised stack, whose transport then fails with a
 * NullPointerException that replaces ours.
 */
final class RaftChannelSetup {
    private static final Pattern HOST_AND_PORT = Pattern.compile("^(.*)\\[(\\d+)]$");

    /** A port window [low, high] of one of the two channels, named for messages. */
    private record Window(String name, int low, int high) {
        boolean overlaps(Window other) {
            return low <= other.high && other.low <= high;
        }

        @Override
        public String toString() {
            return name + " " + low + "-" + high;
        }
    }

    private final String source;
    private final String raftId;
    private final List<String> members;
    private final Path logDir;
    private final long maxLogSizeBytes;
    private final int offset;
    private final List<Window> windows = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private int mainBindPort;
    private int transportPortRange;

    RaftChannelSetup(String source, String raftId, List<String> members, Path logDir, long maxLogSizeBytes,
                     int offset) {
        this.source = source;
        this.raftId = raftId;
        this.members = members;
        this.logDir = logDir;
        this.maxLogSizeBytes = maxLogSizeBytes;
        this.offset = offset;
    }

    void afterCreation(Protocol protocol) {
        if (protocol instanceof TP transport) {
            moveTransport(transport);
        } else if (protocol instanceof TCPPING tcpping) {
            String hosts = (String) tcpping.getValue("initial_hosts_str");
            if (hosts != null) {
                try {
                    tcpping.setValue("initial_hosts_str", shiftHosts(hosts, offset, source));
                } catch (IllegalArgumentException e) {
                    problems.add(e.getMessage());
                }
            }
        } else if (protocol instanceof FD_SOCK2 fd && mainBindPort > 0) {
            int span = transportPortRange + fd.getPortRange();
            addWindows("FD_SOCK2", mainBindPort + fd.getOffset(), span);
        } else if (protocol instanceof SSL_KEY_EXCHANGE exchange) {
            int port = exchange.getPort();
            int range = Math.max(0, exchange.getPortRange());
            if (isPort(port + range + offset, "SSL_KEY_EXCHANGE.port")) {
                exchange.setPort(port + offset);
                addWindows("SSL_KEY_EXCHANGE", port, range);
            }
        } else if (protocol instanceof RAFT raft) {
            raft.raftId(raftId)
                .members(members)
                .logDir(logDir.toString())
                .logPrefix(raftId)
                .maxLogSize(maxLogSizeBytes)
                .logUseFsync(true); // a method, not applied from XML by default; RAFT's default is false
            if (raft instanceof UnidistRaft) {
                raft.logClass(UnidistRaftLog.class.getName()); // its snapshots are durable and streamed
            }
        }
    }

    private void moveTransport(TP transport) {
        mainBindPort = transport.getBindPort();
        transportPortRange = Math.max(0, transport.getPortRange());
        if (mainBindPort > 0 && isPort(mainBindPort + offset + transportPortRange, transport.getName() + ".bind_port")) {
            transport.setBindPort(mainBindPort + offset);
            addWindows(transport.getName(), mainBindPort, transportPortRange);
        }
        if (transport instanceof UDP udp && isPort(udp.getMulticastPort() + offset, "UDP.mcast_port")) {
            udp.setMulticastPort(udp.getMulticastPort() + offset);
        }
    }

    /**
     * Throws the first problem found while the stack was built.
     *
     * @throws IllegalArgumentException naming the file, the offset and the clashing ports
     */
    void verify() {
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(problems.get(0));
        }
    }

    /** Records the main and raft windows of one listener, and a problem if two windows of either channel overlap. */
    private void addWindows(String listener, int mainLow, int span) {
        Window main = new Window("main channel " + listener, mainLow, mainLow + span);
        Window raft = new Window("raft channel " + listener, mainLow + offset, mainLow + offset + span);
        for (Window added : List.of(main, raft)) {
            for (Window existing : windows) {
                if (existing.overlaps(added)) {
                    problems.add(String.format(
                            "%s: with raft port offset %d the ports overlap: %s and %s; choose another offset"
                                    + " or change the port_range/offset attributes in the file",
                            source, offset, existing, added));
                }
            }
            windows.add(added);
        }
    }

    private boolean isPort(int port, String what) {
        if (port > 65535) {
            problems.add(String.format(
                    "%s: %s plus raft port offset %d gives port %d, above 65535", source, what, offset, port));
            return false;
        }
        return true;
    }

    /** {@code "a[7800],b[7801],c"} with offset 100 gives {@code "a[7900],b[7901],c"}. */
    static String shiftHosts(String hosts, int offset, String source) {
        return Arrays.stream(hosts.split(","))
                .map(String::trim)
                .filter(h -> !h.isEmpty())
                .map(h -> {
                    Matcher m = HOST_AND_PORT.matcher(h);
                    if (!m.matches()) {
                        return h;
                    }
                    int port = Integer.parseInt(m.group(2)) + offset;
                    if (port > 65535) {
                        throw new IllegalArgumentException(String.format(
                                "%s: TCPPING.initial_hosts entry %s plus raft port offset %d gives port %d, above 65535",
                                source, h, offset, port));
                    }
                    return m.group(1) + "[" + port + "]";
                })
                .collect(Collectors.joining(","));
    }
}
