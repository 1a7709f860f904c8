package io.unidist.logging.internal;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.util.DefaultJoranConfigurator;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * The zero-config entry point, found by logback through
 * {@code META-INF/services/ch.qos.logback.classic.spi.Configurator}.
 *
 * <p>Why it asks logback's own file search first: logback 1.5's {@code ContextInitializer}
 * runs every configurator found by the service loader, sorted by rank, <em>before</em> its
 * internal ones ({@code SerializedModelConfigurator}, {@code DefaultJoranConfigurator},
 * {@code BasicConfigurator}), whatever their rank. A low rank alone would therefore not let a
 * user's file win. So this configurator runs {@link DefaultJoranConfigurator} itself: when
 * {@code -Dlogback.configurationFile}, {@code logback-test.xml} or {@code logback.xml} is found,
 * that file configures the context and nothing of ours is installed. The low rank
 * ({@link ConfiguratorRank#CUSTOM_LOW_PRIORITY}) lets any other custom configurator go first.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_LOW_PRIORITY)
public final class UnidistConfigurator extends ContextAwareBase implements Configurator {

    /** Called by the service loader. */
    public UnidistConfigurator() {
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        DefaultJoranConfigurator userFiles = new DefaultJoranConfigurator();
        userFiles.setContext(context);
        if (userFiles.configure(context) == ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY) {
            addInfo("a logback configuration file was found; unidist-logging defaults not installed");
            return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
        }
        LogSetup.install(context, LoggingSettings.load());
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
