package io.unidist;

import java.time.Duration;
import java.util.Optional;

/**
 * A named, durable FIFO queue between threads (and, when clustered, hosts), with delayed
 * delivery, acknowledgements, redelivery and a dead-letter queue.
 *
 * <p><b>Delivery.</b> {@link #poll} hands each message to one consumer at a time, oldest
 * deliverable first. The consumer must {@link Delivery#ack()} it; a message given back with
 * {@link Delivery#nack()}, or not acknowledged within the queue's visibility timeout (30 s by
 * default), becomes deliverable again at its old place in the order. After its last allowed
 * attempt ({@link QueueOptions#maxAttempts}) a message moves to the queue named
 * {@code <name>.dead}, which is opened like any other queue. Delivery is at least once: a
 * consumer that dies before it acknowledges leaves its message to be delivered again.
 *
 * <p><b>Persistence.</b> By default every offer, delivery and acknowledgement is journaled and
 * fsynced before the call returns: messages survive a crash or restart, and deliveries that
 * were unacknowledged when the node stopped become deliverable again on start. See
 * {@link QueueOptions} and {@link Persistence}.
 *
 * <p><b>Failure.</b> A full queue (see {@link QueueOptions#capacity}) throws
 * {@link IllegalStateException} naming the queue and its capacity; a message of the wrong type
 * or an unregistered class throws {@link IllegalArgumentException}; in each case nothing is
 * added.
 *
 * @param <T> the type of the messages
 */
public interface MessageQueue<T> {
    /** The queue's name. */
    String name();

    /** Adds a message, deliverable now. Durable (per the queue's persistence) on return. */
    void offer(T message);

    /** Adds a message that is not delivered before {@code delay} has passed. */
    void offer(T message, Duration delay);

    /**
     * Takes the oldest deliverable message, waiting up to {@code timeout} for one.
     *
     * @return the delivery, or empty when none became deliverable in time
     * @throws InterruptedException when the thread was interrupted while waiting; nothing is
     *     taken
     */
    Optional<Delivery<T>> poll(Duration timeout) throws InterruptedException;

    /** Messages not yet acknowledged: waiting, delayed and delivered ones (not dead ones). */
    long size();
}
