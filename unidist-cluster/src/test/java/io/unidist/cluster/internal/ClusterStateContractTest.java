package io.unidist.cluster.internal;

import io.unidist.Unidist;
import io.unidist.contract.StateContract;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The state contract against a cluster of 3 voters and 2 non-voters in one JVM: the node under
 * test is a non-voter, its peer a voter, so every call crosses the cluster.
 */
class ClusterStateContractTest extends StateContract {
    @TempDir
    static Path dir;
    private static TestCluster cluster;

    @BeforeAll
    static void startCluster() {
        cluster = TestCluster.start(dir, 3, 2);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Override
    protected Unidist node() {
        return cluster.node("n1");
    }

    @Override
    protected Unidist peer() {
        return cluster.node("v2");
    }
}
