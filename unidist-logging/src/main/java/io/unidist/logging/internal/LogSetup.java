package io.unidist.logging.internal;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.util.StatusPrinter2;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Installs the unidist defaults into a logback {@link LoggerContext}: a console line, and per
 * track a rolling plain-text file and a rolling JSON-lines file under one {@link DiskBudget}.
 *
 * <p>Files, with {@code <base>} = {@code <program>} for the default track and
 * {@code <program>.<track>} for a named one: {@code <dir>/<base>.log}, {@code <dir>/<base>.jsonl},
 * archived as {@code <base>.<yyyy-MM-dd>.<i>.log.gz} and {@code .jsonl.gz} (logback's names) by
 * {@link RotationPolicy} (daily and at the size limit) and the set-up's one {@link Archiver}
 * thread, which compresses, applies the age limit and the {@link DiskBudget}. One appender per track,
 * {@link TrackFilesAppender}, takes the caller that the set-up's {@link CallerCapture} turbo
 * filter found (or finds it), encodes both lines once and writes both files,
 * one write each; the two file appenders it writes through are logback's rolling appenders
 * ({@link EncodedFileAppender}), not attached to any logger.
 *
 * <p>With {@code unidist.logging.manifest.enabled} (the default) the file appenders are
 * {@link ManifestedFileAppender}s and a {@link LogManifest} follows every file of the program
 * for scrapers; it is registered with the context, so a reset or stop writes it a last time.
 *
 * <p>With {@code unidist.logging.syslog.enabled}, one syslog appender ({@link SyslogAppenders})
 * is attached to the root and to each track it sends; see {@link Rfc5424Appender} for what it
 * guarantees.
 *
 * <p>Failure: when the log directory cannot be created or written, one warning goes to stderr,
 * the console appender is installed even if it was turned off, no file appender is made,
 * and tracks log to the console too; the program runs on.
 *
 * <p>Thread safety: {@link #track} may be called from any thread; each track's appenders are
 * made once.
 */
public final class LogSetup {

    /** Key under which the set-up is stored in the logger context. */
    static final String CONTEXT_KEY = LogSetup.class.getName();
    /** Logger name prefix of tracks; a track's logger does not pass records to the root. */
    public static final String TRACK_PREFIX = "unidist.track.";
    static final String MAIN_TRACK = "main";

    private static final Pattern TRACK_NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private final LoggerContext context;
    private final LoggingSettings settings;
    private final boolean filesEnabled;
    private final DiskBudget budget;
    /** Compresses rotated files, one thread for every file of the set-up; {@code null} without files. */
    private final Archiver archiver;
    private final Clock clock = Clock.systemDefaultZone();
    private final String host;
    private final long pid = ProcessHandle.current().pid();
    private final Map<String, Logger> tracks = new ConcurrentHashMap<>();
    /** Every track's file appenders by name ({@code <base>.log}, {@code <base>.jsonl}). */
    private final Map<String, EncodedFileAppender<ILoggingEvent>> fileAppenders = new ConcurrentHashMap<>();
    /** The scrapers' manifest, or {@code null} when turned off or without files. */
    private final LogManifest manifest;
    /** Appenders that take every track's records, present and future (log forwarding). */
    private final java.util.List<ch.qos.logback.core.Appender<ILoggingEvent>> everyTrack =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    /**
     * The syslog appender, or {@code null} when syslog is off or could not start. Set by
     * {@link #install} before the set-up is published in the context, once the files are
     * attached, so that the sender's first reports (an unreachable server) reach them.
     */
    private Appender<ILoggingEvent> syslog;
    /** Walks for callers; {@code null} without files. */
    private final CallerFinder callers;
    /** Finds callers in logback's turbo filter (see there); {@code null} without files. */
    private final CallerCapture capture;
    /** Whether a track's logger needs a caller, by logger name (main's loggers are not in it). */
    private final Map<String, Boolean> trackCaller = new ConcurrentHashMap<>();
    private final boolean mainCaller;

    private LogSetup(LoggerContext context, LoggingSettings settings) {
        this.context = context;
        this.settings = settings;
        this.filesEnabled = prepareDirectory(settings.dir);
        this.host = hostName();
        this.manifest = filesEnabled && settings.manifest ? LogManifest.start(settings.dir, settings.program,
                host, pid, settings.manifestIntervalMillis) : null;
        java.util.function.Consumer<Path> onDelete = manifest == null ? deleted -> { } : manifest::deleted;
        this.budget = new DiskBudget(settings.dir, settings.program, settings.totalSizeCap.getSize(), onDelete);
        this.archiver = filesEnabled ? new Archiver(settings.dir, settings.program, settings.maxHistoryDays, budget,
                onDelete, clock) : null;
        this.mainCaller = settings.callerData(MAIN_TRACK);
        this.callers = filesEnabled ? new CallerFinder(context.getFrameworkPackages()) : null;
        this.capture = filesEnabled ? new CallerCapture(callers, this::wantsCaller) : null;
    }

    private boolean wantsCaller(Logger logger) {
        String name = logger.getName();
        if (!name.startsWith(TRACK_PREFIX)) {
            return mainCaller;
        }
        return trackCaller.computeIfAbsent(name, n -> settings.callerData(trackOf(n)));
    }

    /**
     * Resets {@code context} and installs the defaults described by {@code settings}.
     *
     * @return the installed set-up, also stored in the context for {@link #of}
     */
    public static LogSetup install(LoggerContext context, LoggingSettings settings) {
        context.reset();
        if (context.getMDCAdapter() == null) {
            // a context made with new LoggerContext() (tests, benchmarks) shares SLF4J's MDC
            context.setMDCAdapter(org.slf4j.MDC.getMDCAdapter());
        }
        LogSetup setup = new LogSetup(context, settings);
        // one number per event, shared by every appender that writes it (logback assigns it when the event is made);
        // with files, the caller capture numbers them, as it binds a caller to its event by that number
        if (setup.capture != null) {
            context.setSequenceNumberGenerator(setup.capture);
            setup.capture.setContext(context);
            setup.capture.start();
            context.addTurboFilter(setup.capture);
        } else {
            context.setSequenceNumberGenerator(new ch.qos.logback.core.spi.BasicSequenceNumberGenerator());
        }
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(settings.rootLevel);
        settings.levels.forEach((name, level) -> context.getLogger(name).setLevel(level));
        if (settings.console || !setup.filesEnabled) {
            root.addAppender(setup.console());
        }
        if (setup.filesEnabled) {
            setup.attachFiles(root, settings.program, MAIN_TRACK);
        }
        if (settings.syslog.enabled) {
            setup.syslog = SyslogAppenders.start(context, settings, setup.host, setup.pid);
            if (setup.syslog != null) {
                root.addAppender(setup.syslog); // its filter picks the tracks and the level it sends
            }
        }
        context.putObject(CONTEXT_KEY, setup);
        if (setup.manifest != null) {
            context.register(setup.manifest); // a reset or stop of the context writes it a last time
        }
        if (setup.archiver != null) {
            context.register(setup.archiver); // a reset or stop lets queued compressions finish
        }
        // as logback does after reading an XML file: a set-up problem must not go unseen
        new StatusPrinter2().printInCaseOfErrorsOrWarnings(context);
        return setup;
    }

    /** @return the set-up installed in {@code context}, or {@code null} if a user file configured it */
    public static LogSetup of(LoggerContext context) {
        return (LogSetup) context.getObject(CONTEXT_KEY);
    }

    /** @return the settings this set-up was made from */
    public LoggingSettings settings() {
        return settings;
    }

    /** @return the scrapers' manifest, or {@code null} when it is turned off or there are no files */
    LogManifest manifest() {
        return manifest;
    }

    /**
     * The logger of {@code track}, with its own files made on first use.
     *
     * @throws IllegalArgumentException if the name is not 1 to 64 letters, digits, '-' or '_'
     */
    public Logger track(String name) {
        checkTrackName(name);
        return tracks.computeIfAbsent(name, n -> {
            Logger logger = context.getLogger(TRACK_PREFIX + n);
            // with no files, a track's records go to the console like every other record
            logger.setAdditive(!filesEnabled);
            if (filesEnabled) {
                attachFiles(logger, settings.program + "." + n, n);
                everyTrack.forEach(logger::addAppender);
            }
            if (syslog != null && !logger.isAdditive() && settings.syslog.sends(n)) {
                logger.addAppender(syslog); // an additive track reaches the root's syslog appender already
            }
            return logger;
        });
    }

    /**
     * @throws IllegalArgumentException if {@code name} is not 1 to 64 letters, digits, '-' or '_'
     */
    public static void checkTrackName(String name) {
        if (name == null || !TRACK_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("track name '" + name
                    + "' is not allowed: use 1 to 64 letters, digits, '-' or '_'");
        }
    }

    /**
     * Attaches {@code appender} to the root logger and to every track's logger, including
     * tracks made later; {@link #detachFromEveryTrack} undoes it.
     */
    public synchronized void attachToEveryTrack(ch.qos.logback.core.Appender<ILoggingEvent> appender) {
        everyTrack.add(appender);
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(appender);
        if (filesEnabled) {
            tracks.values().forEach(logger -> logger.addAppender(appender));
        }
    }

    /** Detaches an appender attached by {@link #attachToEveryTrack}. */
    public synchronized void detachFromEveryTrack(ch.qos.logback.core.Appender<ILoggingEvent> appender) {
        everyTrack.remove(appender);
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(appender);
        tracks.values().forEach(logger -> logger.detachAppender(appender));
    }

    /** The context this set-up configured. */
    public LoggerContext context() {
        return context;
    }

    /** A started JSON-lines encoder for {@code track}, as the track's own file uses. */
    public JsonLinesEncoder jsonEncoder(String track) {
        JsonLinesEncoder encoder = new JsonLinesEncoder(host, settings.program, pid, track,
                settings.callerData(track), settings.maxMessageChars);
        encoder.setContext(context);
        encoder.start();
        return encoder;
    }

    /**
     * The track a logger belongs to: {@code audit} for {@code unidist.track.audit} (and its
     * children), {@code main} for every other logger.
     */
    public static String trackOf(String loggerName) {
        if (loggerName == null || !loggerName.startsWith(TRACK_PREFIX)) {
            return MAIN_TRACK;
        }
        int end = loggerName.indexOf('.', TRACK_PREFIX.length());
        return loggerName.substring(TRACK_PREFIX.length(), end < 0 ? loggerName.length() : end);
    }

    private ConsoleAppender<ILoggingEvent> console() {
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName("unidist-console");
        // the platform's charset, as the terminal expects (the files are UTF-8)
        appender.setEncoder(pattern("%d{HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n", null));
        appender.start();
        return appender;
    }

    private void attachFiles(Logger logger, String base, String track) {
        boolean caller = settings.callerData(track);
        PatternLayoutEncoder textLayout = pattern(RecordEncoder.TEXT_PATTERN_HEAD
                + (caller ? " %file:%line" : "") + " - %msg%n", StandardCharsets.UTF_8);
        EncodedFileAppender<ILoggingEvent> text = rollingFile(base, "log", track, textLayout);
        EncodedFileAppender<ILoggingEvent> json = rollingFile(base, "jsonl", track, jsonEncoder(track));
        RecordEncoder encoder = new RecordEncoder(host, settings.program, pid, track, caller,
                settings.maxMessageChars, textLayout);
        TrackFilesAppender files = new TrackFilesAppender(base + ".files", caller ? capture : null,
                caller ? callers : null, encoder, text, json);
        files.setContext(context);
        files.start();
        fileAppenders.put(text.getName(), text);
        fileAppenders.put(json.getName(), json);
        logger.addAppender(files); // first: it sets the caller that later appenders (syslog, forwarding) read
    }

    /** For tests: the file appender named {@code <base>.log} or {@code <base>.jsonl}, or {@code null}. */
    EncodedFileAppender<ILoggingEvent> fileAppender(String name) {
        return fileAppenders.get(name);
    }

    private EncodedFileAppender<ILoggingEvent> rollingFile(String base, String extension, String track,
                                                           Encoder<ILoggingEvent> encoder) {
        if (!encoder.isStarted()) {
            encoder.setContext(context);
            encoder.start();
        }
        EncodedFileAppender<ILoggingEvent> appender = manifest == null ? new EncodedFileAppender<>()
                : ManifestedFileAppender.local(manifest, settings.program, track,
                        extension.equals("jsonl") ? "json" : "text", pid);
        appender.setContext(context);
        appender.setName(base + "." + extension);
        appender.setFile(settings.dir.resolve(base + "." + extension).toString());
        RotationPolicy<ILoggingEvent> policy = new RotationPolicy<>(settings.dir, settings.program, base, extension,
                settings.maxFileSize.getSize(), archiver, clock);
        policy.setContext(context);
        policy.start();
        appender.setRollingPolicy(policy);
        appender.setEncoder(encoder);
        appender.start();
        return appender;
    }

    private PatternLayoutEncoder pattern(String pattern, Charset charset) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(pattern);
        encoder.setCharset(charset);
        encoder.start();
        return encoder;
    }

    private static boolean prepareDirectory(Path dir) {
        try {
            Files.createDirectories(dir);
            if (!Files.isWritable(dir)) {
                throw new IOException("no write permission");
            }
            return true;
        } catch (IOException | RuntimeException e) {
            Warnings.warn("log directory '" + dir.toAbsolutePath() + "' is not writable (" + e
                    + "); logging to the console only");
            return false;
        }
    }

    /** The host name written in records and manifests: {@code $HOSTNAME}, else the local host's name. */
    static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }
}
