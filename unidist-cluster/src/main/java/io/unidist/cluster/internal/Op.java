package io.unidist.cluster.internal;

/**
 * The commands of the replicated state machine. Each has a stable numeric id, written on the
 * wire and into the Raft log: ids are never reused or renumbered, and a command whose layout
 * changes gets a new version (see {@link Cmd#VERSION}).
 */
enum Op {
    OPEN_SESSION(1, false),
    CLOSE_SESSION(2, false),
    EXPIRE_SESSIONS(3, false),
    PING(4, true),

    COUNTER_GET(10, true),
    COUNTER_ADD(11, false),
    COUNTER_CAS(12, false),

    LOCK_ACQUIRE(20, false),
    LOCK_RELEASE(21, false),
    LOCK_CANCEL(22, false),
    LOCK_HOLDERS(23, true),

    TICK(5, false),

    STATE_GET(30, true),
    STATE_PUT(31, false),
    STATE_PUT_IF_ABSENT(32, false),
    STATE_REPLACE(33, false),
    STATE_REMOVE(34, false),
    STATE_KEYS(35, true),
    STATE_SNAPSHOT(36, true),
    STATE_CHANGES(37, true),
    STATE_WATCH(38, false),

    QUEUE_DECLARE(40, false),
    QUEUE_OFFER(41, false),
    QUEUE_POLL(42, false),
    QUEUE_CANCEL(43, false),
    QUEUE_ACK(44, false),
    QUEUE_NACK(45, false),
    QUEUE_SIZE(46, true);

    final short id;
    final boolean read;

    Op(int id, boolean read) {
        this.id = (short) id;
        this.read = read;
    }

    private static final Op[] BY_ID = new Op[64];

    static {
        for (Op op : values()) {
            BY_ID[op.id] = op;
        }
    }

    /** The command with this id, or null for an id this version does not know. */
    static Op byId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }
}
