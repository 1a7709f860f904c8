package io.unidist.logging.internal;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Problems of the logging set-up itself, written to stderr because logging may be what broke.
 * Each distinct warning is written once per process.
 */
final class Warnings {

    private static final Set<String> SEEN = ConcurrentHashMap.newKeySet();

    private Warnings() {
    }

    static void warn(String message) {
        if (SEEN.add(message)) {
            System.err.println("unidist-logging: WARNING: " + message);
        }
    }
}
