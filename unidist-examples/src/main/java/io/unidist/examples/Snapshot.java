package io.unidist.examples;

import io.unidist.LeaseInfo;
import io.unidist.Unidist;
import io.unidist.UnidistException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the launcher's observer node reads from the cluster once a second: every number is a
 * linearizable read, taken one after the other (so they are not one point in time together).
 *
 * @param at       when the reads ended
 * @param members  the JGroups view, oldest first
 * @param leader   the Raft leader as the observer knows it, or null
 * @param ids      the counter {@link UniqueJobIds#COUNTER}
 * @param produced jobs offered
 * @param done     jobs acknowledged
 * @param failed   failed attempts (nacks)
 * @param queued   jobs not yet acknowledged: waiting, delayed or in a worker's hands
 * @param dead     dead letters, in {@code work.dead}
 * @param backups  backups done
 * @param holders  who holds the backup semaphore now
 * @param board    the status board
 */
record Snapshot(Instant at, List<String> members, String leader, long ids, long produced, long done, long failed,
        long queued, long dead, long backups, List<LeaseInfo> holders, Map<String, String> board) {

    /**
     * Reads everything through {@code observer}.
     *
     * @throws UnidistException when the cluster does not answer in time (no majority of voters)
     */
    static Snapshot read(Unidist observer) {
        List<LeaseInfo> holders = observer.semaphore(RollingBackup.SEMAPHORE, RollingBackup.AT_ONCE).holders();
        long ids = observer.counter(UniqueJobIds.COUNTER).get();
        long produced = observer.counter(WorkQueue.PRODUCED).get();
        long done = observer.counter(WorkQueue.DONE).get();
        long failed = observer.counter(WorkQueue.FAILED).get();
        long queued = WorkQueue.queue(observer).size();
        long dead = observer.queue(WorkQueue.QUEUE + ".dead", String.class).size();
        long backups = observer.counter(RollingBackup.DONE).get();
        Map<String, String> board = StatusBoard.board(observer).snapshot();
        return new Snapshot(Instant.now(), ClusterPeek.members(observer), ClusterPeek.leader(observer), ids, produced,
                done, failed, queued, dead, backups, holders, board);
    }
}
