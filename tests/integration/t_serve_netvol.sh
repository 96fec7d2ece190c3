# t_serve_netvol.sh: mocker serve's /networks and /volumes endpoints, driven
# by the docker CLI 28, curl and docker-py, with dockerd 20.10's shapes,
# status codes and wording; containers made through the API on a user
# network with an alias, a fixed address, a published port and mounts.
source "$REPO/tests/integration/serve_lib.sh"

# start_serve, with what a test made (containers, bridges, volumes) removed
# however it ends.
netvol_serve() {
    netvol_cleanup
    start_serve
    on_exit netvol_cleanup
}

netvol_cleanup() {
    set +e
    local c
    for c in $($M ps -aq 2>/dev/null); do $M rm -f "$c" >/dev/null 2>&1; done
    $M network prune -f >/dev/null 2>&1
    $M volume prune -a -f >/dev/null 2>&1
    "$REPO/tools/netclean" "$MOCKER_ROOT"
    return 0
}

post_json() { # BODY PATH: api with a JSON body
    api -X POST -H 'Content-Type: application/json' -d "$1" "$2"
}

test_serve_netvol_network_cli() {
    netvol_serve
    local id
    id=$(timeout -s KILL 30 $D network create --label a=b --subnet 10.213.7.0/24 --gateway 10.213.7.5 \
        --ip-range 10.213.7.128/25 --internal --attachable -o com.docker.network.driver.mtu=1400 snv1)
    assert_eq 64 "${#id}" "create prints the id"
    assert_eq "$($M network inspect snv1)" "$(timeout -s KILL 10 $D network inspect snv1)" \
        "inspect through the API is mocker's"
    assert_eq "10.213.7.0/24 10.213.7.5 10.213.7.128/25 true true b 1400" \
        "$(timeout -s KILL 10 $D network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}}{{end}} {{.Internal}} {{.Attachable}} {{.Labels.a}} {{index .Options "com.docker.network.driver.mtu"}}' snv1)"
    capture timeout -s KILL 10 $D network create snv1
    assert_eq 1 "$rc"
    assert_contains "$out" "Error response from daemon: network with name snv1 already exists"
    capture timeout -s KILL 10 $D network create --ipv6 snv6
    assert_eq 1 "$rc"
    assert_contains "$out" "IPv6 networks are not supported by mocker"
    # ls and its filters: the same networks as mocker network ls
    assert_eq "$($M network ls --format '{{.ID}} {{.Name}} {{.Driver}} {{.Labels}}')" \
        "$(timeout -s KILL 10 $D network ls --format '{{.ID}} {{.Name}} {{.Driver}} {{.Labels}}')"
    assert_eq "snv1" "$(timeout -s KILL 10 $D network ls -f label=a=b -f driver=bridge --format '{{.Name}}')"
    assert_eq "snv1" "$(timeout -s KILL 10 $D network ls -f type=custom -f dangling=true --format '{{.Name}}')"
    assert_eq "bridge host none" "$(timeout -s KILL 10 $D network ls -f type=builtin --format '{{.Name}}' | sort | xargs)"
    assert_eq "snv1" "$(timeout -s KILL 10 $D network ls -f id=${id:0:10} -f name=nv --format '{{.Name}}')"
    capture timeout -s KILL 10 $D network ls -f bogus=1
    assert_contains "$out" "Invalid filter 'bogus'"
    capture timeout -s KILL 10 $D network rm bridge
    assert_contains "$out" "bridge is a pre-defined network and cannot be removed"
    capture timeout -s KILL 10 $D network inspect nosuch
    assert_contains "$out" "network nosuch not found"
    # prune takes the unused user networks the filter picks
    timeout -s KILL 10 $D network create --label keep=1 snv2 >/dev/null
    capture timeout -s KILL 10 $D network prune -f --filter label!=keep
    assert_eq "Deleted Networks:
snv1" "$out"
    assert_eq "snv2" "$(timeout -s KILL 10 $D network rm snv2)"
    assert_eq "" "$($M network ls -q -f type=custom)"
}

test_serve_netvol_network_http() {
    netvol_serve
    assert_eq 201 "$(post_json '{"Name":"snh","CheckDuplicate":true,"Driver":"bridge","Labels":{"x":"1"},"IPAM":{"Driver":"default","Config":[{"Subnet":"10.213.9.0/24"}]}}' /networks/create)"
    assert_contains "$(cat body.out)" '"Warning":""'
    local id
    id=$(python3 -c 'import json,sys; print(json.load(open("body.out"))["Id"])')
    assert_eq "$($M network inspect -f '{{.Id}}' snh)" "$id"
    assert_eq 409 "$(post_json '{"Name":"snh"}' /networks/create)"
    assert_eq '{"message":"network with name snh already exists"}' "$(cat body.out)"
    assert_eq 400 "$(post_json '{"Name":3}' /networks/create)"
    assert_eq '{"message":"json: cannot unmarshal number into Go struct field NetworkCreateRequest.Name of type string"}' "$(cat body.out)"
    assert_eq 400 "$(post_json '{"Name":"x","Labels":{"a":1}}' /networks/create)"
    assert_eq 400 "$(post_json '{"Name":"x",' /networks/create)"
    assert_eq 400 "$(post_json '{"Name":"x","IPAM":{"Config":[{"Subnet":"10.213.10.0/24"},{"Subnet":"10.213.11.0/24"}]}}' /networks/create)"
    assert_contains "$(cat body.out)" "bridge driver doesn't support multiple subnets"
    for body in '{"Name":"x","EnableIPv6":true}' '{"Name":"x","Ingress":true}' \
        '{"Name":"x","Scope":"swarm"}' '{"Name":"x","IPAM":{"Options":{"a":"b"}}}' \
        '{"Name":"x","IPAM":{"Config":[{"Subnet":"10.213.12.0/24","AuxiliaryAddresses":{"h":"10.213.12.9"}}]}}'; do
        assert_eq 501 "$(post_json "$body" /networks/create)" "refused: $body"
    done
    assert_eq 404 "$(post_json '{"Name":"x","IPAM":{"Driver":"foo"}}' /networks/create)"
    assert_eq "snh" "$($M network ls -q -f type=custom --format '{{.Name}}')" "nothing refused was made"
    # list: dockerd leaves Containers empty; inspect by name, id, prefix
    assert_eq 200 "$(api '/networks?filters=%7B%22label%22%3A%7B%22x%3D1%22%3Atrue%7D%7D')"
    assert_eq "snh {}" "$(python3 -c 'import json; l=json.load(open("body.out")); print(" ".join(n["Name"] for n in l), json.dumps(l[0]["Containers"]))')"
    assert_eq 400 "$(api '/networks?filters=%7B%22dangling%22%3A%5B%22maybe%22%5D%7D')"
    assert_eq 200 "$(api /networks/${id:0:12})"
    assert_contains "$(cat body.out)" '"Name":"snh"'
    assert_eq 404 "$(api '/networks/snh?scope=swarm')"
    assert_eq 404 "$(api /networks/nosuch)"
    assert_eq '{"message":"network nosuch not found"}' "$(cat body.out)"
    assert_eq 403 "$(api -X DELETE /networks/host)"
    assert_eq '{"message":"host is a pre-defined network and cannot be removed"}' "$(cat body.out)"
    # connect / disconnect of a created container: its stored endpoints
    $M create --name snc $IMG sleep 100 >/dev/null
    assert_eq 400 "$(post_json '{"Container":""}' /networks/snh/connect)"
    assert_eq 404 "$(post_json '{"Container":"nosuch"}' /networks/snh/connect)"
    assert_eq 501 "$(post_json '{"Container":"snc","EndpointConfig":{"Links":["a:b"]}}' /networks/snh/connect)"
    assert_eq 400 "$(post_json '{"Container":"snc","EndpointConfig":{"Aliases":"a"}}' /networks/snh/connect)"
    assert_eq 200 "$(post_json '{"Container":"snc","EndpointConfig":{"Aliases":["al1"],"IPAMConfig":{"IPv4Address":"10.213.9.77"},"NetworkID":"","Links":null}}' /networks/snh/connect)"
    assert_eq '["al1"] 10.213.9.77' "$($M inspect -f '{{json .NetworkSettings.Networks.snh.Aliases}} {{.NetworkSettings.Networks.snh.IPAMConfig.IPv4Address}}' snc)"
    assert_eq 403 "$(post_json '{"Container":"snc"}' /networks/snh/connect)" "connected twice"
    assert_eq 200 "$(post_json '{"Container":"snc","Force":false}' /networks/snh/disconnect)"
    assert_eq "<no value>" "$($M inspect -f '{{.NetworkSettings.Networks.snh}}' snc)"
    assert_eq 403 "$(post_json '{"Container":"snc"}' /networks/snh/disconnect)" "not connected"
    $M rm -f snc >/dev/null
    # prune answers dockerd's report
    assert_eq 200 "$(api -X POST '/networks/prune?filters=%7B%22label%22%3A%5B%22nomatch%22%5D%7D')"
    assert_eq '{"NetworksDeleted":null}' "$(cat body.out)"
    assert_eq 200 "$(api -X POST /networks/prune)"
    assert_eq '{"NetworksDeleted":["snh"]}' "$(cat body.out)"
    assert_eq 400 "$(api -X POST '/networks/prune?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D')"
    assert_eq 404 "$(api -X DELETE /networks/snh)"
}

test_serve_netvol_volumes() {
    netvol_serve
    assert_eq "sv1" "$(timeout -s KILL 10 $D volume create --label a=b sv1)"
    assert_eq "$($M volume inspect sv1)" "$(timeout -s KILL 10 $D volume inspect sv1)"
    local unnamed
    unnamed=$(timeout -s KILL 10 $D volume create)
    assert_eq 64 "${#unnamed}"
    assert_eq "$($M volume ls --format '{{.Driver}} {{.Name}} {{.Labels}}')" \
        "$(timeout -s KILL 10 $D volume ls --format '{{.Driver}} {{.Name}} {{.Labels}}')"
    assert_eq "sv1" "$(timeout -s KILL 10 $D volume ls -q -f label=a -f dangling=true -f name=v1 -f driver=local)"
    capture timeout -s KILL 10 $D volume ls -f bogus=1
    assert_contains "$out" "invalid filter 'bogus'"
    capture timeout -s KILL 10 $D volume inspect nosuch
    assert_contains "$out" "get nosuch: no such volume"
    # HTTP shapes as dockerd's
    assert_eq 200 "$(api /volumes)"
    assert_eq '2 null' "$(python3 -c 'import json; j=json.load(open("body.out")); print(len(j["Volumes"]), json.dumps(j["Warnings"]))')"
    assert_eq 201 "$(post_json '{"Name":"sv2","Labels":{"k":"v"},"DriverOpts":null}' /volumes/create)"
    assert_eq 'sv2 local v null local' "$(python3 -c 'import json; j=json.load(open("body.out")); print(j["Name"], j["Driver"], j["Labels"]["k"], json.dumps(j["Options"]), j["Scope"])')"
    assert_eq 400 "$(post_json '{"Name":["x"]}' /volumes/create)"
    assert_eq 400 "$(api -X POST -H 'Content-Type: application/json' /volumes/create)"
    assert_eq '{"message":"got EOF while reading request body"}' "$(cat body.out)"
    assert_eq 404 "$(post_json '{"Name":"sv3","Driver":"nfs"}' /volumes/create)"
    assert_eq 501 "$(post_json '{"Name":"sv3","ClusterVolumeSpec":{"Group":"g"}}' /volumes/create)"
    assert_eq 404 "$(api /volumes/sv3)" "nothing refused was made"
    assert_eq 404 "$(api -X DELETE /volumes/nosuch)"
    assert_eq '{"message":"get nosuch: no such volume"}' "$(cat body.out)"
    assert_eq 204 "$(api -X DELETE '/volumes/nosuch?force=1')"
    # in use by a container: 409 with dockerd's wording, force or not
    local cid cid2
    cid=$($M create -v sv2:/data $IMG true)
    assert_eq 409 "$(api -X DELETE '/volumes/sv2?force=true')"
    assert_eq "{\"message\":\"remove sv2: volume is in use - [$cid]\"}" "$(cat body.out)"
    # prune: API >= 1.42 takes anonymous volumes only unless all=true; older
    # versions every unused one.  Used volumes stay.
    local anon
    cid2=$($M create -v /anon $IMG true)
    anon=$($M inspect -f '{{range .Mounts}}{{.Name}}{{end}}' "$cid2")
    $M rm "$cid2" >/dev/null
    assert_eq 200 "$(api -X POST /v1.47/volumes/prune)"
    assert_eq "{\"VolumesDeleted\":[\"$anon\"],\"SpaceReclaimed\":0}" "$(cat body.out)"
    assert_eq 200 "$(api -X POST '/v1.47/volumes/prune?filters=%7B%22label%22%3A%5B%22nomatch%22%5D%7D')"
    assert_eq '{"VolumesDeleted":null,"SpaceReclaimed":0}' "$(cat body.out)"
    assert_eq 200 "$(api -X POST /v1.41/volumes/prune)"
    assert_eq "sv1 $unnamed 0" "$(python3 -c 'import json; j=json.load(open("body.out")); print(" ".join(sorted(j["VolumesDeleted"], key=len)), j["SpaceReclaimed"])')"
    assert_eq 400 "$(api -X POST '/volumes/prune?filters=%7B%22all%22%3A%5B%22maybe%22%5D%7D')"
    $M rm "$cid" >/dev/null
    timeout -s KILL 10 $D volume create sv4 >/dev/null
    capture timeout -s KILL 10 $D volume prune -a -f --filter label=k
    assert_contains "$out" "Deleted Volumes:
sv2"
    assert_eq "sv4" "$(timeout -s KILL 10 $D volume ls -q)"
    assert_eq "sv4" "$(timeout -s KILL 10 $D volume rm sv4)"
}

# docker run through the API: the network, alias, fixed address, published
# port and mounts land in the engine, and the network sees the container.
test_serve_netvol_run() {
    netvol_serve
    timeout -s KILL 10 $D network create --subnet 10.213.14.0/24 snr >/dev/null
    timeout -s KILL 10 $D volume create srv >/dev/null
    mkdir -p host && echo hi >host/f
    local cid
    cid=$(timeout -s KILL 30 $D run -d --name snrc --network snr --network-alias web --ip 10.213.14.20 \
        -p 127.0.0.1::80 -v srv:/data --mount type=tmpfs,dst=/t --mount "type=bind,src=$PWD/host,dst=/h,readonly" \
        $IMG sleep 100)
    assert_eq 64 "${#cid}"
    assert_eq '10.213.14.20 ["'${cid:0:12}'","web"]' \
        "$($M inspect -f '{{.NetworkSettings.Networks.snr.IPAddress}} {{json .NetworkSettings.Networks.snr.Aliases}}' snrc)"
    assert_eq "snrc 10.213.14.20/24" \
        "$(timeout -s KILL 10 $D network inspect -f '{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}' snr)"
    assert_contains "$(timeout -s KILL 10 $D port snrc)" "80/tcp -> 127.0.0.1:"
    assert_eq "volume:srv:/data:true tmpfs::/t:true bind::/h:false" \
        "$(timeout -s KILL 10 $D inspect -f '{{range .Mounts}}{{.Type}}:{{.Name}}:{{.Destination}}:{{.RW}} {{end}}' snrc | sed 's/ $//')"
    # the mounts are really there
    local pid
    pid=$($M inspect -f '{{.State.Pid}}' snrc)
    assert_eq hi "$(cat /proc/$pid/root/h/f)"
    assert_contains "$(cat /proc/$pid/mounts)" " /t tmpfs "
    capture timeout -s KILL 10 $D network rm snr
    assert_contains "$out" "has active endpoints"
    capture timeout -s KILL 10 $D volume rm srv
    assert_contains "$out" "volume is in use - [$cid]"
    # a running container joins and leaves a second network
    timeout -s KILL 10 $D network create snr2 >/dev/null
    timeout -s KILL 10 $D network connect --alias second snr2 snrc
    assert_contains "$(timeout -s KILL 10 $D network inspect -f '{{json .Containers}}' snr2)" '"Name":"snrc"'
    assert_contains "$(nsenter -t $pid -n ip -o -4 addr show | awk '{print $2}' | xargs)" "eth1"
    timeout -s KILL 10 $D network disconnect snr2 snrc
    assert_eq "{}" "$(timeout -s KILL 10 $D network inspect -f '{{json .Containers}}' snr2)"
    timeout -s KILL 20 $D rm -f snrc >/dev/null
    assert_eq "snr2" "$(timeout -s KILL 10 $D network rm snr2)"
}

test_serve_netvol_docker_py() {
    python3 -c 'import docker' 2>/dev/null || skip "no docker-py"
    netvol_serve
    timeout -s KILL 60 python3 - "$sock" "$IMG" <<'PY' || fail "docker-py"
import sys, docker
c = docker.DockerClient(base_url="unix://" + sys.argv[1], version="auto")
n = c.networks.create("spy", driver="bridge", labels={"t": "1"},
                      ipam=docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="10.213.16.0/24")]))
assert c.networks.get("spy").attrs["IPAM"]["Config"][0]["Subnet"] == "10.213.16.0/24"
assert [x.name for x in c.networks.list(filters={"label": "t=1"})] == ["spy"]
assert [x.name for x in c.networks.list(names=["spy"])] == ["spy"]
ctr = c.containers.create(sys.argv[2], "sleep 100", name="spyc")
n.connect(ctr, aliases=["pyal"], ipv4_address="10.213.16.50")
ctr.reload()
ep = ctr.attrs["NetworkSettings"]["Networks"]["spy"]
assert ep["Aliases"] == ["pyal"] and ep["IPAMConfig"]["IPv4Address"] == "10.213.16.50", ep
n.disconnect(ctr)
ctr.remove(force=True)
n.remove()
try:
    c.networks.get("spy")
    raise SystemExit("network still there")
except docker.errors.NotFound:
    pass
v = c.volumes.create("spv", labels={"a": "b"})
assert c.volumes.get("spv").attrs["Labels"] == {"a": "b"}
assert [x.name for x in c.volumes.list(filters={"label": "a=b"})] == ["spv"]
r = c.volumes.prune(filters={"all": "true"})
assert r["VolumesDeleted"] == ["spv"], r
c.volumes.create("spv2").remove()
try:
    c.volumes.get("spv2")
    raise SystemExit("volume still there")
except docker.errors.NotFound:
    pass
PY
}
