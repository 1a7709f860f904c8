package io.unidist.cluster.internal;

import io.unidist.ClusterUnavailableException;
import io.unidist.MessageQueue;
import io.unidist.Persistence;
import io.unidist.QueueOptions;
import io.unidist.SharedCounter;
import io.unidist.SharedLock;
import io.unidist.SharedState;
import io.unidist.Unidist;
import io.unidist.UnidistException;
import io.unidist.cluster.ClusterConfig;
import io.unidist.internal.Names;
import io.unidist.internal.Opening;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.jgroups.Address;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.View;
import org.jgroups.util.ByteArrayDataInputStream;
import org.jgroups.util.ByteArrayDataOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A clustered node: the main channel, the client that reaches the Raft leader, this node's
 * session, and (on a voter) the {@link RaftServer}.
 *
 * <p><b>Session.</b> The node opens a session on first use; every write carries it with a
 * sequence number, so that the state machine applies a retried write once. The session ends
 * when the node closes or leaves the cluster's view; then its leases are released on every
 * replica. If it ended behind the node's back (a partition), the next call sees it, the
 * node's leases are marked lost, and a new session is opened.
 */
public final class ClusterNode implements Unidist {
    private static final Logger log = LoggerFactory.getLogger(ClusterNode.class);

    private static final long MIN_ATTEMPT_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(500);

    private final ClusterConfig config;
    private final String self;
    private final JChannel main;
    private final ClusterClient client;
    private final Session session;
    private final Leases leases;
    private final RaftServer server;
    private final Map<String, ClusterLock> locks = new ConcurrentHashMap<>();
    private final Map<String, ClusterCounter> counters = new ConcurrentHashMap<>();
    private final Map<String, ClusterState<?>> states = new ConcurrentHashMap<>();
    private final Map<String, ClusterQueue<?>> queues = new ConcurrentHashMap<>();
    private final Map<Long, DeliveryHandler> deliveries = new ConcurrentHashMap<>();
    private final Watches watches;
    private final Messaging messaging;
    private volatile boolean closed;
    private final WarnEverySecond drops = new WarnEverySecond(log);

    private ClusterNode(ClusterConfig config, JChannel main, RaftServer server, Duration leaseTimeout) {
        this.config = config;
        this.self = config.nodeName();
        this.main = main;
        this.server = server;
        this.client = new ClusterClient(self, main, config.voters());
        this.session = new Session(this);
        this.leases = new Leases(this, leaseTimeout);
        this.watches = new Watches(this);
        this.messaging = new Messaging(self, config.voters(), main);
    }

    /**
     * How long a join keeps trying while the view still lists an earlier incarnation of this node
     * (a crash the others have not detected yet): longer than any bundled failure detection.
     */
    private static final Duration REJOIN_WAIT = Duration.ofSeconds(30);

    /** Joins the cluster; see {@link io.unidist.cluster.UnidistCluster#join}. */
    public static Unidist join(ClusterConfig config) {
        Objects.requireNonNull(config, "config");
        Names.check(config.nodeName(), "node");
        Stacks stacks = Stacks.load(config.jgroupsConfig(), config.properties());
        long deadline = System.nanoTime() + REJOIN_WAIT.toNanos();
        boolean told = false;
        while (true) {
            try {
                return joinOnce(config, stacks);
            } catch (UnidistException e) {
                if (!earlierIncarnationInView(e) || System.nanoTime() - deadline > 0) {
                    throw e;
                }
                if (!told) {
                    log.info("{}: the cluster still lists an earlier {} (a crash not detected yet); joining again when"
                            + " it has left, for up to {} s", config.nodeName(), config.nodeName(), REJOIN_WAIT.toSeconds());
                    told = true;
                }
                try {
                    Thread.sleep(500); // pacing: failure detection takes seconds
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** Whether NO_DUPES refused the join because a member of the same name is still in the view. */
    private static boolean earlierIncarnationInView(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SecurityException && String.valueOf(t.getMessage()).contains("duplicate members")) {
                return true;
            }
        }
        return false;
    }

    private static Unidist joinOnce(ClusterConfig config, Stacks stacks) {
        JChannel main = null;
        RaftServer server = null;
        try {
            main = stacks.newMainChannel();
            main.name(config.nodeName());
            if (config.isVoter()) {
                JChannel raftChannel = stacks.newRaftChannel(config.nodeName(), config.voters(),
                        config.dataDir().resolve("raft"), config.raftLogMaxBytes(), config.raftPortOffset());
                raftChannel.name(config.nodeName());
                org.jgroups.protocols.raft.RAFT raft = raftChannel.getProtocolStack()
                        .findProtocol(org.jgroups.protocols.raft.RAFT.class);
                raft.logUseFsync(config.raftFsync());
                // the log checks at start that its directory holds this cluster's and this voter's log
                raft.logArgs(RaftLogFiles.args(config.clusterName(), config.nodeName()));
                server = new RaftServer(config.nodeName(), config.clusterName(), raftChannel, main);
            }
            Duration leaseTimeout = leaseTimeout(config, main, stacks.source());
            ClusterNode node = new ClusterNode(config, main, server, leaseTimeout);
            main.setReceiver(node.receiver());
            main.connect(config.clusterName());
            node.client.viewChanged(main.getView());
            node.messaging.viewChanged(main.getView());
            if (server != null) {
                server.mainViewChanged(main.getView());
                server.start();
            }
            node.leases.start();
            log.info("{}: joined cluster '{}' as a {} ({} members in view)", config.nodeName(), config.clusterName(),
                    server != null ? "voter" : "non-voter", main.getView().size());
            return node;
        } catch (UnidistException | IllegalArgumentException e) {
            closeQuietly(server, main);
            throw e;
        } catch (Exception e) {
            closeQuietly(server, main);
            throw new UnidistException(config.nodeName() + ": cannot join cluster '" + config.clusterName()
                    + "' with " + stacks.source() + ": " + e, e);
        }
    }

    /**
     * The configured lease timeout, by default half the failure-detection timeout: a holder cut off
     * from the majority must see its lease lost before the majority, after that timeout, hands the
     * lease to someone else. A configured one that is not shorter breaks that, and is refused.
     */
    private static Duration leaseTimeout(ClusterConfig config, JChannel main, String source) {
        org.jgroups.protocols.FD_ALL3 fd = main.getProtocolStack().findProtocol(org.jgroups.protocols.FD_ALL3.class);
        Duration detection = Duration.ofMillis(fd == null ? 8_000 : fd.getTimeout());
        Duration configured = config.leaseTimeout();
        if (configured == null) {
            return Duration.ofMillis(Math.max(200, detection.toMillis() / 2));
        }
        if (configured.compareTo(detection) >= 0) {
            throw new IllegalArgumentException("leaseTimeout " + configured + " must be shorter than the failure-detection"
                    + " timeout (FD_ALL3 timeout " + detection + " in " + source + "): a holder cut off from the majority"
                    + " would still trust its lease after the majority had given it to another node");
        }
        return configured;
    }

    private Receiver receiver() {
        return new Receiver() {
            @Override
            public void receive(Message msg) {
                onMessage(msg);
            }

            @Override
            public void viewAccepted(View view) {
                client.viewChanged(view);
                messaging.viewChanged(view);
                if (server != null) {
                    server.mainViewChanged(view);
                }
                log.debug("{}: view {}", self, view);
            }
        };
    }

    private void onMessage(Message msg) {
        if (!msg.hasArray()) {
            dropped(msg, new IOException("a " + msg.getClass().getSimpleName() + ": unidist sends byte messages only"));
            return;
        }
        try {
            if (msg.getLength() < Wire.HEADER_BYTES) {
                // before the stream is made: JGroups' stream refuses an empty array with an unchecked exception
                throw new IOException("message of " + msg.getLength() + " bytes is too short");
            }
            ByteArrayDataInputStream in = new ByteArrayDataInputStream(msg.getArray(), msg.getOffset(), msg.getLength());
            byte type = Wire.open(in);
            switch (type) {
                case Wire.REQUEST -> {
                    long id = in.readLong();
                    byte[] command = Wire.readCommand(in);
                    if (server != null) {
                        server.handle(msg.getSrc(), id, command);
                    } else {
                        main.send(Wire.notLeader(msg.getSrc(), id, null));
                    }
                }
                case Wire.REQUESTS -> {
                    int n = Wire.readCount(in);
                    long[] ids = new long[n];
                    byte[][] commands = new byte[n][];
                    for (int i = 0; i < n; i++) {
                        ids[i] = in.readLong();
                        commands[i] = Wire.readCommand(in);
                    }
                    if (server != null) {
                        server.handleBatch(msg.getSrc(), ids, commands);
                    } else {
                        Wire.Outcome[] notLeader = new Wire.Outcome[n];
                        java.util.Arrays.fill(notLeader, new Wire.Outcome(Wire.NOT_LEADER, null, null));
                        main.send(Wire.responses(msg.getSrc(), ids, notLeader));
                    }
                }
                case Wire.RESPONSE -> client.responded(in);
                case Wire.RESPONSES -> client.respondedBatch(in);
                case Wire.GRANTED -> leases.grantArrived(in.readLong(), in.readUTF(), in.readLong(), in.readLong(),
                        in.readLong());
                case Wire.DELIVERED -> {
                    long sessionId = in.readLong();
                    long seq = in.readLong();
                    in.readUTF();
                    in.readBoolean();
                    long id = in.readLong();
                    int attempt = in.readInt();
                    byte[] payload = Wire.readBytes(in);
                    DeliveryHandler handler = deliveries.get(seq);
                    if (handler != null && sessionId == session.currentId()) {
                        handler.delivered(id, attempt, payload);
                    }
                }
                case Wire.CHANGED -> {
                    String bucket = in.readUTF();
                    long version = in.readLong();
                    String key = in.readUTF();
                    byte[] value = in.readBoolean() ? Wire.readBytes(in) : null;
                    watches.pushed(bucket, version, key, value);
                }
                case Wire.APP -> messaging.received(msg.getSrc(), in);
                default -> throw new IOException("unknown message type " + type);
            }
        } catch (Exception e) {
            dropped(msg, e);
        }
    }

    /** Counts a dropped message and logs it, at WARN at most once a second: a peer sending garbage cannot flood the log. */
    private void dropped(Message msg, Exception why) {
        drops.warn("{}: dropped a malformed message from {}: {}", self, msg.getSrc(), why.toString());
    }

    /** How many main-channel messages this node dropped as malformed (for tests and status). */
    long droppedMessages() {
        return drops.count();
    }

    // ----- calls, used by the primitives

    /** An OK reply, and the session the write ran in. */
    record Answer(long session, ByteArrayDataInputStream in) { }

    /** Runs a write in this node's session and returns the opened OK reply. */
    ByteArrayDataInputStream write(Op op, Consumer<ByteArrayDataOutputStream> body, Duration timeout, String what) {
        long seq = session.nextSeq();
        try {
            return writeWithSeq(op, seq, body, timeout, what).in();
        } finally {
            session.done(seq);
        }
    }

    /** Runs a write with a seq the caller took from {@link Session#nextSeq()} and will hand back. */
    Answer writeWithSeq(Op op, long seq, Consumer<ByteArrayDataOutputStream> body, Duration timeout, String what) {
        ensureOpen();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long sessionId = session.id(timeout, what);
            ByteArrayDataOutputStream cmd = Cmd.start(op, sessionId, seq, session.lowWatermark());
            body.accept(cmd);
            long sent = System.nanoTime();
            // opening a session may have used most of the time: the request itself still gets a fair try
            long left = Math.max(deadline - sent, MIN_ATTEMPT_NANOS);
            ClusterClient.Result result = call(Reply.bytes(cmd), Duration.ofNanos(left), what);
            try {
                ByteArrayDataInputStream in = Reply.open(result.answer(), what);
                leases.confirmed(sessionId, sent);
                return new Answer(sessionId, in);
            } catch (Reply.SessionExpiredException e) {
                session.expired(sessionId);
                if (result.sends() > 1 || deadline - System.nanoTime() <= 0) {
                    // an earlier send may have been applied before the session ended: the outcome is unknown
                    throw new ClusterUnavailableException(what + ": this node's session expired (it was cut off from"
                            + " the majority); its leases are lost and the outcome of this call is unknown", e);
                }
                // refused at its only send, so never applied: safe to run again in a new session
            }
        }
    }

    /** Runs a linearizable read and returns the opened OK reply. */
    ByteArrayDataInputStream read(Op op, long sessionId, Consumer<ByteArrayDataOutputStream> body, Duration timeout,
            String what) {
        ensureOpen();
        ByteArrayDataOutputStream cmd = Cmd.start(op, sessionId, 0, 0);
        body.accept(cmd);
        return Reply.open(call(Reply.bytes(cmd), timeout, what).answer(), what);
    }

    ClusterClient.Result call(byte[] command, Duration timeout, String what) {
        try {
            return client.call(command, timeout, what);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterUnavailableException(what + ": interrupted; the outcome is unknown", e);
        }
    }

    Duration timeout() {
        return config.operationTimeout();
    }

    String self() {
        return self;
    }

    String addressKey() {
        return Wire.addressKey(main.getAddress());
    }

    Session session() {
        return session;
    }

    Leases leases() {
        return leases;
    }

    boolean isClosed() {
        return closed;
    }

    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("unidist node '" + self + "' is closed");
        }
    }

    // ----- the Unidist API

    @Override
    public String nodeName() {
        return self;
    }

    @Override
    public SharedLock lock(String name) {
        return semaphore(name, 1);
    }

    @Override
    public SharedLock semaphore(String name, int permits) {
        ensureOpen();
        return Opening.semaphore(locks, name, permits, n -> new ClusterLock(this, n, permits));
    }

    @Override
    public SharedCounter counter(String name) {
        Names.check(name, "counter");
        ensureOpen();
        return counters.computeIfAbsent(name, n -> new ClusterCounter(this, n));
    }

    @Override
    public SharedCounter counter(String name, Persistence persistence) {
        Objects.requireNonNull(persistence, "persistence");
        if (persistence.mode() == Persistence.Mode.NONE) {
            throw new IllegalArgumentException("counter '" + name + "': a clustered counter is always kept in the"
                    + " Raft log; persistence none is not available");
        }
        return counter(name);
    }

    @Override
    public <V> SharedState<V> state(String bucket, Class<V> valueType) {
        return state(bucket, valueType, Persistence.archive());
    }

    /**
     * {@inheritDoc}
     *
     * <p>In a cluster every bucket is kept in the Raft log and its snapshots (whatever
     * {@code persistence} says, except that {@link Persistence#none()} is refused): it survives
     * a restart of the whole cluster.
     */
    @Override
    @SuppressWarnings("unchecked")
    public <V> SharedState<V> state(String bucket, Class<V> valueType, Persistence persistence) {
        Names.check(bucket, "bucket");
        Objects.requireNonNull(valueType, "valueType");
        refuseNone(persistence, "bucket '" + bucket + "'");
        io.unidist.internal.serial.ValueCodec.checkStorableType(valueType, "bucket '" + bucket + "'");
        ensureOpen();
        ClusterState<?> state = states.computeIfAbsent(bucket, n -> new ClusterState<>(this, n, valueType));
        Opening.sameType("bucket '" + bucket + "'", state.valueType(), valueType, "values");
        return (SharedState<V>) state;
    }

    @Override
    public <T> MessageQueue<T> queue(String name, Class<T> messageType) {
        return queue(name, messageType, null);
    }

    /**
     * {@inheritDoc}
     *
     * <p>In a cluster every queue is kept in the Raft log and its snapshots; its options are
     * fixed by the first node that opens it, and a node that opens it with others gets
     * {@link IllegalArgumentException}. Opening a queue needs a majority (its options are
     * checked there).
     */
    @Override
    @SuppressWarnings("unchecked")
    public <T> MessageQueue<T> queue(String name, Class<T> messageType, QueueOptions options) {
        Opening.QueueName parsed = Opening.QueueName.parse(name);
        Objects.requireNonNull(messageType, "messageType");
        io.unidist.internal.serial.ValueCodec.checkStorableType(messageType, "queue '" + name + "'");
        boolean dead = parsed.dead();
        String base = parsed.base();
        QueueOptions wanted = options == null ? QueueOptions.defaults() : options;
        refuseNone(wanted.persistence(), "queue '" + name + "'");
        ensureOpen();
        ClusterQueue<?> queue = queues.computeIfAbsent(name, n -> {
            ClusterQueue<T> q = new ClusterQueue<>(this, base, dead, messageType, wanted);
            q.declare(options != null);
            return q;
        });
        Opening.sameType("queue '" + name + "'", queue.messageType(), messageType, "messages");
        if (options != null && !queue.options().equals(options)) {
            throw new IllegalArgumentException("queue '" + name + "' is open with " + queue.options()
                    + ", cannot open it with " + options);
        }
        return (MessageQueue<T>) queue;
    }

    private static void refuseNone(Persistence persistence, String what) {
        Objects.requireNonNull(persistence, "persistence");
        if (persistence.mode() == Persistence.Mode.NONE) {
            throw new IllegalArgumentException(what + ": a clustered primitive is always kept in the Raft log;"
                    + " persistence none is not available");
        }
    }

    /** What a poll waiting for a push does with the delivery. */
    interface DeliveryHandler {
        void delivered(long id, int attempt, byte[] payload);
    }

    void expectDelivery(long seq, DeliveryHandler handler) {
        deliveries.put(seq, handler);
    }

    void forgetDelivery(long seq) {
        deliveries.remove(seq);
    }

    Watches watches() {
        return watches;
    }

    /** Direct messages to other members (see {@link io.unidist.cluster.UnidistCluster#messaging}). */
    public io.unidist.cluster.ClusterMessaging messaging() {
        return messaging;
    }

    /** This voter's Raft server, or null on a non-voter (for tests and status). */
    RaftServer server() {
        return server;
    }

    /** Whether this node is the Raft leader now (for tests and status). */
    public boolean isLeader() {
        return server != null && server.isLeader();
    }

    /** The leader's name as this node knows it, or null. */
    public String leaderName() {
        return server != null ? server.leaderName() : client.leaderHint();
    }

    /** The main channel (for tests that inject faults). */
    public JChannel mainChannel() {
        return main;
    }

    /** The raft channel of a voter, or null (for tests that inject faults). */
    public JChannel raftChannel() {
        return server == null ? null : server.raft().getProtocolStack().getChannel();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        try {
            session.close(Duration.ofSeconds(2));
        } catch (RuntimeException e) {
            log.info("{}: could not close the session cleanly ({}); the cluster expires it when we leave", self,
                    e.getMessage());
        }
        closed = true;
        messaging.close();
        leases.close();
        watches.close();
        closeQuietly(server, main);
        long[] sent = client.sent();
        log.info("{}: left cluster '{}' (sent {} requests in {} messages)", self, config.clusterName(), sent[1], sent[0]);
    }

    /** The client that sends this node's commands to the leader (for tests). */
    ClusterClient client() {
        return client;
    }

    /**
     * A crash, for tests: the channels stop sending, then close, without closing the session or
     * leaving the view; the others find out by failure detection, as when the process dies.
     */
    void crashForTest() {
        closed = true;
        messaging.close();
        leases.close();
        watches.close();
        if (server != null) {
            server.crashForTest();
        }
        try {
            org.jgroups.util.Util.shutdown(main);
        } catch (Exception e) {
            main.close();
        }
    }

    private static void closeQuietly(RaftServer server, JChannel main) {
        if (server != null) {
            try {
                server.close();
            } catch (RuntimeException e) {
                log.debug("closing the raft server: {}", e.toString());
            }
        }
        if (main != null) {
            main.close();
        }
    }

    @Override
    public String toString() {
        return "clustered unidist node '" + self + "' of cluster '" + config.clusterName() + "'";
    }

    /** The main-channel address of a node by name (for status). */
    Address addressOf(String node) {
        return client.addressOf(node);
    }
}
