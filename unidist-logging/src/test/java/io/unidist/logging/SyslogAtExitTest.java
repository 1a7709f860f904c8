package io.unidist.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A zero-config program that logs a burst and leaves {@code main} at once, without stopping
 * logback, still gets every record to the syslog server, the last one included; the sender's
 * exit hook runs (it drains the queue for up to a second before the JVM ends the daemon sender
 * thread). On loopback the sender usually keeps up anyway, so this shows the outcome and that
 * the hook does no harm, not that the hook alone saved a record.
 */
class SyslogAtExitTest {

    @TempDir
    Path work;

    @Test
    void theLastRecordBeforeExitReachesTheServer() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> readOneConnection(server));
            Process child = ChildJvm.start(work, null, SyslogExitMain.class, List.of(
                    "-Dunidist.logging.dir=" + work.resolve("logs"), "-Dunidist.logging.console=false",
                    "-Dunidist.logging.manifest.enabled=false", "-Dunidist.logging.syslog.enabled=true",
                    "-Dunidist.logging.syslog.protocol=tcp", "-Dunidist.logging.syslog.host=127.0.0.1",
                    "-Dunidist.logging.syslog.queueSize=100000",
                    "-Dunidist.logging.syslog.port=" + server.getLocalPort()), List.of("2000"));
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child did not exit");
            assertEquals(0, child.exitValue(), Files.readString(work.resolve("child.err")));

            String stream = received.get(30, TimeUnit.SECONDS); // the child's exit ends the connection
            assertTrue(stream.contains("record 1999"), "the burst");
            assertTrue(stream.endsWith("last record"), "the last record, logged just before exit");
        }
    }

    private static String readOneConnection(ServerSocket server) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (Socket connection = server.accept(); InputStream in = connection.getInputStream()) {
            in.transferTo(out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
