package io.unidist.logging.internal;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * TCP (RFC 6587) or TLS (RFC 5425) with octet-counting framing: each message is written as
 * its length in bytes, in ASCII decimal, a space, then the message ({@code 42 <14>1 ...}), so
 * messages may hold newlines.
 *
 * <p>Writes are buffered and pushed by {@link #flush}, which the sender calls when its queue
 * is empty; a burst of records thus costs few system calls and, over TLS, few records.
 *
 * <p>TLS: the server's certificate chain is checked against the configured trust store and,
 * unless turned off, its name against the host as configured (the HTTPS rules: a DNS or IP
 * subject alternative name); a failed check fails {@link #open} with an
 * {@link javax.net.ssl.SSLHandshakeException}. The handshake must finish within the connect
 * timeout.
 */
final class StreamTransport implements SyslogTransport {

    private static final int BUFFER = 64 * 1024;

    private final String host;
    private final int port;
    private final int connectTimeoutMillis;
    /** {@code null} for plain TCP. */
    private final SSLSocketFactory tls;
    private final boolean verifyHostname;
    /** The TCP socket, also under TLS: closing it unblocks a write without waiting for TLS's locks. */
    private volatile Socket plain;
    private Socket socket;
    private OutputStream out;

    StreamTransport(String host, int port, int connectTimeoutMillis, SSLSocketFactory tls, boolean verifyHostname) {
        this.host = host;
        this.port = port;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.tls = tls;
        this.verifyHostname = verifyHostname;
    }

    @Override
    public void open() throws IOException {
        InetSocketAddress server = new InetSocketAddress(host, port);
        if (server.isUnresolved()) {
            throw new UnknownHostException("unknown host '" + host + "'");
        }
        Socket tcp = new Socket();
        plain = tcp;
        try {
            tcp.connect(server, connectTimeoutMillis);
            tcp.setTcpNoDelay(true); // we batch ourselves and flush only when the queue is empty
            tcp.setKeepAlive(true);
            socket = tls == null ? tcp : handshake(tcp);
            out = new BufferedOutputStream(socket.getOutputStream(), BUFFER);
        } catch (IOException | RuntimeException e) {
            abort();
            throw e;
        }
    }

    private Socket handshake(Socket tcp) throws IOException {
        SSLSocket ssl = (SSLSocket) tls.createSocket(tcp, host, port, true);
        if (verifyHostname) {
            SSLParameters parameters = ssl.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            ssl.setSSLParameters(parameters);
        }
        ssl.setSoTimeout(connectTimeoutMillis); // a server that never answers must not hold the handshake forever
        ssl.startHandshake();
        ssl.setSoTimeout(0);
        return ssl;
    }

    @Override
    public void write(byte[] message) throws IOException {
        out.write(Integer.toString(message.length).getBytes(StandardCharsets.US_ASCII));
        out.write(' ');
        out.write(message);
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() {
        Socket s = socket;
        socket = null;
        out = null;
        if (s != null) {
            try {
                s.close(); // TLS: sends close_notify
            } catch (IOException | RuntimeException e) {
                // the connection is given up either way
            }
        }
        abort();
    }

    @Override
    public void abort() {
        Socket tcp = plain;
        if (tcp != null) {
            try {
                tcp.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }

    @Override
    public boolean losesWritesAtBreak() {
        return true;
    }
}
