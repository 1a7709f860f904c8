package io.unidist.cluster.internal;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 */
public class UnidistRaft extends RAFT {
    private final Object snapshotLock = new Object();
    private ExecutorService writer;
    private Future<Long> pending;
    private long pendingIndex;
    private long configuredMaxLogSize = -1;
    private volatile long lastSnapshotBytes = -1;

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
            byte[] internal = internalState();
            UnidistStateMachine.Frozen frozen;
            try {
                frozen = sm.freeze();
            } catch (java.io.IOException e) {
                log.error("%s: cannot freeze the state machine for a snapshot: %s", local_addr, e);
                return;
            }
            long term = last.term();
            curr_log_size = 0;
            pendingIndex = index;
            pending = writer.submit(() -> fileLog.writeSnapshot(index, term, out -> {
                out.write(internal);
                frozen.writeTo(out);
            }));
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
            long bytes = pending.get(5, TimeUnit.MINUTES);
            if (pendingIndex > log_impl.firstAppended()) {
                log_impl.truncate(pendingIndex);
            }
            written(bytes);
        } catch (ExecutionException e) {
            log.error("%s: writing a snapshot of index %d failed; the log keeps its entries and a snapshot"
                    + " is tried again later: %s", local_addr, pendingIndex, e.getCause());
        } catch (TimeoutException e) {
            log.error("%s: a snapshot of index %d took more than 5 minutes; taking another", local_addr, pendingIndex);
            pending.cancel(true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        pending = null;
    }

    private void written(long bytes) {
        num_snapshots++;
        lastSnapshotBytes = bytes;
        if (configuredMaxLogSize > 0) {
            max_log_size = Math.max(configuredMaxLogSize, 2 * bytes);
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
            byte[] internal = internalState();
            UnidistStateMachine.Frozen frozen = sm.freeze();
            long bytes = fileLog.writeSnapshot(index, term, out -> {
                out.write(internal);
                frozen.writeTo(out);
            });
            if (index > log_impl.firstAppended()) {
                log_impl.truncate(index);
            }
            curr_log_size = 0;
            written(bytes);
        }
    }

    /**
     * Loads the state machine from the snapshot file, streamed and checked, then applies the
     * committed entries after it; without a snapshot, RAFT's own loading.
     */
    @Override
    public void initStateMachineFromLog() throws Exception {
        UnidistRaftLog fileLog = fileLog();
        if (state_machine == null || state_machine_loaded || fileLog == null || !fileLog.hasSnapshot()) {
            super.initStateMachineFromLog();
            return;
        }
        UnidistRaftLog.SnapshotInfo info = fileLog.readSnapshot(in -> {
            internal_state.readFrom(in);
            state_machine.readContentFrom(in);
        });
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
        log.debug("%s: loaded the snapshot of index %d (%d bytes) and applied %d entries after it",
                local_addr, info.index(), info.bytes(), count);
    }
}
