package io.unidist.cluster.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The sockets this JVM listens on, read from Linux's {@code /proc}: for tests that check a node opens exactly the ports
 * the README lists, and on which address. Elsewhere {@link #available()} is false and such tests are skipped.
 */
final class Listeners {
    private static final Path FDS = Path.of("/proc/self/fd");
    private static final String TCP_LISTEN = "0A";

    private Listeners() {
    }

    /** One listening socket: "127.0.0.1:7800", "0.0.0.0:7850", or an IPv6 form for tcp6 sockets. */
    record Listener(String address, int port) {
        @Override
        public String toString() {
            return address + ":" + port;
        }
    }

    static boolean available() {
        return Files.isDirectory(FDS) && Files.isReadable(Path.of("/proc/self/net/tcp"));
    }

    /** Every TCP socket of this process in LISTEN state, IPv4 and IPv6. */
    static Set<Listener> tcp() {
        Set<String> ownInodes = socketInodes();
        Set<Listener> listeners = new TreeSet<>((a, b) -> a.port() != b.port() ? Integer.compare(a.port(), b.port())
                : a.address().compareTo(b.address()));
        for (String table : List.of("/proc/self/net/tcp", "/proc/self/net/tcp6")) {
            Path file = Path.of(table);
            if (!Files.isReadable(file)) {
                continue;
            }
            try {
                for (String line : Files.readAllLines(file).subList(1, Files.readAllLines(file).size())) {
                    String[] f = line.trim().split("\\s+");
                    // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
                    if (f.length > 9 && TCP_LISTEN.equals(f[3]) && ownInodes.contains(f[9])) {
                        String[] local = f[1].split(":");
                        listeners.add(new Listener(address(local[0]), Integer.parseInt(local[1], 16)));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
        }
        return listeners;
    }

    /** The inodes of this process's sockets, from the {@code socket:[inode]} links of its file descriptors. */
    private static Set<String> socketInodes() {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(FDS)) {
            fds.forEach(fd -> {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring("socket:[".length(), target.length() - 1));
                    }
                } catch (IOException closedMeanwhile) {
                    // a descriptor closed while we listed them: not a listener we look for
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + FDS, e);
        }
        return inodes;
    }

    /** /proc's little-endian hex IPv4 ("0100007F" is 127.0.0.1); IPv6 is left in /proc's form. */
    private static String address(String hex) {
        if (hex.length() != 8) {
            return hex.chars().allMatch(c -> c == '0') ? "::" : hex;
        }
        return Integer.parseInt(hex.substring(6, 8), 16) + "." + Integer.parseInt(hex.substring(4, 6), 16) + "."
                + Integer.parseInt(hex.substring(2, 4), 16) + "." + Integer.parseInt(hex.substring(0, 2), 16);
    }
}
