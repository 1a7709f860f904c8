package io.unidist.logging.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * One disk budget for all files of one program in one log directory, across all tracks.
 *
 * <p>Logback's {@code totalSizeCap} counts the archives of one rolling policy only, so N tracks
 * could use N times the cap. {@link #enforce()} (after each archive a program's {@link Archiver}
 * makes; after each rollover of a collector's file) adds up every file whose name starts with
 * {@code <program>.} (active files, archives and rotated files waiting for or in compression;
 * not the scrapers' manifest) and deletes the oldest compressed archives ({@code .gz}) until
 * the sum is at or below the cap. Active files are never deleted, so the sum can exceed the cap
 * by at most the active files' size and the files waiting for compression (the archiver deletes
 * those of a program when they alone break the cap). A file in compression is counted at its
 * uncompressed size, which only errs towards deleting early.
 *
 * <p>Thread safety: {@link #enforce()} is synchronized; a program's own files call it from its
 * {@link Archiver}'s thread, a collector's from the rollovers of its files.
 */
final class DiskBudget {

    private final Path dir;
    private final String prefix;
    private final long capBytes;
    private final java.util.function.Consumer<Path> onDelete;

    /** @param onDelete told of each archive this budget deleted, after the deletion */
    DiskBudget(Path dir, String program, long capBytes, java.util.function.Consumer<Path> onDelete) {
        this.dir = dir;
        this.prefix = program + ".";
        this.capBytes = capBytes;
        this.onDelete = onDelete;
    }

    /** @return the cap in bytes */
    long capBytes() {
        return capBytes;
    }

    /**
     * Deletes the oldest compressed archives until every file of the program fits the cap, or
     * none is left.
     *
     * @return the bytes the program's files take afterwards (0 if the directory cannot be listed)
     */
    synchronized long enforce() {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> list = Files.list(dir)) {
            list.filter(p -> isLogFile(p.getFileName().toString())).forEach(files::add);
        } catch (IOException e) {
            Warnings.warn("cannot list log directory '" + dir + "' to apply the size cap: " + e);
            return 0;
        }
        long total = 0;
        List<Path> archives = new ArrayList<>();
        for (Path file : files) {
            total += sizeOf(file);
            if (file.getFileName().toString().endsWith(".gz")) {
                archives.add(file);
            }
        }
        archives.sort(Comparator.comparingLong(DiskBudget::modified).thenComparing(Path::toString));
        for (int i = 0; i < archives.size() && total > capBytes; i++) {
            long size = sizeOf(archives.get(i));
            try {
                if (Files.deleteIfExists(archives.get(i))) {
                    onDelete.accept(archives.get(i));
                }
                total -= size;
            } catch (IOException e) {
                Warnings.warn("cannot delete '" + archives.get(i) + "' to keep the size cap: " + e);
            }
        }
        return total;
    }

    /**
     * Files of the program count, except its manifest: that is metadata about the logs, about
     * 330 bytes per file listed, and counting it would make small caps delete archives to
     * make room for their own listing.
     */
    private boolean isLogFile(String name) {
        return name.startsWith(prefix) && !name.equals(prefix + "manifest.json")
                && !name.equals(prefix + "manifest.json.tmp");
    }

    static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0; // deleted meanwhile, e.g. a compression temporary
        }
    }

    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return Long.MIN_VALUE;
        }
    }
}
