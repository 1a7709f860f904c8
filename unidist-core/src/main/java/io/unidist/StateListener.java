package io.unidist;

import java.util.Optional;

/**
 * Hears the changes of a {@link SharedState} bucket.
 *
 * @param <V> the type of the values
 */
@FunctionalInterface
public interface StateListener<V> {
    /**
     * {@code key} changed: its new value, or empty when it was removed or expired. Called once
     * per change, in the order the changes took effect, one call at a time, never while the
     * bucket is locked. A listener that throws is logged and stays registered.
     */
    void changed(String key, Optional<V> value);
}
