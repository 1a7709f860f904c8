package io.unidist.cluster.internal;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * What {@link ScaleRun} reads off this JVM: heap after a full collection, resident memory,
 * threads, open file descriptors, process CPU, and the CPU time of the threads of one node.
 *
 * <p><b>A node's threads.</b> Every thread of a node carries its name: JGroups names its
 * threads {@code "<kind>-<n>,<cluster>,<node>"} (the raft channel's cluster ends in
 * {@code .raft}), unidist's own {@code "unidist-<kind>-<node>"}, RAFT's runner
 * {@code "unidist-raft-<node>"} ({@link UnidistRaft}). {@link ThreadCpu} samples the CPU time
 * of the matching threads every {@value #SAMPLE_MILLIS} ms (or a period of the caller's) and
 * keeps the last value of each, so that a pool thread that ends within a window loses at most
 * one sample period of its time. The sampler's own thread is "scale-cpu-sampler".
 */
final class ScaleMeter {
    static final long SAMPLE_MILLIS = 100;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private ScaleMeter() {
    }

    /**
     * Used heap after full collections (G1 runs {@code System.gc()} as a full, stop-the-world
     * collection that has finished when the call returns; the second catches what the first
     * only made unreachable through finalization and cleaners).
     */
    static long usedHeapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** The process's resident memory in bytes (Linux; -1 elsewhere): heap, thread stacks, metaspace, buffers. */
    static long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Open file descriptors of this process (Linux; -1 elsewhere): sockets, files, pipes. */
    static int openFileDescriptors() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static int liveThreads() {
        return THREADS.getThreadCount();
    }

    /** CPU time of the whole process so far, in nanoseconds. */
    static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime();
        }
        return -1;
    }

    /** Whether a thread name is one of node {@code node}'s (see the class comment). */
    static Predicate<String> threadsOf(String node) {
        return name -> name.endsWith("," + node) || name.endsWith("-" + node);
    }

    /**
     * A thread's kind: its name without the node, cluster and number ("jgroups", "TQ-Bundler",
     * "unidist-raft"), with ".raft" added for a thread of a voter's raft channel.
     */
    static String kind(String threadName) {
        String[] parts = threadName.replaceAll("\\s*\\[[^]]*]", "").split(","); // "Selector [/127.0.0.1:7800]"
        String base = parts[0].replaceAll("-[0-9]+$", "").replaceAll("#[0-9]+$", "");
        if (parts.length == 1) {
            base = base.replaceAll("-[^-]+$", ""); // unidist-raft-v1
        }
        return parts.length > 1 && parts[1].endsWith(".raft") ? base + " (raft)" : base;
    }

    /** Live threads whose names match, by kind (the name with digits and the node's part removed). */
    static Map<String, Integer> threadKinds(Predicate<String> which) {
        Map<String, Integer> kinds = new java.util.TreeMap<>();
        for (ThreadInfo t : THREADS.getThreadInfo(THREADS.getAllThreadIds(), 0)) {
            if (t != null && which.test(t.getThreadName())) {
                kinds.merge(kind(t.getThreadName()), 1, Integer::sum);
            }
        }
        return kinds;
    }

    /**
     * The CPU time of the threads whose names match, summed over a window: start it, read
     * {@link #nanos()} at any moment, close it at the end.
     */
    static final class ThreadCpu implements AutoCloseable {
        private final Predicate<String> which;
        private final Map<Long, Boolean> matches = new HashMap<>();
        private final Map<Long, String> kinds = new HashMap<>();
        /** Thread id -> CPU nanoseconds at its first sample in the window, and at its last. */
        private final Map<Long, long[]> seen = new HashMap<>();
        private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "scale-cpu-sampler");
            t.setDaemon(true);
            return t;
        });
        private boolean first = true;

        ThreadCpu(Predicate<String> which) {
            this(which, SAMPLE_MILLIS);
        }

        /** Sampling every {@code periodMillis}: a thread that ends loses at most that much of its time. */
        ThreadCpu(Predicate<String> which, long periodMillis) {
            this.which = which;
            sample();
            sampler.scheduleAtFixedRate(this::sample, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
        }

        private synchronized void sample() {
            long[] ids = THREADS.getAllThreadIds();
            long[] unknown = Arrays.stream(ids).filter(id -> !matches.containsKey(id)).toArray();
            if (unknown.length > 0) {
                ThreadInfo[] infos = THREADS.getThreadInfo(unknown, 0);
                for (int i = 0; i < unknown.length; i++) {
                    boolean match = infos[i] != null && which.test(infos[i].getThreadName());
                    matches.put(unknown[i], match);
                    if (match) {
                        kinds.put(unknown[i], kind(infos[i].getThreadName()));
                    }
                }
            }
            for (long id : ids) {
                if (!matches.get(id)) {
                    continue;
                }
                long cpu = THREADS.getThreadCpuTime(id);
                if (cpu < 0) {
                    continue; // ended between the two calls
                }
                // a thread born within the window counts from zero; one alive at its start from there
                long[] s = seen.computeIfAbsent(id, k -> new long[] {first ? cpu : 0, cpu});
                s[1] = cpu;
            }
            first = false;
        }

        /** CPU nanoseconds of the matching threads since this window started. */
        synchronized long nanos() {
            sample();
            long sum = 0;
            for (long[] s : seen.values()) {
                sum += s[1] - s[0];
            }
            return sum;
        }

        /** CPU nanoseconds by kind of thread (see {@link ScaleMeter#kind}), largest first. */
        synchronized Map<String, Long> byKind() {
            sample();
            Map<String, Long> sums = new HashMap<>();
            seen.forEach((id, s) -> sums.merge(kinds.get(id), s[1] - s[0], Long::sum));
            Map<String, Long> sorted = new java.util.LinkedHashMap<>();
            sums.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                    .forEach(e -> sorted.put(e.getKey(), e.getValue()));
            return sorted;
        }

        /** How many distinct matching threads ran in the window. */
        synchronized int threads() {
            return seen.size();
        }

        @Override
        public void close() {
            sampler.shutdownNow();
        }
    }

    /** The p-th percentile (0..100) of {@code values}, sorted in place; -1 for none. */
    static long percentile(long[] values, double p) {
        if (values.length == 0) {
            return -1;
        }
        Arrays.sort(values);
        int i = (int) Math.ceil(p / 100.0 * values.length) - 1;
        return values[Math.max(0, Math.min(values.length - 1, i))];
    }

    static long percentile(List<Long> values, double p) {
        return percentile(values.stream().mapToLong(Long::longValue).toArray(), p);
    }
}
