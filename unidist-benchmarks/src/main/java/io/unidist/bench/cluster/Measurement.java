package io.unidist.bench.cluster;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * What one measured window of a closed-loop load gave: the operations that completed in the window, its length,
 * latency percentiles (nanoseconds, exact: from all recorded latencies, sorted), and the failed calls.
 *
 * <p>It travels from a voter process to the launcher as one line of {@code key=value} words
 * ({@link #encode()} / {@link #decode(String)}).
 *
 * @param ops         operations that completed successfully inside the window
 * @param windowNanos the window's length
 * @param p50Nanos    median latency
 * @param p99Nanos    99th percentile
 * @param p999Nanos   99.9th percentile
 * @param maxNanos    the slowest operation
 * @param errors      calls that threw inside the window
 * @param firstError  the first error's message, or "-"
 */
record Measurement(long ops, long windowNanos, long p50Nanos, long p99Nanos, long p999Nanos, long maxNanos,
                   long errors, String firstError) {

    /** Summarises latencies (nanoseconds); sorts the array in place. */
    static Measurement of(long[] latencies, int count, long windowNanos, long errors, String firstError) {
        Arrays.sort(latencies, 0, count);
        return new Measurement(count, windowNanos, percentile(latencies, count, 0.50), percentile(latencies, count, 0.99),
                percentile(latencies, count, 0.999), count == 0 ? 0 : latencies[count - 1], errors,
                firstError == null ? "-" : firstError);
    }

    /** The nearest-rank percentile of the first {@code count} values of a sorted array; 0 when empty. */
    static long percentile(long[] sorted, int count, double quantile) {
        if (count == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(quantile * count);
        return sorted[Math.min(count, Math.max(1, rank)) - 1];
    }

    double opsPerSecond() {
        return windowNanos == 0 ? 0 : ops * 1e9 / windowNanos;
    }

    double p50Micros() {
        return p50Nanos / 1e3;
    }

    /** One line, no spaces inside values (the error message has its blanks replaced). */
    String encode() {
        return "ops=" + ops + " window_ns=" + windowNanos + " p50_ns=" + p50Nanos + " p99_ns=" + p99Nanos
                + " p999_ns=" + p999Nanos + " max_ns=" + maxNanos + " errors=" + errors
                + " first_error=" + firstError.replaceAll("\\s+", "_");
    }

    /** Parses {@link #encode()}'s line (extra words are ignored). */
    static Measurement decode(String line) {
        Map<String, String> words = new HashMap<>();
        for (String word : line.trim().split(" ")) {
            int eq = word.indexOf('=');
            if (eq > 0) {
                words.put(word.substring(0, eq), word.substring(eq + 1));
            }
        }
        try {
            return new Measurement(Long.parseLong(words.get("ops")), Long.parseLong(words.get("window_ns")),
                    Long.parseLong(words.get("p50_ns")), Long.parseLong(words.get("p99_ns")),
                    Long.parseLong(words.get("p999_ns")), Long.parseLong(words.get("max_ns")),
                    Long.parseLong(words.get("errors")), words.getOrDefault("first_error", "-"));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a measurement: '" + line + "'", e);
        }
    }
}
