package io.unidist;

import java.util.List;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Linearizability of {@link ThreadSafeList}, checked by JetBrains Lincheck in stress mode: it
 * runs random concurrent scenarios of the operations below and fails unless every outcome
 * matches some sequential order of them. {@link #get} and {@link #size} are the lock-free
 * (optimistic) reads, the ones a mistake would make non-linearizable.
 */
@Param(name = "element", gen = IntGen.class, conf = "1:3")
@Param(name = "index", gen = IntGen.class, conf = "0:2")
@Tag("linearizability")
public class ThreadSafeListLincheckTest {

    private final ThreadSafeList<Integer> list = new ThreadSafeList<>();

    @Operation
    public boolean add(@Param(name = "element") int element) {
        return list.add(element);
    }

    /** Two elements appended at one point. */
    @Operation
    public boolean addPair(@Param(name = "element") int element) {
        return list.addAll(List.of(element, -element));
    }

    @Operation
    public Integer get(@Param(name = "index") int index) {
        try {
            return list.get(index);
        } catch (IndexOutOfBoundsException e) {
            return null;
        }
    }

    @Operation
    public Integer removeAt(@Param(name = "index") int index) {
        try {
            return list.remove(index);
        } catch (IndexOutOfBoundsException e) {
            return null;
        }
    }

    @Operation
    public boolean removeElement(@Param(name = "element") int element) {
        return list.remove(Integer.valueOf(element));
    }

    @Operation
    public int size() {
        return list.size();
    }

    @Operation
    public List<Integer> snapshot() {
        return list.snapshot();
    }

    @Test
    void isLinearizable() {
        new StressOptions()
                .iterations(20)
                .invocationsPerIteration(1_000)
                .threads(3)
                .actorsPerThread(3)
                .check(getClass());
    }
}
