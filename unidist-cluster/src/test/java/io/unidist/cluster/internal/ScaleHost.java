package io.unidist.cluster.internal;

import io.unidist.Unidist;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The workload host of a scale run's nodes, in one JVM ({@link ScaleInJvm}) or in a child process
 * ({@link ScaleChild}): one worker per node, nothing stalls, and each worker pauses between calls
 * for a random time in [paceMin, paceMax), so that every node behaves like a light, steady user.
 */
abstract class ScaleHost implements FaultWorkload.Host {
    /** The nodes that are up, by name; a crashed node is removed. */
    final Map<String, ClusterNode> live = new ConcurrentHashMap<>();
    private final long paceMinNanos;
    private final long paceMaxNanos;

    ScaleHost(long paceMinNanos, long paceMaxNanos) {
        this.paceMinNanos = paceMinNanos;
        this.paceMaxNanos = paceMaxNanos;
    }

    /** The names of every node of this host, up or not. */
    abstract List<String> names();

    @Override
    public final List<String> workloadNodes() {
        return names();
    }

    @Override
    public final Unidist node(String name) {
        return live.get(name);
    }

    @Override
    public final void awaitRunning(String name) {
        // nothing stalls in a scale run
    }

    @Override
    public final int workersPerNode() {
        return 1;
    }

    @Override
    public final long pauseNanos() {
        return paceMinNanos + ThreadLocalRandom.current().nextLong(Math.max(1, paceMaxNanos - paceMinNanos));
    }
}
