package io.unidist.internal.store;

import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Clean-up that must not hide the error being reported: failures are logged with the file, and
 * leave at worst a file that the next open or snapshot deals with.
 */
final class Quietly {
    private static final Logger log = LoggerFactory.getLogger(Quietly.class);

    private Quietly() {
    }

    static void close(AutoCloseable closeable, Path file) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            log.warn("{}: could not close: {}", file, e.toString());
        }
    }

    static void delete(StoreIo io, Path file) {
        try {
            io.delete(file);
        } catch (IOException e) {
            log.warn("{}: could not delete: {}", file, e.toString());
        }
    }
}
