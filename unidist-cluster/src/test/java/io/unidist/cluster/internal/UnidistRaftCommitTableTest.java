package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.jgroups.Address;
import org.jgroups.raft.util.CommitTable;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.Test;

/** The leader's commit table under append responses that arrive late, twice, or as failures. */
class UnidistRaftCommitTableTest {
    private final Address follower = UUID.randomUUID();

    private CommitTable table() {
        UnidistRaft raft = new UnidistRaft();
        raft.createCommitTable();
        CommitTable table = raft.commitTable();
        table.adjust(List.of(follower), 1);
        return table;
    }

    @Test
    void aLateSuccessDoesNotMoveTheNextIndexBelowWhatTheFollowerHolds() {
        CommitTable table = table();
        table.update(follower, 10, 11, 5, false);
        table.update(follower, 7, 8, 5, false); // the answer to an earlier AppendEntries, arriving last
        assertEquals(10, table.get(follower).matchIndex());
        assertEquals(11, table.get(follower).nextIndex());
        table.update(follower, 12, 13, 9, false);
        assertEquals(13, table.get(follower).nextIndex());
    }

    @Test
    void aFailureStillRewindsTheNextIndex() {
        CommitTable table = table();
        table.update(follower, 10, 11, 5, false);
        table.update(follower, 6, 7, 5, true, true); // a conflicting term at 7: send from there
        assertEquals(6, table.get(follower).matchIndex());
        assertEquals(7, table.get(follower).nextIndex());
    }
}
