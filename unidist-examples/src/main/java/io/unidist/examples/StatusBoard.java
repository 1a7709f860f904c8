package io.unidist.examples;

import io.unidist.SharedState;
import io.unidist.Subscription;
import io.unidist.Unidist;
import io.unidist.UnidistException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every host publishes a line about itself to the shared bucket {@code status}, with a time to
 * live of 5 s that it renews every second, and watches the others: a host that stops renewing
 * (it crashed, or is cut off) disappears from the board within 5 s, and every watcher hears it.
 *
 * <pre>
 * java -cp unidist-examples.jar io.unidist.examples.StatusBoard --node=web-1
 * </pre>
 */
public final class StatusBoard {
    /** The bucket's name. */
    public static final String BUCKET = "status";
    /** How long an entry lives unless renewed. */
    public static final Duration TTL = Duration.ofSeconds(5);
    private static final Logger log = LoggerFactory.getLogger(StatusBoard.class);

    private StatusBoard() {
    }

    /** Joins the cluster (see {@link ExampleSettings}), publishes "up N s" and logs the others' news. */
    public static void main(String[] args) throws InterruptedException {
        Instant started = Instant.now();
        try (Unidist node = ExampleSettings.from(args).join()) {
            run(node, Duration.ofSeconds(1), () -> "up " + Duration.between(started, Instant.now()).toSeconds() + " s",
                    (host, status) -> { });
        }
    }

    /**
     * Watches the board (see {@link #watch}) and publishes {@code status()} every {@code every},
     * until interrupted.
     */
    public static void run(Unidist node, Duration every, Supplier<String> status,
            BiConsumer<String, Optional<String>> changes) throws InterruptedException {
        Subscription watching = null;
        try {
            while (watching == null) { // watching needs a majority of the voters: wait for one
                try {
                    watching = watch(node, changes);
                } catch (UnidistException e) {
                    log.info("{}: cannot watch the board yet: {}", node.nodeName(), e.getMessage());
                    Thread.sleep(1000); // pacing of the retry
                }
            }
            publishEvery(node, every, status);
        } finally {
            if (watching != null) {
                watching.close();
            }
        }
    }

    /** The board: host name to its latest status. */
    public static SharedState<String> board(Unidist node) {
        return node.state(BUCKET, String.class);
    }

    /** Publishes {@code status()} every {@code every}, with the {@link #TTL}, until interrupted. */
    public static void publishEvery(Unidist node, Duration every, Supplier<String> status) throws InterruptedException {
        SharedState<String> board = board(node);
        while (!Thread.currentThread().isInterrupted()) {
            try {
                board.put(node.nodeName(), status.get(), TTL);
            } catch (UnidistException e) {
                log.warn("{}: could not publish my status: {}", node.nodeName(), e.getMessage());
            }
            Thread.sleep(every.toMillis()); // renewing well within the TTL
        }
    }

    /**
     * Logs when a host appears on the board or leaves it, and passes every change to
     * {@code changes} (an empty status: the host left, or its entry expired). Close to stop.
     *
     * @throws UnidistException when the cluster does not answer in time (no majority of voters)
     */
    public static Subscription watch(Unidist node, BiConsumer<String, Optional<String>> changes) {
        Set<String> seen = ConcurrentHashMap.newKeySet();
        Map<String, String> now = board(node).snapshot();
        seen.addAll(now.keySet());
        log.info("{}: on the status board now: {}", node.nodeName(), now);
        return board(node).watch((host, status) -> {
            if (status.isPresent() && seen.add(host)) {
                log.info("{}: {} appeared: {}", node.nodeName(), host, status.get());
            } else if (status.isEmpty() && seen.remove(host)) {
                log.warn("{}: {} left the board (no news for {} s)", node.nodeName(), host, TTL.toSeconds());
            }
            changes.accept(host, status);
        });
    }
}
