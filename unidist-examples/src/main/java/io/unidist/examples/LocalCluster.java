package io.unidist.examples;

import io.unidist.Delivery;
import io.unidist.MessageQueue;
import io.unidist.Subscription;
import io.unidist.Unidist;
import io.unidist.UnidistException;
import io.unidist.cluster.ClusterConfig;
import io.unidist.cluster.UnidistCluster;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The local example cluster: five JVMs on 127.0.0.1 ({@code unidist-local.xml}), three voters
 * (v1, v2, v3) and two other nodes (n1, the producer of jobs, and n2), each running every
 * example program ({@link ExampleNode}). This launcher joins as a sixth, non-voting node to read
 * what happens, shows it once a second, and kills one node with SIGKILL halfway. At the end it
 * stops the producer, waits until the workers have emptied the queue, takes the dead letters,
 * stops the nodes and checks the nodes' own records: no id handed out twice, never more than two
 * backups at once, every job offered either acknowledged exactly once or a dead letter.
 *
 * <pre>
 * ./run-example-cluster.sh                     # builds, then runs for 75 s
 * java -jar unidist-examples/target/unidist-examples-*.jar --seconds=300 --kill=node
 * </pre>
 *
 * <p>Options: {@code --seconds=N} of work after the cluster first answers (default 75; the
 * start takes some seconds more), {@code --kill=voter|node|none} (default voter: a voter that
 * is not the leader; node: n2), {@code --dir=PATH} for the run directory's parent (default the
 * current directory). The run directory, {@code unidist-example-<timestamp>}, holds each node's
 * data directory and log. Exit status 0 when every check passed, 1 when one failed, 2 on bad
 * options.
 */
public final class LocalCluster {
    static final List<String> VOTERS = List.of("v1", "v2", "v3");
    static final List<String> NODES = List.of("v1", "v2", "v3", "n1", "n2");
    static final String PRODUCER = "n1";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    /** Long enough for a job held by a killed worker to come back (visibility timeout) and be done. */
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(60);
    static final String DEAD_LETTERS_FILE = "dead-letters.txt";
    private static final DateTimeFormatter RUN_DIR_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    private final Options options;
    private final Path runDir;
    private final int base;
    private final String clusterName;
    private final PrintStream out = System.out;
    private final boolean terminal = System.console() != null;
    private final Map<String, Child> children = new LinkedHashMap<>();
    private final Events events = new Events();
    private final Instant launched = Instant.now();
    private volatile boolean finished;

    /** One node's process. */
    private record Child(String name, Process process, Path dataDir) {
        boolean voter() {
            return VOTERS.contains(name);
        }
    }

    /** The launcher's options; see the class comment. */
    record Options(long seconds, String kill, Path dir) {
        static Options parse(String... args) {
            long seconds = 75;
            String kill = "voter";
            Path dir = Path.of(".");
            for (String arg : args) {
                if (arg.startsWith("--seconds=")) {
                    seconds = Long.parseLong(arg.substring("--seconds=".length()));
                } else if (arg.startsWith("--kill=")) {
                    kill = arg.substring("--kill=".length());
                } else if (arg.startsWith("--dir=")) {
                    dir = Path.of(arg.substring("--dir=".length()));
                } else {
                    throw new IllegalArgumentException("unknown option '" + arg + "'");
                }
            }
            if (seconds < 10) {
                throw new IllegalArgumentException("--seconds must be at least 10, got " + seconds);
            }
            if (!List.of("voter", "node", "none").contains(kill)) {
                throw new IllegalArgumentException("--kill must be voter, node or none, got '" + kill + "'");
            }
            return new Options(seconds, kill, dir);
        }
    }

    private LocalCluster(Options options, Path runDir, int base) {
        this.options = options;
        this.runDir = runDir;
        this.base = base;
        this.clusterName = "unidist-example-" + base;
    }

    /** Runs the example cluster; see the class comment for the options. */
    public static void main(String[] args) throws IOException, InterruptedException {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage() + "\nusage: LocalCluster [--seconds=75] [--kill=voter|node|none] [--dir=.]");
            System.exit(2);
            return;
        }
        Path runDir = newRunDir(options.dir());
        // this process's own log (the observer node's) goes to a file, not over the live summary
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "unidist-examples-launcher-logback.xml");
        }
        System.setProperty("unidist.example.log", runDir.resolve("observer.log").toString());
        boolean passed = false;
        try {
            passed = new LocalCluster(options, runDir, Ports.freeBase()).run();
        } catch (IOException | RuntimeException e) {
            System.out.println("the example cluster failed: " + e);
            e.printStackTrace(System.out);
            System.out.println("data and logs: " + runDir);
        } finally {
            System.exit(passed ? 0 : 1); // the observer's JGroups threads would keep the JVM alive
        }
    }

    private static Path newRunDir(Path parent) throws IOException {
        String stamp = "unidist-example-" + LocalDateTime.now().format(RUN_DIR_TIME);
        Files.createDirectories(parent);
        for (int n = 1; ; n++) {
            Path dir = parent.resolve(n == 1 ? stamp : stamp + "-" + n).toAbsolutePath().normalize();
            try {
                return Files.createDirectory(dir);
            } catch (FileAlreadyExistsException e) {
                // two runs in the same second: take the next name
            }
        }
    }

    private boolean run() throws IOException, InterruptedException {
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopOnInterrupt, "stop-example-cluster"));
        out.println("unidist example cluster '" + clusterName + "': voters v1 v2 v3 and nodes n1 n2, one JVM each,"
                + " on 127.0.0.1 ports " + base + "+ (unidist-local.xml)");
        out.println("data and logs: " + runDir);
        Run run = new Run();
        Unidist observer = null;
        try {
            for (String name : NODES) {
                Child child = startChild(name);
                out.println("started " + name + " (" + (child.voter() ? "voter" : "non-voter") + ", pid "
                        + child.process().pid() + "), log " + name + ".log");
            }
            observer = UnidistCluster.join(observerConfig());
            work(observer, run);
            if (run.workStart != null) {
                finishTheQueue(observer, run);
            }
        } finally {
            if (run.watching != null) {
                run.watching.close();
            }
            if (observer != null) {
                observer.close();
            }
            stopChildren();
        }
        RunChecks checks = RunChecks.of(NODES.stream().map(n -> runDir.resolve(n)).toList(),
                run.killed.equals("nobody") ? null : runDir.resolve(run.killed), run.deadLetters);
        finished = true;
        return printFinalSummary(run, checks, CentralLogs.read(runDir));
    }

    // ----- the children

    private Child startChild(String name) throws IOException {
        Path dataDir = runDir.resolve(name);
        Files.createDirectories(dataDir);
        Path log = runDir.resolve(name + ".log");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", // light on 2 cores
                "-Djava.net.preferIPv4Stack=true",
                // unidist's logging defaults: console (into <node>.log), files under <node>/logs, and
                // forwarding to the collector, which writes every host's records under <collector>/logs/collected
                "-Dunidist.program=" + name,
                "-Dunidist.logging.dir=" + dataDir.resolve("logs"),
                "-Dunidist.logging.level.org.jgroups=WARN",
                "-Dunidist.bind_port=" + base,
                "-Dunidist.initial_hosts=127.0.0.1[" + base + "]",
                "-Dexample.backup_dir=" + runDir.resolve("backup-target"),
                "-cp", nodeClassPath(),
                ExampleNode.class.getName(),
                name.equals(PRODUCER) ? "producer" : "worker",
                "--cluster=" + clusterName,
                "--node=" + name,
                "--voters=" + String.join(",", VOTERS),
                "--jgroups=unidist-local.xml",
                "--data-dir=" + dataDir));
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(devNull()))
                .start();
        Child child = new Child(name, process, dataDir);
        children.put(name, child);
        return child;
    }

    /**
     * This JVM's class path without test class directories: a test's {@code logback-test.xml}
     * must not configure the nodes, which run with unidist's logging defaults as a user's
     * program does.
     */
    private static String nodeClassPath() {
        return java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(entry -> !Path.of(entry).endsWith("test-classes"))
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    }

    private static java.io.File devNull() {
        return new java.io.File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
    }

    private ClusterConfig observerConfig() {
        return ClusterConfig.builder()
                .clusterName(clusterName)
                .nodeName("observer")
                .voters(VOTERS.toArray(String[]::new))
                .jgroupsConfig("unidist-local.xml")
                .property("unidist.bind_port", Integer.toString(base))
                .property("unidist.initial_hosts", "127.0.0.1[" + base + "]")
                .operationTimeout(Duration.ofSeconds(3)) // a refresh of the summary must not hang long
                .build();
    }

    /** Stops the nodes: SIGTERM (each leaves the cluster cleanly), non-voters first; SIGKILL after 15 s. */
    private void stopChildren() throws InterruptedException {
        for (boolean voters : new boolean[] {false, true}) {
            List<Child> batch = children.values().stream().filter(c -> c.voter() == voters).toList();
            batch.forEach(c -> c.process().destroy());
            for (Child c : batch) {
                if (!c.process().waitFor(15, TimeUnit.SECONDS)) {
                    c.process().destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** Ctrl-C (or any other end before the final summary): no process may be left behind. */
    private void stopOnInterrupt() {
        if (finished) {
            return;
        }
        System.out.println();
        System.out.println("stopping the example cluster before its end...");
        children.values().forEach(c -> c.process().destroy());
        for (Child c : children.values()) {
            try {
                if (!c.process().waitFor(4, TimeUnit.SECONDS)) {
                    c.process().destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                c.process().destroyForcibly();
            }
        }
        System.out.println("stopped every node; data and logs: " + runDir);
    }

    // ----- the run

    /** What the run has seen: the last snapshot, and the moments that matter for the final summary. */
    private static final class Run {
        Snapshot last;
        String problem;
        Instant workStart;
        Snapshot atKill;
        Instant killedAt;
        String killed = "nobody";
        Duration carriedOnAfter;
        Subscription watching;
        boolean drained;
        List<String> deadLetters = List.of();
    }

    private void work(Unidist observer, Run run) throws InterruptedException {
        Instant giveUp = launched.plus(START_TIMEOUT);
        Instant next = Instant.now();
        while (true) {
            refresh(observer, run);
            Instant now = Instant.now();
            if (run.workStart == null) {
                if (run.last != null) {
                    run.workStart = now;
                    events.add("the cluster answers: " + (run.last.leader() == null ? "" : run.last.leader()
                            + " is the leader, ") + Duration.between(launched, now).toSeconds() + " s after the start");
                } else if (now.isAfter(giveUp)) {
                    events.add("the cluster did not answer within " + START_TIMEOUT.toSeconds() + " s; see the logs");
                    show(run);
                    return;
                }
            } else {
                long worked = Duration.between(run.workStart, now).toSeconds();
                if (run.killedAt == null && worked >= options.seconds() / 2) {
                    kill(run);
                }
                if (worked >= options.seconds()) {
                    show(run);
                    return;
                }
            }
            show(run);
            next = next.plusSeconds(1);
            long wait = Duration.between(Instant.now(), next).toMillis();
            if (wait > 0) {
                Thread.sleep(wait); // the summary is redrawn once a second
            } else {
                next = Instant.now();
            }
        }
    }

    /**
     * After the work time: the producer stops, the workers empty the queue, and the launcher takes
     * the dead letters into {@code dead-letters.txt}. Then every job offered can be accounted for.
     */
    private void finishTheQueue(Unidist observer, Run run) throws InterruptedException {
        events.add("the work time is over: stopping the producer " + PRODUCER + "; the workers finish the queue");
        Process producer = children.get(PRODUCER).process();
        producer.destroy();
        if (!producer.waitFor(15, TimeUnit.SECONDS)) {
            producer.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        Instant giveUp = Instant.now().plus(DRAIN_TIMEOUT);
        while (!run.drained && Instant.now().isBefore(giveUp)) {
            Thread.sleep(1000); // the summary is redrawn once a second
            refresh(observer, run);
            run.drained = run.problem == null && run.last.queued() == 0;
            show(run);
        }
        if (!run.drained) {
            events.add("the queue still held " + run.last.queued() + " jobs after " + DRAIN_TIMEOUT.toSeconds() + " s");
            show(run);
            return;
        }
        events.add("the queue is empty: every job is done or a dead letter");
        try {
            MessageQueue<String> dead = observer.queue(WorkQueue.QUEUE + ".dead", String.class);
            List<String> letters = new ArrayList<>();
            for (Optional<Delivery<String>> d = dead.poll(Duration.ZERO); d.isPresent(); d = dead.poll(Duration.ZERO)) {
                letters.add(d.get().message());
                d.get().ack();
            }
            Files.write(runDir.resolve(DEAD_LETTERS_FILE), letters);
            run.deadLetters = letters;
            events.add("took " + letters.size() + " dead letters from " + WorkQueue.QUEUE + ".dead into " + DEAD_LETTERS_FILE);
        } catch (UnidistException | IOException e) {
            run.drained = false;
            events.add("could not take the dead letters: " + e.getMessage());
        }
        show(run);
    }

    private void refresh(Unidist observer, Run run) {
        try {
            Snapshot s = Snapshot.read(observer);
            if (run.killedAt != null && run.carriedOnAfter == null && s.ids() > run.atKill.ids()) {
                run.carriedOnAfter = Duration.between(run.killedAt, s.at());
                events.add("the cluster carried on: new ids were handed out within "
                        + seconds(run.carriedOnAfter) + " s of the kill");
            }
            if (run.problem != null) {
                events.add("the cluster answers again");
            }
            run.last = s;
            run.problem = null;
            if (run.watching == null) {
                run.watching = StatusBoard.watch(observer, this::boardChanged);
            }
        } catch (UnidistException e) {
            if (run.problem == null && run.workStart != null) {
                events.add("no answer from the cluster: " + e.getMessage());
            }
            run.problem = e.getMessage();
        }
    }

    private void kill(Run run) throws InterruptedException {
        run.atKill = run.last;
        String leader = run.last.leader();
        Child victim = null;
        String why = "";
        if (options.kill().equals("voter") && leader != null) {
            victim = VOTERS.stream().filter(v -> !v.equals(leader)).map(children::get).findFirst().orElseThrow();
            why = "a voter, not the leader " + leader + ": 2 of 3 voters are left, still a majority";
        } else if (!options.kill().equals("none")) {
            victim = children.get("n2");
            why = "a worker, not a voter" + (options.kill().equals("voter") ? " (the leader was not known)" : "");
        }
        run.killedAt = Instant.now();
        if (victim == null) {
            events.add("halfway: killing nobody (--kill=none)");
            return;
        }
        victim.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        run.killed = victim.name();
        events.add("KILLED " + victim.name() + " (pid " + victim.process().pid() + ") with SIGKILL: " + why);
    }

    private final Set<String> onBoard = ConcurrentHashMap.newKeySet();

    private void boardChanged(String host, java.util.Optional<String> status) {
        if (status.isPresent() && onBoard.add(host)) {
            events.add("status board: " + host + " appeared");
        } else if (status.isEmpty() && onBoard.remove(host)) {
            events.add("status board: " + host + " left (its entry expired after " + StatusBoard.TTL.toSeconds() + " s)");
        }
    }

    // ----- output

    private void show(Run run) {
        Map<String, String> processes = new LinkedHashMap<>();
        children.forEach((name, c) -> processes.put(name, c.process().isAlive() ? "pid " + c.process().pid()
                : name.equals(run.killed) ? "KILLED" : "exited " + c.process().exitValue()));
        long elapsed = run.workStart == null ? 0 : Duration.between(run.workStart, Instant.now()).toSeconds();
        SummaryView.Frame frame = new SummaryView.Frame(clusterName, runDir, elapsed, options.seconds(),
                run.workStart != null, run.last, run.problem, processes, events.recent(8));
        if (terminal) {
            out.print(SummaryView.screen(frame));
        } else {
            events.drain().forEach(e -> out.println("[" + String.format("%3d", elapsed) + "s] " + e));
            out.println(SummaryView.line(frame));
        }
        out.flush();
    }

    private boolean printFinalSummary(Run run, RunChecks checks, CentralLogs centralLogs) {
        Snapshot end = run.last;
        boolean leftRunning = children.values().stream().anyMatch(c -> c.process().isAlive());
        boolean progressed = end != null && run.atKill != null && end.ids() > run.atKill.ids()
                && end.done() > run.atKill.done();
        boolean passed = end != null && checks.duplicates().isEmpty() && checks.maxConcurrent() <= RollingBackup.AT_ONCE
                && checks.tokensUnique() && checks.doneTwice().isEmpty() && !leftRunning && progressed
                && run.drained && checks.lost().isEmpty() && checks.doneAndDead().isEmpty()
                && centralLogs.hosts().containsAll(NODES);
        out.println();
        out.println("=== final summary: " + options.seconds() + " s of work, " + clusterName + " ===");
        if (run.killedAt != null && !run.killed.equals("nobody")) {
            out.println("killed " + run.killed + " with SIGKILL halfway; the cluster carried on"
                    + (run.carriedOnAfter == null ? ": NO new ids after the kill" : ": new ids within "
                    + seconds(run.carriedOnAfter) + " s"));
        }
        if (end == null) {
            out.println("the cluster never answered; see the logs");
        } else {
            out.println(String.format("%-36s %12s %12s", "", "at the kill", "at the end"));
            row("ids handed out (counter job-ids)", run.atKill, end, Snapshot::ids);
            row("jobs produced", run.atKill, end, Snapshot::produced);
            row("jobs done", run.atKill, end, Snapshot::done);
            row("failed attempts (retried by nack)", run.atKill, end, Snapshot::failed);
            row("dead letters (work.dead)", run.atKill, end, Snapshot::dead);
            row("jobs waiting or in flight", run.atKill, end, Snapshot::queued);
            row("backups done", run.atKill, end, Snapshot::backups);
        }
        out.println("ids recorded by the nodes: " + checks.ids() + ", duplicates: "
                + (checks.duplicates().isEmpty() ? "none" : checks.duplicates()));
        out.println("backup runs recorded by the nodes: " + checks.backupRuns() + ", at most "
                + checks.maxConcurrent() + " at once (the semaphore allows " + RollingBackup.AT_ONCE + "), fencing tokens "
                + (checks.tokensUnique() ? "all different" : "NOT all different"));
        out.println("jobs acknowledged by the workers: " + checks.jobsDone() + ", acknowledged twice: "
                + (checks.doneTwice().isEmpty() ? "none" : checks.doneTwice()));
        out.println("jobs offered by the producer: " + checks.jobsProduced() + "; " + (run.drained
                ? "not done and not a dead letter: " + (checks.lost().isEmpty() ? "none" : checks.lost())
                : "the queue was not emptied, so lost jobs cannot be told from waiting ones")
                + (checks.uncertain().isEmpty() ? "" : "; being acknowledged at the kill: " + checks.uncertain())
                + (checks.doneAndDead().isEmpty() ? "" : "; done AND dead letters: " + checks.doneAndDead()));
        out.println("central logs: records from " + centralLogs.hosts().size() + " hosts " + centralLogs.hosts()
                + " in " + centralLogs.dirs().stream().map(d -> runDir.relativize(d).toString()).toList());
        out.println("processes: " + children.size() + " started, "
                + children.values().stream().filter(c -> c.process().isAlive()).count() + " left running");
        out.println("checks: " + (passed ? "all passed" : "FAILED"));
        out.println("data and logs: " + runDir);
        out.println("  <node>.log        each node's log (observer.log: this launcher's node)");
        out.println("  v1/ v2/ v3/       each voter's Raft log and snapshots (raft/), and the files n2/ has");
        out.println("  n1/ n2/           ids.txt, backups.txt; produced.txt (n1, the producer); acking.txt and done.txt"
                + " (n2 and the voters, the workers)");
        out.println("  " + DEAD_LETTERS_FILE + "  the jobs that failed every attempt, taken from work.dead at the end");
        out.println("  <node>/logs/      each node's own log files (text and JSON lines)");
        out.println("  <voter>/logs/collected/  the central logs: every host's records, on the collector");
        out.println("  backup-target/    the backups, one per host, with their fencing tokens");
        return passed;
    }

    private void row(String what, Snapshot atKill, Snapshot end, java.util.function.ToLongFunction<Snapshot> value) {
        out.println(String.format("%-36s %12s %12d", what, atKill == null ? "-" : Long.toString(value.applyAsLong(atKill)),
                value.applyAsLong(end)));
    }

    private static String seconds(Duration d) {
        return String.format("%.1f", d.toMillis() / 1000.0);
    }
}
