package io.unidist.local;

import io.unidist.Delivery;
import io.unidist.MessageQueue;
import io.unidist.QueueOptions;
import io.unidist.SharedCounter;
import io.unidist.SharedState;
import io.unidist.Unidist;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The process that {@link CrashSafetyTest} kills. In a loop it overwrites one of {@link #KEYS}
 * state entries, offers a message, consumes one message and increments a counter, and prints a
 * line for each step after the call returned, so that the parent knows what it was told:
 * {@code S i} (key {@code k<i % KEYS>} now holds i), {@code Q i} (message i offered),
 * {@code P m} (message m delivered), {@code A m} (its ack returned), {@code C v} (the counter
 * handed out v).
 *
 * <p>A consumer records a message's effect in the bucket {@code done} before it acknowledges
 * the message, as a real consumer must: a crash between the two redelivers the message, and the
 * effect is repeated idempotently; the other order could lose the effect of an acknowledged one.
 */
public final class CrashChild {
    /** How many state keys the writes cycle through, so that most writes overwrite a key. */
    static final int KEYS = 16;
    /** Every poll is an attempt, and the parent polls too: enough attempts that no message goes dead. */
    static final QueueOptions QUEUE_OPTIONS = QueueOptions.defaults().withMaxAttempts(1_000_000);

    private CrashChild() {
    }

    /** Arguments: data directory, first sequence number. */
    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        long start = Long.parseLong(args[1]);
        PrintStream out = System.out;
        try (Unidist node = Unidist.local(dir)) {
            SharedState<Long> state = node.state("written", Long.class);
            SharedState<Long> done = node.state("done", Long.class);
            MessageQueue<Long> queue = node.queue("written", Long.class, QUEUE_OPTIONS);
            SharedCounter counter = node.counter("ids");
            out.println("READY");
            out.flush();
            for (long i = start; ; i++) {
                state.put("k" + (i % KEYS), i);
                out.println("S " + i);
                queue.offer(i);
                out.println("Q " + i);
                Optional<Delivery<Long>> delivery = queue.poll(Duration.ZERO);
                if (delivery.isPresent()) {
                    long m = delivery.get().message();
                    out.println("P " + m);
                    done.put("m" + m, m);
                    delivery.get().ack();
                    out.println("A " + m);
                }
                out.println("C " + counter.incrementAndGet());
                out.flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
