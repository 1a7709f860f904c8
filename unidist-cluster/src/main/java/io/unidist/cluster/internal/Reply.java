package io.unidist.cluster.internal;

import io.unidist.UnidistException;
import java.io.IOException;
import org.jgroups.util.ByteArrayDataInputStream;
import org.jgroups.util.ByteArrayDataOutputStream;

/**
 * The state machine's answer to a command: {@code [byte status]} then, for {@link #OK}, the
 * op's result, or for {@link #ERROR} {@code [byte kind][UTF message]}.
 */
final class Reply {
    static final byte OK = 0;
    static final byte ERROR = 1;
    /** The session is unknown: expired (its node left the cluster) or never opened. */
    static final byte SESSION_EXPIRED = 2;
    /** The seq is below the session's low watermark: a delayed duplicate of a finished request. */
    static final byte STALE = 3;

    static final byte ILLEGAL_ARGUMENT = 1;
    static final byte ILLEGAL_STATE = 2;
    static final byte ARITHMETIC = 3;
    static final byte MALFORMED = 4;

    private Reply() {
    }

    static ByteArrayDataOutputStream ok() {
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream(32);
        out.writeByte(OK);
        return out;
    }

    static byte[] okEmpty() {
        return new byte[] {OK};
    }

    static byte[] status(byte status) {
        return new byte[] {status};
    }

    static byte[] error(byte kind, String message) {
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream(message.length() + 8);
        out.writeByte(ERROR);
        out.writeByte(kind);
        out.writeUTF(message.length() > 10_000 ? message.substring(0, 10_000) : message);
        return bytes(out);
    }

    static byte[] bytes(ByteArrayDataOutputStream out) {
        return java.util.Arrays.copyOf(out.buffer(), out.position());
    }

    /**
     * Opens an OK reply for reading, or throws what the reply says went wrong.
     *
     * @throws SessionExpiredException for {@link #SESSION_EXPIRED}
     */
    static ByteArrayDataInputStream open(byte[] reply, String what) {
        if (reply == null || reply.length == 0) {
            throw new UnidistException(what + ": empty reply from the cluster");
        }
        ByteArrayDataInputStream in = new ByteArrayDataInputStream(reply);
        try {
            byte status = in.readByte();
            switch (status) {
                case OK:
                    return in;
                case SESSION_EXPIRED:
                    throw new SessionExpiredException(what);
                case STALE:
                    throw new UnidistException(what + ": the cluster refused a request it had already finished");
                case ERROR:
                    byte kind = in.readByte();
                    String message = in.readUTF();
                    switch (kind) {
                        case ILLEGAL_ARGUMENT:
                            throw new IllegalArgumentException(message);
                        case ILLEGAL_STATE:
                            throw new IllegalStateException(message);
                        case ARITHMETIC:
                            throw new ArithmeticException(message);
                        default:
                            throw new UnidistException(message);
                    }
                default:
                    throw new UnidistException(what + ": unknown reply status " + status);
            }
        } catch (IOException e) {
            throw new UnidistException(what + ": malformed reply: " + e.getMessage(), e);
        }
    }

    /** The session a command ran in has expired: its node was taken for gone by the cluster. */
    static final class SessionExpiredException extends UnidistException {
        private static final long serialVersionUID = 1L;

        SessionExpiredException(String what) {
            super(what + ": this node's session expired (the cluster took it for gone); its leases are lost");
        }
    }
}
