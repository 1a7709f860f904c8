package io.unidist;

/**
 * The root of unidist's unchecked exceptions. Bad arguments are reported with the JDK's own
 * exceptions ({@link IllegalArgumentException}, {@link NullPointerException},
 * {@link IllegalStateException}); this type and its subclasses report that an operation could
 * not be carried out by the node: storage that failed, a cluster that did not answer.
 *
 * <p>When a method throws it, the operation did not take effect unless the subclass says that
 * the outcome is unknown.
 */
public class UnidistException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An exception with a message that names what failed. */
    public UnidistException(String message) {
        super(message);
    }

    /** An exception with a message that names what failed, and its cause. */
    public UnidistException(String message, Throwable cause) {
        super(message, cause);
    }
}
