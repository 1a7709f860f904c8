package io.unidist.bench.cluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The launcher's handle on one {@link VoterMain} JVM: starts it (stderr appended to a log file), sends it commands
 * and waits for the answers, and kills it. Every started process is registered with {@link Children}, whose
 * shutdown hook kills whatever is still alive when the launcher exits.
 */
final class VoterProcess {
    private static final String EOF = "\u0000eof";

    private final String name;
    private final List<String> command;
    private final Path logFile;
    private Process process;
    private PrintWriter in;
    private BlockingQueue<String> lines;

    VoterProcess(String name, List<String> command, Path logFile) {
        this.name = name;
        this.command = List.copyOf(command);
        this.logFile = logFile;
    }

    String name() {
        return name;
    }

    /** Starts the JVM; {@link #awaitReady} waits for it to join. */
    void start() throws IOException {
        Files.createDirectories(logFile.getParent());
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .redirectOutput(ProcessBuilder.Redirect.PIPE);
        Process p = pb.start();
        Children.register(p);
        process = p;
        in = new PrintWriter(new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8), true);
        BlockingQueue<String> queue = new LinkedBlockingQueue<>();
        lines = queue;
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    queue.add(line);
                }
            } catch (IOException e) {
                // the process died
            } finally {
                queue.add(EOF);
            }
        }, "bench-read-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    /** Waits for the {@code ready} line. */
    void awaitReady(Duration timeout) throws IOException, InterruptedException {
        String line = next(timeout, "joining the cluster");
        if (!line.startsWith("ready")) {
            throw failure("did not start: " + line);
        }
    }

    /**
     * Sends one command and returns the text after {@code ok }.
     *
     * @throws IOException when the voter answers {@code err}, dies or does not answer within {@code timeout}
     */
    String call(String commandLine, Duration timeout) throws IOException, InterruptedException {
        if (process == null || !process.isAlive()) {
            throw failure("is not running; cannot send '" + commandLine + "'");
        }
        in.println(commandLine);
        String line = next(timeout, commandLine);
        if (line.startsWith("ok")) {
            return line.length() > 3 ? line.substring(3) : "";
        }
        throw failure("answered '" + commandLine + "' with: " + line);
    }

    private String next(Duration timeout, String what) throws IOException, InterruptedException {
        while (true) {
            String line = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (line == null) {
                throw failure("gave no answer to '" + what + "' within " + timeout);
            }
            if (line.equals(EOF)) {
                lines.add(EOF);
                throw failure("exited while " + what);
            }
            if (line.startsWith("ok") || line.startsWith("err") || line.startsWith("ready")) {
                return line;
            }
            System.err.println("[" + name + "] " + line); // not protocol: should not happen, shown rather than lost
        }
    }

    private IOException failure(String what) {
        String exit = process != null && !process.isAlive() ? " (exit code " + process.exitValue() + ")" : "";
        return new IOException("voter " + name + " " + what + exit + "; its log: " + logFile + tail());
    }

    private String tail() {
        try {
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            List<String> last = new ArrayList<>(all.subList(Math.max(0, all.size() - 15), all.size()));
            return last.isEmpty() ? "" : "\n    " + String.join("\n    ", last);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /** kill -9 without waiting for the process to go ({@link #kill} waits). */
    void killNow() {
        if (process != null) {
            process.destroyForcibly(); // SIGKILL on Unix
        }
    }

    /** kill -9; returns once the process is gone. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly(); // SIGKILL on Unix
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** Asks the voter to quit (without waiting); {@link #awaitExit} then waits and kills what is left. */
    void requestQuit() {
        if (isAlive()) {
            in.println("quit");
        }
    }

    void awaitExit(Duration timeout) throws InterruptedException {
        if (process != null && !process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            kill();
        }
    }

    /** The processes the launcher started, killed by a shutdown hook if still alive when it exits. */
    static final class Children {
        private static final List<Process> ALL = new ArrayList<>();

        static {
            Runtime.getRuntime().addShutdownHook(new Thread(Children::killAll, "bench-kill-children"));
        }

        private Children() {
        }

        static synchronized void register(Process p) {
            ALL.add(p);
        }

        /** Kills every live child and waits (up to 5 s each) until it is gone. */
        static synchronized void killAll() {
            for (Process p : ALL) {
                if (p.isAlive()) {
                    p.destroyForcibly();
                }
            }
            for (Process p : ALL) {
                try {
                    p.waitFor(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
