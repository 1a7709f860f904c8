package io.unidist.cluster.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A recorded history of message queues: offers of messages with unique ids, deliveries (polls
 * that returned a message), acknowledgements and give-backs, and the final drains; and the
 * checks that nothing offered was lost, nothing acknowledged was handed out again, and nothing
 * was delivered that was not offered.
 *
 * <p>A queue and its dead-letter queue {@code <name>.dead} are one family: a message offered to
 * {@code q} may be delivered from {@code q.dead}. The workload gives each offer a unique message
 * id (in the payload) and each delivery a unique delivery id (say a counter), and records
 * acknowledgements by delivery id.
 *
 * <p><b>What it proves</b>, per family, from the contract of {@link io.unidist.MessageQueue}:
 * <ol>
 *   <li><b>Nothing invented.</b> Every delivered message was offered (with any outcome: an
 *       offer that failed may still have committed), and no delivery returned before the
 *       message's offer began.
 *   <li><b>Nothing acknowledged handed out again.</b> An acknowledgement that returned ok
 *       removed the message, and it succeeds only for the message's current delivery. So at
 *       most one delivery of a message is acknowledged ok, and no delivery of the message
 *       begins after the acknowledged one was handed out: a later one either came after the
 *       acknowledgement (the message was handed out after its removal) or before it (then the
 *       acknowledged delivery had been superseded and its acknowledgement had to fail). The
 *       anomaly shows the acknowledged delivery, its acknowledgement and the later delivery.
 *   <li><b>Nothing lost.</b> An offer that returned ok is durable. Once the family was drained
 *       (see {@link #drained}), every message offered ok was acknowledged (ok, or with an
 *       unknown outcome, which may have committed) or delivered during a drain. The anomaly
 *       shows the offer and the drain. Checked only for families with a recorded drain.
 * </ol>
 *
 * <p><b>What it cannot see.</b> Order (first in, first out), delays, attempt numbers and when a
 * message moves to the dead-letter queue; deliveries to polls that failed on the caller (the
 * message comes back after the visibility timeout, so at least once is kept); what became of
 * an acknowledgement with an unknown outcome. Redelivery of a message that was not
 * acknowledged is allowed: delivery is at least once. Give-backs ({@link #nack}) are recorded
 * to explain redeliveries to a reader; no check needs them. Times from different hosts cannot
 * be compared.
 *
 * <p><b>Recording.</b> Message ids are unique per family and delivery ids per queue, and an
 * acknowledgement names a delivery recorded before it; the checks throw
 * {@link IllegalStateException} otherwise. Recording is a synchronized append; the checks are
 * O(n) but for sorting.
 */
final class QueueHistory implements Anomaly.Checker {
    /** What a call came to. */
    enum Outcome {
        /** It returned normally. */
        OK,
        /** It failed and did not take effect (an acknowledgement of a superseded delivery). */
        FAILED,
        /** It failed and may or may not have taken effect (no quorum, the node closed under it). */
        UNKNOWN
    }

    /** An offer of the message {@code messageId}. */
    record Offer(String queue, String messageId, long start, long end, Outcome outcome) implements Anomaly.Timed {
        @Override
        public String describe(long origin) {
            return "offer " + messageId + " to " + queue + ": " + name(outcome) + " " + Anomaly.interval(start, end, origin);
        }
    }

    /** A poll of {@code queue} made at {@code start} that returned the message at {@code end}. */
    record Delivery(String queue, String messageId, String deliveryId, String node, long start, long end)
            implements Anomaly.Timed {
        @Override
        public String describe(long origin) {
            return "poll of " + queue + " on " + node + " -> " + messageId + " (delivery " + deliveryId + ") "
                    + Anomaly.interval(start, end, origin);
        }
    }

    /** An acknowledgement ({@code ack}) or give-back of a delivery. */
    record Answer(String queue, String deliveryId, boolean ack, long start, long end, Outcome outcome)
            implements Anomaly.Timed {
        @Override
        public String describe(long origin) {
            return (ack ? "ack" : "nack") + " of delivery " + deliveryId + " of " + queue + ": " + name(outcome) + " "
                    + Anomaly.interval(start, end, origin);
        }
    }

    /** A final drain of {@code queue}: its polls found it empty by {@code end}. */
    record Drain(String queue, long start, long end) implements Anomaly.Timed {
        @Override
        public String describe(long origin) {
            return "drain of " + queue + " until empty " + Anomaly.interval(start, end, origin);
        }
    }

    private final List<Offer> offers = new ArrayList<>();
    private final List<Delivery> deliveries = new ArrayList<>();
    private final List<Answer> answers = new ArrayList<>();
    private final List<Drain> drains = new ArrayList<>();

    synchronized void offer(String queue, String messageId, long start, long end, Outcome outcome) {
        offers.add(new Offer(queue, messageId, start, end, outcome));
    }

    /** A poll begun at {@code pollStart} returned message {@code messageId} at {@code pollEnd}. */
    synchronized void delivery(String queue, String messageId, String deliveryId, String node, long pollStart,
            long pollEnd) {
        deliveries.add(new Delivery(queue, messageId, deliveryId, node, pollStart, pollEnd));
    }

    synchronized void ack(String queue, String deliveryId, long start, long end, Outcome outcome) {
        answers.add(new Answer(queue, deliveryId, true, start, end, outcome));
    }

    synchronized void nack(String queue, String deliveryId, long start, long end, Outcome outcome) {
        answers.add(new Answer(queue, deliveryId, false, start, end, outcome));
    }

    /**
     * The harness drained {@code queue} between {@code start} and {@code end}, after healing and
     * after the workload stopped: it polled (recording each delivery) until a poll waiting longer
     * than the visibility timeout found nothing. Drain {@code q} and {@code q.dead}, or the
     * dead letters are reported lost; deliveries whose poll began within any drain of the
     * family count as found.
     */
    synchronized void drained(String queue, long start, long end) {
        drains.add(new Drain(queue, start, end));
    }

    synchronized int size() {
        return offers.size() + deliveries.size() + answers.size() + drains.size();
    }

    /** The anomalies found, at most {@code limit}: family by family (in name order), check by check. */
    @Override
    public synchronized List<Anomaly> anomalies(int limit) {
        Anomaly.Sink sink = new Anomaly.Sink(limit);
        Map<String, Family> families = new TreeMap<>();
        offers.forEach(o -> family(families, o.queue).add(o));
        deliveries.forEach(d -> family(families, d.queue).add(d));
        answers.forEach(a -> family(families, a.queue).add(a));
        drains.forEach(d -> family(families, d.queue).drains.add(d));
        for (Map.Entry<String, Family> e : families.entrySet()) {
            e.getValue().check("queue '" + e.getKey() + "'", sink);
        }
        return sink.list();
    }

    private static Family family(Map<String, Family> families, String queue) {
        String name = queue.endsWith(".dead") ? queue.substring(0, queue.length() - ".dead".length()) : queue;
        return families.computeIfAbsent(name, n -> new Family());
    }

    private static String name(Outcome outcome) {
        return outcome.name().toLowerCase(Locale.ROOT);
    }

    /** A queue and its dead-letter queue: their operations, indexed, and the checks. */
    private static final class Family {
        final Map<String, Offer> offers = new LinkedHashMap<>();
        /** By queue (the family's two), then by delivery id. */
        final Map<String, Map<String, Delivery>> deliveryById = new HashMap<>();
        final Map<String, List<Delivery>> deliveriesOf = new LinkedHashMap<>();
        /** By delivery (each a distinct recorded call, so by identity): its acknowledgements. */
        final Map<Delivery, List<Answer>> acksOf = new IdentityHashMap<>();
        final List<Drain> drains = new ArrayList<>();

        void add(Offer o) {
            if (offers.putIfAbsent(o.messageId, o) != null) {
                throw new IllegalStateException("message id " + o.messageId + " offered twice: the workload must"
                        + " give each offer a unique id");
            }
        }

        void add(Delivery d) {
            if (deliveryById.computeIfAbsent(d.queue, q -> new HashMap<>()).putIfAbsent(d.deliveryId, d) != null) {
                throw new IllegalStateException("delivery id " + d.deliveryId + " of " + d.queue + " recorded twice");
            }
            deliveriesOf.computeIfAbsent(d.messageId, m -> new ArrayList<>(2)).add(d);
        }

        void add(Answer a) {
            Delivery d = deliveryById.getOrDefault(a.queue, Map.of()).get(a.deliveryId);
            if (d == null) {
                throw new IllegalStateException((a.ack ? "ack" : "nack") + " of delivery " + a.deliveryId + " of "
                        + a.queue + " names no recorded delivery: record the delivery when poll returns");
            }
            if (a.ack) {
                acksOf.computeIfAbsent(d, x -> new ArrayList<>(1)).add(a);
            }
        }

        void check(String checker, Anomaly.Sink sink) {
            findInvented(checker, sink);
            for (Map.Entry<String, List<Delivery>> e : deliveriesOf.entrySet()) {
                if (sink.full()) {
                    return;
                }
                findHandedOutAfterAck(checker, e.getValue(), sink);
            }
            if (!drains.isEmpty()) {
                findLost(checker, sink);
            }
        }

        private void findInvented(String checker, Anomaly.Sink sink) {
            for (List<Delivery> ofMessage : deliveriesOf.values()) {
                for (Delivery d : ofMessage) {
                    Offer o = offers.get(d.messageId);
                    if (sink.full()) {
                        return;
                    } else if (o == null) {
                        sink.add(Anomaly.of(checker, "message " + d.messageId + " was delivered but never offered",
                                List.of(d)));
                    } else if (d.end < o.start) {
                        sink.add(Anomaly.of(checker, "message " + d.messageId + " was delivered before its offer began",
                                List.of(o, d)));
                    }
                }
            }
        }

        /** The anomaly in one message's deliveries, if any: two acknowledged, or one handed out after the acknowledged one. */
        private void findHandedOutAfterAck(String checker, List<Delivery> ofMessage, Anomaly.Sink sink) {
            List<Delivery> byStart = new ArrayList<>(ofMessage);
            byStart.sort(Comparator.comparingLong(Delivery::start));
            Delivery acked = null;
            Answer ack = null;
            for (Delivery d : byStart) {
                Answer ok = firstOk(acksOf.get(d));
                if (ok != null && acked != null) {
                    sink.add(Anomaly.of(checker, "message " + d.messageId + " was acknowledged through two deliveries",
                            List.of(acked, ack, d, ok)));
                    return;
                }
                if (ok != null) {
                    acked = d;
                    ack = ok;
                }
            }
            if (acked != null) {
                findDeliveryAfter(checker, acked, ack, byStart, sink);
            }
        }

        private static void findDeliveryAfter(String checker, Delivery acked, Answer ack, List<Delivery> byStart,
                Anomaly.Sink sink) {
            for (Delivery later : byStart) {
                if (later.start > acked.end) {
                    String how = later.start > ack.end
                            ? "was handed out again after its acknowledgement had returned ok"
                            : "was handed out again after the delivery that was then acknowledged ok: a superseded"
                                    + " delivery's acknowledgement succeeded";
                    sink.add(Anomaly.of(checker, "message " + acked.messageId + " " + how, List.of(acked, ack, later)));
                    return; // byStart: the first such delivery is the earliest
                }
            }
        }

        private static Answer firstOk(List<Answer> acks) {
            if (acks != null) {
                for (Answer a : acks) {
                    if (a.outcome == Outcome.OK) {
                        return a;
                    }
                }
            }
            return null;
        }

        private void findLost(String checker, Anomaly.Sink sink) {
            Drain last = drains.stream().max(Comparator.comparingLong(Drain::end)).orElseThrow();
            for (Offer o : offers.values()) {
                if (sink.full()) {
                    return;
                }
                if (o.outcome == Outcome.OK && !settled(o.messageId)) {
                    int times = deliveriesOf.getOrDefault(o.messageId, List.of()).size();
                    sink.add(Anomaly.of(checker, "message " + o.messageId + " was offered ok, "
                            + (times == 0 ? "never delivered" : "delivered " + times + " time" + (times == 1 ? "" : "s")
                                    + " but never acknowledged")
                            + ", and the final drain did not find it: lost", List.of(o, last)));
                }
            }
        }

        /** Acknowledged (ok, or maybe), or found by a drain. */
        private boolean settled(String messageId) {
            for (Delivery d : deliveriesOf.getOrDefault(messageId, List.of())) {
                if (inDrain(d)) {
                    return true;
                }
                for (Answer a : acksOf.getOrDefault(d, List.of())) {
                    if (a.outcome != Outcome.FAILED) {
                        return true;
                    }
                }
            }
            return false;
        }

        private boolean inDrain(Delivery d) {
            for (Drain drain : drains) {
                if (drain.start <= d.start && d.start <= drain.end) {
                    return true;
                }
            }
            return false;
        }
    }
}
