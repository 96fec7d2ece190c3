# t_registry.sh: pull, push and login against a real registry (Debian's
# docker-registry, started per test by tools/registry-fixture on a free
# loopback port): no auth, htpasswd Basic over TLS with a test CA, Bearer
# tokens; a multi-arch index, a blob corrupted in flight, a pull killed half
# way, hostile layers.  Expected output and exit codes are docker's (dockerd
# 20.10 with the docker 28 CLI), checked against these same fixtures.

source "$REPO/tests/integration/registry_lib.sh"

# push, rmi, pull back, run: the digests are the registry's.
push_rmi_pull_run() { # REPO (under $REG)
    local repo=$1 ref=$REG/$1:v1 stamp digest
    make_local_image "$ref"
    capture $M push "$ref"
    assert_eq 0 "$rc" "push exit ($out)"
    digest=$(reg_digest "$repo" v1)
    [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "registry has no manifest for $ref after push"
    assert_eq "The push refers to repository [$REG/$repo]" "$(head -1 <<<"$out")" "push's first line"
    [[ "$(tail -1 <<<"$out")" =~ ^v1:\ digest:\ $digest\ size:\ [0-9]+$ ]] ||
        fail "push's last line [$(tail -1 <<<"$out")], registry digest $digest"

    $M rmi "$ref" >/dev/null
    assert_eq "" "$($M images -q "$ref")" "image after rmi"
    capture $M pull "$ref"
    assert_eq 0 "$rc" "pull exit ($out)"
    assert_contains "$out" "Digest: $digest"
    assert_contains "$out" "Status: Downloaded newer image for $ref"
    assert_eq "$ref" "$(tail -1 <<<"$out")" "pull's last line"
    assert_eq "$stamp" "$($M run --rm "$ref" cat /stamp)"
    assert_eq "[\"$REG/$repo@$digest\"]" "$($M image inspect -f '{{json .RepoDigests}}' "$ref")"
    # by repository: docker's `images --digests REPO:TAG` leaves DIGEST <none>
    assert_eq "$REG/$repo v1 $digest" \
        "$($M images --digests --format '{{.Repository}} {{.Tag}} {{.Digest}}' "$REG/$repo" | grep ' v1 ')"
    capture $M pull "$ref"
    assert_eq 0 "$rc" "second pull exit ($out)"
    assert_contains "$out" "Status: Image is up to date for $ref"
}

# docker config.json's entry for $REG: "user:password" (decoded) or
# "identitytoken:<token>", or "none".
config_entry() {
    python3 - "$DOCKER_CONFIG/config.json" "$REG" <<'PY'
import base64, json, os, sys
try:
    a = json.load(open(sys.argv[1])).get("auths", {}).get(sys.argv[2])
except FileNotFoundError:
    a = None
if not a:
    print("none")
elif a.get("identitytoken"):
    print("identitytoken:" + a["identitytoken"])
else:
    print(base64.b64decode(a["auth"]).decode())
PY
}

test_registry_plain_push_pull_run() {
    reg_start plain
    push_rmi_pull_run test/busybox
    # run pulls an image that is not here (--pull missing), saying so on
    # stderr; --pull never does not; --pull always pulls even when it is here
    $M rmi "$REG/test/busybox:v1" >/dev/null
    capture $M run --rm --pull never "$REG/test/busybox:v1" echo x
    assert_eq 125 "$rc" "run --pull never of a missing image ($out)"
    out=$($M run --rm "$REG/test/busybox:v1" echo auto-pulled 2>run.err)
    assert_eq auto-pulled "$out"
    assert_contains "$(cat run.err)" "Unable to find image '$REG/test/busybox:v1' locally"
    assert_contains "$(cat run.err)" "Status: Downloaded newer image for $REG/test/busybox:v1"
    out=$($M run --rm --pull always "$REG/test/busybox:v1" echo again 2>run.err)
    assert_eq again "$out"
    assert_contains "$(cat run.err)" "Status: Image is up to date for $REG/test/busybox:v1"
    assert_not_contains "$(cat run.err)" "Unable to find"
    # docker's words and exit code for a tag the registry does not have
    capture $M pull "$REG/test/busybox:nosuch"
    assert_eq 1 "$rc" "pull of a missing tag"
    assert_eq "Error response from daemon: manifest for $REG/test/busybox:nosuch not found: manifest unknown: manifest unknown" "$out"
}

test_registry_tls_basic_login_push_pull_run() {
    reg_start tls-basic
    $M tag $IMG "$REG/test/busybox:v0"
    capture $M push "$REG/test/busybox:v0"
    assert_eq 1 "$rc" "push before login"
    assert_contains "$out" "no basic auth credentials"

    capture $M login -u "$REG_USER" -p wrong "$REG"
    assert_eq 1 "$rc" "login with a wrong password"
    assert_contains "$out" "Error response from daemon: login attempt to https://$REG/v2/ failed with status: 401 Unauthorized"
    assert_eq none "$(config_entry)" "credentials stored after a failed login"

    capture $M login -u "$REG_USER" --password-stdin "$REG" <<<"$REG_PASS"
    assert_eq 0 "$rc" "login ($out)"
    assert_contains "$out" "Login Succeeded"
    assert_eq "$REG_USER:$REG_PASS" "$(config_entry)"
    assert_eq 600 "$(stat -c %a "$DOCKER_CONFIG/config.json")" "config.json mode"

    push_rmi_pull_run test/busybox

    assert_eq "Removing login credentials for $REG" "$($M logout "$REG")"
    assert_eq none "$(config_entry)" "credentials after logout"
}

test_registry_token_login_push_pull_run() {
    reg_start token
    capture $M pull "$REG/test/busybox:v1"
    assert_eq 1 "$rc" "anonymous pull"
    assert_eq "Error response from daemon: pull access denied for $REG/test/busybox, repository does not exist or may require 'docker login': denied: requested access to the resource is denied" "$out"

    capture $M login -u "$REG_USER" -p wrong "$REG"
    assert_eq 1 "$rc" "login with a wrong password"
    assert_contains "$out" "unauthorized: invalid username or password"
    assert_eq none "$(config_entry)" "credentials stored after a failed login"

    capture $M login -u "$REG_USER" -p "$REG_PASS" "$REG"
    assert_eq 0 "$rc" "login ($out)"
    assert_contains "$out" "Login Succeeded"
    assert_eq "$REG_USER:$REG_PASS" "$(config_entry)"
    push_rmi_pull_run test/busybox
    # the push was authorised by a token issued to the user who logged in
    grep -q "user=$REG_USER scope=repository:test/busybox:.*push" "$REG_DIR/token.log" ||
        fail "no push token was handed out: $(cat "$REG_DIR/token.log")"
}

# A token server that hands out refresh tokens: login stores docker's
# identity token instead of the password, and later pulls trade it for
# access tokens (POST grant_type=refresh_token).
test_registry_token_identity_token() {
    reg_start token --refresh-tokens
    push_index --tar "$IMAGE_TAR" "$REG/test/idt:v1" >"$regdir/idt.json"
    capture $M login -u "$REG_USER" -p "$REG_PASS" "$REG"
    assert_eq 0 "$rc" "login ($out)"
    [[ "$(config_entry)" == identitytoken:?* ]] || fail "config.json entry: $(config_entry)"
    capture $M pull "$REG/test/idt:v1"
    assert_eq 0 "$rc" "pull with an identity token ($out)"
    assert_contains "$out" "Digest: $(jget "$regdir/idt.json" 'd["digest"]')"
    grep -q "post-refresh_token user=$REG_USER scope=repository:test/idt:pull" "$REG_DIR/token.log" ||
        fail "the pull did not use the refresh token: $(cat "$REG_DIR/token.log")"
}

host_arch() {
    case $(uname -m) in
    x86_64) echo amd64 ;;
    *) skip "multi-arch tests assume an amd64 host (the cache has busybox-static for arm64 only)" ;;
    esac
}

push_multiarch() { # REF -> $regdir/multi.json
    ls "${MOCKER_DEB_CACHE:-/var/cache/mocker-debs}"/busybox-static_*_arm64.deb >/dev/null 2>&1 ||
        skip "no arm64 busybox-static: run tools/install-deps"
    push_index --platforms linux/amd64,linux/arm64 "$1" >"$regdir/multi.json"
}

test_registry_multiarch_platform_pull() {
    host_arch >/dev/null
    reg_start plain
    local ref=$REG/test/multi:v1 idx
    push_multiarch "$ref"
    idx=$(jget "$regdir/multi.json" 'd["digest"]')
    assert_eq "$idx" "$(reg_digest test/multi v1 "$ACCEPT_INDEX")" "index digest"

    capture $M pull --platform linux/arm64 "$ref"
    assert_eq 0 "$rc" "pull --platform linux/arm64 ($out)"
    assert_contains "$out" "Digest: $idx"
    assert_eq "arm64 v8" "$($M image inspect -f '{{.Architecture}} {{.Variant}}' "$ref")"
    assert_eq "$(jget "$regdir/multi.json" 'd["images"][1]["config"]')" "$($M image inspect -f '{{.Id}}' "$ref")" "arm64 image id"

    capture $M pull "$ref"
    assert_eq 0 "$rc" "default pull ($out)"
    assert_contains "$out" "Digest: $idx"
    assert_eq amd64 "$($M image inspect -f '{{.Architecture}}' "$ref")"
    assert_eq "$(jget "$regdir/multi.json" 'd["images"][0]["config"]')" "$($M image inspect -f '{{.Id}}' "$ref")" "amd64 image id"
    assert_eq x86_64 "$($M run --rm "$ref" uname -m)"
}

test_registry_multiarch_arm64_runs_under_qemu() {
    host_arch >/dev/null
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] ||
        skip "binfmt_misc has no qemu-aarch64 registration: the arm64 image was not run"
    reg_start plain
    local ref=$REG/test/multi:v1
    push_multiarch "$ref"
    $M pull -q --platform linux/arm64 "$ref" >/dev/null
    assert_eq aarch64 "$($M run --rm "$ref" uname -m)"
}

test_registry_corrupt_blob_stores_nothing() {
    reg_start plain
    push_index --tar "$IMAGE_TAR" "$REG/test/good:v1" >/dev/null
    $M pull -q "$REG/test/good:v1" >/dev/null
    push_index --tar "$IMAGE_TAR" --random-layers 256K "$REG/test/victim:v1" >"$regdir/victim.json"
    local bad file sum before
    bad=$(jget "$regdir/victim.json" 'd["images"][0]["layers"][1]["digest"]')
    # The proxy flips a byte of the gzip header's mtime: the layer still
    # decompresses, only its digest can tell.
    reg_proxy --corrupt "$bad"
    local list=(images -a --digests --no-trunc --format '{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}}')
    before=$($M "${list[@]}" | sort)

    capture $M pull "$PROXY/test/victim:v1"
    assert_eq 1 "$rc" "pull of a corrupted blob ($out)"
    assert_contains "$out" "filesystem layer verification failed for digest $bad"
    assert_eq "$before" "$($M "${list[@]}" | sort)" "images after the failed pull"
    [ ! -e "$MOCKER_ROOT/blobs/sha256/${bad#sha256:}" ] || fail "the corrupted blob was stored"
    assert_eq ok "$($M run --rm "$REG/test/good:v1" echo ok)"

    # The same blob, intact, straight from the registry: nothing of the bad
    # copy is reused.
    capture $M pull "$REG/test/victim:v1"
    assert_eq 0 "$rc" "pull without the proxy ($out)"
    file=/random/layer-0.bin
    sum=$(jget "$regdir/victim.json" "d['images'][0]['layers'][1]['files']['$file']")
    assert_eq "$sum  $file" "$($M run --rm "$REG/test/victim:v1" sha256sum "$file")"
}

test_registry_killed_pull_completes_next_time() {
    reg_start plain
    push_index --tar "$IMAGE_TAR" --random-layers 4M,4M,4M "$REG/test/big:v1" >"$regdir/big.json"
    # 32 KiB every 20 ms per blob: ~13 MB take seconds, so the kill lands mid-way.
    reg_proxy --delay 0.02 --chunk 32768
    $M pull "$PROXY/test/big:v1" >"$regdir/pull.log" 2>&1 &
    local pid=$! i file sum
    sent_3mib() { [ "$(cat "$regdir/proxy/proxy.bytes")" -ge 3145728 ]; }
    wait_for 150 sent_3mib || fail "the pull did not get going: $(cat "$regdir/pull.log")"
    kill -0 "$pid" 2>/dev/null || fail "the pull ended before it could be killed: $(cat "$regdir/pull.log")"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    assert_eq "" "$($M images -q "$PROXY/test/big:v1")" "image of the killed pull"

    capture $M pull "$REG/test/big:v1"
    assert_eq 0 "$rc" "pull after the kill ($out)"
    assert_contains "$out" "Status: Downloaded newer image for $REG/test/big:v1"
    for i in 0 1 2; do
        file=/random/layer-$i.bin
        sum=$(jget "$regdir/big.json" "d['images'][0]['layers'][$i + 1]['files']['$file']")
        assert_eq "$sum  $file" "$($M run --rm "$REG/test/big:v1" sha256sum "$file")"
    done
}

# Each hostile entry in a layer of its own, over a busybox layer.  docker's
# rules (dockerd 20.10, checked): '..' and absolute names are taken as
# relative to the layer root and a symlink to / is followed inside it, so
# those pulls succeed with the files in the image; a hard link to
# /etc/shadow (absolute, or through ..) names the layer's own etc/shadow,
# which is not there, so those pulls fail; a device node is created.  Either
# way nothing may appear on the host, nor in the store outside a layer dir.
test_registry_hostile_layers_stay_inside() {
    reg_start plain
    local id=h$RANDOM$RANDOM k shadow
    for k in dotdot abs symlink hardlink hardlink-dotdot device; do
        "$REPO/tools/mklayer-hostile" "$regdir/$k.tar" "$id" "$k"
        push_index --tar "$IMAGE_TAR" --tar "$regdir/$k.tar" "$REG/test/hostile-$k:v1" >/dev/null
    done
    shadow=$(stat -c '%i %h %s %Y %Z' /etc/shadow; sha256sum /etc/shadow)

    for k in dotdot abs symlink device; do
        capture $M pull "$REG/test/hostile-$k:v1"
        assert_eq 0 "$rc" "pull of hostile-$k ($out)"
    done
    assert_eq "hostile $id dotdot" "$($M run --rm "$REG/test/hostile-dotdot:v1" cat "/escape-$id")"
    assert_eq "hostile $id abs" "$($M run --rm "$REG/test/hostile-abs:v1" cat "/abs-escape-$id")"
    assert_eq "/ hostile $id symlink" \
        "$($M run --rm "$REG/test/hostile-symlink:v1" sh -c "readlink /link-$id; cat /tmp/evil-$id" | tr '\n' ' ' | sed 's/ $//')"
    assert_eq "character special file 1:3" \
        "$($M run --rm "$REG/test/hostile-device:v1" stat -c '%F %t:%T' "/dev-$id")"
    for k in hardlink hardlink-dotdot; do
        capture $M pull "$REG/test/hostile-$k:v1"
        assert_eq 1 "$rc" "pull of hostile-$k ($out)"
        assert_eq "" "$($M images -q "$REG/test/hostile-$k:v1")" "image of hostile-$k"
    done

    assert_eq "$shadow" "$(stat -c '%i %h %s %Y %Z' /etc/shadow; sha256sum /etc/shadow)" "/etc/shadow"
    # Where an escape would land: / and /etc, /tmp (link -> /), and around
    # the layer dirs (..): the whole test tree, the store in it.
    local found p
    found=$({
        find / -xdev -maxdepth 3 -name "*$id*"
        find /tmp -maxdepth 2 -name "*$id*"
        find "$PWD" "$MOCKER_ROOT" -name "*$id*"
    } 2>/dev/null | sort -u)
    while IFS= read -r p; do
        [ -n "$p" ] || continue
        case $p in
        "$MOCKER_ROOT"/layers/*/diff/*"$id" | "$MOCKER_ROOT"/layers/*/diff/tmp/evil-"$id") ;;
        *) fail "a hostile layer wrote $p" ;;
        esac
        case ${p#"$MOCKER_ROOT"/layers/*/diff/} in
        escape-$id | abs-escape-$id | link-$id | tmp/evil-$id | dev-$id) ;;
        *) fail "unexpected file in a layer: $p" ;;
        esac
    done <<<"$found"
}
