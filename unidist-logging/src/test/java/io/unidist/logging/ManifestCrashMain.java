package io.unidist.logging;

import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The program {@link ManifestCrashTest} kills: zero-config logging, records until it is killed. */
public final class ManifestCrashMain {

    private ManifestCrashMain() {
    }

    /**
     * Logs {@code record <i>} from one thread, in bursts of 20 with a millisecond's pause
     * between (pacing, so that the files rotate tens of times a second rather than thousands),
     * until the process is killed.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        Logger log = LoggerFactory.getLogger(ManifestCrashMain.class);
        for (long i = 0; ; i++) {
            log.info("record {}", i);
            if (i % 20 == 19) {
                LockSupport.parkNanos(1_000_000);
            }
        }
    }
}
