package io.unidist.local;

import io.unidist.Unidist;
import io.unidist.contract.CounterContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.AfterEach;

/** The counter contract against an in-process node that persists to disk (fsync on every write). */
class LocalCounterOnDiskTest extends CounterContract {
    @TempDir
    Path dir;
    private Unidist node;

    @Override
    protected Unidist node() {
        if (node == null) {
            node = Unidist.local(dir);
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
