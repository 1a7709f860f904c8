package io.unidist.examples;

import io.unidist.Unidist;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small cluster in this JVM over {@code unidist-jvm.xml}: one voter, {@code v1}, and non-voters
 * {@code n1, n2, ...}, joined through {@link ExampleSettings} as the example programs join.
 */
final class JvmCluster implements AutoCloseable {
    private static final AtomicInteger CLUSTERS = new AtomicInteger();
    private final List<Unidist> nodes = new ArrayList<>();

    JvmCluster(Path dir, int nonVoters) {
        String name = "examples-" + ProcessHandle.current().pid() + "-" + CLUSTERS.incrementAndGet();
        try {
            nodes.add(settings(name, "v1", dir).join());
            for (int i = 1; i <= nonVoters; i++) {
                nodes.add(settings(name, "n" + i, dir).join());
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static ExampleSettings settings(String cluster, String node, Path dir) {
        return ExampleSettings.from("--cluster=" + cluster, "--node=" + node, "--voters=v1", "--jgroups=unidist-jvm.xml",
                "--data-dir=" + dir.resolve(node));
    }

    /** The i-th node: 0 is the voter. */
    Unidist node(int i) {
        return nodes.get(i);
    }

    List<Unidist> nodes() {
        return nodes;
    }

    @Override
    public void close() {
        for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).close();
        }
    }
}
