package io.unidist.logging.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Replaces a file's whole content so that a reader, or the file after a crash, holds either
 * the old content or the new one, never a mix or a torn write.
 *
 * <p>Steps: write {@code <target>.tmp}, {@code fsync} it, rename it over the target
 * ({@code rename(2)} is atomic on POSIX file systems; {@link StandardCopyOption#ATOMIC_MOVE}),
 * then {@code fsync} the directory so that the rename itself survives a power cut. A crash
 * before the rename leaves the old target and a stray {@code .tmp}; readers must ignore it and
 * {@link #removeLeftover()} deletes it at the next start. A crash after the rename leaves the
 * new target.
 *
 * <p>Thread safety: one writer per target, used from one thread at a time.
 */
final class AtomicFileWriter {

    /** Places where a test can make the writer stop as if the process died there. */
    enum Stage { TMP_HALF_WRITTEN, TMP_SYNCED, RENAMED }

    /** Called at each {@link Stage}; a test hook throws there to simulate a crash. */
    interface StageHook {
        void reached(Stage stage);
    }

    private final Path target;
    private final Path tmp;
    private volatile StageHook hook = stage -> { };

    AtomicFileWriter(Path target) {
        this.target = target;
        this.tmp = target.resolveSibling(target.getFileName() + ".tmp");
    }

    /** @return the temporary file's path, the one readers must ignore */
    Path tmp() {
        return tmp;
    }

    /** For tests: run {@code hook} at each stage of every later write. */
    void hook(StageHook hook) {
        this.hook = hook;
    }

    /**
     * Replaces the target's content with {@code content} in UTF-8.
     *
     * @throws IOException if any step fails; the target then still holds its old content and
     *         the temporary file is removed if possible
     */
    void write(String content) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                ByteBuffer half = bytes.duplicate().limit(bytes.limit() / 2);
                while (half.hasRemaining()) {
                    channel.write(half);
                }
                bytes.position(half.position());
                hook.reached(Stage.TMP_HALF_WRITTEN);
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                channel.force(true);
            }
            hook.reached(Stage.TMP_SYNCED);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            removeLeftover();
            throw e;
        }
        hook.reached(Stage.RENAMED);
        syncDirectory();
    }

    /** Deletes a temporary file left by a crash or a failed write; quiet if it cannot. */
    void removeLeftover() {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            // the next successful write replaces it anyway
        }
    }

    private void syncDirectory() {
        try (FileChannel dir = FileChannel.open(target.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // some platforms (Windows) cannot open a directory; the rename is still atomic there
        }
    }
}
