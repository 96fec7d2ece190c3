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
    capture $M run --rm -p 8080:80 $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "not supported"
    capture $M run --rm --bogus $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "unknown flag: --bogus"
}

test_missing_image() {
    capture $M run --rm nosuchimage true
    assert_eq 125 "$rc"
    assert_contains "$out" "No such image: nosuchimage"
}

test_runtime_runc() {
    command -v runc >/dev/null || { echo "runc missing"; return 0; }
    out=$($M run --rm --runtime runc $IMG sh -c 'echo $$; grep CapEff /proc/self/status')
    assert_contains "$out" "1"
    assert_contains "$out" "00000000a80425fb"
}

test_stdin_interactive() {
    assert_eq "piped in" "$(echo 'piped in' | $M run --rm -i $IMG cat)"
}

test_cidfile() {
    $M run -d --cidfile cid $IMG sleep 10 >id.out
    assert_eq "$(cat id.out)" "$(cat cid)"
    capture $M run -d --cidfile cid $IMG true
    assert_eq 125 "$rc"
    $M rm -f "$(cat cid)" >/dev/null
}
