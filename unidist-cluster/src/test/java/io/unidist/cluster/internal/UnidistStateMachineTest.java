package io.unidist.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import org.jgroups.util.ByteArrayDataInputStream;
import org.jgroups.util.ByteArrayDataOutputStream;
import org.junit.jupiter.api.Test;

/** The replicated state machine on its own: exactly-once writes, locks, sessions, snapshots. */
class UnidistStateMachineTest {
    private final UnidistStateMachine sm = new UnidistStateMachine("test");
    private final List<LockTable.Holder> grants = new ArrayList<>();
    private long time = 1_000;

    UnidistStateMachineTest() {
        sm.events((address, session, holder) -> grants.add(holder));
    }

    private byte[] entry(Op op, long session, long seq, long low, Consumer<ByteArrayDataOutputStream> body) {
        ByteArrayDataOutputStream cmd = Cmd.start(op, session, seq, low);
        body.accept(cmd);
        ByteArrayDataOutputStream e = new ByteArrayDataOutputStream();
        e.writeByte(Cmd.ENTRY_FORMAT);
        e.writeLong(time++);
        e.write(cmd.buffer(), 0, cmd.position());
        return Reply.bytes(e);
    }

    private ByteArrayDataInputStream apply(byte[] entry) {
        return Reply.open(sm.apply(entry, 0, entry.length, true), "test");
    }

    private long open(String node) throws IOException {
        return apply(entry(Op.OPEN_SESSION, 0, 0, 0, o -> {
            o.writeUTF(node);
            o.writeUTF("addr-" + node);
        })).readLong();
    }

    private long add(long session, long seq, String counter, long delta) throws IOException {
        return apply(entry(Op.COUNTER_ADD, session, seq, seq, o -> {
            o.writeUTF(counter);
            o.writeLong(delta);
        })).readLong();
    }

    private ByteArrayDataInputStream acquire(long session, long seq, String lock, int permits, boolean wait) {
        return apply(entry(Op.LOCK_ACQUIRE, session, seq, seq, o -> {
            o.writeUTF(lock);
            o.writeInt(permits);
            o.writeBoolean(wait);
        }));
    }

    @Test
    void aRetriedWriteIsAppliedOnce() throws IOException {
        long s = open("a");
        byte[] first = entry(Op.COUNTER_ADD, s, 1, 1, o -> {
            o.writeUTF("c");
            o.writeLong(5);
        });
        assertEquals(5, apply(first).readLong());
        assertEquals(5, apply(first).readLong(), "the retry gets the first answer");
        assertEquals(6, add(s, 2, "c", 1));
        // once the client's low watermark passed seq 1, a late duplicate is refused, not applied
        byte[] late = entry(Op.COUNTER_ADD, s, 1, 1, o -> {
            o.writeUTF("c");
            o.writeLong(5);
        });
        byte[] reply = sm.apply(late, 0, late.length, true);
        assertEquals(Reply.STALE, reply[0]);
        assertEquals(6, counter("c"));
    }

    private long counter(String name) throws IOException {
        return apply(entry(Op.COUNTER_GET, 0, 0, 0, o -> o.writeUTF(name))).readLong();
    }

    @Test
    void aWriteInTheReadFormIsRefusedAndChangesNothing() throws IOException {
        long s = open("a");
        byte[] write = entry(Op.COUNTER_ADD, s, 1, 1, o -> {
            o.writeUTF("c");
            o.writeLong(5);
        });
        write[0] = Cmd.READ_FORMAT; // as the leader's read path would hand it over, skipping the log
        assertEquals(Reply.ERROR, sm.apply(write, 0, write.length, true)[0]);
        assertEquals(0, counter("c"));

        byte[] read = entry(Op.COUNTER_GET, 0, 0, 0, o -> o.writeUTF("c"));
        read[0] = Cmd.READ_FORMAT;
        assertEquals(0, Reply.open(sm.apply(read, 0, read.length, true), "test").readLong(), "reads are answered");
        assertEquals(Op.COUNTER_ADD, Cmd.peekOp(Arrays.copyOfRange(write, 9, write.length)));
        assertNull(Cmd.peekOp(new byte[] {0, 63}));
        assertNull(Cmd.peekOp(new byte[] {1}));
    }

    @Test
    void writesOfAnUnknownSessionAreRefused() throws IOException {
        byte[] e = entry(Op.COUNTER_ADD, 99, 1, 1, o -> {
            o.writeUTF("c");
            o.writeLong(1);
        });
        assertThrows(Reply.SessionExpiredException.class, () -> apply(e));
        assertEquals(0, counter("c"));
    }

    @Test
    void overflowIsAnErrorThatChangesNothing() throws IOException {
        long s = open("a");
        add(s, 1, "c", Long.MAX_VALUE);
        ArithmeticException e = assertThrows(ArithmeticException.class, () -> add(s, 2, "c", 1));
        assertTrue(e.getMessage().contains("counter 'c'"));
        assertEquals(Long.MAX_VALUE, counter("c"));
    }

    @Test
    void malformedEntriesAreRefusedAndChangeNothing() throws IOException {
        long s = open("a");
        add(s, 1, "c", 3);
        Random random = new Random(7);
        for (int i = 0; i < 500; i++) {
            byte[] garbage = new byte[random.nextInt(40)];
            random.nextBytes(garbage);
            byte[] reply = sm.apply(garbage, 0, garbage.length, true);
            assertTrue(reply.length > 0);
        }
        byte[] unknownOp = entry(Op.PING, 0, 0, 0, o -> { });
        unknownOp[9] = 0x7f; // the op id
        assertEquals(Reply.ERROR, sm.apply(unknownOp, 0, unknownOp.length, true)[0]);
        assertEquals(3, counter("c"));
    }

    @Test
    void waitersAreGrantedInOrderWhenHoldersReleaseOrExpire() throws IOException {
        long a = open("a");
        long b = open("b");
        long c = open("c");
        ByteArrayDataInputStream first = acquire(a, 1, "L", 1, true);
        assertEquals(LockTable.GRANTED, first.readByte());
        long tokenA = first.readLong();
        assertEquals(LockTable.QUEUED, acquire(b, 1, "L", 1, true).readByte());
        assertEquals(LockTable.QUEUED, acquire(c, 1, "L", 1, true).readByte());
        assertEquals(LockTable.QUEUED, acquire(b, 1, "L", 1, true).readByte(), "asking again keeps the place");
        assertEquals(LockTable.REFUSED, acquire(a, 2, "L", 1, false).readByte());
        assertTrue(apply(entry(Op.LOCK_RELEASE, a, 3, 3, o -> {
            o.writeUTF("L");
            o.writeLong(tokenA);
        })).readBoolean());
        assertEquals(1, grants.size());
        assertEquals(b, grants.get(0).session());
        assertTrue(grants.get(0).token() > tokenA);
        ByteArrayDataInputStream again = acquire(b, 1, "L", 1, true);
        assertEquals(LockTable.GRANTED, again.readByte(), "b's retry sees its grant");
        assertEquals(grants.get(0).token(), again.readLong());
        // b's node leaves: its lease goes to c
        apply(entry(Op.EXPIRE_SESSIONS, 0, 0, 0, o -> {
            o.writeInt(1);
            o.writeLong(b);
        }));
        assertEquals(2, grants.size());
        assertEquals(c, grants.get(1).session());
        assertTrue(grants.get(1).token() > grants.get(0).token());
        assertThrows(Reply.SessionExpiredException.class, () -> acquire(b, 2, "L", 1, true));
    }

    @Test
    void permitsAreFixedWhileALockIsInUse() {
        long a;
        try {
            a = open("a");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        acquire(a, 1, "S", 2, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> acquire(a, 2, "S", 3, false));
        assertTrue(e.getMessage().contains("'S' has 2 permit(s)"), e.getMessage());
    }

    @Test
    void aCancelledWaiterDoesNotQueueAgainOnALateRetry() throws IOException {
        long a = open("a");
        long b = open("b");
        acquire(a, 1, "L", 1, true);
        assertEquals(LockTable.QUEUED, acquire(b, 5, "L", 1, true).readByte());
        ByteArrayDataInputStream cancel = apply(entry(Op.LOCK_CANCEL, b, 6, 5, o -> {
            o.writeUTF("L");
            o.writeLong(5);
        }));
        assertEquals(LockTable.CANCELLED, cancel.readByte());
        assertEquals(LockTable.CANCELLED, acquire(b, 5, "L", 1, true).readByte());
    }

    @Test
    void aFrozenStateMachineWritesTheStateOfTheFreezeNotLaterChanges() throws Exception {
        long a = open("a");
        List<byte[]> before = new ArrayList<>();
        List<byte[]> after = new ArrayList<>();
        int seq = 0;
        before.add(entry(Op.QUEUE_DECLARE, a, ++seq, seq, o -> {
            o.writeUTF("q");
            o.writeBoolean(true);
            o.writeLong(30_000);
            o.writeInt(3);
            o.writeLong(Long.MAX_VALUE);
        }));
        for (int i = 0; i < 50; i++) {
            int n = i;
            before.add(entry(Op.STATE_PUT, a, ++seq, seq, o -> putBody(o, "k" + (n % 20), "v" + n)));
            before.add(entry(Op.QUEUE_OFFER, a, ++seq, seq, o -> offerBody(o, "m" + n)));
        }
        before.add(entry(Op.QUEUE_POLL, a, ++seq, seq, o -> pollBody(o)));
        for (int i = 0; i < 30; i++) {
            int n = i;
            after.add(entry(Op.STATE_PUT, a, ++seq, seq, o -> putBody(o, "k" + (n % 7), "w" + n)));
            after.add(entry(Op.QUEUE_POLL, a, ++seq, seq, o -> pollBody(o)));
            after.add(entry(Op.QUEUE_OFFER, a, ++seq, seq, o -> offerBody(o, "late" + n)));
        }
        UnidistStateMachine replica = new UnidistStateMachine("replica");
        replica.readContentFrom(new ByteArrayDataInputStream(content(sm)));
        for (byte[] e : before) {
            sm.apply(e, 0, e.length, true);
            replica.apply(e, 0, e.length, true);
        }
        UnidistStateMachine.Frozen frozen = sm.freeze();
        for (byte[] e : after) {
            sm.apply(e, 0, e.length, true); // polls set in-flight, attempts and deadlines of shared messages
        }
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream();
        frozen.writeTo(out);
        assertArrayEquals(content(replica), Reply.bytes(out), "the frozen content is the state at the freeze");
        assertFalse(java.util.Arrays.equals(content(sm), Reply.bytes(out)), "the live state moved on");
    }

    private static byte[] content(UnidistStateMachine machine) throws Exception {
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream();
        machine.writeContentTo(out);
        return Reply.bytes(out);
    }

    private static void putBody(ByteArrayDataOutputStream o, String key, String value) {
        byte[] v = value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        o.writeUTF("bucket");
        o.writeUTF(key);
        o.writeInt(v.length);
        o.write(v);
        o.writeLong(0);
    }

    private static void offerBody(ByteArrayDataOutputStream o, String message) {
        byte[] v = message.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        o.writeUTF("q");
        o.writeBoolean(false);
        o.writeInt(v.length);
        o.write(v);
        o.writeLong(0);
    }

    private static void pollBody(ByteArrayDataOutputStream o) {
        o.writeUTF("q");
        o.writeBoolean(false);
        o.writeBoolean(false);
    }

    @Test
    void snapshotsRestoreTheSameStateAndReplicasAgree() throws Exception {
        UnidistStateMachine replica = new UnidistStateMachine("replica");
        List<byte[]> log = new ArrayList<>();
        long a = open("a");
        long b = open("b");
        log.add(entry(Op.OPEN_SESSION, 0, 0, 0, o -> {
            o.writeUTF("x");
            o.writeUTF("addr-x");
        }));
        for (int i = 1; i <= 20; i++) {
            int n = i;
            log.add(entry(Op.COUNTER_ADD, a, n, n, o -> {
                o.writeUTF("c" + (n % 3));
                o.writeLong(n);
            }));
            log.add(entry(Op.LOCK_ACQUIRE, b, n, 1, o -> {
                o.writeUTF("L" + (n % 2));
                o.writeInt(2);
                o.writeBoolean(true);
            }));
        }
        // the replica starts from a snapshot taken before the log
        ByteArrayDataOutputStream snap = new ByteArrayDataOutputStream();
        sm.writeContentTo(snap);
        replica.readContentFrom(new ByteArrayDataInputStream(Reply.bytes(snap)));
        for (byte[] e : log) {
            assertArrayEquals(sm.apply(e, 0, e.length, true), replica.apply(e, 0, e.length, true));
        }
        ByteArrayDataOutputStream mine = new ByteArrayDataOutputStream();
        ByteArrayDataOutputStream theirs = new ByteArrayDataOutputStream();
        sm.writeContentTo(mine);
        replica.writeContentTo(theirs);
        assertArrayEquals(Reply.bytes(mine), Reply.bytes(theirs));
        assertEquals(List.of(), replica.sessionsAbsentFrom(Set.of("addr-a", "addr-b", "addr-x"), Long.MAX_VALUE));
        assertEquals(List.of(a), replica.sessionsAbsentFrom(Set.of("addr-b", "addr-x"), Long.MAX_VALUE));
        assertFalse(replica.sessionsAbsentFrom(Set.of(), Long.MAX_VALUE).isEmpty());
    }

    private byte[] content() throws Exception {
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream();
        sm.writeContentTo(out);
        return Arrays.copyOf(out.buffer(), out.position());
    }

    /** A write of each kind in session {@code s} at {@code seq}, with a low watermark far ahead. */
    private List<byte[]> writesOfEveryKind(long s, long seq) {
        long low = seq + 1_000; // if taken, the session would forget every answer and refuse every retry
        byte[] value = io.unidist.internal.serial.ValueCodec.encode("v", String.class, "v");
        List<byte[]> writes = new ArrayList<>();
        writes.add(entry(Op.COUNTER_ADD, s, seq, low, o -> {
            o.writeUTF("c");
            o.writeLong(7);
        }));
        writes.add(entry(Op.COUNTER_CAS, s, seq, low, o -> {
            o.writeUTF("c");
            o.writeLong(3);
            o.writeLong(9);
        }));
        writes.add(entry(Op.LOCK_ACQUIRE, s, seq, low, o -> {
            o.writeUTF("L");
            o.writeInt(1);
            o.writeBoolean(false);
        }));
        writes.add(entry(Op.STATE_PUT, s, seq, low, o -> putBody(o, "k2", "w")));
        writes.add(entry(Op.STATE_REPLACE, s, seq, low, o -> {
            o.writeUTF("b");
            o.writeUTF("k");
            o.writeInt(value.length);
            o.write(value);
            o.writeInt(value.length);
            o.write(value);
            o.writeLong(0);
        }));
        writes.add(entry(Op.STATE_WATCH, s, seq, low, o -> {
            o.writeUTF("b");
            o.writeBoolean(true);
        }));
        writes.add(entry(Op.QUEUE_OFFER, s, seq, low, o -> offerBody(o, "m")));
        return writes;
    }

    @Test
    void aTruncatedWriteInALiveSessionChangesNothingNotTheClockNorTheSessionsWatermark() throws Exception {
        long s = open("a");
        add(s, 1, "c", 3);
        apply(entry(Op.STATE_PUT, s, 2, 2, o -> putBody(o, "k", "v")));
        apply(entry(Op.QUEUE_DECLARE, s, 3, 3, o -> {
            o.writeUTF("q");
            o.writeBoolean(false);
            o.writeLong(30_000);
            o.writeInt(5);
            o.writeLong(1_000);
        }));
        byte[] before = content();
        int cuts = 0;
        for (byte[] write : writesOfEveryKind(s, 4)) {
            int bodyStart = 9 + 27; // entry format and stamp, then the command's header
            for (int cut = bodyStart; cut < write.length; cut++) {
                byte[] truncated = Arrays.copyOf(write, cut);
                byte[] reply = sm.apply(truncated, 0, truncated.length, true);
                assertEquals(Reply.ERROR, reply[0], Cmd.peekOp(Arrays.copyOfRange(write, 9, write.length)) + " cut at " + cut);
                assertArrayEquals(before, content(), "a write cut at byte " + cut + " changed the state");
                cuts++;
            }
        }
        assertTrue(cuts > 100, "cuts tried: " + cuts);
        // a value length that the command does not hold is malformed too, in whichever write
        for (int length : new int[] {-1, Integer.MAX_VALUE, 1 << 28, UnidistStateMachine.MAX_VALUE_BYTES + 1}) {
            byte[] e = entry(Op.STATE_PUT, s, 5, 1_000, o -> {
                o.writeUTF("b");
                o.writeUTF("k");
                o.writeInt(length);
                o.write(new byte[] {1, 2, 3});
            });
            assertEquals(Reply.ERROR, sm.apply(e, 0, e.length, true)[0]);
            assertArrayEquals(before, content(), "a value length of " + length + " changed the state");
        }
        assertEquals(4, add(s, 4, "c", 1), "the session still takes its next write");
    }

    /**
     * A state change is pushed to the sessions that watch its bucket and to no other, found
     * through an index rather than a pass over every session (the leader's work per change must
     * not grow with the number of nodes): after a watch, an unwatch, a restore from a snapshot
     * (the index is rebuilt, never written) and a session's expiry.
     */
    @Test
    void aChangeIsPushedToTheWatchersOfItsBucketOnlyAfterUnwatchRestoreAndExpiry() throws Exception {
        long a = open("a");
        long b = open("b");
        long c = open("c");
        for (long s : new long[] {c, a}) {
            apply(entry(Op.STATE_WATCH, s, 1, 1, o -> {
                o.writeUTF("bucket");
                o.writeBoolean(true);
            }));
        }
        apply(entry(Op.STATE_WATCH, b, 1, 1, o -> {
            o.writeUTF("other");
            o.writeBoolean(true);
        }));
        List<String> pushed = new ArrayList<>();
        sm.events(new UnidistStateMachine.Events() {
            @Override
            public void granted(String address, long session, LockTable.Holder holder) {
            }

            @Override
            public void changed(String address, StateTable.Change change) {
                pushed.add(address);
            }
        });
        apply(entry(Op.STATE_PUT, b, 2, 2, o -> putBody(o, "k", "1")));
        assertEquals(List.of("addr-a", "addr-c"), pushed, "the watchers, in session order");
        pushed.clear();
        apply(entry(Op.STATE_WATCH, c, 2, 2, o -> {
            o.writeUTF("bucket");
            o.writeBoolean(false);
        }));
        apply(entry(Op.STATE_PUT, b, 3, 3, o -> putBody(o, "k", "2")));
        assertEquals(List.of("addr-a"), pushed, "after c's unwatch");

        UnidistStateMachine replica = new UnidistStateMachine("replica");
        replica.readContentFrom(new ByteArrayDataInputStream(content(sm)));
        List<String> replicaPushed = new ArrayList<>();
        replica.events(new UnidistStateMachine.Events() {
            @Override
            public void granted(String address, long session, LockTable.Holder holder) {
            }

            @Override
            public void changed(String address, StateTable.Change change) {
                replicaPushed.add(address);
            }
        });
        byte[] put = entry(Op.STATE_PUT, b, 4, 4, o -> putBody(o, "k", "3"));
        replica.apply(put, 0, put.length, true);
        assertEquals(List.of("addr-a"), replicaPushed, "a restored replica knows the watchers");
        byte[] reopen = entry(Op.OPEN_SESSION, 0, 0, 0, o -> {
            o.writeUTF("a");
            o.writeUTF("addr-a");
        });
        assertEquals(a, Reply.open(replica.apply(reopen, 0, reopen.length, true), "reopen").readLong(),
                "a restored replica finds the open session of an address");

        pushed.clear();
        apply(entry(Op.EXPIRE_SESSIONS, 0, 0, 0, o -> {
            o.writeInt(1);
            o.writeLong(a);
        }));
        apply(entry(Op.STATE_PUT, b, 5, 5, o -> putBody(o, "k", "4")));
        assertEquals(List.of(), pushed, "an expired session is no watcher");
        assertTrue(open("a") > c, "the address of an expired session opens a new one");
    }

    @Test
    void aReplayedSessionOpenReturnsTheOpenSessionAndChangesNothing() throws Exception {
        byte[] openA = entry(Op.OPEN_SESSION, 0, 0, 0, o -> {
            o.writeUTF("a");
            o.writeUTF("addr-a");
        });
        long s = apply(openA).readLong();
        add(s, 1, "c", 1);
        byte[] before = content();
        for (int i = 0; i < 3; i++) {
            assertEquals(s, apply(openA).readLong(), "a replayed open opened another session");
        }
        assertArrayEquals(before, content());
        assertTrue(open("b") != s, "another node process still gets its own session");
    }

    /**
     * A compare against a stored value reads both values' structure, strings through Kryo: one
     * that claims hundreds of millions of characters is refused without allocating them.
     */
    @Test
    void aCompareWithAValueClaimingAHugeStringIsAnsweredWithinBoundedMemory() throws Exception {
        long s = open("a");
        byte[] stored = io.unidist.internal.serial.ValueCodec.encode("v", String.class, "v");
        apply(entry(Op.STATE_PUT, s, 1, 1, o -> {
            o.writeUTF("b");
            o.writeUTF("k");
            o.writeInt(stored.length);
            o.write(stored);
            o.writeLong(0);
        }));
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        int seq = 2;
        for (int chars : new int[] {Integer.MAX_VALUE - 2, 1 << 30, 1 << 28}) {
            byte[] hostile;
            try (com.esotericsoftware.kryo.io.Output out = new com.esotericsoftware.kryo.io.Output(32, -1)) {
                out.writeByte(1); // the value format
                out.writeByte(1); // a string
                out.writeVarIntFlag(true, chars + 1, true); // Kryo's UTF-8 form: length + 1
                out.writeBytes(new byte[] {'a', 'b'});
                hostile = out.toBytes();
            }
            byte[] value = io.unidist.internal.serial.ValueCodec.encode("x", String.class, "v");
            int n = seq++;
            byte[] replace = entry(Op.STATE_REPLACE, s, n, n, o -> {
                o.writeUTF("b");
                o.writeUTF("k");
                o.writeInt(hostile.length);
                o.write(hostile);
                o.writeInt(value.length);
                o.write(value);
                o.writeLong(0);
            });
            long before = threads.getCurrentThreadAllocatedBytes();
            assertFalse(apply(replace).readBoolean(), "a claimed string of " + chars + " chars matched");
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < (4 << 20), "comparing with a claimed string of " + chars + " chars allocated "
                    + allocated + " bytes");
        }
    }
}
