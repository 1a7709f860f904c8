package io.unidist.internal;

import io.unidist.TimeSource;
import io.unidist.Unidist;
import java.nio.file.Path;

/** In-process node (being written). */
public final class LocalUnidist {
    private LocalUnidist() {
    }

    /** Starts a node. */
    public static Unidist start(String nodeName, Path dataDir, TimeSource time) {
        throw new UnsupportedOperationException("not yet");
    }
}
