# t_restart.sh: restart policies, the restart command, and the boot pass.

# The running state of a container, for wait_for.
is_status() { # name status
    [ "$($M inspect -f '{{.State.Status}}' "$1")" = "$2" ]
}

test_restart_flag_validation() {
    capture $M create --restart on-failure:x $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "invalid restart policy format: maximum retry count must be an integer"
    capture $M create --restart always:3 $IMG true
    assert_eq 1 "$rc"
    assert_contains "$out" "maximum retry count cannot be used with restart policy 'always'"
    capture $M create --restart bogus $IMG true
    assert_contains "$out" "invalid restart policy 'bogus'"
    capture $M run --rm --restart always $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "conflicting options: cannot specify both --restart and --rm"
    id=$($M create --restart on-failure:5 $IMG true)
    assert_eq '{"Name":"on-failure","MaximumRetryCount":5}' \
        "$($M inspect -f '{{json .HostConfig.RestartPolicy}}' "$id")"
    id=$($M create $IMG true)
    assert_eq no "$($M inspect -f '{{.HostConfig.RestartPolicy.Name}}' "$id")"
}

test_on_failure_retries() {
    $M run -d --name of3 --restart on-failure:3 $IMG sh -c 'echo run; exit 1' >/dev/null
    # 100 + 200 + 400 ms of back-off: done well within 5 s.
    wait_for 50 is_status of3 exited || fail "never settled: $($M ps -a)"
    sleep 0.5
    assert_eq "exited 3 1" "$($M inspect -f '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}' of3)"
    assert_eq 4 "$($M logs of3 | grep -c run)" "runs in total"
}

test_on_failure_success_is_final() {
    $M run -d --name ok --restart on-failure $IMG true >/dev/null
    wait_for 30 is_status ok exited
    sleep 0.3
    assert_eq "exited 0" "$($M inspect -f '{{.State.Status}} {{.RestartCount}}' ok)"
}

test_restarting_status_in_ps() {
    $M run -d --name flap --restart always $IMG sh -c 'exit 2' >/dev/null
    # Later back-offs are long (800 ms and more): room to look at the state.
    long_backoff() { [ "$($M inspect -f '{{.RestartCount}}' flap)" -ge 4 ]; }
    wait_for 50 long_backoff || fail "not restarting: $($M ps -a)"
    state() { st=$($M inspect -f '{{.State.Status}} {{.State.Restarting}} {{.State.Pid}} {{.State.ExitCode}}' flap); [ "${st%% *}" = restarting ]; }
    wait_for 30 state || fail "never restarting"
    assert_eq "restarting true 0 2" "$st"
    ps_status() { s=$($M ps --format '{{.Status}}' -f name=flap); [ "${s%% *}" = Restarting ]; }
    wait_for 30 ps_status || fail "ps never showed Restarting"
    assert_contains "$s" "Restarting (2) "
    id=$($M inspect -f '{{.Id}}' flap)
    # rm -f of a restarting container leaves nothing behind, its monitor
    # (forked by `run`, so named by the run's command line) included.
    monitor="__monitor $id|--name flap --restart always"
    [ -n "$(pgrep -f -- "$monitor")" ] || fail "the monitor is not found by its command line"
    $M rm -f flap >/dev/null
    sleep 0.3
    assert_eq "" "$(container_leftovers "$id")"
    assert_eq "" "$(pgrep -f -- "$monitor" || true)"
}

test_always_survives_kill_9() {
    $M run -d --name al --restart always $IMG sleep 100 >/dev/null
    pid=$($M inspect -f '{{.State.Pid}}' al)
    started=$($M inspect -f '{{.State.StartedAt}}' al)
    kill -9 "$pid"
    new_pid() { p=$($M inspect -f '{{.State.Pid}}' al); [ "$p" != 0 ] && [ "$p" != "$pid" ]; }
    wait_for 30 new_pid || fail "not restarted: $($M ps -a)"
    assert_eq "running 1" "$($M inspect -f '{{.State.Status}} {{.RestartCount}}' al)"
    [ "$($M inspect -f '{{.State.StartedAt}}' al)" != "$started" ] || fail "StartedAt unchanged"
    # The same attach socket serves the new run.
    assert_eq hi "$($M exec al echo hi)"
    $M rm -f al >/dev/null
}

test_stop_and_kill_are_not_undone() {
    $M run -d --name st --restart always $IMG sleep 100 >/dev/null
    $M stop -t 1 st >/dev/null
    sleep 0.5
    assert_eq "exited 0" "$($M inspect -f '{{.State.Status}} {{.RestartCount}}' st)"
    # start resumes the policy
    $M start st >/dev/null
    pid=$($M inspect -f '{{.State.Pid}}' st)
    kill -9 "$pid"
    wait_for 30 is_status st running
    restarted() { [ "$($M inspect -f '{{.RestartCount}}' st)" = 1 ]; }
    wait_for 30 restarted || fail "policy not resumed after start"
    $M kill st >/dev/null
    sleep 0.5
    assert_eq "exited 137" "$($M inspect -f '{{.State.Status}} {{.State.ExitCode}}' st)"
    $M rm st >/dev/null
}

test_stop_during_backoff() {
    $M run -d --name bo --restart always $IMG sh -c 'exit 3' >/dev/null
    wait_for 50 is_status bo restarting
    $M stop bo >/dev/null
    assert_eq "exited 3" "$($M inspect -f '{{.State.Status}} {{.State.ExitCode}}' bo)"
    sleep 1
    assert_eq exited "$($M inspect -f '{{.State.Status}}' bo)"
}

test_wait_returns_at_the_exit() {
    # docker wait returns at each exit, restarted or not.
    $M run -d --name wt --restart always $IMG sh -c 'sleep 0.5; exit 4' >/dev/null
    assert_eq 4 "$($M wait wt)"
    $M rm -f wt >/dev/null
}

test_restart_command() {
    $M run -d --name rs $IMG sleep 100 >/dev/null
    pid=$($M inspect -f '{{.State.Pid}}' rs)
    assert_eq rs "$($M restart -t 1 rs)"
    assert_eq running "$($M inspect -f '{{.State.Status}}' rs)"
    [ "$($M inspect -f '{{.State.Pid}}' rs)" != "$pid" ] || fail "same pid after restart"
    $M stop -t 0 rs >/dev/null
    assert_eq rs "$($M container restart rs)" "restart of a stopped container"
    assert_eq running "$($M inspect -f '{{.State.Status}}' rs)"
    capture $M restart nosuch
    assert_eq 1 "$rc"
    assert_contains "$out" "No such container: nosuch"
    $M rm -f rs >/dev/null
}

# Simulated reboot: monitors and containers die with SIGKILL and the run
# root's marker names another boot (as after a reboot of a host whose /run is
# not a tmpfs, like this one); the next command brings back what the policies
# say and records this boot.
test_boot_restarts_policies() {
    $M run -d --name b_always --restart always $IMG sleep 100 >/dev/null
    $M run -d --name b_unless --restart unless-stopped $IMG sleep 100 >/dev/null
    $M run -d --name b_none $IMG sleep 100 >/dev/null
    $M run -d --name b_stopped --restart unless-stopped $IMG sleep 100 >/dev/null
    $M stop -t 0 b_stopped >/dev/null
    for n in b_always b_unless b_none; do
        # The monitor first: alive, it would restart the container itself.
        mon=$(monitor_pid $n)
        [ -n "$mon" ] || fail "no monitor for $n"
        kill -9 "$mon" "$($M inspect -f '{{.State.Pid}}' $n)"
    done
    echo 00000000-0000-0000-0000-000000000000 >"$MOCKER_RUNROOT/booted"
    sleep 0.2
    out=$($M ps -a --format '{{.Names}} {{.State}}' | sort)
    assert_eq "b_always running
b_none exited
b_stopped exited
b_unless running" "$out"
    assert_eq hi "$($M exec b_always echo hi)"
    assert_eq "$(cat /proc/sys/kernel/random/boot_id)" "$(cat "$MOCKER_RUNROOT/booted")" "marker"
    $M rm -f b_always b_unless b_none b_stopped >/dev/null
}
