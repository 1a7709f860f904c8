package io.unidist.local;

import io.unidist.Unidist;
import io.unidist.contract.StateContract;
import org.junit.jupiter.api.AfterEach;

/** The state contract against an in-process node. */
class LocalStateInMemoryTest extends StateContract {
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
