package io.unidist.logging;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A child program that logs a burst and returns from {@code main} at once, without stopping logback. */
public final class SyslogExitMain {

    private SyslogExitMain() {
    }

    /**
     * Logs {@code args[0]} records, then {@code last record}, and exits.
     *
     * @param args the number of records
     */
    public static void main(String[] args) {
        Logger log = LoggerFactory.getLogger(SyslogExitMain.class);
        int count = Integer.parseInt(args[0]);
        for (int i = 0; i < count; i++) {
            log.info("record {}", i);
        }
        log.info("last record");
    }
}
