package io.unidist.logging.internal;

import io.unidist.cluster.ClusterMessaging;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Log forwarding on one node: the sender of this node's records and, on a collector candidate,
 * the collector.
 *
 * <p><b>Sender.</b> Records wait in the {@link Spool} (on disk, bounded) until a collector
 * acknowledges them. One thread sends the oldest unacknowledged records as a batch to this
 * node's collector ({@link CollectorElection}) and waits for the acknowledgement; after the
 * ack timeout or when the collectors change, it sends the same records again, to whichever
 * collector is now this node's. So a record is lost only if the spool drops it (counted, and
 * reported in the log itself), and may be delivered more than once, always with the same key
 * (node, incarnation, sequence).
 *
 * <p><b>Collector.</b> Batches are handed from the receiving thread to a bounded queue and
 * written by one writer thread ({@link CollectorWriter}), which acknowledges each batch once
 * written. When the queue is full a batch is dropped unacknowledged: its sender sends it again.
 *
 * <p><b>Incarnation.</b> A random number per start of the process, so that a node whose spool
 * was lost and whose sequence numbers start again is not taken for a resend.
 */
public final class Forwarder implements AutoCloseable {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Forwarder.class);

    private final ClusterMessaging messaging;
    private final ForwardSettings settings;
    private final Spool spool;
    private final List<String> candidates;
    private final String self;
    private final long incarnation = new SecureRandom().nextLong();
    private final Object monitor = new Object();
    private final Thread sender;
    private final Thread writerThread;
    private final CollectorWriter writer;
    private final BlockingQueue<Incoming> incoming = new ArrayBlockingQueue<>(64);
    private final AutoCloseable subscription;
    private final AutoCloseable membership;
    private volatile List<String> collectors = List.of();
    private volatile long acked = Long.MIN_VALUE;
    private volatile boolean running = true;
    private volatile long sentBatches;
    private volatile long resentBatches;
    private volatile long droppedBatches;

    private static final long DROP_REPORT_NANOS = 10_000_000_000L;

    private record Incoming(String from, List<LogWire.Record> records) { }

    /**
     * Starts forwarding over {@code messaging}, and collecting if this node is a candidate.
     *
     * @param candidates the nodes that may be collectors (from the settings, or the voters)
     * @throws IOException if the collector's directory cannot be made
     */
    public Forwarder(ClusterMessaging messaging, ForwardSettings settings, Spool spool, List<String> candidates)
            throws IOException {
        this.messaging = messaging;
        this.settings = settings;
        this.spool = spool;
        this.candidates = List.copyOf(candidates);
        this.self = messaging.self();
        this.writer = this.candidates.contains(self)
                ? CollectorWriter.of(settings)
                : null;
        this.subscription = messaging.subscribe(LogWire.TOPIC, this::received);
        this.membership = messaging.watchMembers(members -> {
            collectors = CollectorElection.collectors(members, this.candidates, settings.collectors);
            wake();
        });
        this.sender = new Thread(this::sendLoop, "unidist-log-forwarder");
        this.sender.setDaemon(true);
        this.sender.start();
        if (writer != null) {
            this.writerThread = new Thread(this::writeLoop, "unidist-log-collector");
            this.writerThread.setDaemon(true);
            this.writerThread.start();
        } else {
            this.writerThread = null;
        }
    }

    /** This process's incarnation, part of every forwarded record's key. */
    public long incarnation() {
        return incarnation;
    }

    /** The collectors as this node sees them now. */
    public List<String> collectors() {
        return collectors;
    }

    /** Whether this node collects now. */
    public boolean isCollector() {
        return writer != null && collectors.contains(self);
    }

    /** Batches sent, batches sent again after a timeout or a change of collector, and batches a busy collector dropped. */
    public long[] batchCounts() {
        return new long[] {sentBatches, resentBatches, droppedBatches};
    }

    /** Records written by this node as a collector, and resends it skipped. */
    public long[] collectedCounts() {
        return writer == null ? new long[] {0, 0} : new long[] {writer.records(), writer.duplicates()};
    }

    /** Called when a record was spooled: the sender may be waiting for one. */
    void wake() {
        synchronized (monitor) {
            monitor.notifyAll();
        }
    }

    private void received(String from, byte[] message) {
        try {
            byte kind = LogWire.kind(message);
            if (kind == LogWire.ACK) {
                long upTo = LogWire.readAck(message);
                if (upTo > acked) {
                    acked = upTo;
                    wake();
                }
            } else if (kind == LogWire.BATCH && writer != null) {
                if (!incoming.offer(new Incoming(from, LogWire.readBatch(message)))) {
                    droppedBatches++; // busy: the sender times out and sends it again
                }
            }
        } catch (IOException e) {
            log.warn("{}: dropped a malformed log forwarding message from {}: {}", self, from, e.getMessage());
        }
    }

    private void writeLoop() {
        while (running) {
            Incoming batch;
            try {
                batch = incoming.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (batch == null) {
                continue;
            }
            try {
                long upTo = writer.write(batch.from(), batch.records());
                messaging.send(batch.from(), LogWire.TOPIC, LogWire.ack(upTo));
            } catch (RuntimeException e) {
                log.warn("{}: could not write {} records from {}: {}", self, batch.records().size(), batch.from(),
                        e.toString());
            }
        }
    }

    private void sendLoop() {
        long lastSentUpTo = Long.MIN_VALUE;
        String lastTarget = null;
        long reportedDrops = 0;
        long lastReport = System.nanoTime() - DROP_REPORT_NANOS; // the first drops are reported at once
        while (running) {
            try {
                long drops = spool.dropped();
                if (drops > reportedDrops && System.nanoTime() - lastReport > DROP_REPORT_NANOS) {
                    // in the log itself, so that whoever reads the collected files sees the gap
                    log.warn("{}: the log spool was full: {} records dropped ({} since start, policy {})", self,
                            drops - reportedDrops, drops, settings.spoolFullPolicy);
                    reportedDrops = drops;
                    lastReport = System.nanoTime();
                }
                String target = CollectorElection.collectorFor(self, collectors);
                List<Spool.Entry> entries = target == null ? List.of()
                        : spool.peek(Long.MIN_VALUE, settings.batchRecords, settings.batchBytes);
                if (entries.isEmpty()) {
                    await(Duration.ofMillis(200));
                    continue;
                }
                long upTo = entries.get(entries.size() - 1).seq();
                if (upTo == lastSentUpTo && target.equals(lastTarget)) {
                    resentBatches++;
                }
                if (!messaging.send(target, LogWire.TOPIC, LogWire.batch(records(entries)))) {
                    await(Duration.ofMillis(200)); // not a member any more: the view changes shortly
                    continue;
                }
                sentBatches++;
                lastSentUpTo = upTo;
                lastTarget = target;
                long deadline = System.nanoTime() + settings.ackTimeout.toNanos();
                while (running && acked < upTo && System.nanoTime() < deadline
                        && target.equals(CollectorElection.collectorFor(self, collectors))) {
                    await(Duration.ofNanos(Math.min(deadline - System.nanoTime(), 50_000_000L)));
                }
                long ack = acked;
                if (ack != Long.MIN_VALUE && ack >= entries.get(0).seq()) {
                    spool.acknowledge(Math.min(ack, upTo));
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException | IOException e) {
                log.warn("{}: log forwarding failed, trying again: {}", self, e.toString());
                try {
                    await(Duration.ofSeconds(1));
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    private static List<LogWire.Record> records(List<Spool.Entry> entries) throws IOException {
        List<LogWire.Record> records = new ArrayList<>(entries.size());
        for (Spool.Entry e : entries) {
            records.add(LogWire.fromSpool(e.seq(), e.bytes()));
        }
        return records;
    }

    private void await(Duration d) throws InterruptedException {
        synchronized (monitor) {
            monitor.wait(Math.max(1, d.toMillis()));
        }
    }

    /** Appends one record (incarnation, track, JSON line) to the spool and wakes the sender. */
    long spool(String track, byte[] line) {
        long seq = spool.append(LogWire.spoolRecord(incarnation, track, line));
        wake();
        return seq;
    }

    /**
     * Waits up to {@code timeout} for the spool to empty.
     *
     * @return the records still spooled
     */
    public long drain(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (spool.pending() > 0 && System.nanoTime() < deadline) {
            await(Duration.ofMillis(20));
        }
        return spool.pending();
    }

    /** Stops the threads; what is spooled stays on disk for the next start. */
    @Override
    public void close() {
        running = false;
        wake();
        try {
            subscription.close();
            membership.close();
        } catch (Exception e) {
            log.debug("{}: closing the forwarding subscriptions: {}", self, e.toString());
        }
        join(sender);
        join(writerThread);
        if (writer != null) {
            writer.close();
        }
    }

    private static void join(Thread t) {
        if (t == null) {
            return;
        }
        t.interrupt();
        try {
            t.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
