package io.unidist.examples;

import io.unidist.Delivery;
import io.unidist.MessageQueue;
import io.unidist.QueueOptions;
import io.unidist.Unidist;
import io.unidist.UnidistException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jobs from one host, done by the others: a producer offers jobs to a shared queue, workers
 * poll them. A job that fails is given back ({@code nack}) and retried, up to 3 attempts; then
 * it is a dead letter, in the queue {@code work.dead}, for a human to look at. A worker that
 * dies holding a job does not lose it: after the visibility timeout (10 s) another worker gets it.
 *
 * <pre>
 * java -cp unidist-examples.jar io.unidist.examples.WorkQueue produce --node=web-1
 * java -cp unidist-examples.jar io.unidist.examples.WorkQueue work --node=web-2
 * </pre>
 *
 * <p>The jobs here are pretend ones: every 10th is "corrupt" and always fails (a poison
 * message), every 7th fails on its first attempt only (a flaky one).
 */
public final class WorkQueue {
    /** The queue's name; its dead letters are in {@code work.dead}. */
    public static final String QUEUE = "work";
    /** The queue's options: every node opens it with these. */
    public static final QueueOptions OPTIONS = QueueOptions.defaults()
            .withVisibilityTimeout(Duration.ofSeconds(10))
            .withMaxAttempts(3);
    /** Counters of what happened, cluster-wide. */
    public static final String PRODUCED = "jobs.produced";
    /** Jobs acknowledged as done. */
    public static final String DONE = "jobs.done";
    /** Failed attempts given back for a retry (or, after the last one, to the dead letters). */
    public static final String FAILED = "jobs.failed";
    private static final Logger log = LoggerFactory.getLogger(WorkQueue.class);

    private WorkQueue() {
    }

    /** {@code produce} or {@code work}, then the settings of {@link ExampleSettings}. */
    public static void main(String[] args) throws InterruptedException {
        if (args.length == 0 || !(args[0].equals("produce") || args[0].equals("work"))) {
            throw new IllegalArgumentException("usage: WorkQueue produce|work [--node=...] [--voters=...]");
        }
        try (Unidist node = ExampleSettings.from(Arrays.copyOfRange(args, 1, args.length)).join()) {
            if (args[0].equals("produce")) {
                produce(node, Duration.ofSeconds(1), id -> { }, job -> { });
            } else {
                work(node, Duration.ofMillis(200), job -> { });
            }
        }
    }

    /** The queue, opened with {@link #OPTIONS}. */
    public static MessageQueue<String> queue(Unidist node) {
        return node.queue(QUEUE, String.class, OPTIONS);
    }

    /**
     * Offers a job every {@code pause}, with an id from {@link UniqueJobIds}, until interrupted;
     * {@code offered} hears of each job once its offer has returned (it is then durable).
     */
    public static void produce(Unidist node, Duration pause, LongConsumer idUsed, Consumer<String> offered)
            throws InterruptedException {
        MessageQueue<String> work = queue(node);
        while (!Thread.currentThread().isInterrupted()) {
            try {
                long id = UniqueJobIds.nextId(node);
                idUsed.accept(id);
                String job = id % 10 == 0 ? "job " + id + " corrupt" : "job " + id;
                work.offer(job);
                offered.accept(job);
                node.counter(PRODUCED).incrementAndGet();
            } catch (UnidistException e) {
                log.warn("{}: could not offer a job: {}", node.nodeName(), e.getMessage());
            }
            Thread.sleep(pause.toMillis()); // pacing: a few jobs a second
        }
    }

    /**
     * What a worker tells about the jobs it finishes, for a record of its own outside the cluster
     * (the example cluster checks with it that no job is lost or done twice).
     */
    @FunctionalInterface
    public interface JobLog {
        /**
         * Just before the acknowledgement goes out: a worker killed after this and before
         * {@link #done} may or may not have acknowledged the job.
         */
        default void acking(String job) {
        }

        /** After the acknowledgement returned: the job is done and is never delivered again. */
        void done(String job);
    }

    /** Takes jobs and does them, each in {@code jobTime}, until interrupted; {@code jobs} hears of each acknowledged one. */
    public static void work(Unidist node, Duration jobTime, JobLog jobs) throws InterruptedException {
        MessageQueue<String> work = queue(node);
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Optional<Delivery<String>> next = work.poll(Duration.ofSeconds(2));
                if (next.isPresent()) {
                    doJob(node, next.get(), jobTime, jobs);
                }
            } catch (UnidistException e) {
                log.warn("{}: could not take a job: {}", node.nodeName(), e.getMessage());
                Thread.sleep(500); // pacing: the cluster is electing a leader, give it a moment
            }
        }
    }

    /** Does one job: acknowledges it when it succeeds, gives it back when it fails. */
    static void doJob(Unidist node, Delivery<String> job, Duration jobTime, JobLog jobs)
            throws InterruptedException {
        Thread.sleep(jobTime.toMillis()); // stands in for the real work
        if (fails(job.message(), job.attempt())) {
            node.counter(FAILED).incrementAndGet();
            job.nack();
            if (job.attempt() >= OPTIONS.maxAttempts()) {
                log.warn("{}: '{}' failed {} times: moved to {}.dead", node.nodeName(), job.message(), job.attempt(), QUEUE);
            } else {
                log.info("{}: '{}' failed (attempt {}): given back for a retry", node.nodeName(), job.message(),
                        job.attempt());
            }
            return;
        }
        try {
            jobs.acking(job.message());
            job.ack();
            jobs.done(job.message());
            node.counter(DONE).incrementAndGet();
            log.info("{}: '{}' done (attempt {})", node.nodeName(), job.message(), job.attempt());
        } catch (IllegalStateException e) {
            // we took longer than the visibility timeout: someone else has it now (at-least-once)
            log.warn("{}: '{}' was done here too late: {}", node.nodeName(), job.message(), e.getMessage());
        }
    }

    /** The pretend failures: a corrupt job always fails, every 7th job fails on its first attempt. */
    static boolean fails(String job, int attempt) {
        long id = Long.parseLong(job.split(" ")[1]);
        return job.endsWith("corrupt") || (id % 7 == 0 && attempt == 1);
    }
}
