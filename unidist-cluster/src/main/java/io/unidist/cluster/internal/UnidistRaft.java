package io.unidist.cluster.internal;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jgroups.EmptyMessage;
import org.jgroups.Message;
import org.jgroups.ObjectMessage;
import org.jgroups.protocols.raft.AppendEntriesRequest;
import org.jgroups.protocols.raft.AppendEntriesResponse;
import org.jgroups.protocols.raft.AppendResult;
import org.jgroups.protocols.raft.Leader;
import org.jgroups.protocols.raft.LogEntries;
import org.jgroups.protocols.raft.RaftHeader;
import org.jgroups.protocols.raft.RaftImpl;
import org.jgroups.util.Bits;
import org.jgroups.protocols.raft.Log;
import org.jgroups.protocols.raft.LogEntry;
import org.jgroups.protocols.raft.RAFT;
import org.jgroups.raft.util.LogCache;
import org.jgroups.util.ByteArrayDataOutputStream;

/**
 * jgroups-raft's RAFT protocol with snapshots that neither stall the group for long nor copy
 * the state into memory; the voters' raft channel uses it in place of RAFT (same header id, so
 * the wire format is RAFT's).
 *
 * <p>Why: RAFT 1.1.4 serialises the whole state machine into one growing byte array on its own
 * thread and then writes it to a file, so a large queue stops every write for seconds and a
 * voter needs room for the state two to three times. Here, when the log passes its threshold,
 * RAFT's thread only <em>freezes</em> the state machine ({@link UnidistStateMachine#freeze}:
 * the small tables serialised, the large ones' references and mutable fields copied, the
 * payload bytes shared), and a background thread streams the frozen state to the snapshot file
 * ({@link UnidistRaftLog#writeSnapshot}). The log is truncated on RAFT's thread once the file
 * is on disk; until then the log keeps every entry, so a crash at any point loses nothing.
 *
 * <p>Restart streams the snapshot from the file into the state machine. A snapshot sent to a
 * lagging follower is still written synchronously and sent whole, as RAFT does.
 *
 * <p>The log threshold follows the state: after a snapshot of S bytes the next one is taken
 * after max(configured threshold, 2 S) bytes of log, so that a large state is not rewritten
 * every few writes.
 *
 * <p>What the snapshots cost is counted ({@link #snapshotStats()}): the time RAFT's thread spent
 * freezing, the time of the write and of the truncation, and the load at start. The counters
 * are for diagnostics and the cluster benchmark; they change nothing.
 */
public class UnidistRaft extends RAFT {
    private final Object snapshotLock = new Object();
    private ExecutorService writer;
    private Future<Written> pending;
    private long pendingIndex;
    private long configuredMaxLogSize = -1;
    private volatile long lastSnapshotBytes = -1;
    private final Object statsLock = new Object();
    private final Timing freezes = new Timing();
    private final Timing writes = new Timing();
    private final Timing truncations = new Timing();
    private long snapshotsWritten;
    private long synchronousSnapshots;
    private long failedSnapshots;
    private long lastSnapshotIndex = -1;
    private long loadNanos = -1;
    private long replayNanos = -1;
    private long replayedEntries;

    /**
     * The count, last, longest and total of one kind of step, in nanoseconds; -1 for last and
     * longest while the count is 0.
     *
     * @param count      how many times the step ran
     * @param lastNanos  the last one's time
     * @param maxNanos   the longest one's time
     * @param totalNanos the sum of all
     */
    public record Durations(long count, long lastNanos, long maxNanos, long totalNanos) { }

    /**
     * What the snapshots of this voter cost since it started.
     *
     * @param written         snapshots on disk (background and synchronous)
     * @param synchronous     of which taken by {@link #takeSnapshot} (RAFT's {@code snapshot()}, or
     *                        before sending a snapshot to a lagging follower): frozen and written
     *                        on the calling thread, RAFT's thread for both
     * @param failed          snapshots whose write failed or timed out (the log kept its entries)
     * @param lastIndex       the log index of the last snapshot written, -1 if none
     * @param lastBytes       its content size in bytes, -1 if none
     * @param freeze          the freezes of the state machine, on RAFT's thread (the stall every
     *                        write of the group waits for)
     * @param write           streaming the frozen state to the file, forced and renamed (on the
     *                        background thread unless synchronous)
     * @param truncate        truncating the log once the snapshot was on disk, on RAFT's thread
     * @param loadNanos       at start, checking and reading the snapshot into the state machine;
     *                        -1 if there was no snapshot
     * @param replayNanos     at start, applying the committed log entries after the snapshot; -1 if
     *                        the state machine was not loaded at start
     * @param replayedEntries the entries applied then (without a snapshot: the log entries read,
     *                        RAFT's internal ones included)
     */
    public record SnapshotStats(long written, long synchronous, long failed, long lastIndex, long lastBytes,
            Durations freeze, Durations write, Durations truncate, long loadNanos, long replayNanos,
            long replayedEntries) { }

    /** A file write's size and time. */
    private record Written(long bytes, long nanos) { }

    /** Accumulates one kind of {@link Durations}; guarded by {@link #statsLock}. */
    private static final class Timing {
        private long count;
        private long last = -1;
        private long max = -1;
        private long total;

        void add(long nanos) {
            count++;
            last = nanos;
            max = Math.max(max, nanos);
            total += nanos;
        }

        Durations durations() {
            return new Durations(count, last, max, total);
        }
    }

    private final java.util.concurrent.atomic.AtomicBoolean flushRequested = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Asks RAFT's own thread to send every follower the entries it lacks (or a snapshot), at the
     * end of the batch it is processing.
     *
     * <p>Why not {@link #flushCommitTable()} directly: it reads the log and the commit table and
     * may take a snapshot (for a follower behind the log's start), all of which RAFT's thread
     * changes at the same time; called from another thread, a snapshot could freeze a state
     * machine in the middle of applying an entry and label it with another index.
     */
    void requestFlush() {
        flushRequested.set(true);
        // an empty request wakes RAFT's thread if it waits for work; if the queue is full it is busy anyway
        BlockingQueue<Request> queue = processing_queue;
        if (queue != null) {
            queue.offer(new WakeUp());
        }
    }

    /** A request RAFT's batch loop skips: it only makes the thread run {@link #flushIfRequested}. */
    private static final class WakeUp extends Request {
    }

    /**
     * Orders RAFT's thread against the election's threads: a batch of requests (appends from
     * the leader, with their term check and acknowledgement) is processed as one step, and the
     * term and leader change only between batches.
     *
     * <p>Why: jgroups-raft 1.1.4 handles a vote request and a leader announcement on a JGroups
     * thread while RAFT's thread appends entries. A follower could check an append from the old
     * leader against the old term, then answer a vote for the new term with a last index that does
     * not yet count that append, then append it and acknowledge it. The old leader then commits
     * an entry that the voter did not report, and the new leader, chosen by those reports, may
     * not have it: a committed increment is lost and its value handed out again. Measured: the
     * leader-crash test saw that about once in 60 runs on a loaded machine.
     */
    private final Object termLock = new Object();

    /** The term of the entry at the commit index, as RAFT's thread last saw it. */
    private volatile long committedTerm = -1;

    @Override
    protected void process(List<Request> q) {
        synchronized (termLock) {
            try {
                super.process(q);
            } catch (UnidistRaftLog.WriteFailure e) {
                stepDown(e);
            }
            LogEntry committed = commit_index > 0 ? log_impl.get(commit_index) : null;
            committedTerm = committed == null ? -1 : committed.term();
        }
        flushIfRequested();
    }

    /** The last failed write of the log and when (System.nanoTime), or null. */
    private volatile UnidistRaftLog.WriteFailure lastWriteFailure;
    private volatile long lastWriteFailureNanos;
    private static final long RECENT_FAILURE_NANOS = TimeUnit.SECONDS.toNanos(10);

    /**
     * The message of a failed log write in the last 10 seconds, or null: what a client is told
     * when its command could not be appended (a full disk), instead of a bare "not leader".
     */
    String recentWriteFailure() {
        UnidistRaftLog.WriteFailure f = lastWriteFailure;
        return f != null && System.nanoTime() - lastWriteFailureNanos < RECENT_FAILURE_NANOS ? f.getMessage() : null;
    }

    private void noteWriteFailure(UnidistRaftLog.WriteFailure e) {
        boolean first = lastWriteFailure == null || System.nanoTime() - lastWriteFailureNanos >= RECENT_FAILURE_NANOS;
        lastWriteFailure = e;
        lastWriteFailureNanos = System.nanoTime();
        if (first) {
            log.warn("%s: %s", local_addr, e.getMessage());
        }
    }

    /**
     * The leader could not append a batch to its own log (a full disk). RAFT 1.1.4 has already
     * sent the batch to the followers, and would give the next batch the same indices in the same
     * term: a follower that took the first would keep it as the second, and the replicas would
     * differ. So the leader steps down at once and asks for an election: the new term's leader
     * (one that holds the batch, if a majority took it) settles those indices, and the failed
     * requests are answered "not leader" and retried there. Nothing was acknowledged for them.
     */
    private void stepDown(UnidistRaftLog.WriteFailure e) {
        noteWriteFailure(e);
        if (!isLeader()) {
            return;
        }
        stepDowns.warn("{}: stepping down as leader: its log cannot take entries ({})", local_addr, e.getMessage());
        steppedDown = true;
        setLeaderAndTerm(null);
        electIfLeaderless();
    }

    /** With every voter's disk full, each new leader steps down at once: once a second at WARN is enough. */
    private final WarnEverySecond stepDowns = new WarnEverySecond(org.slf4j.LoggerFactory.getLogger(UnidistRaft.class));

    /** Set when this voter stepped down for a failed write, until the group has a leader again. */
    private volatile boolean steppedDown;

    /**
     * After this voter stepped down, starts an election while the group has no leader. Elections
     * otherwise start only on view changes, and a voting round that was finishing as the leader
     * stepped down ends without one: with every voter's disk full, the group stayed leaderless after
     * the disks had room again. Called after a step-down and periodically by {@link RaftServer}.
     */
    void electIfLeaderless() {
        if (!steppedDown) {
            return;
        }
        if (leader() != null) {
            steppedDown = false;
            return;
        }
        org.jgroups.protocols.raft.election.BaseElection election =
                RAFT.findProtocol(org.jgroups.protocols.raft.election.BaseElection.class, this, true);
        if (election != null) {
            election.startVotingThread(); // a no-op while a round runs
        }
    }

    /** This voter's file log, for tests that make its writes fail; null if RAFT runs another log. */
    UnidistRaftLog unidistLog() {
        return fileLog();
    }

    /**
     * On a leader, commits only what a majority holds, and only up to an entry of its own term
     * (Raft, sections 5.3 and 5.4.2); elsewhere as jgroups-raft does.
     *
     * <p>Why: jgroups-raft 1.1.4's batch loop, on a batch of reads alone, commits up to its
     * last appended entry without asking anyone. A leader cut off from the majority, holding
     * entries nobody else has, applied them at the next read and answered: a counter value the
     * majority then handed out again (seen in a 2|3 partition test, about 1 run in 4). And its
     * request table counts acknowledgements for entries of earlier terms, which Raft must not
     * commit by counting alone. The same loop released the reads waiting for a majority's
     * answer at once: a leader alone answered reads (seen with 2 voters, one down).
     */
    /**
     * jgroups-raft's commit table, except that a late or duplicated successful append response
     * (an earlier AppendEntries answered after a later one) no longer moves a follower's next
     * index back below what it is known to hold: jgroups-raft 1.1.4 did, which broke its own
     * invariant (an AssertionError with -ea) and made it resend entries the follower had.
     */
    @Override
    protected void createCommitTable() {
        List<org.jgroups.Address> members = view != null ? new java.util.ArrayList<>(view.getMembers())
                : new java.util.ArrayList<>();
        members.remove(local_addr);
        commit_table = new org.jgroups.raft.util.CommitTable(members, last_appended + 1) {
            @Override
            public org.jgroups.raft.util.CommitTable update(org.jgroups.Address member, long matchIndex, long nextIndex,
                    long commitIndex, boolean singleResend, boolean overwrite) {
                Entry e = get(member);
                // only a success (no single resend, no overwrite) is clamped: a failure may rewind on purpose
                long next = e != null && !singleResend && !overwrite ? Math.max(nextIndex, e.matchIndex() + 1) : nextIndex;
                return super.update(member, matchIndex, next, commitIndex, singleResend, overwrite);
            }
        };
    }

    @Override
    protected RAFT commitLogTo(long indexInclusive, boolean serializeResponse) {
        if (!(impl instanceof Leader)) {
            return super.commitLogTo(indexInclusive, serializeResponse);
        }
        long limit = commit_index;
        var table = request_table;
        long wanted = Math.min(indexInclusive, last_appended);
        while (table != null && limit < wanted && table.isCommitted(limit + 1)) {
            limit++;
        }
        long term = currentTerm();
        while (limit > commit_index) {
            LogEntry e = log_impl.get(limit);
            if (e != null && e.term() == term) {
                break;
            }
            limit--; // an earlier term's entry is committed only under one of this term
        }
        if (limit <= commit_index && majority() > 1) {
            // nothing newly committed: jgroups-raft would still release the reads waiting at the commit
            // index (their majority check) without any follower having answered; a lone voter is its majority
            return this;
        }
        return super.commitLogTo(limit, serializeResponse);
    }

    /**
     * Whether this leader may answer a read from its commit index ({@link #getAsync}): only once
     * it has committed an entry of its own term.
     *
     * <p>Why: a new leader holds every committed entry but does not yet know which of them are
     * committed (Raft, section 8); jgroups-raft 1.1.4 still answers reads at its commit index
     * at once, so right after a failover a read could miss a write that had been acknowledged.
     * Until this returns true, reads go through the log like writes (and commit an entry of the
     * term by doing so).
     */
    boolean readsFromCommitIndex() {
        return isLeader() && committedTerm == currentTerm();
    }

    @Override
    public int currentTerm(long newTerm) {
        synchronized (termLock) {
            return super.currentTerm(newTerm);
        }
    }

    @Override
    public RAFT setLeaderAndTerm(org.jgroups.Address newLeader, long newTerm) {
        synchronized (termLock) {
            return super.setLeaderAndTerm(newLeader, newTerm);
        }
    }

    @Override
    public int trySetLeaderAndTerm(org.jgroups.Address newLeader, long newTerm) {
        synchronized (termLock) {
            return super.trySetLeaderAndTerm(newLeader, newTerm);
        }
    }

    @Override
    protected void processQueue() {
        super.processQueue();
        flushIfRequested(); // an idle queue: RAFT itself resends after resend_interval, this is sooner
    }

    private void flushIfRequested() {
        if (flushRequested.getAndSet(false) && isLeader()) {
            flushCommitTable();
        }
    }

    /** The highest index this voter has checked against the leader of {@link #matchedTerm}. */
    private long matchedIndex;
    private long matchedTerm = -1;

    /**
     * AppendEntries on a follower (and a learner) by the rules of Raft (section 5.3), in place of
     * jgroups-raft's.
     *
     * <p>Why: jgroups-raft 1.1.4's follower (a) commits up to the leader's commit index on an
     * empty AppendEntries without checking that its own entries up to there are the leader's,
     * (b) skips every entry of a message whose first entry it already has with the same term,
     * and (c) answers with its last index rather than the last index it checked. A voter that
     * kept entries of an old leader's term (it was that leader, or cut off with it) could so
     * apply entries that were never committed, and make the new leader count it as holding
     * entries it does not hold. Here a follower keeps, per leader term, the highest index it
     * checked against that leader (an entry at the message's previous index with the previous
     * term, then the message's entries, each compared by term); it commits only up to that
     * index and reports only that index.
     */
    @Override
    public void handleUpRequest(Message msg, RaftHeader hdr) {
        if (!(hdr instanceof AppendEntriesRequest request) || !(msg instanceof ObjectMessage om)) {
            super.handleUpRequest(msg, hdr);
            return;
        }
        AppendFields f;
        try {
            f = AppendFields.of(request);
        } catch (java.io.IOException | ClassNotFoundException e) {
            log.error("%s: dropped an unreadable AppendEntries header from %s: %s", local_addr, msg.src(), e);
            return;
        }
        if (currentTerm(f.term()) < 0) {
            return; // from the leader of an older term
        }
        RaftImpl role = impl;
        if (role == null) {
            return;
        }
        if (role instanceof Leader) {
            super.handleUpRequest(msg, hdr); // two leaders in one term: left to jgroups-raft, as before
            return;
        }
        long term = currentTerm();
        AppendResult result = appendAsFollower(om.getObject(), f, term);
        result.commitIndex(commit_index);
        down_prot.down(new EmptyMessage(msg.src()).putHeader(id, new AppendEntriesResponse(term, result)));
    }

    private AppendResult appendAsFollower(LogEntries entries, AppendFields f, long term) {
        leader(f.leader());
        if (matchedTerm != term) {
            matchedTerm = term;
            matchedIndex = commit_index; // committed entries are the same in every voter's log
        } else {
            matchedIndex = Math.max(matchedIndex, commit_index);
        }
        long prevIndex = f.prevIndex();
        if (prevIndex > commit_index) {
            LogEntry prev = entryAt(prevIndex);
            if (prev == null) {
                return new AppendResult(AppendResult.Result.FAIL_ENTRY_NOT_FOUND, Math.min(matchedIndex, last_appended));
            }
            if (prev.term() != f.prevTerm()) {
                long conflict = firstIndexOfTerm(prevIndex, prev.term());
                deleteAllLogEntriesStartingFrom(conflict);
                matchedIndex = Math.min(matchedIndex, conflict - 1);
                return new AppendResult(AppendResult.Result.FAIL_CONFLICTING_PREV_TERM, conflict, prev.term());
            }
        }
        long checked = prevIndex;
        if (entries != null && entries.size() > 0) {
            long index = prevIndex + 1;
            LogEntries missing = null;
            for (LogEntry e : entries) {
                if (missing != null) {
                    missing.add(e); // index stays at the first missing entry, where the append starts
                    continue;
                }
                if (index > commit_index) {
                    LogEntry mine = entryAt(index);
                    if (mine == null || mine.term() != e.term()) {
                        if (mine != null) {
                            deleteAllLogEntriesStartingFrom(index); // an old term's entry: the leader's replaces it
                        }
                        missing = new LogEntries().add(e);
                        continue;
                    }
                }
                index++;
            }
            boolean appended;
            try {
                appended = missing == null || append(index, missing);
            } catch (UnidistRaftLog.WriteFailure e) {
                noteWriteFailure(e); // no acknowledgement: the leader counts on the others and resends later
                return new AppendResult(AppendResult.Result.FAIL_ENTRY_NOT_FOUND, Math.min(matchedIndex, last_appended));
            }
            if (!appended) {
                log.error("%s: could not append %d entries at %d (last appended %d)", local_addr, missing.size(), index,
                        last_appended);
                return new AppendResult(AppendResult.Result.FAIL_ENTRY_NOT_FOUND, Math.min(matchedIndex, last_appended));
            }
            checked = prevIndex + entries.size();
        }
        matchedIndex = Math.max(matchedIndex, Math.min(checked, last_appended));
        long commitTo = Math.min(f.leaderCommit(), matchedIndex);
        if (commitTo > commit_index) {
            commitLogTo(commitTo, false);
        }
        return new AppendResult(AppendResult.Result.OK, matchedIndex);
    }

    /** The log's entry at {@code index}, or null past its last one. */
    private LogEntry entryAt(long index) {
        // the log may still hold bytes past its last entry (a cut tail): never read beyond it
        return index <= last_appended ? log_impl.get(index) : null;
    }

    /** The first index of the run of {@code term} entries that ends at {@code from}, above the commit index. */
    private long firstIndexOfTerm(long from, long term) {
        long index = from;
        while (index - 1 > commit_index) {
            LogEntry e = entryAt(index - 1);
            if (e == null || e.term() != term) {
                break;
            }
            index--;
        }
        return index;
    }

    /** The fields of an AppendEntries header, which jgroups-raft keeps protected, read from its wire form. */
    private record AppendFields(long term, org.jgroups.Address leader, long entryTerm, long prevIndex, long prevTerm,
                                long leaderCommit) {
        static AppendFields of(AppendEntriesRequest h) throws java.io.IOException, ClassNotFoundException {
            ByteArrayDataOutputStream out = new ByteArrayDataOutputStream(64);
            h.writeTo(out);
            org.jgroups.util.ByteArrayDataInputStream in =
                    new org.jgroups.util.ByteArrayDataInputStream(out.buffer(), 0, out.position());
            long term = Bits.readLongCompressed(in);
            org.jgroups.Address leader = org.jgroups.util.Util.readAddress(in);
            return new AppendFields(term, leader, Bits.readLongCompressed(in), Bits.readLongCompressed(in),
                    Bits.readLongCompressed(in), Bits.readLongCompressed(in));
        }
    }

    /** A RAFT protocol under RAFT's own protocol id, so that its headers are RAFT's. */
    public UnidistRaft() {
        id = RAFT_ID;
    }

    @Override
    public void start() throws Exception {
        configuredMaxLogSize = max_log_size;
        synchronized (snapshotLock) {
            writer = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "unidist-snapshot-" + raftId());
                t.setDaemon(true);
                return t;
            });
        }
        super.start();
        // RAFT names its request thread "runner-<n>", the one thread of a voter whose name says
        // nothing of the voter: named like the node's other threads, it shows in a thread dump
        // and in a per-node CPU measurement (ScaleRun). Renamed once running: RAFT's thread
        // factory would append a number.
        runner.threadName("unidist-raft-" + raftId());
    }

    @Override
    public void stop() {
        super.stop();
        synchronized (snapshotLock) {
            if (writer != null) {
                writer.shutdown();
                try {
                    // a snapshot half written is harmless (the log still holds everything), but
                    // one about to finish is worth the wait: the next start replays less
                    writer.awaitTermination(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                writer = null;
                pending = null;
            }
        }
    }

    /** The size of the last snapshot written, in bytes, or -1 if none was written since start. */
    long lastSnapshotBytes() {
        return lastSnapshotBytes;
    }

    /** What this voter's snapshots cost since it started; see {@link SnapshotStats}. */
    public SnapshotStats snapshotStats() {
        synchronized (statsLock) {
            return new SnapshotStats(snapshotsWritten, synchronousSnapshots, failedSnapshots, lastSnapshotIndex,
                    lastSnapshotBytes, freezes.durations(), writes.durations(), truncations.durations(), loadNanos,
                    replayNanos, replayedEntries);
        }
    }

    private UnidistRaftLog fileLog() {
        Log l = log_impl instanceof LogCache cache ? cache.log() : log_impl;
        return l instanceof UnidistRaftLog u ? u : null;
    }

    @Override
    protected void snapshotIfNeeded(int bytes_added) {
        UnidistRaftLog fileLog = fileLog();
        if (fileLog == null || !(state_machine instanceof UnidistStateMachine sm)) {
            super.snapshotIfNeeded(bytes_added);
            return;
        }
        synchronized (snapshotLock) {
            finishWritten(false);
            curr_log_size += bytes_added;
            if (curr_log_size < max_log_size || pending != null || writer == null) {
                return;
            }
            long index = commitIndex();
            if (index <= log_impl.firstAppended()) {
                return; // nothing committed since the last snapshot
            }
            LogEntry last = log_impl.get(index);
            if (last == null) {
                log.error("%s: log entry %d not found; no snapshot taken", local_addr, index);
                return;
            }
            long started = System.nanoTime();
            byte[] internal = internalState();
            UnidistStateMachine.Frozen frozen;
            try {
                frozen = sm.freeze();
            } catch (java.io.IOException e) {
                log.error("%s: cannot freeze the state machine for a snapshot: %s", local_addr, e);
                return;
            }
            timed(freezes, System.nanoTime() - started);
            long term = last.term();
            curr_log_size = 0;
            pendingIndex = index;
            pending = writer.submit(() -> {
                long writeStarted = System.nanoTime();
                long bytes = fileLog.writeSnapshot(index, term, out -> {
                    out.write(internal);
                    frozen.writeTo(out);
                });
                return new Written(bytes, System.nanoTime() - writeStarted);
            });
        }
    }

    private byte[] internalState() {
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream(128, true);
        try {
            internal_state.writeTo(out);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e); // an in-memory stream does not fail
        }
        return java.util.Arrays.copyOf(out.buffer(), out.position());
    }

    /**
     * Truncates the log to the background snapshot once it is on disk. With {@code wait}, waits
     * for one in progress first. Called under {@link #snapshotLock}.
     */
    private void finishWritten(boolean wait) {
        if (pending == null || (!wait && !pending.isDone())) {
            return;
        }
        try {
            Written w = pending.get(5, TimeUnit.MINUTES);
            timed(writes, w.nanos());
            truncateTo(pendingIndex);
            written(pendingIndex, w.bytes(), false);
        } catch (ExecutionException e) {
            log.error("%s: writing a snapshot of index %d failed; the log keeps its entries and a snapshot"
                    + " is tried again later: %s", local_addr, pendingIndex, e.getCause());
            failed();
        } catch (TimeoutException e) {
            log.error("%s: a snapshot of index %d took more than 5 minutes; taking another", local_addr, pendingIndex);
            pending.cancel(true);
            failed();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        pending = null;
    }

    private void truncateTo(long index) {
        if (index > log_impl.firstAppended()) {
            long started = System.nanoTime();
            log_impl.truncate(index);
            timed(truncations, System.nanoTime() - started);
        }
    }

    private void written(long index, long bytes, boolean synchronous) {
        num_snapshots++;
        synchronized (statsLock) {
            lastSnapshotBytes = bytes;
            lastSnapshotIndex = index;
            snapshotsWritten++;
            if (synchronous) {
                synchronousSnapshots++;
            }
        }
        followSnapshotSize(bytes);
    }

    /** The log threshold follows the state's size, so that a large state is not rewritten every few writes. */
    private void followSnapshotSize(long snapshotBytes) {
        if (configuredMaxLogSize > 0) {
            max_log_size = Math.max(configuredMaxLogSize, 2 * snapshotBytes);
        }
    }

    private void failed() {
        synchronized (statsLock) {
            failedSnapshots++;
        }
    }

    private void timed(Timing timing, long nanos) {
        synchronized (statsLock) {
            timing.add(nanos);
        }
    }

    /**
     * Takes a snapshot now and truncates the log (RAFT calls this before it sends a snapshot to
     * a follower, and for {@link #snapshot()}): waits for a background one, then streams the
     * state to the file on the calling thread.
     */
    @Override
    protected void takeSnapshot() throws Exception {
        UnidistRaftLog fileLog = fileLog();
        if (fileLog == null || !(state_machine instanceof UnidistStateMachine sm)) {
            super.takeSnapshot();
            return;
        }
        synchronized (snapshotLock) {
            finishWritten(true);
            long index = commitIndex();
            LogEntry last = log_impl.get(index);
            long term = last == null ? log_impl.currentTerm() : last.term();
            long started = System.nanoTime();
            byte[] internal = internalState();
            UnidistStateMachine.Frozen frozen = sm.freeze();
            long frozenAt = System.nanoTime();
            timed(freezes, frozenAt - started);
            long bytes = fileLog.writeSnapshot(index, term, out -> {
                out.write(internal);
                frozen.writeTo(out);
            });
            timed(writes, System.nanoTime() - frozenAt);
            truncateTo(index);
            curr_log_size = 0;
            written(index, bytes, true);
        }
    }

    /**
     * Loads the state machine from the snapshot file, streamed and checked, then applies the
     * committed entries after it; without a snapshot, RAFT's own loading.
     */
    @Override
    public void initStateMachineFromLog() throws Exception {
        UnidistRaftLog fileLog = fileLog();
        if (state_machine == null || state_machine_loaded) {
            return;
        }
        if (fileLog == null || !fileLog.hasSnapshot()) {
            long started = System.nanoTime();
            super.initStateMachineFromLog();
            synchronized (statsLock) {
                replayNanos = System.nanoTime() - started;
                replayedEntries = Math.max(0, commit_index - Math.max(0, log_impl.firstAppended()));
            }
            return;
        }
        long started = System.nanoTime();
        UnidistRaftLog.SnapshotInfo info = fileLog.readSnapshot(in -> {
            internal_state.readFrom(in);
            state_machine.readContentFrom(in);
        });
        long loaded = System.nanoTime();
        // a restarted voter would otherwise start from the configured threshold and, with the
        // log left from before the crash, rewrite its whole state at the first write
        followSnapshotSize(info.bytes());
        long from = Math.max(info.index(), log_impl.firstAppended()) + 1;
        long count = 0;
        for (long i = from; i <= commit_index; i++) {
            LogEntry entry = log_impl.get(i);
            if (entry == null) {
                throw new IllegalStateException(local_addr + ": committed log entry " + i + " is missing from "
                        + fileLog.directory() + "; the state cannot be rebuilt");
            }
            if (entry.command() == null) {
                continue;
            }
            if (entry.internal()) {
                executeInternalCommand(null, entry.command(), entry.offset(), entry.length());
            } else {
                state_machine.apply(entry.command(), entry.offset(), entry.length(), true);
                count++;
            }
        }
        state_machine_loaded = true;
        synchronized (statsLock) {
            loadNanos = loaded - started;
            replayNanos = System.nanoTime() - loaded;
            replayedEntries = count;
        }
        log.debug("%s: loaded the snapshot of index %d (%d bytes) and applied %d entries after it",
                local_addr, info.index(), info.bytes(), count);
    }
}
