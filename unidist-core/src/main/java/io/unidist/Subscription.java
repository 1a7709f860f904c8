package io.unidist;

/**
 * A registration (of a listener, a watch, a callback) that ends when closed.
 */
public interface Subscription extends AutoCloseable {
    /** Ends the registration: no call starts after this returns. Idempotent; never throws. */
    @Override
    void close();
}
