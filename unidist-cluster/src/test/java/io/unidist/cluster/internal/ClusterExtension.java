package io.unidist.cluster.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A {@link TestCluster} shared by every test of a class: started before the first, closed (and
 * its data deleted) after the last. Register it as a static field with
 * {@code @RegisterExtension}.
 */
final class ClusterExtension implements BeforeAllCallback, AfterAllCallback {
    private final int voters;
    private final int nonVoters;
    private Path dir;
    private TestCluster cluster;

    ClusterExtension(int voters, int nonVoters) {
        this.voters = voters;
        this.nonVoters = nonVoters;
    }

    ClusterNode node(String name) {
        return cluster.node(name);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory("unidist-cluster-test");
        cluster = TestCluster.start(dir, voters, nonVoters);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
