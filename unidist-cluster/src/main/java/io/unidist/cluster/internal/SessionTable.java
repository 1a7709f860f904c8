package io.unidist.cluster.internal;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The sessions of the state machine: one per joined node process (a node that restarts, or
 * whose session expired, opens a new one). A session remembers the answers to its recent writes
 * so that a retried write is answered, not applied again.
 */
final class SessionTable {
    /** Answers a session keeps at most; a client has far fewer requests in flight. */
    static final int MAX_ANSWERS = 100_000;

    /** One session. */
    static final class Session {
        final long id;
        final String node;
        final String address;
        final long openedAt;
        long lowWatermark;
        final TreeMap<Long, byte[]> answers = new TreeMap<>();
        /** The state buckets this session's node watches. */
        final java.util.TreeSet<String> watches = new java.util.TreeSet<>();

        Session(long id, String node, String address, long openedAt) {
            this.id = id;
            this.node = node;
            this.address = address;
            this.openedAt = openedAt;
        }

        /** Forgets answers the client no longer waits for. */
        void advance(long watermark) {
            if (watermark > lowWatermark) {
                lowWatermark = watermark;
                answers.headMap(watermark).clear();
            }
        }

        void remember(long seq, byte[] answer) {
            answers.put(seq, answer);
            if (answers.size() > MAX_ANSWERS) {
                answers.pollFirstEntry();
            }
        }
    }

    private final TreeMap<Long, Session> sessions = new TreeMap<>();
    /*
     * Indexes derived from the sessions, never written to a snapshot, so that the work of a
     * command does not grow with the number of nodes: the open session of each node address
     * (a node process has at most one: a session is opened only where none is open), and the
     * sessions that watch each bucket (a state change is pushed to those, not looked for among
     * every session).
     */
    private final Map<String, Session> byAddress = new java.util.HashMap<>();
    private final Map<String, TreeMap<Long, Session>> watchers = new java.util.HashMap<>();

    Session get(long id) {
        return sessions.get(id);
    }

    Session open(long id, String node, String address, long now) {
        Session s = new Session(id, node, address, now);
        sessions.put(id, s);
        byAddress.putIfAbsent(address, s);
        return s;
    }

    /** The open session of the node process at {@code address}, or null. */
    Session openAt(String address) {
        return byAddress.get(address);
    }

    Session remove(long id) {
        Session s = sessions.remove(id);
        if (s != null) {
            byAddress.remove(s.address, s);
            for (String bucket : s.watches) {
                unindex(bucket, s);
            }
        }
        return s;
    }

    /** Session {@code s} watches {@code bucket} from now on. */
    void watch(Session s, String bucket) {
        if (s.watches.add(bucket)) {
            watchers.computeIfAbsent(bucket, b -> new TreeMap<>()).put(s.id, s);
        }
    }

    /** Session {@code s} no longer watches {@code bucket}. */
    void unwatch(Session s, String bucket) {
        if (s.watches.remove(bucket)) {
            unindex(bucket, s);
        }
    }

    private void unindex(String bucket, Session s) {
        TreeMap<Long, Session> w = watchers.get(bucket);
        if (w != null) {
            w.remove(s.id);
            if (w.isEmpty()) {
                watchers.remove(bucket);
            }
        }
    }

    /** The sessions that watch {@code bucket}, by id. */
    Collection<Session> watching(String bucket) {
        TreeMap<Long, Session> w = watchers.get(bucket);
        return w == null ? List.of() : w.values();
    }

    Collection<Session> all() {
        return sessions.values();
    }

    void clear() {
        sessions.clear();
        byAddress.clear();
        watchers.clear();
    }

    void write(DataOutput out) throws IOException {
        out.writeInt(sessions.size());
        for (Session s : sessions.values()) {
            out.writeLong(s.id);
            out.writeUTF(s.node);
            out.writeUTF(s.address);
            out.writeLong(s.openedAt);
            out.writeLong(s.lowWatermark);
            out.writeInt(s.watches.size());
            for (String w : s.watches) {
                out.writeUTF(w);
            }
            out.writeInt(s.answers.size());
            for (Map.Entry<Long, byte[]> a : s.answers.entrySet()) {
                out.writeLong(a.getKey());
                out.writeInt(a.getValue().length);
                out.write(a.getValue());
            }
        }
    }

    void read(DataInput in) throws IOException {
        clear();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            Session s = open(in.readLong(), in.readUTF(), in.readUTF(), in.readLong());
            s.lowWatermark = in.readLong();
            int watches = in.readInt();
            for (int w = 0; w < watches; w++) {
                watch(s, in.readUTF());
            }
            int answers = in.readInt();
            for (int a = 0; a < answers; a++) {
                long seq = in.readLong();
                byte[] answer = new byte[checkLength(in.readInt())];
                in.readFully(answer);
                s.answers.put(seq, answer);
            }
        }
    }

    /** Ids of the sessions whose address is not among {@code live}, opened before {@code openedBefore}. */
    List<Long> absentFrom(java.util.Set<String> live, long openedBefore) {
        List<Long> gone = new ArrayList<>();
        for (Session s : sessions.values()) {
            if (!live.contains(s.address) && s.openedAt < openedBefore) {
                gone.add(s.id);
            }
        }
        return gone;
    }

    static int checkLength(int n) throws IOException {
        if (n < 0 || n > 64 * 1024 * 1024) {
            throw new IOException("length " + n + " out of range");
        }
        return n;
    }
}
