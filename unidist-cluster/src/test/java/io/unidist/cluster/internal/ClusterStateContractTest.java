package io.unidist.cluster.internal;

import io.unidist.Unidist;
import io.unidist.contract.StateContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The state contract against a cluster of 3 voters and 2 non-voters in one JVM: the node under
 * test is a non-voter, its peer a voter, so every call crosses the cluster.
 */
class ClusterStateContractTest extends StateContract {
    @RegisterExtension
    static final ClusterExtension CLUSTER = new ClusterExtension(3, 2);

    @Override
    protected Unidist node() {
        return CLUSTER.node("n1");
    }

    @Override
    protected Unidist peer() {
        return CLUSTER.node("v2");
    }
}
