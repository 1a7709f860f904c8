package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unidist.Unidist;
import io.unidist.cluster.ClusterMessaging;
import io.unidist.cluster.UnidistCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Direct messages between members, and the membership they see. */
class ClusterMessagingTest {
    @TempDir
    Path dir;
    private TestCluster cluster;

    @BeforeEach
    void start() {
        cluster = TestCluster.start(dir, 3, 1);
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    private ClusterMessaging messaging(String node) {
        return UnidistCluster.messaging(cluster.node(node));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void messagesArriveInOrderUnderTheirTopicWithTheSendersName() throws Exception {
        List<String> got = new CopyOnWriteArrayList<>();
        try (AutoCloseable sub = messaging("v1").subscribe("t", (from, p) ->
                got.add(from + ":" + new String(p, StandardCharsets.UTF_8)))) {
            for (int i = 0; i < 500; i++) {
                assertTrue(messaging("n1").send("v1", "t", bytes("m" + i)));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> got.size() == 500);
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                expected.add("n1:m" + i);
            }
            assertEquals(expected, got);
        }
    }

    @Test
    void aMessageUnderATopicNobodyHandlesIsDroppedAndLaterOnesStillArrive() throws Exception {
        List<String> got = new CopyOnWriteArrayList<>();
        AtomicReference<String> failing = new AtomicReference<>("boom");
        try (AutoCloseable sub = messaging("v2").subscribe("t", (from, p) -> {
            String m = new String(p, StandardCharsets.UTF_8);
            if (m.equals(failing.get())) {
                throw new IllegalStateException("a handler that fails");
            }
            got.add(m);
        })) {
            assertTrue(messaging("n1").send("v2", "nobody", bytes("lost")));
            assertTrue(messaging("n1").send("v2", "t", bytes("boom")));
            assertTrue(messaging("n1").send("v2", "t", bytes("after")));
            await().atMost(Duration.ofSeconds(10)).until(() -> got.contains("after"));
            assertEquals(List.of("after"), got);
        }
    }

    @Test
    void membersAreTheSameListOnEveryNodeAndFollowTheView() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(() -> messaging("v1").members().size() == 4);
        for (String n : List.of("v2", "v3", "n1")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> messaging(n).members().equals(messaging("v1").members()));
        }
        assertEquals(List.of("n1", "v1", "v2", "v3"), messaging("v1").members().stream().sorted().toList());
        assertEquals(List.of("v1", "v2", "v3"), messaging("n1").voters());
        List<List<String>> seen = new CopyOnWriteArrayList<>();
        try (AutoCloseable watch = messaging("v1").watchMembers(seen::add)) {
            assertEquals(1, seen.size(), "called at once with the current members");
            cluster.crash("n1");
            await().atMost(Duration.ofSeconds(20)).until(() -> !seen.get(seen.size() - 1).contains("n1"));
            assertFalse(messaging("v1").send("n1", "t", bytes("x")), "n1 is not a member any more");
        }
    }

    @Test
    void badCallsAreRefusedWithAClearError() throws Exception {
        ClusterMessaging m = messaging("v1");
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
                () -> m.send("v2", "t", new byte[ClusterMessaging.MAX_PAYLOAD + 1]));
        assertTrue(big.getMessage().contains("over the limit"), big.getMessage());
        assertThrows(IllegalArgumentException.class, () -> m.send("v2", " ", bytes("x")));
        assertFalse(m.send("nobody", "t", bytes("x")));
        try (AutoCloseable sub = m.subscribe("t", (from, p) -> { })) {
            IllegalStateException twice = assertThrows(IllegalStateException.class, () -> m.subscribe("t", (f, p) -> { }));
            assertTrue(twice.getMessage().contains("'t'"), twice.getMessage());
        }
        try (Unidist local = Unidist.builder().dataDir(dir.resolve("local")).build()) {
            assertThrows(IllegalArgumentException.class, () -> UnidistCluster.messaging(local));
        }
    }
}
