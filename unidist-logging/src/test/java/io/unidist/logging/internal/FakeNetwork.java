package io.unidist.logging.internal;

import io.unidist.cluster.ClusterMessaging;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * Cluster messaging between nodes in one test, without JGroups: one delivery thread per
 * receiver keeps each sender-to-receiver stream in order, as JGroups does; a node that
 * {@link #crash}es leaves the member list and loses what was in flight to it.
 */
final class FakeNetwork implements AutoCloseable {
    private final List<String> members = new CopyOnWriteArrayList<>();
    private final List<String> voters;
    private final Map<String, Node> nodes = new ConcurrentHashMap<>();

    FakeNetwork(List<String> voters) {
        this.voters = List.copyOf(voters);
    }

    ClusterMessaging join(String name) {
        Node n = new Node(name);
        nodes.put(name, n);
        members.add(name);
        viewChanged();
        return n;
    }

    void crash(String name) {
        Node n = nodes.remove(name);
        members.remove(name);
        if (n != null) {
            n.handlers.clear();
            n.listeners.clear();
            n.delivery.shutdownNow();
        }
        viewChanged();
    }

    private void viewChanged() {
        List<String> view = List.copyOf(members);
        for (Node n : nodes.values()) {
            n.listeners.forEach(l -> l.accept(view));
        }
    }

    @Override
    public void close() {
        nodes.values().forEach(n -> n.delivery.shutdownNow());
    }

    private final class Node implements ClusterMessaging {
        final String name;
        final Map<String, Handler> handlers = new ConcurrentHashMap<>();
        final List<Consumer<List<String>>> listeners = new CopyOnWriteArrayList<>();
        final ExecutorService delivery = Executors.newSingleThreadExecutor();

        Node(String name) {
            this.name = name;
        }

        @Override
        public String self() {
            return name;
        }

        @Override
        public List<String> voters() {
            return voters;
        }

        @Override
        public List<String> members() {
            return new ArrayList<>(members);
        }

        @Override
        public AutoCloseable watchMembers(Consumer<List<String>> listener) {
            listeners.add(listener);
            listener.accept(members());
            return () -> listeners.remove(listener);
        }

        @Override
        public boolean send(String node, String topic, byte[] payload) {
            Node to = nodes.get(node);
            if (to == null || !nodes.containsKey(name)) {
                return false;
            }
            try {
                to.delivery.execute(() -> {
                    Handler h = to.handlers.get(topic);
                    if (h != null) {
                        h.received(name, payload);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // the receiver crashed meanwhile: lost, as on a real network
            }
            return true;
        }

        @Override
        public AutoCloseable subscribe(String topic, Handler handler) {
            if (handlers.putIfAbsent(topic, handler) != null) {
                throw new IllegalStateException("topic '" + topic + "' already has a handler");
            }
            return () -> handlers.remove(topic, handler);
        }
    }
}
