package io.unidist.logging;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * A scraper that follows {@code <program>.manifest.json} exactly as {@code docs/LOG-MANIFEST.md}
 * tells scrapers to, reading the JSON-lines files of one stream. Its whole state is the map
 * fingerprint → offset read up to, which {@link #state()} hands out and a new scraper takes
 * back: that is how the tests stop and resume it.
 *
 * <p>It checks the producer's promises as it goes and throws {@link AssertionError} when one
 * is broken: a manifest that does not parse, a file shorter than its offset, an offset that
 * goes backwards. Lines that are not JSON (a record a crash cut) are kept apart in
 * {@link #badLines()} for the test to judge.
 */
public final class ManifestScraper {

    private final Path dir;
    private final Path manifest;
    private final String stream;
    private final Map<String, Long> consumed;
    private final List<String> losses = new ArrayList<>();
    private final List<String> badLines = new ArrayList<>();
    private int moved;

    /**
     * @param dir     the log directory
     * @param program the program whose manifest to follow
     * @param stream  the stream to read, e.g. {@code prog.jsonl}
     * @param state   what an earlier scraper had read ({@link #state()}), or an empty map
     */
    public ManifestScraper(Path dir, String program, String stream, Map<String, Long> state) {
        this.dir = dir;
        this.manifest = dir.resolve(program + ".manifest.json");
        this.stream = stream;
        this.consumed = new HashMap<>(state);
    }

    /** @return a copy of the state: fingerprint → offset read up to */
    public Map<String, Long> state() {
        return new HashMap<>(consumed);
    }

    /** @return files that were deleted before everything in them was read */
    public List<String> losses() {
        return List.copyOf(losses);
    }

    /** @return lines before an offset that are not JSON: records a crash cut (the format allows these) */
    public List<String> badLines() {
        return List.copyOf(badLines);
    }

    /** @return how often a file was not where the manifest said (a rotation in between) */
    public int moved() {
        return moved;
    }

    /**
     * Reads the manifest and every complete record of the stream not read before, oldest
     * first. Stops early, without losing its place, when a file has moved since the manifest
     * was written; the next call reads the newer manifest.
     *
     * @return the records read, parsed
     */
    public List<Map<String, Object>> poll() throws IOException {
        List<Map<String, Object>> records = new ArrayList<>();
        Map<String, Object> document = readManifest();
        if (document == null) {
            return records;
        }
        Set<String> listed = new HashSet<>();
        for (Object item : (List<?>) document.get("files")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> file = (Map<String, Object>) item;
            String fingerprint = (String) file.get("fingerprint");
            listed.add(fingerprint);
            if (!stream.equals(file.get("stream"))) {
                continue;
            }
            long offset = (Long) file.get("offset");
            long from = consumed.getOrDefault(fingerprint, 0L);
            if (from > offset) {
                throw new AssertionError("offset of " + file + " went back below " + from);
            }
            if ("deleted".equals(file.get("state"))) {
                if (from < offset) {
                    losses.add(file.get("path") + " [" + from + ", " + offset + ")");
                    consumed.put(fingerprint, offset); // report a loss once
                }
                continue;
            }
            if (from == offset) {
                continue;
            }
            byte[] content = read(file, fingerprint, offset);
            if (content == null) {
                moved++;
                break; // keep the stream's order: read the rest after the next manifest
            }
            for (String line : new String(content, (int) from, (int) (offset - from), StandardCharsets.UTF_8)
                    .split("\n")) {
                try {
                    records.add(MiniJson.parseObject(line));
                } catch (IllegalArgumentException e) {
                    badLines.add(line);
                }
            }
            consumed.put(fingerprint, offset);
        }
        consumed.keySet().retainAll(listed); // forget only what the manifest no longer lists
        return records;
    }

    private Map<String, Object> readManifest() throws IOException {
        String text;
        try {
            text = Files.readString(manifest, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        }
        Map<String, Object> document = MiniJson.parseObject(text);
        if (!"unidist-log-manifest".equals(document.get("manifest")) || !Long.valueOf(1L).equals(document.get("version"))) {
            throw new AssertionError("not a version 1 manifest: " + text);
        }
        return document;
    }

    /** The first {@code offset} bytes of the (uncompressed) file, or null if it is not the file meant. */
    private byte[] read(Map<String, Object> file, String fingerprint, long offset) throws IOException {
        Path path = dir.resolve((String) file.get("path"));
        byte[] content;
        try (InputStream raw = Files.newInputStream(path);
             InputStream in = "gzip".equals(file.get("compression")) ? new GZIPInputStream(raw) : raw) {
            content = in.readNBytes((int) offset);
        } catch (NoSuchFileException e) {
            return null;
        }
        if (!fingerprint.equals(fingerprintOf(content))) {
            return null; // renamed after the manifest was written; another file has its old name
        }
        if (content.length < offset) {
            throw new AssertionError(file + " has only " + content.length + " bytes");
        }
        return content;
    }

    /** SHA-256 of the first line (at most 4096 bytes), as the format defines it. */
    static String fingerprintOf(byte[] content) {
        int end = Math.min(content.length, 4096);
        for (int i = 0; i < end; i++) {
            if (content[i] == '\n') {
                end = i + 1;
                break;
            }
        }
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(content, 0, end);
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
