package io.unidist.logging.internal;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Moves formatted syslog messages from logging threads to the server on one daemon thread.
 *
 * <p>How it works. {@link #offer} puts a message into a bounded queue and never waits; when
 * the queue is full the message is dropped and the caller counts it. The sender thread takes
 * messages in batches, writes them and flushes when the queue is empty. When the server
 * cannot be reached, or a connection breaks, it retries with exponential backoff
 * ({@value #FIRST_BACKOFF_MILLIS} ms doubling to {@value #MAX_BACKOFF_MILLIS} ms, back to the
 * start once a connection has worked for 10 s) while messages wait in the queue.
 *
 * <p>Delivery. Over TCP and TLS a write succeeds once the kernel has the bytes, not once the
 * server has read them, so a connection that breaks may take unread messages with it. The
 * sender therefore keeps the last {@value #RESEND_RECORDS} messages written (at most
 * {@value #RESEND_BYTES} bytes) and writes them again, in order, first thing on the new
 * connection. Consequences: the server may receive messages twice around a reconnect (the
 * {@code seq} param tells them apart); messages are lost only when the queue is full, at
 * stop, or when more than that window was unread by a server when its connection broke.
 * UDP gives what UDP gives: no resend, no notice of loss.
 *
 * <p>Stop: {@link #stop} lets the thread drain the queue for a bounded time, then closes the
 * connection under it, so a stuck server cannot hold up the program's exit. A JVM shutdown hook
 * does the same ({@value #DRAIN_MILLIS} ms) when the program exits without stopping logback, so
 * that the last records before {@code System.exit} or the end of {@code main} are not lost.
 *
 * <p>Thread safety: {@link #offer} from any thread; {@link #start} and {@link #stop} once each.
 */
final class SyslogSender {

    static final long FIRST_BACKOFF_MILLIS = 100;
    static final long MAX_BACKOFF_MILLIS = 30_000;
    static final int RESEND_RECORDS = 1_000;
    static final int RESEND_BYTES = 1 << 20;
    /** How long a stop, or the JVM's exit, waits for the queue to drain. */
    static final long DRAIN_MILLIS = 1_000;
    /** How often an idle sender wakes to report drops. */
    private static final long IDLE_POLL_MILLIS = 1_000;
    /** A connection that lasted this long resets the backoff when it breaks. */
    private static final long STABLE_CONNECTION_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** Put in the queue by {@link #stop} to wake the thread; never sent. */
    private static final byte[] WAKE_UP = new byte[0];

    private final SyslogTransport transport;
    private final SyslogReporter reporter;
    private final BlockingQueue<byte[]> queue;
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final Thread thread;
    private final Thread exitHook;
    private final AtomicBoolean stopped = new AtomicBoolean();
    // the fields below belong to the sender thread
    private final ArrayDeque<byte[]> written = new ArrayDeque<>();
    private long writtenBytes;
    private boolean connected;
    private boolean outage;

    SyslogSender(SyslogTransport transport, int queueSize, SyslogReporter reporter, String threadName) {
        this.transport = transport;
        this.reporter = reporter;
        this.queue = new ArrayBlockingQueue<>(queueSize);
        this.thread = new Thread(this::run, threadName);
        thread.setDaemon(true); // a server that is down must not keep the JVM alive
        this.exitHook = new Thread(() -> stop(DRAIN_MILLIS), threadName + "-exit");
    }

    void start() {
        thread.start();
        try {
            Runtime.getRuntime().addShutdownHook(exitHook);
        } catch (IllegalStateException e) {
            // the JVM is already exiting: nothing to drain at exit beyond what stop does
        }
    }

    /** Queues {@code message}; never waits. @return false when the queue is full (nothing queued) */
    boolean offer(byte[] message) {
        return queue.offer(message);
    }

    /**
     * Lets the sender drain the queue for up to {@code drainMillis}, then closes the connection
     * and ends the thread. Messages still queued are counted and reported on stderr. Calls
     * after the first return at once.
     */
    void stop(long drainMillis) {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        if (Thread.currentThread() != exitHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(exitHook); // no leak per context reset
            } catch (IllegalStateException e) {
                // the JVM is exiting: the hook runs and returns at once
            }
        }
        stopping.countDown();
        queue.offer(WAKE_UP); // if the queue is full the thread is busy and sees the stop after its batch
        try {
            thread.join(drainMillis);
            if (thread.isAlive()) {
                transport.abort(); // unblocks a write to a server that does not read
                thread.interrupt();
                thread.join(drainMillis);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int notSent = 0;
        for (byte[] message; (message = queue.poll()) != null; ) {
            notSent += message == WAKE_UP ? 0 : 1;
        }
        reporter.stopped(notSent);
    }

    private boolean isStopping() {
        return stopping.getCount() == 0;
    }

    private void run() {
        Backoff backoff = new Backoff();
        long connectedAt = 0;
        try {
            while (true) {
                if (!connected) {
                    if (isStopping()) {
                        return; // no server now: what is queued is counted by stop
                    }
                    if (!connect()) {
                        if (stopping.await(backoff.next(), TimeUnit.MILLISECONDS)) {
                            return;
                        }
                        continue;
                    }
                    connectedAt = System.nanoTime();
                }
                try {
                    if (!sendBatch()) {
                        return;
                    }
                } catch (IOException | RuntimeException e) {
                    broken(e);
                    // a server that accepts and then drops every connection must not be hammered:
                    // only a connection that worked for a while earns a quick reconnect
                    if (System.nanoTime() - connectedAt >= STABLE_CONNECTION_NANOS) {
                        backoff.reset();
                    }
                    if (stopping.await(backoff.next(), TimeUnit.MILLISECONDS)) {
                        return;
                    }
                }
            }
        } catch (InterruptedException e) {
            // stop gave up waiting for the drain
        } finally {
            transport.close();
        }
    }

    /** Opens a connection and writes again what the last one may have lost. */
    private boolean connect() {
        try {
            transport.open();
            for (byte[] message : written) {
                transport.write(message);
            }
            transport.flush();
            connected = true;
            if (outage) {
                reporter.restored(written.size());
                outage = false;
            }
            return true;
        } catch (IOException | RuntimeException e) {
            transport.close();
            if (!outage) {
                reporter.unreachable(e); // once per outage, not at every retry
                outage = true;
            }
            return false;
        }
    }

    private void broken(Exception e) {
        transport.close();
        connected = false;
        if (!outage) {
            reporter.lost(e, written.size());
            outage = true;
        }
    }

    /**
     * Writes what is queued, waiting up to {@link #IDLE_POLL_MILLIS} for the first message.
     *
     * @return false once stopping and the queue is empty
     */
    private boolean sendBatch() throws IOException, InterruptedException {
        byte[] message = queue.poll(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS);
        while (message != null) {
            if (message != WAKE_UP) {
                remember(message);
                transport.write(message);
            }
            message = queue.poll();
        }
        transport.flush();
        reporter.reportDrops(); // also when no logging thread drops more: the last count gets out
        return !(isStopping() && queue.isEmpty());
    }

    /** Keeps {@code message} among the last ones written, to be written again after a break. */
    private void remember(byte[] message) {
        if (!transport.losesWritesAtBreak()) {
            return;
        }
        written.addLast(message);
        writtenBytes += message.length;
        while (written.size() > RESEND_RECORDS || writtenBytes > RESEND_BYTES) {
            writtenBytes -= written.removeFirst().length;
        }
    }

    /** Exponential backoff between connection attempts: the first retry soon, then less often. */
    static final class Backoff {
        private long nextMillis = FIRST_BACKOFF_MILLIS;

        /** @return how long to wait before the next attempt; doubles up to the maximum */
        long next() {
            long wait = nextMillis;
            nextMillis = Math.min(nextMillis * 2, MAX_BACKOFF_MILLIS);
            return wait;
        }

        void reset() {
            nextMillis = FIRST_BACKOFF_MILLIS;
        }
    }
}
