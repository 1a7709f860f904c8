package io.unidist.local;

import io.unidist.MessageQueue;
import io.unidist.SharedCounter;
import io.unidist.SharedState;
import io.unidist.Unidist;
import java.nio.file.Path;

/**
 * The process that {@link CrashSafetyTest} kills: writes state entries, queue messages and
 * counter values in a loop, and prints a line for each write after the call returned, so that
 * the parent knows what it was told was written.
 */
public final class CrashChild {
    private CrashChild() {
    }

    /** Arguments: data directory, first sequence number. */
    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        long start = Long.parseLong(args[1]);
        try (Unidist node = Unidist.local(dir)) {
            SharedState<Long> state = node.state("written", Long.class);
            MessageQueue<Long> queue = node.queue("written", Long.class);
            SharedCounter counter = node.counter("ids");
            System.out.println("READY");
            System.out.flush();
            for (long i = start; ; i++) {
                state.put("k" + i, i);
                System.out.println("S " + i);
                queue.offer(i);
                System.out.println("Q " + i);
                System.out.println("C " + counter.incrementAndGet());
                System.out.flush();
            }
        }
    }
}
