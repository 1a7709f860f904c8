package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Many threads take seqs and send low watermarks at once: the state machine must never see a
 * request whose seq is below a low watermark it was already sent (it would refuse it as a
 * finished request).
 */
class SessionSeqTest {
    /** The state machine's side: the highest watermark seen, and refusals. */
    private static final class Server {
        private long watermark;
        final AtomicInteger refused = new AtomicInteger();

        synchronized void receive(long seq, long lowWatermark) {
            if (seq < watermark) {
                refused.incrementAndGet();
            }
            watermark = Math.max(watermark, lowWatermark);
        }
    }

    @Test
    void noRequestIsSentBelowAWatermarkAlreadySent() throws Exception {
        Session session = new Session(null);
        Server server = new Server();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            futures.add(pool.submit(() -> {
                for (int i = 0; i < 20_000; i++) {
                    long seq = session.nextSeq();
                    server.receive(seq, session.lowWatermark());
                    session.done(seq);
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdownNow();
        assertEquals(0, server.refused.get());
    }
}
