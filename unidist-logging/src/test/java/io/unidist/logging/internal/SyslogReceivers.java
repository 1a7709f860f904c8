package io.unidist.logging.internal;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;

/** Syslog servers on 127.0.0.1 for the tests: what they receive is kept in lists to await on. */
final class SyslogReceivers {

    private SyslogReceivers() {
    }

    /** Receives datagrams on an ephemeral port. */
    static final class Udp implements AutoCloseable {
        final List<byte[]> received = new CopyOnWriteArrayList<>();
        private final DatagramSocket socket;

        Udp() throws IOException {
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Thread thread = new Thread(this::receive, "test-udp-receiver");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        private void receive() {
            byte[] buffer = new byte[70_000];
            while (!socket.isClosed()) {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                try {
                    socket.receive(packet);
                    received.add(java.util.Arrays.copyOf(packet.getData(), packet.getLength()));
                } catch (IOException e) {
                    return; // closed
                }
            }
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    /**
     * A TCP or TLS server that reads octet-counted frames (RFC 6587 §3.4.1), strictly: a frame
     * that is not {@code LEN SP MSG} is put in {@link #errors}.
     */
    static final class Frames implements AutoCloseable {
        final List<byte[]> received = new CopyOnWriteArrayList<>();
        /** Malformed frames, and failed TLS handshakes as the server saw them. */
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        private final ServerSocket server;
        private final List<Socket> connections = new CopyOnWriteArrayList<>();
        private final boolean reads;
        private final int closeAfter;

        /**
         * @param tls        {@code null} for plain TCP
         * @param port       0 for an ephemeral port
         * @param reads      false: accept connections but never read (a stuck server)
         * @param closeAfter after this many frames, close the connection and stop listening; 0: never
         */
        Frames(SSLContext tls, int port, boolean reads, int closeAfter) throws IOException {
            this.server = tls == null ? new ServerSocket() : tls.getServerSocketFactory().createServerSocket();
            server.setReuseAddress(true); // a restarted server takes the same port at once
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            this.reads = reads;
            this.closeAfter = closeAfter;
            Thread thread = new Thread(this::accept, "test-syslog-server");
            thread.setDaemon(true);
            thread.start();
        }

        static Frames tcp() throws IOException {
            return new Frames(null, 0, true, 0);
        }

        int port() {
            return server.getLocalPort();
        }

        /** TLS only: the handshake fails unless the client shows a certificate this server trusts. */
        Frames requireClientCertificates() {
            ((javax.net.ssl.SSLServerSocket) server).setNeedClientAuth(true);
            return this;
        }

        int connectionCount() {
            return connections.size();
        }

        boolean isClosed() {
            return server.isClosed();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    connections.add(socket);
                    if (reads) {
                        Thread reader = new Thread(() -> read(socket), "test-syslog-connection");
                        reader.setDaemon(true);
                        reader.start();
                    }
                } catch (IOException e) {
                    return; // closed
                }
            }
        }

        private void read(Socket socket) {
            try (InputStream in = new BufferedInputStream(socket.getInputStream())) {
                while (true) {
                    int length = 0;
                    int digits = 0;
                    for (int b = in.read(); b != ' '; b = in.read()) {
                        if (b < 0 && digits == 0) {
                            return; // the client closed between frames
                        }
                        if (b < '0' || b > '9' || digits == 9) {
                            throw new IOException("bad frame length byte " + b + " after " + received.size()
                                    + " frames");
                        }
                        length = length * 10 + (b - '0');
                        digits++;
                    }
                    byte[] frame = in.readNBytes(length);
                    if (frame.length < length) {
                        throw new IOException("frame cut: " + frame.length + " of " + length + " bytes");
                    }
                    received.add(frame);
                    if (closeAfter > 0 && received.size() >= closeAfter) {
                        close(); // mid-stream: what the client sent after this is not read
                        return;
                    }
                }
            } catch (IOException e) {
                if (!server.isClosed()) {
                    errors.add(e);
                }
            }
        }

        @Override
        public void close() {
            try {
                server.close();
            } catch (IOException e) {
                // closing
            }
            for (Socket socket : connections) {
                try {
                    socket.close();
                } catch (IOException e) {
                    // closing
                }
            }
        }
    }
}
