package io.unidist.cluster.internal;

import java.time.Duration;
import org.jgroups.util.ByteArrayDataInputStream;
import org.jgroups.util.ByteArrayDataOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's session with the state machine and the numbering of its writes.
 *
 * <p>The low watermark sent with each write is the smallest seq still in flight: the state
 * machine forgets answers below it and refuses writes below it, so a delayed duplicate of a
 * finished write can never be applied again.
 */
final class Session {
    private static final Logger log = LoggerFactory.getLogger(Session.class);

    private final ClusterNode node;
    /**
     * Guards taking a seq together with marking it in flight: a seq taken but not yet marked
     * would let another thread send a low watermark above it, and the state machine would
     * then refuse it as a finished request. Not {@code this}, which {@link #id} holds while it
     * waits for the cluster.
     */
    private final Object seqLock = new Object();
    private long seqs;
    private final java.util.TreeSet<Long> inFlight = new java.util.TreeSet<>();
    private volatile long id;

    Session(ClusterNode node) {
        this.node = node;
    }

    long nextSeq() {
        synchronized (seqLock) {
            long seq = ++seqs;
            inFlight.add(seq);
            return seq;
        }
    }

    void done(long seq) {
        synchronized (seqLock) {
            inFlight.remove(seq);
        }
    }

    long lowWatermark() {
        synchronized (seqLock) {
            return inFlight.isEmpty() ? seqs + 1 : inFlight.first();
        }
    }

    /** The current session's id, or 0 when none is open. */
    long currentId() {
        return id;
    }

    /** The session's id, opening a session first if there is none. */
    long id(Duration timeout, String what) {
        long current = id;
        if (current != 0) {
            return current;
        }
        synchronized (this) {
            if (id == 0) {
                ByteArrayDataOutputStream cmd = Cmd.start(Op.OPEN_SESSION, 0, 0, 0);
                cmd.writeUTF(node.self());
                cmd.writeUTF(node.addressKey());
                byte[] reply = node.call(Reply.bytes(cmd), timeout, what + " (opening a session)").answer();
                ByteArrayDataInputStream in = Reply.open(reply, what);
                try {
                    id = in.readLong();
                } catch (java.io.IOException e) {
                    throw new io.unidist.UnidistException(what + ": malformed session reply", e);
                }
                log.debug("{}: opened session {}", node.self(), id);
            }
            return id;
        }
    }

    /** The state machine no longer knows session {@code old}: its leases are gone. */
    void expired(long old) {
        synchronized (this) {
            if (id != old) {
                return;
            }
            id = 0;
        }
        log.warn("{}: session {} expired (this node was cut off from the majority); its leases are lost", node.self(), old);
        node.leases().loseAll(old, "the session expired");
    }

    /** Ends the session, releasing its leases in the cluster. */
    void close(Duration timeout) {
        long current = id;
        if (current == 0) {
            return;
        }
        node.write(Op.CLOSE_SESSION, out -> { }, timeout, "closing the session");
        synchronized (this) {
            id = 0;
        }
    }
}
