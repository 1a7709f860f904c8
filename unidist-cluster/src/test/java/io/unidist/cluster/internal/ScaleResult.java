package io.unidist.cluster.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The figures of one {@link ScaleRun} measurement (one cluster size, in one JVM or in
 * processes), by name in the order they were taken, and the checkers' verdict.
 */
final class ScaleResult {
    final String setup;
    final int nodes;
    final Map<String, String> figures = new LinkedHashMap<>();
    final List<String> notes = new ArrayList<>();
    /** Null until the checkers ran; then the anomalies, or none. */
    List<Anomaly> anomalies;
    Map<String, Integer> checked = new java.util.TreeMap<>();

    ScaleResult(String setup, int nodes) {
        this.setup = setup;
        this.nodes = nodes;
    }

    ScaleResult put(String name, String format, Object... args) {
        figures.put(name, String.format(Locale.ROOT, format, args));
        return this;
    }

    ScaleResult note(String format, Object... args) {
        notes.add(String.format(Locale.ROOT, format, args));
        return this;
    }

    /** Whether the checkers ran, found nothing, and each read enough operations to judge. */
    boolean passed() {
        return anomalies != null && anomalies.isEmpty() && FaultHistories.CHECKERS.stream()
                .allMatch(c -> checked.getOrDefault(c, 0) >= FaultRun.ENOUGH_OPERATIONS);
    }

    /** "passed (counter c0 123, ...)" or the first anomalies. */
    String verdict() {
        if (anomalies == null) {
            return "not checked";
        }
        StringBuilder sb = new StringBuilder(passed() ? "passed" : anomalies.isEmpty() ? "too few operations"
                : anomalies.size() + " anomalies");
        sb.append(" (");
        List<String> parts = new ArrayList<>();
        checked.forEach((k, v) -> parts.add(k + " " + v));
        sb.append(String.join(", ", parts)).append(')');
        for (int i = 0; i < Math.min(3, anomalies.size()); i++) {
            sb.append("\n").append(anomalies.get(i));
        }
        return sb.toString();
    }

    static String ms(long nanos) {
        return String.format(Locale.ROOT, "%,d", nanos / 1_000_000);
    }

    static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / 1048576.0);
    }
}
