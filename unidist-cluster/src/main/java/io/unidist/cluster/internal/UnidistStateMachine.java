package io.unidist.cluster.internal;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jgroups.raft.StateMachine;
import org.jgroups.util.ByteArrayDataInputStream;
import org.jgroups.util.ByteArrayDataOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one replicated state machine behind every clustered primitive.
 *
 * <p><b>Determinism.</b> Every replica applies the same committed entries in the same order and
 * must reach the same state: nothing here reads a clock (time is the leader's stamp in each
 * entry, made monotonic by {@code max}), iterates a hash-ordered collection into the state, or
 * depends on anything but the entries. A malformed entry is answered with an error on every
 * replica alike and changes nothing: not the state, not the session it names (its low
 * watermark), not even the state machine's time. A command is read whole before it takes
 * effect, and a length in it is checked against the bytes left before anything is allocated.
 *
 * <p><b>Exactly once.</b> A write carries its session and seq; its answer is remembered until
 * the client's low watermark passes it, so a retried write gets the first answer instead of
 * being applied again. A write from an unknown (expired) session is refused.
 *
 * <p><b>Reads.</b> jgroups-raft applies read-only commands on the leader only, after it has
 * confirmed its leadership with a majority; they must not change anything, so a write that
 * arrives in the read form ({@link Cmd#READ_FORMAT}) is refused.
 *
 * <p><b>Thread safety.</b> jgroups-raft calls in from its own thread; the leader's session
 * reconciliation reads from another, so every entry point is synchronized.
 */
public final class UnidistStateMachine implements StateMachine {
    private static final Logger log = LoggerFactory.getLogger(UnidistStateMachine.class);
    private static final byte SNAPSHOT_FORMAT = 1;

    /** What the leader tells clients about after applying an entry. */
    public interface Events {
        /** A waiter got a lease through another node's release or expiry. */
        void granted(String address, long session, LockTable.Holder holder);

        /** A waiting poll got a message. */
        default void delivered(String address, QueueTable.Delivery delivery) {
        }

        /** A watched bucket changed. */
        default void changed(String address, StateTable.Change change) {
        }
    }

    /** The largest value or message a client may store, so that one entry cannot swamp the log. */
    public static final int MAX_VALUE_BYTES = 1024 * 1024;

    private final String self;
    /** Every replica refuses a member's malformed command: once a second at WARN is enough to see it. */
    private final WarnEverySecond refused = new WarnEverySecond(log);
    private volatile Events events = (address, session, holder) -> { };
    private long time;
    private long tokens;
    private long sessionIds;
    private final SessionTable sessions = new SessionTable();
    private final CounterTable counters = new CounterTable();
    private final LockTable locks = new LockTable();
    private final StateTable state = new StateTable();
    private final QueueTable queues = new QueueTable();

    /** A state machine whose log lines start with {@code self}. */
    public UnidistStateMachine(String self) {
        this.self = self;
    }

    void events(Events listener) {
        this.events = listener;
    }

    @Override
    public synchronized byte[] apply(byte[] data, int offset, int length, boolean serializeResponse) {
        try {
            if (length < 1) {
                throw new IOException("empty entry");
            }
            ByteArrayDataInputStream in = new ByteArrayDataInputStream(data, offset, length);
            byte format = in.readByte();
            if (format == Cmd.BATCH_FORMAT) {
                return applyBatch(in);
            }
            if (format != Cmd.ENTRY_FORMAT && format != Cmd.READ_FORMAT) {
                throw new IOException("unknown entry format " + format);
            }
            return applyOne(in, format, in.readLong());
        } catch (IOException | RuntimeException e) {
            refused.warn("{}: refused malformed entry: {}", self, e.toString());
            return Reply.error(Reply.MALFORMED, "malformed entry: " + e.getMessage());
        }
    }

    /**
     * One command, its answer; a command that cannot be read or applied gets a MALFORMED answer
     * and changes nothing (so a damaged command in a batch fails alone).
     */
    private byte[] applyOne(ByteArrayDataInputStream in, byte format, long stamp) {
        Cmd cmd = null;
        try {
            cmd = Cmd.read(in);
            if (cmd.op.read) {
                return read(cmd);
            }
            if (format == Cmd.READ_FORMAT) {
                // applied here only, never replicated: changing anything would split the replicas
                throw new IOException("a write on the read path, which skips the log");
            }
            return write(cmd, stamp);
        } catch (IOException | RuntimeException e) {
            refused.warn("{}: refused malformed command {}: {}", self, cmd == null ? "" : cmd, e.toString());
            return Reply.error(Reply.MALFORMED, "malformed command " + (cmd == null ? "" : cmd + " ") + e.getMessage());
        }
    }

    /**
     * A batch entry ({@link Cmd#BATCH_FORMAT}): the commands in order, all with the batch's
     * stamp, as if each had an entry of its own; the answers in the same order.
     */
    private byte[] applyBatch(ByteArrayDataInputStream in) throws IOException {
        long stamp = in.readLong();
        List<ByteArrayDataInputStream> commands = Cmd.readBatch(in);
        byte[][] answers = new byte[commands.size()][];
        for (int i = 0; i < answers.length; i++) {
            answers[i] = applyOne(commands.get(i), Cmd.ENTRY_FORMAT, stamp);
        }
        return Cmd.writeAnswers(answers);
    }

    /**
     * Applies a write stamped with the leader's time {@code stamp}. The state machine's time moves
     * only when the write takes effect: a refused, stale or repeated one leaves it as it was.
     */
    private byte[] write(Cmd cmd, long stamp) throws IOException {
        if (cmd.op == Op.OPEN_SESSION) {
            return openSession(cmd, stamp);
        }
        if (cmd.op == Op.EXPIRE_SESSIONS) {
            return expireSessions(cmd, stamp);
        }
        if (cmd.op == Op.TICK) {
            time = Math.max(time, stamp);
            announceChanges(state.expire(time));
            announceDeliveries(queues.tick(time));
            return Reply.okEmpty();
        }
        SessionTable.Session session = sessions.get(cmd.session);
        if (session == null) {
            return Reply.status(Reply.SESSION_EXPIRED);
        }
        if (cmd.seq < session.lowWatermark) {
            return Reply.status(Reply.STALE);
        }
        byte[] earlier = session.answers.get(cmd.seq);
        if (earlier != null) {
            return earlier;
        }
        long timeBefore = time;
        time = Math.max(time, stamp);
        try {
            return execute(cmd, session);
        } catch (IOException | RuntimeException malformed) {
            time = timeBefore; // every op reads its whole body before it changes anything
            throw malformed;
        }
    }

    private byte[] execute(Cmd cmd, SessionTable.Session session) throws IOException {
        byte[] answer;
        boolean remember = true;
        List<LockTable.Holder> granted = new ArrayList<>();
        List<QueueTable.Delivery> delivered = new ArrayList<>();
        List<StateTable.Change> changes = new ArrayList<>();
        try {
            switch (cmd.op) {
                case CLOSE_SESSION -> {
                    expire(session.id, granted);
                    answer = Reply.okEmpty();
                    remember = false;
                }
                case COUNTER_ADD -> {
                    long v = counters.add(cmd.body.readUTF(), cmd.body.readLong());
                    answer = okLong(v);
                }
                case COUNTER_CAS -> {
                    boolean done = counters.compareAndSet(cmd.body.readUTF(), cmd.body.readLong(), cmd.body.readLong());
                    answer = okBoolean(done);
                }
                case LOCK_ACQUIRE -> {
                    String name = cmd.body.readUTF();
                    int permits = cmd.body.readInt();
                    boolean wait = cmd.body.readBoolean();
                    LockTable.Acquired a = locks.acquire(name, permits, session.id, cmd.seq, wait, this::nextToken, time);
                    answer = acquired(a.outcome(), a.holder());
                    remember = a.outcome() != LockTable.QUEUED; // a waiter's retry must see a later grant
                }
                case LOCK_RELEASE -> {
                    boolean held = locks.release(cmd.body.readUTF(), session.id, cmd.body.readLong(), this::nextToken,
                            time, granted);
                    answer = okBoolean(held);
                }
                case LOCK_CANCEL -> {
                    String name = cmd.body.readUTF();
                    long acquireSeq = cmd.body.readLong();
                    byte outcome = locks.cancel(name, session.id, acquireSeq, this::nextToken, time, granted);
                    answer = acquired(outcome, null);
                    if (outcome == LockTable.CANCELLED || outcome == LockTable.RELEASED) {
                        session.remember(acquireSeq, acquired(LockTable.CANCELLED, null)); // a late retry must not queue again
                    }
                }
                case STATE_PUT -> {
                    String bucket = cmd.body.readUTF();
                    String key = cmd.body.readUTF();
                    byte[] value = readValue(cmd);
                    changes.add(state.put(bucket, key, value, cmd.body.readLong(), time));
                    answer = Reply.okEmpty();
                }
                case STATE_PUT_IF_ABSENT -> {
                    String bucket = cmd.body.readUTF();
                    String key = cmd.body.readUTF();
                    byte[] value = readValue(cmd);
                    long ttl = cmd.body.readLong();
                    boolean absent = state.get(bucket, key) == null;
                    if (absent) {
                        changes.add(state.put(bucket, key, value, ttl, time));
                    }
                    answer = okBoolean(absent);
                }
                case STATE_REPLACE -> {
                    String bucket = cmd.body.readUTF();
                    String key = cmd.body.readUTF();
                    byte[] expected = readValue(cmd);
                    byte[] value = readValue(cmd);
                    long ttl = cmd.body.readLong();
                    boolean matches = state.matches(bucket, key, expected);
                    if (matches) {
                        changes.add(state.put(bucket, key, value, ttl, time));
                    }
                    answer = okBoolean(matches);
                }
                case STATE_REMOVE -> {
                    StateTable.Change c = state.remove(cmd.body.readUTF(), cmd.body.readUTF());
                    if (c != null) {
                        changes.add(c);
                    }
                    answer = okBoolean(c != null);
                }
                case STATE_WATCH -> {
                    String bucket = cmd.body.readUTF();
                    if (cmd.body.readBoolean()) {
                        sessions.watch(session, bucket);
                    } else {
                        sessions.unwatch(session, bucket);
                    }
                    answer = okLong(state.version(bucket));
                }
                case QUEUE_DECLARE -> {
                    String name = cmd.body.readUTF();
                    boolean explicit = cmd.body.readBoolean();
                    QueueTable.Options o = queues.declare(name, new QueueTable.Options(cmd.body.readLong(),
                            cmd.body.readInt(), cmd.body.readLong()), explicit);
                    ByteArrayDataOutputStream out = Reply.ok();
                    out.writeLong(o.visibilityMillis());
                    out.writeInt(o.maxAttempts());
                    out.writeLong(o.capacity());
                    answer = Reply.bytes(out);
                }
                case QUEUE_OFFER -> {
                    String name = cmd.body.readUTF();
                    boolean dead = cmd.body.readBoolean();
                    byte[] payload = readValue(cmd);
                    QueueTable.Delivery d = queues.offer(name, dead, payload, cmd.body.readLong(), time);
                    if (d != null) {
                        delivered.add(d);
                    }
                    answer = Reply.okEmpty();
                }
                case QUEUE_POLL -> {
                    Object r = queues.poll(cmd.body.readUTF(), cmd.body.readBoolean(), session.id, cmd.seq,
                            cmd.body.readBoolean(), time);
                    answer = polled(r);
                    remember = !(r instanceof Byte b && b == QueueTable.WAITING); // a waiter's retry must see a later delivery
                }
                case QUEUE_CANCEL -> {
                    String name = cmd.body.readUTF();
                    boolean dead = cmd.body.readBoolean();
                    long pollSeq = cmd.body.readLong();
                    Object r = queues.cancel(name, dead, session.id, pollSeq);
                    answer = polled(r);
                    session.remember(pollSeq, answer); // a late retry of the poll must not wait again
                }
                case QUEUE_ACK -> answer = okBoolean(queues.ack(cmd.body.readUTF(), cmd.body.readBoolean(),
                        cmd.body.readLong(), cmd.body.readInt()));
                case QUEUE_NACK -> {
                    delivered.addAll(queues.nack(cmd.body.readUTF(), cmd.body.readBoolean(), cmd.body.readLong(),
                            cmd.body.readInt(), time));
                    answer = Reply.okEmpty();
                }
                default -> throw new IOException("command " + cmd.op + " is not a write");
            }
        } catch (IllegalArgumentException e) {
            answer = Reply.error(Reply.ILLEGAL_ARGUMENT, e.getMessage());
        } catch (IllegalStateException e) {
            answer = Reply.error(Reply.ILLEGAL_STATE, e.getMessage());
        } catch (ArithmeticException e) {
            answer = Reply.error(Reply.ARITHMETIC, e.getMessage());
        }
        // only now: a command that turned out malformed must not make the session forget answers
        session.advance(cmd.lowWatermark);
        if (remember) {
            session.remember(cmd.seq, answer);
        }
        announce(granted);
        announceDeliveries(delivered);
        announceChanges(changes);
        return answer;
    }

    private static byte[] readValue(Cmd cmd) throws IOException {
        int n = cmd.body.readInt();
        int left = cmd.body.limit() - cmd.body.position();
        if (n < 0 || n > left) {
            throw new IOException("a value length of " + n + " does not fit the command (" + left + " bytes left)");
        }
        if (n > MAX_VALUE_BYTES) {
            throw new IllegalArgumentException("a value of " + n + " bytes is over the limit of " + MAX_VALUE_BYTES
                    + " bytes");
        }
        byte[] value = new byte[n];
        cmd.body.readFully(value);
        return value;
    }

    private static byte[] polled(Object r) {
        ByteArrayDataOutputStream out = Reply.ok();
        if (r instanceof QueueTable.Delivery d) {
            out.writeByte(QueueTable.DELIVERED);
            out.writeLong(d.id());
            out.writeInt(d.attempt());
            out.writeInt(d.payload().length);
            out.write(d.payload());
        } else {
            out.writeByte((Byte) r);
        }
        return Reply.bytes(out);
    }

    private void announceDeliveries(List<QueueTable.Delivery> deliveries) {
        for (QueueTable.Delivery d : deliveries) {
            SessionTable.Session s = sessions.get(d.session());
            if (s != null) {
                s.remember(d.seq(), polled(d));
                events.delivered(s.address, d);
            }
        }
    }

    private void announceChanges(List<StateTable.Change> changes) {
        if (changes.isEmpty()) {
            return;
        }
        for (StateTable.Change c : changes) {
            for (SessionTable.Session s : sessions.watching(c.bucket())) {
                events.changed(s.address, c); // each watcher gets its changes in order
            }
        }
    }

    private byte[] openSession(Cmd cmd, long stamp) throws IOException {
        String node = cmd.body.readUTF();
        String address = cmd.body.readUTF();
        SessionTable.Session open = sessions.openAt(address);
        if (open != null) {
            // a retried or replayed open: a node process has one session, which it gives up only
            // when told it expired (then this address has none open)
            return okLong(open.id);
        }
        time = Math.max(time, stamp);
        long id = ++sessionIds;
        sessions.open(id, node, address, time);
        return okLong(id);
    }

    private byte[] expireSessions(Cmd cmd, long stamp) throws IOException {
        int n = cmd.body.readInt();
        if (n < 0 || n > (cmd.body.limit() - cmd.body.position()) / Long.BYTES) {
            throw new IOException("session count " + n + " does not fit the command");
        }
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = cmd.body.readLong(); // all read before any expires: a short list changes nothing
        }
        time = Math.max(time, stamp);
        List<LockTable.Holder> granted = new ArrayList<>();
        for (long id : ids) {
            expire(id, granted);
        }
        announce(granted);
        return Reply.okEmpty();
    }

    private void expire(long sessionId, List<LockTable.Holder> granted) {
        if (sessions.remove(sessionId) != null) {
            locks.expire(sessionId, this::nextToken, time, granted);
            announceDeliveries(queues.expire(sessionId, time));
        }
    }

    private void announce(List<LockTable.Holder> granted) {
        for (LockTable.Holder h : granted) {
            SessionTable.Session s = sessions.get(h.session());
            if (s != null) {
                s.remember(h.seq(), acquired(LockTable.GRANTED, h));
                events.granted(s.address, s.id, h);
            }
        }
    }

    private byte[] read(Cmd cmd) throws IOException {
        switch (cmd.op) {
            case PING:
                return okLong(sessions.get(cmd.session) == null ? 0 : cmd.session);
            case COUNTER_GET:
                return okLong(counters.get(cmd.body.readUTF()));
            case LOCK_HOLDERS: {
                List<LockTable.Holder> holders = locks.holders(cmd.body.readUTF());
                ByteArrayDataOutputStream out = Reply.ok();
                out.writeInt(holders.size());
                for (LockTable.Holder h : holders) {
                    SessionTable.Session s = sessions.get(h.session());
                    out.writeUTF(s == null ? "?" : s.node);
                    out.writeLong(h.token());
                    out.writeLong(h.since());
                }
                return Reply.bytes(out);
            }
            case STATE_GET: {
                StateTable.Entry e = state.get(cmd.body.readUTF(), cmd.body.readUTF());
                ByteArrayDataOutputStream out = Reply.ok();
                out.writeBoolean(e != null);
                if (e != null) {
                    out.writeInt(e.value().length);
                    out.write(e.value());
                }
                return Reply.bytes(out);
            }
            case STATE_KEYS: {
                java.util.TreeMap<String, StateTable.Entry> entries = state.entries(cmd.body.readUTF());
                ByteArrayDataOutputStream out = Reply.ok();
                out.writeInt(entries.size());
                for (String k : entries.keySet()) {
                    out.writeUTF(k);
                }
                return Reply.bytes(out);
            }
            case STATE_SNAPSHOT: {
                String bucket = cmd.body.readUTF();
                return snapshotReply(bucket);
            }
            case STATE_CHANGES: {
                String bucket = cmd.body.readUTF();
                List<StateTable.Change> since = state.changesSince(bucket, cmd.body.readLong());
                if (since == null) {
                    return snapshotReply(bucket); // too far behind: the whole bucket, marked as such
                }
                ByteArrayDataOutputStream out = Reply.ok();
                out.writeBoolean(false);
                out.writeInt(since.size());
                for (StateTable.Change c : since) {
                    writeChange(out, c);
                }
                return Reply.bytes(out);
            }
            case QUEUE_SIZE:
                return okLong(queues.size(cmd.body.readUTF(), cmd.body.readBoolean()));
            default:
                throw new IOException("command " + cmd.op + " is not a read");
        }
    }

    private byte[] snapshotReply(String bucket) {
        java.util.TreeMap<String, StateTable.Entry> entries = state.entries(bucket);
        ByteArrayDataOutputStream out = Reply.ok();
        out.writeBoolean(true);
        out.writeLong(state.version(bucket));
        out.writeInt(entries.size());
        for (java.util.Map.Entry<String, StateTable.Entry> e : entries.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeInt(e.getValue().value().length);
            out.write(e.getValue().value());
        }
        return Reply.bytes(out);
    }

    static void writeChange(ByteArrayDataOutputStream out, StateTable.Change c) {
        out.writeLong(c.version());
        out.writeUTF(c.key());
        out.writeBoolean(c.value() != null);
        if (c.value() != null) {
            out.writeInt(c.value().length);
            out.write(c.value());
        }
    }

    /** The earliest time at which a tick would change something (TTL, delay, visibility), or Long.MAX_VALUE. */
    synchronized long nextDeadline() {
        return Math.min(state.nextDeadline(), queues.nextDeadline());
    }

    private long nextToken() {
        return ++tokens;
    }

    private static byte[] okLong(long v) {
        ByteArrayDataOutputStream out = Reply.ok();
        out.writeLong(v);
        return Reply.bytes(out);
    }

    private static byte[] okBoolean(boolean v) {
        ByteArrayDataOutputStream out = Reply.ok();
        out.writeBoolean(v);
        return Reply.bytes(out);
    }

    private static byte[] acquired(byte outcome, LockTable.Holder h) {
        ByteArrayDataOutputStream out = Reply.ok();
        out.writeByte(outcome);
        if (h != null) {
            out.writeLong(h.token());
            out.writeLong(h.since());
        }
        return Reply.bytes(out);
    }

    /** The sessions the leader should expire: their node is not in the view. */
    synchronized List<Long> sessionsAbsentFrom(Set<String> liveAddresses, long openedBefore) {
        return sessions.absentFrom(liveAddresses, openedBefore);
    }

    /** The state machine's time: the latest leader stamp applied. */
    synchronized long time() {
        return time;
    }

    @Override
    public synchronized void readContentFrom(DataInput in) throws Exception {
        byte format = in.readByte();
        if (format != SNAPSHOT_FORMAT) {
            throw new IOException("unknown snapshot format " + format + ", this node reads " + SNAPSHOT_FORMAT);
        }
        time = in.readLong();
        tokens = in.readLong();
        sessionIds = in.readLong();
        sessions.read(in);
        counters.read(in);
        locks.read(in);
        state.read(in);
        queues.read(in);
    }

    /**
     * The state machine's content as of now, to be written later, on any thread, while the
     * state machine goes on applying entries. Called on RAFT's thread when a snapshot is due,
     * so it is cheap: the small tables are serialised at once, the state buckets and queues
     * copy their references and mutable fields and share the (immutable) value bytes.
     */
    synchronized Frozen freeze() throws IOException {
        ByteArrayDataOutputStream head = new ByteArrayDataOutputStream(4096, true);
        head.writeByte(SNAPSHOT_FORMAT);
        head.writeLong(time);
        head.writeLong(tokens);
        head.writeLong(sessionIds);
        sessions.write(head);
        counters.write(head);
        locks.write(head);
        byte[] small = Reply.bytes(head);
        Frozen buckets = state.freeze();
        Frozen queued = queues.freeze();
        return out -> {
            out.write(small);
            buckets.writeTo(out);
            queued.writeTo(out);
        };
    }

    /** Content frozen at one log index, in the snapshot format {@link #readContentFrom} reads. */
    @FunctionalInterface
    interface Frozen {
        void writeTo(DataOutput out) throws IOException;
    }

    @Override
    public void writeContentTo(DataOutput out) throws Exception {
        freeze().writeTo(out);
    }
}
