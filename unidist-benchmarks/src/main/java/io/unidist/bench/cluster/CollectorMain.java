package io.unidist.bench.cluster;

import ch.qos.logback.classic.LoggerContext;
import io.unidist.Unidist;
import io.unidist.cluster.UnidistCluster;
import io.unidist.logging.LogForwarding;
import io.unidist.logging.UnidistLogging;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * The collector of {@link ForwardingBench}: the cluster's only voter, with the unidist-logging
 * defaults and log forwarding on, so it collects every node's records under
 * {@code <dir>/collector-logs/collected}. Prints {@code ready collector}, then answers
 * {@code collected} (records written since start) and {@code quit} on stdin/stdout.
 */
public final class CollectorMain {
    private CollectorMain() {
    }

    /** Arguments: cluster, node name, first port, benchmark directory. */
    public static void main(String[] args) throws Exception {
        PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        String cluster = args[0];
        String name = args[1];
        int firstPort = Integer.parseInt(args[2]);
        Path dir = Path.of(args[3]);
        Properties p = new Properties();
        p.setProperty("unidist.logging.dir", dir.resolve("collector-logs").toString());
        p.setProperty("unidist.program", name);
        p.setProperty("unidist.logging.console", "false");
        p.setProperty("unidist.logging.forward.collector.totalSizeCap", "4GB");
        LoggerContext context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        UnidistLogging.configure(context, p);
        Unidist node = UnidistCluster.join(VoterMain.config(cluster, name, List.of(name), firstPort, firstPort,
                dir.resolve("collector-data"), false));
        LogForwarding forwarding = LogForwarding.start(node, context);
        protocol.println("ready " + name);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            switch (line.trim()) {
                case "collected" -> protocol.println("ok " + forwarding.collected());
                case "quit" -> {
                    protocol.println("ok bye");
                    forwarding.close();
                    Runtime.getRuntime().halt(0);
                }
                default -> protocol.println("err unknown command '" + line.trim() + "'");
            }
        }
        Runtime.getRuntime().halt(0);
    }
}
