package io.unidist.logging;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Starts {@link ZeroConfigMain} in a fresh JVM with the test class path. */
final class ChildJvm {

    final int exitCode;
    final long pid;
    final String stdout;
    final String stderr;

    private ChildJvm(int exitCode, long pid, String stdout, String stderr) {
        this.exitCode = exitCode;
        this.pid = pid;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /**
     * Runs the child in {@code workDir} and waits for it to exit.
     *
     * @param extraClassPath a directory put before the test class path, or {@code null}
     * @param jvmArgs        extra JVM arguments such as {@code -Dkey=value}
     */
    static ChildJvm run(Path workDir, Path extraClassPath, String... jvmArgs)
            throws IOException, InterruptedException {
        Process process = start(workDir, extraClassPath, ZeroConfigMain.class, jvmArgs);
        Path out = workDir.resolve("child.out");
        Path err = workDir.resolve("child.err");
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("child JVM did not exit within 60 s");
        }
        return new ChildJvm(process.exitValue(), process.pid(),
                Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    /**
     * Starts {@code mainClass} in {@code workDir} with the test class path and returns at once;
     * its stdout and stderr go to {@code child.out} and {@code child.err} there.
     */
    static Process start(Path workDir, Path extraClassPath, Class<?> mainClass, String... jvmArgs)
            throws IOException {
        return start(workDir, extraClassPath, mainClass, List.of(jvmArgs), List.of());
    }

    /** As {@link #start(Path, Path, Class, String...)}, with arguments for {@code main}. */
    static Process start(Path workDir, Path extraClassPath, Class<?> mainClass, List<String> jvmArgs,
                         List<String> args) throws IOException {
        String classPath = System.getProperty("java.class.path");
        if (extraClassPath != null) {
            classPath = extraClassPath + File.pathSeparator + classPath;
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(classPath);
        command.add(mainClass.getName());
        command.addAll(args);
        return new ProcessBuilder(command).directory(workDir.toFile())
                .redirectOutput(workDir.resolve("child.out").toFile())
                .redirectError(workDir.resolve("child.err").toFile()).start();
    }
}
