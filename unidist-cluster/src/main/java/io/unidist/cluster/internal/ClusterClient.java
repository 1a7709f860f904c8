package io.unidist.cluster.internal;

import io.unidist.ClusterUnavailableException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jgroups.Address;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.util.ByteArrayDataInputStream;
import org.jgroups.util.NameCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends commands to the Raft leader over the main channel and waits for the answer.
 *
 * <p>The client remembers who the leader is (from the last "not leader" redirect or answer);
 * without a hint it tries the voters in turn. An attempt that gets no answer in time is sent
 * again, to the same or the next voter, with the same bytes: writes carry a session and seq,
 * so the state machine applies a retried write once. When no leader answered before the
 * caller's timeout, {@link ClusterUnavailableException}.
 */
final class ClusterClient {
    private static final Logger log = LoggerFactory.getLogger(ClusterClient.class);
    private static final long MAX_ATTEMPT_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final long BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /** A response from a voter. */
    private record Response(byte kind, byte[] answer, String hint) { }

    /** The leader's answer, and how many times the command was sent to get it. */
    record Result(byte[] answer, int sends) { }

    private final String self;
    private final JChannel main;
    private final List<String> voters;
    /** A request in flight and the voter it went to. */
    private record Pending(CompletableFuture<Response> future, Address to) { }

    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong requestIds = new AtomicLong();
    private final AtomicInteger rotation = new AtomicInteger();
    private volatile Map<String, Address> byName = Map.of();
    private volatile String leaderHint;

    ClusterClient(String self, JChannel main, List<String> voters) {
        this.self = self;
        this.main = main;
        this.voters = List.copyOf(voters);
    }

    void viewChanged(View view) {
        Map<String, Address> names = new ConcurrentHashMap<>();
        for (Address a : view.getMembers()) {
            String name = NameCache.get(a);
            if (name != null) {
                names.put(name, a);
            }
        }
        byName = names;
        // a request to a voter that left will never be answered: retry it now, not after the attempt timeout
        for (Pending p : pending.values()) {
            if (!view.containsMember(p.to)) {
                p.future.complete(new Response(Wire.UNAVAILABLE, null, "left the view"));
            }
        }
    }

    /** The main-channel address of a node, if it is in the view. */
    Address addressOf(String node) {
        return node == null ? null : byName.get(node);
    }

    /** How many voters are in this node's view now. */
    int votersInView() {
        int n = 0;
        for (String v : voters) {
            if (byName.containsKey(v)) {
                n++;
            }
        }
        return n;
    }

    private String missingVoters() {
        List<String> missing = voters.stream().filter(v -> !byName.containsKey(v)).toList();
        return missing.isEmpty() ? "" : ", not seen: " + String.join(", ", missing);
    }

    String leaderHint() {
        return leaderHint;
    }

    /**
     * Sends {@code command} to the leader and returns its answer.
     *
     * @throws ClusterUnavailableException when no leader answered within {@code timeout}
     * @throws InterruptedException when interrupted; the command may or may not be applied
     */
    Result call(byte[] command, Duration timeout, String what) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        int sends = 0;
        String lastProblem = "the time ran out before a request could be sent";
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new ClusterUnavailableException(what + ": no quorum answered within " + timeout
                        + " (" + lastProblem + "; voters in view: " + votersInView() + " of " + voters.size()
                        + missingVoters() + ")");
            }
            String target = leaderHint != null ? leaderHint : nextVoter();
            Address to = addressOf(target);
            if (to == null) {
                leaderHint = null;
                lastProblem = target == null ? "no voter in this node's view" : "voter " + target + " is not in this node's view";
                pause(Math.min(left, BACKOFF_NANOS));
                continue;
            }
            long id = requestIds.incrementAndGet();
            CompletableFuture<Response> future = new CompletableFuture<>();
            pending.put(id, new Pending(future, to));
            try {
                main.send(Wire.request(to, id, command));
                sends++;
                Response r = future.get(Math.min(left, MAX_ATTEMPT_NANOS), TimeUnit.NANOSECONDS);
                switch (r.kind) {
                    case Wire.ANSWER:
                        leaderHint = target;
                        return new Result(r.answer, sends);
                    case Wire.NOT_LEADER:
                        String hint = r.hint == null || r.hint.isEmpty() ? null : r.hint;
                        lastProblem = target + " is not the leader" + (hint == null ? " and knows none" : "");
                        leaderHint = hint != null && !hint.equals(target) ? hint : null;
                        if (leaderHint == null) {
                            pause(Math.min(left, BACKOFF_NANOS));
                        }
                        break;
                    default:
                        lastProblem = target + " is unavailable";
                        leaderHint = null;
                        pause(Math.min(left, BACKOFF_NANOS));
                }
            } catch (TimeoutException e) {
                lastProblem = "no answer from " + target;
                leaderHint = null;
            } catch (ExecutionException e) {
                lastProblem = e.getCause().toString();
                leaderHint = null;
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                lastProblem = "cannot send to " + target + ": " + e;
                leaderHint = null;
                pause(Math.min(left, BACKOFF_NANOS));
            } finally {
                pending.remove(id);
            }
        }
    }

    /** A RESPONSE message arrived. */
    void responded(ByteArrayDataInputStream in) throws IOException {
        long id = in.readLong();
        byte kind = in.readByte();
        Response r = switch (kind) {
            case Wire.ANSWER -> new Response(kind, Wire.readBytes(in), null);
            case Wire.NOT_LEADER, Wire.UNAVAILABLE -> new Response(kind, null, in.readUTF());
            default -> throw new IOException("unknown response kind " + kind);
        };
        Pending p = pending.get(id);
        if (p != null) {
            p.future.complete(r);
        } else {
            log.trace("{}: late response to request {}", self, id);
        }
    }

    private String nextVoter() {
        for (int i = 0; i < voters.size(); i++) {
            String v = voters.get(Math.floorMod(rotation.getAndIncrement(), voters.size()));
            if (byName.containsKey(v)) {
                return v;
            }
        }
        return null;
    }

    private static void pause(long nanos) throws InterruptedException {
        if (nanos > 0) {
            TimeUnit.NANOSECONDS.sleep(nanos); // a backoff between attempts, not synchronisation
        }
    }
}
