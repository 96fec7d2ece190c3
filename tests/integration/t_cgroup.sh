# t_cgroup.sh: pause/unpause, stats, top and update: what the cgroups show.

# The counter the container writes every 0.1s.
counter() { $M exec "$1" cat /tmp/c; }

test_pause_freezes_and_unpause_resumes() {
    # written aside and renamed: a reader never sees the file empty
    id=$($M run -d --name ctr $IMG sh -c 'i=0; while true; do i=$((i+1)); echo $i >/tmp/n; mv /tmp/n /tmp/c; sleep 0.1; done')
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

# "336KiB" / "1.5MiB" -> bytes
binary_bytes() {
    awk -v s="$1" 'BEGIN { n = s + 0; u = s; sub(/^[0-9.]+/, "", u);
        m["B"] = 1; m["KiB"] = 1024; m["MiB"] = 1048576; m["GiB"] = 1073741824;
        printf "%d\n", n * m[u] }'
}

# The container's memory usage as docker computes it, from the cgroup itself.
cgroup_mem_usage() { # id
    local d
    if [ -d /sys/fs/cgroup/memory ]; then
        d=/sys/fs/cgroup/memory/mocker/$1
        echo $(($(cat $d/memory.usage_in_bytes) - $(awk '$1 == "total_inactive_file" { print $2 }' $d/memory.stat)))
    else
        d=/sys/fs/cgroup/mocker/$1
        echo $(($(cat $d/memory.current) - $(awk '$1 == "inactive_file" { print $2 }' $d/memory.stat)))
    fi
}

test_stats_no_stream() {
    id=$($M run -d --name st1 --network none -m 64m $IMG sh -c 'x=$(head -c 8000000 /dev/zero | tr "\0" x); touch /tmp/ready; sleep 1000; echo ${#x}')
    wait_for 50 $M exec st1 test -e /tmp/ready
    sleep 0.3
    out=$($M stats --no-stream)
    assert_contains "$(echo "$out" | head -1)" "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS"
    assert_contains "$out" "${id:0:12}   st1 "
    line=$($M stats --no-stream --format '{{.Container}} {{.ID}} {{.Name}} {{.MemUsage}} {{.PIDs}} {{.NetIO}}' st1)
    set -- $line
    assert_eq "st1 ${id:0:12} st1" "$1 $2 $3"
    assert_eq "/ 64MiB 2 0B / 0B" "$5 $6 $7 $8 $9 ${10}" "limit, pids (sh and sleep), net"
    got=$(binary_bytes "$4")
    want=$(cgroup_mem_usage "$id")
    # The shell holds 8 MB of anonymous memory; the figure may move by a few
    # pages between the two reads.
    [ "$want" -gt 1000000 ] || fail "cgroup usage only $want"
    diff=$((got - want)); diff=${diff#-}
    [ "$diff" -lt $((want / 20 + 65536)) ] || fail "stats says $got bytes, the cgroup $want"
    # A busy container shows its CPU use (one core of a loop: well above 20%).
    $M run -d --name busy --network none $IMG sh -c 'while true; do :; done' >/dev/null
    cpu=$($M stats --no-stream --format '{{.CPUPerc}}' busy)
    [ "${cpu%%.*}" -ge 20 ] || fail "busy loop at $cpu"
    capture $M stats --no-stream nosuch
    assert_eq "1 Error response from daemon: No such container: nosuch" "$rc $out"
    $M rm -f st1 busy >/dev/null
}

test_stats_stream_redraws() {
    $M run -d --name live $IMG sleep 1000 >/dev/null
    set +e
    timeout 2.5 $M stats --format '{{.Name}} {{.PIDs}}' live >stream.out
    set -e
    # docker's frame: cursor home, lines each ending in erase-line, erase below.
    assert_eq "$(printf '\033[Hlive 1\033[K\n\033[J\033[Hlive 1\033[K\n\033[J')" "$(cat stream.out)"
    $M rm -f live >/dev/null
}

test_top_lists_the_container_processes() {
    id=$($M run -d --name tp $IMG sh -c 'sleep 1001 & sleep 1002; echo done')
    wait_for 30 sh -c "$M top tp | grep -q 'sleep 1001'"
    out=$($M top tp)
    assert_eq "UID                 PID                 PPID                C                   STIME               TTY                 TIME                CMD" "$(echo "$out" | head -1)"
    assert_contains "$out" "sleep 1001"
    assert_contains "$out" "sleep 1002"
    assert_contains "$out" "sh -c sleep 1001 & sleep 1002; echo done"
    assert_eq 4 "$(echo "$out" | wc -l)" "header and three processes"
    # ps options are passed on; the PID column picks the rows.
    pid=$($M inspect -f '{{.State.Pid}}' tp)
    assert_contains "$($M top tp -o pid,comm)" "$(printf "%-20ssh" "$pid")"
    capture $M top tp --badopt
    assert_eq "1 Error response from daemon: ps: error: unknown gnu long option" "$rc $out"
    $M kill tp >/dev/null
    $M wait tp >/dev/null
    capture $M top tp
    assert_eq "1 Error response from daemon: Container $id is not running" "$rc $out"
    $M rm tp >/dev/null
}

test_update_memory_of_running_container() {
    id=$($M run -d --name up $IMG sleep 1000)
    assert_eq up "$($M update -m 100m --pids-limit 50 --restart on-failure:3 up)"
    if [ -d /sys/fs/cgroup/memory ]; then
        assert_eq 104857600 "$(cat /sys/fs/cgroup/memory/mocker/$id/memory.limit_in_bytes)"
        assert_eq 50 "$(cat /sys/fs/cgroup/pids/mocker/$id/pids.max)"
    else
        assert_eq 104857600 "$(cat /sys/fs/cgroup/mocker/$id/memory.max)"
    fi
    assert_eq '104857600 50 {"Name":"on-failure","MaximumRetryCount":3}' \
        "$($M inspect -f '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{json .HostConfig.RestartPolicy}}' up)"
    capture $M update up
    assert_eq "1 you must provide one or more flags when using this command" "$rc $out"
    capture $M update -m 1m up
    assert_eq "1 Error response from daemon: Minimum memory limit allowed is 6MB" "$rc $out"
    capture $M update --restart always:3 up
    assert_eq "1 Error response from daemon: maximum retry count cannot be used with restart policy 'always'" "$rc $out"
    # Kept for the next start.
    $M rm -f up >/dev/null
}

# A monitor killed between making the cgroup and writing config.json leaves a
# container with a cgroup and no spec: rm finds the cgroup by its path.
test_rm_without_spec_removes_cgroup() {
    id=$($M create $IMG true)
    made=0
    for h in /sys/fs/cgroup/*/; do
        [ -d "$h/mocker" ] || continue
        mkdir "$h/mocker/$id" && made=$((made + 1))
    done
    [ "$made" -gt 0 ] || skip "no mocker cgroup parent on this host"
    $M rm "$id" >/dev/null
    assert_eq "" "$(container_leftovers "$id")"
}
