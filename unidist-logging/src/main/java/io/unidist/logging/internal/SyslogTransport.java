package io.unidist.logging.internal;

import java.io.IOException;

/**
 * One way of carrying syslog messages to a server, used by the single sender thread of a
 * {@link SyslogSender}.
 *
 * <p>Thread safety: {@link #open}, {@link #write}, {@link #flush} and {@link #close} are
 * called by the sender thread only; {@link #abort} may be called from any thread to unblock it.
 */
interface SyslogTransport {

    /**
     * Connects (or, for UDP, binds and resolves the server's address again, so that a changed
     * DNS entry is followed).
     *
     * @throws IOException when the server cannot be reached or, for TLS, the handshake fails
     */
    void open() throws IOException;

    /** Sends or buffers one message; a stream transport frames it. */
    void write(byte[] message) throws IOException;

    /** Pushes buffered messages to the network. */
    void flush() throws IOException;

    /** Closes the connection in an orderly way; never throws; a later {@link #open} reconnects. */
    void close();

    /** Closes the connection at once, from any thread, so that a blocked {@link #write} fails. */
    void abort();

    /**
     * Whether a message written may be lost at a broken connection without an error for that
     * write, as on TCP, where the kernel takes bytes the server may never read.
     */
    boolean losesWritesAtBreak();
}
