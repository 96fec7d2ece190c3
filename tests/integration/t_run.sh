# t_run.sh: mocker run: what the container sees, exit codes, flags.

test_greeting_and_rm() {
    capture $M run --rm --name greeter $IMG echo hello
    assert_eq 0 "$rc" "exit code"
    assert_eq hello "$out"
    assert_eq "" "$($M ps -aq --filter name=greeter)" "ps -a after --rm"
}

test_docker_defaults_inside() {
    out=$($M run --rm $IMG sh -c 'echo $$; hostname; id; grep -E "^(CapEff|Seccomp):" /proc/self/status')
    pid=$(sed -n 1p <<<"$out")
    host=$(sed -n 2p <<<"$out")
    assert_eq 1 "$pid" "pid inside"
    [[ "$host" =~ ^[0-9a-f]{12}$ ]] || fail "hostname [$host] is not 12 hex"
    assert_contains "$out" "uid=0(root) gid=0(root)"
    assert_contains "$out" "CapEff:	00000000a80425fb"
    assert_contains "$out" "Seccomp:	2"
}

test_masked_and_readonly_proc() {
    assert_eq "" "$($M run --rm $IMG cat /proc/keys)" "/proc/keys"
    assert_eq "" "$($M run --rm $IMG cat /proc/timer_list)" "/proc/timer_list"
    capture $M run --rm $IMG sh -c 'echo 1 > /proc/sys/kernel/ns_last_pid'
    [ "$rc" -ne 0 ] || fail "/proc/sys is writable"
    assert_contains "$out" "Read-only file system"
    capture $M run --rm $IMG touch /sys/kernel/x
    [ "$rc" -ne 0 ] || fail "/sys is writable"
}

test_exit_codes() {
    for code in 0 1 42 255; do
        capture $M run --rm $IMG sh -c "exit $code"
        assert_eq "$code" "$rc" "exit $code"
    done
}

test_missing_command_is_127() {
    capture $M run --rm $IMG nosuchcommand
    assert_eq 127 "$rc"
    assert_contains "$out" 'exec: "nosuchcommand": executable file not found in $PATH'
}

test_not_executable_is_126() {
    capture $M run --rm $IMG /etc/passwd
    assert_eq 126 "$rc"
    assert_contains "$out" "permission denied"
}

test_env_workdir_user_hostname() {
    out=$($M run --rm -e FOO=bar -w /tmp -u app -h myhost $IMG sh -c 'echo $FOO; pwd; id -u; hostname; echo $HOME')
    assert_eq "bar
/tmp
1000
myhost
/home/app" "$out"
    out=$($M run --rm -u app $IMG id)
    assert_contains "$out" "1000(app)"
    assert_contains "$out" "50(staff)"
    capture $M run --rm -u nosuchuser $IMG true
    [ "$rc" -ne 0 ] || fail "unknown user accepted"
    assert_contains "$out" "unable to find user nosuchuser"
}

test_env_file() {
    printf 'A=1\n# comment\nB=two words\n' >envf
    out=$($M run --rm --env-file envf $IMG sh -c 'echo "$A|$B"')
    assert_eq "1|two words" "$out"
}

test_no_fd_leaks() {
    out=$($M run --rm $IMG ls /proc/self/fd)
    assert_eq "0
1
2
3" "$out" "fds inside (3 is ls's own directory)"
}

test_bind_mounts_and_read_only() {
    mkdir -p hostdir && echo from-host >hostdir/f
    assert_eq from-host "$($M run --rm -v "$PWD/hostdir:/data:ro" $IMG cat /data/f)"
    capture $M run --rm -v "$PWD/hostdir:/data:ro" $IMG touch /data/g
    [ "$rc" -ne 0 ] || fail "ro bind writable"
    $M run --rm -v "$PWD/hostdir:/data" $IMG sh -c 'echo written > /data/g'
    assert_eq written "$(cat hostdir/g)"
    capture $M run --rm --read-only $IMG touch /x
    [ "$rc" -ne 0 ] || fail "--read-only root writable"
    assert_eq ok "$($M run --rm --read-only --tmpfs /scratch $IMG sh -c 'touch /scratch/x && echo ok')"
    # A bind over one of /dev's default nodes wins over the node, as with runc.
    assert_eq from-host "$($M run --rm -v "$PWD/hostdir/f:/dev/zero:ro" $IMG cat /dev/zero)"
    assert_eq "c 1 3" "$($M run --rm -v "$PWD/hostdir/f:/dev/zero:ro" $IMG stat -c '%F %t %T' /dev/null |
        sed 's/character special file/c/')"
}

test_init_reaps_and_is_pid1() {
    out=$($M run --rm --init $IMG sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; echo $$')
    assert_contains "$out" "/sbin/docker-init -- sh"
    [ "$(sed -n 2p <<<"$out")" != 1 ] || fail "sh is pid 1 despite --init"
}

test_caps_privileged_and_seccomp_opts() {
    assert_contains "$($M run --rm --cap-drop ALL $IMG grep CapEff /proc/self/status)" "0000000000000000"
    out=$($M run --rm --cap-add NET_ADMIN $IMG grep CapEff /proc/self/status)
    assert_contains "$out" "00000000a80435fb"
    assert_contains "$($M run --rm --security-opt seccomp=unconfined $IMG grep Seccomp: /proc/self/status)" "0"
    assert_contains "$($M run --rm --security-opt no-new-privileges $IMG grep NoNewPrivs /proc/self/status)" "1"
    capture $M run --rm --cap-add NOPE $IMG true
    [ "$rc" -eq 125 ] || fail "unknown capability accepted ($rc)"
}

test_resources_in_cgroup() {
    id=$($M run -d --memory 64m --pids-limit 50 --cpus 0.5 $IMG sleep 30)
    if [ -d /sys/fs/cgroup/memory ]; then
        assert_eq 67108864 "$(cat /sys/fs/cgroup/memory/mocker/$id/memory.limit_in_bytes)"
        assert_eq 50 "$(cat /sys/fs/cgroup/pids/mocker/$id/pids.max)"
        assert_eq 50000 "$(cat /sys/fs/cgroup/cpu/mocker/$id/cpu.cfs_quota_us)"
    else
        assert_eq 67108864 "$(cat /sys/fs/cgroup/mocker/$id/memory.max)"
        assert_eq 50 "$(cat /sys/fs/cgroup/mocker/$id/pids.max)"
    fi
    $M rm -f "$id" >/dev/null
}

test_oom_kill_is_137() {
    capture $M run --name oom --memory 32m $IMG sh -c 'x=0123456789abcdef; while :; do x=$x$x; done'
    assert_eq 137 "$rc"
    assert_eq true "$($M inspect -f '{{.State.OOMKilled}}' oom)"
    $M rm oom >/dev/null
}

test_ulimit() {
    assert_eq 1024 "$($M run --rm --ulimit nofile=1024:2048 $IMG sh -c 'ulimit -n')"
    capture $M run --rm --ulimit nofile=10:5 $IMG true
    assert_eq 125 "$rc"
}

test_unsupported_flag_fails_125() {
    capture $M run --rm --ip6 ::1 $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "not supported"
    capture $M run --rm --bogus $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "unknown flag: --bogus"
}

test_missing_image() {
    capture $M run --rm --pull never nosuchimage true
    assert_eq 125 "$rc"
    assert_contains "$out" "No such image: nosuchimage"
    # the default (--pull missing) tries to pull it: from a loopback port
    # where nothing listens, since tests never reach Docker Hub
    before=$($M ps -aq | wc -l)
    capture $M run --rm 127.0.0.1:9/nosuchimage true
    assert_eq 125 "$rc"
    assert_contains "$out" "Unable to find image '127.0.0.1:9/nosuchimage:latest' locally"
    assert_contains "$out" 'Get "https://127.0.0.1:9/v2/"'
    assert_eq "$before" "$($M ps -aq | wc -l)" "containers after a failed pull"
}

test_runtime_runc() {
    command -v runc >/dev/null || { echo "runc missing"; return 0; }
    rm -f runc.cid
    out=$($M run --rm --cidfile runc.cid --runtime runc $IMG sh -c 'echo $$; grep CapEff /proc/self/status')
    assert_contains "$out" "1"
    assert_contains "$out" "00000000a80425fb"
    # runc's rootfs is mounted in the host: unmounted before the container's
    # directory leaves, so the trash empties and nothing stays.
    id=$(cat runc.cid)
    wait_for 50 sh -c "[ ! -e '$MOCKER_ROOT/trash/$id' ]" || fail "trash/$id never emptied"
    assert_eq "" "$(container_leftovers "$id")" "leftovers"
}

test_stdin_interactive() {
    assert_eq "piped in" "$(echo 'piped in' | $M run --rm -i $IMG cat)"
}

test_cidfile() {
    $M run -d --cidfile cid --name cidtest $IMG sleep 10 >id.out
    assert_eq "$(cat id.out)" "$(cat cid)"
    # As docker: a cidfile that exists stops the run before anything is created.
    n=$($M ps -aq | wc -l)
    capture $M run -d --cidfile cid $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "container ID file found"
    assert_eq "$n" "$($M ps -aq | wc -l)"
    # A create that fails leaves no cidfile behind.
    capture $M run -d --cidfile cid2 --name cidtest $IMG true
    assert_eq 125 "$rc"
    [ ! -e cid2 ] || fail "cidfile of a failed create stayed"
    $M rm -f "$(cat cid)" >/dev/null
}

# A --rm container whose set-up fails (before its process runs) is removed
# before the CLI reports it (its monitor does it now), leaving no cgroup.
test_run_rm_setup_failure_leaves_nothing() {
    rm -f setupfail.cid
    capture $M run --rm --cidfile setupfail.cid -u nosuchuser $IMG true
    [ "$rc" -ne 0 ] || fail "unknown user accepted"
    id=$(cat setupfail.cid)
    [ -n "$id" ] || fail "no id in the cidfile"
    assert_eq "" "$($M ps -aq --no-trunc --filter "id=$id")"
    for d in /sys/fs/cgroup/*/mocker/"$id" /sys/fs/cgroup/mocker/"$id"; do
        [ ! -e "$d" ] || fail "cgroup $d stayed"
    done
}

test_device_node_and_access() {
    out=$($M run --rm --device /dev/null:/dev/mynull:rwm $IMG sh -c 'stat -c "%F %t:%T %a %u:%g" /dev/mynull; echo x >/dev/mynull && echo written')
    assert_eq "character special file 1:3 666 0:0
written" "$out"
    id=$($M create --device /dev/null:/dev/mynull:rw $IMG true)
    assert_eq '[{"PathOnHost":"/dev/null","PathInContainer":"/dev/mynull","CgroupPermissions":"rw"}]' \
        "$($M inspect -f '{{json .HostConfig.Devices}}' "$id")"
    assert_eq '[] null' "$($M inspect -f '{{json .HostConfig.Devices}} {{json .HostConfig.DeviceCgroupRules}}' "$($M create $IMG true)")"
    [ -c /dev/fuse ] || { echo "no /dev/fuse on this host"; return 0; }
    # Read-only permission: the node is there, opening it for writing is not allowed.
    out=$($M run --rm --device /dev/fuse:/dev/f2:r $IMG sh -c 'stat -c "%t:%T" /dev/f2; (: </dev/f2) && echo read-ok; (: >/dev/f2) 2>&1 || echo write-denied')
    assert_contains "$out" "a:e5"
    assert_contains "$out" "read-ok"
    assert_contains "$out" "Operation not permitted"
    assert_contains "$out" "write-denied"
}

test_device_bad_specs() {
    capture $M run --rm --device /dev/null:/dev/x:rwx $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "bad mode specified: rwx"
    capture $M run --rm --device /dev/null:x $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "x is not an absolute path"
    capture $M run --rm --device /dev/null:/a:r:w $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "bad format for path: /dev/null:/a:r:w"
    capture $M run --rm --device /etc/passwd $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" 'error gathering device information while adding custom device "/etc/passwd": not a device node'
    capture $M run --rm --device /nonexistent-dev $IMG true
    assert_eq 127 "$rc"
    assert_contains "$out" '"/nonexistent-dev": no such file or directory'
    capture $M run --rm --device-cgroup-rule 'c 1:3' $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "invalid argument \"c 1:3\" for \"--device-cgroup-rule\" flag: invalid device cgroup format 'c 1:3'"
}

# docker's default device rules: /dev/null is usable; mknod of any node is
# allowed (c *:* m) but opening one outside the list is not.
test_default_device_rules_and_cgroup_rule() {
    assert_eq ok "$($M run --rm $IMG sh -c 'echo x >/dev/null && echo ok')"
    [ -c /dev/fuse ] || { echo "no /dev/fuse on this host"; return 0; }
    out=$($M run --rm $IMG sh -c 'mknod /dev/f c 10 229 && echo made; (: </dev/f) 2>&1 || echo open-denied')
    assert_contains "$out" "made"
    assert_contains "$out" "Operation not permitted"
    assert_contains "$out" "open-denied"
    out=$($M run --rm --device-cgroup-rule 'c 10:229 r' $IMG sh -c 'mknod /dev/f c 10 229; (: </dev/f) && echo read-ok; (: >/dev/f) 2>/dev/null || echo write-denied')
    assert_eq "read-ok
write-denied" "$out"
    id=$($M create --device-cgroup-rule 'c 10:229 r' $IMG true)
    assert_eq '["c 10:229 r"]' "$($M inspect -f '{{json .HostConfig.DeviceCgroupRules}}' "$id")"
}

test_cgroupns_modes() {
    if [ -d /sys/fs/cgroup/memory ]; then default=host; else default=private; fi
    id=$($M create $IMG cat /proc/self/cgroup)
    assert_eq "$default" "$($M inspect -f '{{.HostConfig.CgroupnsMode}}' "$id")"
    out=$($M start -a "$id")
    if [ "$default" = host ]; then
        assert_contains "$out" ":memory:/mocker/$id"
        assert_contains "$out" "0::/mocker/$id"
    else
        assert_eq "0::/" "$out"
    fi
    id=$($M create --cgroupns host $IMG cat /proc/self/cgroup)
    assert_eq host "$($M inspect -f '{{.HostConfig.CgroupnsMode}}' "$id")"
    assert_contains "$($M start -a "$id")" "0::/mocker/$id"
    id=$($M create --cgroupns private $IMG cat /proc/self/cgroup)
    assert_eq private "$($M inspect -f '{{.HostConfig.CgroupnsMode}}' "$id")"
    out=$($M start -a "$id")
    assert_not_contains "$out" "/mocker"
    assert_contains "$out" "0::/"
    capture $M run --rm --cgroupns bogus $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "--cgroupns: invalid CGROUP mode"
}

test_oom_kill_disable() {
    if [ ! -d /sys/fs/cgroup/memory ]; then
        capture $M run --rm --oom-kill-disable $IMG true
        assert_eq 125 "$rc"
        assert_contains "$out" "--oom-kill-disable is not supported on a cgroup v2 host"
        return 0
    fi
    warning="WARNING: OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources."
    capture $M run -d --oom-kill-disable $IMG sleep 30
    assert_eq 0 "$rc"
    assert_contains "$out" "$warning"
    id=$(tail -n1 <<<"$out")
    assert_eq "oom_kill_disable 1" "$(head -n1 /sys/fs/cgroup/memory/mocker/$id/memory.oom_control)"
    assert_eq true "$($M inspect -f '{{.HostConfig.OomKillDisable}}' "$id")"
    assert_eq "oom_kill_disable 1" "$($M exec "$id" head -n1 /sys/fs/cgroup/memory/memory.oom_control)"
    $M rm -f "$id" >/dev/null
    capture $M run --rm --oom-kill-disable -m 64m $IMG head -n1 /sys/fs/cgroup/memory/memory.oom_control
    assert_eq "oom_kill_disable 1" "$out" "no warning with --memory"
    assert_eq false "$($M inspect -f '{{.HostConfig.OomKillDisable}}' "$($M create $IMG true)")"
    assert_eq "oom_kill_disable 0" "$($M run --rm $IMG head -n1 /sys/fs/cgroup/memory/memory.oom_control)"
}

test_cgroup_parent() {
    if [ -d /sys/fs/cgroup/pids ]; then cg=/sys/fs/cgroup/pids; else cg=/sys/fs/cgroup; fi
    p=mktest-$$
    id=$($M run -d --cgroup-parent "/$p/sub" $IMG sleep 30)
    assert_eq "/$p/sub" "$($M inspect -f '{{.HostConfig.CgroupParent}}' "$id")"
    [ -d "$cg/$p/sub/$id" ] || fail "no cgroup $cg/$p/sub/$id"
    assert_contains "$(cat "$cg/$p/sub/$id/cgroup.procs")" "$($M inspect -f '{{.State.Pid}}' "$id")"
    $M rm -f "$id" >/dev/null
    [ ! -d "$cg/$p/sub/$id" ] || fail "cgroup left after rm"
    # ".." stops at the hierarchy's root, as in docker: ../../x is /x.
    out=$($M run --rm --cgroup-parent "../../$p-esc" $IMG cat /proc/self/cgroup)
    assert_contains "$out" "0::/$p-esc/"
    out=$($M run --rm --cgroup-parent "/a/../../$p-b" $IMG cat /proc/self/cgroup)
    assert_contains "$out" "0::/$p-b/"
    # Parents stay after the container, as docker's do: remove ours.
    for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
        rmdir "$h$p/sub" "$h$p" "$h$p-esc" "$h$p-b" 2>/dev/null || true
    done
}

# --memory-swappiness reaches the cgroup; --blkio-weight too, or, where the
# kernel has no blkio.weight (as on this VM's virtio disk), docker's warning
# and a discarded weight.  Out-of-range values are refused.
test_swappiness_and_blkio_weight() {
    [ -d /sys/fs/cgroup/memory ] || return 0 # swappiness is a cgroup v1 knob
    id=$($M run -d --memory-swappiness 10 --blkio-weight 300 $IMG sleep 30 2>warn.txt)
    assert_eq 10 "$(cat /sys/fs/cgroup/memory/mocker/$id/memory.swappiness)"
    if [ -e /sys/fs/cgroup/blkio/blkio.weight ]; then
        assert_eq 300 "$(cat /sys/fs/cgroup/blkio/mocker/$id/blkio.weight)"
    else
        assert_contains "$(cat warn.txt)" "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded."
        assert_eq 0 "$($M inspect -f '{{.HostConfig.BlkioWeight}}' $id)"
    fi
    $M rm -f $id >/dev/null
    capture $M run --rm --memory-swappiness 101 $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "valid memory swappiness range is 0-100"
}

test_network_and_pid_of_another_container() {
    web=$($M run -d $IMG sleep 60)
    on_exit '$M rm -f "$web" >/dev/null 2>&1'
    $M exec "$web" sh -c 'nc -l -p 7777 -e echo from-web &' # a listener on the shared loopback
    # The same network namespace (its loopback), pid namespace and hostname.
    capture $M run --rm --network "container:$web" --pid "container:$web" $IMG \
        sh -c 'hostname; ps -o comm | grep -c sleep; nc 127.0.0.1 7777 </dev/null'
    assert_eq 0 "$rc" "run in another container's namespaces: $out"
    assert_eq "${web:0:12}
1
from-web" "$out"
    capture $M run --rm --network "container:$web" -h other $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "conflicting options: hostname and the network mode"
    capture $M run --rm --network "container:$web" -p 80 $IMG true
    assert_eq 125 "$rc"
    capture $M run --rm --network container:nope $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "No such container: nope"
    capture $M run --rm --ipc "container:$web" $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "cannot share a container's /dev/shm"
    stopped=$($M create $IMG true)
    capture $M run --rm --network "container:$stopped" $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "cannot join network of a non running container"
    $M rm "$stopped" >/dev/null
}

# The mount points every container gets come from the store's init layer:
# nothing is made in the container's upper dir to mount on (docker keeps them
# in an init layer too), and they are not in its diff.
test_mount_points_from_init_layer() {
    id=$($M run -d --network none $IMG sleep 30)
    on_exit "$M rm -f $id >/dev/null 2>&1"
    assert_eq "$(echo "$id" | cut -c1-12)" "$($M exec "$id" cat /etc/hostname)"
    $M exec "$id" grep -q localhost /etc/hosts || fail "no /etc/hosts in the container"
    assert_eq "" "$(find "$MOCKER_ROOT/containers/$id/upper" -mindepth 1)" "made in the upper dir"
    assert_eq "" "$($M diff "$id")"
    lower=$($M inspect -f '{{.GraphDriver.Data.LowerDir}}' "$id")
    assert_eq "$MOCKER_ROOT/layers/init/diff" "${lower%%:*}"
    [ -f "$MOCKER_ROOT/layers/init/diff/etc/resolv.conf" ] || fail "init layer incomplete"
    [ ! -s "$MOCKER_ROOT/layers/init/diff/etc/hosts" ] || fail "init layer's hosts not empty"
}
