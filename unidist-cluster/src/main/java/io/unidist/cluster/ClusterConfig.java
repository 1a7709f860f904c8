package io.unidist.cluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How a node joins a cluster: the cluster's name, this node's name, the JGroups file, the
 * voters, and where the node keeps its data. Immutable; made by {@link #builder()}.
 *
 * <p><b>Voters.</b> A few nodes (1, 3 or 5) named in {@link Builder#voters} form the Raft group
 * that decides every change; all other nodes read and write through them and never store the
 * log, so the cost of a commit does not grow with the cluster. With 3 voters the cluster
 * works while any 2 of them are up, with 5 while any 3 are. With 1 voter there is no fault
 * tolerance: when it is down, every call fails with
 * {@link io.unidist.ClusterUnavailableException}; with 2 voters both must be up.
 * Every node of a cluster must be given the same voters.
 */
public final class ClusterConfig {
    /** The default bound on every blocking call. */
    public static final Duration DEFAULT_OPERATION_TIMEOUT = Duration.ofSeconds(10);

    private final String clusterName;
    private final String nodeName;
    private final String jgroupsConfig;
    private final List<String> voters;
    private final Path dataDir;
    private final Duration operationTimeout;
    private final Duration leaseTimeout;
    private final Map<String, String> properties;
    private final long raftLogMaxBytes;
    private final int raftPortOffset;
    private final boolean raftFsync;

    private ClusterConfig(Builder b) {
        this.clusterName = b.clusterName;
        this.nodeName = b.nodeName;
        this.jgroupsConfig = b.jgroupsConfig;
        this.voters = List.copyOf(b.voters);
        this.dataDir = b.dataDir;
        this.operationTimeout = b.operationTimeout;
        this.leaseTimeout = b.leaseTimeout;
        this.properties = Map.copyOf(b.properties);
        this.raftLogMaxBytes = b.raftLogMaxBytes;
        this.raftPortOffset = b.raftPortOffset;
        this.raftFsync = b.raftFsync;
    }

    /** A builder with the defaults: {@code unidist-jvm.xml}, 10 s operation timeout. */
    public static Builder builder() {
        return new Builder();
    }

    /** The cluster's name: nodes with another name never join it. */
    public String clusterName() {
        return clusterName;
    }

    /** This node's name, unique in the cluster. */
    public String nodeName() {
        return nodeName;
    }

    /** The JGroups configuration: a classpath resource or a file path. */
    public String jgroupsConfig() {
        return jgroupsConfig;
    }

    /** The names of the voters. */
    public List<String> voters() {
        return voters;
    }

    /** Whether this node is a voter. */
    public boolean isVoter() {
        return voters.contains(nodeName);
    }

    /** Where a voter keeps the Raft log and snapshots; null for a node that keeps nothing. */
    public Path dataDir() {
        return dataDir;
    }

    /** The bound on every blocking call that has no timeout of its own. */
    public Duration operationTimeout() {
        return operationTimeout;
    }

    /**
     * How long a lease stays valid on its holder without a confirmation from a majority; null
     * for the default (half the JGroups stack's failure-detection timeout).
     */
    public Duration leaseTimeout() {
        return leaseTimeout;
    }

    /** Values for {@code ${name}} variables in the JGroups file, before system properties. */
    public Map<String, String> properties() {
        return properties;
    }

    /** Raft log bytes after which a voter takes a snapshot and truncates the log. */
    public long raftLogMaxBytes() {
        return raftLogMaxBytes;
    }

    /** How far the voters' Raft channel's ports are from the main channel's. */
    public int raftPortOffset() {
        return raftPortOffset;
    }

    /** Whether a voter forces every Raft log append to the disk before acknowledging it (default true). */
    public boolean raftFsync() {
        return raftFsync;
    }

    @Override
    public String toString() {
        return "cluster '" + clusterName + "', node '" + nodeName + "', " + jgroupsConfig + ", voters " + voters;
    }

    /** Builds a {@link ClusterConfig}; {@link #build()} checks it. */
    public static final class Builder {
        private String clusterName;
        private String nodeName;
        private String jgroupsConfig = "unidist-jvm.xml";
        private final List<String> voters = new ArrayList<>();
        private Path dataDir;
        private Duration operationTimeout = DEFAULT_OPERATION_TIMEOUT;
        private Duration leaseTimeout;
        private final Map<String, String> properties = new LinkedHashMap<>();
        private long raftLogMaxBytes = 4L * 1024 * 1024;
        private int raftPortOffset = 100;
        private boolean raftFsync = true;

        private Builder() {
        }

        /** The cluster's name (required). */
        public Builder clusterName(String name) {
            this.clusterName = Objects.requireNonNull(name, "clusterName");
            return this;
        }

        /** This node's name, unique in the cluster (required). */
        public Builder nodeName(String name) {
            this.nodeName = Objects.requireNonNull(name, "nodeName");
            return this;
        }

        /** The JGroups file: a bundled one ({@code unidist-jvm.xml}, {@code unidist-local.xml}, ...) or a path. */
        public Builder jgroupsConfig(String resourceOrPath) {
            this.jgroupsConfig = Objects.requireNonNull(resourceOrPath, "jgroupsConfig");
            return this;
        }

        /** The voters' node names (required; the same on every node). */
        public Builder voters(String... nodeNames) {
            Objects.requireNonNull(nodeNames, "voters");
            voters.clear();
            for (String v : nodeNames) {
                voters.add(Objects.requireNonNull(v, "voter name"));
            }
            return this;
        }

        /** Where this node keeps its data (required for a voter). */
        public Builder dataDir(Path dir) {
            this.dataDir = Objects.requireNonNull(dir, "dataDir");
            return this;
        }

        /** The bound on every blocking call that has no timeout of its own. */
        public Builder operationTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "operationTimeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("operationTimeout must be positive, got " + timeout);
            }
            this.operationTimeout = timeout;
            return this;
        }

        /**
         * How long a lease stays valid on its holder without a confirmation from a majority. Must
         * be shorter than the failure-detection time, so that a holder cut off from the majority
         * knows its lease is gone before the majority gives it to someone else.
         */
        public Builder leaseTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "leaseTimeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("leaseTimeout must be positive, got " + timeout);
            }
            this.leaseTimeout = timeout;
            return this;
        }

        /** A value for the {@code ${name}} variable of the JGroups file (e.g. {@code unidist.bind_port}). */
        public Builder property(String name, String value) {
            properties.put(Objects.requireNonNull(name, "property name"), Objects.requireNonNull(value, "property value"));
            return this;
        }

        /** Raft log bytes after which a voter takes a snapshot (default 4 MiB). */
        public Builder raftLogMaxBytes(long bytes) {
            if (bytes < 1024) {
                throw new IllegalArgumentException("raftLogMaxBytes must be at least 1024, got " + bytes);
            }
            this.raftLogMaxBytes = bytes;
            return this;
        }

        /** How far the voters' Raft channel's ports are from the main channel's (default 100). */
        public Builder raftPortOffset(int offset) {
            if (offset < 1 || offset > 10_000) {
                throw new IllegalArgumentException("raftPortOffset must be between 1 and 10000, got " + offset);
            }
            this.raftPortOffset = offset;
            return this;
        }

        /**
         * Whether a voter forces every Raft log append to the disk before acknowledging it
         * (default true). Off, a commit survives the crash of any minority of voters' processes
         * but not a power loss of a majority of voters' machines at once.
         */
        public Builder raftFsync(boolean fsync) {
            this.raftFsync = fsync;
            return this;
        }

        /**
         * Checks and builds.
         *
         * @throws IllegalArgumentException naming what is missing or wrong: no cluster or node
         *     name, no voters, a voter named twice, a voter without a data directory
         */
        public ClusterConfig build() {
            if (clusterName == null || clusterName.isBlank()) {
                throw new IllegalArgumentException("cluster config: clusterName is required");
            }
            if (nodeName == null || nodeName.isBlank()) {
                throw new IllegalArgumentException("cluster config: nodeName is required");
            }
            if (voters.isEmpty()) {
                throw new IllegalArgumentException("cluster config for node '" + nodeName
                        + "': no voters named; name 1, 3 or 5 nodes with voters(...)");
            }
            if (new LinkedHashSet<>(voters).size() != voters.size()) {
                throw new IllegalArgumentException("cluster config: a voter is named twice in " + voters);
            }
            for (String v : voters) {
                if (v.isBlank()) {
                    throw new IllegalArgumentException("cluster config: a voter name is blank in " + voters);
                }
            }
            if (voters.contains(nodeName) && dataDir == null) {
                throw new IllegalArgumentException("cluster config: node '" + nodeName
                        + "' is a voter and needs a dataDir for its Raft log");
            }
            return new ClusterConfig(this);
        }
    }
}
