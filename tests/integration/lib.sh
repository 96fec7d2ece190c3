# lib.sh: helpers for mocker's integration tests (sourced by run).
# Every test runs the real binary as root against a store of its own.

M="$REPO/build/mocker"
IMG=mocker-test/busybox

fail() {
    echo "#   FAIL: $*" >&2
    exit 1
}

# A test that cannot run here (a host feature is missing): the runner prints
# "ok ... # SKIP reason".  Only for what the host lacks, never to hide a failure.
skip() {
    echo "$*"
    exit 77
}

assert_eq() { # expected actual [what]
    [ "$1" = "$2" ] || fail "${3:-value}: expected [$1], got [$2]"
}

assert_contains() { # haystack needle [what]
    case "$1" in *"$2"*) ;; *) fail "${3:-output}: [$1] does not contain [$2]" ;; esac
}

assert_not_contains() {
    case "$1" in *"$2"*) fail "${3:-output}: [$1] contains [$2]" ;; *) ;; esac
}

# Run CMD (a shell string) when the test's shell exits, after the ones
# registered later.  Every helper that starts something (mocker serve, a
# registry, a bridge) registers its stop here: a plain `trap ... EXIT` would
# replace the one before it and leave that process running.
on_exit_cmds=()
on_exit() { # CMD
    on_exit_cmds+=("$1")
    trap run_on_exit EXIT
}
run_on_exit() {
    local i
    for ((i = ${#on_exit_cmds[@]} - 1; i >= 0; i--)); do
        eval "${on_exit_cmds[i]}" || true
    done
}

# Run a command, capture stdout+stderr and the status in $out and $rc.
capture() {
    set +e
    out=$("$@" 2>&1)
    rc=$?
    set -e
}

# Wait until a command succeeds (max $1 tenths of a second).
wait_for() {
    local n=$1
    shift
    while [ "$n" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

# The monitor of a running container: its init's parent (`run` forks its
# monitor, `start` executes `mocker __monitor ID`: neither is found by name).
monitor_pid() { # name or id
    local pid
    pid=$($M inspect -f '{{.State.Pid}}' "$1") && [ "$pid" != 0 ] && ps -o ppid= -p "$pid" | tr -d ' '
}

# Anything of a container left on the host: mounts, cgroups, processes, files.
container_leftovers() { # full id
    local id=$1
    grep -F "$id" /proc/self/mountinfo || true
    find /sys/fs/cgroup -maxdepth 3 -name "$id" 2>/dev/null || true
    ls -d "$MOCKER_ROOT/containers/$id" "$MOCKER_ROOT/trash/$id" "$MOCKER_RUNROOT/containers/$id" 2>/dev/null || true
}
