# t_bridge.sh: containers on bridge networks, with real traffic (only to
# loopback, the host's own addresses and containers): published TCP and UDP
# ports, ports already taken, names between containers on a user network,
# live connect/disconnect, isolation between networks, --internal, the
# generated /etc/hosts and /etc/resolv.conf, the embedded DNS server's
# forwarding, what 50 containers and a killed monitor leave behind, and the
# cost of a bridge on `run --rm`.  Every test removes what it made (its EXIT
# trap): containers, networks, the host processes it started.

# ---- helpers ----

BR_PIDS=""

br_cleanup() {
    local c p
    set +e # a trap: nothing here may end the test's status
    for p in $BR_PIDS; do kill "$p" 2>/dev/null; done
    for c in $($M ps -aq 2>/dev/null); do $M rm -f "$c" >/dev/null 2>&1; done
    $M network prune -f >/dev/null 2>&1
    return 0
}

# Each test: its own directory (for files to bind-mount), nothing left from
# the last one, and the cleanup however it ends.
br_setup() {
    BR_DIR=$(mktemp -d "$PWD/bridge.XXXXXX")
    mkdir -p "$BR_DIR/www"
    echo "hello from $BR_DIR" >"$BR_DIR/www/index.html"
    on_exit br_cleanup
    br_cleanup
}

# A TCP port nothing on the host listens on now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'
}

# The host's first global IPv4 address (not loopback).
host_ip() {
    ip -4 -o addr show scope global | awk '{split($4, a, "/"); print a[1]; exit}'
}

# A /24 of 10.214.0.0/16 that no route of the host covers (other stores make
# networks on this host at the same time).
free_subnet() {
    local i
    for i in $(shuf -i 1-250); do
        ip -4 route | grep -q "^10\.214\.$i\." || { echo "10.214.$i.0/24"; return 0; }
    done
    fail "no free 10.214.x.0/24"
}

http_get() { # ADDR PORT: the body, from the host
    curl -s -m 5 "http://$1:$2/"
}

# An HTTP GET from inside a running container, with busybox nc (busybox
# wget crashes in a bare container); the whole response on stdout.
ctr_get() { # CONTAINER HOST [PORT]
    $M exec "$1" sh -c 'printf "GET / HTTP/1.0\r\n\r\n" | nc -w 2 "$1" "$2"' sh "$2" "${3:-80}"
}

httpd() { # NAME ARGS...: a detached busybox httpd on port 80 serving $BR_DIR/www
    local name=$1
    shift
    $M run -d --name "$name" -v "$BR_DIR/www:/www:ro" "$@" $IMG httpd -f -p 80 -h /www
}

ctr_ip() { # CONTAINER NETWORK
    $M inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"
}

nft_has() { # STRING: whether mocker's table names it
    nft list table ip mocker 2>/dev/null | grep -qF "$1"
}

leases() { # FULL ID: the container's rows in the endpoints table
    sqlite3 "$MOCKER_ROOT/mocker.db" "SELECT count(*) FROM endpoints WHERE container_id = '$1'"
}

# A host process: a python http.server on ADDR:PORT, serving $BR_DIR/www.
host_http() { # ADDR PORT
    (cd "$BR_DIR/www" && exec python3 -m http.server --bind "$1" "$2") >/dev/null 2>&1 &
    BR_PIDS="$BR_PIDS $!"
    wait_for 50 curl -s -m 1 -o /dev/null "http://$1:$2/" || fail "host http server on $1:$2"
}

# ---- published ports ----

test_bridge_publish_tcp() {
    br_setup
    local hip p1 p2 out
    hip=$(host_ip)
    [ -n "$hip" ] || skip "the host has no global IPv4 address"
    p1=$(free_port)
    id=$(httpd w1 -p "127.0.0.1:$p1:80")
    wait_for 50 http_get 127.0.0.1 "$p1" || fail "127.0.0.1:$p1 does not answer"
    assert_eq "hello from $BR_DIR" "$(http_get 127.0.0.1 "$p1")" "127.0.0.1:$p1"
    assert_eq "80/tcp -> 127.0.0.1:$p1" "$($M port w1)"
    # bound to 127.0.0.1 only: not on the host's other addresses
    capture http_get "$hip" "$p1"
    [ "$rc" -ne 0 ] || fail "$hip:$p1 answered, though published on 127.0.0.1 only"

    # no address: every address of the host, the non-loopback one included
    p2=$(free_port)
    httpd w2 -p "$p2:80" >/dev/null
    wait_for 50 http_get "$hip" "$p2" || fail "$hip:$p2 does not answer"
    assert_eq "hello from $BR_DIR" "$(http_get "$hip" "$p2")" "$hip:$p2"
    assert_eq "hello from $BR_DIR" "$(http_get 127.0.0.1 "$p2")" "127.0.0.1:$p2"
    # and from another container, through the host's address
    $M run -d --name cli $IMG sleep 600 >/dev/null
    assert_contains "$(ctr_get cli "$hip" "$p2")" "hello from $BR_DIR" "container to $hip:$p2"

    # -p 80: an ephemeral host port, shown by port, answering
    httpd w3 -p 80 >/dev/null
    out=$($M port w3 80)
    [[ $out =~ ^0\.0\.0\.0:([0-9]+)$ ]] || fail "port w3 80: [$out]"
    local eph=${BASH_REMATCH[1]}
    assert_eq "80/tcp -> 0.0.0.0:$eph" "$($M port w3)"
    assert_eq "0.0.0.0:$eph" "$($M port w3 80/tcp)"
    assert_eq "$eph" "$($M inspect -f '{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}' w3)"
    wait_for 50 http_get 127.0.0.1 "$eph" || fail "ephemeral port $eph does not answer"
    assert_eq "hello from $BR_DIR" "$(http_get 127.0.0.1 "$eph")"

    # -P: the --expose'd port, ephemeral
    $M run -d --name w4 -P --expose 8080 -v "$BR_DIR/www:/www:ro" $IMG httpd -f -p 8080 -h /www >/dev/null
    out=$($M port w4 8080/tcp)
    [[ $out =~ ^0\.0\.0\.0:([0-9]+)$ ]] || fail "port w4 8080/tcp: [$out]"
    eph=${BASH_REMATCH[1]}
    wait_for 50 http_get 127.0.0.1 "$eph" || fail "-P port $eph does not answer"
    assert_eq "hello from $BR_DIR" "$(http_get 127.0.0.1 "$eph")"
}

test_bridge_publish_udp() {
    br_setup
    command -v cc >/dev/null || skip "no C compiler to build the UDP echo helper"
    mkdir "$BR_DIR/bin"
    cc -static -O2 -o "$BR_DIR/bin/udpecho" "$REPO/tests/integration/helpers/udpecho.c" ||
        skip "cannot link a static helper (no static libc)"
    local p hip
    p=$(free_port)
    hip=$(host_ip)
    $M run -d --name u1 -p "$p:7/udp" -v "$BR_DIR/bin:/h:ro" $IMG /h/udpecho 7 >/dev/null
    assert_eq "7/udp -> 0.0.0.0:$p" "$($M port u1)"
    for addr in 127.0.0.1 $hip; do
        out=$(python3 - "$addr" "$p" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
for _ in range(10):  # the first datagram may race the container's bind
    s.sendto(b"ping " + sys.argv[1].encode(), (sys.argv[1], int(sys.argv[2])))
    try:
        print(s.recv(100).decode())
        break
    except socket.timeout:
        pass
EOF
        )
        assert_eq "ping $addr" "$out" "UDP echo through $addr:$p"
    done
}

# ---- a port already taken ----

# The start failed and left nothing: not running, no map element, no lease.
assert_nothing_left() { # NAME
    local id
    id=$($M inspect -f '{{.Id}}' "$1")
    assert_eq false "$($M inspect -f '{{.State.Running}}' "$1")" "$1 running"
    assert_not_contains "$($M ps -q --no-trunc)" "$id" "ps"
    ! nft_has "ctr:$id" || fail "an nft element of $1 is left: $(nft list table ip mocker | grep -F "ctr:$id")"
    assert_eq 0 "$(leases "$id")" "leases of $1"
    assert_eq "" "$($M port "$1" 2>/dev/null)" "port $1"
}

test_bridge_port_conflict() {
    br_setup
    local p q
    p=$(free_port)
    httpd a1 -p "127.0.0.1:$p:80" >/dev/null
    # a second container on the same host port
    capture $M run -d --name a2 -p "127.0.0.1:$p:80" $IMG sleep 600
    assert_eq 125 "$rc" "run of a second container on $p"
    assert_contains "$out" "Bind for 127.0.0.1:$p failed: port is already allocated"
    assert_nothing_left a2
    # the first is untouched
    wait_for 50 http_get 127.0.0.1 "$p" || fail "a1 stopped answering on $p"
    # on all addresses while one of them is taken: refused too
    capture $M run -d --name a3 -p "$p:80" $IMG sleep 600
    assert_eq 125 "$rc" "run on 0.0.0.0:$p"
    assert_contains "$out" "Bind for 0.0.0.0:$p failed: port is already allocated"
    assert_nothing_left a3

    # a host process listening on the port
    q=$(free_port)
    host_http 127.0.0.1 "$q"
    capture $M run -d --name a4 -p "127.0.0.1:$q:80" $IMG sleep 600
    assert_eq 125 "$rc" "run on a port a host process holds"
    assert_contains "$out" "Bind for 127.0.0.1:$q failed: port is already allocated"
    assert_nothing_left a4
    # the host process still answers itself
    assert_eq "hello from $BR_DIR" "$(http_get 127.0.0.1 "$q")"
    # start fails the same way (docker start's status is 1), and leaves nothing
    capture $M start a4
    assert_eq 1 "$rc" "start a4 while the host holds $q"
    assert_contains "$out" "Bind for 127.0.0.1:$q failed: port is already allocated"
    assert_nothing_left a4
}

# ---- user-defined networks ----

test_bridge_user_network_names_and_live_connect() {
    br_setup
    local sub pre id ip2
    sub=$(free_subnet)
    pre=${sub%.0/24}
    $M network create --subnet "$sub" un1 >/dev/null
    id=$(httpd web --network un1 --network-alias webalias)
    $M run -d --name cli --network un1 $IMG sleep 600 >/dev/null
    wait_for 50 ctr_get cli web || fail "cli cannot reach web by name"
    for n in web webalias "${id:0:12}" web.un1; do
        assert_contains "$(ctr_get cli "$n")" "hello from $BR_DIR" "GET from cli to $n"
    done
    assert_contains "$(ctr_get cli "$(ctr_ip web un1)")" "hello from $BR_DIR" "GET by address"

    # disconnect (live): neither the name nor the old address answers
    local old
    old=$(ctr_ip web un1)
    $M network disconnect un1 web
    capture ctr_get cli web
    [ "$rc" -ne 0 ] || fail "web still answers by name after disconnect: $out"
    capture ctr_get cli "$old"
    [ "$rc" -ne 0 ] || fail "web still answers on $old after disconnect: $out"
    assert_eq "{}" "$($M inspect -f '{{json .NetworkSettings.Networks}}' web)"
    assert_eq "" "$($M exec web ip -4 -o addr show scope global)" "web's addresses after disconnect"

    # connect again (live) with an address of our choice and the alias
    ip2="$pre.77"
    $M network connect --ip "$ip2" --alias webalias un1 web
    assert_eq "$ip2" "$(ctr_ip web un1)" "inspect after connect"
    assert_contains "$($M exec web ip -4 -o addr show scope global)" "inet $ip2/24" "web's eth"
    for n in web webalias "${id:0:12}" "$ip2"; do
        assert_contains "$(ctr_get cli "$n")" "hello from $BR_DIR" "GET from cli to $n after connect"
    done
}

test_bridge_networks_isolated() {
    br_setup
    $M network create na >/dev/null
    $M network create nb >/dev/null
    httpd wa --network na >/dev/null
    $M run -d --name cb --network nb $IMG sleep 600 >/dev/null
    $M run -d --name ca --network na $IMG sleep 600 >/dev/null
    local a
    a=$(ctr_ip wa na)
    # the control: a container on the same network reaches it
    wait_for 50 ctr_get ca "$a" || fail "ca cannot reach wa at $a"
    capture ctr_get cb "$a"
    [ "$rc" -ne 0 ] || fail "a container on nb reached wa ($a) on na: $out"
    assert_not_contains "$out" "hello"
    # nor by name: na's names are not nb's
    capture ctr_get cb wa
    [ "$rc" -ne 0 ] || fail "cb resolved wa: $out"
}

test_bridge_internal_network() {
    br_setup
    local hip p
    hip=$(host_ip)
    [ -n "$hip" ] || skip "the host has no global IPv4 address"
    p=$(free_port)
    host_http "$hip" "$p"
    $M network create --internal nint >/dev/null
    $M network create next >/dev/null
    $M run -d --name ci --network nint $IMG sleep 600 >/dev/null
    $M run -d --name ce --network next $IMG sleep 600 >/dev/null
    # the control: an ordinary user network reaches the host's address
    wait_for 30 ctr_get ce "$hip" "$p" || fail "a container on next cannot reach $hip:$p"
    # (busybox's ip route does not filter on "default")
    assert_eq "" "$($M exec ci ip route | grep '^default')" "default route on an internal network"
    assert_contains "$($M exec ci ip -4 -o addr show eth0)" "inet " "ci's address"
    capture ctr_get ci "$hip" "$p"
    [ "$rc" -ne 0 ] || fail "a container on an internal network reached $hip:$p: $out"
    assert_not_contains "$out" "hello"
    # containers of the internal network still reach each other
    httpd wi --network nint >/dev/null
    wait_for 30 ctr_get ci wi || fail "ci cannot reach wi on the internal network"
}

# ---- 50 containers ----

test_bridge_fifty_containers_leave_nothing() {
    br_setup
    local nid br sub i ids="" veths="" ruleset dev
    nid=$($M network create n50)
    br=$($M network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' n50)
    [ -n "$br" ] || br="mk-${nid:0:12}"
    sub=$($M network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' n50)
    [ -d "/sys/class/net/$br" ] || fail "bridge $br of n50 missing"
    for i in $(seq 1 50); do
        ids="$ids $($M run -d --network n50 $IMG sleep 600)"
    done
    local addrs
    addrs=$(for id in $ids; do ctr_ip "$id" n50; done)
    assert_eq 50 "$(echo "$addrs" | grep -c .)" "addresses"
    assert_eq 50 "$(echo "$addrs" | sort -u | grep -c .)" "distinct addresses"
    assert_eq 50 "$($M network inspect -f '{{len .Containers}}' n50)" "network inspect's containers"
    veths=$(ip -o link show master "$br" | awk -F': ' '{split($2, a, "@"); print a[1]}')
    assert_eq 50 "$(echo "$veths" | grep -c .)" "veths on $br"

    $M rm -f $ids >/dev/null
    $M network rm n50 >/dev/null
    gone() {
        local v
        for v in $veths; do ip -o link show "$v" >/dev/null 2>&1 && return 1; done
        return 0
    }
    # a veth goes with its namespace, asynchronously
    wait_for 50 gone || fail "veths left: $(for v in $veths; do ip -o link show "$v" 2>/dev/null; done)"
    [ ! -e "/sys/class/net/$br" ] || fail "bridge $br left"
    # Other stores and tools (podman's netavark) make networks on this host
    # at the same time and may take the freed subnet at once: a route or
    # rule of that subnet is ours only if it names our bridge or network.
    assert_not_contains "$(ip -4 route)" "$br" "routes"
    local l
    while read -r l; do
        [ -z "$l" ] && continue
        dev=$(echo "$l" | awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1)}')
        [ "$(cat "/sys/class/net/$dev/ifalias" 2>/dev/null)" != "mocker:$MOCKER_ROOT" ] ||
            fail "a route of n50's subnet on a bridge of this store: $l"
    done <<<"$(ip -4 route show "$sub")"
    ruleset=$(nft list ruleset 2>/dev/null)
    assert_not_contains "$ruleset" "$nid" "nft ruleset"
    assert_not_contains "$ruleset" "$br" "nft ruleset"
    # mocker's rules of a subnet always carry their network's id
    while read -r l; do
        [ -z "$l" ] && continue
        assert_contains "$l" 'comment "net:' "a rule of $sub"
    done <<<"$(nft list table ip mocker 2>/dev/null | grep -F "$sub")"
    for id in $ids; do
        assert_not_contains "$ruleset" "$id" "nft ruleset"
        assert_eq 0 "$(leases "$id")" "leases of $id"
    done
}

# ---- /etc/hosts, /etc/resolv.conf and the rest of the endpoint ----

test_bridge_etc_files() {
    br_setup
    local out ip gw ns
    # the default bridge: own address with the hostname, the host's resolvers
    # minus the loopback ones (docker's fallbacks when none is left)
    out=$($M run --rm --hostname hh $IMG sh -c 'cat /etc/hosts; echo ==; cat /etc/resolv.conf; echo ==; ip -4 -o addr show eth0')
    ip=$(echo "$out" | awk '$2 == "eth0" {split($4, a, "/"); print a[1]}')
    [ -n "$ip" ] || fail "no address on eth0: $out"
    assert_contains "$out" "$(printf '%s\thh' "$ip")" "/etc/hosts"
    assert_contains "$out" "$(printf '127.0.0.1\tlocalhost')" "/etc/hosts"
    ns=$(awk '$1 == "nameserver" && $2 !~ /^127\./ && $2 != "::1" {print "nameserver " $2}' /etc/resolv.conf)
    [ -n "$ns" ] || ns="nameserver 8.8.8.8
nameserver 8.8.4.4"
    assert_eq "$ns" "$(echo "$out" | sed -n '/^==$/,/^==$/p' | grep '^nameserver')" "resolvers on the default bridge"
    assert_not_contains "$out" "127.0.0.11" "resolv.conf on the default bridge"

    # a user network: the embedded server
    $M network create --subnet "$(free_subnet)" ue >/dev/null
    out=$($M run --rm --network ue $IMG cat /etc/resolv.conf)
    assert_eq "nameserver 127.0.0.11
options ndots:0" "$(echo "$out" | grep -v '^#' | grep .)" "resolv.conf on a user network"

    # --add-host, with host-gateway: the default bridge's gateway
    gw=$($M network inspect -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' bridge)
    out=$($M run --rm --add-host foo:1.2.3.4 --add-host gw:host-gateway $IMG cat /etc/hosts)
    assert_contains "$out" "$(printf '1.2.3.4\tfoo')" "--add-host"
    assert_contains "$out" "$(printf '%s\tgw' "$gw")" "--add-host host-gateway"
    # and from a user network too: still the default bridge's gateway
    out=$($M run --rm --network ue --add-host gw:host-gateway $IMG cat /etc/hosts)
    assert_contains "$out" "$(printf '%s\tgw' "$gw")" "host-gateway on a user network"

    # --dns, --dns-search, --dns-option on the default bridge: written as given,
    # in docker's order (search first)
    out=$($M run --rm --dns 10.9.8.7 --dns 10.9.8.6 --dns-search a.example --dns-search b.example \
        --dns-option ndots:3 --dns-option timeout:2 $IMG cat /etc/resolv.conf)
    assert_eq "search a.example b.example
nameserver 10.9.8.7
nameserver 10.9.8.6
options ndots:3 timeout:2" "$(echo "$out" | grep -v '^#' | grep .)" "--dns* on the default bridge"
    # on a user network the container asks 127.0.0.11, with the search and options
    out=$($M run --rm --network ue --dns 10.9.8.7 --dns-search a.example --dns-option timeout:2 \
        $IMG cat /etc/resolv.conf)
    assert_contains "$out" "nameserver 127.0.0.11"
    assert_not_contains "$out" "10.9.8.7"
    assert_contains "$out" "search a.example"
    assert_contains "$out" "timeout:2"

    # --mac-address: on eth0 and in inspect
    $M run -d --name m1 --mac-address 02:42:aa:bb:cc:dd $IMG sleep 600 >/dev/null
    assert_contains "$($M exec m1 ip -o link show eth0)" "link/ether 02:42:aa:bb:cc:dd"
    assert_eq "02:42:aa:bb:cc:dd 02:42:aa:bb:cc:dd" \
        "$($M inspect -f '{{.NetworkSettings.MacAddress}} {{.NetworkSettings.Networks.bridge.MacAddress}}' m1)" \
        "inspect's MacAddress"

    # --ip on a user network with a subnet of its own: that address
    local sub
    sub=$($M network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' ue)
    $M run -d --name i1 --network ue --ip "${sub%.0/24}.42" $IMG sleep 600 >/dev/null
    assert_eq "${sub%.0/24}.42" "$(ctr_ip i1 ue)" "inspect of --ip"
    assert_contains "$($M exec i1 ip -4 -o addr show eth0)" "inet ${sub%.0/24}.42/24"
    # --ip on the default bridge: docker's refusal
    capture $M run --rm --ip "${gw%.*}.200" $IMG true
    assert_eq 125 "$rc" "--ip on the default bridge"
    assert_contains "$out" "user specified IP address is supported on user defined networks only"
}

# ---- the embedded DNS server's forwarding ----

test_bridge_dns_forwards_unknown_names() {
    br_setup
    # A fake resolver on the host's loopback: answers every A question with
    # 10.1.2.3 (and any other with no records).  A loopback upstream is asked
    # from the host's namespace by the container's monitor (network/dns.c).
    # 127.0.0.98: an address of lo nothing else uses, so port 53 is free.
    cat >"$BR_DIR/fakedns.py" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
open(sys.argv[2], "w").close()
while True:
    q, src = s.recvfrom(512)
    i = 12
    while q[i]:
        i += 1 + q[i]
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    an = 1 if qtype == 1 else 0
    reply = q[:2] + struct.pack("!HHHHH", 0x8180, 1, an, 0, 0) + question
    if an:
        reply += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("10.1.2.3")
    s.sendto(reply, src)
EOF
    python3 "$BR_DIR/fakedns.py" 127.0.0.98 "$BR_DIR/dns.ready" 2>"$BR_DIR/dns.err" &
    BR_PIDS="$BR_PIDS $!"
    wait_for 50 test -e "$BR_DIR/dns.ready" || fail "fake DNS server: $(cat "$BR_DIR/dns.err")"
    $M network create ud >/dev/null
    $M run -d --name peer --network ud $IMG sleep 600 >/dev/null
    capture $M run --rm --network ud --dns 127.0.0.98 $IMG nslookup anything.example
    assert_eq 0 "$rc" "nslookup anything.example: $out"
    assert_contains "$out" "Address: 10.1.2.3"
    assert_contains "$out" "127.0.0.11" "the server asked"
    # names of the network are still answered by the embedded server
    capture $M run --rm --network ud --dns 127.0.0.98 $IMG nslookup peer
    assert_eq 0 "$rc" "nslookup peer: $out"
    assert_contains "$out" "Address: $(ctr_ip peer ud)"
    assert_not_contains "$out" "10.1.2.3"
}

# ---- a killed monitor ----

test_bridge_monitor_killed() {
    br_setup
    local p id id2 pid mon i
    p=$(free_port)
    id=$(httpd k1 -p "127.0.0.1:$p:80")
    wait_for 50 http_get 127.0.0.1 "$p" || fail "k1 does not answer on $p"
    nft_has "ctr:$id" || fail "no nft element for k1"
    assert_eq 1 "$(leases "$id")" "k1's lease"
    pid=$($M inspect -f '{{.State.Pid}}' k1)
    mon=$(ps -o ppid= -p "$pid" | tr -d ' ')
    assert_contains "$(ps -o args= -p "$mon")" "mocker" "the monitor (parent of $pid)"
    # gone, or a zombie until the host's init reaps it
    dead() { case "$(ps -o stat= -p "$1")" in "" | Z*) return 0 ;; *) return 1 ;; esac; }
    kill -9 "$mon"
    wait_for 20 dead "$mon" || fail "monitor $mon still alive"
    assert_eq "exited 137" "$($M inspect -f '{{.State.Status}} {{.State.ExitCode}}' k1)"
    assert_eq "" "$($M port k1)" "port k1"
    # while the dead k1 is still there, a new container takes its host port
    # (the start sweeps what a killed monitor left)
    id2=$(httpd k2 -p "127.0.0.1:$p:80")
    wait_for 50 http_get 127.0.0.1 "$p" || fail "k2 does not answer on $p"
    ! nft_has "ctr:$id" || fail "k1's nft element left after k2's start: $(nft list table ip mocker | grep -F "ctr:$id")"
    nft_has "ctr:$id2" || fail "no nft element for k2"
    # rm -f of both: nothing of either is left
    $M rm -f k1 k2 >/dev/null
    for i in "$id" "$id2"; do
        ! nft_has "ctr:$i" || fail "nft element of $i left: $(nft list table ip mocker | grep -F "ctr:$i")"
        assert_eq 0 "$(leases "$i")" "leases of $i"
    done
    # the init died of its PDEATHSIG
    wait_for 10 dead "$pid" || fail "k1's process $pid still runs: $(ps -o stat,args= -p "$pid")"
    # the port is free: a third container publishes it and answers
    httpd k3 -p "127.0.0.1:$p:80" >/dev/null
    wait_for 50 http_get 127.0.0.1 "$p" || fail "k3 does not answer on $p"
    assert_eq "hello from $BR_DIR" "$(http_get 127.0.0.1 "$p")"
}

# ---- timing, for the record ----

test_bridge_timing_run_rm() {
    br_setup
    median_ms() { # ARGS...: the median of 10 `run --rm ARGS`, in ms
        local i t0 t1 v=()
        $M run --rm "$@" >/dev/null # warm
        for i in $(seq 1 10); do
            t0=$(date +%s%N)
            $M run --rm "$@" >/dev/null
            t1=$(date +%s%N)
            v+=($(((t1 - t0) / 1000)))
        done
        printf '%s\n' "${v[@]}" | sort -n | sed -n 5,6p | awk '{s += $1} END {printf "%.1f", s / 2 / 1000}'
    }
    local b n
    b=$(median_ms $IMG true)
    n=$(median_ms --network none $IMG true)
    echo "# run --rm true: median of 10 on the default bridge $b ms, --network none $n ms"
}

# A container started on the default bridge and connected live to a user
# network gets the embedded DNS server there, as docker's does: its
# resolv.conf names 127.0.0.11 and the network's names resolve.
test_bridge_live_connect_gets_embedded_dns() {
    br_setup
    $M network create --subnet "$(free_subnet)" ldns >/dev/null
    httpd lweb --network ldns >/dev/null
    $M run -d --name lcli $IMG sleep 600 >/dev/null
    assert_not_contains "$($M exec lcli cat /etc/resolv.conf)" "127.0.0.11" "the default bridge has no embedded DNS"
    $M network connect ldns lcli
    assert_contains "$($M exec lcli cat /etc/resolv.conf)" "nameserver 127.0.0.11"
    wait_for 50 ctr_get lcli lweb || fail "lcli cannot reach lweb by name after connect: $($M exec lcli cat /etc/resolv.conf)"
    assert_contains "$(ctr_get lcli lweb)" "hello from $BR_DIR"
}
