package io.unidist.internal;

import io.unidist.Subscription;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The callbacks of one lease for the moment it is lost: each runs at most once, and one added
 * after the loss runs at once. A callback that throws is logged and does not stop the others.
 */
public final class LostCallbacks {
    private static final Logger log = LoggerFactory.getLogger(LostCallbacks.class);

    private final List<Runnable> actions = new ArrayList<>();
    private boolean fired;
    private boolean closed;

    /** Adds a callback; runs it now if the lease is already lost. */
    public Subscription add(Runnable action) {
        Objects.requireNonNull(action, "action");
        synchronized (this) {
            if (closed) {
                return () -> { };
            }
            if (!fired) {
                actions.add(action);
                return () -> {
                    synchronized (this) {
                        actions.remove(action);
                    }
                };
            }
        }
        run(action);
        return () -> { };
    }

    /** Runs every callback once; later calls do nothing. */
    public void fire() {
        List<Runnable> toRun;
        synchronized (this) {
            if (fired || closed) {
                return;
            }
            fired = true;
            toRun = new ArrayList<>(actions);
            actions.clear();
        }
        toRun.forEach(LostCallbacks::run);
    }

    /** Drops every callback for good: the lease was closed by its holder, not lost. */
    public synchronized void cancelAll() {
        closed = true;
        actions.clear();
    }

    private static void run(Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            log.warn("a lease-lost callback threw: {}", e.toString(), e);
        }
    }
}
