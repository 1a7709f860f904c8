package io.unidist.examples;

import io.unidist.Unidist;
import io.unidist.logging.LogForwarding;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Central logs with no log server: every host logs through SLF4J as usual, and
 * {@link LogForwarding} sends each record to the cluster's collector (a voter), which writes
 * every host's records under its {@code logs/collected/}, one file per host and track.
 *
 * <pre>
 * java -cp unidist-examples.jar io.unidist.examples.CentralLogging --node=web-1
 * ls logs/collected/     # on the collector: collected.web-1.main.jsonl, collected.web-2.main.jsonl, ...
 * </pre>
 *
 * <p>A record is kept in an on-disk spool until the collector has written it, so a collector
 * that dies or a host that restarts loses nothing; each collected line starts with its key
 * (node, process incarnation, sequence number) so that a reader can drop the rare repeat.
 */
public final class CentralLogging {
    private static final Logger log = LoggerFactory.getLogger(CentralLogging.class);

    private CentralLogging() {
    }

    /** Joins the cluster (see {@link ExampleSettings}) and logs a heartbeat every 2 s until stopped. */
    public static void main(String[] args) throws InterruptedException {
        try (Unidist node = ExampleSettings.from(args).join();
             LogForwarding forwarding = LogForwarding.start(node)) {
            log.info("{}: forwarding to {}", node.nodeName(), forwarding.collectors());
            run(node, log, Duration.ofSeconds(2));
        }
    }

    /** Logs a heartbeat to {@code out} with the host in the MDC every {@code pause}, until the thread is interrupted. */
    public static void run(Unidist node, Logger out, Duration pause) throws InterruptedException {
        long beat = 0;
        while (!Thread.currentThread().isInterrupted()) {
            try (MDC.MDCCloseable host = MDC.putCloseable("host", node.nodeName())) {
                out.info("heartbeat {} from {}", ++beat, node.nodeName());
            }
            Thread.sleep(pause.toMillis()); // pacing of the example
        }
    }
}
