package io.unidist.logging.internal;

import ch.qos.logback.core.Context;
import ch.qos.logback.core.ContextBase;
import ch.qos.logback.core.encoder.EncoderBase;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.util.FileSize;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The collector's side: writes the records nodes forward into one rolling JSON-lines file per
 * node and track, {@code <dir>/collected.<node>.<track>.jsonl}, rotated and capped like the
 * local files (archives {@code collected.<node>.<track>.<yyyy-MM-dd>.<i>.jsonl.gz}, one disk
 * budget for the whole directory), with a manifest for scrapers like the local one,
 * {@code <dir>/collected.manifest.json} (program {@code collected}; see
 * {@code docs/LOG-MANIFEST.md}).
 *
 * <p>Each line is the sender's record with the forwarding key put first:
 * {@code {"node":"web-1","incarnation":"5f3a...","fseq":42,"time":...}}. A record whose key
 * this collector has already written (a resend after a lost acknowledgement) is skipped, so a
 * collector's files hold each record once as long as it runs; across a collector restart or a
 * switch of collectors a record may appear twice, with the same key, for readers to drop.
 *
 * <p>The manifest follows every collected file (active, rotated, compressed, deleted by the
 * budget) by fingerprint, with the offset past its last complete record; its {@code firstSeq}
 * and {@code lastSeq} are the {@code fseq} of the first record this process wrote to the file
 * and of the record that ends at the offset. It is left out when
 * {@code unidist.logging.manifest.enabled} is false, and written every
 * {@code unidist.logging.manifest.interval}, as for the local files.
 *
 * <p>Node and track names come from the network: both are checked before they name a file (a
 * track as in {@link LogSetup#checkTrackName}, a node by {@link #nodeFileName}: only letters,
 * digits, '.', '-' and '_', at most {@value #MAX_NODE_CHARS} characters), so no name holds a
 * path separator, and {@link LogFileName#parseCollected} reads every name one way: the track
 * is the last dot-separated part before the date or extension.
 *
 * <p>Thread safety: {@link #write} is called by one thread at a time (the collector's writer
 * thread); {@link #close} after that thread has stopped.
 */
final class CollectorWriter implements AutoCloseable {
    /** Incarnations remembered per node: a node restarts far less often than this between collector restarts. */
    private static final int INCARNATIONS_KEPT = 64;
    /** Longest node part of a file name, so that the longest archive name stays under 255 bytes. */
    static final int MAX_NODE_CHARS = 100;
    /** Characters of the hash that keeps apart long node names cut to the same prefix. */
    private static final int NODE_HASH_CHARS = 16;

    private final Path dir;
    private final long fileSize;
    private final LogManifest manifest; // null when turned off
    private final DiskBudget budget;
    private final long pid = ProcessHandle.current().pid();
    private final Context context = new ContextBase();
    private final Map<String, RollingFileAppender<Line>> files = new HashMap<>();
    private final Map<String, LinkedHashMap<Long, Long>> written = new HashMap<>();
    private long duplicates;
    private long records;

    /** One line to write, and the forwarded sequence number it carries (for the manifest). */
    record Line(byte[] bytes, long fseq) { }

    /**
     * @param manifestIntervalMillis how often the manifest is brought up to date, or 0 for no
     *                               manifest
     * @throws java.io.IOException if the directory cannot be made
     */
    CollectorWriter(Path dir, long fileSize, long sizeCap, long manifestIntervalMillis) throws java.io.IOException {
        this.dir = dir;
        this.fileSize = fileSize;
        Files.createDirectories(dir);
        this.manifest = manifestIntervalMillis > 0
                ? LogManifest.startCollected(dir, LogSetup.hostName(), pid, manifestIntervalMillis)
                : null;
        this.budget = new DiskBudget(dir, LogFileName.COLLECTED, Math.max(sizeCap, fileSize),
                manifest == null ? deleted -> { } : manifest::deleted);
        context.setName("unidist-collector");
    }

    /** The writer of the collector directory in {@code settings}. */
    static CollectorWriter of(ForwardSettings settings) throws java.io.IOException {
        return new CollectorWriter(settings.collectedDir, settings.collectedFileSize, settings.collectedSizeCap,
                settings.collectedManifestIntervalMillis);
    }

    /**
     * Writes the records of one batch from {@code node} that were not written before, in
     * order, and flushes them to the operating system.
     *
     * @return the highest sequence number of the batch, to acknowledge
     */
    long write(String node, List<LogWire.Record> batch) {
        String safeNode = nodeFileName(node);
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
            appender(safeNode, r.track()).doAppend(new Line(keyed(node, r), r.seq()));
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

    /**
     * The node's name as it appears in file names: {@link LoggingSettings#fileSafe} (letters,
     * digits, '.', '-', '_'), and a name longer than {@value #MAX_NODE_CHARS} characters cut,
     * with a hash of the whole name at the end so that two long names stay apart. Records
     * keep the node's name as it is (up to 255 characters).
     */
    static String nodeFileName(String node) {
        String safe = LoggingSettings.fileSafe(node);
        if (safe.length() <= MAX_NODE_CHARS) {
            return safe;
        }
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(node.getBytes(StandardCharsets.UTF_8));
            return safe.substring(0, MAX_NODE_CHARS - NODE_HASH_CHARS - 1) + "-"
                    + HexFormat.of().formatHex(hash).substring(0, NODE_HASH_CHARS);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private RollingFileAppender<Line> appender(String node, String track) {
        return files.computeIfAbsent(node + "." + track, base -> {
            LineEncoder encoder = new LineEncoder();
            encoder.setContext(context);
            encoder.start();
            RollingFileAppender<Line> appender = manifest == null ? new RollingFileAppender<>()
                    : ManifestedFileAppender.collected(manifest, node, track, pid, encoder::takeLastFseq);
            appender.setContext(context);
            appender.setName(LogFileName.COLLECTED + "." + base);
            appender.setFile(dir.resolve(LogFileName.COLLECTED + "." + base + ".jsonl").toString());
            BudgetedRollingPolicy<Line> policy = new BudgetedRollingPolicy<>(budget);
            policy.setContext(context);
            policy.setParent(appender);
            policy.setFileNamePattern(
                    dir.resolve(LogFileName.COLLECTED + "." + base + ".%d{yyyy-MM-dd}.%i.jsonl.gz").toString());
            policy.setMaxFileSize(new FileSize(fileSize));
            policy.start();
            appender.setRollingPolicy(policy);
            appender.setEncoder(encoder);
            appender.start();
            return appender;
        });
    }

    /** For tests: the manifest, or {@code null} when turned off. */
    LogManifest manifest() {
        return manifest;
    }

    /** Records written, and resent records skipped, since start. */
    long records() {
        return records;
    }

    long duplicates() {
        return duplicates;
    }

    /** Stops every file, then writes the manifest a last time (it lists the files as they were left). */
    @Override
    public void close() {
        files.values().forEach(RollingFileAppender::stop);
        files.clear();
        if (manifest != null) {
            manifest.stop();
        }
    }

    /**
     * The line's bytes as they are (the sender already encoded the record), remembering the
     * {@code fseq} of the line it encoded last for {@link ManifestedFileAppender}, as
     * {@link JsonLinesEncoder} does with its {@code seq}. A plain field: logback encodes and
     * writes a line on the calling thread, and one thread writes (see the class comment).
     */
    private static final class LineEncoder extends EncoderBase<Line> {
        private static final byte[] NONE = new byte[0];
        private long lastFseq;

        @Override
        public byte[] headerBytes() {
            return NONE;
        }

        @Override
        public byte[] encode(Line line) {
            lastFseq = line.fseq();
            return line.bytes();
        }

        @Override
        public byte[] footerBytes() {
            return NONE;
        }

        /** The {@code fseq} of the line encoded last, then 0 until another is encoded. */
        long takeLastFseq() {
            long fseq = lastFseq;
            lastFseq = 0;
            return fseq;
        }
    }
}
