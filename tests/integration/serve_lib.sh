# serve_lib.sh: helpers for the tests of mocker serve (t_serve*.sh source it).

# Start mocker serve on $PWD/s.sock (stopped when the test's shell exits);
# $D is the docker CLI pointed at it.
start_serve() {
    sock=$PWD/s.sock
    $M serve -H "unix://$sock" 2>serve.err &
    serve_pid=$!
    on_exit 'kill $serve_pid 2>/dev/null; wait $serve_pid 2>/dev/null'
    wait_for 50 test -S "$sock" || fail "serve did not start: $(cat serve.err)"
    D="docker -H unix://$sock"
}

# curl on the socket: prints the status code, the body goes to body.out and
# the headers to head.out.
api() { # [CURL-ARG...] PATH
    local path=${*: -1}
    curl -s --unix-socket "$sock" -D head.out -o body.out -w '%{http_code}' "${@:1:$#-1}" "http://docker$path"
}

# Send raw bytes ($1, printf-escaped) on one connection; prints what came back.
raw() {
    python3 - "$sock" "$1" <<'PY'
import socket, sys, codecs
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(10)
s.sendall(codecs.escape_decode(sys.argv[2])[0])
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except socket.timeout:
    pass
sys.stdout.write(out.decode("latin-1"))
PY
}
