package io.unidist.cluster.internal;

import io.unidist.ClusterUnavailableException;
import io.unidist.Delivery;
import io.unidist.MessageQueue;
import io.unidist.QueueOptions;
import io.unidist.internal.serial.ValueCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jgroups.util.ByteArrayDataInputStream;

/**
 * A message queue (or its dead-letter queue) shared by the cluster, kept in the replicated
 * state machine.
 *
 * <p>A poll that finds nothing takes a place in the queue's line of waiters in the state
 * machine; the message that arrives for it is delivered there and pushed to this node by the
 * leader, so a waiting consumer sends nothing while it waits (it asks again only every few
 * seconds, in case a push was lost to a leader change). When the caller's timeout passes, the
 * place is given up; a message delivered to it in that instant is returned rather than lost.
 */
final class ClusterQueue<T> implements MessageQueue<T> {
    private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(3);

    private final ClusterNode node;
    private final String queue;
    private final boolean dead;
    private final Class<T> type;
    private volatile QueueOptions options;
    private final String what;

    ClusterQueue(ClusterNode node, String queue, boolean dead, Class<T> type, QueueOptions options) {
        this.node = node;
        this.queue = queue;
        this.dead = dead;
        this.type = type;
        this.options = options;
        this.what = "queue '" + name() + "'";
    }

    Class<T> messageType() {
        return type;
    }

    QueueOptions options() {
        return options;
    }

    /**
     * Creates the queue in the state machine, or checks that it has the same options there;
     * without {@code explicit} options, takes the existing queue's.
     */
    void declare(boolean explicit) {
        QueueOptions wanted = options;
        ByteArrayDataInputStream in = node.write(Op.QUEUE_DECLARE, out -> {
            out.writeUTF(queue);
            out.writeBoolean(explicit);
            out.writeLong(wanted.visibilityTimeout().toMillis());
            out.writeInt(wanted.maxAttempts());
            out.writeLong(wanted.capacity());
        }, node.timeout(), what);
        try {
            QueueOptions effective = wanted.withVisibilityTimeout(Duration.ofMillis(in.readLong()))
                    .withMaxAttempts(in.readInt());
            long capacity = in.readLong();
            options = capacity == Long.MAX_VALUE ? effective : effective.withCapacity(capacity);
        } catch (IOException e) {
            throw new UncheckedIOException(what + ": malformed reply", e);
        }
    }

    @Override
    public String name() {
        return dead ? queue + ".dead" : queue;
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
        Objects.requireNonNull(delay, what + " delay");
        if (delay.isNegative()) {
            throw new IllegalArgumentException(what + " delay: timeout must not be negative, got " + delay);
        }
        byte[] payload = ValueCodec.encode(message, type, what);
        if (payload.length > UnidistStateMachine.MAX_VALUE_BYTES) {
            throw new IllegalArgumentException(what + ": a message of " + payload.length + " bytes is over the limit of "
                    + UnidistStateMachine.MAX_VALUE_BYTES + " bytes");
        }
        long delayMillis = delay.compareTo(Duration.ofDays(365 * 100)) > 0 ? Long.MAX_VALUE / 2 : delay.toMillis();
        node.write(Op.QUEUE_OFFER, out -> {
            out.writeUTF(queue);
            out.writeBoolean(dead);
            ClusterState.writeBytes(out, payload);
            out.writeLong(delayMillis);
        }, node.timeout(), what);
    }

    @Override
    public Optional<Delivery<T>> poll(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, what + " poll timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException(what + " poll: timeout must not be negative, got " + timeout);
        }
        node.ensureOpen();
        long deadline = System.nanoTime() + Math.min(timeout.toNanos(), Long.MAX_VALUE / 4);
        boolean wait = !timeout.isZero();
        long seq = node.session().nextSeq();
        CompletableFuture<Delivery<T>> pushed = new CompletableFuture<>();
        node.expectDelivery(seq, (id, attempt, payload) -> pushed.complete(delivery(id, attempt, payload)));
        try {
            while (true) {
                // the caller's timeout bounds the wait, not the commit: a slow commit must not look like no quorum
                Duration attempt = node.timeout();
                ByteArrayDataInputStream in = node.writeWithSeq(Op.QUEUE_POLL, seq, out -> {
                    out.writeUTF(queue);
                    out.writeBoolean(dead);
                    out.writeBoolean(wait);
                }, attempt, what).in();
                Optional<Delivery<T>> got = readPolled(in);
                if (got != null) {
                    return got;
                }
                long waitNanos = Math.min(deadline - System.nanoTime(), RECHECK_NANOS);
                if (waitNanos > 0) {
                    try {
                        return Optional.of(pushed.get(waitNanos, TimeUnit.NANOSECONDS));
                    } catch (java.util.concurrent.TimeoutException e) {
                        // not pushed yet: ask again (the same seq finds the same place)
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw new IllegalStateException(e.getCause());
                    }
                }
                if (deadline - System.nanoTime() <= 0) {
                    return giveUp(seq);
                }
            }
        } catch (InterruptedException e) {
            giveUpQuietly(seq);
            throw e;
        } catch (ClusterUnavailableException e) {
            boolean interrupted = Thread.interrupted();
            giveUpQuietly(seq);
            if (interrupted) {
                throw new InterruptedException(what + ": interrupted while polling");
            }
            throw e;
        } finally {
            node.forgetDelivery(seq);
            node.session().done(seq);
        }
    }

    /** A delivery, empty for "nothing", or null for "waiting". */
    private Optional<Delivery<T>> readPolled(ByteArrayDataInputStream in) {
        try {
            byte outcome = in.readByte();
            switch (outcome) {
                case QueueTable.DELIVERED:
                    long id = in.readLong();
                    int attempt = in.readInt();
                    return Optional.of(delivery(id, attempt, ClusterState.readBytes(in)));
                case QueueTable.WAITING:
                    return null;
                default:
                    return Optional.empty();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(what + ": malformed reply", e);
        }
    }

    private Optional<Delivery<T>> giveUp(long seq) {
        ByteArrayDataInputStream in = node.write(Op.QUEUE_CANCEL, out -> {
            out.writeUTF(queue);
            out.writeBoolean(dead);
            out.writeLong(seq);
        }, Duration.ofSeconds(5), what + " (giving up a poll)");
        Optional<Delivery<T>> got = readPolled(in);
        return got == null ? Optional.empty() : got;
    }

    private void giveUpQuietly(long seq) {
        boolean interrupted = Thread.interrupted();
        try {
            giveUp(seq).ifPresent(Delivery::nack);
        } catch (RuntimeException e) {
            // unreachable cluster: the place in line ends with this node's session
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public long size() {
        try {
            return node.read(Op.QUEUE_SIZE, 0, out -> {
                out.writeUTF(queue);
                out.writeBoolean(dead);
            }, node.timeout(), what).readLong();
        } catch (IOException e) {
            throw new UncheckedIOException(what + ": malformed reply", e);
        }
    }

    @Override
    public String toString() {
        return what;
    }

    private Delivery<T> delivery(long id, int attempt, byte[] payload) {
        return new ClusterDelivery(id, attempt, ValueCodec.decode(payload, type, what));
    }

    /** One delivery of a message. */
    private final class ClusterDelivery implements Delivery<T> {
        private final long id;
        private final int attempt;
        private final T message;
        private volatile boolean acked;

        ClusterDelivery(long id, int attempt, T message) {
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
            if (acked) {
                return;
            }
            boolean done;
            try {
                done = node.write(Op.QUEUE_ACK, out -> {
                    out.writeUTF(queue);
                    out.writeBoolean(dead);
                    out.writeLong(id);
                    out.writeInt(attempt);
                }, node.timeout(), what).readBoolean();
            } catch (IOException e) {
                throw new UncheckedIOException(what + ": malformed reply", e);
            }
            if (!done) {
                throw new IllegalStateException("delivery " + attempt + " of message " + id + " of " + what
                        + " was superseded: its visibility timeout (" + options.visibilityTimeout()
                        + ") passed and the message was delivered again, acknowledged, or moved to the dead-letter queue");
            }
            acked = true;
        }

        @Override
        public void nack() {
            if (acked) {
                return;
            }
            node.write(Op.QUEUE_NACK, out -> {
                out.writeUTF(queue);
                out.writeBoolean(dead);
                out.writeLong(id);
                out.writeInt(attempt);
            }, node.timeout(), what);
        }

        @Override
        public String toString() {
            return "delivery " + attempt + " of message " + id + " of " + what;
        }
    }
}
