package io.unidist.cluster.internal;

import io.unidist.Unidist;
import io.unidist.cluster.ClusterConfig;
import io.unidist.cluster.UnidistCluster;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One node of a {@link FaultProcesses} run, in a process of its own on 127.0.0.1
 * ({@code unidist-local.xml}): runs the {@link FaultWorkload} against its node and prints each
 * record as a line ({@link FaultHistories#line}), and {@code L <leader>} whenever the leader it
 * sees changes. Commands on standard input: {@code STOP} (the workers end and the
 * state keys this process wrote are read back; answers {@code STOPPED}), {@code DRAIN} (drains the queue; answers {@code DRAINED}), {@code EXIT}.
 * The parent may kill it (SIGKILL) or stall it (SIGSTOP) at any moment.
 */
public final class FaultChild {
    private FaultChild() {
    }

    /** Arguments: cluster, node, comma-separated voters, data dir, base port, seed, workers, fd timeout. */
    public static void main(String[] args) throws Exception {
        String self = args[1];
        ClusterConfig config = ClusterConfig.builder()
                .clusterName(args[0]).nodeName(self).voters(args[2].split(","))
                .dataDir(Path.of(args[3]))
                .jgroupsConfig("unidist-local.xml")
                .operationTimeout(Duration.ofSeconds(3))
                .property("unidist.bind_port", args[4])
                .property("unidist.initial_hosts", "127.0.0.1[" + args[4] + "]")
                .property("unidist.fd_timeout", args[7])
                .property("unidist.fd_interval", Duration.parse("PT" + args[7]).dividedBy(4).toMillis() + "ms")
                .build();
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false,
                StandardCharsets.UTF_8);
        Object lock = new Object();
        FaultWorkload.Recorder rec = (type, fields) -> {
            synchronized (lock) {
                out.println(FaultHistories.line(type, fields));
                out.flush(); // a SIGKILL loses only the record of the call in flight
            }
        };
        try (Unidist node = UnidistCluster.join(config)) {
            say(out, lock, "JOINED");
            FaultWorkload.Host host = new FaultWorkload.Host() {
                @Override
                public List<String> workloadNodes() {
                    return List.of(self);
                }

                @Override
                public Unidist node(String name) {
                    return node;
                }

                @Override
                public void awaitRunning(String name) {
                    // a stall here is a real one: the parent sends SIGSTOP
                }

                @Override
                public int workersPerNode() {
                    return Integer.parseInt(args[6]);
                }

                @Override
                public String incarnation() {
                    return "@" + ProcessHandle.current().pid();
                }
            };
            FaultWorkload workload = new FaultWorkload(host, rec, Long.parseLong(args[5]));
            ExecutorService pool = Executors.newCachedThreadPool();
            ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
            String[] leader = {null};
            ticker.scheduleWithFixedDelay(() -> {
                String now = ((ClusterNode) node).leaderName();
                if (now != null && !Objects.equals(now, leader[0])) {
                    leader[0] = now;
                    say(out, lock, "L " + now);
                }
            }, 0, 200, TimeUnit.MILLISECONDS);
            AtomicBoolean stop = new AtomicBoolean();
            List<Future<?>> workers = workload.start(pool, stop);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String command;
            while ((command = in.readLine()) != null) {
                switch (command.trim()) {
                    case "STOP" -> {
                        stop.set(true);
                        for (Future<?> f : workers) {
                            f.get(2, TimeUnit.MINUTES);
                        }
                        workload.readBack(node);
                        say(out, lock, "STOPPED");
                    }
                    case "DRAIN" -> {
                        workload.drain(node, self);
                        say(out, lock, "DRAINED");
                    }
                    case "EXIT" -> {
                        ticker.shutdownNow();
                        pool.shutdownNow();
                        return;
                    }
                    default -> say(out, lock, "? " + command);
                }
            }
        }
    }

    private static void say(PrintStream out, Object lock, String line) {
        synchronized (lock) {
            out.println(line);
            out.flush();
        }
    }
}
