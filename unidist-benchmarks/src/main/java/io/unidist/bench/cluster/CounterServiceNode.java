package io.unidist.bench.cluster;

import io.unidist.cluster.internal.Stacks;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jgroups.Address;
import org.jgroups.JChannel;
import org.jgroups.protocols.raft.RAFT;
import org.jgroups.protocols.raft.REDIRECT;
import org.jgroups.raft.blocks.CounterService;
import org.jgroups.raft.blocks.RaftSyncCounter;
import org.jgroups.raft.util.Utils;
import org.jgroups.stack.ProtocolStack;

/**
 * The baseline: jgroups-raft's own {@code CounterService} on a raft channel built exactly as unidist builds a
 * voter's ({@link Stacks#newRaftChannel}: the same file, transport settings, snapshot threshold and fsync
 * setting), with {@code REDIRECT} added above RAFT so that a follower's increments reach the leader. Its ports are
 * the main channel's plus {@link #PORT_OFFSET}, clear of unidist's two channels (+0 and +100, each with FD_SOCK2
 * at +50).
 */
final class CounterServiceNode implements AutoCloseable {
    /** Where the baseline's ports are, relative to the main channel's. */
    static final int PORT_OFFSET = 200;

    private final JChannel channel;
    private final RAFT raft;
    private final CounterService service;
    private volatile RaftSyncCounter counter;

    private CounterServiceNode(JChannel channel, RAFT raft, CounterService service) {
        this.channel = channel;
        this.raft = raft;
        this.service = service;
    }

    /** Builds, connects (under {@code clusterName + ".cs"}) and returns the node. */
    static CounterServiceNode start(String jgroupsFile, Map<String, String> vars, String clusterName, String raftId,
            List<String> voters, Path logDir, long maxLogBytes, boolean fsync) throws Exception {
        JChannel channel = Stacks.load(jgroupsFile, vars).newRaftChannel(raftId, voters, logDir, maxLogBytes,
                PORT_OFFSET);
        try {
            ProtocolStack stack = channel.getProtocolStack();
            RAFT raft = stack.findProtocol(RAFT.class);
            raft.logUseFsync(fsync); // as ClusterNode does after newRaftChannel
            REDIRECT redirect = new REDIRECT();
            redirect.setProtocolStack(stack);
            stack.insertProtocol(redirect, ProtocolStack.Position.ABOVE, RAFT.class);
            redirect.init(); // the stack's protocols were initialised when the channel was built
            CounterService service = new CounterService(channel); // finds REDIRECT at the top
            channel.connect(clusterName + ".cs");
            return new CounterServiceNode(channel, raft, service);
        } catch (Exception e) {
            channel.close();
            throw e;
        }
    }

    /** The leader's raft id as this node knows it, or null. */
    String leaderName() {
        Address leader = raft.leader();
        return leader == null ? null : Utils.extractRaftId(leader);
    }

    /** The benchmark's counter, created in the log on first use. */
    RaftSyncCounter counter() throws Exception {
        RaftSyncCounter c = counter;
        if (c == null) {
            c = service.getOrCreateCounter("bench", 0);
            counter = c;
        }
        return c;
    }

    @Override
    public void close() {
        channel.close();
    }
}
