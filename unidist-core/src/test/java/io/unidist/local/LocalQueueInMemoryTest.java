package io.unidist.local;

import io.unidist.Unidist;
import io.unidist.contract.QueueContract;
import org.junit.jupiter.api.AfterEach;

/** The queue contract against an in-process node. */
class LocalQueueInMemoryTest extends QueueContract {
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
