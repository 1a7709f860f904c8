package io.unidist.bench.cluster;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.GcInfo;
import io.unidist.cluster.internal.UnidistRaft;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * What a {@link VoterMain} process reports about itself to the launcher, each as one line of {@code key=value}
 * words: its heap ({@link Heap}, measured by a {@link HeapWatch}), its Raft position ({@link RaftPosition}) and
 * what its snapshots cost ({@link UnidistRaft.SnapshotStats}).
 */
final class VoterReports {
    private VoterReports() {
    }

    /**
     * A voter's heap.
     *
     * @param usedAfterFullGc heap used just after a full GC the report asked for (System.gc())
     * @param committed       heap committed then
     * @param max             the heap's limit (-Xmx)
     * @param peakBeforeGc    the most heap used at the start of any GC since the JVM started: the most the heap held,
     *                        garbage included
     * @param peakAfterGc     the most heap used at the end of any GC since start (full or not): an upper bound of the
     *                        most live data it held
     * @param gcCount         collections since start
     * @param gcMillis        their accumulated time as the collectors report it
     */
    record Heap(long usedAfterFullGc, long committed, long max, long peakBeforeGc, long peakAfterGc, long gcCount,
                long gcMillis) {

        String encode() {
            return "used=" + usedAfterFullGc + " committed=" + committed + " max=" + max + " peak_before_gc="
                    + peakBeforeGc + " peak_after_gc=" + peakAfterGc + " gc_count=" + gcCount + " gc_ms=" + gcMillis;
        }

        static Heap decode(String line) {
            Map<String, String> w = words(line);
            return new Heap(number(w, "used"), number(w, "committed"), number(w, "max"), number(w, "peak_before_gc"),
                    number(w, "peak_after_gc"), number(w, "gc_count"), number(w, "gc_ms"));
        }
    }

    /**
     * Where a voter's Raft log stands.
     *
     * @param leader        the Raft leader it knows, or null
     * @param commitIndex   its commit index (RAFT applies an entry to the state machine as it commits it)
     * @param lastAppended  the last entry in its log
     * @param firstAppended the first entry its log still holds (the last snapshot's index)
     * @param raftView      members in the view of its raft channel
     */
    record RaftPosition(String leader, long commitIndex, long lastAppended, long firstAppended, int raftView) {

        String encode() {
            return "leader=" + leader + " commit=" + commitIndex + " last=" + lastAppended + " first=" + firstAppended
                    + " raft_view=" + raftView;
        }

        static RaftPosition decode(String line) {
            Map<String, String> w = words(line);
            String leader = w.get("leader");
            return new RaftPosition(leader == null || leader.equals("null") ? null : leader, number(w, "commit"),
                    number(w, "last"), number(w, "first"), (int) number(w, "raft_view"));
        }
    }

    /** {@link UnidistRaft.SnapshotStats} as one line. */
    static String encode(UnidistRaft.SnapshotStats s) {
        return "written=" + s.written() + " sync=" + s.synchronous() + " failed=" + s.failed() + " index="
                + s.lastIndex() + " bytes=" + s.lastBytes() + " " + encode("freeze", s.freeze()) + " "
                + encode("write", s.write()) + " " + encode("truncate", s.truncate()) + " load_ns=" + s.loadNanos()
                + " replay_ns=" + s.replayNanos() + " replayed=" + s.replayedEntries();
    }

    private static String encode(String prefix, UnidistRaft.Durations d) {
        return prefix + "_n=" + d.count() + " " + prefix + "_last_ns=" + d.lastNanos() + " " + prefix + "_max_ns="
                + d.maxNanos() + " " + prefix + "_total_ns=" + d.totalNanos();
    }

    /** Parses {@link #encode(UnidistRaft.SnapshotStats)}'s line. */
    static UnidistRaft.SnapshotStats decodeSnapshots(String line) {
        Map<String, String> w = words(line);
        return new UnidistRaft.SnapshotStats(number(w, "written"), number(w, "sync"), number(w, "failed"),
                number(w, "index"), number(w, "bytes"), durations(w, "freeze"), durations(w, "write"),
                durations(w, "truncate"), number(w, "load_ns"), number(w, "replay_ns"), number(w, "replayed"));
    }

    private static UnidistRaft.Durations durations(Map<String, String> w, String prefix) {
        return new UnidistRaft.Durations(number(w, prefix + "_n"), number(w, prefix + "_last_ns"),
                number(w, prefix + "_max_ns"), number(w, prefix + "_total_ns"));
    }

    private static Map<String, String> words(String line) {
        Map<String, String> words = new HashMap<>();
        for (String word : line.trim().split(" ")) {
            int eq = word.indexOf('=');
            if (eq > 0) {
                words.put(word.substring(0, eq), word.substring(eq + 1));
            }
        }
        return words;
    }

    private static long number(Map<String, String> words, String key) {
        String v = words.get(key);
        if (v == null) {
            throw new IllegalArgumentException("no '" + key + "' in the voter's report " + words);
        }
        return Long.parseLong(v);
    }

    /**
     * Follows the heap of this JVM through the collectors' notifications: the most used at the start and at the end
     * of any collection since {@link #install()}. Cheap: one callback per collection.
     */
    static final class HeapWatch {
        private final AtomicLong peakBefore = new AtomicLong();
        private final AtomicLong peakAfter = new AtomicLong();
        private Set<String> heapPools = Set.of();

        /** Starts following; call it first thing in main, so that the peaks cover the start. */
        void install() {
            heapPools = ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP)
                    .map(MemoryPoolMXBean::getName).collect(Collectors.toUnmodifiableSet());
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                if (gc instanceof NotificationEmitter emitter) {
                    emitter.addNotificationListener((n, handback) -> {
                        if (n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
                            GcInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData())
                                    .getGcInfo();
                            peakBefore.accumulateAndGet(heapUsed(info.getMemoryUsageBeforeGc()), Math::max);
                            peakAfter.accumulateAndGet(heapUsed(info.getMemoryUsageAfterGc()), Math::max);
                        }
                    }, null, null);
                }
            }
        }

        private long heapUsed(Map<String, MemoryUsage> pools) {
            long used = 0;
            for (Map.Entry<String, MemoryUsage> e : pools.entrySet()) {
                if (heapPools.contains(e.getKey())) {
                    used += e.getValue().getUsed();
                }
            }
            return used;
        }

        /** Runs a full GC (System.gc()), then reports the heap. */
        Heap measure() {
            System.gc();
            MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
            long count = 0;
            long millis = 0;
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                count += Math.max(0, gc.getCollectionCount());
                millis += Math.max(0, gc.getCollectionTime());
            }
            return new Heap(heap.getUsed(), heap.getCommitted(), heap.getMax(), peakBefore.get(), peakAfter.get(),
                    count, millis);
        }
    }
}
