package io.unidist.logging;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The program {@link KillAfterReturnTest} kills: zero-config logging from several threads at
 * once, each printing {@code ack <thread> <i>} on stdout right after the logging call of
 * {@code record <thread> <i>} returned, until the process is killed.
 */
public final class AckingLogMain {

    private AckingLogMain() {
    }

    /**
     * @param args the number of logging threads
     */
    public static void main(String[] args) {
        Logger log = LoggerFactory.getLogger(AckingLogMain.class);
        Logger audit = Tracks.logger("audit");
        int threads = Integer.parseInt(args[0]);
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread logger = new Thread(() -> {
                for (long i = 0; ; i++) {
                    (i % 10 == 9 ? audit : log).info("record {} {}", thread, i);
                    System.out.println("ack " + thread + " " + i); // println: one write(2) to stdout, after the call returned
                }
            }, "logger-" + t);
            started.add(logger);
            logger.start();
        }
        started.forEach(thread -> {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }
}
