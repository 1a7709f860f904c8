package io.unidist.logging.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * The TLS socket factory for RFC 5425, from the {@code unidist.logging.syslog.tls.*} keys.
 *
 * <p>Trust: the configured trust store, or the JDK's default (its {@code cacerts}, or
 * {@code -Djavax.net.ssl.trustStore}) when none is set. A client certificate is offered only
 * when a key store is set. Failure: a trust or key store that cannot be read (missing file,
 * wrong password or type) gives one warning naming the key and the value; the JDK's default
 * trust store, or no client certificate, is used instead, so a server the defaults do not
 * trust fails its handshake (reported by the sender) rather than being trusted by mistake.
 */
final class SyslogTls {

    private SyslogTls() {
    }

    static SSLSocketFactory socketFactory(SyslogSettings s) {
        try {
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(load(s.trustStore, s.trustStorePassword, s.trustStoreType, "trustStore",
                    "using the JDK's default trust store"));
            KeyManagerFactory keys = null;
            KeyStore keyStore = load(s.keyStore, s.keyStorePassword, s.keyStoreType, "keyStore",
                    "no client certificate is offered");
            if (keyStore != null) {
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keys.init(keyStore, password(s.keyStorePassword));
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys == null ? null : keys.getKeyManagers(), trust.getTrustManagers(), null);
            return context.getSocketFactory();
        } catch (GeneralSecurityException e) {
            // e.g. a key entry whose password differs from the store's: fall back to the JDK's defaults
            Warnings.warn("syslog TLS set-up failed (" + e + "); using the JDK's default TLS settings");
            return (SSLSocketFactory) SSLSocketFactory.getDefault();
        }
    }

    /** The store at {@code path}, or {@code null} when none is set or it cannot be read (warned). */
    private static KeyStore load(Path path, String password, String type, String name, String fallback) {
        if (path == null) {
            return null;
        }
        String key = SyslogSettings.SYSLOG + "tls." + name;
        try (InputStream in = Files.newInputStream(path)) {
            KeyStore store = KeyStore.getInstance(type);
            store.load(in, password(password));
            return store;
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            Warnings.warn(key + "=" + path + " cannot be read as a " + type + " store (" + e + "); " + fallback);
            return null;
        }
    }

    private static char[] password(String password) {
        return password == null ? null : password.toCharArray();
    }
}
