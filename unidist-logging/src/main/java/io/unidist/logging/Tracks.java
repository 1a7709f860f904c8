package io.unidist.logging;

import ch.qos.logback.classic.LoggerContext;
import io.unidist.logging.internal.LogSetup;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loggers whose records go to their own files.
 *
 * <pre>{@code
 * Logger audit = Tracks.logger("audit");
 * audit.info("user {} signed in", user);   // -> logs/<program>.audit.log and .audit.jsonl
 * }</pre>
 *
 * <p>With the unidist defaults installed, a track's records go to {@code <program>.<track>.log}
 * and {@code <program>.<track>.jsonl} in the log directory, rotated like the main files and
 * counted in the same total size cap; they do not appear on the console or in the main files
 * (unless the log directory is unwritable: then everything goes to the console).
 * Caller file and line can be turned on or off per track with
 * {@code unidist.logging.track.<track>.callerData=true|false} (the default is
 * {@code unidist.logging.callerData}, on).
 *
 * <p>When a user's own {@code logback.xml} configured logback, this returns the plain logger
 * named {@code unidist.track.<track>}, and that file decides where its records go.
 *
 * <p>Thread safety: may be called from any thread; repeated calls return the same logger.
 */
public final class Tracks {

    private Tracks() {
    }

    /**
     * The logger of {@code track}.
     *
     * @param track 1 to 64 letters, digits, '-' or '_'
     * @return an SLF4J logger writing to the track's files
     * @throws IllegalArgumentException if the name has other characters or is empty
     */
    public static Logger logger(String track) {
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (factory instanceof LoggerContext context) {
            LogSetup setup = LogSetup.of(context);
            if (setup != null) {
                return setup.track(track);
            }
        }
        LogSetup.checkTrackName(track);
        return LoggerFactory.getLogger(LogSetup.TRACK_PREFIX + track);
    }
}
