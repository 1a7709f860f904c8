package io.unidist;

import java.util.Map;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Linearizability of {@link ThreadSafeDict}, checked by JetBrains Lincheck in stress mode: it
 * runs random concurrent scenarios of the operations below and fails unless every outcome
 * matches some sequential order of them.
 *
 * <p>{@link #putPair} and {@link #snapshotSum} make the check bite on what ThreadSafeDict adds
 * to ConcurrentHashMap: a {@code get} or {@code snapshot} that could see half of an atomic
 * two-key write, or a {@code size} that is off while writes are in flight, has outcomes no
 * sequential order explains.
 */
@Param(name = "key", gen = IntGen.class, conf = "1:4")
@Param(name = "value", gen = IntGen.class, conf = "1:3")
@Tag("linearizability")
public class ThreadSafeDictLincheckTest {

    private final ThreadSafeDict<Integer, Integer> dict = new ThreadSafeDict<>();

    @Operation
    public Integer get(@Param(name = "key") int key) {
        return dict.get(key);
    }

    @Operation
    public Integer put(@Param(name = "key") int key, @Param(name = "value") int value) {
        return dict.put(key, value);
    }

    @Operation
    public Integer remove(@Param(name = "key") int key) {
        return dict.remove(key);
    }

    @Operation
    public Integer merge(@Param(name = "key") int key, @Param(name = "value") int value) {
        return dict.merge(key, value, Integer::sum);
    }

    /** Two keys written at one point. */
    @Operation
    public void putPair(@Param(name = "key") int key, @Param(name = "value") int value) {
        dict.putAll(Map.of(key, value, key + 10, value));
    }

    @Operation
    public int size() {
        return dict.size();
    }

    @Operation
    public int snapshotSum() {
        return dict.snapshot().values().stream().mapToInt(Integer::intValue).sum();
    }

    @Test
    void isLinearizable() {
        new StressOptions()
                .iterations(10)
                .invocationsPerIteration(1_000)
                .threads(3)
                .actorsPerThread(3)
                .check(getClass());
    }
}
