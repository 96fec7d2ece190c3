# t_serve_events_stats.sh: mocker serve's GET /events, GET /containers/{id}/stats
# and GET /system/df, driven by the docker CLI, curl and docker-py.
source "$REPO/tests/integration/serve_lib.sh"

# The tests of this file share a store: each starts without containers, so
# that what a failed one left does not count in the next (and, a second
# later, its destroy events are out of the next one's --since window).
no_containers() {
    local ids
    ids=$($M ps -aq)
    [ -z "$ids" ] || { $M rm -f $ids >/dev/null; sleep 1; }
}

test_serve_events_cli() {
    no_containers
    start_serve
    local t0 ids
    t0=$(date +%s.%N) # fractional: nothing of the previous test
    # a follower started before the container sees its whole life (--since:
    # also when it connects late on a busy machine)
    timeout -s KILL 20 $D events --since "$t0" --filter type=container --format '{{.Action}} {{.Actor.Attributes.name}}' >follow.out 2>&1 &
    local follower=$!
    sleep 1
    $M run --name ev1 -l tier=web $IMG true
    $M create --name ev2 $IMG true >/dev/null
    $M rm ev1 ev2 >/dev/null
    wait_for 50 grep -q "destroy ev2" follow.out || fail "the follower saw: $(cat follow.out)"
    kill $follower 2>/dev/null || true
    assert_eq "create ev1
attach ev1
start ev1
die ev1
create ev2
destroy ev1
destroy ev2" "$(grep -v '^$' follow.out)"
    # since/until: a past window ends by itself
    local until=$(($(date +%s) + 1))
    sleep 1.1
    capture timeout -s KILL 10 $D events --since "$t0" --until "$until" --format '{{.Action}} {{.Actor.Attributes.name}}'
    assert_eq 0 "$rc" "events with a past --until ends"
    assert_eq "create ev1 attach ev1 start ev1 die ev1 create ev2 destroy ev1 destroy ev2" "$(echo $out)"
    capture timeout -s KILL 10 $D events --since "$t0" --until "$until" --filter event=die --filter event=create --format '{{.Action}} {{.Actor.Attributes.name}}'
    assert_eq "create ev1 die ev1 create ev2" "$(echo $out)" "event filters are ORed"
    capture timeout -s KILL 10 $D events --since "$t0" --until "$until" --filter container=ev2 --format '{{.Action}}'
    assert_eq "create destroy" "$(echo $out)" "container filter"
    capture timeout -s KILL 10 $D events --since "$t0" --until "$until" --filter label=tier=web --filter event=start --format '{{.Actor.Attributes.name}}'
    assert_eq "ev1" "$out" "label and event filters are ANDed"
    capture timeout -s KILL 10 $D events --since "$t0" --until "$until" --filter image=$IMG --filter event=destroy --format '{{.Actor.Attributes.name}}'
    assert_eq "ev1 ev2" "$(echo $out)" "image filter"
    capture timeout -s KILL 10 $D events --since "$t0" --until "$until" --filter type=volume
    assert_eq "" "$out"
    # the same events as mocker events prints (one engine, two front ends)
    assert_eq "$($M events --since "$t0" --until "$until")" \
        "$(timeout -s KILL 10 $D events --since "$t0" --until "$until")"
    capture timeout -s KILL 10 $D events --filter bogus=1 --until "$until"
    assert_eq 1 "$rc"
    assert_contains "$out" "Invalid filter 'bogus'"
}

test_serve_events_api() {
    no_containers
    start_serve
    local t0=$(date +%s)
    $M run --name ev3 $IMG true
    local id=$($M inspect -f '{{.Id}}' ev3)
    local until=$(($(date +%s) + 1))
    sleep 1.1
    assert_eq 200 "$(timeout -s KILL 10 curl -s --unix-socket "$sock" -D head.out -o body.out -w '%{http_code}' "http://docker/events?since=$t0.000000000&until=$until.5&filters=%7B%22type%22%3A%5B%22container%22%5D%7D")"
    assert_contains "$(cat head.out)" "Content-Type: application/json"
    python3 - "$id" body.out <<'PY' || fail "the messages: $(cat body.out)"
import json, sys
id, lines = sys.argv[1], open(sys.argv[2]).read().splitlines()
msgs = [json.loads(l) for l in lines]
assert [m["Action"] for m in msgs] == ["create", "attach", "start", "die"], msgs
m = msgs[3]
assert set(m) == {"status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano"}, m
assert m["status"] == "die" and m["id"] == id and m["from"] == "mocker-test/busybox", m
assert m["Type"] == "container" and m["scope"] == "local", m
assert m["Actor"] == {"ID": id, "Attributes": {"exitCode": "0", "image": "mocker-test/busybox", "name": "ev3"}}, m
assert m["time"] == m["timeNano"] // 10**9, m
PY
    # docker's filters JSON in either encoding
    api "/events?since=$t0&until=$until&filters=%7B%22event%22%3A%7B%22start%22%3Atrue%7D%7D" >/dev/null
    assert_eq 1 "$(grep -c . body.out)"
    assert_contains "$(cat body.out)" '"Action":"start"'
    assert_eq 400 "$(api "/events?since=$until&until=$t0")"
    assert_contains "$(cat body.out)" "cannot be after \`until\` time"
    assert_eq 400 "$(api "/events?since=soon")"
    assert_eq 400 "$(api "/events?filters=%7B%22nope%22%3A%5B%22x%22%5D%7D")"
    assert_eq "{\"message\":\"Invalid filter 'nope'\"}" "$(cat body.out)"
    # without since: the new events only, as they happen (the head says the
    # follower is in place)
    timeout -s KILL 20 curl -sN --unix-socket "$sock" -D follow.head "http://docker/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D" >follow.out &
    local follower=$!
    wait_for 50 grep -q "200 OK" follow.head || fail "no head: $(cat follow.head)"
    $M create --name ev4 $IMG true >/dev/null
    wait_for 50 grep -q '"Action":"create"' follow.out || fail "the follower saw: $(cat follow.out)"
    kill $follower 2>/dev/null || true
    assert_eq 1 "$(grep -c . follow.out)" "nothing from before"
    assert_contains "$(cat follow.out)" '"name":"ev4"'
    $M rm ev4 >/dev/null
    # a follower whose client hangs up ends: the server keeps answering and
    # its thread is gone (the connection count returns to what it was)
    local before=$(ls /proc/$serve_pid/task | wc -l)
    timeout -s KILL 1 curl -sN --unix-socket "$sock" http://docker/events >/dev/null || true
    wait_for 50 sh -c "test \$(ls /proc/$serve_pid/task | wc -l) -le $before" ||
        fail "the follower's thread outlived its client"
    assert_eq 200 "$(api /_ping)"
    $M rm ev3 >/dev/null
}

test_serve_stats() {
    no_containers
    $M run -d --name st1 $IMG sleep 300 >/dev/null
    $M create --name st2 $IMG true >/dev/null
    start_serve
    local id=$($M inspect -f '{{.Id}}' st1)
    # the docker CLI's table: the same columns and shapes as mocker stats
    capture timeout -s KILL 20 $D stats --no-stream --format '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.NetIO}}|{{.BlockIO}}|{{.PIDs}}'
    assert_eq 0 "$rc" "$out"
    [[ "$out" =~ ^st1\|[0-9]+\.[0-9]{2}%\|[0-9.]+[KMG]?i?B\ /\ [0-9.]+[KMG]iB\|[0-9]+\.[0-9]{2}%\|[0-9.]+k?B\ /\ [0-9.]+k?B\|[0-9.]+[kM]?B\ /\ [0-9.]+[kM]?B\|1$ ]] ||
        fail "docker stats row: [$out]"
    assert_eq "$($M stats --no-stream --format '{{.Name}} {{.PIDs}} {{.MemUsage}}' st1 | sed 's/^\(st1 1\) [^/]*/\1 X/')" \
        "$(timeout -s KILL 20 $D stats --no-stream --format '{{.Name}} {{.PIDs}} {{.MemUsage}}' st1 | sed 's/^\(st1 1\) [^/]*/\1 X/')" \
        "the limit is mocker's"
    capture timeout -s KILL 20 $D stats --no-stream -a --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}'
    assert_contains "$out" "st2 0.00% 0B / 0B 0" "a container that is not running"
    # streamed: redrawn every second
    capture timeout -s KILL 3 $D stats st1
    [ "$(grep -c 'st1 ' <<<"$out")" -ge 2 ] || fail "docker stats streamed: [$out]"
    # the JSON: stream=false waits for a second sample, so precpu is filled
    assert_eq 200 "$(timeout -s KILL 10 curl -s --unix-socket "$sock" -o nostream.json -w '%{http_code}' "http://docker/containers/st1/stats?stream=false")"
    assert_eq 200 "$(timeout -s KILL 10 curl -s --unix-socket "$sock" -o oneshot.json -w '%{http_code}' "http://docker/containers/st1/stats?stream=false&one-shot=true")"
    timeout -s KILL 3 curl -sN --unix-socket "$sock" "http://docker/containers/st1/stats" >stream.json || true
    assert_eq 200 "$(api "/containers/st2/stats?stream=0")"
    cp body.out stopped.json
    python3 - "$id" <<'PY' || fail "stats JSON: $(cat nostream.json)"
import json, sys
id = sys.argv[1]
s = json.load(open("nostream.json"))
for k in ["read", "preread", "pids_stats", "blkio_stats", "num_procs", "storage_stats",
          "cpu_stats", "precpu_stats", "memory_stats", "name", "id"]:
    assert k in s, k
assert s["name"] == "/st1" and s["id"] == id
assert s["pids_stats"]["current"] == 1
cu = s["cpu_stats"]["cpu_usage"]
assert {"total_usage", "usage_in_kernelmode", "usage_in_usermode"} <= set(cu)
assert s["cpu_stats"]["online_cpus"] >= 1 and s["cpu_stats"]["system_cpu_usage"] > 0
assert set(s["cpu_stats"]["throttling_data"]) == {"periods", "throttled_periods", "throttled_time"}
assert s["precpu_stats"]["system_cpu_usage"] > 0, "stream=false carries the previous sample"
assert s["preread"] != "0001-01-01T00:00:00Z" and s["preread"] < s["read"]
m = s["memory_stats"]
assert m["usage"] > 0 and m["limit"] > 0 and isinstance(m["stats"], dict) and m["stats"]
assert isinstance(s["blkio_stats"]["io_service_bytes_recursive"], list)
assert "eth0" in s["networks"] and "rx_bytes" in s["networks"]["eth0"], s.get("networks")
o = json.load(open("oneshot.json"))
assert o["preread"] == "0001-01-01T00:00:00Z" and "system_cpu_usage" not in o["precpu_stats"]
frames = [json.loads(l) for l in open("stream.json").read().splitlines() if l]
assert len(frames) >= 2, frames
assert frames[0]["preread"] == "0001-01-01T00:00:00Z" and frames[1]["preread"] == frames[0]["read"]
assert frames[1]["precpu_stats"] == frames[0]["cpu_stats"]
z = json.load(open("stopped.json"))
assert z["name"] == "/st2" and z["read"] == "0001-01-01T00:00:00Z" and z["memory_stats"] == {}
assert "networks" not in z
PY
    assert_eq 400 "$(api "/containers/st1/stats?stream=true&one-shot=true")"
    assert_eq '{"message":"cannot have stream=true and one-shot=true"}' "$(cat body.out)"
    assert_eq 404 "$(api "/containers/nosuch/stats?stream=false")"
    assert_contains "$(cat body.out)" "No such container: nosuch"
    # a stream ends when its container is removed
    timeout -s KILL 15 curl -sN --unix-socket "$sock" "http://docker/containers/st1/stats" >gone.json &
    local streamer=$!
    sleep 1.5
    $M rm -f st1 >/dev/null
    wait_for 50 sh -c "! kill -0 $streamer 2>/dev/null" || fail "the stream outlived its container"
    $M rm -f st2 >/dev/null
}

test_serve_system_df() {
    no_containers
    $M volume create dfv >/dev/null
    $M create --name df1 -v dfv:/data $IMG true >/dev/null
    $M run -d --name df2 $IMG sleep 300 >/dev/null
    start_serve
    # the summary the docker CLI computes from /system/df is mocker's
    assert_eq "$($M system df)" "$(timeout -s KILL 10 $D system df)"
    capture timeout -s KILL 10 $D system df --format '{{.Type}} {{.TotalCount}} {{.Active}}'
    assert_eq "Images 1 1 Containers 2 1 Local Volumes 1 1 Build Cache 0 0" "$(echo $out)"
    capture timeout -s KILL 10 $D system df -v
    assert_eq 0 "$rc" "$out"
    assert_contains "$out" "Images space usage:"
    [[ "$out" =~ mocker-test/busybox\ +latest\ .*\ 2$'\n' ]] || fail "the image's CONTAINERS: [$out]"
    [[ "$out" =~ dfv\ +1\ +[0-9]+B ]] || fail "the volume's LINKS: [$out]"
    assert_contains "$out" " df1"
    assert_contains "$out" " df2"
    assert_eq 200 "$(api /system/df)"
    python3 - <<'PY' || fail "df JSON: $(cat body.out)"
import json
d = json.load(open("body.out"))
assert set(d) == {"LayersSize", "Images", "Containers", "Volumes", "BuildCache", "BuilderSize"}, d.keys()
img = d["Images"][0]
assert img["Containers"] == 2 and img["SharedSize"] == 0 and img["Size"] == d["LayersSize"] > 0
assert {c["Names"][0] for c in d["Containers"]} == {"/df1", "/df2"}
assert all("SizeRootFs" in c for c in d["Containers"])  # SizeRw: omitted when 0, as dockerd
v = d["Volumes"][0]
assert v["Name"] == "dfv" and v["UsageData"]["RefCount"] == 1 and v["UsageData"]["Size"] >= 0
assert d["BuildCache"] is None and d["BuilderSize"] == 0
PY
    assert_eq 200 "$(api "/system/df?type=volume&type=image")"
    assert_eq '["Images","LayersSize","Volumes"]' "$(python3 -c 'import json; print(json.dumps(sorted(json.load(open("body.out"))),separators=(",",":")))')"
    assert_eq 400 "$(api "/system/df?type=bogus")"
    assert_eq '{"message":"unknown object type: bogus"}' "$(cat body.out)"
    # mocker's own -v prints what the docker CLI makes of the API's object
    # (times aside: a second may pass between the two)
    $M run --name df3 -v dfv:/data $IMG sh -c 'dd if=/dev/zero of=/x bs=1k count=1234; dd if=/dev/zero of=/data/y bs=1k count=2345' 2>/dev/null
    $M tag $IMG other:1
    local norm='s/(Less than a second|About an? [a-z]+|[0-9]+ [a-z]+) ago/T ago/g; s/ +/ /g'
    assert_eq "$(timeout -s KILL 10 $D system df -v | sed -E "$norm")" "$($M system df -v | sed -E "$norm")"
    assert_contains "$($M system df -v)" "dfv           2         2.401MB"
    $M rmi other:1 >/dev/null
    $M rm -f df1 df2 df3 >/dev/null
    $M volume rm dfv >/dev/null
}

test_serve_events_stats_docker_py() {
    no_containers
    python3 -c 'import docker' 2>/dev/null || skip "docker-py is not installed"
    $M run -d --name py1 $IMG sleep 300 >/dev/null
    start_serve
    timeout -s KILL 60 python3 - "$sock" <<'PY'
import docker, sys, time
c = docker.DockerClient(base_url="unix://" + sys.argv[1])
t = time.time()
evs = list(c.events(decode=True, since=t - 60, until=t + 1, filters={"container": "py1"}))
assert [e["Action"] for e in evs] == ["create", "start"], evs
ct = c.containers.get("py1")
s = ct.stats(stream=False)
assert s["name"] == "/py1" and s["precpu_stats"]["system_cpu_usage"] > 0, s
g = ct.stats(stream=True, decode=True)
a, b = next(g), next(g)
assert b["preread"] == a["read"], (a["read"], b["preread"])
df = c.df()
assert df["Images"][0]["Containers"] == 1 and len(df["Containers"]) == 1, df
PY
    $M rm -f py1 >/dev/null
}
