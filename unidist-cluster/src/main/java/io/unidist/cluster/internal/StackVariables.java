package io.unidist.cluster.internal;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jgroups.annotations.Property;
import org.jgroups.conf.AttributeType;
import org.jgroups.stack.Configurator;
import org.jgroups.stack.Protocol;
import org.jgroups.util.StackType;

/**
 * The {@code ${variable}} values of a JGroups configuration, checked when it is loaded, so that a
 * wrong or malformed value is an error that names the variable, its value, the attribute that
 * reads it and the line, before any channel exists. JGroups itself would report the attribute
 * alone (not the variable the user set), accept some values it cannot use (a negative timeout, a
 * port above 65535, a unicast address for multicast) until a socket fails, or try to resolve a
 * malformed address as a host name.
 *
 * <p>Rules by attribute: ports ({@code bind_port} 0..65535, {@code mcast_port} 1..65535), time
 * attributes (a positive duration such as {@code 6s}; FD_ALL3's interval below its timeout),
 * {@code ip_ttl} 0..255, {@code bind_addr} (an IP literal, a JGroups keyword such as
 * {@code SITE_LOCAL} or {@code match-interface:eth0}, or a well-formed host name),
 * {@code mcast_addr} (a multicast address or host name), TCPPING's {@code initial_hosts}
 * ({@code host[port]} entries), a keystore that exists and a keystore type the JDK knows. Any
 * other attribute that reads a variable is converted as JGroups would, on a fresh protocol.
 * Values of variables or attributes whose name mentions a password are never shown.
 */
final class StackVariables {
    /** An attribute whose value came from variables: their names and values, and the attribute's value. */
    record Use(String protocol, String attribute, int line, Map<String, String> variables, String value) {
        String describe(String source) {
            List<String> vars = new ArrayList<>();
            variables.forEach((name, v) -> vars.add(name + "=" + shown(name + attribute, v == null ? "" : v)));
            return String.join(", ", vars) + " (" + protocol + "." + attribute + " in " + Stacks.where(source, line) + ")";
        }
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ns|us|ms|s|m|h|d)?",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern HOST_ENTRY = Pattern.compile("([^\\[\\]\\s,]+)(?:\\[(\\d{1,5})])?");
    private static final Pattern HOST_NAME =
            Pattern.compile("[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?)*");
    private static final Set<String> ADDRESS_KEYWORDS =
            Set.of("site_local", "link_local", "global", "loopback", "non_loopback");
    private static final Set<String> ADDRESS_PREFIXES =
            Set.of("match-interface:", "match-address:", "match-host:", "custom:");

    private StackVariables() {
    }

    /**
     * Checks every attribute of {@code layers} that reads a variable.
     *
     * @throws IllegalArgumentException naming the variable, its value (unless a password), the
     *                                  attribute, the file and line, and what a good value is
     */
    static void check(String source, List<Stacks.Layer> layers) {
        for (Stacks.Layer layer : layers) {
            Map<String, Use> byAttribute = new HashMap<>();
            for (Use use : layer.variables()) {
                byAttribute.put(use.attribute(), use);
                String problem = problem(layer.type(), use);
                if (problem != null) {
                    throw new IllegalArgumentException(use.describe(source) + " " + problem);
                }
            }
            if (layer.type() == org.jgroups.protocols.FD_ALL3.class) {
                checkIntervalBelowTimeout(source, layer, byAttribute);
            }
        }
    }

    /** What is wrong with the value of {@code use}, or null. */
    private static String problem(Class<? extends Protocol> type, Use use) {
        String v = use.value() == null ? "" : use.value().trim(); // JGroups makes an attribute set empty null
        String attribute = use.attribute();
        switch (attribute) {
            case "bind_port":
                return port(v, 0);
            case "port": // SSL_KEY_EXCHANGE's
                return port(v, 1);
            case "mcast_port":
                return port(v, 1);
            case "ip_ttl":
                return integerIn(v, 0, 255, "a time-to-live");
            case "bind_addr":
                return address(v, false);
            case "mcast_addr":
                return address(v, true);
            case "initial_hosts":
                return hosts(v);
            case "keystore_name":
                return keystore(v);
            case "keystore_type":
                return keystoreType(v);
            default:
                break;
        }
        if (v.isEmpty()) {
            return "is empty";
        }
        if (isTime(type, attribute)) {
            return duration(v);
        }
        return convertsAsJGroupsDoes(type, attribute, v);
    }

    private static String port(String v, int min) {
        return integerIn(v, min, 65535, "a port");
    }

    private static String integerIn(String v, int min, int max, String what) {
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return null;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        return "is not " + what + " (" + min + ".." + max + ")";
    }

    /** A positive duration in JGroups' form: a number and an optional unit (ns, us, ms, s, m, h, d; ms without). */
    private static String duration(String v) {
        Matcher m = DURATION.matcher(v);
        if (!m.matches() || Double.parseDouble(m.group(1)) <= 0) {
            return "is not a positive duration such as 1500ms or 6s";
        }
        return null;
    }

    private static long millis(String v) {
        Matcher m = DURATION.matcher(v.trim());
        if (!m.matches()) {
            return -1;
        }
        double n = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "ms" : m.group(2).toLowerCase(Locale.ROOT);
        double factor = switch (unit) {
            case "ns" -> 1e-6;
            case "us" -> 1e-3;
            case "s" -> 1e3;
            case "m" -> 60e3;
            case "h" -> 3600e3;
            case "d" -> 86_400e3;
            default -> 1;
        };
        return (long) (n * factor);
    }

    private static void checkIntervalBelowTimeout(String source, Stacks.Layer layer, Map<String, Use> uses) {
        Map<String, String> p = layer.config().getProperties();
        String timeout = p.get("timeout");
        String interval = p.get("interval");
        if (timeout == null || interval == null || (!uses.containsKey("timeout") && !uses.containsKey("interval"))) {
            return;
        }
        if (millis(interval) >= millis(timeout)) {
            List<String> named = new ArrayList<>();
            for (String a : List.of("timeout", "interval")) {
                named.add(uses.containsKey(a) ? uses.get(a).describe(source) : layer.name() + "." + a + "=" + p.get(a));
            }
            throw new IllegalArgumentException(String.join(" and ", named) + ": the interval must be"
                    + " shorter than the timeout (about a quarter of it): a member would be suspected between two"
                    + " heartbeats");
        }
    }

    /**
     * An IP literal, one of JGroups' address keywords, or a well-formed host name (not resolved
     * here); for multicast, a literal must be a multicast address.
     */
    private static String address(String v, boolean multicast) {
        String lower = v.toLowerCase(Locale.ROOT);
        if (!multicast && (ADDRESS_KEYWORDS.contains(lower) || ADDRESS_PREFIXES.stream().anyMatch(
                prefix -> lower.startsWith(prefix) && lower.length() > prefix.length()))) {
            return null;
        }
        InetAddress literal;
        if (v.matches("[0-9.]+")) {
            if (!isIpv4(v)) {
                return "is not an IPv4 address (four numbers 0..255)";
            }
            literal = literal(v);
        } else if (v.contains(":")) {
            // only a string of an IPv6 literal's characters: the JDK parses it without a name lookup
            literal = v.matches("[0-9A-Fa-f:.]+(%[A-Za-z0-9]+)?") ? literal(v) : null;
            if (literal == null) {
                return "is not an IPv6 address (write a port as host[port])";
            }
        } else if (HOST_NAME.matcher(v).matches()) {
            return null;
        } else {
            return multicast ? "is not a multicast address or host name"
                    : "is not an address: use an IP address, a host name, SITE_LOCAL, LINK_LOCAL, GLOBAL, LOOPBACK,"
                    + " NON_LOOPBACK, or match-interface:<name>";
        }
        if (multicast && (literal == null || !literal.isMulticastAddress())) {
            return "is not a multicast address (224.0.0.0 to 239.255.255.255, or ff00::/8)";
        }
        return null;
    }

    private static boolean isIpv4(String v) {
        String[] parts = v.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || Integer.parseInt(part) > 255) {
                return false;
            }
        }
        return true;
    }

    /** An address literal, parsed without any name lookup (the value is a literal by its form). */
    private static InetAddress literal(String v) {
        try {
            return InetAddress.getByName(v);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** TCPPING's initial hosts: {@code host[port]} or {@code host}, comma-separated, at least one. */
    private static String hosts(String v) {
        if (v.isBlank()) {
            return "lists no host: use host[port] entries separated by commas, e.g. 10.0.0.5[7800],10.0.0.6[7800]";
        }
        for (String entry : v.split(",")) {
            String e = entry.trim();
            Matcher m = HOST_ENTRY.matcher(e);
            if (!m.matches()) {
                return "has entry '" + e + "', not host[port]: use entries such as 10.0.0.5[7800], separated by commas";
            }
            String host = m.group(1);
            String problem = address(host, false);
            if (problem != null || host.contains(":")) {
                return "has entry '" + e + "' whose host " + (problem != null ? problem : "contains ':' (write the"
                        + " port in brackets: host[7800])");
            }
            if (m.group(2) != null && Integer.parseInt(m.group(2)) > 65535) {
                return "has entry '" + e + "' whose port is above 65535";
            }
        }
        return null;
    }

    /** JGroups reads a keystore from the class path, else from the file system. */
    private static String keystore(String v) {
        if (v.isEmpty()) {
            return "is empty: name the keystore file";
        }
        String resource = v.startsWith("/") ? v.substring(1) : v;
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        if ((loader != null && loader.getResource(resource) != null)
                || StackVariables.class.getClassLoader().getResource(resource) != null) {
            return null;
        }
        Path p = Path.of(v);
        if (!Files.isRegularFile(p)) {
            return "names no keystore: neither a file (" + p.toAbsolutePath() + ") nor a class-path resource";
        }
        if (!Files.isReadable(p)) {
            return "names a keystore this process cannot read";
        }
        return null;
    }

    private static String keystoreType(String v) {
        try {
            KeyStore.getInstance(v);
            return null;
        } catch (KeyStoreException e) {
            return "is not a keystore type this JVM knows (pkcs12, jks, jceks)";
        }
    }

    /** Whether JGroups declares {@code attribute} of {@code type} a time (milliseconds, or with a unit). */
    private static boolean isTime(Class<?> type, String attribute) {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                Property p = f.getAnnotation(Property.class);
                if (p != null && (p.name().equals(attribute) || p.name().isEmpty() && f.getName().equals(attribute))) {
                    return p.type() == AttributeType.TIME;
                }
            }
            for (Method m : c.getDeclaredMethods()) {
                Property p = m.getAnnotation(Property.class);
                if (p != null && p.name().equals(attribute)) {
                    return p.type() == AttributeType.TIME;
                }
            }
        }
        return false;
    }

    /** Sets the attribute on a new instance of the protocol, as JGroups will; the error JGroups gives, or null. */
    private static String convertsAsJGroupsDoes(Class<? extends Protocol> type, String attribute, String value) {
        Protocol fresh;
        try {
            fresh = type.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // JGroups reports it when it builds the stack
        }
        Map<String, String> one = new LinkedHashMap<>(Map.of(attribute, value));
        try {
            Configurator.initializeAttrs(fresh, one, StackType.IPv4);
            return null;
        } catch (Exception e) {
            String why = e.getCause() != null ? e.getCause().toString() : e.toString();
            return "is refused by JGroups: " + why;
        }
    }

    /** A value for messages: hidden when the name (of the variable or attribute) says it is a secret. */
    static String shown(String names, String value) {
        String lower = names.toLowerCase(Locale.ROOT);
        if (lower.contains("password") || lower.contains("secret") || lower.contains("pass")) {
            return "(hidden)";
        }
        return "'" + value + "'";
    }
}
