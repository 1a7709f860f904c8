package io.unidist.logging;

import ch.qos.logback.classic.LoggerContext;
import io.unidist.logging.internal.LogSetup;
import io.unidist.logging.internal.LoggingSettings;
import java.util.Properties;

/**
 * Installs the unidist defaults into a logback context of your own.
 *
 * <p>Programs do not need this: adding the dependency is enough (see the package javadoc).
 * It is for tests and benchmarks that build a private {@link LoggerContext}, and for programs
 * that want to re-apply the defaults after changing settings.
 *
 * <p>Thread safety: configure a context before handing its loggers to other threads.
 */
public final class UnidistLogging {

    private UnidistLogging() {
    }

    /**
     * Resets {@code context} and installs the console, file and JSON-lines appenders.
     *
     * @param context  the logback context to configure
     * @param settings keys as in the package javadoc; only these and the defaults are used,
     *                 not system properties or {@code unidist-logging.properties}
     */
    public static void configure(LoggerContext context, Properties settings) {
        LogSetup.install(context, LoggingSettings.of(settings));
    }

    /**
     * The logger of {@code track} in {@code context}, like {@link Tracks#logger(String)} does
     * for the global context.
     *
     * @throws IllegalStateException if {@code context} was not configured by {@link #configure}
     * @throws IllegalArgumentException if the track name is not allowed
     */
    public static org.slf4j.Logger track(LoggerContext context, String track) {
        LogSetup setup = LogSetup.of(context);
        if (setup == null) {
            throw new IllegalStateException("logger context '" + context.getName()
                    + "' was not configured by UnidistLogging.configure");
        }
        return setup.track(track);
    }
}
