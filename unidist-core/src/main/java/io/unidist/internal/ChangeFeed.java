package io.unidist.internal;

import io.unidist.Subscription;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;

/**
 * Delivers recorded changes to listeners, one call at a time, in the order recorded, on the
 * thread of a writer that has released its lock. Used by ThreadSafeDict, ThreadSafeList and the state buckets.
 *
 * <p>Writers call {@link #publish} in their structure's linearization order (the structure
 * guarantees that), then {@link #deliverPending} after unlocking. Whoever wins the
 * {@code delivering} flag drains the queue; the others return at once, and the re-check of
 * the queue after the flag is released means no change is left behind.
 *
 * @param <L> the listener type
 */
public final class ChangeFeed<L> {
    private final Logger log;
    private final String owner;
    /** Changes (Consumer of L) and registrations, in the order they took effect. */
    private final Queue<Object> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean delivering = new AtomicBoolean();
    private final AtomicInteger openRegistrations = new AtomicInteger();
    /** Touched only by the thread holding {@code delivering}. */
    private final List<Registration<L>> active = new ArrayList<>();

    /** A feed whose warnings go to {@code log}, naming {@code owner}. */
    public ChangeFeed(Logger log, String owner) {
        this.log = log;
        this.owner = owner;
    }

    /** Whether changes must be recorded; stable while the structure's lock is held in any mode. */
    public boolean isListening() {
        return openRegistrations.get() > 0;
    }

    /** Records one change; the caller guarantees the order of calls is the order of effect. */
    public void publish(Consumer<? super L> call) {
        pending.add(call);
    }

    /** Registers a listener; the caller holds its structure's lock exclusively. */
    public Subscription register(L listener) {
        Registration<L> registration = new Registration<>(listener, openRegistrations);
        openRegistrations.incrementAndGet();
        pending.add(registration);
        return registration;
    }

    /** Delivers what is pending unless another thread is doing it; never call under a lock. */
    public void deliverPending() {
        while (!pending.isEmpty() && delivering.compareAndSet(false, true)) {
            try {
                drain();
            } finally {
                delivering.set(false);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private void drain() {
        Object next;
        while ((next = pending.poll()) != null) {
            if (next instanceof Registration<?> registration) {
                active.add((Registration<L>) registration);
            } else {
                Consumer<? super L> call = (Consumer<? super L>) next;
                active.removeIf(registration -> !registration.deliver(call, log, owner));
            }
        }
    }

    /** One listener of a ChangeFeed; its monitor makes close() wait for a call in progress. */
    private static final class Registration<L> implements Subscription {
        private final L listener;
        private final AtomicInteger openRegistrations;
        private boolean closed;

        Registration(L listener, AtomicInteger openRegistrations) {
            this.listener = listener;
            this.openRegistrations = openRegistrations;
        }

        /** Calls the listener unless closed; returns false once closed. */
        synchronized boolean deliver(Consumer<? super L> call, Logger log, String owner) {
            if (closed) {
                return false;
            }
            try {
                call.accept(listener);
            } catch (RuntimeException | Error e) {
                if (e instanceof VirtualMachineError) {
                    throw e;
                }
                // A listener's bug must not break the writer that happens to deliver, nor the
                // other listeners: log it and go on.
                log.warn("{} listener {} threw; the change stays applied and the listener stays registered",
                        owner, listener, e);
            }
            return true;
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                openRegistrations.decrementAndGet();
            }
        }
    }
}
