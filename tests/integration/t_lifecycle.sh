# t_lifecycle.sh: run -d, logs, exec, stop, kill, rm, wait, create/start, ps, inspect.

test_detached_logs_follow() {
    id=$($M run -d --name ticker $IMG sh -c 'for i in 1 2 3 4 5; do echo line$i; sleep 0.2; done; echo err >&2')
    [[ "$id" =~ ^[0-9a-f]{64}$ ]] || fail "run -d printed [$id]"
    $M logs -f ticker >follow.out 2>follow.err &
    lp=$!
    sleep 0.3
    # While it runs, the follower has already printed the first lines.
    grep -q line1 follow.out || fail "logs -f did not stream while running"
    wait $lp
    assert_eq "line1
line2
line3
line4
line5" "$(cat follow.out)"
    assert_eq err "$(cat follow.err)"
    assert_eq 0 "$($M wait ticker)"
    assert_eq "line4
line5" "$($M logs --tail 3 ticker 2>/dev/null)" "tail 3 (the last entry is on stderr)"
    assert_contains "$($M logs -t ticker 2>/dev/null | head -1)" "Z line1"
    $M rm ticker >/dev/null
}

test_exec_tty_and_plain() {
    $M run -d --name box $IMG sleep 30 >/dev/null
    assert_eq hi "$($M exec box echo hi)"
    out=$($M exec -t box sh -c 'tty; test -t 1 && echo is-a-tty')
    assert_contains "$out" "/dev/pts/"
    assert_contains "$out" "is-a-tty"
    capture $M exec box sh -c 'exit 7'
    assert_eq 7 "$rc"
    assert_eq "1000" "$($M exec -u app box id -u)"
    assert_eq "/tmp" "$($M exec -w /tmp box pwd)"
    assert_eq "v" "$($M exec -e X=v box sh -c 'echo $X')"
    # the exec joins the container's pid namespace
    assert_contains "$($M exec box ps)" "sleep 30"
    $M rm -f box >/dev/null
}

test_stop_sends_signal_then_kill() {
    $M run -d --name polite $IMG sh -c 'trap "echo got-term; exit 3" TERM; while :; do sleep 0.1; done' >/dev/null
    sleep 0.3
    $M stop polite >/dev/null
    assert_eq 3 "$($M inspect -f '{{.State.ExitCode}}' polite)"
    assert_contains "$($M logs polite)" got-term
    $M run -d --name stubborn $IMG sh -c 'trap "" TERM; while :; do sleep 0.1; done' >/dev/null
    sleep 0.3
    start=$(date +%s%N)
    $M stop -t 1 stubborn >/dev/null
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$ms" -ge 900 ] || fail "stop -t 1 returned after $ms ms, before the timeout"
    assert_eq 137 "$($M inspect -f '{{.State.ExitCode}}' stubborn)"
    assert_eq exited "$($M inspect -f '{{.State.Status}}' stubborn)"
    $M run -d --name custom --stop-signal USR1 $IMG sh -c 'trap "exit 9" USR1; while :; do sleep 0.1; done' >/dev/null
    sleep 0.3
    $M stop custom >/dev/null
    assert_eq 9 "$($M inspect -f '{{.State.ExitCode}}' custom)"
    $M rm polite stubborn custom >/dev/null
}

test_rm_leaves_nothing() {
    id=$($M run -d $IMG sleep 30)
    pid=$($M inspect -f '{{.State.Pid}}' "$id")
    [ -d "/proc/$pid" ] || fail "container process $pid not running"
    capture $M rm "$id"
    assert_eq 1 "$rc" "rm of a running container without -f"
    assert_contains "$out" "Stop the container before attempting removal or force remove"
    capture $M rm -f "$id"
    assert_eq 0 "$rc" "rm -f ($out)"
    sleep 0.1
    [ ! -d "/proc/$pid" ] || fail "process $pid survived rm -f"
    assert_eq "" "$(container_leftovers "$id")" "leftovers"
}

# run --rm returns once the container is gone from the store; its directory
# goes to the trash and the monitor empties it after reporting the exit.  A
# trash entry whose remover died is taken by the next removal.
test_rm_trash() {
    rm -f rmtrash.cid
    $M run --rm --cidfile rmtrash.cid $IMG true
    id=$(cat rmtrash.cid)
    [ ! -e "$MOCKER_ROOT/containers/$id" ] || fail "container dir still in place after run --rm"
    wait_for 50 sh -c "[ ! -e '$MOCKER_ROOT/trash/$id' ]" || fail "trash/$id never emptied"
    mkdir -p "$MOCKER_ROOT/trash/0123abcd/upper/deep"
    id=$($M create $IMG true)
    $M rm "$id" >/dev/null
    [ ! -e "$MOCKER_ROOT/trash/0123abcd" ] || fail "a dead remover's trash entry survived rm"
    assert_eq "" "$(container_leftovers "$id")" "leftovers"
}

# A removed container's directory left as its create made it serves the next
# create (container_dir.c): same inodes, the new container's files, an empty
# log.  One whose root dir, files or upper layer the container changed is
# deleted instead, and nothing of it reaches the next container.
test_kept_container_dir() {
    pool=$MOCKER_ROOT/pool
    $M run --rm $IMG sh -c 'echo from-first' >/dev/null
    wait_for 50 test -d "$pool/0" || fail "a clean --rm container's directory was not kept"
    ino=$(stat -c %i "$pool/0/upper")
    id=$($M run -d -h second-host $IMG sh -c 'cat /etc/hostname; sleep 30')
    [ ! -e "$pool/0" ] || fail "the kept directory was not taken"
    assert_eq "$ino" "$(stat -c %i "$MOCKER_ROOT/containers/$id/upper")" "upper dir of the taken directory"
    wait_for 30 sh -c "$M logs $id | grep -q second-host" || fail "no hostname in the logs: $($M logs "$id" 2>&1)"
    assert_eq "second-host" "$($M logs "$id" 2>&1)" "logs of the container in the taken directory"
    assert_eq "second-host" "$(cat "$MOCKER_ROOT/containers/$id/hostname")" "hostname file"
    $M rm -f "$id" >/dev/null
    wait_for 50 test -d "$pool/0" || fail "a stopped container's clean directory was not kept"

    # Each change a container can make to what would be kept.
    for change in 'echo x > /written' 'chmod 700 /' 'chmod 600 /etc/hosts' 'mkdir /d; rmdir /d'; do
        rm -f kept.cid
        $M run --rm --cidfile kept.cid $IMG sh -c "$change"
        id=$(cat kept.cid)
        wait_for 50 sh -c "[ ! -e '$MOCKER_ROOT/trash/$id' ] && [ ! -e '$pool/$id' ]" ||
            fail "trash/$id never emptied"
        out=$($M run --rm $IMG sh -c 'ls /written 2>&1; stat -c %a / /etc/hosts')
        assert_eq "ls: /written: No such file or directory
755
644" "$out" "the container after one that ran [$change]"
        wait_for 50 test -d "$pool/0" || fail "pool/0 not refilled after [$change]"
    done
    [ -z "$(ls "$pool" | grep -v '^[0-3]$')" ] || fail "pool holds more than its slots: $(ls "$pool")"

    # The spec of a removed container is not kept with its directory: its
    # config.json is zeroed aside, and the next start writes its own in place.
    $M run --rm -e KEPT_SECRET=s3cr3t-value $IMG true
    wait_for 50 test -d "$pool/0" || fail "pool/0 not refilled after the secret run"
    ! grep -rqs s3cr3t-value "$pool" || fail "a removed container's spec is still in the pool"
    id=$($M run -d -e MINE=own-value $IMG sleep 30)
    grep -q own-value "$MOCKER_ROOT/containers/$id/config.json" || fail "config.json is not the new container's"
    ! grep -qs s3cr3t-value "$MOCKER_ROOT/containers/$id/config.json" || fail "config.json holds the old spec"
    assert_eq "own-value" "$($M exec "$id" sh -c 'echo $MINE')" "exec reads the new spec"
    $M rm -f "$id" >/dev/null
}

# A run directory (<runroot>/containers/<id>: the attach socket) is gone with
# its container; an empty one is kept in <runroot>/pool for the next start.
test_kept_run_dir() {
    pool=$MOCKER_RUNROOT/pool
    id=$($M run -d $IMG sleep 30)
    [ -S "$MOCKER_RUNROOT/containers/$id/attach.sock" ] || fail "no attach socket in the run directory"
    $M rm -f "$id" >/dev/null
    wait_for 50 sh -c "[ ! -e '$MOCKER_RUNROOT/containers/$id' ]" || fail "run directory of a removed container stays"
    wait_for 50 test -d "$pool/0" || fail "the empty run directory was not kept"
    ino=$(stat -c %i "$pool/0")
    id=$($M run -d $IMG sleep 30)
    assert_eq "$ino" "$(stat -c %i "$MOCKER_RUNROOT/containers/$id")" "run directory taken from the pool"
    assert_eq 700 "$(stat -c %a "$MOCKER_RUNROOT/containers/$id")" "run directory mode"
    assert_eq "attached" "$($M exec "$id" echo attached)" "exec in a container with a kept run directory"
    $M rm -f "$id" >/dev/null
    # Something left in a run directory: deleted, not kept.
    id=$($M run -d $IMG sleep 30)
    ls "$pool" >/dev/null
    touch "$MOCKER_RUNROOT/containers/$id/stray"
    $M rm -f "$id" >/dev/null
    wait_for 50 sh -c "[ ! -e '$MOCKER_RUNROOT/containers/$id' ]" || fail "a run directory with a stray file stays"
    ! ls "$pool"/*/stray >/dev/null 2>&1 || fail "a run directory with a stray file was kept"
}

test_kill_signal() {
    $M run -d --name kk $IMG sh -c 'trap "exit 5" HUP; while :; do sleep 0.1; done' >/dev/null
    sleep 0.3
    $M kill -s HUP kk >/dev/null
    assert_eq 5 "$($M wait kk)"
    capture $M kill kk
    assert_eq 1 "$rc"
    assert_contains "$out" "is not running"
    $M rm kk >/dev/null
}

test_create_start_attach() {
    id=$($M create --name later $IMG echo started-later)
    assert_eq Created "$($M ps -a --filter name=later --format '{{.Status}}')"
    assert_eq started-later "$($M start -a later)"
    assert_eq exited "$($M inspect -f '{{.State.Status}}' later)"
    $M rm "$id" >/dev/null
}

# The container starts with no signal ignored or blocked, whichever way its
# monitor was made (run forks it, start spawns it) and whatever the caller
# ignores (nohup, CI runners), as docker's containers do.
test_no_signal_ignored_in_container() {
    status='grep -E "^Sig(Ign|Blk)" /proc/1/status'
    want="SigBlk:	0000000000000000
SigIgn:	0000000000000000"
    assert_eq "$want" "$(trap '' HUP INT QUIT TERM; $M run --rm $IMG sh -c "exec $status")" run
    $M create --name sigs $IMG sh -c "exec $status" >/dev/null
    assert_eq "$want" "$(trap '' HUP INT QUIT TERM; $M start -a sigs)" start
    $M rm sigs >/dev/null
}

test_ps_columns_filters_format() {
    $M run -d --name web -l tier=front $IMG sleep 30 >/dev/null
    $M run --name done $IMG true
    out=$($M ps)
    assert_contains "$(head -1 <<<"$out")" "CONTAINER ID   IMAGE"
    assert_contains "$out" web
    assert_not_contains "$out" done
    assert_contains "$($M ps -a)" "Exited (0)"
    assert_eq web "$($M ps --filter label=tier=front --format '{{.Names}}')"
    assert_eq done "$($M ps -a --filter status=exited --filter name='^done$' --format '{{.Names}}')"
    assert_eq front "$($M ps --format '{{.Label "tier"}}')"
    assert_eq 2 "$($M ps -aq --filter name='^(web|done)$' | wc -l)"
    assert_eq done "$($M ps -l --format '{{.Names}}')"
    assert_contains "$($M ps --format '{{json .}}')" '"Names":"web"'
    assert_eq web "$($M ps -a --filter ancestor=$IMG --filter name=we --format '{{.Names}}')"
    $M rm -f web done >/dev/null
}

test_inspect_shape() {
    $M run -d --name insp -e A=b $IMG sleep 30 >/dev/null
    out=$($M inspect insp)
    python3 - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])[0]
assert d["Name"] == "/insp", d["Name"]
assert d["State"]["Running"] is True and d["State"]["Pid"] > 0
assert d["Config"]["Cmd"] == ["sleep", "30"]
assert "A=b" in d["Config"]["Env"]
assert d["Path"] == "sleep" and d["Args"] == ["30"]
assert d["Id"].startswith(d["Config"]["Hostname"])
assert d["Image"].startswith("sha256:")
PY
    assert_eq running "$($M inspect -f '{{.State.Status}}' insp)"
    capture $M inspect nosuch
    assert_eq 1 "$rc"
    assert_contains "$out" "No such object: nosuch"
    $M rm -f insp >/dev/null
}

test_names_unique() {
    $M create --name dup $IMG true >/dev/null
    capture $M create --name dup $IMG true
    assert_eq 1 "$rc"
    assert_contains "$out" 'The container name "/dup" is already in use'
    $M rm dup >/dev/null
}

test_log_driver_none_and_rotation() {
    $M run --name nolog --log-driver none $IMG echo quiet >/dev/null
    capture $M logs nolog
    assert_eq 1 "$rc"
    $M run --name big --log-opt max-size=1k --log-opt max-file=2 $IMG sh -c 'i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done' >/dev/null
    log=$($M inspect -f '{{.LogPath}}' big)
    [ -f "$log.1" ] || fail "no rotated log file"
    [ ! -f "$log.2" ] || fail "more files than max-file"
    [ "$(stat -c %s "$log")" -le 1100 ] || fail "log exceeds max-size"
    assert_contains "$($M logs big | tail -1)" "line-199"
    $M rm nolog big >/dev/null
}

# rm -f of a running --rm container: its monitor removes it on the way out;
# rm reports success as docker does, and nothing is left.
test_rm_force_of_autoremove_container() {
    id=$($M run -d --rm $IMG sleep 30)
    assert_eq "$id" "$($M rm -f "$id")"
    assert_eq "" "$($M ps -aq --no-trunc --filter id=$id)"
    wait_for 50 sh -c "[ ! -e '$MOCKER_ROOT/trash/$id' ]" || fail "trash/$id never emptied"
    assert_eq "" "$(container_leftovers "$id")" "leftovers"
    capture $M update --restart always "$($M run -d --rm $IMG sleep 30)"
    assert_eq 1 "$rc"
    assert_contains "$out" "Restart policy cannot be updated because AutoRemove is enabled for the container"
    $M ps -q | xargs -r $M rm -f >/dev/null
}

# docker restart of a --rm container stops it without removing it and starts
# it again (on its overlay, mounted volatile: writes survive the restart); the
# next stop removes it.
test_restart_keeps_rm_container() {
    $M run -d --rm --name rmrestart $IMG sh -c 'echo kept >>/data; trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
    wait_for 50 $M exec rmrestart test -s /data || fail "container never wrote /data"
    assert_eq rmrestart "$($M restart -t 2 rmrestart)"
    assert_eq running "$($M inspect -f '{{.State.Status}}' rmrestart)"
    wait_for 50 sh -c "[ \"\$($M exec rmrestart cat /data | wc -l)\" = 2 ]" || fail "writes lost or not made after restart"
    $M stop -t 2 rmrestart >/dev/null
    wait_for 50 sh -c "[ -z \"\$($M ps -aq --filter name=rmrestart)\" ]" || fail "stopped --rm container stayed"
}
