package io.unidist.logging.internal;

import ch.qos.logback.core.Context;
import ch.qos.logback.core.ContextBase;
import ch.qos.logback.core.encoder.EncoderBase;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.util.FileSize;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The collector's side: writes the records nodes forward into one rolling JSON-lines file per
 * node and track, {@code <dir>/collected.<node>.<track>.jsonl}, rotated and capped like the
 * local files (one disk budget for the whole directory).
 *
 * <p>Each line is the sender's record with the forwarding key put first:
 * {@code {"node":"web-1","incarnation":"5f3a...","fseq":42,"time":...}}. A record whose key
 * this collector has already written (a resend after a lost acknowledgement) is skipped, so a
 * collector's files hold each record once as long as it runs; across a collector restart or a
 * switch of collectors a record may appear twice, with the same key, for readers to drop.
 *
 * <p>Node and track names come from the network: both are checked (a track as in
 * {@link LogSetup#checkTrackName}, a node made file-safe) before they name a file.
 *
 * <p>Thread safety: {@link #write} is called by one thread at a time (the collector's writer
 * thread).
 */
final class CollectorWriter implements AutoCloseable {
    /** Incarnations remembered per node: a node restarts far less often than this between collector restarts. */
    private static final int INCARNATIONS_KEPT = 64;

    private final Path dir;
    private final long fileSize;
    private final DiskBudget budget;
    private final Context context = new ContextBase();
    private final Map<String, RollingFileAppender<byte[]>> files = new HashMap<>();
    private final Map<String, LinkedHashMap<Long, Long>> written = new HashMap<>();
    private long duplicates;
    private long records;

    CollectorWriter(Path dir, long fileSize, long sizeCap) throws java.io.IOException {
        this.dir = dir;
        this.fileSize = fileSize;
        Files.createDirectories(dir);
        this.budget = new DiskBudget(dir, "collected", Math.max(sizeCap, fileSize), deleted -> { });
        context.setName("unidist-collector");
    }

    /**
     * Writes the records of one batch from {@code node} that were not written before, in
     * order, and flushes them to the operating system.
     *
     * @return the highest sequence number of the batch, to acknowledge
     */
    long write(String node, List<LogWire.Record> batch) {
        String safeNode = LoggingSettings.fileSafe(node);
        LinkedHashMap<Long, Long> incarnations = written.computeIfAbsent(safeNode, n -> new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Long> eldest) {
                return size() > INCARNATIONS_KEPT;
            }
        });
        long highest = Long.MIN_VALUE;
        for (LogWire.Record r : batch) {
            highest = Math.max(highest, r.seq());
            Long last = incarnations.get(r.incarnation());
            if (last != null && r.seq() <= last) {
                duplicates++;
                continue;
            }
            LogSetup.checkTrackName(r.track());
            appender(safeNode, r.track()).doAppend(keyed(node, r));
            incarnations.put(r.incarnation(), r.seq());
            records++;
        }
        return highest;
    }

    private static byte[] keyed(String node, LogWire.Record r) {
        StringBuilder head = new StringBuilder(96);
        head.append("{\"node\":");
        Json.appendString(head, node, 255);
        head.append(",\"incarnation\":\"").append(Long.toHexString(r.incarnation())).append("\",\"fseq\":").append(r.seq());
        byte[] line = r.line();
        if (line.length < 3 || line[0] != '{' || line[line.length - 1] != '\n') {
            // not one of our JSON lines (another sender version?): kept whole, as a string
            head.append(",\"raw\":");
            Json.appendString(head, new String(line, StandardCharsets.UTF_8), Integer.MAX_VALUE);
            return head.append("}\n").toString().getBytes(StandardCharsets.UTF_8);
        }
        byte[] key = head.toString().getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[key.length + line.length];
        System.arraycopy(key, 0, out, 0, key.length);
        // the sender's object without its '{': its fields follow the key's
        out[key.length] = line[1] == '}' ? (byte) ' ' : (byte) ',';
        System.arraycopy(line, 1, out, key.length + 1, line.length - 1);
        return out;
    }

    private RollingFileAppender<byte[]> appender(String node, String track) {
        return files.computeIfAbsent(node + "." + track, base -> {
            RollingFileAppender<byte[]> appender = new RollingFileAppender<>();
            appender.setContext(context);
            appender.setName("collected." + base);
            appender.setFile(dir.resolve("collected." + base + ".jsonl").toString());
            BudgetedRollingPolicy<byte[]> policy = new BudgetedRollingPolicy<>(budget);
            policy.setContext(context);
            policy.setParent(appender);
            policy.setFileNamePattern(dir.resolve("collected." + base + ".%d{yyyy-MM-dd}.%i.jsonl.gz").toString());
            policy.setMaxFileSize(new FileSize(fileSize));
            policy.start();
            appender.setRollingPolicy(policy);
            RawEncoder encoder = new RawEncoder();
            encoder.setContext(context);
            encoder.start();
            appender.setEncoder(encoder);
            appender.start();
            return appender;
        });
    }

    /** Records written, and resent records skipped, since start. */
    long records() {
        return records;
    }

    long duplicates() {
        return duplicates;
    }

    @Override
    public void close() {
        files.values().forEach(RollingFileAppender::stop);
        files.clear();
    }

    /** The bytes as they are: the sender already encoded the line. */
    private static final class RawEncoder extends EncoderBase<byte[]> {
        private static final byte[] NONE = new byte[0];

        @Override
        public byte[] headerBytes() {
            return NONE;
        }

        @Override
        public byte[] encode(byte[] event) {
            return event;
        }

        @Override
        public byte[] footerBytes() {
            return NONE;
        }
    }
}
