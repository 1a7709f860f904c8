package io.unidist;

import static io.unidist.contract.Checks.assertMentions;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Registration of user classes, and what happens without it. */
class SerializersTest {
    /** A user type encoded field by field. */
    static final class Job {
        String command;
        int priority;
        List<String> hosts = new ArrayList<>();

        Job() {
        }

        Job(String command, int priority, List<String> hosts) {
            this.command = command;
            this.priority = priority;
            this.hosts = new ArrayList<>(hosts);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Job j && j.command.equals(command) && j.priority == priority && j.hosts.equals(hosts);
        }

        @Override
        public int hashCode() {
            return Objects.hash(command, priority, hosts);
        }
    }

    /** A user type with a serializer of its own. */
    record Point(int x, int y) { }

    static final class PointSerializer extends Serializer<Point> {
        @Override
        public void write(Kryo kryo, Output output, Point p) {
            output.writeInt(p.x());
            output.writeInt(p.y());
        }

        @Override
        public Point read(Kryo kryo, Input input, Class<? extends Point> type) {
            return new Point(input.readInt(), input.readInt());
        }
    }

    static final class NeverRegistered {
    }

    static final class OnlyIdConflict {
    }

    @TempDir
    Path dir;

    @Test
    void registeredClassesRoundTripThroughStateAndQueuesAndSurviveRestarts() throws Exception {
        Serializers.register(Job.class, 200);
        Serializers.register(Job.class, 200); // the same registration again is harmless
        Serializers.register(Point.class, 201, new PointSerializer());
        assertTrue(Serializers.isRegistered(Job.class));
        Job job = new Job("backup", 3, List.of("web-1", "web-2"));
        try (Unidist node = Unidist.local(dir)) {
            SharedState<Job> jobs = node.state("jobs", Job.class);
            jobs.put("j1", job);
            assertEquals(job, jobs.get("j1").orElseThrow());
            assertNotSame(jobs.get("j1").orElseThrow(), jobs.get("j1").orElseThrow());
            node.queue("points", Point.class).offer(new Point(1, 2));
        }
        try (Unidist node = Unidist.local(dir)) {
            assertEquals(job, node.state("jobs", Job.class).get("j1").orElseThrow());
            assertEquals(new Point(1, 2), node.queue("points", Point.class).poll(Duration.ZERO).orElseThrow().message());
        }
    }

    @Test
    void conflictingRegistrationsAreRefused() {
        Serializers.register(OnlyIdConflict.class, 300);
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Serializers.register(OnlyIdConflict.class, 301)),
                OnlyIdConflict.class.getName(), "300");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Serializers.register(NeverRegistered.class, 300)),
                "300", OnlyIdConflict.class.getName());
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Serializers.register(NeverRegistered.class, 5)),
                "reserved");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Serializers.register(String.class, 400)),
                "built in");
    }

    @Test
    void anUnregisteredClassFailsAtTheCallAndSaysHowToRegister() {
        try (Unidist node = Unidist.local()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> node.queue("q", NeverRegistered.class));
            assertMentions(e, NeverRegistered.class.getName(), "Serializers.register(NeverRegistered.class, id)");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> node.state("s", long.class)), "wrapper");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> node.state("s", java.util.LinkedList.class)),
                    "declare List");
        }
    }
}
