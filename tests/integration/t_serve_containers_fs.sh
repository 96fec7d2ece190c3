# t_serve_containers_fs.sh: mocker serve's container archive, export, changes,
# top and update endpoints, driven by the docker CLI, curl and docker-py.
source "$REPO/tests/integration/serve_lib.sh"

T="timeout -s KILL 30"

# The decoded X-Docker-Container-Path-Stat header of head.out.
path_stat() {
    grep -i '^X-Docker-Container-Path-Stat:' head.out | cut -d' ' -f2 | tr -d '\r' | base64 -d
}

test_serve_cp_stopped() {
    $M create --name s1 $IMG sleep 100 >/dev/null
    $M create --name ro --read-only $IMG sleep 100 >/dev/null
    start_serve
    mkdir -p h/d/sub && echo one >h/d/sub/f && echo file >h/file
    $T $D cp h/file s1:/tmp/ || fail "cp a file into a stopped container"
    $T $D cp h/d s1:/tmp/newd || fail "cp a directory under a new name"
    $T $D cp h/d s1:/root/ || fail "cp a directory into a directory"
    assert_eq "file" "$($M cp s1:/tmp/file - | tar -xO)" "the file is in the container"
    assert_eq "one" "$($M cp s1:/tmp/newd/sub/f - | tar -xO)" "renamed directory"
    assert_eq "one" "$($M cp s1:/root/d/sub/f - | tar -xO)"
    # out again, through the API
    $T $D cp s1:/tmp/newd h/out || fail "cp a directory out"
    assert_eq "one" "$(cat h/out/sub/f)"
    $T $D cp s1:/etc/passwd h/passwd.out || fail "cp a file out"
    assert_eq "$($M cp s1:/etc/passwd - | tar -xO)" "$(cat h/passwd.out)"
    # tar on stdin and stdout
    tar -C h -cf - file | $T $D cp - s1:/root || fail "cp - into the container"
    assert_eq "file" "$($T $D cp s1:/root/file - | tar -t)" "cp - out writes a tar named after the path"
    capture $T $D cp h/file s1:/nope/x
    assert_eq 1 "$rc"
    assert_contains "$out" "Could not find the file /nope in container s1"
    capture $T $D cp s1:/nope h/x
    assert_contains "$out" "Could not find the file /nope in container s1"
    capture $T $D cp h/file ro:/tmp/
    assert_eq 1 "$rc"
    assert_contains "$out" "container rootfs is marked read-only"
    capture $M cp h/file ro:/tmp/
    assert_contains "$out" "container rootfs is marked read-only" "mocker cp refuses it too"
    capture $T $D cp h/d s1:/etc/passwd
    assert_contains "$out" "cannot copy directory"
    assert_eq "A /root/d A /root/d/sub A /root/d/sub/f A /root/file A /tmp/file A /tmp/newd" \
        "$($T $D diff s1 | grep -v '^C\|newd/' | tr '\n' ' ' | sed 's/ $//')" "docker diff sees the copies"
    $M rm -f s1 ro >/dev/null
}

test_serve_cp_running() {
    $M run -d --name r1 $IMG sleep 100 >/dev/null
    start_serve
    echo live >live.txt
    $T $D cp live.txt r1:/tmp/ || fail "cp into a running container"
    assert_eq "live" "$($M exec r1 cat /tmp/live.txt)" "the running container sees the file"
    # bind mounts are the container's view, as in docker
    $T $D cp r1:/etc/hostname hn || fail "cp out of a running container"
    assert_eq "$($M exec r1 hostname)" "$(cat hn)"
    $M run -d --name rov -v rovol:/data:ro $IMG sleep 100 >/dev/null
    capture $T $D cp live.txt rov:/data/
    assert_eq 1 "$rc"
    assert_contains "$out" "mounted volume is marked read-only"
    assert_eq 403 "$(api -X PUT -T - '/containers/rov/archive?path=/data' < <(tar -cf - live.txt))"
    $M rm -f r1 rov >/dev/null
}

test_serve_archive_api() {
    $M create --name a1 $IMG sleep 100 >/dev/null
    start_serve
    assert_eq 200 "$(api -I '/containers/a1/archive?path=/etc')"
    assert_eq '{"name":"etc","size":4096,"mode":2147484141,' "$(path_stat | cut -d, -f1-3),"
    assert_eq 200 "$(api -I '/containers/a1/archive?path=/bin/sh')"
    assert_contains "$(path_stat)" '"mode":134218239,' "a symlink: Go's ModeSymlink|0777"
    assert_contains "$(path_stat)" '"linkTarget":"/bin/busybox"}' "the link's target, resolved"
    assert_eq 404 "$(api -I '/containers/a1/archive?path=/nope')"
    assert_eq 404 "$(api '/containers/a1/archive?path=/nope')"
    assert_eq '{"message":"Could not find the file /nope in container a1"}' "$(cat body.out)"
    assert_eq 404 "$(api '/containers/nosuch/archive?path=/etc')"
    assert_eq 400 "$(api '/containers/a1/archive')"
    assert_contains "$(cat body.out)" "cannot be empty"
    assert_eq 200 "$(api '/containers/a1/archive?path=/etc/passwd')"
    assert_contains "$(cat head.out)" "application/x-tar"
    assert_contains "$(path_stat)" '"name":"passwd"'
    assert_eq "passwd" "$(tar -tf body.out)"
    # PUT: a chunked body, docker's options
    mkdir -p in/x && echo a >in/x/f && tar -C in -cf x.tar x
    assert_eq 200 "$(api -X PUT -T - '/containers/a1/archive?path=/tmp' <x.tar)"
    assert_eq "a" "$($M cp a1:/tmp/x/f - | tar -xO)"
    # a directory may not replace a file with noOverwriteDirNonDir
    mkdir -p in2 && echo plain >in2/x && tar -C in2 -cf file-x.tar x
    assert_eq 200 "$(api -X PUT -T file-x.tar '/containers/a1/archive?path=/root')"
    assert_eq 400 "$(api -X PUT -T x.tar '/containers/a1/archive?path=/root&noOverwriteDirNonDir=1')"
    assert_contains "$(cat body.out)" "cannot overwrite"
    assert_eq "plain" "$($M cp a1:/root/x - | tar -xO)" "the file stays"
    # a bad or truncated tar is refused before anything is written
    head -c 700 x.tar >trunc.tar
    assert_eq 400 "$(api -X PUT -T trunc.tar '/containers/a1/archive?path=/var')"
    assert_contains "$(cat body.out)" "Error processing tar file"
    assert_eq 400 "$(api -X PUT --data-binary garbage '/containers/a1/archive?path=/var')"
    capture $M cp a1:/var/x -
    assert_contains "$out" "Could not find the file /var/x"
    assert_eq 404 "$(api -X PUT -T x.tar '/containers/a1/archive?path=/nope')"
    assert_eq 400 "$(api -X PUT -T x.tar '/containers/a1/archive?path=/etc/passwd')"
    assert_eq '{"message":"extraction point is not a directory"}' "$(cat body.out)"
    $M rm -f a1 >/dev/null
}

test_serve_export_diff_top_update() {
    $M create --name st $IMG true >/dev/null
    $M run -d --name up $IMG sleep 100 >/dev/null
    start_serve
    $T $D export st >st.tar || fail "docker export"
    assert_contains "$(tar -tf st.tar)" "bin/busybox"
    assert_eq "$($M export st | tar -t | sort)" "$(tar -tf st.tar | sort)" "the same tree as mocker export"
    capture $T $D export nosuch
    assert_contains "$out" "No such container: nosuch"
    assert_eq 200 "$(api /containers/st/changes)"
    assert_eq "null" "$(cat body.out)" "no changes: null, as dockerd"
    echo x >diff-x.txt && $M cp diff-x.txt up:/x
    assert_eq "A /x" "$($T $D diff up)"
    # top
    assert_contains "$($T $D top up)" "sleep 100"
    assert_eq "PID COMMAND" "$($T $D top up -o pid,comm | head -1 | tr -s ' ')"
    assert_eq 200 "$(api '/containers/up/top?ps_args=-o%20pid,comm')"
    assert_contains "$(cat body.out)" '"Titles":["PID","COMMAND"]'
    assert_eq 409 "$(api /containers/st/top)"
    assert_contains "$(cat body.out)" "is not running"
    # update: the docker CLI sends every field, zero meaning "unchanged"
    $T $D update --memory 100m --cpus 1.5 --pids-limit 50 up >/dev/null || fail "docker update"
    assert_eq "104857600 1500000000 50 0" \
        "$($M inspect -f '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.CpuShares}}' up)"
    $T $D update --cpu-shares 512 --restart on-failure:3 up >/dev/null || fail "docker update 2"
    assert_eq "104857600 512 on-failure 3" \
        "$($M inspect -f '{{.HostConfig.Memory}} {{.HostConfig.CpuShares}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}' up)"
    assert_eq 200 "$(api -X POST -H 'Content-Type: application/json' -d '{"CpuShares":256}' /containers/up/update)"
    assert_eq '{"Warnings":[]}' "$(cat body.out)"
    assert_eq 400 "$(api -X POST -H 'Content-Type: application/json' -d '{"Memory":"x"}' /containers/up/update)"
    assert_eq 400 "$(api -X POST -H 'Content-Type: application/json' -d '{bad' /containers/up/update)"
    assert_eq 400 "$(api -X POST -H 'Content-Type: application/json' -d '{"Ulimits":[{"Name":"nofile","Soft":1,"Hard":1}]}' /containers/up/update)"
    assert_contains "$(cat body.out)" "Ulimits is not supported"
    assert_eq 404 "$(api -X POST -H 'Content-Type: application/json' -d '{"Memory":0}' /containers/nosuch/update)"
    assert_eq "104857600 256" "$($M inspect -f '{{.HostConfig.Memory}} {{.HostConfig.CpuShares}}' up)" "refused updates change nothing"
    $M rm -f st up >/dev/null
}

test_serve_fs_docker_py() {
    python3 -c 'import docker' 2>/dev/null || skip "no docker-py"
    $M run -d --name py $IMG sleep 100 >/dev/null
    start_serve
    out=$($T python3 - "$sock" <<'PY'
import docker, io, sys, tarfile
c = docker.DockerClient(base_url='unix://' + sys.argv[1])
r = c.containers.get('py')
buf = io.BytesIO()
t = tarfile.open(fileobj=buf, mode='w')
data = b'hello py\n'
ti = tarfile.TarInfo('py.txt'); ti.size = len(data); ti.mtime = 1700000000
t.addfile(ti, io.BytesIO(data)); t.close()
print('put', r.put_archive('/tmp', buf.getvalue()))
bits, stat = r.get_archive('/tmp/py.txt')
raw = b''.join(bits)
print('stat', stat['name'], stat['size'], stat['mode'], stat['mtime'])
print('data', tarfile.open(fileobj=io.BytesIO(raw)).extractfile('py.txt').read().decode().strip())
print('top', [p[1] for p in r.top(ps_args='-o pid,comm')['Processes']])
print('diff', [d['Path'] for d in r.diff()])
print('update', r.update(mem_limit='64m'))
print('export', len(b''.join(r.export())) > 100000)
try:
    r.put_archive('/tmp', b'garbage')
except docker.errors.APIError as e:
    print('bad', e.status_code)
PY
)
    assert_contains "$out" "put True"
    assert_contains "$out" "stat py.txt 9 420 2023-11-14T22:13:20Z"
    assert_contains "$out" "data hello py"
    assert_contains "$out" "top ['sleep']"
    assert_contains "$out" "diff ['/tmp', '/tmp/py.txt']"
    assert_contains "$out" "update {'Warnings': []}"
    assert_contains "$out" "export True"
    assert_contains "$out" "bad 400"
    assert_eq 67108864 "$($M inspect -f '{{.HostConfig.Memory}}' py)"
    $M rm -f py >/dev/null
}
