package io.unidist.bench.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Turns rows into the results: every figure beside a ratio to a baseline measured in the same cluster (the machine
 * is noisy; ratios are what compare across runs).
 *
 * <ul>
 *   <li>unidist rows: to jgroups-raft's CounterService with the same threads and fsync, the client in the same
 *       place (a non-voter is compared with a follower: both are two hops from the leader);</li>
 *   <li>CounterService rows: to the floor;</li>
 *   <li>every protocol row also as p50 ÷ floor, where floor = commits per call × (round trips × loopback round
 *       trip p50 + one forced append p50 when fsync is on), round trips being 1 from the leader and 2 from
 *       elsewhere (client to leader, leader to a follower). It is a lower bound, not a model: the leader's and the
 *       follower's appends are counted once.</li>
 * </ul>
 */
final class Report {
    private final List<Row> rows;
    private final List<BenchCluster.Failover> failovers;
    private final List<String> environment;

    /** A row's ratios; NaN where one does not apply. */
    record Ratios(String base, double opsRatio, double p50Ratio, double p50OverFloor) {
        static final Ratios NONE = new Ratios("-", Double.NaN, Double.NaN, Double.NaN);
    }

    Report(List<Row> rows, List<BenchCluster.Failover> failovers, List<String> environment) {
        this.rows = List.copyOf(rows);
        this.failovers = List.copyOf(failovers);
        this.environment = List.copyOf(environment);
    }

    Ratios ratios(Row r) {
        Optional<Double> floor = floorNanos(r);
        switch (r.kind()) {
            case COUNTER_SERVICE: {
                if (floor.isEmpty()) {
                    return Ratios.NONE;
                }
                double f = floor.get();
                return new Ratios("floor", r.m().opsPerSecond() / (1e9 / f), r.m().p50Nanos() / f,
                        r.m().p50Nanos() / f);
            }
            case UNIDIST: {
                Row.Role role = r.role() == Row.Role.NON_VOTER ? Row.Role.FOLLOWER : r.role();
                Optional<Row> cs = rows.stream().filter(c -> c.kind() == Row.Kind.COUNTER_SERVICE
                        && c.session() == r.session() && c.threads() == r.threads() && c.role() == role
                        && c.fsync() == r.fsync()).findFirst();
                double overFloor = floor.map(f -> r.m().p50Nanos() / (r.commits() * f)).orElse(Double.NaN);
                if (cs.isEmpty() || cs.get().m().ops() == 0) {
                    return new Ratios("-", Double.NaN, Double.NaN, overFloor);
                }
                Measurement b = cs.get().m();
                return new Ratios("CounterService " + cs.get().node() + " (" + role.label.replace("voter, ", "")
                        + ")", r.m().opsPerSecond() / b.opsPerSecond(), (double) r.m().p50Nanos() / b.p50Nanos(),
                        overFloor);
            }
            case DATA: {
                double overFloor = floor.map(f -> r.m().p50Nanos() / (r.commits() * f)).orElse(Double.NaN);
                Optional<Row> counter = rows.stream().filter(c -> c.kind() == Row.Kind.UNIDIST
                        && c.operation().equals(COUNTER) && c.session() == r.session() && c.threads() == r.threads()
                        && c.role() == r.role() && c.fsync() == r.fsync()).findFirst();
                if (counter.isEmpty() || counter.get().m().ops() == 0) {
                    return new Ratios("-", Double.NaN, Double.NaN, overFloor);
                }
                Measurement b = counter.get().m();
                return new Ratios("counter " + counter.get().node() + " (" + r.role().label.replace("voter, ", "")
                        + ")", r.m().opsPerSecond() / b.opsPerSecond(), (double) r.m().p50Nanos() / b.p50Nanos(),
                        overFloor);
            }
            case LOGGING: {
                Optional<Row> plain = rows.stream().filter(c -> c.kind() == Row.Kind.LOGGING
                        && c.operation().equals(PLAIN_LOGBACK) && c.session() == r.session()
                        && c.threads() == r.threads()).findFirst();
                if (plain.isEmpty() || plain.get().m().ops() == 0 || plain.get() == r) {
                    return Ratios.NONE;
                }
                Measurement b = plain.get().m();
                return new Ratios("plain logback", r.m().opsPerSecond() / b.opsPerSecond(),
                        (double) r.m().p50Nanos() / b.p50Nanos(), Double.NaN);
            }
            default:
                return Ratios.NONE;
        }
    }

    /** The operation of the logging rows' baseline. */
    static final String PLAIN_LOGBACK = "log.info, plain logback FileAppender";

    /** The operation of unidist's counter rows, the baseline of the state and queue rows. */
    static final String COUNTER = "counter incrementAndGet";

    private Optional<Double> floorNanos(Row r) {
        Optional<Row> trip = floorRow(r.session(), Row.Kind.FLOOR_ROUND_TRIP);
        Optional<Row> force = floorRow(r.session(), Row.Kind.FLOOR_FSYNC);
        if (trip.isEmpty() || (r.fsync() && force.isEmpty())) {
            return Optional.empty();
        }
        double f = r.role().roundTrips * (double) trip.get().m().p50Nanos()
                + (r.fsync() ? force.get().m().p50Nanos() : 0);
        return Optional.of(f);
    }

    private Optional<Row> floorRow(int session, Row.Kind kind) {
        return rows.stream().filter(r -> r.session() == session && r.kind() == kind).findFirst();
    }

    String csv() {
        StringBuilder sb = new StringBuilder("operation,threads,client,fsync,ops_per_s,p50_us,p99_us,p999_us,max_us,"
                + "ops_ratio,p50_ratio,ratio_to,p50_over_floor,errors,session\n");
        for (Row r : rows) {
            Ratios x = ratios(r);
            Measurement m = r.m();
            sb.append(String.join(",", quote(r.operation()), Integer.toString(r.threads()), quote(r.clientLabel()),
                    r.fsyncLabel(), fmt("%.1f", m.opsPerSecond()), fmt("%.1f", m.p50Nanos() / 1e3),
                    fmt("%.1f", m.p99Nanos() / 1e3), fmt("%.1f", m.p999Nanos() / 1e3), fmt("%.1f", m.maxNanos() / 1e3),
                    ratio(x.opsRatio(), ""), ratio(x.p50Ratio(), ""), quote(x.base()), ratio(x.p50OverFloor(), ""),
                    Long.toString(m.errors()), Integer.toString(r.session()))).append('\n');
        }
        return sb.toString();
    }

    String failoverCsv() {
        StringBuilder sb = new StringBuilder("round,killed,new_leader,kill_to_next_increment_ms,longest_stall_ms,failed_calls\n");
        for (BenchCluster.Failover f : failovers) {
            sb.append(f.round()).append(',').append(f.killed()).append(',').append(f.newLeader()).append(',')
                    .append(fmt("%.1f", f.killToNextNanos() / 1e6)).append(',')
                    .append(fmt("%.1f", f.longestGapNanos() / 1e6)).append(',').append(f.errors()).append('\n');
        }
        return sb.toString();
    }

    String markdown() {
        List<String> out = new ArrayList<>();
        out.add("| operation | threads | client | fsync | ops/s | p50 µs | p99 µs | p99.9 µs | ops/s ratio | p50 ratio"
                + " | ratio to | p50 ÷ floor | errors |");
        out.add("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|");
        for (Row r : rows) {
            Ratios x = ratios(r);
            Measurement m = r.m();
            out.add("| " + String.join(" | ", r.operation(), Integer.toString(r.threads()), r.clientLabel(),
                    r.fsyncLabel(), fmt("%,.0f", m.opsPerSecond()), micros(m.p50Nanos()), micros(m.p99Nanos()),
                    micros(m.p999Nanos()), ratio(x.opsRatio(), "-"), ratio(x.p50Ratio(), "-"), x.base(),
                    ratio(x.p50OverFloor(), "-"), Long.toString(m.errors())) + " |");
        }
        if (!failovers.isEmpty()) {
            out.add("");
            out.add("Failover (fsync on): kill -9 of the leader voter while the non-voter increments with 1 thread.");
            out.add("");
            out.add("| round | killed leader | new leader | kill → next increment ms | longest stall ms | failed calls |");
            out.add("|---:|---|---|---:|---:|---:|");
            for (BenchCluster.Failover f : failovers) {
                out.add("| " + f.round() + " | " + f.killed() + " | " + f.newLeader() + " | "
                        + (f.killToNextNanos() < 0 ? "none within 60 s" : fmt("%,.0f", f.killToNextNanos() / 1e6))
                        + " | " + fmt("%,.0f", f.longestGapNanos() / 1e6) + " | " + f.errors() + " |");
            }
        }
        out.add("");
        out.add("Notes:");
        out.add("- Ratios are against figures of the same cluster in the same run. unidist rows: ops/s and p50 ÷"
                + " CounterService's with the same threads and fsync and the client as placed (a non-voter against a"
                + " follower). CounterService rows: ÷ the floor.");
        out.add("- floor = commits per call × (round trips × loopback round trip p50 + one forced append p50 if fsync"
                + " is on); round trips are 1 from the leader, 2 from elsewhere. A lower bound, not a model; as"
                + " ops/s it is what one thread could do (1e6 / floor µs).");
        out.add("- unidist messaging round trip: 64 bytes from the non-voter to v1 and back through ClusterMessaging on the"
                + " main JGroups channel (the stack every call travels over, its threads and hand-offs included): not"
                + " part of the floor; the difference to the TCP round trip is what the stack adds to two hops.");
        out.add("- lock = acquire + release of a plain lock: two Raft commits per call. With several threads:"
                + " \"own lock per thread\" (no thread waits for another: the protocol's cost), \"one lock,"
                + " contended\" (every thread on the same lock: at most one holder, so grants are serial and each"
                + " waiter is woken by the release's commit), and semaphore = as many permits as threads.");
        if (rows.stream().anyMatch(r -> r.kind() == Row.Kind.DATA)) {
            out.add("- state and queue rows (byte[] payloads of the size shown): ratios are against unidist's counter"
                    + " increment with the same threads and fsync from the same kind of client (follower or"
                    + " non-voter). state put/get: a key among " + VoterMain.STATE_KEYS + " of one bucket per payload"
                    + " size, every key put once before the gets; a get is a linearizable read through the leader."
                    + " queue poll+ack: poll (1 s timeout) then ack, two commits; one queue per payload and thread"
                    + " count, filled by the offer row just before it and topped up from the launcher (unmeasured)"
                    + " to 1.5 × (warm-up + window) × the higher of the offer row's rate and half the counter"
                    + " increment's, at most " + (ClusterBench.QUEUE_FILL_BYTES >> 20) + " MiB of payload; a poll that"
                    + " gets nothing within 1 s counts as an error (and costs its thread 1 s). No background offerer.");
        }
        if (rows.stream().anyMatch(r -> r.kind() == Row.Kind.LOGGING)) {
            out.add("- logging rows: log.info with three arguments, each set-up in a JVM of its own, against plain"
                    + " logback (one FileAppender, a pattern, no caller data, flushed per record) with the same"
                    + " threads. unidist defaults: the unidist-logging defaults as UnidistLogging.configure installs"
                    + " them (console off). forwarded: the same with LogForwarding on, from a non-voter to a"
                    + " collector JVM on 127.0.0.1; each run waits after its window until the collector acknowledged"
                    + " every record.");
        }
        out.add("- CounterService is jgroups-raft's, on a raft channel built by unidist's Stacks.newRaftChannel"
                + " (same file, same transport settings and fsync) with REDIRECT above RAFT.");
        environment.forEach(e -> out.add("- " + e));
        return String.join("\n", out) + "\n";
    }

    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("results.csv"), csv(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("results.md"), markdown(), StandardCharsets.UTF_8);
        if (!failovers.isEmpty()) {
            Files.writeString(dir.resolve("failover.csv"), failoverCsv(), StandardCharsets.UTF_8);
        }
    }

    private static String micros(long nanos) {
        double us = nanos / 1e3;
        return us >= 100 ? fmt("%,.0f", us) : fmt("%.1f", us);
    }

    private static String ratio(double x, String none) {
        return Double.isNaN(x) ? none : fmt("%.2f", x);
    }

    private static String fmt(String format, double x) {
        return String.format(Locale.ROOT, format, x);
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
