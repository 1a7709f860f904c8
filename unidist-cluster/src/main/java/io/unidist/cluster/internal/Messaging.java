package io.unidist.cluster.internal;

import io.unidist.cluster.ClusterMessaging;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jgroups.Address;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.util.ByteArrayDataInputStream;
import org.jgroups.util.ByteArrayDataOutputStream;
import org.jgroups.util.NameCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ClusterMessaging} on a node's main channel: message type {@link Wire#APP}, carrying a
 * topic and the payload.
 */
final class Messaging implements ClusterMessaging {
    private static final Logger log = LoggerFactory.getLogger(Messaging.class);
    private static final int MAX_TOPIC = 255;

    private final String self;
    private final List<String> voters;
    private final JChannel main;
    private final Map<String, Handler> handlers = new ConcurrentHashMap<>();
    private final List<Consumer<List<String>>> memberListeners = new CopyOnWriteArrayList<>();
    private volatile View view;
    /** The view's members by name: a send finds its node without a pass over the view. */
    private volatile Map<String, Address> byName = Map.of();
    private volatile boolean closed;

    Messaging(String self, List<String> voters, JChannel main) {
        this.self = self;
        this.voters = List.copyOf(voters);
        this.main = main;
    }

    @Override
    public String self() {
        return self;
    }

    @Override
    public List<String> voters() {
        return voters;
    }

    @Override
    public List<String> members() {
        View v = view;
        if (v == null) {
            return List.of();
        }
        List<String> names = new ArrayList<>(v.size());
        for (Address a : v.getMembers()) {
            names.add(nameOf(a));
        }
        return List.copyOf(names);
    }

    private static String nameOf(Address a) {
        String name = NameCache.get(a);
        return name != null ? name : String.valueOf(a);
    }

    @Override
    public AutoCloseable watchMembers(Consumer<List<String>> listener) {
        Objects.requireNonNull(listener, "listener");
        memberListeners.add(listener);
        listener.accept(members());
        return () -> memberListeners.remove(listener);
    }

    @Override
    public boolean send(String node, String topic, byte[] payload) {
        Objects.requireNonNull(node, "node");
        checkTopic(topic);
        Objects.requireNonNull(payload, "payload");
        if (payload.length > MAX_PAYLOAD) {
            throw new IllegalArgumentException("a message of " + payload.length + " bytes is over the limit of "
                    + MAX_PAYLOAD + " bytes (topic '" + topic + "')");
        }
        Address to = addressOf(node);
        if (to == null || closed) {
            return false;
        }
        ByteArrayDataOutputStream out = Wire.start(Wire.APP, topic.length() + payload.length + 8);
        out.writeUTF(topic);
        out.writeInt(payload.length);
        out.write(payload);
        try {
            main.send(Wire.message(to, out));
            return true;
        } catch (Exception e) {
            log.debug("{}: could not send a '{}' message to {}: {}", self, topic, node, e.toString());
            return false;
        }
    }

    private Address addressOf(String node) {
        return byName.get(node);
    }

    private static void checkTopic(String topic) {
        if (topic == null || topic.isBlank() || topic.length() > MAX_TOPIC) {
            throw new IllegalArgumentException("topic '" + topic + "' is not allowed: use 1 to " + MAX_TOPIC
                    + " characters, not only spaces");
        }
    }

    @Override
    public AutoCloseable subscribe(String topic, Handler handler) {
        checkTopic(topic);
        Objects.requireNonNull(handler, "handler");
        if (handlers.putIfAbsent(topic, handler) != null) {
            throw new IllegalStateException("topic '" + topic + "' already has a handler on node " + self);
        }
        return () -> handlers.remove(topic, handler);
    }

    /** A message of type {@link Wire#APP} from {@code from}, positioned after the header. */
    void received(Address from, ByteArrayDataInputStream in) throws IOException {
        String topic = in.readUTF();
        byte[] payload = Wire.readBytes(in);
        Handler h = handlers.get(topic);
        if (h == null) {
            log.debug("{}: no handler for topic '{}' (message from {})", self, topic, from);
            return;
        }
        try {
            h.received(nameOf(from), payload);
        } catch (RuntimeException e) {
            log.warn("{}: the handler of topic '{}' failed on a message from {}: {}", self, topic, nameOf(from),
                    e.toString());
        }
    }

    void viewChanged(View v) {
        Map<String, Address> addresses = new java.util.HashMap<>();
        for (Address a : v.getMembers()) {
            String name = NameCache.get(a);
            if (name != null) {
                addresses.putIfAbsent(name, a); // the first in view order, as the pass over the view found
            }
        }
        byName = addresses;
        view = v;
        List<String> names = members();
        for (Consumer<List<String>> l : memberListeners) {
            try {
                l.accept(names);
            } catch (RuntimeException e) {
                log.warn("{}: a membership listener failed: {}", self, e.toString());
            }
        }
    }

    void close() {
        closed = true;
        memberListeners.clear();
        handlers.clear();
    }
}
