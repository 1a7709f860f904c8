package io.unidist;

/**
 * One delivery of a message from a {@link MessageQueue}: the consumer holds the message until
 * it acknowledges it, gives it back, or the queue's visibility timeout passes.
 *
 * @param <T> the type of the message
 */
public interface Delivery<T> {
    /** The message, decoded for this delivery: not shared with the queue or other deliveries. */
    T message();

    /** Which delivery of this message this is: 1 on the first. */
    int attempt();

    /**
     * Done: the message is removed and never delivered again. Idempotent for the same delivery.
     *
     * @throws IllegalStateException when this delivery was superseded: its visibility timeout
     *     passed and the message was handed to a consumer again (or moved to the dead-letter
     *     queue), so the work may be done twice
     */
    void ack();

    /**
     * Gives the message back for redelivery now (or moves it to {@code <queue>.dead} when it has
     * had its last attempt). Does nothing when the delivery was already acknowledged, given back
     * or superseded.
     */
    void nack();
}
