#!/usr/bin/env bash
# unidist-keys.sh: keys and certificates for a secured unidist cluster (unidist-*-secure.xml), made with the JDK's keytool.
#
# Model: every node has its own private key and a self-signed certificate (NAME.p12, which never leaves that node), and
# the cluster has one truststore (truststore.p12) that lists the certificate of every node allowed in. A node is let in
# only if its certificate is in the truststore of the members it talks to, so removing an entry revokes that node. There
# is no cluster CA on purpose: JGroups checks no revocation lists, so a certificate signed by a CA could never be revoked
# short of replacing the CA everywhere.
#
# Usage:
#   unidist-keys.sh node [--days=N] DIR NAME...
#       a new key pair and certificate (valid N days, default 730) for each node NAME: DIR/NAME.p12 (private: copy it to
#       that node only) and DIR/NAME.crt (public); each certificate is added to DIR/truststore.p12 (made if missing)
#   unidist-keys.sh trust DIR NAME FILE
#       add the certificate FILE (PEM or DER) of a node whose key was made on that node (by "node" there, with a DIR of
#       its own) to DIR/truststore.p12 as NAME
#   unidist-keys.sh revoke DIR NAME
#       remove NAME from DIR/truststore.p12
#   unidist-keys.sh list DIR
#       the nodes DIR/truststore.p12 trusts, with fingerprints
#
# Passwords come from the environment, never from arguments (which `ps` shows to every user of the host):
#   UNIDIST_KEYSTORE_PASSWORD    protects NAME.p12 ("node" only); give it to that node as unidist.keystore_password
#   UNIDIST_TRUSTSTORE_PASSWORD  protects truststore.p12; give it to every node as unidist.truststore_password
# KEYTOOL names the keytool to run (default: $JAVA_HOME/bin/keytool if present, else keytool on the PATH);
# KEYTOOL_OPTS its JVM options (default: a quick start, as each keytool call is a short-lived JVM).
#
# After "node", "trust" or "revoke": copy DIR/truststore.p12 to every node and restart the nodes one at a time (a node
# reads its truststore when it starts; a revoked node that is still connected stays connected to a member until that
# member restarts). Exit status: 0 done, 2 wrong usage, 1 anything else; errors name the file or the node.
set -euo pipefail

usage() {
    sed -n '/^# Usage:/,/^# KEYTOOL_OPTS/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

fail() {
    echo "unidist-keys: $*" >&2
    exit 1
}

if [[ -n "${KEYTOOL:-}" ]]; then
    keytool_cmd="$KEYTOOL"
elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/keytool" ]]; then
    keytool_cmd="$JAVA_HOME/bin/keytool"
else
    keytool_cmd="keytool"
fi
read -r -a keytool_opts <<< "${KEYTOOL_OPTS--J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC}"

# Runs keytool quietly; on failure shows its output (keytool never prints the passwords it read from the environment).
run_keytool() {
    local output
    if ! output=$("$keytool_cmd" "${keytool_opts[@]}" "$@" 2>&1); then
        fail "keytool $1 failed: $output"
    fi
}

need_password() {
    local var="$1"
    # keytool itself refuses a password shorter than 6 characters
    [[ -n "${!var:-}" ]] || fail "set $var in the environment (at least 6 characters; it is never passed as an argument)"
}

# Node names end up in file names and in the certificate's subject: keep them to a safe alphabet.
check_name() {
    [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] \
        || fail "node name '$1' is not allowed: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
}

import_cert() { # DIR NAME FILE; keytool itself refuses a NAME the truststore already has
    run_keytool -importcert -noprompt -alias "$2" -file "$3" -keystore "$1/truststore.p12" -storetype PKCS12 \
        -storepass:env UNIDIST_TRUSTSTORE_PASSWORD
}

cmd_node() { # [--days=N] DIR NAME...
    local days=730
    if [[ "$1" == --days=* ]]; then
        days="${1#--days=}"
        shift
    fi
    [[ $# -ge 2 ]] || usage
    [[ "$days" =~ ^[1-9][0-9]{0,4}$ ]] || fail "--days must be a number of days from 1 to 99999, got '$days'"
    local dir="$1" name
    shift
    need_password UNIDIST_KEYSTORE_PASSWORD
    need_password UNIDIST_TRUSTSTORE_PASSWORD
    for name in "$@"; do
        check_name "$name"
        [[ ! -e "$dir/$name.p12" ]] \
            || fail "$dir/$name.p12 exists: a node's key is never overwritten (revoke it and use a new name)"
    done
    mkdir -p "$dir"
    # Each node's key pair and certificate are independent: make them side by side, then add them to the truststore
    # one after the other (keytool rewrites the whole file).
    local pids=() failed=0 pid
    for name in "$@"; do
        ( umask 077 # the private key is readable by its owner only
          run_keytool -genkeypair -alias "$name" -keyalg EC -groupname secp256r1 -sigalg SHA256withECDSA \
              -dname "CN=$name, OU=unidist" -validity "$days" \
              -ext KU=digitalSignature -ext EKU=serverAuth,clientAuth \
              -storetype PKCS12 -keystore "$dir/$name.p12" -storepass:env UNIDIST_KEYSTORE_PASSWORD
          run_keytool -exportcert -rfc -alias "$name" -keystore "$dir/$name.p12" -storetype PKCS12 \
              -storepass:env UNIDIST_KEYSTORE_PASSWORD -file "$dir/$name.crt" ) &
        pids+=("$!")
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || failed=1
    done
    (( failed == 0 )) || fail "could not make every key in $dir (see above)"
    for name in "$@"; do
        import_cert "$dir" "$name" "$dir/$name.crt"
        echo "node $name: key $dir/$name.p12 (copy to $name only), certificate $dir/$name.crt, trusted by $dir/truststore.p12"
    done
}

cmd_trust() { # DIR NAME FILE
    local dir="$1" name="$2" file="$3"
    check_name "$name"
    need_password UNIDIST_TRUSTSTORE_PASSWORD
    [[ -f "$file" ]] || fail "certificate file $file not found"
    mkdir -p "$dir"
    import_cert "$dir" "$name" "$file"
    echo "node $name: certificate $file trusted by $dir/truststore.p12"
}

cmd_revoke() { # DIR NAME
    local dir="$1" name="$2" truststore="$1/truststore.p12"
    check_name "$name"
    need_password UNIDIST_TRUSTSTORE_PASSWORD
    [[ -f "$truststore" ]] || fail "truststore $truststore not found"
    run_keytool -delete -alias "$name" -keystore "$truststore" -storetype PKCS12 \
        -storepass:env UNIDIST_TRUSTSTORE_PASSWORD
    echo "node $name: no longer trusted by $truststore; copy it to every node and restart them one at a time"
}

cmd_list() { # DIR
    local truststore="$1/truststore.p12"
    need_password UNIDIST_TRUSTSTORE_PASSWORD
    [[ -f "$truststore" ]] || fail "truststore $truststore not found"
    "$keytool_cmd" "${keytool_opts[@]}" -list -keystore "$truststore" -storetype PKCS12 -storepass:env UNIDIST_TRUSTSTORE_PASSWORD \
        || fail "cannot read $truststore"
}

[[ $# -ge 2 ]] || usage
command="$1"
shift
case "$command" in
    node)   cmd_node "$@" ;;
    trust)  [[ $# -eq 3 ]] || usage; cmd_trust "$@" ;;
    revoke) [[ $# -eq 2 ]] || usage; cmd_revoke "$@" ;;
    list)   [[ $# -eq 1 ]] || usage; cmd_list "$@" ;;
    *)      usage ;;
esac
