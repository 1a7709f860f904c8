package io.unidist.cluster.internal;

import io.unidist.internal.Times;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The message queues of the state machine, each with its dead-letter lane.
 *
 * <p>A poll that finds nothing may wait: it takes a place in the queue's line of waiters (like
 * a lock's), and the first message that becomes deliverable is delivered to the first waiter
 * at once, inside the state machine; the leader then pushes it to the waiting node. So a
 * waiting consumer costs nothing until there is something for it.
 *
 * <p>Time: delays and visibility deadlines are judged against the state machine's time (the
 * leader's stamps, advanced by ticks the leader commits when a deadline is due), so every
 * replica moves the same message at the same entry.
 *
 * <p>A delivery is named by (message id, attempt) and remembers the session and request that
 * took it, so that a retried poll gets the same delivery, and a consumer's node that leaves
 * the cluster gives its deliveries back at once.
 */
final class QueueTable {
    static final byte DELIVERED = 0;
    static final byte WAITING = 1;
    static final byte EMPTY = 2;
    static final byte CANCELLED = 3;

    /** A queue's settings, fixed by its first declaration. */
    record Options(long visibilityMillis, int maxAttempts, long capacity) { }

    /** A message as delivered. */
    record Delivery(String queue, boolean dead, long id, int attempt, byte[] payload, long session, long seq) { }

    private static final class Msg {
        final long id;
        final byte[] payload;
        int attempts;
        boolean inFlight;
        long wakeAt;
        long session;
        long seq;

        Msg(long id, byte[] payload) {
            this.id = id;
            this.payload = payload;
        }
    }

    private record Waiter(long session, long seq) { }

    private static final Comparator<Msg> BY_WAKE = Comparator.<Msg>comparingLong(m -> m.wakeAt).thenComparingLong(m -> m.id);

    private static final class Lane {
        final boolean dead;
        final TreeMap<Long, Msg> visible = new TreeMap<>();
        final TreeSet<Msg> timed = new TreeSet<>(BY_WAKE);
        final Map<Long, Msg> all = new HashMap<>();
        final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
        /** Delivered messages by the (session, seq) of the poll that took them. */
        final Map<Waiter, Msg> held = new HashMap<>();

        Lane(boolean dead) {
            this.dead = dead;
        }

        /**
         * Adds a message that is not delivered. A visible message's wakeAt is always
         * Long.MIN_VALUE, so that a replica restored from a snapshot holds exactly what one
         * that applied the log holds.
         */
        void add(Msg m, long now) {
            all.put(m.id, m);
            if (m.wakeAt <= now) {
                m.wakeAt = Long.MIN_VALUE;
                visible.put(m.id, m);
            } else {
                timed.add(m);
            }
        }

        void remove(Msg m) {
            all.remove(m.id);
            visible.remove(m.id);
            timed.remove(m);
            if (m.inFlight) {
                held.remove(new Waiter(m.session, m.seq));
            }
        }
    }

    private static final class Queue {
        final Options options;
        final Lane main = new Lane(false);
        final Lane dead = new Lane(true);

        Queue(Options options) {
            this.options = options;
        }

        Lane lane(boolean isDead) {
            return isDead ? dead : main;
        }
    }

    private final TreeMap<String, Queue> queues = new TreeMap<>();
    private long nextId;

    /**
     * Creates a queue, or checks that an existing one has the same options; without
     * {@code explicit} options an existing queue's are adopted. Returns the queue's options.
     */
    Options declare(String name, Options options, boolean explicit) {
        Queue q = queues.get(name);
        if (q == null) {
            queues.put(name, new Queue(options));
            return options;
        }
        if (explicit && !q.options.equals(options)) {
            throw new IllegalArgumentException("queue '" + name + "' exists with " + describe(q.options)
                    + ", cannot open it with " + describe(options));
        }
        return q.options;
    }

    private static String describe(Options o) {
        return "visibility timeout " + o.visibilityMillis + " ms, max attempts " + o.maxAttempts
                + (o.capacity == Long.MAX_VALUE ? "" : ", capacity " + o.capacity);
    }

    private Queue queue(String name) {
        Queue q = queues.get(name);
        if (q == null) {
            throw new IllegalStateException("queue '" + name + "' was never declared");
        }
        return q;
    }

    /** Adds a message; returns the delivery it went to if a consumer was waiting. */
    Delivery offer(String name, boolean dead, byte[] payload, long delayMillis, long now) {
        Queue q = queue(name);
        Lane lane = q.lane(dead);
        if (!dead && lane.all.size() >= q.options.capacity) {
            throw new IllegalStateException("queue '" + name + "' is full (capacity " + q.options.capacity + ")");
        }
        Msg m = new Msg(++nextId, payload);
        m.wakeAt = Times.saturatedAdd(now, delayMillis);
        lane.add(m, now);
        List<Delivery> out = new ArrayList<>(1);
        serveWaiters(name, q, lane, now, out);
        return out.isEmpty() ? null : out.get(0);
    }

    /**
     * Takes a message for a poll: the delivery this (session, seq) already has, else the oldest
     * deliverable message, else a place in line (when {@code wait}).
     */
    Object poll(String name, boolean dead, long session, long seq, boolean wait, long now) {
        Queue q = queue(name);
        Lane lane = q.lane(dead);
        Msg held = lane.held.get(new Waiter(session, seq));
        if (held != null) {
            return delivery(name, lane, held);
        }
        if (lane.waiters.contains(new Waiter(session, seq))) {
            return WAITING;
        }
        if (lane.waiters.isEmpty() && !lane.visible.isEmpty()) {
            return deliver(name, q, lane, lane.visible.firstEntry().getValue(), session, seq, now);
        }
        if (wait) {
            lane.waiters.addLast(new Waiter(session, seq));
            return WAITING;
        }
        return EMPTY;
    }

    /** Gives up a waiting poll; a delivery made to it meanwhile is returned (the caller keeps it). */
    Object cancel(String name, boolean dead, long session, long seq) {
        Queue q = queue(name);
        Lane lane = q.lane(dead);
        if (lane.waiters.remove(new Waiter(session, seq))) {
            return CANCELLED;
        }
        Msg held = lane.held.get(new Waiter(session, seq));
        return held != null ? delivery(name, lane, held) : CANCELLED;
    }

    /** Acknowledges a delivery; false when it was superseded (redelivered, dead, or acknowledged). */
    boolean ack(String name, boolean dead, long id, int attempt) {
        Lane lane = queue(name).lane(dead);
        Msg m = lane.all.get(id);
        if (m == null || m.attempts != attempt) {
            return false;
        }
        lane.remove(m);
        return true;
    }

    /** Gives a delivery back now; returns the deliveries this lets happen. */
    List<Delivery> nack(String name, boolean dead, long id, int attempt, long now) {
        Queue q = queue(name);
        Lane lane = q.lane(dead);
        Msg m = lane.all.get(id);
        List<Delivery> out = new ArrayList<>();
        if (m != null && m.inFlight && m.attempts == attempt) {
            lane.timed.remove(m);
            makeReady(name, q, lane, m, now);
            serveWaiters(name, q, q.main, now, out);
            serveWaiters(name, q, q.dead, now, out);
        }
        return out;
    }

    long size(String name, boolean dead) {
        Queue q = queues.get(name);
        return q == null ? 0 : q.lane(dead).all.size();
    }

    /** Moves what time has made due (delays, visibility timeouts); returns the deliveries made. */
    List<Delivery> tick(long now) {
        List<Delivery> out = new ArrayList<>();
        for (Map.Entry<String, Queue> e : queues.entrySet()) {
            Queue q = e.getValue();
            for (Lane lane : List.of(q.main, q.dead)) {
                while (!lane.timed.isEmpty() && lane.timed.first().wakeAt <= now) {
                    Msg m = lane.timed.pollFirst();
                    if (m.inFlight) {
                        makeReady(e.getKey(), q, lane, m, now);
                    } else {
                        m.wakeAt = Long.MIN_VALUE;
                        lane.visible.put(m.id, m);
                    }
                }
            }
            serveWaiters(e.getKey(), q, q.main, now, out);
            serveWaiters(e.getKey(), q, q.dead, now, out);
        }
        return out;
    }

    /** A session ended: its waiting polls go, its deliveries are deliverable again at once. */
    List<Delivery> expire(long session, long now) {
        List<Delivery> out = new ArrayList<>();
        for (Map.Entry<String, Queue> e : queues.entrySet()) {
            Queue q = e.getValue();
            for (Lane lane : List.of(q.main, q.dead)) {
                lane.waiters.removeIf(w -> w.session == session);
                List<Msg> theirs = new ArrayList<>();
                lane.held.forEach((w, m) -> {
                    if (w.session == session) {
                        theirs.add(m);
                    }
                });
                theirs.sort(Comparator.comparingLong(m -> m.id));
                for (Msg m : theirs) {
                    lane.timed.remove(m);
                    makeReady(e.getKey(), q, lane, m, now);
                }
            }
            serveWaiters(e.getKey(), q, q.main, now, out);
            serveWaiters(e.getKey(), q, q.dead, now, out);
        }
        return out;
    }

    /** The earliest delay or visibility deadline, or Long.MAX_VALUE. */
    long nextDeadline() {
        long next = Long.MAX_VALUE;
        for (Queue q : queues.values()) {
            for (Lane lane : List.of(q.main, q.dead)) {
                if (!lane.timed.isEmpty()) {
                    next = Math.min(next, lane.timed.first().wakeAt);
                }
            }
        }
        return next;
    }

    private void makeReady(String name, Queue q, Lane lane, Msg m, long now) {
        lane.held.remove(new Waiter(m.session, m.seq));
        m.inFlight = false;
        m.session = 0;
        m.seq = 0;
        if (!lane.dead && m.attempts >= q.options.maxAttempts) {
            lane.remove(m);
            m.attempts = 0;
            m.wakeAt = Long.MIN_VALUE;
            q.dead.add(m, now);
        } else {
            m.wakeAt = Long.MIN_VALUE;
            lane.visible.put(m.id, m);
        }
    }

    private void serveWaiters(String name, Queue q, Lane lane, long now, List<Delivery> out) {
        while (!lane.waiters.isEmpty() && !lane.visible.isEmpty()) {
            Waiter w = lane.waiters.pollFirst();
            out.add(deliver(name, q, lane, lane.visible.firstEntry().getValue(), w.session, w.seq, now));
        }
    }

    private Delivery deliver(String name, Queue q, Lane lane, Msg m, long session, long seq, long now) {
        lane.visible.remove(m.id);
        m.attempts++;
        m.inFlight = true;
        m.session = session;
        m.seq = seq;
        m.wakeAt = Times.saturatedAdd(now, q.options.visibilityMillis);
        lane.timed.add(m);
        lane.held.put(new Waiter(session, seq), m);
        return delivery(name, lane, m);
    }

    private static Delivery delivery(String name, Lane lane, Msg m) {
        return new Delivery(name, lane.dead, m.id, m.attempts, m.payload, m.session, m.seq);
    }


    void write(DataOutput out) throws IOException {
        freeze().writeTo(out);
    }

    /**
     * The queues as of now, written later. A message's id and payload never change, so the
     * message objects are shared; the fields that do change are copied. Messages are written
     * in id order; the sort happens in the writer, off the caller's thread.
     */
    UnidistStateMachine.Frozen freeze() {
        long frozenNextId = nextId;
        List<String> names = new ArrayList<>(queues.keySet());
        List<Options> options = new ArrayList<>();
        List<FrozenLane> lanes = new ArrayList<>();
        for (Queue q : queues.values()) {
            options.add(q.options);
            lanes.add(new FrozenLane(q.main));
            lanes.add(new FrozenLane(q.dead));
        }
        return out -> {
            out.writeLong(frozenNextId);
            out.writeInt(names.size());
            for (int i = 0; i < names.size(); i++) {
                Options o = options.get(i);
                out.writeUTF(names.get(i));
                out.writeLong(o.visibilityMillis);
                out.writeInt(o.maxAttempts);
                out.writeLong(o.capacity);
                lanes.get(2 * i).writeTo(out);
                lanes.get(2 * i + 1).writeTo(out);
            }
        };
    }

    /** One lane's messages and waiters as of the freeze. */
    private static final class FrozenLane {
        final Msg[] msgs;
        final int[] attempts;
        final boolean[] inFlight;
        final long[] wakeAt;
        final long[] session;
        final long[] seq;
        final Waiter[] waiters;

        FrozenLane(Lane lane) {
            msgs = lane.all.values().toArray(new Msg[0]);
            int n = msgs.length;
            attempts = new int[n];
            inFlight = new boolean[n];
            wakeAt = new long[n];
            session = new long[n];
            seq = new long[n];
            for (int i = 0; i < n; i++) {
                Msg m = msgs[i];
                attempts[i] = m.attempts;
                inFlight[i] = m.inFlight;
                wakeAt[i] = m.wakeAt;
                session[i] = m.session;
                seq[i] = m.seq;
            }
            waiters = lane.waiters.toArray(new Waiter[0]);
        }

        void writeTo(DataOutput out) throws IOException {
            int[] byId = java.util.stream.IntStream.range(0, msgs.length).boxed()
                    .sorted(Comparator.comparingLong(i -> msgs[i].id))
                    .mapToInt(Integer::intValue).toArray();
            out.writeInt(byId.length);
            for (int i : byId) {
                out.writeLong(msgs[i].id);
                out.writeInt(attempts[i]);
                out.writeBoolean(inFlight[i]);
                out.writeLong(wakeAt[i]);
                out.writeLong(session[i]);
                out.writeLong(seq[i]);
                out.writeInt(msgs[i].payload.length);
                out.write(msgs[i].payload);
            }
            out.writeInt(waiters.length);
            for (Waiter w : waiters) {
                out.writeLong(w.session);
                out.writeLong(w.seq);
            }
        }
    }

    void read(DataInput in) throws IOException {
        queues.clear();
        nextId = in.readLong();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            String name = in.readUTF();
            Queue q = new Queue(new Options(in.readLong(), in.readInt(), in.readLong()));
            for (Lane lane : List.of(q.main, q.dead)) {
                int msgs = in.readInt();
                for (int j = 0; j < msgs; j++) {
                    long id = in.readLong();
                    int attempts = in.readInt();
                    boolean inFlight = in.readBoolean();
                    long wakeAt = in.readLong();
                    long session = in.readLong();
                    long seq = in.readLong();
                    byte[] payload = new byte[SessionTable.checkLength(in.readInt())];
                    in.readFully(payload);
                    Msg m = new Msg(id, payload);
                    m.attempts = attempts;
                    m.inFlight = inFlight;
                    m.wakeAt = wakeAt;
                    m.session = session;
                    m.seq = seq;
                    lane.all.put(id, m);
                    if (inFlight || wakeAt != Long.MIN_VALUE) {
                        lane.timed.add(m);
                    } else {
                        lane.visible.put(id, m);
                    }
                    if (inFlight) {
                        lane.held.put(new Waiter(session, seq), m);
                    }
                }
                int waiters = in.readInt();
                for (int w = 0; w < waiters; w++) {
                    lane.waiters.addLast(new Waiter(in.readLong(), in.readLong()));
                }
            }
            queues.put(name, q);
        }
    }

}
