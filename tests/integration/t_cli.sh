# t_cli.sh: attach, rename, port, container prune, events, system df, help.

test_attach_output_and_exit_code() {
    $M run -d --name att $IMG sh -c 'sleep 0.5; echo out; echo err >&2; exit 3' >/dev/null
    $M attach att >att.out 2>att.err && rc=0 || rc=$?
    assert_eq 3 "$rc" "attach exit code"
    assert_eq out "$(cat att.out)"
    assert_eq err "$(cat att.err)"
    capture $M attach att
    assert_eq 1 "$rc"
    assert_eq "You cannot attach to a stopped container, start it first" "$out"
    capture $M attach nope
    assert_eq "Error response from daemon: No such container: nope" "$out"
    capture $M attach
    assert_eq 1 "$rc"
    assert_contains "$out" "requires 1 argument"
    $M rm att >/dev/null
}

test_attach_stdin_and_no_stdin() {
    $M run -di --name cat1 $IMG sh -c 'read line; echo got:$line' >/dev/null
    out=$(echo hello | $M attach cat1)
    assert_eq "got:hello" "$out"
    $M run -di --name cat2 $IMG sh -c 'read line; echo got:$line; sleep 0.3; echo done' >/dev/null
    # --no-stdin: our input never reaches the container; its output does.
    (echo ignored | $M attach --no-stdin cat2 >nostdin.out) &
    ap=$!
    sleep 0.5
    $M exec cat2 sh -c 'echo late > /proc/1/fd/0' 2>/dev/null || true
    $M kill cat2 >/dev/null
    wait $ap || true
    assert_not_contains "$(cat nostdin.out)" "got:ignored"
    capture $M attach --detach-keys=ctrl-xx cat1
    assert_eq 1 "$rc"
    $M rm -f cat1 cat2 >/dev/null
}

test_attach_sig_proxy() {
    $M run -d --name sig $IMG sh -c 'trap "echo trapped; exit 7" TERM; while :; do sleep 0.1; done' >/dev/null
    sleep 0.3
    $M attach sig >sig.out &
    ap=$!
    sleep 0.5
    kill -TERM $ap
    wait $ap && rc=0 || rc=$?
    assert_eq 7 "$rc" "the proxied TERM ends the container"
    assert_contains "$(cat sig.out)" trapped
    $M rm sig >/dev/null
}

test_rename() {
    $M create --name old -l team=a $IMG true >/dev/null
    $M create --name taken $IMG true >/dev/null
    $M rename old new
    assert_eq new "$($M inspect -f '{{.Name}}' new | tr -d /)"
    capture $M inspect old
    assert_eq 1 "$rc"
    capture $M rename new new
    assert_eq 1 "$rc"
    assert_eq "Error response from daemon: Renaming a container with the same name as its current name
Error: failed to rename container named new" "$out"
    capture $M rename new 'a b'
    assert_eq "Error response from daemon: Error when allocating new name: Invalid container name (/a b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed
Error: failed to rename container named new" "$out"
    capture $M rename new taken
    assert_contains "$out" 'Error when allocating new name: Conflict. The container name "/taken" is already in use'
    capture $M rename new ''
    assert_eq "Error: Neither old nor new names may be empty" "$out"
    capture $M rename nope x
    assert_contains "$out" "No such container: nope"
    assert_contains "$($M events --since 0 --until "$(date +%s.%N)" --filter event=rename)" "(image=$IMG, name=new, oldName=/old, team=a)"
    $M rm new taken >/dev/null
}

test_port() {
    $M create --name pp $IMG true >/dev/null
    capture $M port pp
    assert_eq 0 "$rc"
    assert_eq "" "$out"
    capture $M port pp 80/udp
    assert_eq 1 "$rc"
    assert_eq "Error: No public port '80/udp' published for pp" "$out"
    capture $M port pp abc
    assert_eq 'Error: invalid port (abc): strconv.ParseUint: parsing "abc": invalid syntax' "$out"
    capture $M port nope
    assert_eq "Error response from daemon: No such container: nope" "$out"
    $M rm pp >/dev/null
}

test_container_prune() {
    $M create --name keepme -l keep=yes $IMG true >/dev/null
    a=$($M create --name gone1 $IMG true)
    $M run -d --name runs $IMG sleep 30 >/dev/null
    out=$(echo n | $M container prune)
    assert_eq "WARNING! This will remove all stopped containers.
Are you sure you want to continue? [y/N] " "$out"
    assert_eq gone1 "$($M ps -a --filter name=gone1 --format '{{.Names}}')" "nothing removed on no"
    out=$($M container prune -f --filter label!=keep)
    assert_eq "Deleted Containers:
$a

Total reclaimed space: 0B" "$out"
    assert_eq "keepme runs" "$($M ps -a --format '{{.Names}}' | sort | tr '\n' ' ' | sed 's/ $//')"
    assert_eq "Total reclaimed space: 0B" "$($M container prune -f --filter until=1h)"
    capture $M container prune -f --filter foo=bar
    assert_eq 1 "$rc"
    assert_eq "Error response from daemon: Invalid filter 'foo'" "$out"
    b=$($M inspect -f '{{.Id}}' keepme)
    assert_eq "Are you sure you want to continue? [y/N] Deleted Containers:
$b

Total reclaimed space: 0B" "$(echo y | $M container prune | tail -4)"
    $M rm -f runs >/dev/null
}

test_events_text_json_and_filters() {
    $M run --name ev -l lab=1 $IMG sh -c 'exit 2' >/dev/null 2>&1 || true
    $M rm ev >/dev/null
    id_line=$($M events --since 0 --until "$(date +%s.%N)" --filter container=ev --filter event=die)
    [[ "$id_line" =~ ^20[0-9-]+T[0-9:]+\.[0-9]{9}Z\ container\ die\ [0-9a-f]{64}\ \(exitCode=2,\ image=$IMG,\ lab=1,\ name=ev\)$ ]] ||
        fail "die line: [$id_line]"
    actions=$($M events --since 0 --until "$(date +%s.%N)" --filter container=ev --format '{{.Action}}' | tr '\n' ' ')
    assert_eq "create attach start die destroy " "$actions"
    json=$($M events --since 0 --until "$(date +%s.%N)" --filter event=create --format '{{json .}}')
    assert_contains "$json" '{"status":"create","id":"'
    assert_contains "$json" '"from":"'$IMG'","Type":"container","Action":"create","Actor":{"ID":"'
    assert_contains "$json" '"scope":"local","time":'
    assert_eq "container ev create" "$($M events --since 0 --until "$(date +%s.%N)" --filter label=lab=1 --filter event=create --format '{{.Type}} {{.Actor.Attributes.name}} {{.Status}}')"
    assert_eq "" "$($M events --since 0 --until "$(date +%s.%N)" --filter label=lab=2)"
    assert_contains "$($M events --since 0 --until "$(date +%s.%N)" --filter type=image)" "image tag"
    capture $M events --filter foo=bar
    assert_eq "Error response from daemon: Invalid filter 'foo'" "$out"
    capture $M events --since xyz
    assert_eq 'failed to parse value as time or duration: "xyz"' "$out"
}

test_events_follow() {
    $M events --filter event=start --format '{{.Actor.Attributes.name}}' >follow.out &
    ep=$!
    sleep 0.5
    $M run --name fol $IMG true >/dev/null
    wait_for 30 grep -q fol follow.out || fail "events did not follow: [$(cat follow.out)]"
    kill $ep
    wait $ep || true
    # --until one second ahead ends the stream then.
    start=$(date +%s%N)
    $M events --until "$(( start / 1000000000 + 1 )).$(printf %09d $(( start % 1000000000 )))" >/dev/null
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$ms" -ge 900 ] && [ "$ms" -lt 3000 ] || fail "--until 1s took $ms ms"
    $M rm fol >/dev/null
}

test_system_df() {
    $M create --name dfc $IMG sh -c 'true' >/dev/null
    out=$($M system df)
    assert_contains "$out" "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE"
    [[ "$out" =~ Containers\ +[0-9]+\ +[0-9]+\ +0B\ +0B ]] || fail "containers row: [$out]"
    assert_contains "$out" "Local Volumes   0         0         0B        0B"
    assert_contains "$($M system df --format '{{json .}}' | head -1)" '"TotalCount":"1","Type":"Images"'
    capture $M system df -v
    assert_eq 0 "$rc" "$out"
    assert_contains "$out" "Containers space usage:"
    assert_contains "$out" "dfc"
    capture $M system df -v --format '{{.Type}}'
    assert_eq 125 "$rc" "-v with --format is refused: $out"
    assert_contains "$out" "not supported by mocker yet"
    $M rm dfc >/dev/null
}

test_help_lists_groups() {
    out=$($M container --help)
    assert_contains "$out" "  attach      Attach local standard input, output, and error streams to a running container"
    assert_contains "$out" "  ls          List containers"
    assert_contains "$out" "  prune       Remove all stopped containers"
    assert_not_contains "$out" "  list "
    assert_contains "$($M --help)" "Management Commands:"
    assert_contains "$($M system --help)" "  df          "
    $M container list >/dev/null
    $M container remove nope 2>/dev/null || true
    $M image list >/dev/null
}

test_ps_size() {
    $M run --name sized $IMG sh -c 'printf hi > /f' >/dev/null
    out=$($M ps -a -s --filter name=sized)
    assert_contains "$(echo "$out" | head -1)" "NAMES     SIZE"
    [[ "$out" =~ sized\ +2B\ \(virtual\ [0-9.]+[kM]B\) ]] || fail "ps -s: [$out]"
    [[ "$($M ps -a --filter name=sized --format '{{.Size}}')" =~ ^2B\ \(virtual\ [0-9.]+[kM]B\)$ ]] || fail "{{.Size}}"
    $M rm -v sized >/dev/null
}

test_run_label_file_annotation_attach() {
    printf 'a=1\n# comment\n\n  b=2\nc\n' >labels.txt
    id=$($M create --label-file labels.txt -l b=3 --annotation org.example=y $IMG true)
    assert_eq '{"a":"1","b":"3","c":""} {"org.example":"y"}' \
        "$($M inspect -f '{{json .Config.Labels}} {{json .HostConfig.Annotations}}' $id)"
    $M start $id >/dev/null
    grep -q '"org.example":"y"' "$MOCKER_ROOT/containers/$id/config.json" || fail "annotation not in the OCI spec"
    $M run --rm -a stderr $IMG sh -c 'echo out; echo err >&2' >a.out 2>a.err
    assert_eq "" "$(cat a.out)"
    assert_eq err "$(cat a.err)"
    assert_eq out "$($M run --rm -a stdout $IMG sh -c 'echo out; echo err >&2' 2>/dev/null)"
    capture $M run -d -a stdout $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "conflicting options: cannot specify both --attach and --detach"
    capture $M run -a foo $IMG true
    assert_contains "$out" 'invalid argument "foo" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR'
    $M rm $id >/dev/null
}
