package io.unidist.bench.cluster;

import io.unidist.cluster.ClusterMessaging;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The floors a replicated commit cannot beat on this machine, measured beside it: a loopback TCP round trip of
 * 64 bytes between two processes, and a 64-byte append forced to the disk ({@code FileChannel.force(false)}) in
 * a voter's data directory.
 */
final class Floors {
    static final int MESSAGE_BYTES = 64;

    private Floors() {
    }

    /**
     * Starts a daemon thread that echoes every 64-byte message on 127.0.0.1, one thread per connection.
     *
     * @return the port it listens on
     */
    static int startEchoServer() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (true) {
                try {
                    Socket s = server.accept();
                    s.setTcpNoDelay(true);
                    Thread echo = new Thread(() -> echo(s), "bench-echo");
                    echo.setDaemon(true);
                    echo.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "bench-echo-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        return server.getLocalPort();
    }

    private static void echo(Socket s) {
        byte[] buf = new byte[MESSAGE_BYTES];
        try (s; DataInputStream in = new DataInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
            while (true) {
                in.readFully(buf);
                out.write(buf);
                out.flush();
            }
        } catch (IOException e) {
            // the client closed the connection
        }
    }

    /** A round trip of 64 bytes to the echo server; the connection stays open and is closed by {@link #close}. */
    static final class RoundTrip implements ClosedLoop.Action, AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final byte[] buf = new byte[MESSAGE_BYTES];

        RoundTrip(int port) throws IOException {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            in = new DataInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }

        @Override
        public void run() throws IOException {
            out.write(buf);
            out.flush();
            ((DataInputStream) in).readFully(buf);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** The topic a voter answers on {@link #startStackEcho}: a ping returns to its sender as a pong. */
    static final String PING = "bench-ping";
    static final String PONG = "bench-pong";

    /**
     * Answers every {@link #PING} with the same bytes under {@link #PONG}, on the thread that delivered it: the
     * other half of {@link StackRoundTrip}.
     */
    static AutoCloseable startStackEcho(ClusterMessaging messaging) {
        return messaging.subscribe(PING, (from, payload) -> messaging.send(from, PONG, payload));
    }

    /**
     * A round trip of 64 bytes through unidist's cluster messaging on the main JGroups channel (the stack every
     * call travels over), to a voter that runs {@link #startStackEcho}. Not part of the floor: beside the TCP round
     * trip it shows what the stack adds to each hop.
     */
    static final class StackRoundTrip implements ClosedLoop.Action, AutoCloseable {
        private final ClusterMessaging messaging;
        private final String target;
        private final Semaphore pongs = new Semaphore(0);
        private final AutoCloseable subscription;
        private final byte[] payload = new byte[MESSAGE_BYTES];

        StackRoundTrip(ClusterMessaging messaging, String target) {
            this.messaging = messaging;
            this.target = target;
            this.subscription = messaging.subscribe(PONG, (from, bytes) -> pongs.release());
        }

        @Override
        public void run() throws Exception {
            if (!messaging.send(target, PING, payload)) {
                throw new IllegalStateException(target + " is not in this node's view");
            }
            if (!pongs.tryAcquire(5, TimeUnit.SECONDS)) {
                throw new IllegalStateException("no pong from " + target + " within 5 s");
            }
        }

        @Override
        public void close() throws Exception {
            subscription.close();
        }
    }

    /** Appends 64 bytes to a file and forces them to the disk; {@link #close} deletes the file. */
    static final class ForcedAppend implements ClosedLoop.Action, AutoCloseable {
        private final Path file;
        private final FileChannel channel;
        private final ByteBuffer record = ByteBuffer.allocateDirect(MESSAGE_BYTES);

        ForcedAppend(Path dir) throws IOException {
            Files.createDirectories(dir);
            file = dir.resolve("fsync-floor.bin");
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
        }

        @Override
        public void run() throws IOException {
            record.clear();
            while (record.hasRemaining()) {
                channel.write(record);
            }
            channel.force(false);
        }

        @Override
        public void close() throws IOException {
            channel.close();
            Files.deleteIfExists(file);
        }
    }
}
