package io.unidist.bench;

import io.unidist.ThreadSafeDict;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
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
 * What the linearizable {@link ThreadSafeDict} costs next to {@link ConcurrentHashMap} for the
 * hot single-key operations: {@code get} (an optimistic stamp around {@code CHM.get}) and
 * {@code put} (a shared lock around {@code CHM.put}), on 1 and 2 threads, over a fixed set of
 * 1024 keys so memory stays bounded. Throughput in operations per microsecond.
 *
 * <p>Run: {@code mvn -B -pl unidist-core,unidist-benchmarks -am package -DskipTests} then
 * {@code java -jar unidist-benchmarks/target/benchmarks.jar DictBenchmark -f 1 -wi 2 -i 3 -w 2s -r 2s}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class DictBenchmark {

    private static final int KEYS = 1024;

    @Param({"ThreadSafeDict", "ConcurrentHashMap"})
    public String impl;

    private ConcurrentMap<Integer, Integer> map;
    private Integer[] keys;

    @Setup
    public void setUp() {
        map = impl.equals("ThreadSafeDict") ? new ThreadSafeDict<>() : new ConcurrentHashMap<>();
        keys = new Integer[KEYS];
        for (int i = 0; i < KEYS; i++) {
            keys[i] = i;
            map.put(keys[i], i);
        }
    }

    private Integer randomKey() {
        return keys[ThreadLocalRandom.current().nextInt(KEYS)];
    }

    /** get of a present key, one thread. */
    @Benchmark
    @Threads(1)
    public Integer get1Thread() {
        return map.get(randomKey());
    }

    /** get of a present key, two threads. */
    @Benchmark
    @Threads(2)
    public Integer get2Threads() {
        return map.get(randomKey());
    }

    /** put over an existing key (so the map does not grow), one thread. */
    @Benchmark
    @Threads(1)
    public Integer put1Thread() {
        Integer key = randomKey();
        return map.put(key, key);
    }

    /** put over an existing key, two threads. */
    @Benchmark
    @Threads(2)
    public Integer put2Threads() {
        Integer key = randomKey();
        return map.put(key, key);
    }
}
