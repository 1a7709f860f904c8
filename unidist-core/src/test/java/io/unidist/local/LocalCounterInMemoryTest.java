package io.unidist.local;

import io.unidist.Unidist;
import io.unidist.contract.CounterContract;
import org.junit.jupiter.api.AfterEach;

/** The counter contract against an in-process node. */
class LocalCounterInMemoryTest extends CounterContract {
    private Unidist node;

    @Override
    protected Unidist node() {
        if (node == null) {
            node = Unidist.local();
        }
        return node;
    }

    @AfterEach
    void closeNode() {
        if (node != null) {
            node.close();
        }
    }
}
