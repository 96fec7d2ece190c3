# t_serve_stream.sh: attach, exec and resize through mocker serve, driven by
# the docker CLI (with a pty from script(1) where docker wants a terminal).
source "$REPO/tests/integration/serve_lib.sh"

# Run the docker CLI ($1...) in a pty of ROWSxCOLS, typing $KEYS after a
# second (a "|" in KEYS pauses half a second); $out is its output without
# CRs, $rc its exit code.
in_pty() { # ROWS COLS KEYS CMD...
    local rows=$1 cols=$2 keys=$3
    shift 3
    local cmd
    printf -v cmd '%q ' "$@"
    type_keys() {
        sleep 1
        local IFS='|' part
        for part in $keys; do printf "$part"; sleep 0.5; done
    }
    type_keys | timeout -s KILL 20 script -qec "stty rows $rows cols $cols; $cmd" /dev/null >pty.out && rc=0 || rc=$?
    out=$(tr -d '\r' <pty.out)
}

test_serve_run_attached() {
    start_serve
    assert_eq "hi" "$(timeout -s KILL 20 $D run --rm $IMG echo hi)"
    capture timeout -s KILL 20 $D run --rm $IMG sh -c 'echo out; echo err >&2; exit 3'
    assert_eq 3 "$rc" "the exit code comes back through wait?condition=removed"
    assert_eq "out err" "$(echo $out)"
    capture timeout -s KILL 20 $D run --rm $IMG sh -c 'echo only-err >&2' 2>/dev/null
    # stderr and stdout stay separate streams
    assert_eq "" "$(timeout -s KILL 20 $D run --rm $IMG sh -c 'echo only-err >&2' 2>/dev/null)"
    assert_eq "piped in" "$(echo piped in | timeout -s KILL 20 $D run --rm -i $IMG cat)"
    capture timeout -s KILL 20 $D run --rm $IMG nosuchcmd
    assert_eq 127 "$rc"
    # a container run without --rm keeps its code; start -a and -ai attach again
    capture timeout -s KILL 20 $D run --name keep $IMG sh -c 'echo kept; exit 5'
    assert_eq "5 kept" "$rc $out"
    capture timeout -s KILL 20 $D start -a keep
    assert_eq "5 kept" "$rc $out"
    id=$($D create -i $IMG head -n 1)
    assert_eq "again" "$(echo again | timeout -s KILL 20 $D start -ai $id)"
    assert_eq "" "$($M ps -q)"
}

test_serve_run_tty() {
    start_serve
    in_pty 33 91 'tty; stty size; exit 7\r' $D run --rm -it $IMG sh
    assert_eq 7 "$rc"
    assert_contains "$out" "/dev/pts/0"
    assert_contains "$out" "33 91" "the terminal's size is the container's from the start"
    # ctrl-p ctrl-q detaches; the container runs on, and attach reaches it again
    in_pty 24 80 'echo first\r|\020\021' $D run --name det -it $IMG sh
    assert_eq 0 "$rc"
    assert_contains "$out" "first"
    assert_eq running "$($M inspect -f '{{.State.Status}}' det)"
    in_pty 24 80 'echo second; exit 9\r' $D attach det
    assert_eq 9 "$rc"
    assert_contains "$out" "second"
    # resize of a stopped container is docker's 409
    assert_eq 409 "$(api -X POST '/containers/det/resize?h=10&w=10')"
}

test_serve_exec() {
    start_serve
    id=$($D run -d $IMG sleep 100)
    capture timeout -s KILL 20 $D exec $id sh -c 'echo ex; echo ex-err >&2; exit 4'
    assert_eq 4 "$rc"
    assert_eq "ex ex-err" "$(echo $out)"
    assert_eq "in" "$(echo in | timeout -s KILL 20 $D exec -i $id cat)"
    assert_eq "/tmp app v=1" "$(timeout -s KILL 20 $D exec -w /tmp -u app -e v=1 $id sh -c 'echo $(pwd) $(id -un) v=$v')"
    timeout -s KILL 20 $D exec -d $id sh -c 'echo bg >/tmp/bg'
    wait_for 50 $M exec $id test -f /tmp/bg || fail "the detached exec did not run"
    in_pty 22 77 'stty size; tty; exit 2\r' $D exec -it $id sh
    assert_eq 2 "$rc"
    assert_contains "$out" "22 77"
    assert_contains "$out" "/dev/pts/"
    # inspect: the exit code the CLI reads, docker's shape
    eid=$(curl -s --unix-socket "$sock" -H 'Content-Type: application/json' \
        -d '{"Cmd":["sh","-c","exit 6"],"AttachStdout":true}' "http://docker/v1.47/containers/$id/exec" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
    assert_eq 200 "$(api "/exec/$eid/json")"
    assert_eq "None False sh ['-c', 'exit 6']" "$(python3 -c 'import json; d=json.load(open("body.out")); print(d["ExitCode"], d["Running"], d["ProcessConfig"]["entrypoint"], d["ProcessConfig"]["arguments"])')"
    assert_eq 200 "$(api -X POST -H 'Content-Type: application/json' -d '{"Detach":true}' "/exec/$eid/start")"
    wait_for 50 sh -c "curl -s --unix-socket '$sock' http://docker/exec/$eid/json | grep -q '\"ExitCode\":6'" ||
        fail "the detached exec's code: $(cat body.out)"
    assert_eq 409 "$(api -X POST -H 'Content-Type: application/json' -d '{"Detach":true}' "/exec/$eid/start")" "an exec runs once"
    assert_eq 404 "$(api /exec/nosuch/json)"
    assert_eq '{"message":"No such exec instance: nosuch"}' "$(cat body.out)"
    assert_eq 400 "$(api -X POST -H 'Content-Type: application/json' -d '{"Cmd":[]}' "/containers/$id/exec")"
    assert_eq 400 "$(api -X POST -H 'Content-Type: application/json' -d '{"Cmd":"notalist"}' "/containers/$id/exec")"
    $M stop -t 0 $id >/dev/null
    assert_eq 409 "$(api -X POST -H 'Content-Type: application/json' -d '{"Cmd":["true"]}' "/containers/$id/exec")"
    assert_contains "$(cat body.out)" "is not running"
    $M rm -f $id >/dev/null
}

# A --rm container whose start fails is removed, as docker does (the docker
# CLI waits for that removal: without it, docker run hung).
test_serve_run_rm_start_failure_removes() {
    start_serve
    capture timeout -s KILL 20 $D run --rm --name rmfail1 --network none -u nobody-here $IMG true
    assert_eq 125 "$rc" "docker run: $out"
    assert_contains "$out" "unable to find user nobody-here"
    capture $M run --rm --name rmfail2 --network none -u nobody-here $IMG true
    assert_eq 125 "$rc" "mocker run: $out"
    capture timeout -s KILL 20 $D run --rm --name rmfail3 $IMG nosuchcmd
    assert_eq 127 "$rc"
    assert_eq "" "$($M ps -aq --filter name=rmfail)" "no container is left"
}
