# tools/peers.sh: the peer engines (Debian's docker.io and podman), started
# privately for bench/ and tests/compat/.  Sourced; everything lives under the
# caller's $work, and peers_stop (call it from the caller's EXIT trap) ends it.
#
#   peers_install            install docker.io and podman if missing
#   peers_docker  WORK TAR [DOCKERD-ARG...]
#                            start a dockerd, import TAR as compat/busybox; sets $D
#   peers_podman  WORK TAR   private podman config, import TAR; sets $P
#   peers_stop               stop what peers_docker started, unmount podman's leftovers

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
    D=
    command -v dockerd >/dev/null || return 1
    dockerd --data-root "$w/docker" --exec-root "$w/docker-run" -H "unix://$w/docker.sock" \
        --pidfile "$w/docker.pid" --iptables=false --bridge=none "$@" >"$w/dockerd.log" 2>&1 &
    peers_dockerd_pid=$!
    D="docker -H unix://$w/docker.sock"
    for _ in $(seq 1 100); do $D version >/dev/null 2>&1 && break; sleep 0.2; done
    $D import "$tar" compat/busybox >/dev/null 2>&1
}

# podman's default rlimits (nofile and nproc at 1048576) exceed this machine's
# hard limits, and crun is not what we compare with: a private config.  Its
# events go to a file: without an events logger `podman logs -f` never ends.
peers_podman() { # WORK TAR
    local w=$1 tar=$2
    P=
    command -v podman >/dev/null || return 1
    printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' >"$w/containers.conf"
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
}
