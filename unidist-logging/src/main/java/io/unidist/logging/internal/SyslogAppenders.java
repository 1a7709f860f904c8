package io.unidist.logging.internal;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.net.SyslogAppender;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import java.nio.charset.StandardCharsets;

/**
 * Makes the syslog appender that the {@code unidist.logging.syslog.*} keys describe: our
 * {@link Rfc5424Appender} for {@code udp}, {@code tcp} and {@code tls}, logback's own
 * {@link SyslogAppender} (RFC 3164) for {@code udp3164}. Both carry a {@link SyslogFilter}.
 *
 * <p>Failure: nothing here throws at the program. A bad TLS store is warned about by
 * {@link SyslogTls}; an unreachable server is reported by the sender while it retries; if
 * logback's RFC 3164 appender cannot start (an unknown host), one warning names the keys and
 * no syslog appender is installed. Local files and the console are not affected either way.
 */
final class SyslogAppenders {

    /** Name of the syslog appender in the context. */
    static final String NAME = "unidist-syslog";

    private SyslogAppenders() {
    }

    /** @return the started appender, or {@code null} when it could not start (warned) */
    static Appender<ILoggingEvent> start(LoggerContext context, LoggingSettings settings, String host, long pid) {
        SyslogSettings s = settings.syslog;
        Appender<ILoggingEvent> appender = s.protocol == SyslogSettings.Protocol.UDP3164
                ? rfc3164(s, pid) : rfc5424(context, settings, host, pid);
        appender.setContext(context);
        appender.setName(NAME);
        appender.addFilter(new SyslogFilter(s));
        appender.start();
        if (!appender.isStarted()) {
            Warnings.warn("syslog " + keys(s) + " could not start (see logback's messages above);"
                    + " records are not sent to syslog");
            return null;
        }
        return appender;
    }

    private static Appender<ILoggingEvent> rfc5424(LoggerContext context, LoggingSettings settings,
                                                    String host, long pid) {
        SyslogSettings s = settings.syslog;
        Rfc5424Format format = new Rfc5424Format(s.facility, host, s.appName, Long.toString(pid),
                s.maxMessageSize, settings::callerData);
        SyslogReporter reporter = new SyslogReporter(context.getLogger(SyslogReporter.LOGGER), keys(s),
                "check " + SyslogSettings.SYSLOG + "tls.trustStore="
                        + (s.trustStore == null ? "(unset: the JDK's default trust store)" : s.trustStore)
                        + " and " + SyslogSettings.SYSLOG + "tls.verifyHostname=" + s.verifyHostname,
                s.queueSize, System::nanoTime);
        SyslogTransport transport = switch (s.protocol) {
            case TCP -> new StreamTransport(s.host, s.port, (int) s.connectTimeoutMillis, null, false);
            case TLS -> new StreamTransport(s.host, s.port, (int) s.connectTimeoutMillis,
                    SyslogTls.socketFactory(s), s.verifyHostname);
            default -> new UdpTransport(s.host, s.port);
        };
        SyslogSender sender = new SyslogSender(transport, s.queueSize, reporter, "unidist-syslog-sender");
        return new Rfc5424Appender(format, sender, reporter);
    }

    /** Logback's appender; the TAG is {@code app[pid]:} as RFC 3164 and syslog daemons expect. */
    private static Appender<ILoggingEvent> rfc3164(SyslogSettings s, long pid) {
        SyslogAppender appender = new SyslogAppender();
        appender.setSyslogHost(s.host);
        appender.setPort(s.port);
        appender.setFacility(s.facilityName);
        appender.setMaxMessageSize(s.maxMessageSize);
        appender.setCharset(StandardCharsets.UTF_8);
        appender.setSuffixPattern(tag(s.appName) + "[" + pid + "]: [%thread] %logger - %msg");
        return appender;
    }

    /** RFC 3164 §4.1.3: the TAG is at most 32 alphanumeric characters; also safe in a logback pattern. */
    static String tag(String appName) {
        String tag = appName.replaceAll("[^A-Za-z0-9._-]", "_");
        return tag.length() > 32 ? tag.substring(0, 32) : tag;
    }

    /** The server and the keys that name it, for warnings. */
    static String keys(SyslogSettings s) {
        return s.target() + " (" + SyslogSettings.SYSLOG + "host=" + s.host + ", "
                + SyslogSettings.SYSLOG + "port=" + s.port + ", " + SyslogSettings.SYSLOG + "protocol="
                + s.protocol.keyword + ")";
    }
}
