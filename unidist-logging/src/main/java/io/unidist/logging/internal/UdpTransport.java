package io.unidist.logging.internal;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * RFC 5426: each message is one datagram, unframed. Delivery is best effort, as UDP is: a
 * datagram lost on the network or refused by the server is not noticed (at most an ICMP
 * "port unreachable" makes a later send fail, which the sender treats as a broken connection).
 */
final class UdpTransport implements SyslogTransport {

    private final String host;
    private final int port;
    private volatile DatagramSocket socket;

    UdpTransport(String host, int port) {
        this.host = host;
        this.port = port;
    }

    @Override
    public void open() throws IOException {
        InetSocketAddress server = new InetSocketAddress(host, port);
        if (server.isUnresolved()) {
            throw new UnknownHostException("unknown host '" + host + "'");
        }
        DatagramSocket s = new DatagramSocket();
        try {
            s.connect(server); // a connected socket learns of ICMP "port unreachable" replies
        } catch (RuntimeException e) {
            s.close();
            throw new IOException("cannot send to " + server + ": " + e.getMessage(), e);
        }
        socket = s;
    }

    @Override
    public void write(byte[] message) throws IOException {
        socket.send(new DatagramPacket(message, message.length));
    }

    @Override
    public void flush() {
        // one datagram per write: nothing is buffered
    }

    @Override
    public void close() {
        abort();
    }

    @Override
    public void abort() {
        DatagramSocket s = socket;
        if (s != null) {
            s.close();
        }
    }

    @Override
    public boolean losesWritesAtBreak() {
        return false; // nothing to resend: a datagram once sent is out of our hands either way
    }
}
