package io.unidist.cluster.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The faults of a {@link FaultRun}: one at a time, each held for a few seconds and then
 * healed, with a quiet spell between them; every kind comes once, in a seeded order, before
 * any comes again, so that a short run still sees them all. Which fault, where and for how long follow from
 * the run's seed alone, so a seed replays the same schedule (the threads' timing, and so the
 * exact history, still varies from run to run).
 */
final class Nemesis {
    private static final Logger log = LoggerFactory.getLogger(Nemesis.class);

    /** The kinds of fault, each with the name the report uses. */
    enum Kind {
        /** The nodes split in two halves that do not hear each other. */
        PARTITION_HALVES,
        /** The leader cut off from every other node. */
        PARTITION_LONE_LEADER,
        /** Two sides that do not hear each other, and one node that hears both. */
        PARTITION_BRIDGE,
        /** A minority of voters and some non-voters killed (no goodbye), restarted over their data at the heal. */
        CRASH,
        /** The leader killed, restarted at the heal. */
        CRASH_LEADER,
        /** Every node killed at once, all restarted over their data at the heal (processes only). */
        CRASH_ALL,
        /** 20 % of the messages into and out of every node lost. */
        LOSS,
        /** Every message out of every node delayed by up to 60 ms (which also reorders them). */
        DELAY,
        /** Every message sent and received twice. */
        DUPLICATE,
        /** Incoming messages reordered on every node. */
        REORDER,
        /** One node stalled: silent both ways, its workload frozen mid-call, then resumed as it was. */
        PAUSE;

        String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', ' ');
        }
    }

    /** One fault as applied: what, where, and when (System.nanoTime) it began and was healed. */
    record Event(Kind kind, String detail, long start, long end) {
        boolean overlaps(long from, long to) {
            return start <= to && end >= from;
        }

        @Override
        public String toString() {
            return kind.label() + " (" + detail + ")";
        }
    }

    /** What the nemesis acts on: nodes in this JVM ({@link FaultRun}) or processes ({@link FaultProcesses}). */
    interface Target {
        /** Names of the nodes running now, in a stable order. */
        List<String> liveNodes();

        List<String> voters();

        /** The current leader, or (between leaders) a running voter. */
        String leader();

        /** {@code a} and {@code b} stop hearing each other; {@code bridges} go on hearing both. */
        void cut(Set<String> a, Set<String> b, Set<String> bridges);

        /** A network fault on every node: LOSS, DELAY, DUPLICATE or REORDER. */
        void degrade(Kind kind);

        /** The node dies with no goodbye, and is started again at the heal. */
        void crash(String node);

        /** The node stalls until the heal. */
        void pause(String node);

        /** Every fault off, every stalled node resumed, every crashed node started again. */
        void healAll();

        /**
         * The least time a fault of this kind is held, whatever the drawn hold: long enough for
         * what the run checks during it to happen at all on a slow machine.
         */
        default Duration minimumHold(Kind kind) {
            return Duration.ZERO;
        }
    }

    private final Target run;
    private final Random random;
    private final Set<Kind> kinds;
    private final Duration hold;
    private final Duration quiet;
    private final List<Event> events = Collections.synchronizedList(new ArrayList<>());
    private volatile Kind current;

    Nemesis(Target run, long seed, Set<Kind> kinds, Duration hold, Duration quiet) {
        this.run = run;
        this.random = new Random(seed);
        this.kinds = EnumSet.copyOf(kinds);
        this.hold = hold;
        this.quiet = quiet;
    }

    /** The kinds of fault this nemesis applies. */
    Set<Kind> kinds() {
        return kinds;
    }

    /** The fault in force now, or null in a quiet spell: operations are counted against it. */
    Kind current() {
        return current;
    }

    List<Event> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    /** Applies faults until {@code stop}; the last one is healed before it returns. */
    void run(AtomicBoolean stop) {
        List<Kind> bag = new ArrayList<>();
        while (!stop.get()) {
            park(vary(quiet), stop);
            if (stop.get()) {
                break;
            }
            if (bag.isEmpty()) { // every kind once, in a seeded order, before any kind again
                bag.addAll(kinds);
                Collections.shuffle(bag, random);
            }
            Kind kind = bag.remove(bag.size() - 1);
            long holdNanos = Math.max(vary(hold), run.minimumHold(kind).toNanos());
            long start = System.nanoTime();
            String detail;
            try {
                detail = apply(kind);
            } catch (RuntimeException e) {
                // a fault that cannot be set (a restart that failed to join in time) is itself
                // an availability finding, not a verdict: note it and go on
                log.warn("nemesis: could not apply {}: {}", kind.label(), e.toString());
                run.healAll();
                continue;
            }
            current = kind;
            log.info("nemesis: {} ({})", kind.label(), detail);
            park(holdNanos, null);
            current = null;
            run.healAll();
            events.add(new Event(kind, detail, start, System.nanoTime()));
            log.info("nemesis: healed {}", kind.label());
        }
    }

    private String apply(Kind kind) {
        List<String> nodes = run.liveNodes();
        switch (kind) {
            case PARTITION_HALVES: {
                List<String> shuffled = shuffled(nodes);
                Set<String> side = new LinkedHashSet<>(shuffled.subList(0, shuffled.size() / 2));
                run.cut(side, minus(nodes, side), Set.of());
                return side + " | " + minus(nodes, side);
            }
            case PARTITION_LONE_LEADER: {
                String leader = run.leader();
                run.cut(Set.of(leader), minus(nodes, Set.of(leader)), Set.of());
                return leader + " alone";
            }
            case PARTITION_BRIDGE: {
                List<String> shuffled = shuffled(nodes);
                String bridge = shuffled.remove(0);
                Set<String> a = new LinkedHashSet<>(shuffled.subList(0, shuffled.size() / 2));
                Set<String> b = minus(shuffled, a);
                run.cut(a, b, Set.of(bridge));
                return a + " | " + b + ", bridge " + bridge;
            }
            case CRASH: {
                List<String> voters = shuffled(intersect(nodes, run.voters()));
                List<String> others = shuffled(new ArrayList<>(minus(nodes, new LinkedHashSet<>(run.voters()))));
                int maxVoters = (run.voters().size() - 1) / 2;
                List<String> victims = new ArrayList<>(voters.subList(0, 1 + random.nextInt(Math.max(1, maxVoters))));
                victims.addAll(others.subList(0, random.nextInt(others.size() + 1)));
                victims.forEach(run::crash);
                return "killed " + victims;
            }
            case CRASH_ALL: {
                nodes.forEach(run::crash);
                return "killed every node";
            }
            case CRASH_LEADER: {
                String leader = run.leader();
                run.crash(leader);
                return "killed " + leader;
            }
            case LOSS:
                run.degrade(kind);
                return "20 % both ways, every node";
            case DELAY:
                run.degrade(kind);
                return "up to 60 ms out of every node";
            case DUPLICATE:
                run.degrade(kind);
                return "every message twice";
            case REORDER:
                run.degrade(kind);
                return "incoming, every node";
            case PAUSE: {
                String node = nodes.get(random.nextInt(nodes.size()));
                run.pause(node);
                return node + " stalled";
            }
            default:
                throw new IllegalArgumentException(kind.name());
        }
    }

    private List<String> shuffled(List<String> nodes) {
        List<String> copy = new ArrayList<>(nodes);
        Collections.shuffle(copy, random);
        return copy;
    }

    private static Set<String> minus(List<String> all, Set<String> out) {
        Set<String> rest = new LinkedHashSet<>(all);
        rest.removeAll(out);
        return rest;
    }

    private static List<String> intersect(List<String> a, List<String> b) {
        List<String> both = new ArrayList<>(a);
        both.retainAll(b);
        return both;
    }

    /** A duration drawn from the seed: between half and one and a half times {@code d}. */
    private long vary(Duration d) {
        return d.toNanos() / 2 + (long) (random.nextDouble() * d.toNanos());
    }

    private static void park(long nanos, AtomicBoolean stop) {
        long end = System.nanoTime() + nanos;
        long left;
        // a pacing wait, not synchronisation: the nemesis holds a fault for a while
        while ((left = end - System.nanoTime()) > 0 && (stop == null || !stop.get())) {
            LockSupport.parkNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
        }
    }

}
