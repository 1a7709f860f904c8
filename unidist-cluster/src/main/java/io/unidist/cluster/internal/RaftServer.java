package io.unidist.cluster.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jgroups.Address;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.View;
import org.jgroups.protocols.raft.RAFT;
import org.jgroups.protocols.raft.Role;
import org.jgroups.raft.util.Utils;
import org.jgroups.util.ByteArrayDataOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A voter's half of the cluster: the raft channel (voters only) with the state machine, and
 * the handling of client requests that arrive on the main channel.
 *
 * <p>Only the leader answers: it stamps each command with its clock (time enters the log as
 * data) and hands it to RAFT, which batches, replicates, fsyncs and applies it. A follower
 * answers "not leader" with the leader's name, and the client goes there.
 *
 * <p>The leader also turns membership into log entries: when a node leaves the main channel's
 * view (crash, partition, shutdown), it commits the expiry of that node's sessions, which frees
 * its leases on every replica alike.
 */
final class RaftServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RaftServer.class);
    /** A session this young is not expired by a periodic check: its node may still be joining our view. */
    private static final long SESSION_GRACE_MILLIS = 2_000;

    private final String self;
    private final WarnEverySecond refused = new WarnEverySecond(log);
    private final String clusterName;
    private final JChannel raftChannel;
    private final UnidistRaft raft;
    private final UnidistStateMachine sm;
    private final JChannel main;
    private final ExecutorService replies;
    private final ScheduledExecutorService reconciler;
    private volatile View mainView;
    /** The main view's members by {@link Wire#addressKey}: a push finds its node without a pass over the view. */
    private volatile java.util.Map<String, Address> membersByKey = java.util.Map.of();
    /**
     * The first entry of the current leader's term: it expires the sessions of nodes absent from
     * the view (after a restart of the whole cluster, every session from before), and client
     * commands are appended only after it has committed, so none sees a lease from before.
     */
    private record TermStart(long term, CompletableFuture<byte[]> committed) { }

    private volatile TermStart termStart = new TermStart(-1, CompletableFuture.completedFuture(null));
    /** The expiry in flight, so that a slow commit is not submitted again every second. */
    private volatile CompletableFuture<byte[]> expiring = CompletableFuture.completedFuture(null);
    private volatile CompletableFuture<byte[]> ticking = CompletableFuture.completedFuture(null);
    /** The commit index at the previous check of the followers. */
    private long commitAtLastCheck = Long.MAX_VALUE;

    RaftServer(String self, String clusterName, JChannel raftChannel, JChannel main) {
        this.self = self;
        this.clusterName = clusterName;
        this.raftChannel = raftChannel;
        this.main = main;
        RAFT found = raftChannel.getProtocolStack().findProtocol(RAFT.class);
        if (!(found instanceof UnidistRaft unidistRaft)) {
            throw new IllegalStateException(self + ": the raft channel has " + found + " where UnidistRaft belongs");
        }
        this.raft = unidistRaft;
        this.sm = new UnidistStateMachine(self);
        raft.stateMachine(sm);
        sm.events(new UnidistStateMachine.Events() {
            @Override
            public void granted(String address, long session, LockTable.Holder holder) {
                push(address, a -> Wire.granted(a, session, holder));
            }

            @Override
            public void delivered(String address, QueueTable.Delivery delivery) {
                push(address, a -> Wire.delivered(a, delivery));
            }

            @Override
            public void changed(String address, StateTable.Change change) {
                push(address, a -> Wire.changed(a, change));
            }
        });
        this.replies = Executors.newSingleThreadExecutor(daemon("unidist-replies-" + self));
        this.reconciler = Executors.newSingleThreadScheduledExecutor(daemon("unidist-sessions-" + self));
        raft.addRoleListener(this::roleChanged);
    }

    void start() throws Exception {
        raftChannel.connect(clusterName + ".raft");
        reconciler.scheduleWithFixedDelay(this::expireAbsentSessions, 1, 1, TimeUnit.SECONDS);
        reconciler.scheduleWithFixedDelay(this::resendToLaggingFollowers, 100, 100, TimeUnit.MILLISECONDS);
        reconciler.scheduleWithFixedDelay(this::tickIfDue, 50, 50, TimeUnit.MILLISECONDS);
        reconciler.scheduleWithFixedDelay(this::electIfLeaderless, 200, 200, TimeUnit.MILLISECONDS);
    }

    /**
     * jgroups-raft 1.1.4 resends missing entries to a follower that is behind (it joined late,
     * or was down) only when its request queue has been idle for {@code resend_interval}: under
     * a steady stream of requests that never happens, the follower never catches up, and when
     * another voter fails the group cannot commit at all. So the leader has RAFT's thread flush
     * its commit table, which sends each follower what it lacks (and nothing to one that is
     * current).
     */
    private void resendToLaggingFollowers() {
        try {
            if (!raft.isLeader() || raft.commitTable() == null) {
                commitAtLastCheck = Long.MAX_VALUE;
                return;
            }
            // only for a follower that has not even reached what was committed 100 ms ago;
            // the flush itself runs on RAFT's thread (UnidistRaft.requestFlush)
            boolean stuck = false;
            for (Address member : raft.commitTable().keys()) {
                org.jgroups.raft.util.CommitTable.Entry e = raft.commitTable().get(member);
                if (e != null && e.matchIndex() < commitAtLastCheck) {
                    stuck = true;
                }
            }
            commitAtLastCheck = raft.commitIndex();
            if (stuck) {
                raft.requestFlush();
            }
        } catch (RuntimeException e) {
            log.debug("{}: resending to followers failed: {}", self, e.toString());
        }
    }

    private void electIfLeaderless() {
        try {
            raft.electIfLeaderless();
        } catch (RuntimeException e) {
            log.debug("{}: starting an election failed: {}", self, e.toString());
        }
    }

    boolean isLeader() {
        return raft.isLeader();
    }

    String leaderName() {
        Address leader = raft.leader();
        return leader == null ? null : Utils.extractRaftId(leader);
    }

    /** Test and status access to the state machine. */
    UnidistStateMachine stateMachine() {
        return sm;
    }

    RAFT raft() {
        return raft;
    }

    /** Handles a client request that arrived on the main channel; the answer goes back as one RESPONSE. */
    void handle(Address from, long requestId, byte[] command) {
        serve(new byte[][] {command}).thenAccept(out -> send(Wire.response(from, requestId, out[0])));
    }

    /**
     * Handles a client's REQUESTS message: its writes enter the log as one entry (group commit:
     * one append, one fsync, one replication message for all of them), and every answer goes back
     * in one RESPONSES message once the last is known.
     */
    void handleBatch(Address from, long[] ids, byte[][] commands) {
        serve(commands).thenAccept(out -> send(Wire.responses(from, ids, out)));
    }

    /**
     * The outcome of each command, in order. Whether a command may skip the log is decided from
     * its op: a write that claimed to be a read would otherwise be applied on the leader alone,
     * and the replicas would differ. A command this node cannot read never reaches the replicas.
     */
    private CompletableFuture<Wire.Outcome[]> serve(byte[][] commands) {
        Wire.Outcome[] out = new Wire.Outcome[commands.length];
        List<Integer> valid = new ArrayList<>(commands.length);
        for (int i = 0; i < commands.length; i++) {
            byte[] command = commands[i];
            Op op = Cmd.peekOp(command);
            if (op == null || command.length < Cmd.HEADER_BYTES || command[2] != Cmd.VERSION) {
                String why = op == null ? "an unknown command id"
                        : command.length < Cmd.HEADER_BYTES ? "a command shorter than its header"
                        : "command version " + command[2] + " (this node reads " + Cmd.VERSION + ")";
                refused.warn("{}: refused a request: {}", self, why);
                out[i] = Wire.Outcome.answered(Reply.error(Reply.MALFORMED, "malformed command: " + why));
            } else {
                valid.add(i);
            }
        }
        if (valid.isEmpty()) {
            return CompletableFuture.completedFuture(out);
        }
        if (!raft.isLeader()) {
            return CompletableFuture.completedFuture(fill(out, valid, notLeader()));
        }
        CompletableFuture<byte[]> started = beginTerm(raft.currentTerm()).committed();
        if (!started.isDone()) {
            // off RAFT's thread, which completes the future: serving appends, and may wait for room
            return started.handleAsync((r, e) -> e == null ? serve(commands)
                    : CompletableFuture.completedFuture(fill(out, valid, notLeader())), reconciler)
                    .thenCompose(f -> f);
        }
        // a leader new to its term reads through the log until it commits an entry of that term
        boolean readsSkipLog = raft.readsFromCommitIndex();
        long now = System.currentTimeMillis();
        List<CompletableFuture<?>> parts = new ArrayList<>();
        List<Integer> writes = new ArrayList<>();
        for (int i : valid) {
            if (readsSkipLog && Cmd.peekOp(commands[i]).read) {
                int at = i;
                parts.add(submit(entry(Cmd.READ_FORMAT, now, commands[i]), true)
                        .handle((answer, error) -> out[at] = outcome(answer, error)));
            } else {
                writes.add(i);
            }
        }
        if (writes.size() == 1) {
            int at = writes.get(0);
            parts.add(submit(entry(Cmd.ENTRY_FORMAT, now, commands[at]), false)
                    .handle((answer, error) -> out[at] = outcome(answer, error)));
        } else if (writes.size() > 1) {
            List<byte[]> batch = new ArrayList<>(writes.size());
            writes.forEach(i -> batch.add(commands[i]));
            parts.add(submit(Cmd.batchEntry(now, batch), false).handle((answer, error) -> {
                byte[][] answers = null;
                Throwable failure = error;
                if (failure == null) {
                    try {
                        answers = Cmd.readAnswers(answer, writes.size());
                    } catch (java.io.IOException e) {
                        failure = e; // the state machine refused the entry as a whole
                        log.warn("{}: a batch entry was refused: {}", self, e.toString());
                    }
                }
                for (int k = 0; k < writes.size(); k++) {
                    out[writes.get(k)] = failure == null ? outcome(answers[k], null)
                            : error != null ? outcome(null, error)
                            : Wire.Outcome.answered(Reply.error(Reply.MALFORMED, "malformed batch: " + failure.getMessage()));
                }
                return null;
            }));
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(v -> out);
    }

    /** Hands an entry (or a read) to RAFT; a refusal (not the leader any more) comes back as a failed future. */
    private CompletableFuture<byte[]> submit(ByteArrayDataOutputStream entry, boolean read) {
        try {
            return read ? raft.getAsync(entry.buffer(), 0, entry.position(), null)
                    : raft.setAsync(entry.buffer(), 0, entry.position(), null);
        } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private Wire.Outcome outcome(byte[] answer, Throwable error) {
        if (error == null) {
            return Wire.Outcome.answered(answer == null ? Reply.okEmpty() : answer);
        }
        log.debug("{}: a request failed: {}", self, error.toString());
        String writeFailure = raft.recentWriteFailure();
        // the client tries the others, and names this if none answers: a full disk is not a lost quorum
        return writeFailure != null ? new Wire.Outcome(Wire.UNAVAILABLE, null, self + ": " + writeFailure) : notLeader();
    }

    private Wire.Outcome notLeader() {
        return new Wire.Outcome(Wire.NOT_LEADER, null, raft.isLeader() ? null : leaderName());
    }

    private static Wire.Outcome[] fill(Wire.Outcome[] out, List<Integer> at, Wire.Outcome outcome) {
        at.forEach(i -> out[i] = outcome);
        return out;
    }

    /** The main channel's view changed: a node that left loses its sessions. */
    void mainViewChanged(View view) {
        View previous = mainView;
        java.util.Map<String, Address> byKey = new java.util.HashMap<>();
        view.getMembers().forEach(a -> byKey.put(Wire.addressKey(a), a));
        membersByKey = byKey;
        mainView = view;
        if (previous != null && raft.isLeader()) {
            Set<String> left = new HashSet<>();
            for (Address a : previous.getMembers()) {
                if (!view.containsMember(a)) {
                    left.add(Wire.addressKey(a));
                }
            }
            if (!left.isEmpty()) {
                try {
                    reconciler.execute(this::expireAbsentSessionsNow);
                } catch (java.util.concurrent.RejectedExecutionException closed) {
                    // this server is closing: the next leader expires them
                }
            }
        }
    }

    private void roleChanged(Role role) {
        log.info("{}: raft role is now {}", self, role);
        if (role == Role.Leader) {
            try {
                reconciler.execute(() -> beginTerm(raft.currentTerm()));
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                // this server is closing
            }
        }
    }

    /** The start entry of {@code term}, submitted now if it is not in flight or committed. */
    private synchronized TermStart beginTerm(long term) {
        TermStart start = termStart;
        if (start.term() == term && !start.committed().isCompletedExceptionally()) {
            return start;
        }
        List<Long> gone = absentSessions(Long.MAX_VALUE);
        CompletableFuture<byte[]> committed;
        try {
            committed = submitExpiry(gone);
        } catch (Exception e) {
            committed = CompletableFuture.failedFuture(e);
        }
        log.info("{}: leader in term {}; its first entry expires {} session(s) of nodes not in the view", self, term,
                gone.size());
        termStart = new TermStart(term, committed);
        return termStart;
    }

    private void expireAbsentSessions() {
        try {
            expire(System.currentTimeMillis() - SESSION_GRACE_MILLIS);
        } catch (RuntimeException e) {
            log.warn("{}: checking sessions failed: {}", self, e.toString());
        }
    }

    private void expireAbsentSessionsNow() {
        try {
            expire(Long.MAX_VALUE);
        } catch (RuntimeException e) {
            log.warn("{}: checking sessions failed: {}", self, e.toString());
        }
    }

    /** The sessions opened before {@code openedBefore} whose nodes are not in the main view. */
    private List<Long> absentSessions(long openedBefore) {
        if (mainView == null) {
            return List.of();
        }
        return sm.sessionsAbsentFrom(membersByKey.keySet(), openedBefore);
    }

    private CompletableFuture<byte[]> submitExpiry(List<Long> sessions) throws Exception {
        ByteArrayDataOutputStream cmd = Cmd.start(Op.EXPIRE_SESSIONS, 0, 0, 0);
        cmd.writeInt(sessions.size());
        sessions.forEach(cmd::writeLong);
        ByteArrayDataOutputStream entry = entry(Cmd.ENTRY_FORMAT, cmd.buffer(), cmd.position());
        return raft.setAsync(entry.buffer(), 0, entry.position(), null);
    }

    /** A log entry (or a read) as the state machine takes it: format, the leader's clock, the command. */
    private static ByteArrayDataOutputStream entry(byte format, byte[] command, int length) {
        return entry(format, System.currentTimeMillis(), command, length);
    }

    private static ByteArrayDataOutputStream entry(byte format, long now, byte[] command) {
        return entry(format, now, command, command.length);
    }

    private static ByteArrayDataOutputStream entry(byte format, long now, byte[] command, int length) {
        ByteArrayDataOutputStream entry = new ByteArrayDataOutputStream(length + 9);
        entry.writeByte(format);
        entry.writeLong(now);
        entry.write(command, 0, length);
        return entry;
    }

    private void expire(long openedBefore) {
        if (mainView == null || !raft.isLeader() || !expiring.isDone() || !termStart.committed().isDone()) {
            return;
        }
        List<Long> gone = absentSessions(openedBefore);
        if (gone.isEmpty()) {
            return;
        }
        log.info("{}: expiring {} session(s) of nodes no longer in the view: {}", self, gone.size(), gone);
        try {
            expiring = submitExpiry(gone);
            expiring.whenComplete((r, e) -> {
                if (e != null) {
                    log.info("{}: expiring sessions {} did not commit: {}", self, gone, e.toString());
                }
            });
        } catch (Exception e) {
            log.info("{}: expiring sessions {} not submitted: {}", self, gone, e.toString());
        }
    }

    /** Only the leader tells clients; every replica applies the same entries. */
    private void push(String address, java.util.function.Function<Address, Message> message) {
        if (!raft.isLeader()) {
            return;
        }
        Address a = membersByKey.get(address);
        if (a != null) {
            send(message.apply(a));
        }
    }

    /**
     * Commits a tick when a delay, visibility timeout or time-to-live is due by the leader's
     * clock: the state machine moves time only with entries, and a tick is the entry that
     * says "it is now this late" to every replica at once.
     */
    private void tickIfDue() {
        try {
            if (!raft.isLeader() || !ticking.isDone()) {
                return;
            }
            long now = System.currentTimeMillis();
            if (sm.nextDeadline() > now) {
                return;
            }
            ByteArrayDataOutputStream cmd = Cmd.start(Op.TICK, 0, 0, 0);
            ByteArrayDataOutputStream entry = entry(Cmd.ENTRY_FORMAT, cmd.buffer(), cmd.position());
            ticking = raft.setAsync(entry.buffer(), 0, entry.position(), null);
        } catch (Exception e) {
            log.debug("{}: tick not submitted: {}", self, e.toString());
        }
    }

    private void send(Message msg) {
        try {
            replies.execute(() -> {
                try {
                    main.send(msg);
                } catch (Exception e) {
                    log.debug("{}: cannot send to {}: {}", self, msg.getDest(), e.toString());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // the server is closing: the client will time out and retry elsewhere
        }
    }

    @Override
    public void close() {
        stopThreads();
        raftChannel.close();
    }

    /**
     * A crash, for tests: the raft channel stops sending first (so no goodbye reaches the other
     * voters), then closes; the others find out by failure detection, as after {@code kill -9}.
     */
    void crashForTest() {
        stopThreads();
        try {
            org.jgroups.util.Util.shutdown(raftChannel);
        } catch (Exception e) {
            raftChannel.close();
        }
    }

    private void stopThreads() {
        reconciler.shutdownNow();
        replies.shutdown();
        try {
            replies.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
