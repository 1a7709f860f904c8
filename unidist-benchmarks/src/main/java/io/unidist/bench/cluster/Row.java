package io.unidist.bench.cluster;

/**
 * One line of the results: what was measured, from where, and what it gave.
 *
 * @param session   which cluster (0, 1, ...): ratios are taken only between rows of one cluster
 * @param kind      floor, jgroups-raft's CounterService, unidist, or unidist's state buckets and queues
 * @param operation what one call does, as shown
 * @param threads   client threads
 * @param role      where the client ran relative to the Raft leader
 * @param node      the client's node name (v1, client, ...)
 * @param fsync     whether the Raft log was forced on every append (for the fsync floor: always true)
 * @param commits   Raft commits per call (a lock's acquire and release are two)
 * @param m         the measurement
 */
record Row(int session, Kind kind, String operation, int threads, Role role, String node, boolean fsync, int commits,
           Measurement m) {

    /** What a row measures. */
    enum Kind {
        /** A loopback round trip between two processes. */
        FLOOR_ROUND_TRIP,
        /** A round trip through unidist's messaging on the main JGroups channel: what the stack adds, not a floor. */
        STACK_ROUND_TRIP,
        /** An append forced to the disk. */
        FLOOR_FSYNC,
        /** jgroups-raft's CounterService, the baseline. */
        COUNTER_SERVICE,
        /** unidist: counters and locks, compared with CounterService. */
        UNIDIST,
        /** unidist: state buckets and queues, compared with unidist's counter increment. */
        DATA,
        /** Logging calls, compared with plain logback writing one file. */
        LOGGING
    }

    /** Where the client is: its distance from the leader in network hops decides the floor. */
    enum Role {
        LEADER("voter, leader", 1),
        FOLLOWER("voter, follower", 2),
        NON_VOTER("non-voter", 2),
        NONE("-", 0);

        final String label;
        /** Round trips on the way of one commit: client to leader (unless it is the leader), leader to a follower. */
        final int roundTrips;

        Role(String label, int roundTrips) {
            this.label = label;
            this.roundTrips = roundTrips;
        }
    }

    String clientLabel() {
        return role == Role.NONE ? node : node + " (" + role.label + ")";
    }

    String fsyncLabel() {
        return kind == Kind.FLOOR_ROUND_TRIP || kind == Kind.STACK_ROUND_TRIP || kind == Kind.LOGGING ? "-" : fsync ? "on" : "off";
    }
}
