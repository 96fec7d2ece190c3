# t_clients.sh: issue 6's acceptance, as a new user would try it: the real
# docker CLI, docker-py, docker-compose 1.29 and testcontainers (npm) pointed
# at mocker serve with DOCKER_HOST.  The client scripts live in tests/clients/
# and pass against dockerd too (that is how their checks are known right).
source "$REPO/tests/integration/serve_lib.sh"
source "$REPO/tests/integration/registry_lib.sh"

CLIENTS=$REPO/tests/clients
NODE_MODULES=/var/cache/mocker-test/node/node_modules

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The body curl gets from URL, retried for up to 5 s while the server starts.
http_get() { # URL
    local body
    for _ in $(seq 50); do
        body=$(curl -sf --max-time 2 "$1") && { printf '%s' "$body"; return 0; }
        sleep 0.1
    done
    return 1
}

# A command under a pty (util-linux script), its output with CRs removed.
in_pty() { # COMMAND-STRING
    timeout -s KILL 30 script -qec "$1" /dev/null | tr -d '\r'
}

test_clients_cli_basics() {
    start_serve
    assert_eq "28 1.47" "$($D version --format '{{slice .Client.Version 0 2}} {{.Client.APIVersion}}')" "the CLI negotiates down to 1.47"
    assert_eq "1.47 linux" "$($D version --format '{{.Server.APIVersion}} {{.Server.Os}}')"
    capture $D info
    assert_eq 0 "$rc" "info: $out"
    assert_contains "$out" "Server Version: "
    assert_contains "$out" "Docker Root Dir: $MOCKER_ROOT"
    $M create --name made $IMG true >/dev/null
    assert_eq "made created" "$($D ps -a --filter name=made --format '{{.Names}} {{.State}}')"
    assert_eq "/made [\"true\"]" "$($D inspect -f '{{.Name}} {{json .Config.Cmd}}' made)"
    assert_eq "$IMG latest" "$($D images --format '{{.Repository}} {{.Tag}}' $IMG)"
    id=$($M inspect -f '{{.Id}}' made)
    capture $D container prune -f
    assert_eq 0 "$rc" "prune: $out"
    assert_eq "Deleted Containers:" "$(head -1 <<<"$out")"
    assert_eq "$id" "$(sed -n 2p <<<"$out")"
    assert_eq "" "$($D ps -aq --filter name=made)" "pruned"
}

test_clients_cli_run_rm() {
    start_serve
    assert_eq "hi" "$(timeout -s KILL 30 $D run --rm $IMG echo hi)"
    capture timeout -s KILL 30 $D run --rm $IMG sh -c 'echo to-err >&2; exit 3'
    assert_eq "3 to-err" "$rc $out" "exit status and stderr"
    echo piped | timeout -s KILL 30 $D run --rm -i -l t=rm $IMG cat >cat.out
    assert_eq piped "$(cat cat.out)" "stdin through -i"
    assert_eq "" "$($D ps -aq --filter label=t=rm)" "--rm removed it"
}

test_clients_cli_run_tty() {
    start_serve
    out=$(in_pty "$D run -it --rm $IMG sh -c 'tty; stty size; echo in-tty'")
    assert_contains "$out" "/dev/pts/0"
    assert_contains "$out" "in-tty"
    # typed input reaches the container through the pty
    out=$( (sleep 1; printf 'typed-line\r'; sleep 1) | in_pty "$D run -it --rm -l t=tty $IMG sh -c 'read x; echo got-\$x'")
    assert_contains "$out" "got-typed-line"
    assert_eq "" "$($D ps -aq --filter label=t=tty)" "--rm removed it"
}

test_clients_cli_detached() {
    start_serve
    port=$(free_port)
    id=$($D run -d -p "127.0.0.1:$port:8080" --name web $IMG sh -c \
        'mkdir /www; echo served >/www/index.html; echo web-up; exec httpd -f -v -p 8080 -h /www')
    assert_eq 64 "${#id}" "run -d prints the full id"
    assert_eq "web running 127.0.0.1:$port->8080/tcp" "$($D ps --filter name=web --format '{{.Names}} {{.State}} {{.Ports}}')"
    assert_eq "8080/tcp -> 127.0.0.1:$port" "$($D port web)"
    assert_eq served "$(http_get "http://127.0.0.1:$port/index.html")" "the published port"
    assert_eq "true $port" "$($D inspect -f '{{.State.Running}} {{(index (index .NetworkSettings.Ports "8080/tcp") 0).HostPort}}' web)"
    # logs -f follows: it shows the request made after it started
    timeout -s KILL 3 $D logs -f web >follow.out 2>&1 &
    sleep 0.5
    http_get "http://127.0.0.1:$port/index.html" >/dev/null
    wait $! || true
    assert_eq "web-up" "$(head -1 follow.out)"
    assert_contains "$(cat follow.out)" "response:200"
    $D stop -t 1 web >/dev/null
    assert_eq "exited 137" "$($D inspect -f '{{.State.Status}} {{.State.ExitCode}}' web)" "stop: SIGKILL after 1 s (httpd as pid 1 ignores SIGTERM)"
    $D start web >/dev/null
    assert_eq "running" "$($D inspect -f '{{.State.Status}}' web)"
    assert_eq web "$($D rm -f web)"
    assert_eq "" "$($D ps -aq --filter name=web)"
}

test_clients_cli_exec() {
    start_serve
    $D run -d --name execbox $IMG sleep 60 >/dev/null
    assert_eq 3 "$($D exec execbox sh -c 'echo $((1+2))')"
    capture $D exec execbox sh -c 'exit 5'
    assert_eq 5 "$rc" "exec's exit status"
    assert_eq "1000 /tmp bar" "$($D exec -u 1000 -w /tmp -e FOO=bar execbox sh -c 'echo $(id -u) $(pwd) $FOO')"
    echo from-stdin | $D exec -i execbox sh -c 'cat >/tmp/in'
    assert_eq from-stdin "$($D exec execbox cat /tmp/in)"
    out=$(in_pty "$D exec -it execbox sh -c 'tty; echo in-exec'")
    assert_contains "$out" "/dev/pts/"
    assert_contains "$out" "in-exec"
    $D exec -d execbox sh -c 'echo detached >/tmp/d'
    wait_for 50 sh -c "$D exec execbox cat /tmp/d | grep -q detached" || fail "exec -d did not run"
    $D rm -f execbox >/dev/null
}

test_clients_cli_cp() {
    start_serve
    $D run -d --name cpbox $IMG sleep 60 >/dev/null
    mkdir -p src/sub
    echo one >src/a.txt
    echo two >src/sub/b.txt
    $D cp src/a.txt cpbox:/tmp/a.txt
    $D cp src cpbox:/tmp/
    assert_eq "one two" "$($M exec cpbox sh -c 'echo $(cat /tmp/a.txt) $(cat /tmp/src/sub/b.txt)')" "host to container"
    $M exec cpbox sh -c 'mkdir /tmp/out; echo three >/tmp/out/c.txt'
    $D cp cpbox:/tmp/out back
    assert_eq three "$(cat back/c.txt)" "container to host"
    $D cp cpbox:/tmp/out/c.txt - | tar -xO >c.out
    assert_eq three "$(cat c.out)" "to stdout as a tar"
    capture $D cp cpbox:/nosuch x
    assert_eq 1 "$rc"
    assert_contains "$out" "Could not find the file /nosuch in container cpbox"
    $D rm -f cpbox >/dev/null
}

test_clients_cli_stats() {
    start_serve
    $D run -d --name statsbox $IMG sleep 60 >/dev/null
    out=$(timeout -s KILL 20 $D stats --no-stream --format '{{.Name}} {{.PIDs}} {{.MemUsage}}' statsbox)
    [[ "$out" =~ ^statsbox\ 1\ [0-9.]+[KMG]i?B\ /\ [0-9.]+[KMGT]i?B$ ]] || fail "stats: [$out]"
    out=$(timeout -s KILL 20 $D stats --no-stream)
    assert_eq "CONTAINER ID NAME CPU % MEM USAGE / LIMIT MEM % NET I/O BLOCK I/O PIDS" "$(head -1 <<<"$out" | tr -s ' ')"
    assert_contains "$(sed -n 2p <<<"$out")" "statsbox"
    $D rm -f statsbox >/dev/null
}

test_clients_cli_images_registry() {
    start_serve
    reg_start plain
    ref=$REG/clients/busybox:v1
    $D tag $IMG "$ref"
    assert_eq "$($D images -q $IMG)" "$($D images -q "$ref")" "tag: the same image"
    capture $D push "$ref"
    assert_eq 0 "$rc" "push: $out"
    assert_contains "$out" "The push refers to repository [$REG/clients/busybox]"
    assert_contains "$out" "v1: digest: sha256:"
    digest=$(reg_digest clients/busybox v1)
    assert_contains "$out" "digest: $digest "
    assert_eq "Untagged: $ref" "$($D rmi "$ref" | head -1)"
    capture $D pull "$ref"
    assert_eq 0 "$rc" "pull: $out"
    assert_contains "$out" "Digest: $digest"
    assert_contains "$out" "Status: Downloaded newer image for $ref"
    assert_eq "$REG/clients/busybox v1" "$($D images --format '{{.Repository}} {{.Tag}}' "$REG/clients/busybox")"
    assert_eq pulled "$(timeout -s KILL 30 $D run --rm "$ref" echo pulled 2>&1)"
    $D rmi "$ref" >/dev/null
    capture $D pull "$REG/clients/busybox:nosuch"
    assert_eq 1 "$rc"
    assert_contains "$out" "manifest unknown"
    capture $D rmi nosuch-image
    assert_eq "1 Error response from daemon: No such image: nosuch-image:latest" "$rc $out"
}

test_clients_cli_save_load() {
    start_serve
    $D tag $IMG clients/saved:v1
    $D save clients/saved:v1 >saved.tar
    tar -tf saved.tar | grep -qx manifest.json || fail "save: no manifest.json"
    $D rmi clients/saved:v1 >/dev/null
    assert_eq "Loaded image: clients/saved:v1" "$($D load <saved.tar)"
    $D save clients/saved:v1 | $D load -q >load.out
    assert_eq "Loaded image: clients/saved:v1" "$(cat load.out)" "save | load"
    assert_eq "$($D images -q $IMG)" "$($D images -q clients/saved:v1)"
    capture $D load <<<"not a tar"
    assert_eq 1 "$rc" "load of garbage: $out"
    $D rmi clients/saved:v1 >/dev/null
}

test_clients_cli_network() {
    start_serve
    id=$($D network create --label t=clients clnet)
    assert_eq 64 "${#id}"
    assert_eq "clnet bridge local" "$($D network ls --filter label=t=clients --format '{{.Name}} {{.Driver}} {{.Scope}}')"
    assert_eq "bridge" "$($D network inspect -f '{{.Driver}}' clnet)"
    $D network inspect clnet | python3 -c 'import json, sys; d = json.load(sys.stdin)[0]; assert d["IPAM"]["Config"][0]["Subnet"], d'
    $D run -d --name cla --network clnet $IMG sleep 60 >/dev/null
    $D run -d --name clb $IMG sleep 60 >/dev/null
    $D network connect clnet clb
    assert_eq "cla clb" "$($D network inspect -f '{{range .Containers}}{{.Name}} {{end}}' clnet | xargs -n1 | sort | xargs)"
    $M exec clb ping -c1 -W2 cla >/dev/null || fail "clb (connected live) does not reach cla by name on clnet"
    $D network disconnect clnet clb
    assert_eq "cla" "$($D network inspect -f '{{range .Containers}}{{.Name}}{{end}}' clnet)"
    capture $D network rm clnet
    assert_eq 1 "$rc" "rm of a network in use"
    assert_contains "$out" "has active endpoints"
    $D rm -f cla clb >/dev/null
    assert_eq clnet "$($D network rm clnet)"
    $D network create clprune >/dev/null
    assert_contains "$($D network prune -f)" "clprune"
    capture $D network inspect clprune
    assert_contains "$out" "network clprune not found"
}

test_clients_cli_volume() {
    start_serve
    assert_eq clvol "$($D volume create --label t=clients clvol)"
    assert_eq "local clvol" "$($D volume ls --filter label=t=clients --format '{{.Driver}} {{.Name}}')"
    mp=$($D volume inspect -f '{{.Mountpoint}}' clvol)
    $D run -d --name writer -v clvol:/v $IMG sh -c 'echo kept >/v/f' >/dev/null
    assert_eq 0 "$(timeout -s KILL 20 $D wait writer)"
    $D rm writer >/dev/null
    assert_eq kept "$(cat "$mp/f")" "the data is at the mountpoint"
    $D create --name user -v clvol:/v $IMG true >/dev/null
    capture $D volume rm clvol
    assert_eq 1 "$rc"
    assert_contains "$out" "volume is in use"
    $D rm user >/dev/null
    assert_eq clvol "$($D volume rm clvol)"
    $D volume create clprune >/dev/null
    assert_contains "$($D volume prune -af)" "clprune"
    capture $D volume inspect clprune
    assert_contains "$out" "no such volume"
}

test_clients_cli_events() {
    start_serve
    since=$(date +%s)
    timeout -s KILL 20 $D events --filter container=evc --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}' >events.out 2>&1 &
    evpid=$!
    sleep 0.5
    # another shell runs a container (mocker's own CLI: the events are the engine's)
    $M run --name evc $IMG true
    $M rm evc >/dev/null
    for _ in $(seq 50); do grep -q "container destroy evc" events.out && break; sleep 0.1; done
    kill $evpid 2>/dev/null || true
    assert_eq "container create evc
container attach evc
container start evc
container die evc
container destroy evc" "$(grep -v '^container resize' events.out)"
    # since/until: a bounded replay that ends by itself
    out=$(timeout -s KILL 10 $D events --since "$since" --until "$(($(date +%s) + 1))" --filter container=evc --format '{{.Action}}')
    assert_eq "create attach start die destroy" "$(echo $out)"
}

test_clients_cli_system_df() {
    start_serve
    $M ps -aq | xargs -r $M rm -f >/dev/null # what earlier tests left would count
    $M create --name dfc $IMG true >/dev/null
    out=$($D system df)
    assert_contains "$(head -1 <<<"$out")" "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE"
    assert_contains "$out" "Images          1         1"
    assert_contains "$out" "Containers      1         0"
    assert_contains "$($D system df -v)" "dfc"
}

# docker-py 7.1.0: one test per group of tests/clients/dockerpy_test.py.
dockerpy() { # GROUP
    DOCKER_HOST=unix://$sock IMG=$IMG timeout -s KILL 60 python3 "$CLIENTS/dockerpy_test.py" "$@"
}

test_clients_dockerpy_containers() {
    start_serve
    dockerpy containers
}

test_clients_dockerpy_exec() {
    start_serve
    dockerpy exec
}

test_clients_dockerpy_archive() {
    start_serve
    dockerpy archive
}

test_clients_dockerpy_stats() {
    start_serve
    dockerpy stats
}

test_clients_dockerpy_images() {
    start_serve
    dockerpy images
}

test_clients_dockerpy_registry() {
    start_serve
    reg_start plain
    REG=$REG dockerpy registry
}

test_clients_dockerpy_networks() {
    start_serve
    dockerpy networks
}

test_clients_dockerpy_volumes() {
    start_serve
    dockerpy volumes
}

test_clients_compose() {
    command -v docker-compose >/dev/null || skip "docker-compose is not installed (make deps)"
    start_serve
    DOCKER_HOST=unix://$sock IMG=$IMG timeout -s KILL 100 "$CLIENTS/compose/run.sh"
}

test_clients_testcontainers() {
    [ -d "$NODE_MODULES/testcontainers" ] || skip "testcontainers is not installed (make deps)"
    start_serve
    # testcontainers runs alpine:3.14 to find the gateway when it runs in a container
    $D tag $IMG alpine:3.14 2>/dev/null || $M tag $IMG alpine:3.14
    DOCKER_HOST=unix://$sock IMG=$IMG TESTCONTAINERS_RYUK_DISABLED=true NODE_PATH=$NODE_MODULES \
        timeout -s KILL 60 node "$CLIENTS/testcontainers.test.js"
}
