package io.unidist.cluster.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Collections;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The keystores and truststores a JGroups file names, checked when the file is loaded, and the secrets of a file kept
 * out of error messages.
 *
 * <p>Why: JGroups' TLS (and SSL_KEY_EXCHANGE) open a store only when the channel connects, and a store path that names
 * no file or resource silently becomes an <em>empty</em> store: a typo in {@code unidist.keystore} gave a node with
 * no certificate that could reach no one and ran alone as a cluster of one. Here every attribute whose name ends in
 * {@code keystore_path}, {@code keystore_name}, {@code truststore_path} or {@code truststore_name} must name a file
 * (or a classpath resource) that opens with its password attribute and holds something: a keystore at least one key,
 * a truststore at least one trusted certificate. Errors name the file, the attribute, the variable it came from and the
 * password attribute, never a password.
 */
final class StoreFiles {
    private static final String CLASSPATH_PREFIX = "classpath:";

    private StoreFiles() {
    }

    /**
     * Checks every store named by one protocol of the file.
     *
     * @param where      the file and line, for messages
     * @param protocol   the protocol's name, for messages
     * @param properties the protocol's attributes, variables substituted
     * @param raw        the same attributes as written in the file, to name the variable a value came from
     * @throws IllegalArgumentException if a store is missing, does not open or is empty
     */
    static void check(String where, String protocol, Map<String, String> properties, Map<String, String> raw) {
        for (Map.Entry<String, String> attribute : properties.entrySet()) {
            String name = attribute.getKey();
            boolean keystore = name.endsWith("keystore_path") || name.endsWith("keystore_name");
            boolean truststore = name.endsWith("truststore_path") || name.endsWith("truststore_name");
            if ((keystore || truststore) && attribute.getValue() != null && !attribute.getValue().isBlank()) {
                String prefix = name.substring(0, name.lastIndexOf(keystore ? "keystore_" : "truststore_"));
                String kind = keystore ? "keystore" : "truststore";
                String passwordAttribute = !properties.containsKey(prefix + kind + "_password")
                        && properties.containsKey(prefix + "store_password")
                        ? prefix + "store_password" : prefix + kind + "_password"; // SYM_ENCRYPT's, else the usual
                String type = properties.getOrDefault(prefix + kind + "_type", "pkcs12");
                Store store = new Store(where, protocol, name, attribute.getValue(), raw.get(name), passwordAttribute,
                        raw.get(passwordAttribute), raw.get(prefix + kind + "_type"));
                store.check(properties.get(passwordAttribute), type, keystore);
            }
        }
    }

    /**
     * The values of one protocol's attributes that are secrets: those whose name says so, and those that came from a
     * variable whose name says so (a misspelled attribute still holds {@code ${unidist.keystore_password}}).
     *
     * @param properties the attributes, variables substituted
     * @param raw        the same attributes as written in the file
     */
    static Set<String> secretValues(Map<String, String> properties, Map<String, String> raw) {
        Set<String> secrets = new HashSet<>();
        for (Map.Entry<String, String> attribute : properties.entrySet()) {
            String value = attribute.getValue();
            if (value != null && !value.isEmpty()
                    && (isSecret(attribute.getKey()) || isSecret(String.valueOf(raw.get(attribute.getKey()))))) {
                secrets.add(value);
            }
        }
        return secrets;
    }

    private static boolean isSecret(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.contains("pass") || lower.contains("secret") || lower.endsWith("auth_value");
    }

    /** {@code message} with every one of {@code secrets} replaced by {@code ****}; null stays null. */
    static String redact(String message, Set<String> secrets) {
        if (message == null) {
            return null;
        }
        String redacted = message;
        for (String secret : secrets) {
            redacted = redacted.replace(secret, "****");
        }
        return redacted;
    }

    /** One store attribute, with what is needed to name it in a message. */
    private record Store(String where, String protocol, String attribute, String path, String rawPath,
                         String passwordAttribute, String rawPassword, String rawType) {
        void check(String password, String type, boolean keystore) {
            if (password == null) {
                throw new IllegalArgumentException(String.format("%s: %s.%s names %s but %s.%s (its password%s) is not set",
                        where, protocol, attribute, describe(), protocol, passwordAttribute, fromVariable(rawPassword)));
            }
            KeyStore store;
            try (InputStream in = open()) {
                if (in == null) {
                    throw new IllegalArgumentException(String.format(
                            "%s: %s.%s names %s, which is neither a file nor a classpath resource",
                            where, protocol, attribute, describe()));
                }
                store = KeyStore.getInstance(type);
                store.load(in, password.toCharArray());
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalArgumentException(String.format(
                        "%s: %s.%s names %s, which does not open as a '%s' store%s with %s.%s%s: %s", where, protocol,
                        attribute, describe(), type, fromVariable(rawType).replace(", from", " (type from")
                                + (fromVariable(rawType).isEmpty() ? "" : ")"), protocol, passwordAttribute,
                        rawPassword != null && rawPassword.contains("${") ? " (" + rawPassword + ")" : "",
                        e.getMessage()), e);
            }
            int useful = count(store, keystore);
            if (useful == 0) {
                throw new IllegalArgumentException(String.format("%s: %s.%s names %s, which holds no %s", where,
                        protocol, attribute, describe(), keystore ? "key" : "trusted certificate"));
            }
        }

        private String describe() {
            return rawPath != null && rawPath.contains("${") ? "'" + path + "' (from " + rawPath + ")" : "'" + path + "'";
        }

        /** ", from ${unidist.x}" when the attribute came from a variable, so the message names what to fix. */
        private static String fromVariable(String raw) {
            return raw != null && raw.contains("${") ? ", from " + raw : "";
        }

        private InputStream open() throws IOException {
            if (path.startsWith(CLASSPATH_PREFIX)) {
                return StoreFiles.class.getClassLoader().getResourceAsStream(path.substring(CLASSPATH_PREFIX.length()));
            }
            Path file = Path.of(path);
            if (Files.isRegularFile(file)) {
                return Files.newInputStream(file);
            }
            return StoreFiles.class.getClassLoader().getResourceAsStream(path);
        }

        private static int count(KeyStore store, boolean keys) {
            int n = 0;
            try {
                for (String alias : Collections.list(store.aliases())) {
                    if (keys ? store.isKeyEntry(alias) : store.isCertificateEntry(alias)) {
                        n++;
                    }
                }
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("a loaded store cannot list its entries: " + e.getMessage(), e);
            }
            return n;
        }
    }
}
