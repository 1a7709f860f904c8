package io.unidist.examples;

import io.unidist.SharedCounter;
import io.unidist.Unidist;
import io.unidist.UnidistException;
import java.time.Duration;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Job ids that are unique across every host: a shared counter hands each one out once, even
 * when a host is killed in the middle or the whole cluster restarts.
 *
 * <pre>
 * java -cp unidist-examples.jar io.unidist.examples.UniqueJobIds --node=web-1
 * </pre>
 */
public final class UniqueJobIds {
    /** The counter every host takes its ids from. */
    public static final String COUNTER = "job-ids";
    private static final Logger log = LoggerFactory.getLogger(UniqueJobIds.class);

    private UniqueJobIds() {
    }

    /** Joins the cluster (see {@link ExampleSettings}) and takes a new id twice a second until stopped. */
    public static void main(String[] args) throws InterruptedException {
        try (Unidist node = ExampleSettings.from(args).join()) {
            run(node, Duration.ofMillis(500), id -> log.info("{}: new job id {}", node.nodeName(), id));
        }
    }

    /** A new id: never the same as any other host ever got from {@link #COUNTER}. */
    public static long nextId(Unidist node) {
        return node.counter(COUNTER).incrementAndGet();
    }

    /**
     * Takes a new id every {@code pause} and hands it to {@code use}, until the thread is
     * interrupted. While the cluster has no majority, the call fails and the loop tries again.
     */
    public static void run(Unidist node, Duration pause, LongConsumer use) throws InterruptedException {
        SharedCounter ids = node.counter(COUNTER);
        while (!Thread.currentThread().isInterrupted()) {
            try {
                use.accept(ids.incrementAndGet());
            } catch (UnidistException e) {
                // no majority reachable in time (a voter failed over): the id was maybe used up, never repeated
                log.warn("{}: no id this time: {}", node.nodeName(), e.getMessage());
            }
            Thread.sleep(pause.toMillis()); // pacing: an id twice a second is plenty for the example
        }
    }
}
