package io.unidist.local;

import io.unidist.Unidist;
import io.unidist.contract.LockContract;
import org.junit.jupiter.api.AfterEach;

/** The lock contract against an in-process node. */
class LocalLockInMemoryTest extends LockContract {
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
