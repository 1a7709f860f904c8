package io.unidist.cluster.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;
import org.jgroups.Address;
import org.jgroups.Message;

/**
 * Group commit at the client: a node's concurrent requests to one voter travel together.
 *
 * <p>At most {@link #MAX_IN_FLIGHT} messages to a voter are unanswered at a time (pipelining);
 * requests made meanwhile wait in that voter's lane and leave together in the next message, a
 * {@link Wire#REQUESTS} that the leader appends as one log entry (one fsync, one replication
 * message, one answer for all of them). A request that finds a free slot leaves at once, so a
 * lone caller waits for nothing. The thread that frees a slot (the one that received an answer)
 * sends what waited; no thread of its own is needed.
 *
 * <p>Nothing here decides retries: a request whose message is lost with its voter is retried by
 * {@link ClusterClient#call} after its attempt timeout, or at once when the voter leaves the
 * view ({@link #left}). A slot whose answer never came is taken back after the attempt timeout,
 * so a lost answer cannot stall the lane.
 */
final class RequestLanes {
    /**
     * Messages to one voter that may be unanswered at once. Two: one being committed while the
     * next fills, so that the leader always has the next batch when it finishes one.
     */
    static final int MAX_IN_FLIGHT = Integer.getInteger("unidist.client.inflight", 2);
    /** A batch stops growing at this many command bytes (a larger single command leaves alone). */
    static final int MAX_BATCH_BYTES = 256 * 1024;

    /** Sends a message; a failure is reported for every request the message carried. */
    interface Sender {
        void send(Message message) throws Exception;
    }

    /** Told when a request could not be sent, so that its caller retries without waiting. */
    interface Failed {
        void failed(long id, Exception why);
    }

    private record Item(long id, byte[] command) { }

    private static final class Lane {
        final Address to;
        final ArrayDeque<Item> queue = new ArrayDeque<>();
        /** First request id of each unanswered message, and when it was sent. */
        final Map<Long, Long> inFlight = new HashMap<>();

        Lane(Address to) {
            this.to = to;
        }
    }

    private final Sender sender;
    private final LongPredicate awaited;
    private final Failed failed;
    private final long staleNanos;
    private final Map<Address, Lane> lanes = new ConcurrentHashMap<>();
    /** The lane of each unanswered message, by its first request id. */
    private final Map<Long, Lane> slots = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.LongAdder messages = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder requests = new java.util.concurrent.atomic.LongAdder();

    /**
     * @param awaited whether a request id is still awaited by its caller: one that is not (its call
     *                ended) is not sent
     * @param staleAfter when a slot whose message got no answer is taken back
     */
    RequestLanes(Sender sender, LongPredicate awaited, Failed failed, long staleAfter, TimeUnit unit) {
        this.sender = sender;
        this.awaited = awaited;
        this.failed = failed;
        this.staleNanos = unit.toNanos(staleAfter);
    }

    /** Sends the request now if the voter's lane has a free slot, else with the next message. */
    void send(Address to, long id, byte[] command) {
        Lane lane = lanes.computeIfAbsent(to, Lane::new);
        synchronized (lane) {
            lane.queue.add(new Item(id, command));
        }
        pump(lane);
    }

    /** The answer to the message whose first request is {@code firstId} came: its slot is free. */
    void answered(long firstId) {
        Lane lane = slots.remove(firstId);
        if (lane != null) {
            synchronized (lane) {
                lane.inFlight.remove(firstId);
            }
            pump(lane);
        }
    }

    /** The voter left the view: its lane goes (its callers were told, and retry elsewhere). */
    void left(Address voter) {
        Lane lane = lanes.remove(voter);
        if (lane != null) {
            synchronized (lane) {
                lane.inFlight.keySet().forEach(slots::remove);
                lane.inFlight.clear();
                lane.queue.clear();
            }
        }
    }

    /** Messages sent and the requests they carried, since the start: for tests and diagnostics. */
    long[] sent() {
        return new long[] {messages.sum(), requests.sum()};
    }

    private void pump(Lane lane) {
        while (true) {
            List<Item> batch = new ArrayList<>();
            synchronized (lane) {
                if (lane.queue.isEmpty() || !freeSlot(lane)) {
                    return;
                }
                int bytes = 0;
                while (!lane.queue.isEmpty() && batch.size() < Wire.MAX_BATCH) {
                    Item next = lane.queue.peek();
                    if (!batch.isEmpty() && bytes + next.command.length > MAX_BATCH_BYTES) {
                        break;
                    }
                    lane.queue.poll();
                    if (awaited.test(next.id)) {
                        batch.add(next);
                        bytes += next.command.length;
                    }
                }
                if (batch.isEmpty()) {
                    continue;
                }
                lane.inFlight.put(batch.get(0).id, System.nanoTime());
                slots.put(batch.get(0).id, lane);
            }
            transmit(lane, batch);
        }
    }

    /** Whether the lane may send another message, taking back slots whose answer is overdue. */
    private boolean freeSlot(Lane lane) {
        if (lane.inFlight.size() < MAX_IN_FLIGHT) {
            return true;
        }
        long now = System.nanoTime();
        lane.inFlight.entrySet().removeIf(e -> {
            boolean stale = now - e.getValue() > staleNanos;
            if (stale) {
                slots.remove(e.getKey());
            }
            return stale;
        });
        return lane.inFlight.size() < MAX_IN_FLIGHT;
    }

    private void transmit(Lane lane, List<Item> batch) {
        messages.increment();
        requests.add(batch.size());
        try {
            if (batch.size() == 1) {
                sender.send(Wire.request(lane.to, batch.get(0).id, batch.get(0).command));
            } else {
                long[] ids = new long[batch.size()];
                byte[][] commands = new byte[batch.size()][];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = batch.get(i).id;
                    commands[i] = batch.get(i).command;
                }
                sender.send(Wire.requests(lane.to, ids, commands, ids.length));
            }
        } catch (Exception e) {
            long first = batch.get(0).id;
            slots.remove(first);
            synchronized (lane) {
                lane.inFlight.remove(first);
            }
            batch.forEach(item -> failed.failed(item.id, e));
        }
    }
}
