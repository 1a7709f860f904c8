package io.unidist.cluster.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every history of a fault run, fed by one kind of record: a type and its fields as strings
 * ({@link #record}). The in-JVM workload records here directly; a workload in a child process
 * prints the same records as lines ({@link #line}), and the parent feeds them back here
 * ({@link #parse}), so one set of checkers reads both.
 *
 * <p>Records (times are System.nanoTime, which on Linux is one clock for every process of the
 * machine; {@code -} stands for null):
 * <pre>
 * ci|cr counter start end value node     an increment / a read that returned
 * sp  key start end value                 a put that returned
 * spu key start value                     a put whose outcome is unknown
 * sr  key start end expected value ok     a compare-and-set that returned
 * sru key start expected value            a compare-and-set whose outcome is unknown
 * sg  key start end seen                  a get
 * lg  node lock permits start end token   an acquire that was granted
 * ln  node lock permits start end outcome an acquire that was not (LockHistory.Outcome)
 * lu  node lock token start end           a use, the lease still valid after it
 * lr  node lock token start end ok        a release
 * qo  queue message start end outcome     an offer (QueueHistory.Outcome)
 * qd  queue message delivery node start end   a poll that returned a message
 * qa|qn queue delivery start end outcome  an ack / a give-back
 * qx  queue start end                     a final drain that found the queue empty
 * o   primitive outcome start end         every call's outcome (FaultWorkload.Outcome), for availability
 * i   key type field...                   a write announced before its call, in its unknown-outcome form
 * </pre>
 */
final class FaultHistories implements FaultWorkload.Recorder {
    private final Map<String, CounterHistory> counters = new ConcurrentHashMap<>();
    private final RegisterHistory state = new RegisterHistory();
    private final LockHistory locks = new LockHistory();
    private final QueueHistory queues = new QueueHistory();
    private final List<long[]> outcomes = new ArrayList<>(); // primitive index, outcome ordinal, start, end
    private final Map<String, java.util.concurrent.atomic.LongAdder> fed = new ConcurrentHashMap<>();

    /** The checkers every run must feed, by the names {@link #anomalies} reports their sizes under. */
    static final List<String> CHECKERS = List.of("counter c0", "counter c1", "state", "locks", "queues");

    private static final List<String> PRIMITIVES = List.of("counter", "state", "lock", "queue");

    /** One line of a child's output for the record: "H type field...". */
    static String line(String type, String... fields) {
        return "H " + type + " " + String.join(" ", fields);
    }

    /** Feeds a child's line back; false when it is not a record. */
    boolean parse(String line) {
        if (!line.startsWith("H ")) {
            return false;
        }
        String[] parts = line.substring(2).split(" ");
        record(parts[0], Arrays.copyOfRange(parts, 1, parts.length));
        return true;
    }

    /**
     * Writes announced before their call ({@code i key type field...}): the record of a write
     * whose process was killed before it could say how it ended. A write that did end names
     * its key in its own record and takes the announcement back; those left at the check are
     * writes of unknown outcome, fed as such.
     */
    private final Map<String, String[]> intents = new java.util.LinkedHashMap<>();

    /** Records one operation (see the class comment for the types and fields). */
    @Override
    public void record(String type, String... f) {
        if (type.equals("i")) {
            synchronized (intents) {
                intents.put(f[0], Arrays.copyOfRange(f, 1, f.length));
            }
            return;
        }
        String settles = switch (type) {
            case "qo", "qa", "qn" -> f[1];
            case "sp", "sru" -> f[3];
            case "spu" -> f[2];
            case "sr" -> f[4];
            default -> null;
        };
        if (settles != null) {
            synchronized (intents) {
                intents.remove(settles);
            }
        }
        String checker = switch (type.charAt(0)) {
            case 'c' -> "counter " + f[0];
            case 's' -> "state";
            case 'l' -> "locks";
            case 'q' -> "queues";
            default -> null;
        };
        if (checker != null) {
            fed.computeIfAbsent(checker, k -> new java.util.concurrent.atomic.LongAdder()).increment();
        }
        apply(type, f);
    }

    /**
     * The fewest operations recorded so far for any of {@link #CHECKERS}: a run goes on until
     * each checker has enough to judge, since a slow machine may spend a short run restarting.
     */
    long fewestFed() {
        return CHECKERS.stream().mapToLong(c -> {
            java.util.concurrent.atomic.LongAdder n = fed.get(c);
            return n == null ? 0 : n.sum();
        }).min().orElse(0);
    }

    private void apply(String type, String... f) {
        switch (type) {
            case "ci" -> counter(f[0]).increment(n(f[1]), n(f[2]), n(f[3]), f[4]);
            case "cr" -> counter(f[0]).read(n(f[1]), n(f[2]), n(f[3]), f[4]);
            case "sp" -> state.put(f[0], n(f[1]), n(f[2]), nul(f[3]));
            case "spu" -> state.putUnknown(f[0], n(f[1]), nul(f[2]));
            case "sr" -> state.replace(f[0], n(f[1]), n(f[2]), nul(f[3]), nul(f[4]), Boolean.parseBoolean(f[5]));
            case "sru" -> state.replaceUnknown(f[0], n(f[1]), nul(f[2]), nul(f[3]));
            case "sg" -> state.get(f[0], n(f[1]), n(f[2]), nul(f[3]));
            case "lg" -> locks.granted(f[0], f[1], Integer.parseInt(f[2]), n(f[3]), n(f[4]), n(f[5]));
            case "ln" -> locks.notGranted(f[0], f[1], Integer.parseInt(f[2]), n(f[3]), n(f[4]),
                    LockHistory.Outcome.valueOf(f[5]));
            case "lu" -> locks.use(f[0], f[1], n(f[2]), n(f[3]), n(f[4]));
            case "lr" -> locks.release(f[0], f[1], n(f[2]), n(f[3]), n(f[4]), Boolean.parseBoolean(f[5]));
            case "qo" -> queues.offer(f[0], f[1], n(f[2]), n(f[3]), QueueHistory.Outcome.valueOf(f[4]));
            case "qd" -> queues.delivery(f[0], f[1], f[2], f[3], n(f[4]), n(f[5]));
            case "qa" -> queues.ack(f[0], f[1], n(f[2]), n(f[3]), QueueHistory.Outcome.valueOf(f[4]));
            case "qn" -> queues.nack(f[0], f[1], n(f[2]), n(f[3]), QueueHistory.Outcome.valueOf(f[4]));
            case "qx" -> queues.drained(f[0], n(f[1]), n(f[2]));
            case "o" -> {
                synchronized (outcomes) {
                    outcomes.add(new long[] {PRIMITIVES.indexOf(f[0]),
                            FaultWorkload.Outcome.valueOf(f[1]).ordinal(), n(f[2]), n(f[3])});
                }
            }
            default -> throw new IllegalArgumentException("unknown history record '" + type + "'");
        }
    }

    private CounterHistory counter(String name) {
        return counters.computeIfAbsent(name, k -> new CounterHistory());
    }

    private static long n(String s) {
        return Long.parseLong(s);
    }

    private static String nul(String s) {
        return s.equals("-") ? null : s;
    }

    /** Every checker's anomalies, at most {@code limit} each, and how many operations each read. */
    List<Anomaly> anomalies(int limit, Map<String, Integer> sizes) {
        synchronized (intents) {
            for (String[] unknown : intents.values()) {
                apply(unknown[0], Arrays.copyOfRange(unknown, 1, unknown.length));
            }
            intents.clear();
        }
        List<Anomaly> found = new ArrayList<>();
        new TreeMap<>(counters).forEach((name, h) -> {
            sizes.put("counter " + name, h.size());
            found.addAll(h.anomalies(limit));
        });
        sizes.put("state", state.size());
        found.addAll(state.anomalies(limit));
        sizes.put("locks", locks.size());
        found.addAll(locks.anomalies(limit));
        sizes.put("queues", queues.size());
        found.addAll(queues.anomalies(limit));
        return found;
    }

    /**
     * Outcomes per fault in force when each call began ("none" between faults) and primitive:
     * fault label -> primitive -> outcome -> count.
     */
    /** fault label -> primitive -> [calls, total nanoseconds in calls], like {@link #availability}. */
    Map<String, Map<String, long[]>> latency(List<Nemesis.Event> events) {
        Map<String, Map<String, long[]>> table = new TreeMap<>();
        List<long[]> copy;
        synchronized (outcomes) {
            copy = new ArrayList<>(outcomes);
        }
        for (long[] o : copy) {
            long[] c = table.computeIfAbsent(faultAt(events, o[2]), k -> new TreeMap<>())
                    .computeIfAbsent(PRIMITIVES.get((int) o[0]), k -> new long[2]);
            c[0]++;
            c[1] += o[3] - o[2];
        }
        return table;
    }

    private static String faultAt(List<Nemesis.Event> events, long time) {
        for (Nemesis.Event e : events) {
            if (e.start() <= time && time <= e.end()) {
                return e.kind().label();
            }
        }
        return "none";
    }

    Map<String, Map<String, Map<FaultWorkload.Outcome, Long>>> availability(List<Nemesis.Event> events) {
        Map<String, Map<String, Map<FaultWorkload.Outcome, Long>>> table = new TreeMap<>();
        List<long[]> copy;
        synchronized (outcomes) {
            copy = new ArrayList<>(outcomes);
        }
        for (long[] o : copy) {
            table.computeIfAbsent(faultAt(events, o[2]), k -> new TreeMap<>())
                    .computeIfAbsent(PRIMITIVES.get((int) o[0]), k -> {
                        Map<FaultWorkload.Outcome, Long> m = new EnumMap<>(FaultWorkload.Outcome.class);
                        for (FaultWorkload.Outcome out : FaultWorkload.Outcome.values()) {
                            m.put(out, 0L);
                        }
                        return m;
                    })
                    .merge(FaultWorkload.Outcome.values()[(int) o[1]], 1L, Long::sum);
        }
        return table;
    }
}
