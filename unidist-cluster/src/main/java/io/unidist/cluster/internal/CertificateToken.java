package io.unidist.cluster.internal;

import java.io.ByteArrayInputStream;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.jgroups.Address;
import org.jgroups.Message;
import org.jgroups.annotations.Property;
import org.jgroups.auth.AuthToken;
import org.jgroups.conf.AttributeType;
import org.jgroups.util.Bits;
import org.jgroups.util.ByteArrayDataOutputStream;
import org.jgroups.util.Util;

/**
 * A JGroups {@link AuthToken} (for the {@code AUTH} protocol) that admits a join or merge only from a node that proves
 * it holds the private key of a certificate the cluster's truststore trusts: the same keystore and truststore as the
 * TLS of the TCP files and the key exchange of the UDP file, so one {@code unidist-keys.sh revoke} keeps a node out of
 * all of them.
 *
 * <p><b>What is sent.</b> The sender's certificate, the time in milliseconds, and a signature made with its private
 * key over a fixed label, the cluster name, the sender's own address and that time. <b>What is checked</b> (on the
 * coordinator for a join or merge request, on the joiner for the coordinator's answer): the certificate passes the
 * truststore's PKIX check as a TLS client certificate and is within its validity dates; the signature verifies with
 * its key over the message's <em>actual</em> sender address and this cluster's name; the time is within
 * {@code max_age} of the local clock. So a token taken from the network cannot be used from another address, in
 * another cluster, or after {@code max_age}; replayed from the same address within it, it only repeats that node's
 * own request.
 *
 * <p><b>Hostile input.</b> A received token is read before any protocol sees the message: lengths are capped
 * (certificate 16 KiB, signature 1 KiB) and anything malformed fails the read, so the message is dropped.
 *
 * <p><b>Configuration</b> (as {@code auth_token.*} attributes of AUTH): {@code keystore_path},
 * {@code keystore_password}, {@code keystore_type} (default pkcs12), {@code truststore_path},
 * {@code truststore_password}, {@code truststore_type} (default pkcs12), {@code max_age} (default 120 s: allow for
 * the clock difference between hosts). The stores are read when the channel connects; a missing store, a wrong
 * password or a keystore without exactly one private key fails the connect with an error that names the attribute
 * and the file, never a password.
 *
 * <p><b>Thread safety.</b> The configured instance signs and verifies from any thread; received instances are
 * immutable once read.
 */
public final class CertificateToken extends AuthToken {
    private static final byte VERSION = 1;
    private static final int MAX_CERTIFICATE_BYTES = 16 * 1024;
    private static final int MAX_SIGNATURE_BYTES = 1024;
    private static final byte[] LABEL = "unidist-auth-1".getBytes(StandardCharsets.US_ASCII);

    @Property(description = "This node's keystore (file path or classpath resource) with its private key and certificate")
    private String keystore_path;

    @Property(description = "The keystore's password", exposeAsManagedAttribute = false)
    private String keystore_password;

    @Property(description = "The keystore's type")
    private String keystore_type = "pkcs12";

    @Property(description = "The cluster's truststore (file path or classpath resource): the certificates let in")
    private String truststore_path;

    @Property(description = "The truststore's password", exposeAsManagedAttribute = false)
    private String truststore_password;

    @Property(description = "The truststore's type")
    private String truststore_type = "pkcs12";

    @Property(description = "How far a token's time may be from the local clock", type = AttributeType.TIME)
    private long max_age = 120_000;

    // Set by start() on the configured instance.
    private PrivateKey privateKey;
    private X509Certificate certificate;
    private X509TrustManager trustManager;
    private String signatureAlgorithm;

    // The wire form this node last sent, and for which address and cluster; guarded by this.
    private byte[] sentForm;
    private long sentAt;
    private Address sentFrom;
    private String sentCluster;

    // Set by readFrom() on a received instance.
    private byte[] receivedCertificate;
    private long receivedTime;
    private byte[] receivedSignature;

    /** For JGroups, which creates the configured instance from {@code auth_class} and received ones when reading. */
    public CertificateToken() {
    }

    @Override
    public String getName() {
        return getClass().getName();
    }

    /**
     * Reads the keystore and truststore.
     *
     * @throws IllegalStateException naming the attribute and the file if a store is missing, does not open, or the
     *                               keystore does not hold exactly one private key with its certificate
     */
    @Override
    public void start() throws Exception {
        KeyStore keys = open("keystore_path", keystore_path, "keystore_password", keystore_password, keystore_type);
        List<String> keyAliases = new ArrayList<>();
        for (String alias : Collections.list(keys.aliases())) {
            if (keys.isKeyEntry(alias) && keys.getCertificate(alias) instanceof X509Certificate) {
                keyAliases.add(alias);
            }
        }
        if (keyAliases.size() != 1) {
            throw new IllegalStateException(String.format(
                    "AUTH auth_token.keystore_path %s holds %d private keys with a certificate (%s); it must hold"
                            + " exactly one: this node's", keystore_path, keyAliases.size(), keyAliases));
        }
        String alias = keyAliases.get(0);
        privateKey = (PrivateKey) keys.getKey(alias, keystore_password.toCharArray());
        certificate = (X509Certificate) keys.getCertificate(alias);
        signatureAlgorithm = signatureAlgorithm(certificate.getPublicKey());
        KeyStore trusted = open("truststore_path", truststore_path, "truststore_password", truststore_password,
                truststore_type);
        trustManager = trustManager(trusted);
    }

    /** Checks a token received with a join or merge request or answer; see the class comment for what is checked. */
    @Override
    public boolean authenticate(AuthToken token, Message msg) {
        if (!(token instanceof CertificateToken received) || received.receivedCertificate == null) {
            log.warn("%s: refused %s from %s: it carries no certificate token", self(), kind(msg), msg.getSrc());
            return false;
        }
        try {
            X509Certificate peer = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(received.receivedCertificate));
            long skew = Math.abs(System.currentTimeMillis() - received.receivedTime);
            if (skew > max_age) {
                log.warn("%s: refused %s from %s (%s): its token is %d ms from this host's clock, more than max_age %d ms",
                        self(), kind(msg), msg.getSrc(), subject(peer), skew, max_age);
                return false;
            }
            peer.checkValidity();
            trustManager.checkClientTrusted(new X509Certificate[] {peer}, peer.getPublicKey().getAlgorithm());
            Signature verifier = Signature.getInstance(signatureAlgorithm(peer.getPublicKey()));
            verifier.initVerify(peer.getPublicKey());
            verifier.update(signedBytes(msg.getSrc(), clusterName(), received.receivedTime));
            if (!verifier.verify(received.receivedSignature)) {
                log.warn("%s: refused %s from %s (%s): the signature does not match the sender's address", self(),
                        kind(msg), msg.getSrc(), subject(peer));
                return false;
            }
            return true;
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            log.warn("%s: refused %s from %s: its certificate is not trusted by %s or its token is malformed: %s",
                    self(), kind(msg), msg.getSrc(), truststore_path, e.getMessage());
            return false;
        }
    }

    @Override
    public int size() {
        return signedForm().length;
    }

    @Override
    public void writeTo(DataOutput out) throws IOException {
        out.write(signedForm());
    }

    @Override
    public void readFrom(DataInput in) throws IOException {
        byte version = in.readByte();
        if (version != VERSION) {
            throw new IOException("certificate token of unknown version " + version + " (this node reads " + VERSION + ")");
        }
        receivedCertificate = readBytes(in, MAX_CERTIFICATE_BYTES, "certificate");
        receivedTime = in.readLong();
        receivedSignature = readBytes(in, MAX_SIGNATURE_BYTES, "signature");
    }

    @Override
    public String toString() {
        return receivedCertificate != null ? "CertificateToken(received, " + receivedCertificate.length + " bytes)"
                : "CertificateToken(" + (certificate != null ? subject(certificate) : "not started") + ")";
    }

    /** This node's token: made again when the address or cluster changes, or when half of max_age has passed. */
    private synchronized byte[] signedForm() {
        if (privateKey == null) {
            throw new IllegalStateException("certificate token used before AUTH started it");
        }
        Address self = auth != null ? auth.getAddress() : null;
        String cluster = clusterName();
        long now = System.currentTimeMillis();
        if (sentForm == null || now - sentAt > max_age / 2 || !Objects.equals(self, sentFrom)
                || !Objects.equals(cluster, sentCluster)) {
            try {
                Signature signer = Signature.getInstance(signatureAlgorithm);
                signer.initSign(privateKey);
                signer.update(signedBytes(self, cluster, now));
                byte[] signature = signer.sign();
                byte[] der = certificate.getEncoded();
                ByteArrayDataOutputStream out = new ByteArrayDataOutputStream(der.length + signature.length + 16);
                out.writeByte(VERSION);
                out.writeShort(der.length);
                out.write(der);
                out.writeLong(now);
                out.writeShort(signature.length);
                out.write(signature);
                sentForm = Arrays.copyOf(out.buffer(), out.position());
                sentAt = now;
                sentFrom = self;
                sentCluster = cluster;
            } catch (GeneralSecurityException | IOException e) {
                throw new IllegalStateException("cannot sign the certificate token of " + self + ": " + e.getMessage(), e);
            }
        }
        return sentForm;
    }

    private static byte[] signedBytes(Address sender, String cluster, long time) throws IOException {
        ByteArrayDataOutputStream out = new ByteArrayDataOutputStream(128);
        out.write(LABEL);
        Bits.writeString(cluster, out);
        Util.writeAddress(sender, out);
        out.writeLong(time);
        return Arrays.copyOf(out.buffer(), out.position());
    }

    /** The transport's cluster name: set when the channel starts to connect (the channel's own only once joined). */
    private String clusterName() {
        return auth != null && auth.getTransport() != null ? auth.getTransport().getClusterName() : null;
    }

    private Address self() {
        return auth != null ? auth.getAddress() : null;
    }

    private static String kind(Message msg) {
        return msg.getDest() == null ? "a multicast join or merge message" : "a join or merge message";
    }

    private static String subject(X509Certificate certificate) {
        return certificate.getSubjectX500Principal().getName();
    }

    private static byte[] readBytes(DataInput in, int max, String what) throws IOException {
        int length = in.readUnsignedShort();
        if (length == 0 || length > max) {
            throw new IOException("certificate token with a " + what + " of " + length + " bytes (1 to " + max + " allowed)");
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return bytes;
    }

    private static String signatureAlgorithm(PublicKey key) {
        return switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
            default -> throw new IllegalStateException("certificate key algorithm " + key.getAlgorithm()
                    + " is not supported by the certificate token (EC, RSA or EdDSA)");
        };
    }

    private static X509TrustManager trustManager(KeyStore trusted) throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trusted);
        for (TrustManager manager : factory.getTrustManagers()) {
            if (manager instanceof X509TrustManager x509) {
                return x509;
            }
        }
        throw new IllegalStateException("the JDK offers no X509TrustManager");
    }

    /** Opens a store the way JGroups does (a file, else a classpath resource), naming the attributes on failure. */
    private static KeyStore open(String pathAttribute, String path, String passwordAttribute, String password,
                                 String type) {
        if (path == null || password == null) {
            throw new IllegalStateException(String.format("AUTH auth_token.%s and auth_token.%s are required",
                    pathAttribute, passwordAttribute));
        }
        try (InputStream in = Files.isRegularFile(Path.of(path)) ? Files.newInputStream(Path.of(path))
                : CertificateToken.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException(String.format(
                        "AUTH auth_token.%s %s is neither a file nor a classpath resource", pathAttribute, path));
            }
            KeyStore store = KeyStore.getInstance(type);
            store.load(in, password.toCharArray());
            return store;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException(String.format("AUTH auth_token.%s %s does not open with auth_token.%s: %s",
                    pathAttribute, path, passwordAttribute, e.getMessage()), e);
        }
    }
}
