# t_cgroup.sh: pause/unpause, stats, top and update: what the cgroups show.

# The counter the container writes every 0.1s.
counter() { $M exec "$1" cat /tmp/c; }

test_pause_freezes_and_unpause_resumes() {
    id=$($M run -d --name ctr $IMG sh -c 'i=0; while true; do i=$((i+1)); echo $i >/tmp/c; sleep 0.1; done')
    wait_for 30 counter ctr
    assert_eq ctr "$($M pause ctr)"
    assert_contains "$($M ps --format '{{.Status}}')" "(Paused)"
    assert_eq "paused true true" "$($M inspect -f '{{.State.Status}} {{.State.Paused}} {{.State.Running}}' ctr)"
    capture $M pause ctr
    assert_eq 1 "$rc" "pause twice"
    assert_eq "Error response from daemon: Container $id is already paused" "$out"
    capture $M exec ctr true
    assert_eq "Error response from daemon: Container ctr is paused, unpause the container before exec" "$out"
    # Frozen: the counter does not move (read from the host through the rootfs).
    pid=$($M inspect -f '{{.State.Pid}}' ctr)
    a=$(cat /proc/$pid/root/tmp/c)
    sleep 0.5
    assert_eq "$a" "$(cat /proc/$pid/root/tmp/c)" "counter while paused"
    assert_eq ctr "$($M unpause ctr)"
    assert_eq "running false" "$($M inspect -f '{{.State.Status}} {{.State.Paused}}' ctr)"
    sleep 0.5
    b=$(counter ctr)
    [ "$b" -gt "$a" ] || fail "counter did not resume: $a then $b"
    capture $M unpause ctr
    assert_eq "Error response from daemon: Container $id is not paused" "$out"
    # rm -f of a paused container: killed, thawed and gone without a trace.
    $M pause ctr >/dev/null
    $M rm -f ctr >/dev/null
    assert_eq "" "$(container_leftovers "$id")" "leftovers"
}

test_pause_stopped_and_missing() {
    id=$($M create --name idle $IMG true)
    capture $M pause idle
    assert_eq "1 Error response from daemon: Container $id is not running" "$rc $out"
    capture $M unpause idle
    assert_eq "1 Error response from daemon: Container $id is not paused" "$rc $out"
    capture $M pause nosuch
    assert_eq "1 Error response from daemon: No such container: nosuch" "$rc $out"
    $M rm idle >/dev/null
}

test_kill_and_stop_of_paused_container() {
    # docker sends the signal, then thaws: the container runs on when it ignores it.
    $M run -d --name sleeper $IMG sh -c 'trap "" TERM; while true; do sleep 0.1; done' >/dev/null
    $M pause sleeper >/dev/null
    $M kill -s TERM sleeper >/dev/null
    assert_eq running "$($M inspect -f '{{.State.Status}}' sleeper)"
    $M pause sleeper >/dev/null
    $M stop -t 1 sleeper >/dev/null
    assert_eq "exited 137" "$($M inspect -f '{{.State.Status}} {{.State.ExitCode}}' sleeper)"
    $M rm sleeper >/dev/null
}
