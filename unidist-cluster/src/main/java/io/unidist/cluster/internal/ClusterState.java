package io.unidist.cluster.internal;

import io.unidist.StateListener;
import io.unidist.SharedState;
import io.unidist.Subscription;
import io.unidist.internal.serial.ValueCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jgroups.util.ByteArrayDataInputStream;
import org.jgroups.util.ByteArrayDataOutputStream;

/**
 * A state bucket shared by the cluster, kept in the replicated state machine. Values travel
 * encoded; the voters store and compare the bytes and never need the users' classes.
 */
final class ClusterState<V> implements SharedState<V> {
    private final ClusterNode node;
    private final String name;
    private final Class<V> type;
    private final String what;

    ClusterState(ClusterNode node, String name, Class<V> type) {
        this.node = node;
        this.name = name;
        this.type = type;
        this.what = "bucket '" + name + "'";
    }

    Class<V> valueType() {
        return type;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Optional<V> get(String key) {
        checkKey(key);
        ByteArrayDataInputStream in = node.read(Op.STATE_GET, 0, out -> {
            out.writeUTF(name);
            out.writeUTF(key);
        }, node.timeout(), what);
        try {
            return in.readBoolean() ? Optional.of(decode(readBytes(in))) : Optional.empty();
        } catch (IOException e) {
            throw malformed(e);
        }
    }

    @Override
    public void put(String key, V value) {
        write(Op.STATE_PUT, key, null, value, 0);
    }

    @Override
    public void put(String key, V value, Duration ttl) {
        Objects.requireNonNull(ttl, what + ": ttl");
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException(what + ": ttl must be positive, got " + ttl);
        }
        write(Op.STATE_PUT, key, null, value, Math.max(1, ttl.toMillis()));
    }

    @Override
    public boolean putIfAbsent(String key, V value) {
        return readBoolean(write(Op.STATE_PUT_IF_ABSENT, key, null, value, 0));
    }

    @Override
    public boolean replace(String key, V expected, V newValue) {
        byte[] expectedBytes = encode(expected);
        return readBoolean(write(Op.STATE_REPLACE, key, expectedBytes, newValue, 0));
    }

    @Override
    public boolean remove(String key) {
        checkKey(key);
        return readBoolean(node.write(Op.STATE_REMOVE, out -> {
            out.writeUTF(name);
            out.writeUTF(key);
        }, node.timeout(), what));
    }

    @Override
    public Set<String> keys() {
        ByteArrayDataInputStream in = node.read(Op.STATE_KEYS, 0, out -> out.writeUTF(name), node.timeout(), what);
        try {
            int n = in.readInt();
            Set<String> keys = new LinkedHashSet<>();
            for (int i = 0; i < n; i++) {
                keys.add(in.readUTF());
            }
            return Collections.unmodifiableSet(keys);
        } catch (IOException e) {
            throw malformed(e);
        }
    }

    @Override
    public Map<String, V> snapshot() {
        ByteArrayDataInputStream in = node.read(Op.STATE_SNAPSHOT, 0, out -> out.writeUTF(name), node.timeout(), what);
        try {
            in.readBoolean();
            in.readLong();
            int n = in.readInt();
            Map<String, V> map = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                map.put(in.readUTF(), decode(readBytes(in)));
            }
            return Collections.unmodifiableMap(map);
        } catch (IOException e) {
            throw malformed(e);
        }
    }

    @Override
    public Subscription watch(StateListener<? super V> listener) {
        Objects.requireNonNull(listener, what + ": listener");
        return node.watches().watch(name, bytes -> bytes == null ? Optional.empty() : Optional.of(decode(bytes)), listener);
    }

    @Override
    public String toString() {
        return what;
    }

    private ByteArrayDataInputStream write(Op op, String key, byte[] expected, V value, long ttlMillis) {
        checkKey(key);
        byte[] bytes = encode(value);
        return node.write(op, out -> {
            out.writeUTF(name);
            out.writeUTF(key);
            if (expected != null) {
                writeBytes(out, expected);
            }
            writeBytes(out, bytes);
            out.writeLong(ttlMillis);
        }, node.timeout(), what);
    }

    private byte[] encode(V value) {
        byte[] bytes = ValueCodec.encode(value, type, what);
        if (bytes.length > UnidistStateMachine.MAX_VALUE_BYTES) {
            throw new IllegalArgumentException(what + ": a value of " + bytes.length + " bytes is over the limit of "
                    + UnidistStateMachine.MAX_VALUE_BYTES + " bytes");
        }
        return bytes;
    }

    private V decode(byte[] bytes) {
        return ValueCodec.decode(bytes, type, what);
    }

    private void checkKey(String key) {
        if (key == null) {
            throw new NullPointerException(what + ": key is null");
        }
        if (key.length() > 0xFFFF / 3) {
            throw new IllegalArgumentException(what + ": key is " + key.length() + " characters long, more than "
                    + (0xFFFF / 3));
        }
    }

    static void writeBytes(ByteArrayDataOutputStream out, byte[] bytes) {
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    static byte[] readBytes(ByteArrayDataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.limit() - in.position()) {
            throw new IOException("length " + n + " does not fit the reply");
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    private boolean readBoolean(ByteArrayDataInputStream in) {
        try {
            return in.readBoolean();
        } catch (IOException e) {
            throw malformed(e);
        }
    }

    private UncheckedIOException malformed(IOException e) {
        return new UncheckedIOException(what + ": malformed reply", e);
    }
}
