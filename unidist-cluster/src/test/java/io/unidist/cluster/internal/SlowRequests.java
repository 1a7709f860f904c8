package io.unidist.cluster.internal;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jgroups.Message;
import org.jgroups.stack.Protocol;

/**
 * A slow link for unidist's requests only: a protocol at the top of a node's stack that holds
 * each outgoing unidist request for a while before sending it. JGroups' own traffic (heartbeats,
 * views) passes at once, so failure detection sees a healthy node; only the answers come late.
 */
final class SlowRequests extends Protocol {
    private final long delayMillis;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            RaftServer.daemon("slow-requests"));

    SlowRequests(long delayMillis) {
        this.delayMillis = delayMillis;
    }

    private volatile boolean dropping;

    /** While on, unidist's requests are dropped instead of held: lost for good, as to a leader that crashed. */
    SlowRequests dropping(boolean on) {
        dropping = on;
        return this;
    }

    @Override
    public Object down(Message msg) {
        if (isRequest(msg) && dropping) {
            return null;
        }
        if (isRequest(msg)) {
            timer.schedule(() -> down_prot.down(msg), delayMillis, TimeUnit.MILLISECONDS);
            return null;
        }
        return down_prot.down(msg);
    }

    private static boolean isRequest(Message msg) {
        if (!msg.hasArray() || msg.getLength() < 4) {
            return false;
        }
        byte[] b = msg.getArray();
        int o = msg.getOffset();
        return b[o] == Wire.MAGIC_0 && b[o + 1] == Wire.MAGIC_1 && b[o + 3] == Wire.REQUEST;
    }

    @Override
    public void destroy() {
        timer.shutdownNow();
        super.destroy();
    }
}
