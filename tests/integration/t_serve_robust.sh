# t_serve_robust.sh: mocker serve under stress and abuse: hostile and broken
# requests, clients that stop reading, signals, kill -9 and restarts, two
# servers on one socket, systemd socket activation, descriptor exhaustion
# and the monitors it starts (no zombies).
source "$REPO/tests/integration/serve_lib.sh"

# Tests that count containers start from none (a failed test may leave some).
no_containers() { $M ps -aq --no-trunc | xargs -r $M rm -f >/dev/null; }
serve_threads() { awk '/^Threads:/ {print $2}' "/proc/$serve_pid/status"; }
threads_above() { [ "$(serve_threads)" -gt "$1" ]; }
serve_cpu_ticks() { awk '{print $14 + $15}' "/proc/$serve_pid/stat"; }

test_serve_robust_bad_input_keeps_serving() {
    no_containers
    start_serve
    # malformed JSON, wrong types, unknown fields' types: 400 with a message
    assert_eq 400 "$(api -X POST -H 'Content-Type: application/json' -d '{"Image":' /containers/create)"
    assert_contains "$(cat body.out)" '"message":'
    assert_eq 400 "$(api -X POST -H 'Content-Type: application/json' -d '{"Image": 5}' /containers/create)"
    assert_eq 400 "$(api -X POST -H 'Content-Type: application/json' -d '[1,2]' /containers/create)"
    assert_eq 400 "$(api -X POST -H 'Content-Type: application/json' -d "{\"Image\":\"$IMG\",\"Env\":\"A=1\"}" /containers/create)"
    # a non-upload endpoint refuses a 5 MiB body before reading it
    head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >big.json
    assert_eq 413 "$(api -X POST -H 'Content-Type: application/json' --data-binary @big.json /containers/create)"
    assert_contains "$(cat body.out)" "request body too large"
    # request smuggling shapes
    assert_contains "$(raw 'POST /_ping HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')" "HTTP/1.1 400 "
    assert_contains "$(raw 'POST /_ping HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc')" "HTTP/1.1 400 "
    assert_contains "$(raw 'POST /_ping HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\x00x\r\nhi\r\n0\r\n\r\n')" "HTTP/1.1 400 "
    # huge headers, too many headers
    big=$(head -c 70000 /dev/zero | tr '\0' a)
    assert_contains "$(raw "GET /_ping HTTP/1.1\r\nX: $big\r\n\r\n")" "HTTP/1.1 431 "
    many=$(for i in $(seq 1 150); do printf 'X-%d: y\\r\\n' "$i"; done)
    assert_contains "$(raw "GET /_ping HTTP/1.1\r\n${many}\r\n")" "HTTP/1.1 431 "
    # a truncated body: the client goes away mid-body
    python3 - "$sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'POST /containers/create HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"Ima')
s.close()
PY
    # an error message that is not UTF-8 still is a JSON body
    assert_eq 404 "$(api $'/containers/\xff\xfeno/json')"
    python3 -c 'import json,sys; m=json.load(open("body.out"))["message"]; assert "\ufffd" in m, m'
    # and the server is still there, for every client
    assert_eq 200 "$(api /_ping)"
    assert_eq OK "$(cat body.out)"
    assert_eq "" "$($D ps -aq)"
    kill -0 $serve_pid || fail "serve died"
}

test_serve_robust_mixed_clients() {
    no_containers
    $M create --name m1 $IMG true >/dev/null
    start_serve
    id=$($M inspect -f '{{.Id}}' m1)
    python3 - "$sock" "$id" >mixed.out <<'PY'
import socket, sys, threading, json
sock, cid = sys.argv[1], sys.argv[2]
paths = [("/_ping", 200, lambda b: b == b"OK"),
         ("/v1.47/version", 200, lambda b: json.loads(b)["ApiVersion"] == "1.47"),
         ("/info", 200, lambda b: json.loads(b)["Containers"] == 1),
         ("/containers/json?all=1", 200, lambda b: json.loads(b)[0]["Id"] == cid),
         ("/containers/m1/json", 200, lambda b: json.loads(b)["Id"] == cid),
         ("/images/json", 200, lambda b: len(json.loads(b)) == 1),
         ("/containers/nosuch/json", 404, lambda b: b"No such container" in b),
         ("/nosuch", 404, lambda b: b"page not found" in b)]
bad = []
def recv_response(s, buf):
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d: raise EOF
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ")[1])
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    while len(rest) < n:
        rest += s.recv(65536)
    return status, rest[:n].rstrip(b"\n"), rest[n:]
def client(i):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(sock); s.settimeout(30)
        buf = b""
        for k in range(len(paths)):  # keep-alive: every endpoint on one connection
            p, want, ok = paths[(i + k) % len(paths)]
            s.sendall(("GET %s HTTP/1.1\r\nHost: docker\r\n\r\n" % p).encode())
            status, body, buf = recv_response(s, buf)
            if status != want or not ok(body):
                bad.append((i, p, status, body[:100]))
        s.close()
    except Exception as e:
        bad.append((i, repr(e)))
ts = [threading.Thread(target=client, args=(i,)) for i in range(100)]
for t in ts: t.start()
for t in ts: t.join()
print("bad:", bad[:5], len(bad))
PY
    assert_eq "bad: [] 0" "$(cat mixed.out)"
    $M rm m1 >/dev/null
}

test_serve_robust_write_timeout() {
    $M run --name big $IMG sh -c 'i=0; while [ $i -lt 4000 ]; do echo 0123456789012345678901234567890123456789012345678901234567890123456789; i=$((i+1)); done' >/dev/null
    export MOCKER_SERVE_TIMEOUT_MS=1000
    start_serve
    base=$(serve_threads)
    # a client that asks for 280 KB of logs and never reads them
    python3 - "$sock" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b"GET /containers/big/logs?stdout=1 HTTP/1.1\r\nHost: d\r\n\r\n")
time.sleep(8)
PY
    reader=$!
    wait_for 20 threads_above "$base" || fail "no connection thread"
    # the stalled write fails after the write timeout: the thread is gone
    # while the client still holds its end
    wait_for 50 eval '! threads_above "$base"' || fail "a client that does not read holds a thread: $(serve_threads) threads"
    kill -0 $reader || fail "the client ended early"
    kill $reader 2>/dev/null || true
    # a stream lives as long as its client reads, past every timeout
    $M run -d --name slow $IMG sh -c 'for i in 1 2 3 4; do echo line$i; sleep 1; done' >/dev/null
    out=$(timeout -s KILL 20 $D logs -f slow)
    assert_eq "line1 line2 line3 line4" "$(echo $out)"
    $M rm -f big slow >/dev/null
}

test_serve_robust_sigterm_is_prompt() {
    start_serve
    $M run -d --name st $IMG sleep 100 >/dev/null
    # a follow stream is open while the server is told to stop
    (timeout -s KILL 20 $D logs -f st >/dev/null 2>&1 &)
    sleep 0.5
    start=$(date +%s%N)
    kill -TERM $serve_pid
    wait $serve_pid || true
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$ms" -lt 3000 ] || fail "SIGTERM took $ms ms"
    [ ! -e "$sock" ] || fail "the socket is left after SIGTERM"
    assert_eq running "$($M inspect -f '{{.State.Status}}' st)" "containers outlive the server"
    $M rm -f st >/dev/null
}

test_serve_robust_kill9_and_restart() {
    no_containers
    start_serve
    id=$(timeout -s KILL 20 $D run -d --name k9 $IMG sleep 100)
    kill -9 $serve_pid
    wait $serve_pid 2>/dev/null || true
    [ -S "$sock" ] || fail "kill -9 removed the socket?"
    # the stale socket is replaced; the lock died with the process
    start_serve
    wait_for 50 curl -sf --unix-socket "$sock" http://docker/_ping >/dev/null || fail "no restart: $(cat serve.err)"
    assert_eq running "$($D inspect -f '{{.State.Status}}' k9)"
    assert_eq "$id" "$($D ps -q --no-trunc)"
    timeout -s KILL 20 $D stop -t 1 k9 >/dev/null
    assert_eq exited "$($D inspect -f '{{.State.Status}}' k9)" "the container's monitor still answers"
    timeout -s KILL 20 $D rm k9 >/dev/null
}

test_serve_robust_one_server_per_socket() {
    sock=$PWD/s.sock
    # ten servers started at once: one serves, the others refuse
    for i in $(seq 1 10); do
        $M serve -H "unix://$sock" 2>"serve.$i.err" &
    done
    on_exit 'for p in $(jobs -p); do kill "$p" 2>/dev/null; done'
    sleep 2
    alive=0
    for p in $(jobs -p); do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
    assert_eq 1 "$alive" "servers left running"
    assert_eq 9 "$(grep -l 'in use' serve.*.err | wc -l)"
    assert_eq OK "$(curl -s --unix-socket "$sock" http://docker/_ping)"
    # the refused ones did not take the socket from the live one
    for i in 1 2 3; do
        capture $M serve -H "unix://$sock"
        assert_eq 125 "$rc"
    done
    assert_eq OK "$(curl -s --unix-socket "$sock" http://docker/_ping)"
    for p in $(jobs -p); do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    [ ! -e "$sock" ] || fail "the socket is left"
}

test_serve_robust_socket_activation() {
    sock=$PWD/act.sock
    # what systemd does: a listening socket as fd 3, LISTEN_PID/LISTEN_FDS
    python3 - "$sock" "$M" <<'PY' 2>act.err &
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(16)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ["LISTEN_PID"] = str(os.getpid()); os.environ["LISTEN_FDS"] = "1"
os.execv(sys.argv[2], [sys.argv[2], "serve", "-H", "fd://"])
PY
    serve_pid=$!
    on_exit 'kill $serve_pid 2>/dev/null; wait $serve_pid 2>/dev/null'
    wait_for 50 curl -sf --unix-socket "$sock" http://docker/_ping || fail "no answer on the passed socket: $(cat act.err)"
    assert_eq 1.47 "$(docker -H "unix://$sock" version --format '{{.Server.APIVersion}}')"
    # children (a container's monitor) do not take the LISTEN_* variables
    timeout -s KILL 20 docker -H "unix://$sock" run -d --name act $IMG sleep 100 >/dev/null
    mon=$(ps --ppid $serve_pid -o pid= | head -1)
    [ -n "$mon" ] || fail "no monitor child"
    assert_eq "" "$(tr '\0' '\n' <"/proc/$mon/environ" | grep '^LISTEN_' || true)" "LISTEN_* left for children"
    $M rm -f act >/dev/null
    kill -TERM $serve_pid
    wait $serve_pid || true
    [ -S "$sock" ] || fail "the activated socket belongs to systemd: not to be removed"
    # without a passed socket: a clear error
    capture $M serve -H fd://
    assert_eq 125 "$rc"
    assert_contains "$out" "no socket was passed"
}

test_serve_robust_descriptors() {
    # the soft limit is raised to the hard one
    start_serve
    assert_eq "$(awk '/Max open files/ {print $5}' /proc/$serve_pid/limits)" \
        "$(awk '/Max open files/ {print $4}' /proc/$serve_pid/limits)"
    kill -TERM $serve_pid
    wait $serve_pid || true
    # out of descriptors: accept backs off instead of spinning, and recovers
    prlimit --nofile=40:40 $M serve -H "unix://$sock" 2>serve.err &
    serve_pid=$!
    wait_for 50 test -S "$sock" || fail "serve did not start: $(cat serve.err)"
    python3 - "$sock" <<'PY' &
import socket, sys, time
held = []
for i in range(80):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); held.append(s)
time.sleep(4)
PY
    holder=$!
    sleep 1.5
    t0=$(serve_cpu_ticks)
    sleep 2
    t1=$(serve_cpu_ticks)
    # 200 ticks would be a spinning core; a back-off polls 10 times a second
    [ $((t1 - t0)) -lt 40 ] || fail "accept spins at EMFILE: $((t1 - t0)) ticks in 2 s"
    wait $holder || true
    wait_for 50 curl -sf --unix-socket "$sock" http://docker/_ping || fail "serve did not recover"
}

test_serve_robust_no_zombie_monitors() {
    no_containers
    start_serve
    for i in $(seq 1 50); do
        timeout -s KILL 20 $D run -d $IMG true >/dev/null || fail "run $i"
    done
    ids=$($D ps -aq)
    assert_eq 50 "$(echo "$ids" | wc -l)"
    # every container exits; their monitors then end
    wait_for 100 test -z "$($D ps -q)" || fail "containers still running"
    timeout -s KILL 60 $D rm $ids >/dev/null
    sleep 1
    zombies=$(ps --ppid $serve_pid -o stat= | grep -c '^Z' || true)
    assert_eq 0 "$zombies" "zombie children of serve"
    children=$(ps --ppid $serve_pid -o pid= | wc -l)
    assert_eq 0 "$children" "children left"
    # the server blocks no signal in its main thread, and ignores neither
    # SIGPIPE nor its own (children would inherit both)
    assert_eq 0000000000000000 "$(awk '/^SigBlk/ {print $2}' /proc/$serve_pid/status)"
    ign=$(awk '/^SigIgn/ {print $2}' /proc/$serve_pid/status)
    assert_eq 0 "$(( 0x$ign & 0x15002 ))" "SIGINT, SIGPIPE, SIGTERM, SIGCHLD ignored: $ign"
}

test_serve_robust_systemd_units() {
    # make install puts the units where systemd looks, naming the installed binary
    make -s -C "$REPO" install DESTDIR="$PWD/dest" PREFIX=/usr >install.log 2>&1 || fail "make install: $(tail -5 install.log)"
    u=$PWD/dest/usr/lib/systemd/system
    assert_contains "$(cat $u/mocker.socket)" "ListenStream=/run/mocker/mocker.sock"
    assert_contains "$(cat $u/mocker.socket)" "SocketMode=0660"
    assert_contains "$(cat $u/mocker.socket)" "SocketGroup=docker"
    assert_eq "ExecStart=/usr/bin/mocker serve -H fd://" "$(grep ^ExecStart= $u/mocker.service)"
    assert_eq "KillMode=process" "$(grep ^KillMode= $u/mocker.service)" "stopping the service leaves the monitors"
    if command -v systemd-analyze >/dev/null; then
        # only the complaint that /usr/bin/mocker is not installed here is expected
        out=$(cd "$u" && systemd-analyze verify ./mocker.socket ./mocker.service 2>&1 | grep -v 'is not executable' || true)
        assert_eq "" "$out" "systemd-analyze verify"
    fi
}
