package io.unidist.cluster.internal;

import io.unidist.UnidistException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jgroups.JChannel;
import org.jgroups.conf.ProtocolConfiguration;
import org.jgroups.conf.ProtocolStackConfigurator;
import org.jgroups.conf.XmlConfigurator;
import org.jgroups.conf.XmlNode;
import org.jgroups.protocols.FD_SOCK2;
import org.jgroups.protocols.SERIALIZE;
import org.jgroups.protocols.TP;
import org.jgroups.protocols.raft.RAFT;
import org.jgroups.stack.Protocol;
import org.jgroups.util.Util;

/**
 * One JGroups XML configuration, read and checked once, from which a node makes its two channels.
 *
 * <p><b>Two channels from one file.</b> Every node joins the <em>main channel</em>: the file's stack without the
 * protocols that serve Raft only (RAFT, ELECTION, ELECTION2, REDIRECT, NO_DUPES, CLIENT). The voters also join a
 * <em>raft channel</em>: the whole stack, with RAFT configured in code ({@link #newRaftChannel}) and its network
 * coordinates moved by a port offset, so that the two channels of a host never share a port: the transport's
 * {@code bind_port}, the explicit ports of TCPPING's {@code initial_hosts}, UDP's {@code mcast_port} and
 * SSL_KEY_EXCHANGE's {@code port} each grow by the offset. SHARED_LOOPBACK and other discovery protocols need no
 * move: the caller connects the raft channel under its own cluster name.
 *
 * <p><b>Variables.</b> {@code ${name}} and {@code ${name:default}} in attribute values take their value from the
 * {@code vars} given to {@link #load}, else from a system property, else from an environment variable, else the
 * default: JGroups' own rule ({@link Util#substituteVariable(String, Properties)}), applied here before JGroups
 * sees the file so that a variable with neither a value nor a default is an error naming it, where JGroups would
 * silently drop the attribute (TCPPING would then look for nobody).
 *
 * <p><b>Checks</b> (all at {@link #load}, all {@link IllegalArgumentException} naming the file): the XML is
 * well-formed (else the line and column); every protocol class exists; the stack has a transport, a discovery
 * protocol, MERGE3, FD_SOCK2 or FD_SOCK, FD_ALL3, VERIFY_SUSPECT, pbcast.NAKACK2, UNICAST3, pbcast.GMS,
 * raft.ELECTION2 or raft.ELECTION, and raft.RAFT; it has no raft.CLIENT and no {@code diag.enabled="true"}; every
 * keystore and truststore it names exists and opens with its password ({@link StoreFiles}). A transport without
 * {@code diag.enabled} gets {@code false} (JGroups 5.4 defaults it to true). SERIALIZE and FD_SOCK2 are built as
 * unidist's hardened subclasses, {@link CheckedSerialize} and {@link BoundedFdSock2}. An error never shows the value
 * of a password attribute.
 *
 * <p><b>IPv4.</b> Loading this class sets {@code java.net.preferIPv4Stack=true} unless it is already set: on a
 * dual-stack host JGroups otherwise may pick IPv6 for symbolic addresses such as {@code SITE_LOCAL} while peers
 * use IPv4, and nodes do not find each other. JGroups reads the property once, when its {@code Util} class loads;
 * the JDK reads it when networking first starts. If either happened earlier in the JVM the property has no effect,
 * so set {@code -Djava.net.preferIPv4Stack=true} on the command line to be sure.
 *
 * <p><b>Thread safety.</b> Immutable after {@link #load}; channels may be made from several threads. Each call
 * returns a new, unconnected channel that the caller owns and closes.
 */
public final class Stacks {
    static {
        // Before any JGroups class loads: org.jgroups.util.Util decides IPv4 versus IPv6 in its static initialiser.
        if (System.getProperty("java.net.preferIPv4Stack") == null) {
            System.setProperty("java.net.preferIPv4Stack", "true");
        }
        ObjectPayloads.install(); // before any channel can receive
    }

    /** The default distance between a main channel port and the matching raft channel port. */
    public static final int DEFAULT_RAFT_PORT_OFFSET = 100;

    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([^}]*)}");

    /**
     * JGroups protocols built as a unidist subclass wherever a file names them exactly: SERIALIZE as
     * {@link CheckedSerialize} (refuses a message smuggled past encryption inside a join envelope), FD_SOCK2 as
     * {@link BoundedFdSock2} (caps the frames of its plain TCP port and listens on the transport's address only).
     */
    private static final Map<Class<? extends Protocol>, String> HARDENED = Map.of(
            SERIALIZE.class, CheckedSerialize.class.getName(),
            FD_SOCK2.class, BoundedFdSock2.class.getName());

    /**
     * One protocol of the file: its configuration (variables substituted), class, line in the file,
     * and the attributes whose values came from variables.
     */
    record Layer(ProtocolConfiguration config, Class<? extends Protocol> type, int line,
                 List<StackVariables.Use> variables) {
        String name() {
            return config.getProtocolName();
        }

        /**
         * A copy for one channel: JGroups may change a configuration while it builds a stack from it. Two JGroups
         * protocols are built as unidist's hardened subclasses (see HARDENED).
         */
        ProtocolConfiguration copy() {
            return copy(HARDENED.getOrDefault(type, config.getProtocolName()));
        }

        /** A copy that creates the protocol class {@code protocolName}. */
        ProtocolConfiguration copy(String protocolName) {
            Map<String, String> properties = new HashMap<>(config.getProperties());
            if (TP.class.isAssignableFrom(type)) {
                properties.putIfAbsent("diag.enabled", "false"); // JGroups 5.4's default is true
            }
            ProtocolConfiguration copy =
                    new ProtocolConfiguration(protocolName, properties, Stacks.class.getClassLoader());
            List<XmlNode> subtrees = config.getSubtrees();
            if (subtrees != null) {
                subtrees.forEach(copy::addSubtree);
            }
            return copy;
        }
    }

    private final String source;
    private final List<Layer> layers;
    private final Set<String> secrets; // values never shown in a message: passwords

    private Stacks(String source, List<Layer> layers, Set<String> secrets) {
        this.source = source;
        this.layers = List.copyOf(layers);
        this.secrets = Set.copyOf(secrets);
    }

    /**
     * Loads and checks a JGroups configuration.
     *
     * @param resourceOrPath a classpath resource name ({@code unidist-local.xml}), else a file path
     * @param vars           values for {@code ${name}} variables; they take precedence over system properties
     *                       ({@code null} is the same as empty)
     * @return the checked configuration
     * @throws IllegalArgumentException if the file is not found, is not well-formed XML (the message names the
     *                                  line), uses an unset variable without default or a variable whose value
     *                                  its attribute cannot take (the message names the variable and the value,
     *                                  see {@link StackVariables}), names an unknown protocol, lacks a required
     *                                  protocol or has a forbidden one; the message names the file and, where
     *                                  one is to blame, the protocol and the reason
     */
    public static Stacks load(String resourceOrPath, Map<String, String> vars) {
        Objects.requireNonNull(resourceOrPath, "resourceOrPath");
        byte[] xml = read(resourceOrPath);
        List<StackXml.Element> elements = StackXml.protocols(xml, resourceOrPath);
        List<ProtocolConfiguration> configs = parseAsJGroupsDoes(xml, resourceOrPath);
        Properties values = new Properties();
        if (vars != null) {
            vars.forEach((k, v) -> values.setProperty(Objects.requireNonNull(k, "variable name"),
                    Objects.requireNonNull(v, () -> "value of variable " + k)));
        }
        List<Layer> layers = new ArrayList<>(configs.size());
        Set<String> secrets = new HashSet<>();
        for (int i = 0; i < configs.size(); i++) {
            ProtocolConfiguration config = configs.get(i);
            // Both readers see the same elements in the same order in a well-formed file; if they ever disagree
            // we lose only the line numbers, not the check.
            int line = elements.size() == configs.size() ? elements.get(i).line() : -1;
            Map<String, String> raw = new HashMap<>(config.getProperties());
            List<StackVariables.Use> uses = substituteVariables(config, values, resourceOrPath, line);
            layers.add(new Layer(config, protocolClass(config, resourceOrPath, line), line, uses));
            StoreFiles.check(where(resourceOrPath, line), config.getProtocolName(), config.getProperties(), raw);
            secrets.addAll(StoreFiles.secretValues(config.getProperties(), raw));
        }
        StackRules.check(resourceOrPath, layers);
        StackVariables.check(resourceOrPath, layers);
        return new Stacks(resourceOrPath, layers, secrets);
    }

    /** The resource name or path this configuration was loaded from, for messages. */
    public String source() {
        return source;
    }

    /**
     * A new, unconnected main channel: the file's stack without the Raft-only protocols.
     *
     * @return a channel the caller connects and closes
     * @throws UnidistException naming the file if JGroups cannot build the stack (a bad attribute value, say)
     */
    public JChannel newMainChannel() {
        List<ProtocolConfiguration> configs = layers.stream()
                .filter(l -> !StackRules.isRaftOnly(l.type()))
                .map(Layer::copy)
                .collect(Collectors.toCollection(ArrayList::new));
        return build(configs, prot -> { }, "main channel");
    }

    /**
     * A new, unconnected raft channel for voter {@code raftId}: the whole stack, its ports moved by
     * {@code portOffset}, and RAFT given the id, the voters, the log directory (created if missing), log prefix
     * {@code raftId}, the snapshot threshold and {@code fsync} on every append (RAFT's default is off, and it
     * overrides the log's own setting). The channel's logical name is {@code raftId}.
     *
     * @param raftId          this voter's id; must be one of {@code members}
     * @param members         the ids of all voters (3 or 5, normally), no duplicates
     * @param logDir          directory of this voter's Raft log and snapshots
     * @param maxLogSizeBytes log size past which RAFT takes a snapshot and truncates the log; &gt; 0
     * @param portOffset      added to every port the main channel uses; 1..65535, normally
     *                        {@link #DEFAULT_RAFT_PORT_OFFSET}
     * @return a channel the caller connects (under a cluster name of its own) and closes
     * @throws IllegalArgumentException if an argument is invalid or the offset makes the two channels' port ranges
     *                                  overlap (the message gives both ranges)
     * @throws UncheckedIOException     if {@code logDir} cannot be created
     * @throws UnidistException         naming the file if JGroups cannot build the stack
     */
    public JChannel newRaftChannel(String raftId, List<String> members, Path logDir, long maxLogSizeBytes,
                                   int portOffset) {
        Objects.requireNonNull(raftId, "raftId");
        Objects.requireNonNull(members, "members");
        Objects.requireNonNull(logDir, "logDir");
        if (raftId.isBlank()) {
            throw new IllegalArgumentException("raftId is blank");
        }
        if (new LinkedHashSet<>(members).size() != members.size()) {
            throw new IllegalArgumentException("members " + members + " contain a duplicate");
        }
        if (!members.contains(raftId)) {
            throw new IllegalArgumentException("raftId '" + raftId + "' is not one of the members " + members);
        }
        if (maxLogSizeBytes <= 0) {
            throw new IllegalArgumentException("maxLogSizeBytes must be > 0: " + maxLogSizeBytes);
        }
        if (portOffset <= 0 || portOffset > 65535) {
            throw new IllegalArgumentException("portOffset must be in 1..65535: " + portOffset);
        }
        try {
            Files.createDirectories(logDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the Raft log directory " + logDir + ": " + e.getMessage(), e);
        }
        List<ProtocolConfiguration> configs = layers.stream()
                // jgroups-raft's RAFT snapshots by copying the whole state on its own thread
                .map(l -> l.type() == RAFT.class ? l.copy(UnidistRaft.class.getName()) : l.copy())
                .collect(Collectors.toCollection(ArrayList::new));
        RaftChannelSetup setup = new RaftChannelSetup(
                source, raftId, List.copyOf(members), logDir, maxLogSizeBytes, portOffset);
        JChannel channel = build(configs, setup::afterCreation, "raft channel of " + raftId);
        try {
            setup.verify();
        } catch (IllegalArgumentException e) {
            Util.close(channel); // built but never connected: no socket is open yet
            throw e;
        }
        return channel.name(raftId);
    }

    /** The main channel's protocols as named in the file, bottom first: for tests and diagnostics. */
    List<String> mainProtocolNames() {
        return layers.stream().filter(l -> !StackRules.isRaftOnly(l.type())).map(Layer::name).toList();
    }

    /** A hook JGroups calls for each protocol after its XML attributes are set and before its init(). */
    @FunctionalInterface
    interface Hook {
        void afterCreation(Protocol protocol) throws Exception;
    }

    private JChannel build(List<ProtocolConfiguration> configs, Hook hook, String what) {
        Protocol[] starting = new Protocol[1]; // the protocol JGroups initialises next, to name it if that fails
        ProtocolStackConfigurator configurator = new ProtocolStackConfigurator() {
            @Override
            public String getProtocolStackString() {
                return configs.stream().map(ProtocolConfiguration::getProtocolString).collect(Collectors.joining(":"));
            }

            @Override
            public List<ProtocolConfiguration> getProtocolStack() {
                return configs;
            }

            @Override
            public void afterCreation(Protocol protocol) throws Exception {
                starting[0] = protocol;
                hook.afterCreation(protocol);
            }
        };
        try {
            return new JChannel(configurator);
        } catch (Exception e) {
            // JGroups quotes attribute values in some messages (an unknown attribute, say): never a password
            String message = StoreFiles.redact(e.getMessage(), secrets);
            String text = String.format("cannot create the %s from %s: %s%s", what, source, message,
                    variablesOf(starting[0]));
            throw Objects.equals(message, e.getMessage()) ? new UnidistException(text, e) : new UnidistException(text);
        }
    }

    /**
     * ", while starting P, which reads v1='..', v2='..' (...)" for a protocol whose attributes came
     * from variables: its init() refused what they say (a keystore's password, say), and the user
     * set the variables, not the attributes. Empty otherwise.
     */
    private String variablesOf(Protocol protocol) {
        if (protocol == null) {
            return "";
        }
        for (Layer layer : layers) {
            if (layer.type() == protocol.getClass() || layer.name().equals(protocol.getName())) {
                if (layer.variables().isEmpty()) {
                    return "";
                }
                List<String> uses = layer.variables().stream().map(u -> u.describe(source)).toList();
                return " (while starting " + layer.name() + ", which reads " + String.join("; ", uses) + ")";
            }
        }
        return "";
    }

    private static byte[] read(String resourceOrPath) {
        String resource = resourceOrPath.startsWith("/") ? resourceOrPath.substring(1) : resourceOrPath;
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        try (InputStream in = context != null && context.getResource(resource) != null
                ? context.getResourceAsStream(resource)
                : Stacks.class.getClassLoader().getResourceAsStream(resource)) {
            if (in != null) {
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "cannot read JGroups configuration resource " + resourceOrPath + ": " + e.getMessage(), e);
        }
        Path path = Path.of(resourceOrPath);
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException(String.format(
                    "JGroups configuration %s not found: it is neither a classpath resource nor a file (%s)",
                    resourceOrPath, path.toAbsolutePath()));
        }
        try {
            return Files.readAllBytes(path);
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "cannot read JGroups configuration file " + path.toAbsolutePath() + ": " + e.getMessage(), e);
        }
    }

    private static List<ProtocolConfiguration> parseAsJGroupsDoes(byte[] xml, String source) {
        try {
            return new ArrayList<>(XmlConfigurator.getInstance(new ByteArrayInputStream(xml)).getProtocolStack());
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(source + ": JGroups cannot read the configuration: " + e.getMessage(), e);
        }
    }

    private static Class<? extends Protocol> protocolClass(ProtocolConfiguration config, String source, int line) {
        try {
            return config.loadProtocolClass(Stacks.class);
        } catch (Exception | LinkageError e) {
            throw new IllegalArgumentException(String.format(
                    "%s: unknown protocol %s (no such class in JGroups or jgroups-raft, nor a class of that full name)",
                    where(source, line), config.getProtocolName()), e);
        }
    }

    /**
     * Applies JGroups' variable rule to every attribute, failing on a variable with neither value nor default;
     * returns the attributes that read variables, with the variables' values.
     */
    private static List<StackVariables.Use> substituteVariables(ProtocolConfiguration config, Properties values,
                                                                String source, int line) {
        List<StackVariables.Use> uses = new ArrayList<>();
        Map<String, String> properties = config.getProperties();
        for (Map.Entry<String, String> property : properties.entrySet()) {
            String value = property.getValue();
            if (value == null || !value.contains("${")) {
                continue;
            }
            Map<String, String> used = new java.util.LinkedHashMap<>();
            Matcher m = VARIABLE.matcher(value);
            while (m.find()) {
                String expression = m.group(1);
                String name = expression.contains(":") ? expression.substring(0, expression.indexOf(':')) : expression;
                String resolved = Util.getProperty(expression, values);
                if (resolved == null) {
                    throw new IllegalArgumentException(String.format(
                            "%s: %s.%s uses variable ${%s}, which is not set and has no default: pass %s"
                                    + " in the variables or as -D%s=...",
                            where(source, line), config.getProtocolName(), property.getKey(), expression, name, name));
                }
                used.put(name, resolved);
            }
            property.setValue(Util.substituteVariable(value, values));
            uses.add(new StackVariables.Use(config.getProtocolName(), property.getKey(), line,
                    java.util.Collections.unmodifiableMap(used),
                    property.getValue()));
        }
        return uses;
    }

    /** "file line 12", or just "file" when the line is unknown. */
    static String where(String source, int line) {
        return line > 0 ? source + " line " + line : source;
    }
}
