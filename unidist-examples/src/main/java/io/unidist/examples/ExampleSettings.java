package io.unidist.examples;

import io.unidist.Unidist;
import io.unidist.cluster.ClusterConfig;
import io.unidist.cluster.UnidistCluster;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cluster settings of the example programs, from arguments ({@code --node=web-1}) or, when an
 * argument is absent, system properties ({@code -Dunidist.node=web-1}), or else the default:
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>argument</th><th>system property</th><th>default</th></tr>
 *   <tr><td>--cluster</td><td>unidist.cluster</td><td>unidist-examples</td></tr>
 *   <tr><td>--node</td><td>unidist.node</td><td>this host's name</td></tr>
 *   <tr><td>--voters</td><td>unidist.voters</td><td>this node alone (a one-voter cluster)</td></tr>
 *   <tr><td>--jgroups</td><td>unidist.jgroups</td><td>unidist-local.xml (processes on this machine)</td></tr>
 *   <tr><td>--data-dir</td><td>unidist.data_dir</td><td>unidist-data/&lt;node&gt;</td></tr>
 * </table>
 *
 * <p>The JGroups file's own variables are system properties, for example
 * {@code -Dunidist.initial_hosts=host1[7800],host2[7800]} for {@code unidist-tcp.xml}.
 * On real hosts, only {@code jgroups} and {@code voters} change (and every host gets the same
 * voters).
 *
 * @param cluster the cluster's name
 * @param node    this node's name, unique in the cluster
 * @param voters  the voters' node names, comma-separated
 * @param jgroups the JGroups file: a bundled one or a path
 * @param dataDir where this node keeps its data
 */
public record ExampleSettings(String cluster, String node, String voters, String jgroups, Path dataDir) {
    private static final List<String> KNOWN = List.of("cluster", "node", "voters", "jgroups", "data-dir");

    /** Reads the settings from {@code args} and the system properties; see the class comment. */
    public static ExampleSettings from(String... args) {
        Map<String, String> given = parse(args);
        String node = setting(given, "node", "unidist.node", localHostName());
        return new ExampleSettings(
                setting(given, "cluster", "unidist.cluster", "unidist-examples"),
                node,
                setting(given, "voters", "unidist.voters", node),
                setting(given, "jgroups", "unidist.jgroups", "unidist-local.xml"),
                Path.of(setting(given, "data-dir", "unidist.data_dir", "unidist-data/" + node)));
    }

    /** The cluster configuration these settings describe. */
    public ClusterConfig config() {
        return ClusterConfig.builder()
                .clusterName(cluster)
                .nodeName(node)
                .voters(Arrays.stream(voters.split(",")).map(String::trim).toArray(String[]::new))
                .jgroupsConfig(jgroups)
                .dataDir(dataDir)
                .build();
    }

    /** Joins the cluster: returns once this node is a member. */
    public Unidist join() {
        return UnidistCluster.join(config());
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> given = new LinkedHashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (!arg.startsWith("--") || eq < 0) {
                throw new IllegalArgumentException("argument '" + arg + "': expected --name=value, e.g. --node=web-1");
            }
            String name = arg.substring(2, eq);
            if (!KNOWN.contains(name)) {
                throw new IllegalArgumentException("argument '" + arg + "': unknown setting '" + name
                        + "', known are " + KNOWN);
            }
            given.put(name, arg.substring(eq + 1));
        }
        return given;
    }

    private static String setting(Map<String, String> given, String arg, String property, String fallback) {
        String value = given.getOrDefault(arg, System.getProperty(property));
        return value == null || value.isBlank() ? fallback : value.trim();
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "node-" + ProcessHandle.current().pid();
        }
    }
}
