# t_serve.sh: mocker serve, driven by the real docker CLI, curl and raw sockets.
source "$REPO/tests/integration/serve_lib.sh"

test_serve_docker_cli() {
    $M create --name c1 -l a=b $IMG sleep 100 >/dev/null
    $M run --name c2 $IMG true
    start_serve
    assert_eq "1.47 1.24 mocker Engine" "$($D version --format '{{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Platform.Name}}')"
    assert_eq "1.47" "$($D version --format '{{.Client.APIVersion}}')" "the client negotiates down to 1.47"
    assert_eq "2 0 2 1 inactive linux" "$($D info --format '{{.Containers}} {{.ContainersRunning}} {{.ContainersStopped}} {{.Images}} {{.Swarm.LocalNodeState}} {{.OSType}}')"
    assert_eq "$MOCKER_ROOT" "$($D info --format '{{.DockerRootDir}}')"
    # the same rows as mocker ps, through the API
    assert_eq "$($M ps -a --format '{{.ID}} {{.Names}} {{.Image}} {{.Command}} {{.Status}}')" \
        "$($D ps -a --format '{{.ID}} {{.Names}} {{.Image}} {{.Command}} {{.Status}}')"
    assert_eq "" "$($D ps -q)" "nothing runs"
    assert_eq "$($M ps -aq --filter name=c1)" "$($D ps -aq --filter label=a=b)"
    assert_eq "$($M ps -aq --filter name=c2)" "$($D ps -q --filter status=exited)"
    assert_eq "$($M ps -aq --filter name=c2)" "$($D ps -q -n 1)" "limit: the newest"
    capture $D ps --filter bogus=1
    assert_contains "$out" "Invalid filter 'bogus'"
    assert_eq "/c1 b created" "$($D inspect -f '{{.Name}} {{.Config.Labels.a}} {{.State.Status}}' c1)"
    assert_eq "$($M inspect c1)" "$($D container inspect c1)" "inspect through the API is mocker's"
    capture $D container inspect nosuch
    assert_eq 1 "$rc"
    assert_contains "$out" "No such container: nosuch"
    assert_eq "mocker-test/busybox:latest" "$($D images --format '{{.Repository}}:{{.Tag}}')"
    assert_eq "$($M images -q)" "$($D images -q)"
    $M rm -f c1 c2 >/dev/null
}

test_serve_http_shapes() {
    start_serve
    assert_eq 200 "$(api /_ping)"
    assert_eq OK "$(cat body.out)"
    for h in "Api-Version: 1.47" "Docker-Experimental: false" "Ostype: linux" "Server: mocker/" \
        "Cache-Control: no-cache, no-store, must-revalidate" "Pragma: no-cache" \
        "Content-Type: text/plain; charset=utf-8"; do
        assert_contains "$(cat head.out)" "$h"
    done
    assert_eq 200 "$(api -I /_ping)"
    assert_contains "$(cat head.out)" "Content-Length: 0"
    # any version prefix is served, never refused
    for v in v1.12 v1.24 v1.47 v9.99; do
        assert_eq 200 "$(api /$v/version)" "/$v/version"
        assert_eq '"1.47" "1.24"' "$(python3 -c 'import json;d=json.load(open("body.out"));print(json.dumps(d["ApiVersion"]),json.dumps(d["MinAPIVersion"]))')"
    done
    assert_eq 404 "$(api /v1.47/nosuch)"
    assert_eq '{"message":"page not found"}' "$(cat body.out)"
    assert_eq 404 "$(api -X PUT /_ping)" "a known path with another method"
    assert_eq 404 "$(api /volumesx)"
    for p in /swarm /nodes /services /tasks /secrets /configs /v1.47/nodes/x; do
        assert_eq 503 "$(api $p)" "$p"
        assert_eq '{"message":"This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again."}' "$(cat body.out)"
    done
    assert_eq 200 "$(api /plugins)"
    assert_eq '[]' "$(cat body.out)"
    assert_eq 404 "$(api /plugins/foo/json)"
    assert_eq '{"message":"plugin \"foo\" not found"}' "$(cat body.out)"
    assert_eq 404 "$(api /containers/nosuch/json)"
    assert_eq '{"message":"No such container: nosuch"}' "$(cat body.out)"
    assert_eq 400 "$(api '/containers/json?filters=%7B%22bogus%22%3A%5B%22a%22%5D%7D')"
    assert_eq '{"message":"Invalid filter '"'"'bogus'"'"'"}' "$(cat body.out)"
    assert_eq 400 "$(api '/containers/json?filters=notjson')"
    assert_eq 200 "$(api '/images/json?filters=%7B%22dangling%22%3A%7B%22true%22%3Atrue%7D%7D')"
    assert_eq '[]' "$(cat body.out)"
    assert_eq 200 "$(api /containers/json)"
    assert_eq '[]' "$(cat body.out)"
    # slashes are not escaped in JSON
    assert_eq 200 "$(api /info)"
    assert_contains "$(cat body.out)" "\"DockerRootDir\":\"$MOCKER_ROOT\""
}

test_serve_bad_requests() {
    start_serve
    assert_contains "$(raw 'GARBAGE\r\n\r\n')" "HTTP/1.1 400 Bad Request"
    big=$(head -c 70000 /dev/zero | tr '\0' a)
    assert_contains "$(raw "GET /_ping HTTP/1.1\r\nX: $big\r\n\r\n")" "HTTP/1.1 431 "
    assert_contains "$(raw 'POST /_ping HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n')" "HTTP/1.1 413 "
    assert_contains "$(raw 'GET /_ping HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n')" "HTTP/1.1 501 "
    # pipelined keep-alive requests, and a chunked body, on one connection
    out=$(raw 'GET /_ping HTTP/1.1\r\n\r\nPOST /v1.47/_ping HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\nGET /_ping HTTP/1.1\r\nConnection: close\r\n\r\n')
    assert_eq "200 404 200" "$(printf '%s' "$out" | grep -o 'HTTP/1.1 [0-9]*' | cut -d' ' -f2 | tr '\n' ' ' | sed 's/ $//')"
    assert_contains "$out" "HTTP/1.1 404 Not Found"
    # still serving
    assert_eq 200 "$(api /_ping)"
}

test_serve_timeouts_and_many_clients() {
    export MOCKER_SERVE_TIMEOUT_MS=500
    start_serve
    # a client that starts a request and stalls gets 408 and is dropped
    start=$(date +%s%N)
    out=$(raw 'GET /_ping HTTP/1.1\r\nHost: x\r\n')
    assert_contains "$out" "HTTP/1.1 408 "
    [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 5000 ] || fail "the stalled client was held too long"
    # an idle keep-alive connection is closed without an answer
    assert_eq "" "$(raw '')"
    # 100 clients at once
    for i in $(seq 1 100); do
        curl -s --unix-socket "$sock" "http://docker/v1.47/containers/json?all=1" >"par.$i" &
    done
    wait_pids=$(jobs -p | grep -v "^$serve_pid\$" || true)
    for p in $wait_pids; do wait "$p" || true; done
    for i in $(seq 1 100); do assert_eq '[]' "$(cat par.$i)" "client $i"; done
    # requests per second for /_ping over keep-alive connections (a figure, not a pass mark)
    python3 - "$sock" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
req = b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"
n = 5000; buf = b""; t = time.time()
for _ in range(n):
    s.sendall(req)
    while b"\r\n\r\nOK" not in buf:
        buf += s.recv(65536)
    buf = buf[buf.index(b"\r\n\r\nOK") + 6:]
print("# serve: /_ping %d req/s (one keep-alive client, sequential)" % (n / (time.time() - t)))
PY
}

test_serve_socket_preflight() {
    sock=$PWD/p.sock
    echo keep >"$sock"
    capture $M serve -H "unix://$sock"
    assert_eq 125 "$rc"
    assert_contains "$out" "is not a socket"
    assert_eq keep "$(cat "$sock")" "the file is left alone"
    rm "$sock"
    echo target >target.txt
    ln -s "$PWD/target.txt" "$sock"
    capture $M serve -H "unix://$sock"
    assert_eq 125 "$rc"
    assert_contains "$out" "symbolic link"
    [ -L "$sock" ] || fail "the symlink was replaced"
    assert_eq target "$(cat target.txt)"
    rm "$sock"
    # a socket nobody listens on is stale: replaced
    python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$sock"
    [ -S "$sock" ] || fail "no stale socket made"
    $M serve -H "unix://$sock" 2>serve.err &
    pid=$!
    wait_for 50 curl -sf --unix-socket "$sock" http://docker/_ping || fail "serve did not replace the stale socket: $(cat serve.err)"
    # owner-only, or the docker group's too where that group exists (issue 6)
    if getent group docker >/dev/null; then
        assert_eq "660 docker" "$(stat -c '%a %G' "$sock")" "the docker group's socket"
    else
        assert_eq 600 "$(stat -c %a "$sock")" "owner-only socket"
    fi
    # a live one is not taken over
    capture $M serve -H "unix://$sock"
    assert_eq 125 "$rc"
    assert_contains "$out" "in use"
    capture $M serve -H tcp://127.0.0.1:2375
    assert_eq 125 "$rc"
    kill -TERM $pid
    wait $pid || true
    [ ! -e "$sock" ] || fail "the socket is left after SIGTERM"
}

test_serve_run_detached_lifecycle() {
    start_serve
    # docker run -d waits for the wait's headers before it starts the container
    id=$(timeout -s KILL 20 $D run -d --name d1 $IMG sleep 100) || fail "docker run -d did not return"
    assert_eq "$($M ps -q --no-trunc --filter name=d1)" "$id"
    assert_eq running "$($D inspect -f '{{.State.Status}}' d1)"
    timeout -s KILL 20 $D stop -t 1 d1 >/dev/null
    assert_eq exited "$($M inspect -f '{{.State.Status}}' d1)"
    # a wait that was already waiting gets the code once the container exits
    $D start d1 >/dev/null
    (timeout -s KILL 20 $D wait d1 >wait.out) &
    wpid=$!
    sleep 0.3
    $M kill -s KILL d1 >/dev/null
    wait $wpid
    assert_eq 137 "$(cat wait.out)"
    # wait on a missing container: 404 before any header
    assert_eq 404 "$(api -X POST /containers/nosuch/wait)"
    timeout -s KILL 20 $D rm -f d1 >/dev/null
    assert_eq "" "$($M ps -aq)"
}
