package io.unidist.contract;

import io.unidist.Unidist;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every contract test needs from an implementation: a node, and a peer that shares the
 * node's primitives (another thread's view in one process, another member in a cluster).
 */
public abstract class ContractBase {
    private static final AtomicInteger NAMES = new AtomicInteger();

    /** The node under test; the same one for every call within a test. */
    protected abstract Unidist node();

    /** A node that shares {@link #node()}'s primitives; the node itself where there is one. */
    protected Unidist peer() {
        return node();
    }

    /** A name no other test uses, so that implementations may share one cluster. */
    protected static String uniqueName(String prefix) {
        return prefix + "-" + NAMES.incrementAndGet() + "-" + System.nanoTime() % 100_000;
    }
}
