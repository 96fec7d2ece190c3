# tools/peers.sh: the peer engines (Debian's docker.io and podman), started
# privately for bench/ and tests/compat/.  Sourced; everything lives under the
# caller's $work, and peers_stop (call it from the caller's EXIT trap) ends it.
#
#   peers_install            install docker.io and podman if missing
#   peers_docker  WORK TAR [DOCKERD-ARG...]
#                            start a dockerd, import TAR as compat/busybox; sets $D
#   peers_docker_net WORK TAR
#                            the same with docker's bridge (docker0 on
#                            $PEERS_DOCKER_BIP) and iptables rules, for bench/net
#   peers_podman  WORK TAR   private podman config, import TAR; sets $P
#   peers_stop               stop what peers_docker started (and the bridge and
#                            iptables rules of peers_docker_net), unmount
#                            podman's leftovers

peers_install() {
    if ! command -v dockerd >/dev/null || ! command -v podman >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io podman >/dev/null 2>&1 || true
    fi
}

# A dockerd of our own (no iptables, no bridge: it must not touch the host's
# network), on a socket under WORK.  D is the docker CLI pointed at it.
peers_docker() { # WORK TAR [DOCKERD-ARG...]
    local w=$1 tar=$2
    shift 2
    peers_dockerd "$w" "$tar" --iptables=false --bridge=none "$@"
}

# A dockerd with its network on, for bench/net: docker0 on PEERS_DOCKER_BIP
# (default 10.231.0.1/24, outside both docker's and mocker's address pools),
# its iptables chains and NAT rules, docker-proxy for published ports.
# Refuses when docker0 exists or the subnet is routed already: neither would
# be ours to remove.  peers_stop removes the bridge and every rule and chain
# dockerd added, and the iptables tables it created.
peers_docker_net() { # WORK TAR
    local w=$1 tar=$2 bip=${PEERS_DOCKER_BIP:-10.231.0.1/24}
    D=
    command -v dockerd >/dev/null || return 1
    if [ -e /sys/class/net/docker0 ]; then
        echo "peers: docker0 exists already (another dockerd's?); not starting a networked dockerd" >&2
        return 1
    fi
    peers_subnet_free "$bip" PEERS_DOCKER_BIP || return 1
    : "${peers_tables_before:=$(nft list tables 2>/dev/null)}"
    peers_docker_net=1
    peers_dockerd "$w" "$tar" --bip "$bip"
}

peers_dockerd() { # WORK TAR DOCKERD-ARG...
    local w=$1 tar=$2
    shift 2
    D=
    command -v dockerd >/dev/null || return 1
    dockerd --data-root "$w/docker" --exec-root "$w/docker-run" -H "unix://$w/docker.sock" \
        --pidfile "$w/docker.pid" "$@" >"$w/dockerd.log" 2>&1 &
    peers_dockerd_pid=$!
    D="docker -H unix://$w/docker.sock"
    for _ in $(seq 1 100); do $D version >/dev/null 2>&1 && break; sleep 0.2; done
    $D import "$tar" compat/busybox >/dev/null 2>&1
}

# Remove what a networked engine left in iptables (call peers_tables_before=$(nft list tables)
# before starting it, unless peers_docker_net does): the rules of the built-in
# chains that jump to its chains or name its bridge or subnet (deleted by
# number, last first, so no rule text is parsed back into arguments), then
# its chains.  A table that did not exist before and holds nothing more is
# deleted too, so `nft list ruleset` is as it was.
peers_iptables_clean() { # CHAIN-PREFIX-REGEX BRIDGE SUBNET
    local chains=$1 br=$2 net=$3 t c i
    for t in filter nat mangle raw; do
        nft list table ip "$t" >/dev/null 2>&1 || continue
        for c in $(iptables -t "$t" -S | awk '$1 == "-P" {print $2}'); do
            mapfile -t rules < <(iptables -t "$t" -S "$c" | grep '^-A ')
            for ((i = ${#rules[@]} - 1; i >= 0; i--)); do
                if [[ ${rules[i]} =~ -j\ ($chains) || ${rules[i]} == *" $br "* || ${rules[i]} == *" $br" ||
                    ${rules[i]} == *" $net "* ]]; then
                    iptables -t "$t" -D "$c" $((i + 1))
                fi
            done
        done
        for c in $(iptables -t "$t" -S | awk -v re="^($chains)" '$1 == "-N" && $2 ~ re {print $2}'); do
            iptables -t "$t" -F "$c"
        done
        for c in $(iptables -t "$t" -S | awk -v re="^($chains)" '$1 == "-N" && $2 ~ re {print $2}'); do
            iptables -t "$t" -X "$c"
        done
        if ! grep -qx "table ip $t" <<<"$peers_tables_before" &&
            [ -z "$(iptables -t "$t" -S | grep -v '^-P [A-Z]* ACCEPT$')" ]; then
            nft delete table ip "$t"
        fi
    done
}

# podman's default rlimits (nofile and nproc at 1048576) exceed this machine's
# hard limits, and crun is not what we compare with: a private config.  Its
# events go to a file: without an events logger `podman logs -f` never ends.
# Its networks' files are kept under WORK, not in /etc/containers/networks.
peers_podman() { # WORK TAR
    local w=$1 tar=$2
    P=
    command -v podman >/dev/null || return 1
    printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n[network]\nnetwork_config_dir = "%s"\n' "$w/podman-net" >"$w/containers.conf"
    export CONTAINERS_CONF=$w/containers.conf
    P="podman --root $w/podman --runroot $w/podman-run"
    peers_podman_root=$w/podman
    $P import "$tar" compat/busybox >/dev/null 2>&1
}

peers_stop() {
    # podman bind-mounts its overlay directory onto itself and leaves it so.
    if [ -n "${peers_podman_root:-}" ]; then
        umount -R "$peers_podman_root/overlay" 2>/dev/null
        peers_podman_root=
    fi
    if [ -n "${peers_dockerd_pid:-}" ]; then
        kill "$peers_dockerd_pid" 2>/dev/null && wait "$peers_dockerd_pid" 2>/dev/null
        peers_dockerd_pid=
    fi
    # dockerd leaves its bridge and its iptables rules behind when it stops
    if [ -n "${peers_docker_net:-}" ]; then
        ip link del docker0 2>/dev/null
        peers_iptables_clean 'DOCKER' docker0 "$(peers_subnet "${PEERS_DOCKER_BIP:-10.231.0.1/24}")"
        peers_docker_net=
    fi
}

# Whether no route on the host covers or falls inside SUBNET (the default
# route aside); VAR names the setting to change when one does.
peers_subnet_free() { # SUBNET VAR
    if [ -n "$(ip -4 -o route show match "$1" | grep -v '^default')$(ip -4 -o route show root "$1")" ]; then
        echo "peers: $1 collides with a route on this host: set $2" >&2
        return 1
    fi
}

# 10.231.0.1/24 -> 10.231.0.0/24 (the form iptables prints)
peers_subnet() { # ADDR/LEN
    python3 -c 'import ipaddress, sys; print(ipaddress.ip_interface(sys.argv[1]).network)' "$1"
}
