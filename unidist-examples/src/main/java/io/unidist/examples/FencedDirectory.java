package io.unidist.examples;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;

/**
 * The resource a lock protects, in {@link RollingBackup}: a directory that keeps the latest
 * backup of each host and refuses a write whose fencing token is not newer than that of the
 * backup it holds. A real one would be an object store with conditional writes or a database
 * row with a version; the point is that the <em>resource</em> checks the token, so that a
 * writer whose lease has expired behind its back (a long GC pause, a partition) is refused.
 *
 * <p>Files: {@code <host>.backup} (the data) and {@code <host>.token} (its fencing token).
 * One writer per host at a time, which the lock ensures; several processes may share the
 * directory.
 */
public final class FencedDirectory {
    private final Path dir;

    /** A fenced directory at {@code dir}, created when missing. */
    public FencedDirectory(Path dir) {
        this.dir = Objects.requireNonNull(dir, "dir");
    }

    /**
     * Stores {@code data} as the backup of {@code host}, unless a backup with a token of
     * {@code fencingToken} or newer is already there.
     *
     * @throws IOException when the token is stale (the message says so) or the disk fails
     */
    public void write(String host, long fencingToken, String data) throws IOException {
        Files.createDirectories(dir);
        long newest = newestToken(host);
        if (fencingToken <= newest) {
            throw new IOException("stale fencing token " + fencingToken + " for the backup of " + host
                    + ": it already holds one with token " + newest);
        }
        replace(dir.resolve(host + ".backup"), data);
        replace(dir.resolve(host + ".token"), Long.toString(fencingToken));
    }

    /** The token of the backup of {@code host} held now, 0 when none. */
    public long newestToken(String host) throws IOException {
        Path file = dir.resolve(host + ".token");
        return Files.exists(file) ? Long.parseLong(Files.readString(file).trim()) : 0;
    }

    private static void replace(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
