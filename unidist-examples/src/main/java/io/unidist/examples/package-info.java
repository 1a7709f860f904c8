/**
 * Tiny programs that show unidist at work, and a local example cluster that runs them.
 *
 * <ul>
 *   <li>{@link io.unidist.examples.RollingBackup}: a backup that at most two hosts run at once
 *       (a semaphore), passing the fencing token to the storage it writes to.</li>
 *   <li>{@link io.unidist.examples.UniqueJobIds}: ids that are never handed out twice (a counter).</li>
 *   <li>{@link io.unidist.examples.WorkQueue}: a producer and workers, with retries and dead letters
 *       (a queue).</li>
 *   <li>{@link io.unidist.examples.StatusBoard}: every host publishes its status with a time to live
 *       and watches the others' (a state bucket).</li>
 *   <li>{@link io.unidist.examples.CentralLogging}: every host's log records in one place, on the
 *       cluster's collector, with no log server (log forwarding).</li>
 * </ul>
 *
 * <p>Each program has a {@code main} that joins a cluster with the settings of
 * {@link io.unidist.examples.ExampleSettings} (system properties or arguments), so that the same
 * program runs on one machine and on many hosts; only the JGroups file and the voters change.
 * {@link io.unidist.examples.LocalCluster} starts five processes on 127.0.0.1 that run them all
 * ({@link io.unidist.examples.ExampleNode}) and shows what happens.
 */
package io.unidist.examples;
