#!/usr/bin/env bash
# Builds unidist and starts the local example cluster: 3 voters and 2 other nodes, each its own
# JVM on 127.0.0.1, running the example programs of unidist-examples, with a live summary.
# One node is killed halfway; the summary shows the cluster carrying on.
#
#   ./run-example-cluster.sh                  # about 75 s of work (90 s or so in all)
#   ./run-example-cluster.sh --seconds=600    # longer
#   ./run-example-cluster.sh --kill=node      # kill a non-voter instead of a voter (or --kill=none)
#   ./run-example-cluster.sh --dir=/tmp       # where the run directory goes (default: here)
#
# Needs a JDK 17 (or later) and Maven 3.8 or later; nothing else. Ctrl-C stops every process.
set -euo pipefail
cd "$(dirname "$0")"

JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
command -v mvn >/dev/null 2>&1 || { echo "run-example-cluster: Maven (mvn) is not on the PATH; install Maven 3.8+" >&2; exit 1; }
command -v "$JAVA" >/dev/null 2>&1 || { echo "run-example-cluster: no java found; install a JDK 17" >&2; exit 1; }

echo "building unidist (mvn -B -q install -DskipTests; the first build downloads dependencies)..."
if ! mvn -B -q install -DskipTests; then
    echo "run-example-cluster: the build failed (see the Maven output above); nothing was started" >&2
    exit 1
fi

jar=""
for candidate in unidist-examples/target/unidist-examples-*.jar; do
    case "$candidate" in *-sources.jar|*-javadoc.jar|*-tests.jar) continue ;; esac
    jar="$candidate"
done
[ -n "$jar" ] || { echo "run-example-cluster: the build made no unidist-examples jar" >&2; exit 1; }

# exec: the launcher gets Ctrl-C itself and stops every node it started
exec "$JAVA" -Djava.net.preferIPv4Stack=true -jar "$jar" "$@"
