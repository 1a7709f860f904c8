package io.unidist.cluster.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.unidist.Delivery;
import io.unidist.LockLease;
import io.unidist.MessageQueue;
import io.unidist.SharedState;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.View;
import org.jgroups.util.ByteArrayDataOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Hostile input from members, fed into a running cluster of 3 voters and a non-voter: garbage,
 * truncated, bit-flipped and replayed copies of real messages captured from a workload over every
 * primitive, wrong wire versions, unknown message types and command ids, length fields of up to
 * 2<sup>31</sup>-1, oversized messages, and well-formed requests whose commands are malformed
 * (truncated with a live session, huge value lengths, another command version, an unknown session).
 *
 * <p>Most inputs go straight into a node's main-channel receiver on this thread, as JGroups would
 * deliver a member's byte message, so that this thread sees any exception that would escape to
 * JGroups, and what decoding the input allocated; one in ten travels through the real stack from a
 * member. A few go to the leader's raft channel from another voter.
 *
 * <p>What it proves: every malformed input is counted and logged as dropped (one per input); no
 * throwable escapes a receiver; no input makes the node allocate more than a small multiple of its
 * size; nothing is logged at ERROR; every voter's state machine is byte for byte what it was
 * (replayed writes are answered from memory, replayed session opens return the open session,
 * malformed commands change nothing, not even the state machine's clock); the nodes keep serving.
 * Then well-formed writes with hostile value bytes (a compare against a stored value that claims a
 * string of 2<sup>28</sup> and more characters, read by every voter) are answered without any
 * voter allocating what they claim.
 *
 * <p>Reproducible: the seed is printed; {@code -Dunidist.fuzz.seed=...} runs the same inputs
 * (thread timing aside), {@code -Dunidist.fuzz.inputs=N} runs N inputs instead of 3000.
 */
class ClusterHostileInputFuzzTest {
    private static final int DEFAULT_INPUTS = 3_000;
    private static final long FRESH_SEQ = 1L << 40;
    private static final int[] HUGE_LENGTHS = {Integer.MAX_VALUE, 1 << 30, 1 << 28, Wire.MAX_COMMAND + 1, -1, -2};

    @TempDir
    Path dir;
    private TestCluster cluster;
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final ch.qos.logback.classic.Logger root =
            (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @BeforeEach
    void capture() {
        logged.start();
        root.addAppender(logged);
    }

    @AfterEach
    void stop() {
        root.detachAppender(logged);
        pool.shutdownNow();
        if (cluster != null) {
            cluster.close();
        }
    }

    /** A message a node received: who sent it, and its bytes. */
    private record Captured(String node, Address src, byte[] bytes) {
        byte type() {
            return bytes.length > 3 ? bytes[3] : -1;
        }
    }

    /** One hostile input: where it goes, who it claims to come from, and whether it must be dropped. */
    private record Input(String kind, String target, Address src, byte[] bytes, boolean dropped) { }

    /** A node's receiver, recording what arrives while {@link #recording} and any throwable that escapes. */
    private static final class Tap implements Receiver {
        final String node;
        final Receiver inner;
        final List<Captured> captured;
        final List<Throwable> escaped = new CopyOnWriteArrayList<>();
        /** Inputs sent through the stack to this node and not yet handled, by content. */
        final java.util.concurrent.ConcurrentHashMap<java.nio.ByteBuffer, Integer> inFlight =
                new java.util.concurrent.ConcurrentHashMap<>();
        volatile boolean recording = true;

        Tap(String node, Receiver inner, List<Captured> captured) {
            this.node = node;
            this.inner = inner;
            this.captured = captured;
        }

        @Override
        public void receive(Message msg) {
            if (recording && msg.hasArray()) {
                captured.add(new Captured(node, msg.getSrc(),
                        Arrays.copyOfRange(msg.getArray(), msg.getOffset(), msg.getOffset() + msg.getLength())));
            }
            try {
                inner.receive(msg);
            } catch (Throwable t) {
                escaped.add(t);
                throw t;
            } finally {
                if (!inFlight.isEmpty() && msg.hasArray()) {
                    java.nio.ByteBuffer key = java.nio.ByteBuffer.wrap(msg.getArray(), msg.getOffset(), msg.getLength());
                    inFlight.computeIfPresent(key.slice(), (k, n) -> n == 1 ? null : n - 1);
                }
            }
        }

        @Override
        public void viewAccepted(View view) {
            inner.viewAccepted(view);
        }
    }

    @Test
    void hostileMessagesAreDroppedChangeNoReplicaAndTheNodesKeepServing() throws Exception {
        long seed = Long.getLong("unidist.fuzz.seed", System.nanoTime());
        int inputs = Integer.getInteger("unidist.fuzz.inputs", DEFAULT_INPUTS);
        System.out.println("ClusterHostileInputFuzzTest: seed " + seed + ", " + inputs
                + " inputs; run again with -Dunidist.fuzz.seed=" + seed);
        Random random = new Random(seed);
        cluster = TestCluster.start(dir, 3, 1);
        String leader = cluster.awaitLeader();
        List<Captured> captured = new CopyOnWriteArrayList<>();
        Map<String, Tap> taps = new LinkedHashMap<>();
        for (ClusterNode n : cluster.running()) {
            Tap tap = new Tap(n.nodeName(), n.mainChannel().getReceiver(), captured);
            n.mainChannel().setReceiver(tap);
            taps.put(n.nodeName(), tap);
        }
        runWorkloadOverEveryPrimitive(captured);
        taps.values().forEach(t -> t.recording = false);
        for (byte type = Wire.REQUEST; type <= Wire.APP; type++) {
            byte t = type;
            assertTrue(captured.stream().anyMatch(c -> c.type() == t), "the workload sent no message of type " + t);
        }
        cluster.awaitReplicasAgree(Duration.ofSeconds(20));
        Map<String, byte[]> before = stateOfEveryVoter();
        long counterBefore = cluster.node("n1").counter("c").get();
        Map<String, Long> droppedBefore = new LinkedHashMap<>();
        cluster.running().forEach(n -> droppedBefore.put(n.nodeName(), n.droppedMessages()));

        Map<String, Long> expectedDrops = new LinkedHashMap<>();
        cluster.running().forEach(n -> expectedDrops.put(n.nodeName(), 0L));
        Map<String, Integer> kinds = new LinkedHashMap<>();
        long session = cluster.node("n1").session().currentId();
        for (int i = 0; i < inputs; i++) {
            Input input = next(random, captured, leader, session, i);
            kinds.merge(input.kind(), 1, Integer::sum);
            if (input.dropped()) {
                expectedDrops.merge(input.target(), 1L, Long::sum);
            }
            if (random.nextInt(10) == 0) {
                taps.get(input.target()).inFlight.merge(java.nio.ByteBuffer.wrap(input.bytes()), 1, Integer::sum);
                sendThroughTheStack(input);
            } else {
                injectDirectly(taps.get(input.target()), input, seed, i);
            }
            if (random.nextInt(50) == 0) {
                garbageOnTheRaftChannel(random, leader);
            }
        }
        System.out.println("ClusterHostileInputFuzzTest: inputs by kind " + kinds);

        for (ClusterNode n : cluster.running()) {
            long expected = droppedBefore.get(n.nodeName()) + expectedDrops.get(n.nodeName());
            try {
                await().atMost(Duration.ofSeconds(30)).until(n::droppedMessages, d -> d >= expected);
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                fail(n.nodeName() + " dropped " + n.droppedMessages() + " messages, expected " + expected + " (before "
                        + droppedBefore.get(n.nodeName()) + "; sent through the stack and not yet handled: "
                        + taps.get(n.nodeName()).inFlight.size() + "; seed " + seed + ")");
            }
            assertEquals(expected, n.droppedMessages(), n.nodeName() + " dropped another number of messages (seed " + seed + ")");
        }
        for (Tap tap : taps.values()) {
            await().atMost(Duration.ofSeconds(30)).until(tap.inFlight::isEmpty);
        }
        fence(leader);
        awaitEveryVoterApplied(leader);
        Map<String, byte[]> after = stateOfEveryVoter();
        for (String v : cluster.voters()) {
            assertArrayEquals(before.get(v), after.get(v), v + "'s state machine changed (seed " + seed + ")");
        }
        taps.values().forEach(t -> assertEquals(List.of(), t.escaped, t.node + ": a throwable escaped the receiver"));
        assertNoErrorsLogged(seed);

        assertEquals(counterBefore + 1, cluster.node("n1").counter("c").incrementAndGet());
        assertEquals(counterBefore + 2, cluster.node(leader).counter("c").incrementAndGet());
        assertEquals(Optional.of("v-last"), cluster.node("v2").state("s", String.class).get("k"));

        hostileValuesInWellFormedWritesAreReadByEveryVoterWithinBoundedMemory(leader, seed);
    }

    // ----- the workload whose messages are captured

    private void runWorkloadOverEveryPrimitive(List<Captured> captured) throws Exception {
        ClusterNode n1 = cluster.node("n1");
        ClusterNode v2 = cluster.node("v2");
        List<String> seen = new CopyOnWriteArrayList<>();
        n1.state("s", String.class).watch((key, value) -> seen.add(key)); // CHANGED to n1
        n1.messaging().subscribe("t", (from, payload) -> seen.add("app"));
        for (int i = 0; i < 20; i++) {
            n1.counter("c").incrementAndGet();
            v2.counter("c").addAndGet(2);
            n1.counter("c").compareAndSet(-1, 0);
            n1.state("s", String.class).put("k", "v" + i);
            v2.state("s", String.class).replace("k", "v" + i, "w" + i);
            n1.state("s", String.class).putIfAbsent("p" + (i % 3), "x");
            n1.state("s", String.class).get("k");
        }
        n1.state("s", String.class).put("k", "v-last");
        n1.state("s", String.class).keys();
        // a waiter gets its lease pushed (GRANTED) when the holder releases
        LockLease held = n1.lock("L").acquire(Duration.ofSeconds(10));
        Future<?> waiter = pool.submit(() -> {
            try (LockLease lease = v2.lock("L").acquire(Duration.ofSeconds(20))) {
                assertTrue(lease.isValid());
            }
            return null;
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> n1.lock("L").holders().size() == 1 && !waiter.isDone());
        held.close();
        waiter.get(20, TimeUnit.SECONDS);
        // a waiting poll gets its message pushed (DELIVERED) when another node offers
        MessageQueue<String> q = n1.queue("q", String.class);
        int mark = captured.size();
        Future<Optional<Delivery<String>>> poll = pool.submit(() -> q.poll(Duration.ofSeconds(20)));
        // the poll's answer "waiting" has reached n1: the message offered next is pushed to it
        await().atMost(Duration.ofSeconds(10)).until(() -> captured.subList(mark, captured.size()).stream()
                .anyMatch(c -> c.node().equals("n1") && c.type() == Wire.RESPONSE));
        v2.queue("q", String.class).offer("m");
        Delivery<String> d = poll.get(20, TimeUnit.SECONDS).orElseThrow();
        d.ack();
        assertTrue(v2.messaging().send("n1", "t", new byte[] {1, 2, 3})); // APP
        await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains("app") && seen.contains("k"));
        assertEquals(0, q.size());
    }

    // ----- the inputs

    private Input next(Random random, List<Captured> captured, String leader, long session, int i) {
        Captured c = captured.get(random.nextInt(captured.size()));
        String anyNode = List.of("v1", "v2", "v3", "n1").get(random.nextInt(4));
        Address member = cluster.node(List.of("v1", "v2", "v3", "n1").get(random.nextInt(4))).mainChannel().getAddress();
        int kind = random.nextInt(100);
        if (kind < 12) {
            byte[] garbage = new byte[random.nextInt(2048)];
            random.nextBytes(garbage);
            return new Input("garbage", anyNode, member, garbage, true);
        }
        if (kind < 20) {
            byte[] b = new byte[Wire.HEADER_BYTES + random.nextInt(256)];
            random.nextBytes(b);
            b[0] = Wire.MAGIC_0;
            b[1] = Wire.MAGIC_1;
            b[2] = Wire.VERSION;
            b[3] = (byte) (1 + random.nextInt(Wire.RESPONSES));
            return new Input("garbage after a real header", anyNode, member, b, true);
        }
        if (kind < 32) {
            return new Input("truncated copy", c.node(), c.src(), Arrays.copyOf(c.bytes(), random.nextInt(c.bytes().length)),
                    true);
        }
        if (kind < 46) {
            byte[] b = c.bytes().clone();
            java.util.Set<Integer> bits = new java.util.HashSet<>(); // distinct: a bit flipped twice is a replay
            for (int flips = 1 + random.nextInt(3); bits.size() < Math.min(flips, b.length * 8); ) {
                bits.add(random.nextInt(b.length * 8));
            }
            for (int bit : bits) {
                b[bit / 8] ^= (byte) (1 << (bit % 8));
            }
            return new Input("bit-flipped copy", c.node(), c.src(), b, true);
        }
        if (kind < 62) {
            return new Input("replay", c.node(), c.src(), c.bytes(), false);
        }
        if (kind < 66) {
            byte[] b = c.bytes().clone();
            b[2] = (byte) (random.nextBoolean() ? Wire.VERSION - 1 : Wire.VERSION + 1 + random.nextInt(100));
            Wire.seal(b, b.length);
            return new Input("another wire version", c.node(), c.src(), b, true);
        }
        if (kind < 70) {
            byte type = (byte) (random.nextBoolean() ? 0 : Wire.RESPONSES + 1 + random.nextInt(100));
            return new Input("unknown message type", anyNode, member, sealed(type, out -> out.writeLong(i)), true);
        }
        if (kind < 80) {
            return hugeLength(random, anyNode, member);
        }
        if (kind < 81) {
            return oversized(random, leader, member);
        }
        return malformedCommand(random, captured, leader, session, i);
    }

    /** A message of each type whose length field claims far more than the message holds. */
    private Input hugeLength(Random random, String target, Address member) {
        int length = HUGE_LENGTHS[random.nextInt(HUGE_LENGTHS.length)];
        byte type = (byte) (Wire.REQUEST + random.nextInt(Wire.RESPONSES));
        boolean count = random.nextInt(4) == 0; // a batch's item count past any limit, rather than a length
        byte[] bytes = sealed(type, out -> {
            switch (type) {
                case Wire.REQUEST -> out.writeLong(1);
                case Wire.REQUESTS -> {
                    out.writeInt(count ? length : 1);
                    out.writeLong(1);
                }
                case Wire.RESPONSES -> {
                    out.writeInt(count ? length : 1);
                    out.writeLong(1);
                    out.writeByte(Wire.ANSWER);
                }
                case Wire.RESPONSE -> {
                    out.writeLong(1);
                    out.writeByte(Wire.ANSWER);
                }
                case Wire.GRANTED -> {
                    out.writeLong(1);
                    out.writeShort(Short.MAX_VALUE); // a UTF length past the end
                }
                case Wire.DELIVERED -> {
                    out.writeLong(1);
                    out.writeLong(1);
                    out.writeUTF("q");
                    out.writeBoolean(false);
                    out.writeLong(1);
                    out.writeInt(1);
                }
                case Wire.CHANGED -> {
                    out.writeUTF("s");
                    out.writeLong(1);
                    out.writeUTF("k");
                    out.writeBoolean(true);
                }
                default -> out.writeUTF("t"); // APP: topic, then the payload length
            }
            if (type != Wire.GRANTED) {
                out.writeInt(length);
            }
            out.write(new byte[random.nextInt(64)]);
        });
        return new Input("huge length field", target, member, bytes, true);
    }

    /** A request whose command is longer than any command can be, or megabytes of garbage. */
    private Input oversized(Random random, String leader, Address member) {
        byte[] command = new byte[Wire.MAX_COMMAND + 1 + random.nextInt(1024)];
        random.nextBytes(command);
        if (random.nextBoolean()) {
            return new Input("oversized garbage", leader, member, command, true);
        }
        return new Input("oversized request", leader, member, sealed(Wire.REQUEST, out -> {
            out.writeLong(1);
            out.writeInt(command.length);
            out.write(command);
        }), true);
    }

    /**
     * A well-formed request (real header, correct CRC) whose command is malformed: the server or
     * the state machine refuses it, and nothing changes.
     */
    private Input malformedCommand(Random random, List<Captured> captured, String leader, long session, int i) {
        String target = random.nextInt(5) == 0 ? "v" + (1 + random.nextInt(3)) : leader; // followers redirect
        Address n1 = cluster.node("n1").mainChannel().getAddress();
        long seq = FRESH_SEQ + i; // never used by the real client
        int kind = random.nextInt(6);
        byte[] command = switch (kind) {
            case 0 -> { // an unknown command id
                ByteArrayDataOutputStream out = new ByteArrayDataOutputStream(32);
                int[] ids = {0, 6, 9, 47, 63, 64, 999, Short.MAX_VALUE, -1};
                out.writeShort(ids[random.nextInt(ids.length)]);
                out.writeByte(Cmd.VERSION);
                out.writeLong(session);
                out.writeLong(seq);
                out.writeLong(0);
                yield Reply.bytes(out);
            }
            case 1 -> { // a known command in a version this node does not know
                ByteArrayDataOutputStream out = Cmd.start(Op.COUNTER_ADD, session, seq, 0);
                out.writeUTF("c");
                out.writeLong(1_000);
                byte[] b = Reply.bytes(out);
                b[2] = (byte) (Cmd.VERSION + 1 + random.nextInt(10));
                yield b;
            }
            case 2 -> { // a write from a session that does not exist
                ByteArrayDataOutputStream out = Cmd.start(Op.COUNTER_ADD, session + 1_000 + random.nextInt(1 << 20), seq, 0);
                out.writeUTF("c");
                out.writeLong(1_000);
                yield Reply.bytes(out);
            }
            case 3 -> { // a value length past the end, in the live session
                Op op = random.nextBoolean() ? Op.STATE_PUT : Op.QUEUE_OFFER;
                ByteArrayDataOutputStream out = Cmd.start(op, session, seq, 0);
                out.writeUTF(op == Op.STATE_PUT ? "s" : "q");
                if (op == Op.STATE_PUT) {
                    out.writeUTF("k");
                } else {
                    out.writeBoolean(false);
                }
                out.writeInt(HUGE_LENGTHS[random.nextInt(HUGE_LENGTHS.length)]);
                out.write(new byte[random.nextInt(16)]);
                yield Reply.bytes(out);
            }
            default -> truncatedRealCommand(random, captured, session, seq);
        };
        if (command == null) {
            return malformedCommand(random, captured, leader, session, i);
        }
        return new Input("malformed command", target, n1, sealed(Wire.REQUEST, out -> {
            out.writeLong(FRESH_SEQ + i);
            out.writeInt(command.length);
            out.write(command);
        }), false);
    }

    /**
     * A real write's command, moved to a fresh seq of the live session and cut short inside its
     * body: the state machine must read the whole body before it changes anything.
     */
    private static byte[] truncatedRealCommand(Random random, List<Captured> captured, long session, long seq) {
        List<byte[]> writes = new ArrayList<>();
        for (Captured c : captured) {
            if (c.type() == Wire.REQUEST) {
                byte[] command = Arrays.copyOfRange(c.bytes(), Wire.HEADER_BYTES + 12, c.bytes().length);
                Op op = Cmd.peekOp(command);
                if (op != null && !op.read && op != Op.OPEN_SESSION && command.length > 28) {
                    writes.add(command);
                }
            }
        }
        if (writes.isEmpty()) {
            return null;
        }
        byte[] command = writes.get(random.nextInt(writes.size())).clone();
        java.nio.ByteBuffer.wrap(command).putLong(3, session).putLong(11, seq).putLong(19, 0);
        return Arrays.copyOf(command, 27 + random.nextInt(command.length - 27)); // header whole, body cut
    }

    private static byte[] sealed(byte type, java.util.function.Consumer<ByteArrayDataOutputStream> body) {
        ByteArrayDataOutputStream out = Wire.start(type, 64);
        body.accept(out);
        byte[] bytes = Reply.bytes(out);
        Wire.seal(bytes, bytes.length);
        return bytes;
    }

    // ----- delivery

    private void injectDirectly(Tap tap, Input input, long seed, int i) {
        Message msg = new BytesMessage(null, input.bytes()).setSrc(input.src());
        long before = allocatedByThisThread();
        try {
            tap.inner.receive(msg);
        } catch (Throwable t) {
            fail("input #" + i + " (" + input.kind() + ", seed " + seed + ") escaped the receiver of " + input.target(), t);
        }
        long allocated = allocatedByThisThread() - before;
        long cap = 4L * input.bytes().length + (2L << 20);
        assertTrue(allocated <= cap, "input #" + i + " (" + input.kind() + ", " + input.bytes().length + " bytes, seed "
                + seed + ") made " + input.target() + " allocate " + allocated + " bytes");
    }

    /** As a member would send it: from the claimed sender's own channel, through both stacks. */
    private void sendThroughTheStack(Input input) throws Exception {
        ClusterNode from = null;
        for (ClusterNode n : cluster.running()) {
            if (n.mainChannel().getAddress().equals(input.src())) {
                from = n;
            }
        }
        if (from == null || from.nodeName().equals(input.target())) {
            from = cluster.node(input.target().equals("n1") ? "v1" : "n1"); // a message to oneself skips the stack
        }
        from.mainChannel().send(new BytesMessage(cluster.node(input.target()).mainChannel().getAddress(), input.bytes()));
    }

    /** The raft channel has no receiver above RAFT: a member's byte messages there are dropped by JGroups. */
    private void garbageOnTheRaftChannel(Random random, String leader) throws Exception {
        String from = leader.equals("v2") ? "v3" : "v2";
        byte[] garbage = new byte[random.nextInt(512)];
        random.nextBytes(garbage);
        cluster.node(from).raftChannel().send(new BytesMessage(cluster.node(leader).raftChannel().getAddress(), garbage));
    }

    // ----- checks

    private Map<String, byte[]> stateOfEveryVoter() throws Exception {
        Map<String, byte[]> states = new LinkedHashMap<>();
        for (String v : cluster.voters()) {
            ByteArrayDataOutputStream out = new ByteArrayDataOutputStream();
            cluster.node(v).server().stateMachine().writeContentTo(out);
            states.put(v, Arrays.copyOf(out.buffer(), out.position()));
        }
        return states;
    }

    /**
     * Waits until the leader has appended and committed every request handed to it so far: RAFT
     * takes requests in order, so when a last one commits, all before it are in the log. The last
     * one names no session: it is refused and changes nothing.
     */
    private void fence(String leader) throws Exception {
        ByteArrayDataOutputStream cmd = Cmd.start(Op.COUNTER_ADD, Long.MAX_VALUE, 1, 0);
        cmd.writeUTF("fence");
        cmd.writeLong(1);
        ByteArrayDataOutputStream entry = new ByteArrayDataOutputStream(64);
        entry.writeByte(Cmd.ENTRY_FORMAT);
        entry.writeLong(System.currentTimeMillis());
        entry.write(cmd.buffer(), 0, cmd.position());
        byte[] answer = cluster.node(leader).server().raft().setAsync(entry.buffer(), 0, entry.position(), null)
                .get(60, TimeUnit.SECONDS);
        assertEquals(Reply.SESSION_EXPIRED, answer[0]);
    }

    /** Every voter has applied every entry the leader appended, the fuzz's included. */
    private void awaitEveryVoterApplied(String leader) {
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            long last = cluster.node(leader).server().raft().lastAppended();
            for (String v : cluster.voters()) {
                if (cluster.node(v).server().raft().commitIndex() < last) {
                    return false;
                }
            }
            return true;
        });
    }

    private void assertNoErrorsLogged(long seed) {
        List<String> errors = new ArrayList<>();
        synchronized (logged) {
            for (ILoggingEvent e : logged.list) {
                String throwable = e.getThrowableProxy() == null ? "" : e.getThrowableProxy().getClassName();
                if (e.getLevel().isGreaterOrEqual(Level.ERROR) || throwable.contains("OutOfMemoryError")
                        || e.getFormattedMessage().contains("OutOfMemoryError")) {
                    errors.add(e.getLoggerName() + ": " + e.getFormattedMessage() + " " + throwable);
                }
            }
        }
        assertEquals(List.of(), errors, "logged at ERROR during the fuzz (seed " + seed + ")");
    }

    /**
     * Well-formed writes in the live session whose values claim huge strings: every voter compares
     * them against the stored value (a structural compare that reads strings through Kryo) and
     * must refuse them without allocating what they claim.
     */
    private void hostileValuesInWellFormedWritesAreReadByEveryVoterWithinBoundedMemory(String leader, long seed)
            throws Exception {
        ClusterNode n1 = cluster.node("n1");
        SharedState<String> s = n1.state("s", String.class);
        long session = n1.session().currentId();
        Map<Long, Long> before = allocatedPerThread();
        int[] claimed = {Integer.MAX_VALUE - 2, 1 << 30, 1 << 28, 1 << 27};
        for (int i = 0; i < claimed.length; i++) {
            byte[] hostile = hugeString(claimed[i]);
            ByteArrayDataOutputStream cmd = Cmd.start(Op.STATE_REPLACE, session, 2 * FRESH_SEQ + i, 0);
            cmd.writeUTF("s");
            cmd.writeUTF("k");
            cmd.writeInt(hostile.length);
            cmd.write(hostile);
            byte[] value = io.unidist.internal.serial.ValueCodec.encode("never", String.class, "v");
            cmd.writeInt(value.length);
            cmd.write(value);
            cmd.writeLong(0);
            byte[] command = Reply.bytes(cmd);
            cluster.node(leader).server().handle(n1.mainChannel().getAddress(), 2 * FRESH_SEQ + i, command);
        }
        fence(leader);
        awaitEveryVoterApplied(leader);
        // Per thread, not the whole JVM: on a loaded machine the phase lasts long enough for the
        // heartbeats and timers of five nodes to allocate hundreds of MB between them, while a voter
        // that trusted a claim would allocate at least 256 MB (a char[] of 2^27) on its apply thread.
        Map<Long, Long> after = allocatedPerThread();
        long most = 0;
        long mostThread = -1;
        for (Map.Entry<Long, Long> e : after.entrySet()) {
            long delta = e.getValue() - before.getOrDefault(e.getKey(), 0L);
            if (delta > most) {
                most = delta;
                mostThread = e.getKey();
            }
        }
        java.lang.management.ThreadInfo info = mostThread < 0 ? null
                : ManagementFactory.getThreadMXBean().getThreadInfo(mostThread);
        assertTrue(most < (128L << 20), "hostile values made thread "
                + (info == null ? mostThread : info.getThreadName()) + " allocate " + most + " bytes (seed " + seed + ")");
        assertEquals(Optional.of("v-last"), s.get("k"), "a hostile compare replaced the value");
        cluster.awaitReplicasAgree(Duration.ofSeconds(20));
        assertNoErrorsLogged(seed);
        assertFalse(s.replace("k", "other", "x"));
        assertTrue(s.replace("k", "v-last", "v-after"));
    }

    /** A value in unidist's format: a string in Kryo's UTF-8 form that claims {@code chars} characters. */
    private static byte[] hugeString(int chars) {
        try (com.esotericsoftware.kryo.io.Output out = new com.esotericsoftware.kryo.io.Output(32, -1)) {
            out.writeByte(1); // the value format
            out.writeByte(1); // a string
            out.writeVarIntFlag(true, chars + 1, true);
            out.writeBytes(new byte[] {'a', 'b', 'c'});
            return out.toBytes();
        }
    }

    /** Bytes allocated so far by every live thread, by thread id. */
    private static Map<Long, Long> allocatedPerThread() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long[] ids = threads.getAllThreadIds();
        long[] bytes = threads.getThreadAllocatedBytes(ids);
        Map<Long, Long> byThread = new java.util.HashMap<>();
        for (int i = 0; i < ids.length; i++) {
            if (bytes[i] >= 0) {
                byThread.put(ids[i], bytes[i]);
            }
        }
        return byThread;
    }

    private static long allocatedByThisThread() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
