package io.unidist.bench;

import io.unidist.ThreadSafeList;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * What the linearizable {@link ThreadSafeList} costs next to {@link CopyOnWriteArrayList} and
 * {@code Collections.synchronizedList(new ArrayList<>())}: {@code get} on a list of
 * {@value #SIZE} elements, and {@code add} followed by {@code remove(0)} (so the list stays at
 * {@value #SIZE} elements and memory bounded), on 1 and 2 threads. Throughput in operations
 * per microsecond (an add-remove pair counts as one operation).
 *
 * <p>Run: {@code mvn -B -pl unidist-core,unidist-benchmarks -am package -DskipTests} then
 * {@code java -jar unidist-benchmarks/target/benchmarks.jar ListBenchmark -f 1 -wi 2 -i 3 -w 2s -r 2s}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ListBenchmark {

    static final int SIZE = 100;

    @Param({"ThreadSafeList", "CopyOnWriteArrayList", "synchronizedList"})
    public String impl;

    private List<Integer> list;

    @Setup
    public void setUp() {
        list = switch (impl) {
            case "ThreadSafeList" -> new ThreadSafeList<>();
            case "CopyOnWriteArrayList" -> new CopyOnWriteArrayList<>();
            case "synchronizedList" -> Collections.synchronizedList(new ArrayList<>());
            default -> throw new IllegalArgumentException("unknown impl '" + impl + "'");
        };
        for (int i = 0; i < SIZE; i++) {
            list.add(i);
        }
    }

    /** get at a random index, one thread. */
    @Benchmark
    @Threads(1)
    public Integer get1Thread() {
        return list.get(ThreadLocalRandom.current().nextInt(SIZE));
    }

    /** get at a random index, two threads. */
    @Benchmark
    @Threads(2)
    public Integer get2Threads() {
        return list.get(ThreadLocalRandom.current().nextInt(SIZE));
    }

    /** add at the end then remove the head: the size never drops below SIZE; one thread. */
    @Benchmark
    @Threads(1)
    public Integer addRemove1Thread() {
        list.add(SIZE);
        return list.remove(0);
    }

    /** add at the end then remove the head, two threads. */
    @Benchmark
    @Threads(2)
    public Integer addRemove2Threads() {
        list.add(SIZE);
        return list.remove(0);
    }
}
