package io.unidist.internal.store;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The store's files in a directory, by number. Files with other names are not the store's and
 * are left alone.
 */
record StoreDirectory(NavigableMap<Long, Path> journals, NavigableMap<Long, Path> snapshots, List<Path> temporaries) {

    static StoreDirectory list(Path dir) throws IOException {
        NavigableMap<Long, Path> journals = new TreeMap<>();
        NavigableMap<Long, Path> snapshots = new TreeMap<>();
        List<Path> temporaries = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                long journal = StoreFormat.journalNumber(name);
                long snapshot = StoreFormat.snapshotNumber(name);
                if (journal > 0) {
                    journals.put(journal, file);
                } else if (snapshot > 0) {
                    snapshots.put(snapshot, file);
                } else if (isSnapshotTemporary(name)) {
                    temporaries.add(file);
                }
            }
        }
        return new StoreDirectory(Collections.unmodifiableNavigableMap(journals),
                Collections.unmodifiableNavigableMap(snapshots), List.copyOf(temporaries));
    }

    private static boolean isSnapshotTemporary(String name) {
        return name.endsWith(StoreFormat.TEMP_SUFFIX)
                && StoreFormat.snapshotNumber(name.substring(0, name.length() - StoreFormat.TEMP_SUFFIX.length())) > 0;
    }

    /** The highest journal or snapshot number, or 0 in an empty directory. */
    long highestNumber() {
        long journal = journals.isEmpty() ? 0 : journals.lastKey();
        long snapshot = snapshots.isEmpty() ? 0 : snapshots.lastKey();
        return Math.max(journal, snapshot);
    }
}
