package io.unidist.logging.internal;

import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.rolling.LengthCounter;
import ch.qos.logback.core.rolling.LengthCounterBase;
import ch.qos.logback.core.rolling.RollingPolicy;
import ch.qos.logback.core.rolling.RolloverFailure;
import ch.qos.logback.core.rolling.TriggeringPolicy;
import ch.qos.logback.core.rolling.helper.CompressionMode;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.stream.Stream;

/**
 * Rotation of one of a program's log files, by size and by day, named as logback's
 * {@code SizeAndTimeBasedRollingPolicy} with {@code <base>.%d{yyyy-MM-dd}.%i.<ext>.gz} names
 * them, and compressed by the set-up's {@link Archiver} (one thread, gzip's fastest level)
 * instead of logback's compressor (default level, up to four threads).
 *
 * <h2>When</h2>
 * Before each write ({@link #isTriggeringEvent}): when the clock has reached the next day
 * (local time of the clock's zone) after the day of the active file's records, or when the
 * bytes in the active file reach {@code maxFileSize} (counted from the file's length at start,
 * then per write).
 *
 * <h2>Names</h2>
 * The active file is {@code <base>.<ext>}. A rollover renames it to
 * {@code <base>.<yyyy-MM-dd>.<i>.<ext><n>.tmp} (the day of its records, a per-day index from 0,
 * a unique number) and hands that to the archiver, which writes
 * {@code <base>.<yyyy-MM-dd>.<i>.<ext>.gz} and removes the rotated file: the names logback uses,
 * which {@link LogFileName} reads. At start the index continues after the highest one of the
 * active file's day among the archives and rotated files already there, and the active file's
 * day is the day it was last modified: records left from an earlier day are archived under that
 * day at the first write.
 *
 * <h2>Failure</h2>
 * A rename that fails throws logback's {@link RolloverFailure}: logback then reopens the same
 * file and goes on appending; the next attempt comes after another {@code maxFileSize} bytes or
 * at the next day.
 *
 * <h2>Thread safety</h2>
 * The trigger check and the rollover are called by the file's writer only (one thread at a time:
 * under the file's lock in {@link TrackFilesAppender}, so logback's own roll-over lock is not
 * needed); the
 * byte count is logback's thread-safe {@link LengthCounterBase}.
 *
 * @param <E> the appender's event type
 */
final class RotationPolicy<E> extends ContextAwareBase implements RollingPolicy, TriggeringPolicy<E> {

    private final Path dir;
    private final String program;
    private final String base;
    private final String extension;
    private final long maxFileSize;
    private final Archiver archiver;
    private final Clock clock;
    private final LengthCounterBase length = new LengthCounterBase();
    private volatile boolean started;
    // the file's writer only
    private LocalDate day;
    private long nextDayMillis;
    private int index;
    private boolean dayEnded;

    /**
     * @param program     the program, as in file names
     * @param base        {@code <program>} or {@code <program>.<track>}
     * @param extension   {@code log} or {@code jsonl}
     * @param maxFileSize the size at which the active file is rotated
     * @param archiver    compresses rotated files
     * @param clock       the time of the day check and the day of the archives
     */
    RotationPolicy(Path dir, String program, String base, String extension, long maxFileSize, Archiver archiver,
                   Clock clock) {
        this.dir = dir;
        this.program = program;
        this.base = base;
        this.extension = extension;
        this.maxFileSize = maxFileSize;
        this.archiver = archiver;
        this.clock = clock;
    }

    @Override
    public void start() {
        Path active = activeFile();
        ZoneId zone = clock.getZone();
        LocalDate today = LocalDate.now(clock);
        try {
            day = LocalDate.ofInstant(Instant.ofEpochMilli(Files.getLastModifiedTime(active).toMillis()), zone);
            if (day.isAfter(today)) {
                day = today; // a file from the future (a clock set back): its records count as today's
            }
        } catch (NoSuchFileException e) {
            day = today;
        } catch (IOException e) {
            day = today;
            addWarn("cannot read the time of " + active + ": " + e);
        }
        nextDayMillis = startOfDayAfter(day);
        index = nextIndex(day);
        started = true;
    }

    @Override
    public void stop() {
        started = false;
    }

    @Override
    public boolean isStarted() {
        return started;
    }

    @Override
    public boolean isTriggeringEvent(File activeFile, E event) {
        if (clock.millis() >= nextDayMillis) {
            dayEnded = true;
            return true;
        }
        return length.getLength() >= maxFileSize;
    }

    /** Counted by logback's appender: the active file's length at start, then every write. */
    @Override
    public LengthCounter getLengthCounter() {
        return length;
    }

    /** Called by the appender with the active file closed; it reopens the active name afterwards. */
    @Override
    public void rollover() throws RolloverFailure {
        String archive = base + "." + day + "." + index + "." + extension;
        Path rotated = dir.resolve(archive + (System.nanoTime() & Long.MAX_VALUE) + ".tmp");
        try {
            Files.move(activeFile(), rotated);
        } catch (NoSuchFileException e) {
            advance(); // nothing was written (or someone removed it): nothing to archive
            return;
        } catch (IOException e) {
            advance();
            throw new RolloverFailure("cannot rename " + activeFile() + " to " + rotated.getFileName(), e);
        }
        advance();
        archiver.compress(rotated, dir.resolve(archive + ".gz"));
    }

    @Override
    public String getActiveFileName() {
        return activeFile().toString();
    }

    @Override
    public CompressionMode getCompressionMode() {
        return CompressionMode.GZ;
    }

    @Override
    public void setParent(FileAppender<?> appender) {
        // the active file's name is this policy's, not the appender's
    }

    /** After a rollover (or an attempt): the next index of the day, or the first of a new day. */
    private void advance() {
        length.reset();
        if (dayEnded) {
            dayEnded = false;
            day = LocalDate.now(clock);
            nextDayMillis = startOfDayAfter(day);
            index = nextIndex(day);
        } else {
            index++;
        }
    }

    private Path activeFile() {
        return dir.resolve(base + "." + extension);
    }

    private long startOfDayAfter(LocalDate date) {
        return date.plusDays(1).atStartOfDay(clock.getZone()).toInstant().toEpochMilli();
    }

    /** One more than the highest index of {@code date} among this file's archives and rotated files, else 0. */
    private int nextIndex(LocalDate date) {
        String stream = base + "." + extension;
        String dateText = date.toString();
        int next = 0;
        try (Stream<Path> list = Files.list(dir)) {
            for (Path path : (Iterable<Path>) list::iterator) {
                LogFileName name = LogFileName.parse(program, path.getFileName().toString());
                if (name != null && name.kind() != LogFileName.Kind.ACTIVE && name.stream().equals(stream)
                        && dateText.equals(name.date())) {
                    next = (int) Math.max(next, Math.min(name.index() + 1, Integer.MAX_VALUE));
                }
            }
        } catch (IOException | RuntimeException e) {
            addWarn("cannot list " + dir + " for the next archive index: " + e);
        }
        return next;
    }
}
