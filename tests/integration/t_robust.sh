# t_robust.sh: concurrency and kill -9 at random moments.

test_parallel_runs() {
    for i in $(seq 1 20); do
        ($M run -d $IMG sleep 20 >"par.$i" 2>"par.$i.err"; echo $? >"par.$i.rc") &
    done
    wait
    for i in $(seq 1 20); do
        assert_eq 0 "$(cat par.$i.rc)" "run #$i ($(cat par.$i.err))"
    done
    assert_eq 20 "$(cat par.* 2>/dev/null | grep -E '^[0-9a-f]{64}$' | sort -u | wc -l)" "distinct ids"
    assert_eq 20 "$($M ps --format '{{.Names}}' | sort -u | wc -l)" "distinct running names"
    $M ps -q | xargs $M rm -f >/dev/null
    assert_eq "" "$($M ps -aq)"
}

test_kill9_during_run_and_rm() {
    for i in $(seq 1 100); do
        if [ $((i % 2)) -eq 0 ]; then
            $M run -d $IMG sleep 5 >/dev/null 2>&1 &
        else
            victim=$($M ps -aq | head -1)
            if [ -n "$victim" ]; then $M rm -f "$victim" >/dev/null 2>&1 & else $M run --rm $IMG true >/dev/null 2>&1 & fi
        fi
        p=$!
        sleep "0.00$((RANDOM % 10))"
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    sleep 0.5
    # ps -a is truthful: a container it calls Up has a live process.
    for id in $($M ps -q --no-trunc); do
        pid=$($M inspect -f '{{.State.Pid}}' "$id")
        [ -d "/proc/$pid" ] || fail "ps says $id runs but pid $pid is gone"
    done
    $M ps -aq --no-trunc >ids
    if [ -s ids ]; then
        xargs $M rm -f <ids >/dev/null || fail "rm -f could not clean up"
    fi
    assert_eq "" "$($M ps -aq)" "containers left"
    for id in $(cat ids); do
        assert_eq "" "$(container_leftovers "$id")" "leftovers of $id"
    done
    assert_eq "" "$(ls "$MOCKER_ROOT/containers")" "container dirs left"
}
