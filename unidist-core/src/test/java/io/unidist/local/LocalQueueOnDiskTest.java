package io.unidist.local;

import io.unidist.Unidist;
import io.unidist.contract.QueueContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.AfterEach;

/** The queue contract against an in-process node that persists to disk (fsync on every write). */
class LocalQueueOnDiskTest extends QueueContract {
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
