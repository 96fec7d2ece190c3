# t_save_load.sh: save and load, docker-archive and OCI archives, and hostile archives.

# Write an archive with python's tarfile (the OCI layout or a docker-archive
# that mocker did not write, good or deliberately broken).  $1: what to write,
# $2: the output file, $3: the layer tar to put in it.
mkarchive() {
    python3 - "$@" <<'EOF'
import gzip, hashlib, io, json, sys, tarfile
kind, out, layer_path = sys.argv[1], sys.argv[2], sys.argv[3]
layer = open(layer_path, "rb").read()
files = []  # (name, bytes) or (name, ("symlink", target))

def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()

def blob(b):
    files.append(("blobs/sha256/" + sha(b)[7:], b))
    return {"digest": sha(b), "size": len(b)}

def config(diff_id, cmd):
    return json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-02T03:04:05Z",
                       "config": {"Cmd": cmd},
                       "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()

if kind.startswith("oci"):
    gz = gzip.compress(layer, mtime=0)
    cfg = config(sha(layer), ["echo", "from-oci"])
    if kind == "oci-bad-diffid":
        cfg = config("sha256:" + "0" * 64, ["echo", "x"])
    c = blob(cfg)
    l = blob(gz)
    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": dict(c, mediaType="application/vnd.oci.image.config.v1+json"),
                    "layers": [dict(l, mediaType="application/vnd.oci.image.layer.v1.tar+gzip")]}).encode()
    md = blob(m)
    # a nested index, as containerd exports one: a manifest for this host and
    # one for arm64 whose blobs are not in the archive
    idx = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                      "manifests": [
                          dict(md, mediaType="application/vnd.oci.image.manifest.v1+json",
                               platform={"os": "linux", "architecture": "arm64"}, digest="sha256:" + "1" * 64),
                          dict(md, mediaType="application/vnd.oci.image.manifest.v1+json",
                               platform={"os": "linux", "architecture": "amd64"})]}).encode()
    i = blob(idx)
    name = "localhost:5000/oci/img:v1"
    files.append(("index.json", json.dumps({"schemaVersion": 2, "manifests": [
        dict(i, mediaType="application/vnd.oci.image.index.v1+json",
             annotations={"io.containerd.image.name": name, "org.opencontainers.image.ref.name": "v1"})]}).encode()))
    files.append(("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'))
    if kind == "oci-bad-digest":
        # the layer blob's content no longer matches its name and descriptor
        files[1] = (files[1][0], gzip.compress(layer + b"\0" * 512, mtime=0))
else:
    cfg = config(sha(layer), ["echo", "from-docker-archive"])
    cfg_name = sha(cfg)[7:] + ".json"
    entry = {"Config": cfg_name, "RepoTags": ["mocker-test/busybox:latest", "hostile:1"], "Layers": ["abc/layer.tar"]}
    files += [(cfg_name, cfg), ("abc/layer.tar", layer)]
    if kind == "traversal":
        files.append(("../escaped-by-load", b"x"))
    elif kind == "absolute":
        files.append(("/tmp/absolute-by-load", b"x"))
    elif kind == "symlink":
        files.append(("abc/link.tar", ("symlink", "../../../../etc/passwd")))
    elif kind == "config-outside":
        entry["Config"] = "../../../../etc/passwd"
    elif kind == "missing":
        entry["Layers"] = ["nosuch/layer.tar"]
    elif kind == "bad-diffid":
        files[-1] = ("abc/layer.tar", layer[:-1024] + b"\1" + layer[-1023:])
    elif kind == "bad-config-name":
        files[-2] = ("f" * 64 + ".json", cfg)
        entry["Config"] = "f" * 64 + ".json"
    files.append(("manifest.json", json.dumps([entry]).encode()))

with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for name, data in files:
        info = tarfile.TarInfo(name)
        if isinstance(data, tuple):
            info.type, info.linkname = tarfile.SYMTYPE, data[1]
            t.addfile(info)
        else:
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
EOF
}

# A layer tar: the busybox image's own, from a save.
busybox_layer() { # out
    $M save $IMG >img.tar
    local layer
    layer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["Layers"][0])' <(tar -xOf img.tar manifest.json))
    tar -xOf img.tar "$layer" >"$1"
}

test_save_load_round_trip() {
    $M tag $IMG second:2
    id=$($M image inspect -f '{{.Id}}' $IMG)
    $M save -o both.tar $IMG second:2
    members=$(tar -tf both.tar | sort | tr '\n' ' ')
    assert_contains "$members" "blobs/sha256/${id#sha256:}"
    assert_contains "$members" "index.json manifest.json oci-layout repositories"
    assert_eq '["mocker-test/busybox:latest","second:2"]' \
        "$(tar -xOf both.tar manifest.json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]["RepoTags"],separators=(",",":")))')"
    assert_eq "docker.io/mocker-test/busybox:latest latest" \
        "$(tar -xOf both.tar index.json | python3 -c 'import json,sys; a=json.load(sys.stdin)["manifests"][0]["annotations"]; print(a["io.containerd.image.name"], a["org.opencontainers.image.ref.name"])')"
    $M rmi $IMG second:2 >/dev/null
    capture $M image inspect $IMG
    assert_eq 1 "$rc"
    out=$($M load -i both.tar)
    assert_eq "Loaded image: mocker-test/busybox:latest
Loaded image: second:2" "$out"
    assert_eq "$id" "$($M image inspect -f '{{.Id}}' $IMG)"
    assert_eq "$id" "$($M image inspect -f '{{.Id}}' second:2)"
    assert_eq hello "$($M run --rm second:2 echo hello)"
    # loading it again changes nothing
    assert_eq "Loaded image: mocker-test/busybox:latest
Loaded image: second:2" "$($M load -q <both.tar)"
    assert_eq "mocker-test/busybox:latest second:2" "$($M image inspect -f '{{range .RepoTags}}{{println .}}{{end}}' "$id" | sort | xargs)"
}

test_save_several_images_stdout() {
    $M import -c 'CMD ["echo","other"]' "$IMAGE_TAR" other:1 >/dev/null
    $M tag other:1 other:2
    other=$($M image inspect -f '{{.Id}}' other:1)
    # REPO alone is every tag of it; an id saves the image without a tag
    $M save other $IMG >all.tar
    assert_eq 2 "$(tar -xOf all.tar manifest.json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
    $M save "${other:7:12}" >byid.tar
    assert_eq null "$(tar -xOf byid.tar manifest.json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]["RepoTags"]))')"
    $M rmi other:1 other:2 >/dev/null
    out=$($M load <all.tar)
    assert_contains "$out" "Loaded image: other:1"
    assert_contains "$out" "Loaded image: other:2"
    assert_contains "$out" "Loaded image: mocker-test/busybox:latest"
    assert_eq other "$($M run --rm other:2)"
    $M rmi other:1 other:2 >/dev/null
    assert_eq "Loaded image ID: $other" "$($M load -i byid.tar)"
    events=$($M events --since 1m --until "$(($(date +%s) + 1))" --filter type=image --format '{{.Action}}')
    assert_contains "$events" save
    assert_contains "$events" load
}

test_save_errors() {
    capture $M save nosuch:tag
    assert_eq 1 "$rc"
    assert_contains "$out" "reference does not exist"
    capture $M save nosuch
    assert_eq 1 "$rc"
    assert_contains "$out" "No such image: nosuch"
    capture $M save -o "$PWD/nodir/x.tar" $IMG
    assert_eq 1 "$rc"
    [ ! -e nodir ] || fail "save created a directory"
    capture $M save --platform linux/amd64 -o x.tar $IMG
    assert_eq 125 "$rc"
    capture $M load -i nosuch.tar
    assert_eq 1 "$rc"
    assert_contains "$out" "nosuch.tar: No such file or directory"
}

test_load_oci_archive() {
    busybox_layer layer.tar
    mkarchive oci oci.tar layer.tar
    assert_eq "Loaded image: localhost:5000/oci/img:v1" "$($M load -i oci.tar)"
    assert_eq from-oci "$($M run --rm localhost:5000/oci/img:v1)"
    # what was loaded saves again with the same ids: the blobs are stored as they came
    $M save localhost:5000/oci/img:v1 >again.tar
    $M rmi localhost:5000/oci/img:v1 >/dev/null
    assert_eq "Loaded image: localhost:5000/oci/img:v1" "$($M load -i again.tar)"
    assert_eq from-oci "$($M run --rm localhost:5000/oci/img:v1)"
}

# An archive that fails must leave the store as it was: no row, no tag moved, no layer.
assert_load_refused() { # archive expected-message
    before=$($M images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' | sort)
    layers=$(ls "$MOCKER_ROOT/layers" | grep -v '^tmp-' | sort)
    capture $M load -i "$1"
    [ "$rc" -ne 0 ] || fail "load of $1 succeeded: $out"
    assert_contains "$out" "$2" "load $1"
    assert_eq "$before" "$($M images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' | sort)" "images after $1"
    assert_eq "$layers" "$(ls "$MOCKER_ROOT/layers" | grep -v '^tmp-' | sort)" "layers after $1"
    assert_eq "" "$(ls "$MOCKER_ROOT/layers" | grep '^tmp-' || true)" "temp layers after $1"
}

test_load_hostile_archives() {
    busybox_layer layer.tar
    # modified so that the hostile archives' image would be a new one
    cp layer.tar layer2.tar
    mkdir -p sub && echo extra >sub/extra && tar --owner=0 --group=0 -cf extra.tar -C sub extra
    python3 -c 'import sys; a=open(sys.argv[1],"rb").read().rstrip(b"\0"); b=open(sys.argv[2],"rb").read(); open(sys.argv[1],"wb").write(a + b"\0"*(512 - len(a) % 512 if len(a) % 512 else 0) + b)' layer2.tar extra.tar
    mkarchive good good.tar layer2.tar
    mkarchive traversal t1.tar layer2.tar
    assert_load_refused t1.tar 'member "../escaped-by-load" is outside of the archive'
    [ ! -e ../escaped-by-load ] || fail "a member was written outside"
    mkarchive absolute t2.tar layer2.tar
    assert_load_refused t2.tar 'is outside of the archive'
    [ ! -e /tmp/absolute-by-load ] || fail "an absolute member was written"
    mkarchive symlink t3.tar layer2.tar
    assert_load_refused t3.tar 'symlink "abc/link.tar" points outside of the archive'
    mkarchive config-outside t4.tar layer2.tar
    assert_load_refused t4.tar 'is outside of the archive'
    mkarchive missing t5.tar layer2.tar
    assert_load_refused t5.tar 'nosuch/layer.tar: no such file in the archive'
    mkarchive bad-diffid t6.tar layer2.tar
    assert_load_refused t6.tar 'invalid diffID for layer 0'
    mkarchive bad-config-name t7.tar layer2.tar
    assert_load_refused t7.tar 'has digest sha256:'
    mkarchive oci-bad-digest t8.tar layer2.tar
    assert_load_refused t8.tar 'has digest'
    mkarchive oci-bad-diffid t9.tar layer2.tar
    assert_load_refused t9.tar 'invalid diffID for layer 0'
    echo 'not a tar' >t10.tar
    assert_load_refused t10.tar 'invalid archive'
    # the same archive, sound, loads and moves the tag (as docker says)
    old=$($M image inspect -f '{{.Id}}' $IMG)
    out=$($M load -i good.tar)
    assert_contains "$out" "The image mocker-test/busybox:latest already exists, renaming the old one with ID $old to empty string"
    assert_contains "$out" "Loaded image: hostile:1"
    assert_eq extra "$($M run --rm hostile:1 cat /extra)"
    # the next tests want the image they started with
    $M tag "$old" $IMG
    $M rmi hostile:1 >/dev/null
}
