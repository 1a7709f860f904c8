package io.unidist.internal;

import io.unidist.Delivery;
import io.unidist.MessageQueue;
import io.unidist.Persistence;
import io.unidist.QueueOptions;
import io.unidist.internal.serial.ValueCodec;
import io.unidist.internal.store.DurableStore;
import io.unidist.internal.store.Recovery;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One queue and its dead-letter queue, kept in one store so that moving a message to the
 * dead-letter queue is a single journal record: it can never be lost or doubled by a crash.
 *
 * <p><b>Model.</b> Each lane (the queue, its dead-letter queue) holds its messages in three
 * places: {@code visible} (deliverable now, by id: FIFO), {@code timed} (delayed messages by
 * the time they become visible, and delivered ones by their visibility deadline), and
 * {@code all} (by id, for acknowledgements). Time-based changes are made lazily by
 * {@link #sweep} at the start of every operation; a blocking poll sleeps until the earliest
 * timed message, or a signal.
 *
 * <p><b>Journal.</b> Offer, deliver, acknowledge and move-to-dead are journaled (with a
 * delivery's attempt number, so that attempts survive restarts and a poison message still
 * reaches the dead-letter queue). Giving back (nack) and visibility expiry are not: on restart
 * every delivered message is deliverable again anyway, as its consumer is gone.
 */
final class QueueCore {
    static final String DEAD_SUFFIX = Opening.DEAD_SUFFIX;

    private static final int FORMAT = 1;
    private static final int OP_OFFER = 1;
    private static final int OP_DELIVER = 2;
    private static final int OP_ACK = 3;
    private static final int OP_DEAD = 4;

    private final LocalUnidist node;
    private final String name;
    private final Class<?> messageType;
    private final QueueOptions options;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Lane main = new Lane(false);
    private final Lane dead = new Lane(true);
    private final DurableStore store;
    private long nextId = 1;

    QueueCore(LocalUnidist node, String name, Class<?> messageType, QueueOptions options) {
        this.node = node;
        this.name = name;
        this.messageType = messageType;
        this.options = options;
        this.store = node.openStore(LocalUnidist.QUEUES, name, options.persistence(), new Recovery() {
            @Override
            public void snapshot(byte[] state) {
                readSnapshot(state);
            }

            @Override
            public void record(byte[] record) {
                replay(record);
            }
        });
        lock.lock();
        try {
            releaseRecoveredDeliveries();
        } finally {
            lock.unlock();
        }
    }

    Class<?> messageType() {
        return messageType;
    }

    QueueOptions options() {
        return options;
    }

    <T> MessageQueue<T> view(boolean deadLane, Class<T> type) {
        return new View<>(deadLane ? dead : main, type);
    }

    void wakeAll() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void closeNode() {
        lock.lock();
        try {
            changed.signalAll();
            if (store.hasUnsnapshottedChanges() && options.persistence().mode() == Persistence.Mode.SNAPSHOT) {
                store.snapshot(snapshotBytes());
            }
            store.close();
        } finally {
            lock.unlock();
        }
    }

    // ----- operations, called with the lock held

    private void offer(Lane lane, byte[] payload, long delayMillis) {
        if (!lane.isDead && lane.all.size() >= options.capacity()) {
            throw new IllegalStateException("queue '" + name + "' is full (capacity " + options.capacity() + ")");
        }
        long now = node.time().currentTimeMillis();
        Msg msg = new Msg(nextId++, payload);
        msg.wakeAt = Times.saturatedAdd(now, delayMillis);
        lane.add(msg, now);
        try {
            journal(out -> {
                out.writeByte(OP_OFFER);
                out.writeBoolean(lane.isDead);
                out.writeLong(msg.id);
                out.writeLong(msg.wakeAt);
                Records.writeBytes(out, payload);
            });
        } catch (RuntimeException e) {
            lane.remove(msg);
            nextId--;
            throw e;
        }
        changed.signalAll();
    }

    private Msg deliverNext(Lane lane, long now) {
        Map.Entry<Long, Msg> first = lane.visible.pollFirstEntry();
        if (first == null) {
            return null;
        }
        Msg msg = first.getValue();
        msg.attempts++;
        msg.inFlight = true;
        msg.wakeAt = Times.saturatedAdd(now, options.visibilityTimeout().toMillis());
        lane.timed.add(msg);
        try {
            journal(out -> {
                out.writeByte(OP_DELIVER);
                out.writeBoolean(lane.isDead);
                out.writeLong(msg.id);
                out.writeInt(msg.attempts);
                out.writeLong(msg.wakeAt);
            });
        } catch (RuntimeException e) {
            lane.timed.remove(msg);
            msg.attempts--;
            msg.inFlight = false;
            lane.visible.put(msg.id, msg);
            throw e;
        }
        return msg;
    }

    private void ack(Lane lane, long id, int attempt) {
        Msg msg = lane.all.get(id);
        if (msg == null || msg.attempts != attempt) {
            throw new IllegalStateException("delivery " + attempt + " of message " + id + " of queue '"
                    + laneName(lane) + "' was superseded: its visibility timeout (" + options.visibilityTimeout()
                    + ") passed and the message was " + (msg == null ? "acknowledged by another delivery or moved"
                    + " to the dead-letter queue" : "delivered again (attempt " + msg.attempts + ")"));
        }
        lane.remove(msg);
        try {
            journal(out -> {
                out.writeByte(OP_ACK);
                out.writeBoolean(lane.isDead);
                out.writeLong(id);
            });
        } catch (RuntimeException e) {
            lane.add(msg, Long.MIN_VALUE);
            throw e;
        }
    }

    private void nack(Lane lane, long id, int attempt) {
        Msg msg = lane.all.get(id);
        if (msg != null && msg.inFlight && msg.attempts == attempt) {
            lane.timed.remove(msg);
            makeReady(lane, msg);
            changed.signalAll();
        }
    }

    /** Makes delayed messages visible and expired deliveries deliverable again. */
    private void sweep(long now) {
        sweep(main, now);
        sweep(dead, now);
    }

    private void sweep(Lane lane, long now) {
        while (!lane.timed.isEmpty() && lane.timed.first().wakeAt <= now) {
            Msg msg = lane.timed.pollFirst();
            if (msg.inFlight) {
                makeReady(lane, msg);
            } else {
                lane.visible.put(msg.id, msg);
            }
        }
    }

    /** A delivered message comes back: deliverable again, or dead after its last attempt. */
    private void makeReady(Lane lane, Msg msg) {
        msg.inFlight = false;
        if (!lane.isDead && msg.attempts >= options.maxAttempts()) {
            moveToDead(msg);
        } else {
            lane.visible.put(msg.id, msg);
        }
    }

    private void moveToDead(Msg msg) {
        main.remove(msg);
        msg.attempts = 0;
        msg.wakeAt = Long.MIN_VALUE;
        dead.add(msg, Long.MIN_VALUE);
        try {
            journal(out -> {
                out.writeByte(OP_DEAD);
                out.writeLong(msg.id);
            });
        } catch (RuntimeException e) {
            // the move is redone on the next sweep after a restart: the message is still in the journal as delivered
            throw e;
        }
    }

    private void releaseRecoveredDeliveries() {
        for (Lane lane : List.of(main, dead)) {
            for (Msg msg : new ArrayList<>(lane.all.values())) {
                if (msg.inFlight) {
                    lane.timed.remove(msg);
                    makeReady(lane, msg);
                } else if (!lane.isDead && msg.attempts >= options.maxAttempts() && lane.visible.containsKey(msg.id)) {
                    lane.visible.remove(msg.id);
                    moveToDead(msg);
                }
            }
        }
    }

    private void journal(Records.IoConsumer<DataOutputStream> body) {
        byte[] record = Records.write(out -> {
            out.writeByte(FORMAT);
            body.accept(out);
        });
        store.write(record, this::snapshotBytes);
    }

    // ----- recovery

    private byte[] snapshotBytes() {
        return Records.write(out -> {
            out.writeByte(FORMAT);
            out.writeLong(nextId);
            for (Lane lane : List.of(main, dead)) {
                out.writeInt(lane.all.size());
                for (Msg msg : lane.all.values()) {
                    out.writeLong(msg.id);
                    out.writeInt(msg.attempts);
                    // a delivered message is written as deliverable: its consumer is gone by the time this is read
                    out.writeLong(msg.inFlight ? Long.MIN_VALUE : msg.wakeAt);
                    Records.writeBytes(out, msg.payload);
                }
            }
        });
    }

    private void readSnapshot(byte[] state) {
        try {
            DataInputStream in = Records.read(state, FORMAT, what());
            nextId = in.readLong();
            for (Lane lane : List.of(main, dead)) {
                int n = in.readInt();
                for (int i = 0; i < n; i++) {
                    long id = in.readLong();
                    int attempts = in.readInt();
                    long wakeAt = in.readLong();
                    Msg full = new Msg(id, Records.readBytes(in));
                    full.attempts = attempts;
                    full.wakeAt = wakeAt;
                    lane.add(full, Long.MIN_VALUE);
                }
            }
        } catch (IOException e) {
            throw Records.corrupt(what() + " snapshot", e);
        }
    }

    private void replay(byte[] record) {
        try {
            DataInputStream in = Records.read(record, FORMAT, what());
            int op = in.readByte();
            switch (op) {
                case OP_OFFER -> {
                    Lane lane = in.readBoolean() ? dead : main;
                    long id = in.readLong();
                    long wakeAt = in.readLong();
                    Msg full = new Msg(id, Records.readBytes(in));
                    full.wakeAt = wakeAt;
                    lane.add(full, Long.MIN_VALUE);
                    nextId = Math.max(nextId, full.id + 1);
                }
                case OP_DELIVER -> {
                    Lane lane = in.readBoolean() ? dead : main;
                    Msg msg = existing(lane, in.readLong());
                    lane.timed.remove(msg);
                    lane.visible.remove(msg.id);
                    msg.attempts = in.readInt();
                    msg.wakeAt = in.readLong();
                    msg.inFlight = true;
                    lane.timed.add(msg);
                }
                case OP_ACK -> {
                    Lane lane = in.readBoolean() ? dead : main;
                    lane.remove(existing(lane, in.readLong()));
                }
                case OP_DEAD -> {
                    Msg msg = existing(main, in.readLong());
                    main.remove(msg);
                    msg.attempts = 0;
                    msg.inFlight = false;
                    msg.wakeAt = Long.MIN_VALUE;
                    dead.add(msg, Long.MIN_VALUE);
                }
                default -> throw new IOException("unknown operation id " + op);
            }
        } catch (IOException e) {
            throw Records.corrupt(what() + " journal", e);
        }
    }

    private Msg existing(Lane lane, long id) throws IOException {
        Msg msg = lane.all.get(id);
        if (msg == null) {
            throw new IOException("message " + id + " is not in " + (lane.isDead ? "the dead-letter queue" : "the queue"));
        }
        return msg;
    }

    private String what() {
        return "queue '" + name + "'";
    }

    private String laneName(Lane lane) {
        return lane.isDead ? name + DEAD_SUFFIX : name;
    }


    // ----- data

    /** A message and where it stands. */
    private static final class Msg {
        final long id;
        final byte[] payload;
        int attempts;
        boolean inFlight;
        /** When a delayed message becomes visible, or a delivered one's visibility timeout ends. */
        long wakeAt;

        Msg(long id, byte[] payload) {
            this.id = id;
            this.payload = payload;
        }
    }

    private static final Comparator<Msg> BY_WAKE_TIME =
            Comparator.<Msg>comparingLong(m -> m.wakeAt).thenComparingLong(m -> m.id);

    /** The messages of the queue or of its dead-letter queue. */
    private static final class Lane {
        final boolean isDead;
        final TreeMap<Long, Msg> visible = new TreeMap<>();
        final TreeSet<Msg> timed = new TreeSet<>(BY_WAKE_TIME);
        final Map<Long, Msg> all = new HashMap<>();

        Lane(boolean isDead) {
            this.isDead = isDead;
        }

        /** Adds a message that is not delivered: visible if its time has come by {@code now}. */
        void add(Msg msg, long now) {
            all.put(msg.id, msg);
            if (msg.wakeAt <= now) {
                visible.put(msg.id, msg);
            } else {
                timed.add(msg);
            }
        }

        void remove(Msg msg) {
            all.remove(msg.id);
            visible.remove(msg.id);
            timed.remove(msg);
        }
    }

    // ----- the public faces

    /** A queue or dead-letter queue, as users see it. */
    private final class View<T> implements MessageQueue<T> {
        private final Lane lane;
        private final Class<T> type;
        private final String what;

        View(Lane lane, Class<T> type) {
            this.lane = lane;
            this.type = type;
            this.what = "queue '" + laneName(lane) + "'";
        }

        @Override
        public String name() {
            return laneName(lane);
        }

        @Override
        public void offer(T message) {
            offer(message, Duration.ZERO);
        }

        @Override
        public void offer(T message, Duration delay) {
            if (message == null) {
                throw new NullPointerException(what + ": message is null");
            }
            long delayMillis = Waits.timeoutNanos(delay, what, "delay") / 1_000_000L;
            byte[] payload = ValueCodec.encode(message, type, what);
            node.ensureOpen();
            lock.lock();
            try {
                node.ensureOpen();
                sweep(node.time().currentTimeMillis());
                QueueCore.this.offer(lane, payload, delayMillis);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public Optional<Delivery<T>> poll(Duration timeout) throws InterruptedException {
            long deadline = Waits.deadline(node.time(), Waits.timeoutNanos(timeout, what, "poll timeout"));
            node.ensureOpen();
            lock.lockInterruptibly();
            try {
                while (true) {
                    node.ensureOpen();
                    long now = node.time().currentTimeMillis();
                    sweep(now);
                    Msg msg = deliverNext(lane, now);
                    if (msg != null) {
                        return Optional.of(new LocalDelivery(msg.id, msg.attempts, ValueCodec.decode(msg.payload, type, what)));
                    }
                    long left = deadline - node.time().nanoTime();
                    if (left <= 0) {
                        return Optional.empty();
                    }
                    if (!lane.timed.isEmpty()) {
                        long untilNext = lane.timed.first().wakeAt - now;
                        left = Math.min(left, Math.max(1, untilNext) * 1_000_000L);
                    }
                    Waits.await(changed, left);
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public long size() {
            node.ensureOpen();
            lock.lock();
            try {
                sweep(node.time().currentTimeMillis());
                return lane.all.size();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public String toString() {
            return what;
        }

        /** One delivery of a message. */
        private final class LocalDelivery implements Delivery<T> {
            private final long id;
            private final int attempt;
            private final T message;
            private boolean acked;

            LocalDelivery(long id, int attempt, T message) {
                this.id = id;
                this.attempt = attempt;
                this.message = message;
            }

            @Override
            public T message() {
                return message;
            }

            @Override
            public int attempt() {
                return attempt;
            }

            @Override
            public void ack() {
                node.ensureOpen();
                lock.lock();
                try {
                    node.ensureOpen();
                    if (acked) {
                        return;
                    }
                    sweep(node.time().currentTimeMillis());
                    QueueCore.this.ack(lane, id, attempt);
                    acked = true;
                } finally {
                    lock.unlock();
                }
            }

            @Override
            public void nack() {
                node.ensureOpen();
                lock.lock();
                try {
                    node.ensureOpen();
                    if (!acked) {
                        sweep(node.time().currentTimeMillis());
                        QueueCore.this.nack(lane, id, attempt);
                    }
                } finally {
                    lock.unlock();
                }
            }

            @Override
            public String toString() {
                return "delivery " + attempt + " of message " + id + " of " + what;
            }
        }
    }
}
