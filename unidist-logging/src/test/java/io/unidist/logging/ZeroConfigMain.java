package io.unidist.logging;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** The program the child-JVM tests start: it only adds the dependency and calls SLF4J. */
public final class ZeroConfigMain {

    private ZeroConfigMain() {
    }

    /**
     * Logs a plain record, one with MDC, key-values and an exception, and one in track
     * {@code audit}, then exits.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        Logger log = LoggerFactory.getLogger(ZeroConfigMain.class);
        log.info("hello from the child");
        MDC.put("request", "r-1");
        log.atWarn().addKeyValue("user", "ann").setCause(new IllegalStateException("boom"))
                .log("with \"everything\"");
        MDC.clear();
        Tracks.logger("audit").info("audited record");
        Tracks.logger("audit").info("second audited record");
        log.info("bye");
    }
}
