package io.unidist.examples;

import io.unidist.LockLease;
import io.unidist.SharedLock;
import io.unidist.Unidist;
import io.unidist.UnidistException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A nightly backup that every host runs, but at most two hosts at once, so that the backup
 * server is never swamped: a shared semaphore of two permits. Each run passes its lease's
 * fencing token to the storage, which refuses a token older than one it has already seen, so a
 * host that stalled past the loss of its lease cannot overwrite a newer backup.
 *
 * <pre>
 * java -Dbackup.dir=/mnt/backups -cp unidist-examples.jar io.unidist.examples.RollingBackup --node=web-1
 * </pre>
 */
public final class RollingBackup {
    /** The semaphore's name. */
    public static final String SEMAPHORE = "backups";
    /** How many backups may run at once. */
    public static final int AT_ONCE = 2;
    /** The counter of backups done, cluster-wide. */
    public static final String DONE = "backups.done";
    private static final Logger log = LoggerFactory.getLogger(RollingBackup.class);

    private RollingBackup() {
    }

    /** One backup run that held a permit: its fencing token and when it held it. */
    public record Run(String host, long fencingToken, Instant start, Instant end) { }

    /** Joins the cluster (see {@link ExampleSettings}) and runs a backup every 10 s until stopped. */
    public static void main(String[] args) throws InterruptedException {
        FencedDirectory storage = new FencedDirectory(Path.of(System.getProperty("backup.dir", "backups")));
        try (Unidist node = ExampleSettings.from(args).join()) {
            while (!Thread.currentThread().isInterrupted()) {
                backupOnce(node, storage, Duration.ofMinutes(5), Duration.ofSeconds(2));
                Thread.sleep(10_000); // a real one runs from cron, once a night
            }
        }
    }

    /**
     * Waits up to {@code wait} for one of the {@value #AT_ONCE} permits, then copies for
     * {@code copyTime} (a stand-in for the real work) and hands the data to {@code storage}
     * with the lease's fencing token.
     *
     * @return the run, or empty when no permit came in time, the lease was lost, or the storage
     *     refused the token
     */
    public static Optional<Run> backupOnce(Unidist node, FencedDirectory storage, Duration wait, Duration copyTime)
            throws InterruptedException {
        String host = node.nodeName();
        SharedLock backups = node.semaphore(SEMAPHORE, AT_ONCE);
        try (LockLease lease = backups.acquire(wait)) {
            Instant start = Instant.now();
            log.info("{}: backup started with fencing token {}; running now: {}", host, lease.fencingToken(),
                    backups.holders());
            Thread.sleep(copyTime.toMillis()); // stands in for reading the files to back up
            String data = "backup of " + host + " taken at " + start + "\n";
            if (!lease.isValid()) {
                log.warn("{}: lost the backup lease (cut off from the cluster); not writing", host);
                return Optional.empty();
            }
            storage.write(host, lease.fencingToken(), data);
            Instant end = Instant.now();
            node.counter(DONE).incrementAndGet();
            log.info("{}: backup done with fencing token {}", host, lease.fencingToken());
            return Optional.of(new Run(host, lease.fencingToken(), start, end));
        } catch (TimeoutException e) {
            log.info("{}: {} backups are running elsewhere; skipping this round", host, AT_ONCE);
        } catch (IOException e) {
            log.warn("{}: the backup storage refused the write: {}", host, e.getMessage());
        } catch (UnidistException e) {
            log.warn("{}: no backup this round, the cluster did not answer: {}", host, e.getMessage());
        }
        return Optional.empty();
    }
}
