# t_image.sh: import, images, tag, rmi, image inspect.

test_import_with_changes() {
    id=$($M import -c 'CMD ["echo","from-cmd"]' -c 'ENV GREETING=hi' -c 'WORKDIR /tmp' -c 'LABEL a=b' -m "my import" "$IMAGE_TAR" custom:v1)
    [[ "$id" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "import printed [$id]"
    assert_eq from-cmd "$($M run --rm custom:v1)"
    assert_eq "hi /tmp" "$($M run --rm custom:v1 sh -c 'echo $GREETING $(pwd)')"
    assert_eq b "$($M image inspect -f '{{index .Config.Labels "a"}}' custom:v1)"
    assert_eq "my import" "$($M image inspect -f '{{.Comment}}' custom:v1)"
    cat "$IMAGE_TAR" | $M import - fromstdin >/dev/null
    assert_contains "$($M images)" fromstdin
}

test_images_table_and_quiet() {
    out=$($M images)
    assert_contains "$(head -1 <<<"$out")" "REPOSITORY"
    assert_contains "$out" "mocker-test/busybox   latest"
    id=$($M images -q $IMG)
    [[ "$id" =~ ^[0-9a-f]{12}$ ]] || fail "images -q printed [$id]"
    assert_eq "$id" "$($M images --format '{{.ID}}' $IMG)"
}

test_tag_and_rmi() {
    $M tag $IMG other:1
    assert_contains "$($M images)" "other"
    assert_eq "Untagged: other:1" "$($M rmi other:1)"
    $M tag $IMG inuse:1
    $M create --name user inuse:1 true >/dev/null
    id=$($M images -q inuse:1)
    capture $M rmi "$id"
    assert_eq 1 "$rc"
    assert_contains "$out" "conflict"
    $M rm user >/dev/null
    capture $M rmi nosuch:tag
    assert_eq 1 "$rc"
    assert_contains "$out" "No such image: nosuch:tag"
}

test_bad_tar_stores_nothing() {
    before=$($M images -q | sort)
    echo "this is not a tar" >bad.tar
    capture $M import bad.tar bad:1
    [ "$rc" -ne 0 ] || fail "import of garbage succeeded"
    assert_eq "$before" "$($M images -q | sort)"
    assert_eq "" "$($M images -q bad:1)"
}

test_image_inspect_shape() {
    out=$($M image inspect $IMG)
    python3 - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])[0]
assert d["Id"].startswith("sha256:")
assert d["RepoTags"] == ["mocker-test/busybox:latest"], d["RepoTags"]
assert d["Os"] == "linux" and d["Architecture"] in ("amd64", "arm64")
assert d["RootFS"]["Type"] == "layers" and len(d["RootFS"]["Layers"]) == 1
assert d["Size"] > 0
PY
}

test_history() {
    # imported: one row, the image's id, the layer's size as docker measures it
    # (every non-directory's lstat size: busybox's applet symlinks count too)
    $M import -m "base layer" "$IMAGE_TAR" hist:base >/dev/null
    base=$($M images -q hist:base)
    out=$($M history hist:base)
    # (the CREATED column is as wide as its longest "N seconds ago")
    [[ "$(head -1 <<<"$out")" =~ ^IMAGE\ {10}CREATED\ +CREATED\ BY\ {3}SIZE\ {6}COMMENT$ ]] ||
        fail "header [$(head -1 <<<"$out")]"
    assert_eq 2 "$(wc -l <<<"$out")"
    assert_contains "$out" "$base"
    assert_contains "$out" "base layer"
    want=$(mkdir x && tar -C x -xf "$IMAGE_TAR" &&
        find x -mindepth 1 ! -type d -printf '%i %s\n' | sort -u | awk '{s += $2} END {print s}')
    assert_eq "$want" "$($M history -H=false --format '{{.Size}}' hist:base)"
    assert_eq "$want" "$($M image inspect -f '{{.Size}}' hist:base)"

    # committed twice: a layer (tab in the command shown as a space), then
    # nothing changed (empty_layer, 0B); parents' ids while they exist
    $M run --name h1 hist:base sh -c 'head -c 1000 /dev/zero >/f;	true' >/dev/null
    $M commit -m "one" -a "Ann" h1 hist:one >/dev/null
    $M run --name h2 hist:one true >/dev/null
    $M commit h2 hist:two >/dev/null
    one=$($M images -q hist:one)
    two=$($M images -q hist:two)
    assert_eq "$two $one $base" "$(echo $($M image history -q hist:two))"
    assert_eq "0B|1kB|" "$($M history --format '{{.Size}}|' hist:two | head -2 | tr -d '\n')"
    assert_eq "true|sh -c head -c 1000 /dev/zero >/f; true|" \
        "$($M history --no-trunc --format '{{.CreatedBy}}|' hist:two | head -2 | tr -d '\n')"
    assert_eq "sh -c head -c 1000 /dev/zero >/f; true" "$($M history --format '{{.CreatedBy}}' hist:one | head -1)"
    $M run --name h3 hist:base sh -c 'echo 1234567890 1234567890 1234567890 1234567890' >/dev/null
    $M commit h3 hist:long >/dev/null
    assert_eq "sh -c echo 1234567890 1234567890 1234567890 …" \
        "$($M history --format '{{.CreatedBy}}' hist:long | head -1)" "cut at 45 characters"
    [[ "$($M history --no-trunc -q hist:two | head -1)" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "--no-trunc -q"
    assert_eq "$($M image inspect -f '{{.Parent}}' hist:two)" "$($M history --no-trunc -q hist:two | sed -n 2p)"
    created=$($M history -H=false --format '{{.CreatedSince}}' hist:two | head -1)
    [[ "$created" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(Z|[+-][0-9]{2}:[0-9]{2})$ ]] || fail "CreatedAt [$created]"
    $M history --format json hist:one | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert [sorted(r) for r in rows] == [["Comment", "CreatedAt", "CreatedBy", "CreatedSince", "ID", "Size"]] * 2, rows
assert rows[0]["Comment"] == "one" and rows[1]["Comment"] == "base layer", rows'

    # untagging a parent leaves it as an intermediate image that history still
    # names, and that cannot be deleted while its child exists (as docker)
    $M rm h2 >/dev/null
    assert_eq "Untagged: hist:one" "$($M rmi hist:one)"
    assert_eq "$two $one $base" "$(echo $($M history -q hist:two))"
    capture $M rmi -f "$one"
    assert_eq 1 "$rc"
    assert_eq "Error response from daemon: conflict: unable to delete $one (cannot be forced) - image has dependent child images" "$out"

    capture $M history nosuch
    assert_eq 1 "$rc"
    assert_eq "Error response from daemon: No such image: nosuch:latest" "$out"
    capture $M history
    assert_eq 1 "$rc"
    capture $M history --platform linux/amd64 hist:two
    assert_eq 125 "$rc"
}

# overlayfs takes trusted.overlay.* xattrs as instructions (redirect, opaque):
# an imported tar may not plant them on a layer's files; other xattrs stay.
test_import_drops_overlay_xattrs() {
    python3 - <<'PY'
import io, tarfile
with tarfile.open("xattr.tar", "w", format=tarfile.PAX_FORMAT) as t:
    for name, attrs in [("d", {"SCHILY.xattr.trusted.overlay.opaque": "y",
                               "SCHILY.xattr.user.keep": "1"}),
                        ("d/f", {"SCHILY.xattr.trusted.overlay.redirect": "/etc"})]:
        ti = tarfile.TarInfo(name)
        ti.pax_headers = attrs
        if name == "d":
            ti.type = tarfile.DIRTYPE
            ti.mode = 0o755
            t.addfile(ti)
        else:
            ti.size = 2
            t.addfile(ti, io.BytesIO(b"x\n"))
PY
    $M import xattr.tar xattr:test >/dev/null
    found=$(python3 - "$MOCKER_ROOT/layers" <<'PY'
import os, sys
out = []
for root, dirs, files in os.walk(sys.argv[1]):
    for n in dirs + files:
        p = os.path.join(root, n)
        if n in ("d", "f"):
            out += [a for a in os.listxattr(p, follow_symlinks=False) if a.startswith(("trusted.overlay.", "user.keep"))]
print(" ".join(sorted(out)))
PY
)
    assert_eq "user.keep" "$found" "xattrs on the layer's files"
}

# The extraction child is chrooted at the layer: nothing the layer provides
# may be loaded there.  A layer that plants glibc's iconv configuration and a
# converter module, then a pax header (which libarchive converts with iconv),
# must not get its code run.
test_layer_cannot_plant_iconv_modules() {
    gconv=usr/lib/x86_64-linux-gnu/gconv
    cat >evil.c <<'C'
#include <fcntl.h>
#include <unistd.h>
int gconv_init(void *step) { close(open("/gconv-module-ran", O_CREAT | O_WRONLY, 0644)); return 1; }
int gconv(void *a, void *b, void *c, void *d, int e, int f) { return 1; }
void gconv_end(void *step) {}
C
    cc -shared -fPIC -o EVIL.so evil.c
    python3 - "$gconv" <<'PY'
import io, sys, tarfile
g = sys.argv[1] + "/"
conf = b"".join(b"module %s %s EVIL 1\n" % p for p in [
    (b"UTF-8//", b"ANSI_X3.4-1968//"), (b"ANSI_X3.4-1968//", b"UTF-8//"),
    (b"UTF-8//", b"INTERNAL"), (b"INTERNAL", b"ANSI_X3.4-1968//"), (b"INTERNAL", b"UTF-8//")])
with tarfile.open("evil.tar", "w", format=tarfile.PAX_FORMAT) as t:
    def add(name, data, mode=0o644, pax=None):
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = mode
        if pax: ti.pax_headers = pax
        t.addfile(ti, io.BytesIO(data))
    add(g + "gconv-modules", conf)
    add(g + "EVIL.so", open("EVIL.so", "rb").read(), 0o755)
    add("trigger", b"x", pax={"comment": "h\u00e9llo"})
PY
    $M import evil.tar gconv:1 >/dev/null
    assert_eq "" "$(find "$MOCKER_ROOT/layers" -name gconv-module-ran)" "code from the layer ran"
    [ -n "$(find "$MOCKER_ROOT/layers" -path '*/diff/trigger')" ] || fail "the layer was not unpacked"
}
