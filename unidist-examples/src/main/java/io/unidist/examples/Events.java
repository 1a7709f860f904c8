package io.unidist.examples;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/** What happened during a run, for the live summary: added from any thread. */
final class Events {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");
    private final List<String> all = new ArrayList<>();
    private int drained;

    /** Adds an event, stamped with the time of day. */
    synchronized void add(String event) {
        all.add(LocalTime.now().format(TIME) + "  " + event);
    }

    /** The last {@code n} events, oldest first. */
    synchronized List<String> recent(int n) {
        return List.copyOf(all.subList(Math.max(0, all.size() - n), all.size()));
    }

    /** The events added since the last call, oldest first. */
    synchronized List<String> drain() {
        List<String> fresh = new ArrayList<>(all.subList(drained, all.size()));
        drained = all.size();
        return fresh;
    }
}
