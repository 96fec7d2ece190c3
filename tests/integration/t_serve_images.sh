# t_serve_images.sh: mocker serve's image endpoints, driven by the real docker
# CLI (and docker-py when it is installed) against registries made with
# tools/registry-fixture, and by curl for the exact JSON shapes.
source "$REPO/tests/integration/serve_lib.sh"
source "$REPO/tests/integration/registry_lib.sh"

jq_py() { # EXPR: a Python expression on d, the JSON of body.out
    python3 -c 'import json, sys; d = json.load(open("body.out")); print(eval(sys.argv[1]))' "$1"
}

test_serve_images_local() {
    $M image prune -f >/dev/null # what the file's other tests left dangling
    start_serve
    local id
    id=$($M images -q --no-trunc $IMG)
    $D tag $IMG img/a:1
    assert_eq "$id [img/a:1 mocker-test/busybox:latest]" "$($D image inspect -f '{{.Id}} {{.RepoTags}}' img/a:1)"
    assert_eq "$($M image inspect $IMG)" "$($D image inspect $IMG)" "inspect through the API is mocker's"
    assert_eq "$($M history --no-trunc $IMG)" "$($D history --no-trunc $IMG)"
    assert_eq 200 "$(api /images/img/a:1/history)"
    assert_eq "1 Imported from -" "$(jq_py 'len(d), d[0]["Comment"]' | tr -d '(),' | tr -d "'")"
    assert_eq 404 "$(api /images/nosuch/json)"
    assert_eq '{"message":"No such image: nosuch:latest"}' "$(cat body.out)"
    # tag: 201 and no body; bad references are 400
    assert_eq 201 "$(api -X POST '/images/img/a:1/tag?repo=img/b&tag=2')"
    assert_eq "" "$(cat body.out)"
    assert_eq "$id" "$($M images -q --no-trunc img/b:2)"
    assert_eq 400 "$(api -X POST '/images/img/a:1/tag?tag=2')"
    assert_eq 400 "$(api -X POST '/images/img/a:1/tag?repo=Bad%20Name')"
    assert_contains "$(cat body.out)" "invalid reference format"
    # rmi: docker's DeleteResponse list; conflicts are 409 with docker's words
    assert_eq 200 "$(api -X DELETE /images/img/b:2)"
    assert_eq '[{"Untagged":"img/b:2"}]' "$(cat body.out)"
    $M create --name c1 $IMG true >/dev/null
    capture $D rmi $id
    assert_eq 1 "$rc"
    assert_contains "$out" "conflict: unable to delete ${id:7:12} (must be forced) - image is referenced in multiple repositories"
    assert_eq 409 "$(api -X DELETE "/images/$id?force=0")"
    $D rmi img/a:1 >/dev/null
    assert_eq 409 "$(api -X DELETE /images/$IMG)"
    assert_eq "conflict: unable to remove repository reference \"$IMG\" (must force) - container $($M ps -aq --filter name=c1) is using its referenced image ${id:7:12}" "$(jq_py 'd["message"]')"
    assert_eq "$id" "$($M images -q --no-trunc $IMG)" "nothing was removed"
    # commit: the query's options and the body's Config merged into the container's
    $M rm c1 >/dev/null
    $M run --name c2 -e KEEP=1 -e OVER=a $IMG sh -c 'echo x >/made' >/dev/null
    assert_eq 201 "$(api -X POST -H 'Content-Type: application/json' -d '{"Env":["OVER=b"],"Labels":{"l":"v"}}' \
        '/commit?container=c2&repo=img/c&tag=1&comment=why&author=me&changes=EXPOSE%2080')"
    local cid
    cid=$(jq_py 'd["Id"]')
    assert_eq "$cid" "$($M images -q --no-trunc img/c:1)"
    assert_eq "me why [OVER=b KEEP=1] map[l:v] map[80/tcp:{}]" \
        "$($D image inspect -f '{{.Author}} {{.Comment}} {{.Config.Env}} {{.Config.Labels}} {{.Config.ExposedPorts}}' img/c:1)"
    assert_eq x "$($M run --rm img/c:1 cat /made)"
    assert_eq 400 "$(api -X POST -H 'Content-Type: application/json' -d '[1]' '/commit?container=c2')"
    assert_eq 400 "$(api -X POST -H 'Content-Type: application/json' -d '{bad' '/commit?container=c2')"
    assert_eq 404 "$(api -X POST '/commit?container=nosuch')"
    assert_eq 400 "$(api -X POST '/commit?container=c2&changes=BOGUS%20x')"
    $D commit -a who -m what -c 'ENV Z=9' c2 img/d:1 >/dev/null
    assert_eq "who what Z=9" "$($D image inspect -f '{{.Author}} {{.Comment}} {{index .Config.Env 2}}' img/d:1)"
    $M rm c2 >/dev/null
    # prune: dangling by default, everything unused with dangling=false
    $M tag img/c:1 img/e:1
    $M rmi img/c:1 img/d:1 >/dev/null
    assert_eq 200 "$(api -X POST /images/prune)"
    assert_eq '{"ImagesDeleted":null,"SpaceReclaimed":0}' "$(cat body.out)"
    assert_eq 400 "$(api -X POST '/images/prune?filters=%7B%22bogus%22%3A%5B%22a%22%5D%7D')"
    # (the other tests of this file share the store: only what has label l goes)
    capture $D image prune -af --filter label=l=v
    assert_eq 0 "$rc"
    assert_contains "$out" "untagged: img/e:1"
    assert_contains "$out" "deleted: $cid"
    assert_eq "" "$($M images -q img/e)"
    assert_eq "$id" "$($M images -q --no-trunc $IMG)"
}

test_serve_images_registry() {
    reg_start plain
    start_serve
    make_local_image $REG/t/img:v1
    local id
    id=$($M images -q --no-trunc $REG/t/img:v1)
    capture $D push $REG/t/img:v1
    assert_eq 0 "$rc" "push: $out"
    assert_contains "$out" "The push refers to repository [$REG/t/img]"
    assert_contains "$out" ": Pushed"
    local digest
    digest=$(reg_digest t/img v1)
    assert_contains "$out" "v1: digest: $digest size: "
    # dockerd's closing aux message, through the API
    assert_eq 200 "$(api -X POST "/images/$REG/t/img/push?tag=v1")"
    assert_contains "$(tail -n 1 body.out)" "{\"progressDetail\":{},\"aux\":{\"Tag\":\"v1\",\"Digest\":\"$digest\",\"Size\":"
    assert_contains "$(cat body.out)" "\"status\":\"Layer already exists\""
    # a fresh layer's upload: numbers and the bar dockerd would draw
    local first=$stamp
    make_local_image $REG/t/copy
    stamp=$first
    assert_eq 200 "$(api -X POST "/images/$REG/t/copy/push")"
    assert_eq "ok" "$(python3 -c '
import json
lines = [json.loads(l) for l in open("body.out")]
up = [l for l in lines if l.get("status") == "Pushing"]
last = up[-1]
d = last["progressDetail"]
assert d["current"] == d["total"] > 0, last
assert last["progress"].startswith("[=") and last["progress"].endswith("MB"), last
assert lines[-1]["aux"]["Tag"] == "latest", lines[-1]
print("ok")')"
    $D rmi $REG/t/img:v1 >/dev/null
    assert_eq "" "$($M images -q $REG/t/img)"
    capture $D pull $REG/t/img:v1
    assert_eq 0 "$rc" "pull: $out"
    assert_eq "v1: Pulling from t/img" "$(sed -n 1p <<<"$out")"
    assert_contains "$out" ": Pull complete"
    assert_contains "$out" "Digest: $digest"
    assert_contains "$out" "Status: Downloaded newer image for $REG/t/img:v1"
    assert_eq "$REG/t/img:v1" "$(tail -n 1 <<<"$out")"
    assert_eq "$id" "$($M images -q --no-trunc $REG/t/img:v1)"
    assert_eq "$stamp" "$($M run --rm $REG/t/img:v1 cat /stamp)"
    capture $D pull $REG/t/img:v1
    assert_contains "$out" "Status: Image is up to date for $REG/t/img:v1"
    # the stream as dockerd writes it
    assert_eq 200 "$(api -X POST "/images/create?fromImage=$REG/t/img&tag=v1")"
    assert_contains "$(cat head.out)" "Content-Type: application/json"
    assert_eq "{\"status\":\"Pulling from t/img\",\"id\":\"v1\"}" "$(head -n 1 body.out)"
    assert_eq "{\"status\":\"Status: Image is up to date for $REG/t/img:v1\"}" "$(tail -n 1 body.out)"
    # an unknown repository fails before the stream: its status
    capture $D pull $REG/t/nosuch:v1
    assert_eq 1 "$rc"
    assert_contains "$out" "Error response from daemon: manifest for $REG/t/nosuch:v1 not found"
    assert_eq 400 "$(api -X POST '/images/create')"
    assert_eq 400 "$(api -X POST '/images/create?fromImage=Bad%20Name')"
    capture $D push $REG/t/absent:v1
    assert_eq 1 "$rc"
    assert_contains "$out" "An image does not exist locally with the tag: $REG/t/absent"
    # distribution: the registry's descriptor and the image's platform
    assert_eq 200 "$(api "/distribution/$REG/t/img:v1/json")"
    assert_eq "$digest linux/$(go_arch)" "$(jq_py 'd["Descriptor"]["digest"] + " " + d["Platforms"][0]["os"] + "/" + d["Platforms"][0]["architecture"]')"
    assert_eq 404 "$(api "/distribution/$REG/t/nosuch:v1/json")"
    # save and load through the API
    $D save -o saved.tar $REG/t/img:v1
    tar -tf saved.tar | grep -qx manifest.json || fail "save wrote no docker archive"
    $D rmi $REG/t/img:v1 >/dev/null
    assert_eq "" "$($M images -aq --no-trunc | grep -x "$id" || true)" "the image is gone"
    capture $D load -i saved.tar
    assert_eq 0 "$rc" "load: $out"
    assert_eq "Loaded image: $REG/t/img:v1" "$(tail -n 1 <<<"$out")"
    assert_eq "$stamp" "$($M run --rm $REG/t/img:v1 cat /stamp)"
    assert_eq 200 "$(api "/images/get?names=$REG/t/img:v1&names=$IMG")"
    assert_contains "$(cat head.out)" "Content-Type: application/x-tar"
    assert_eq "$REG/t/img:v1 $IMG:latest" "$(tar -xOf body.out manifest.json | python3 -c 'import json,sys; print(" ".join(t for m in json.load(sys.stdin) for t in m["RepoTags"]))')"
    assert_eq 404 "$(api /images/nosuch/get)"
    assert_eq 200 "$(api -X POST --data-binary @saved.tar '/images/load?quiet=1')"
    assert_eq "{\"stream\":\"Loaded image: $REG/t/img:v1\\n\"}" "$(cat body.out)"
    # a tar that is no image archive: 400, nothing stored is lost
    local before
    before=$($M images -q | sort)
    assert_eq 400 "$(api -X POST --data-binary @"$IMAGE_TAR" /images/load)"
    assert_contains "$(cat body.out)" "invalid archive"
    head -c 3000 saved.tar >cut.tar
    assert_eq 400 "$(api -X POST --data-binary @cut.tar /images/load)"
    assert_eq "$before" "$($M images -q | sort)"
    # import from the body
    assert_eq 200 "$(api -X POST --data-binary @"$IMAGE_TAR" '/images/create?fromSrc=-&repo=img/imp&tag=1&changes=CMD%20%5B%22sh%22%5D')"
    assert_eq "$($M images -q --no-trunc img/imp:1)" "$(jq_py 'd["status"]')"
    assert_eq "[sh]" "$($M image inspect -f '{{.Config.Cmd}}' img/imp:1)"
    assert_eq 501 "$(api -X POST '/images/create?fromSrc=http://x/y.tar')"
}

# The machine's GOARCH, as docker names it.
go_arch() {
    case $(uname -m) in x86_64) echo amd64 ;; aarch64) echo arm64 ;; *) uname -m ;; esac
}

test_serve_images_auth() {
    reg_start tls-basic
    # serve keeps no credentials of its own: only the CLI's X-Registry-Auth can work
    mkdir -p "$regdir/servecfg"
    DOCKER_CONFIG=$regdir/servecfg start_serve
    make_local_image $REG/s/img:v1
    capture $D push $REG/s/img:v1
    assert_eq 1 "$rc"
    assert_contains "$out" "no basic auth credentials"
    # after the stream began, the failure is docker's error line
    assert_eq 200 "$(api -X POST "/images/$REG/s/img/push?tag=v1")"
    assert_eq "{\"status\":\"The push refers to repository [$REG/s/img]\"}" "$(head -n 1 body.out)"
    assert_eq '{"errorDetail":{"message":"no basic auth credentials"},"error":"no basic auth credentials"}' "$(tail -n 1 body.out)"
    capture $D login -u "$REG_USER" -p wrong "$REG"
    assert_eq 1 "$rc"
    assert_contains "$out" "401 Unauthorized"
    assert_eq "" "$(cat "$DOCKER_CONFIG/config.json" 2>/dev/null)" "nothing stored after a failed login"
    capture $D login -u "$REG_USER" --password-stdin "$REG" <<<"$REG_PASS"
    assert_eq 0 "$rc" "login: $out"
    assert_contains "$out" "Login Succeeded"
    assert_eq "" "$(ls "$regdir/servecfg")" "the daemon stored nothing"
    capture $D push $REG/s/img:v1
    assert_eq 0 "$rc" "push: $out"
    $D rmi $REG/s/img:v1 >/dev/null
    capture $D pull $REG/s/img:v1
    assert_eq 0 "$rc" "pull: $out"
    # POST /auth itself, and a header that is no base64url JSON
    assert_eq 200 "$(api -X POST -H 'Content-Type: application/json' -d "{\"username\":\"$REG_USER\",\"password\":\"$REG_PASS\",\"serveraddress\":\"$REG\"}" /auth)"
    assert_eq '{"Status":"Login Succeeded","IdentityToken":""}' "$(cat body.out)"
    assert_eq 401 "$(api -X POST -d "{\"username\":\"$REG_USER\",\"password\":\"x\",\"serveraddress\":\"$REG\"}" /auth)"
    assert_eq 400 "$(api -X POST -d '{bad' /auth)"
    assert_eq 400 "$(api -X POST -H 'X-Registry-Auth: !!!' "/images/create?fromImage=$REG/s/img&tag=v1")"
    local hdr
    hdr=$(python3 -c 'import base64, json, sys; print(base64.urlsafe_b64encode(json.dumps({"username": sys.argv[1], "password": sys.argv[2]}).encode()).decode())' "$REG_USER" "$REG_PASS")
    assert_eq 200 "$(api -X POST -H "X-Registry-Auth: $hdr" "/images/create?fromImage=$REG/s/img&tag=v1")"
    assert_contains "$(tail -n 1 body.out)" "Image is up to date"
    assert_eq 200 "$(api -H "X-Registry-Auth: $hdr" "/distribution/$REG/s/img:v1/json")"
}

test_serve_images_docker_py() {
    python3 -c 'import docker' 2>/dev/null || skip "docker-py is not installed"
    reg_start plain
    start_serve
    make_local_image $REG/py/img:v1
    local stamp_id
    stamp_id=$($M images -q --no-trunc $REG/py/img:v1)
    timeout -s KILL 120 python3 - "$sock" "$REG" "$stamp_id" <<'PY' || fail "docker-py"
import docker, sys
sock, reg, want = sys.argv[1:]
c = docker.DockerClient(base_url="unix://" + sock)
img = c.images.get(reg + "/py/img:v1")
assert img.id == want, img.id
assert img.tag(reg + "/py/other", "t2")
lines = list(c.images.push(reg + "/py/other", tag="t2", stream=True, decode=True))
assert any(l.get("status") == "Pushed" for l in lines), lines
assert not any("error" in l for l in lines), lines
c.images.remove(reg + "/py/other:t2")
c.images.remove(reg + "/py/img:v1")
try:
    c.images.get(want)
    raise SystemExit("image still there")
except docker.errors.ImageNotFound:
    pass
p = c.images.pull(reg + "/py/other", tag="t2")
assert p.id == want and reg + "/py/other:t2" in p.tags, (p.id, p.tags)
data = b"".join(p.save())
c.images.remove(reg + "/py/other:t2", force=True)
loaded = c.images.load(data)
assert [i.id for i in loaded] == [want], loaded
try:
    c.images.pull(reg + "/py/nosuch", tag="x")
    raise SystemExit("pulled nothing")
except docker.errors.NotFound:
    pass
assert c.images.get_registry_data(reg + "/py/other:t2").id.startswith("sha256:")
PY
}

# Uploads are spooled to disk: a 96 MiB image loads and a 96 MiB file is
# copied in (both chunked by the docker CLI), and serve's memory stays small.
test_serve_large_uploads() {
    mkdir -p big/data
    head -c $((96 * 1024 * 1024)) /dev/urandom >big/data/blob
    cp "$IMAGE_TAR" big.tar
    tar -C big -rf big.tar data
    $M import big.tar big:1 >/dev/null
    $M save big:1 -o big-image.tar
    $M rmi big:1 >/dev/null
    start_serve
    capture timeout -s KILL 120 $D load -i big-image.tar
    assert_eq 0 "$rc" "docker load of a 96 MiB image: $out"
    assert_contains "$out" "Loaded image: big:1"
    assert_eq "$(sha256sum <big/data/blob | cut -d' ' -f1)" \
        "$($M run --rm big:1 sha256sum /data/blob | cut -d' ' -f1)" "the loaded layer is whole"
    $M run -d --name bigcp $IMG sleep 100 >/dev/null
    timeout -s KILL 120 $D cp big/data/blob bigcp:/blob || fail "docker cp of 96 MiB"
    assert_eq "$(sha256sum <big/data/blob | cut -d' ' -f1)" "$($M exec bigcp sha256sum /blob | cut -d' ' -f1)"
    rss=$(awk '/VmHWM/ {print $2}' /proc/$serve_pid/status)
    [ "$rss" -lt $((64 * 1024)) ] || fail "serve's peak memory was ${rss} kB for 96 MiB uploads"
    assert_eq "" "$(ls "$MOCKER_ROOT/tmp")" "no spool file is left"
    $M rm -f bigcp >/dev/null
}
