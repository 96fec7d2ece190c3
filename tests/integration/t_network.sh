# t_network.sh: docker network create/ls/inspect/rm/prune/connect/disconnect,
# with docker's output and wording (compared against a dockerd 20.10 and the
# docker CLI 28), the Linux bridges they make and delete, and the subnets
# they choose.  Every test removes what it made on the host, even when it
# fails (its EXIT trap): no bridge outlives a test.

# Bridges this store made carry its root in their ifalias (engine/network.c).
net_mark() { echo "mocker:$MOCKER_ROOT"; }

our_bridges() {
    local l
    for l in /sys/class/net/*; do
        [ "$(cat "$l/ifalias" 2>/dev/null)" = "$(net_mark)" ] && basename "$l"
    done
    return 0
}

net_cleanup() {
    local c l
    set +e # a trap: nothing here may end the test's status
    for c in $($M ps -aq 2>/dev/null); do $M rm -f "$c" >/dev/null 2>&1; done
    $M network prune -f >/dev/null 2>&1
    # The store's bridges and their firewall rules (a test's own store too).
    "$REPO/tools/netclean" "$MOCKER_ROOT"
    for l in $(our_bridges) ${NET_EXTRA_LINKS:-}; do ip link del "$l" 2>/dev/null; done
    return 0
}

# Each test: its own etc (daemon.json), nothing left from the last one, and
# the cleanup however it ends.
net_setup() {
    MOCKER_ETC=$(mktemp -d "$PWD/etc.XXXXXX")
    export MOCKER_ETC
    on_exit net_cleanup
    net_cleanup
}

link_up() { # NAME: the link exists and is up
    ip -o link show "$1" 2>/dev/null | grep -q '[<,]UP[,>]'
}

# a.b.c.d/n as "first last" integers
cidr_range() {
    local ip=${1%/*} n=${1#*/} a b c d
    IFS=. read -r a b c d <<<"$ip"
    local v=$(((a << 24) | (b << 16) | (c << 8) | d))
    local size=$((1 << (32 - n)))
    v=$((v & ~(size - 1) & 0xffffffff))
    echo "$v $((v + size - 1))"
}

overlaps() { # CIDR CIDR
    local a1 a2 b1 b2
    read -r a1 a2 <<<"$(cidr_range "$1")"
    read -r b1 b2 <<<"$(cidr_range "$2")"
    [ "$a1" -le "$b2" ] && [ "$b1" -le "$a2" ]
}

# The host's routes (not the default one, not this store's bridges) as CIDRs.
host_routes() {
    ip -4 -o route show | awk '$1 != "default" && $1 ~ /\// {print $1 " " $3}' |
        while read -r net dev; do
            [ "$(cat "/sys/class/net/$dev/ifalias" 2>/dev/null)" = "$(net_mark)" ] || echo "$net"
        done
}

test_network_predefined_and_ls() {
    # a store of its own: the other tests configure bridge
    MOCKER_ROOT=$(mktemp -d "$PWD/root.XXXXXX")
    MOCKER_RUNROOT="$MOCKER_ROOT.run"
    export MOCKER_ROOT MOCKER_RUNROOT
    net_setup
    capture $M network ls
    assert_eq 0 "$rc"
    assert_eq "NETWORK ID     NAME      DRIVER    SCOPE" "$(echo "$out" | head -1)"
    assert_eq "bridge bridge local
host host local
none null local" "$($M network ls --format '{{.Name}} {{.Driver}}' | while read -r n d; do echo "$n $d local"; done)"
    for id in $($M network ls -q); do [[ $id =~ ^[0-9a-f]{12}$ ]] || fail "short id: $id"; done
    for id in $($M network ls -q --no-trunc); do [[ $id =~ ^[0-9a-f]{64}$ ]] || fail "id: $id"; done
    assert_eq '{"Driver":"default","Options":null,"Config":[]}' "$($M network inspect host -f '{{json .IPAM}}')"
    assert_eq "mocker0" "$($M network inspect bridge -f '{{index .Options "com.docker.network.bridge.name"}}')"
    capture $M network rm host
    assert_eq 1 "$rc"
    assert_eq "Error response from daemon: host is a pre-defined network and cannot be removed" "$out"
    capture $M network rm bridge none
    assert_contains "$out" "bridge is a pre-defined network and cannot be removed"
    assert_contains "$out" "none is a pre-defined network and cannot be removed"
    assert_eq 3 "$($M network ls -q | wc -l)"
}

test_network_create_inspect() {
    net_setup
    id=$($M network create --subnet 10.213.40.0/24 --gateway 10.213.40.254 --ip-range 10.213.40.128/25 \
        --internal --attachable --label a=b --label c -o com.docker.network.driver.mtu=1400 n1)
    [[ $id =~ ^[0-9a-f]{64}$ ]] || fail "id: $id"
    capture $M network inspect n1
    assert_eq 0 "$rc"
    for want in '"Name": "n1"' "\"Id\": \"$id\"" '"Scope": "local"' '"Driver": "bridge"' \
        '"EnableIPv6": false' '"Internal": true' '"Attachable": true' '"Ingress": false' \
        '"ConfigOnly": false' '"Containers": {}' '"Network": ""'; do
        assert_contains "$out" "$want"
    done
    assert_eq '{"Driver":"default","Options":{},"Config":[{"Subnet":"10.213.40.0/24","IPRange":"10.213.40.128/25","Gateway":"10.213.40.254"}]}' \
        "$($M network inspect -f '{{json .IPAM}}' n1)"
    assert_eq '{"a":"b","c":""} {"com.docker.network.driver.mtu":"1400"}' \
        "$($M network inspect -f '{{json .Labels}} {{json .Options}}' n1)"
    [[ $($M network inspect -f '{{.Created}}' n1) =~ ^20[0-9-]+T[0-9:.]+Z$ ]] || fail "Created"
    # by id, by id prefix, -f json
    assert_eq n1 "$($M network inspect -f '{{.Name}}' "$id")"
    assert_eq n1 "$($M network inspect -f '{{.Name}}' "${id:0:5}")"
    assert_contains "$($M network inspect -f json n1)" '{"Name":"n1","Id":"'
    # the Linux bridge: mk- and the id's first 12, up, with the gateway address
    link_up "mk-${id:0:12}" || fail "bridge mk-${id:0:12} missing or down"
    assert_contains "$(ip -o -4 addr show "mk-${id:0:12}")" "inet 10.213.40.254/24"
    assert_eq "$(net_mark)" "$(cat "/sys/class/net/mk-${id:0:12}/ifalias")"
    assert_eq 1 "$(cat /proc/sys/net/ipv4/ip_forward)"
    # a bridge name of one's own
    $M network create --subnet 10.213.41.0/24 -o com.docker.network.bridge.name=mkt-n2 n2 >/dev/null
    link_up mkt-n2 || fail "bridge mkt-n2"
    # inspect of one found and one missing: the found one, then the error, exit 1
    capture $M network inspect -f '{{.Name}}' n2 nosuch
    assert_eq 1 "$rc"
    assert_eq "n2
Error response from daemon: network nosuch not found" "$out"
    capture $M network inspect nosuch
    assert_eq "[]
Error response from daemon: network nosuch not found" "$out"
}

test_network_create_errors() {
    net_setup
    $M network create --subnet 10.213.42.0/24 e1 >/dev/null
    expect() { # RC MESSAGE ARGS...
        local want_rc=$1 msg=$2
        shift 2
        capture $M network create "$@"
        assert_eq "$want_rc" "$rc" "network create $*"
        assert_eq "$msg" "$out" "network create $*"
    }
    expect 1 "Error response from daemon: network with name e1 already exists" e1
    expect 1 "Error response from daemon: Pool overlaps with other one on this address space" \
        --subnet 10.213.42.128/25 x
    expect 1 "every ip-range or gateway must have a corresponding subnet" --gateway 10.1.1.1 x
    expect 1 "no matching subnet for gateway 10.213.44.1" --subnet 10.213.43.0/24 --gateway 10.213.44.1 x
    expect 1 "no matching subnet for range 10.213.44.0/25" --subnet 10.213.43.0/24 --ip-range 10.213.44.0/25 x
    expect 1 "Error response from daemon: Invalid subnet foo : invalid CIDR address: foo" --subnet foo x
    expect 1 "Error response from daemon: failed to allocate gateway (10.213.43.0): Address already in use" \
        --subnet 10.213.43.0/24 --gateway 10.213.43.0 x
    expect 1 "Error response from daemon: bridge driver doesn't support multiple subnets" \
        --subnet 10.213.43.0/24,10.213.45.0/24 x
    expect 1 'Error response from daemon: only one instance of "host" network is allowed' -d host x
    expect 1 'Error response from daemon: plugin "foo" not found' -d foo x
    expect 1 "Error response from daemon: failed to parse com.docker.network.driver.mtu value: abc (invalid syntax)" \
        -o com.docker.network.driver.mtu=abc x
    # what mocker does not do is refused with 125, never ignored
    capture $M network create -d macvlan x
    assert_eq 125 "$rc"
    capture $M network create -o com.docker.network.bridge.enable_icc=false x
    assert_eq 125 "$rc"
    assert_contains "$out" 'network option "com.docker.network.bridge.enable_icc" is not supported'
    capture $M network create --ipv6 x
    assert_eq 125 "$rc"
    capture $M network create --aux-address a=10.1.1.1 x
    assert_eq 125 "$rc"
    # nothing of the refused ones was made
    assert_eq "bridge e1 host none" "$(echo $($M network ls --format '{{.Name}}'))"
    assert_eq 1 "$(our_bridges | wc -l)"
}

test_network_auto_subnets_avoid_each_other_and_routes() {
    net_setup
    routes=$(host_routes)
    subnets=""
    for i in 1 2 3; do
        $M network create "auto$i" >/dev/null
        s=$($M network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "auto$i")
        [[ $s =~ ^[0-9.]+/[0-9]+$ ]] || fail "subnet of auto$i: $s"
        for r in $routes $subnets; do
            ! overlaps "$s" "$r" || fail "auto$i's $s overlaps $r"
        done
        subnets="$subnets $s"
        gw=$($M network inspect -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' "auto$i")
        id=$($M network inspect -f '{{.Id}}' "auto$i")
        assert_contains "$(ip -o -4 addr show "mk-${id:0:12}")" "inet $gw/${s#*/}"
    done
}

test_network_ls_filters_and_formats() {
    net_setup
    a=$($M network create --subnet 10.213.46.0/24 --label env=prod --label team alpha)
    $M network create --subnet 10.213.47.0/24 --internal beta >/dev/null
    lsn() { echo $($M network ls --format '{{.Name}}' "$@"); }
    assert_eq "alpha beta" "$(lsn -f type=custom)"
    assert_eq "bridge host none" "$(lsn -f type=builtin)"
    assert_eq "none" "$(lsn -f driver=null)"
    assert_eq "alpha" "$(lsn -f label=env=prod)"
    assert_eq "alpha" "$(lsn -f label=team)"
    assert_eq "" "$(lsn -f label=env=dev)"
    assert_eq "alpha" "$(lsn -f "id=${a:0:6}")"
    assert_eq "alpha beta" "$(lsn -f name=a)" # a substring
    assert_eq "alpha host" "$(lsn -f name=ph -f name=os)"
    assert_eq "alpha beta bridge host none" "$(lsn -f scope=local)"
    assert_eq "alpha beta" "$(lsn -f dangling=true)"
    assert_eq "bridge host none" "$(lsn -f dangling=false)"
    assert_eq "alpha" "$(lsn -f type=custom -f label=env)"
    assert_eq "${a:0:12}" "$($M network ls -q -f name=alpha)"
    assert_eq "$a" "$($M network ls -q --no-trunc -f name=alpha)"
    assert_eq "alpha env=prod,team= false true false local" \
        "$($M network ls -f name=alpha --format '{{.Name}} {{.Labels}} {{.Internal}} {{.IPv4}} {{.IPv6}} {{.Scope}}')"
    assert_eq "true" "$($M network ls -f name=beta --format '{{.Internal}}')"
    [[ $($M network ls -f name=alpha --format '{{.CreatedAt}}') =~ ^20[0-9-]+\ [0-9:.]+\ \+0000\ UTC$ ]] ||
        fail "CreatedAt: $($M network ls -f name=alpha --format '{{.CreatedAt}}')"
    assert_eq "NAME      INTERNAL
alpha     false" "$($M network ls -f name=alpha --format 'table {{.Name}}\t{{.Internal}}')"
    assert_contains "$($M network ls -f name=alpha --format json)" "{\"CreatedAt\":\""
    assert_contains "$($M network ls -f name=alpha --format json)" "\"ID\":\"${a:0:12}\",\"IPv4\":\"true\",\"IPv6\":\"false\",\"Internal\":\"false\",\"Labels\":\"env=prod,team=\",\"Name\":\"alpha\",\"Scope\":\"local\"}"
    capture $M network ls -f foo=bar
    assert_eq 1 "$rc"
    assert_eq "Error response from daemon: Invalid filter 'foo'" "$out"
    capture $M network ls -f type=x
    assert_eq "Error response from daemon: invalid filter: 'type'='x'" "$out"
    capture $M network ls -f dangling=maybe
    assert_contains "$out" "invalid value for filter 'dangling'"
    capture $M network list -f bad
    assert_eq 125 "$rc"
}

test_network_rm_prune_and_endpoints() {
    net_setup
    busy=$($M network create --subnet 10.213.48.0/24 busy)
    keep=$($M network create --subnet 10.213.49.0/24 --label keep=yes keep)
    $M network create --subnet 10.213.50.0/24 gone >/dev/null
    # A lease held by a running container (one whose monitor is gone would
    # be stale, and not count).
    ctr=$($M run -d --name leaser --network busy --ip 10.213.48.5 $IMG sleep 60)
    assert_contains "$($M network inspect -f '{{json .Containers}}' busy)" \
        "{\"$ctr\":{\"Name\":\"leaser\",\"EndpointID\":\""
    assert_contains "$($M network inspect -f '{{json .Containers}}' busy)" \
        '"MacAddress":"02:42:0a:d5:30:05","IPv4Address":"10.213.48.5/24","IPv6Address":""}}'
    capture $M network rm busy
    assert_eq 1 "$rc"
    assert_eq "Error response from daemon: error while removing network: network busy id $busy has active endpoints" "$out"
    assert_eq "busy" "$(echo $($M network ls -f dangling=false -f type=custom --format '{{.Name}}'))"
    # rm: prints each name, a missing one is docker's error, -f makes it quiet
    capture $M network rm gone nosuch
    assert_eq 1 "$rc"
    assert_eq "gone
Error response from daemon: network nosuch not found" "$out"
    capture $M network rm -f nosuch
    assert_eq "0 " "$rc $out"
    # prune: the unused user networks that match, with docker's report
    capture $M network prune -f --filter label!=keep
    assert_eq 0 "$rc"
    assert_eq "" "$out"
    capture $M network prune -f --filter until=1h
    assert_eq "" "$out"
    capture $M network prune --filter foo=1 -f
    assert_eq "1 Error response from daemon: Invalid filter 'foo'" "$rc $out"
    assert_eq "Deleted Networks:
keep

." "$(echo n | $M network prune -f --filter label=keep; echo .)"
    [ ! -e "/sys/class/net/mk-${keep:0:12}" ] || fail "pruned network's bridge left"
    assert_eq "bridge busy host none" "$(echo $($M network ls --format '{{.Name}}'))"
    # the lease goes with its container; then the network can go
    $M rm -f "$ctr" >/dev/null
    assert_eq "{}" "$($M network inspect -f '{{json .Containers}}' busy)"
    assert_eq busy "$($M network rm busy)"
    [ ! -e "/sys/class/net/mk-${busy:0:12}" ] || fail "removed network's bridge left"
    assert_eq "" "$(our_bridges)"
}

test_network_bridge_gets_its_subnet_on_ensure() {
    net_setup
    br="mkt$BASHPID"
    NET_EXTRA_LINKS=$br
    printf '{"bip": "10.213.51.1/24", "bridge": "%s"}\n' "$br" >"$MOCKER_ETC/daemon.json"
    assert_eq '[]' "$($M network inspect -f '{{json .IPAM.Config}}' bridge)"
    id=$($M network __ensure bridge)
    assert_eq "$($M network inspect -f '{{.Id}}' bridge)" "$id"
    assert_eq '[{"Subnet":"10.213.51.0/24","Gateway":"10.213.51.1"}]' \
        "$($M network inspect -f '{{json .IPAM.Config}}' bridge)"
    assert_eq "$br" "$($M network inspect bridge -f '{{index .Options "com.docker.network.bridge.name"}}')"
    link_up "$br" || fail "no bridge $br"
    assert_contains "$(ip -o -4 addr show "$br")" "inet 10.213.51.1/24"
    # after a reboot the bridges are gone: ensure makes them again
    ip link del "$br"
    u=$($M network create --subnet 10.213.52.0/24 u1)
    ip link del "mk-${u:0:12}"
    $M network __ensure bridge >/dev/null
    $M network __ensure u1 >/dev/null
    link_up "$br" || fail "bridge not remade"
    link_up "mk-${u:0:12}" || fail "u1's bridge not remade"
    assert_contains "$(ip -o -4 addr show "mk-${u:0:12}")" "inet 10.213.52.1/24"
    # the subnet is kept once chosen, whatever daemon.json says later
    echo '{"bip": "10.213.53.1/24"}' >"$MOCKER_ETC/daemon.json"
    $M network __ensure bridge >/dev/null
    assert_eq '[{"Subnet":"10.213.51.0/24","Gateway":"10.213.51.1"}]' \
        "$($M network inspect -f '{{json .IPAM.Config}}' bridge)"
    assert_eq "$($M network inspect -f '{{.Id}}' host)" "$($M network __ensure host)"
    capture $M network __ensure nosuch
    assert_eq "1 Error response from daemon: network nosuch not found" "$rc $out"
}

test_network_bridge_default_subnet_avoids_routes() {
    # a store of its own: bridge's subnet is chosen once per store
    MOCKER_ROOT=$(mktemp -d "$PWD/root.XXXXXX")
    MOCKER_RUNROOT="$MOCKER_ROOT.run"
    export MOCKER_ROOT MOCKER_RUNROOT
    net_setup
    br="mku$BASHPID"
    NET_EXTRA_LINKS=$br
    printf '{"bridge": "%s"}\n' "$br" >"$MOCKER_ETC/daemon.json"
    routes=$(host_routes)
    $M network create u2 >/dev/null # a user network first: bridge must avoid it too
    $M network __ensure bridge >/dev/null
    s=$($M network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' bridge)
    u=$($M network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' u2)
    for r in $routes $u; do
        ! overlaps "$s" "$r" || fail "bridge's $s overlaps $r"
    done
    assert_contains "$(ip -o -4 addr show "$br")" "inet ${s%.0/*}.1/"
}

test_network_connect_disconnect_stopped() {
    net_setup
    command -v sqlite3 >/dev/null || skip "no sqlite3 CLI to read the stored config"
    nid=$($M network create --subnet 10.213.54.0/24 web)
    $M network create auto >/dev/null
    ctr=$($M create --name cc $IMG true)
    $M create --name cnone --network none $IMG true >/dev/null
    $M create --name chost --network host $IMG true >/dev/null
    endpoints() { sqlite3 "$MOCKER_ROOT/mocker.db" "SELECT json_extract(config, '\$.NetworkingConfig.EndpointsConfig') FROM containers WHERE name = '$1'"; }
    bid=$($M network inspect -f '{{.Id}}' bridge)
    assert_eq "" "$($M network connect --ip 10.213.54.10 --alias a1 --alias a2,a3 web cc)"
    assert_eq "{\"bridge\":{\"IPAMConfig\":null,\"Aliases\":null,\"NetworkID\":\"$bid\"},\"web\":{\"IPAMConfig\":{\"IPv4Address\":\"10.213.54.10\"},\"Aliases\":[\"a1\",\"a2\",\"a3\"],\"NetworkID\":\"$nid\"}}" \
        "$(endpoints cc)"
    expect() { # RC MESSAGE ARGS...
        local want_rc=$1 msg=$2
        shift 2
        capture $M network "$@"
        assert_eq "$want_rc" "$rc" "network $*"
        assert_eq "$msg" "$out" "network $*"
    }
    expect 1 "Error response from daemon: endpoint with name cc already exists in network web" connect web cc
    expect 1 "Error response from daemon: user specified IP address is supported only when connecting to networks with user configured subnets" \
        connect --ip 172.30.0.5 auto cc
    expect 1 "Error response from daemon: network-scoped alias is supported only for containers in user defined networks" \
        connect --alias x bridge cc
    expect 1 "Error response from daemon: container cannot be connected to multiple networks with one of the networks in private (none) mode" \
        connect web cnone
    expect 1 "Error response from daemon: container sharing network namespace with another container or host cannot be connected to any other network" \
        connect web chost
    expect 1 "Error response from daemon: container cannot be disconnected from host network or connected to host network" \
        connect host cc
    expect 1 "Error response from daemon: No such container: nosuch" connect web nosuch
    expect 1 "Error response from daemon: network nosuch not found" connect nosuch cc
    capture $M network connect --ip 10.213.99.1 auto cc
    assert_eq 1 "$rc"
    capture $M network connect --ip6 ::1 web cc
    assert_eq 125 "$rc"
    # disconnect, and docker's errors
    assert_eq "" "$($M network disconnect bridge cc)"
    assert_eq "" "$($M network disconnect web cc)"
    assert_eq "{}" "$(endpoints cc)"
    expect 1 "Error response from daemon: container $ctr is not connected to the network web" disconnect web cc
    # -f drops the entry of a network removed meanwhile
    $M network connect web cc
    $M network rm web >/dev/null
    expect 1 "Error response from daemon: network web not found" disconnect web cc
    assert_eq "" "$($M network disconnect -f web cc)"
    assert_eq "{}" "$(endpoints cc)"
    # a running container: connected live (an interface appears in it) and
    # the stored config keeps it for the next start; disconnected live too
    $M create --name crun $IMG sleep 30 >/dev/null
    $M start crun >/dev/null
    capture $M network connect auto crun
    assert_eq 0 "$rc" "live connect: $out"
    assert_contains "$(endpoints crun)" '"auto"'
    assert_contains "$($M exec crun ip -o addr)" "eth1"
    capture $M network disconnect auto crun
    assert_eq 0 "$rc" "live disconnect: $out"
    assert_not_contains "$(endpoints crun)" '"auto"'
    assert_not_contains "$($M exec crun ip -o addr)" "eth1"
    $M rm -f crun >/dev/null
    events=$(sqlite3 "$MOCKER_ROOT/mocker.db" "SELECT action FROM events WHERE type = 'network'")
    assert_contains "$events" "connect"
    assert_contains "$events" "disconnect"
}

test_network_reconcile_deletes_orphan_bridges() {
    net_setup
    orphan="mk-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    foreign="mk-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    NET_EXTRA_LINKS="$orphan $foreign"
    id=$($M network create --subnet 10.213.55.0/24 owned)
    # what a crash between the bridge and the row leaves; and another store's
    ip link add "$orphan" type bridge
    net_mark >"/sys/class/net/$orphan/ifalias"
    ip link add "$foreign" type bridge
    echo "mocker:/elsewhere" >"/sys/class/net/$foreign/ifalias"
    $M network __reconcile
    [ ! -e "/sys/class/net/$orphan" ] || fail "orphan bridge left"
    [ -e "/sys/class/net/$foreign" ] || fail "another store's bridge deleted"
    link_up "mk-${id:0:12}" || fail "a network's own bridge deleted"
    # rm leaves another store's bridge alone even if a row names it
    ip link del "$foreign"
}
