# t_registry_client.sh: the registry client's finer duties, against the same
# fixtures as t_registry.sh (tools/registry-fixture, its proxy, and
# tools/registry-push-index): credentials never follow a redirect to another
# host, a token serves every blob of a pull, zstd and uncompressed layers,
# schema 1 refused, cross-repository mounts, TLS to an insecure registry
# unverified but verified against a CA in certs.d, and pull/push --all-tags.
# Output is docker's (dockerd 20.10 with the docker 28 CLI, same fixtures).

source "$REPO/tests/integration/registry_lib.sh"

login() {
    capture $M login -u "$REG_USER" -p "$REG_PASS" "${1:-$REG}"
    assert_eq 0 "$rc" "login ($out)"
}

# How many requests the token server has answered so far.
token_requests() {
    wc -l <"$REG_DIR/token.log"
}

# The proxy answers every blob GET the registry granted with a 307 to
# localhost:PORT2, another host name as blob storage would be: the pull must
# work, the registry host see the credentials (scheme $2), the other host
# never.  libcurl keeps them to the first host unless told otherwise
# (CURLOPT_UNRESTRICTED_AUTH), for custom Authorization headers too.
pull_through_redirects() { # MODE SCHEME
    reg_start "$1"
    make_stamped_tar
    push_index --tar "$regdir/img.tar" "$REG/test/redir:v1" >/dev/null
    reg_proxy --redirect-blobs ${REG_CA:+--upstream-ca "$REG_CA"}
    login "$PROXY"
    capture $M pull "$PROXY/test/redir:v1"
    assert_eq 0 "$rc" "pull through the redirecting proxy ($out)"
    local log=$regdir/proxy/requests.log
    assert_eq "$stamp" "$($M run --rm "$PROXY/test/redir:v1" cat /stamp)"
    # the config and the layer, each asked of the registry, then fetched elsewhere
    assert_eq 2 "$(grep -c "^proxy GET /v2/test/redir/blobs/sha256:[0-9a-f]* auth=$2\$" "$log")" \
        "blob GETs to the registry host with $2 credentials: $(cat "$log")"
    assert_eq 2 "$(grep -c '^redirect GET ' "$log")" "GETs to $PROXY_REDIRECT: $(cat "$log")"
    assert_eq "" "$(grep '^redirect ' "$log" | grep -v ' auth=-$')" "credentials sent to $PROXY_REDIRECT"
}

test_registry_client_redirect_drops_bearer_token() {
    pull_through_redirects token Bearer
}

test_registry_client_redirect_drops_basic_credentials() {
    pull_through_redirects tls-basic Basic
}

# One token for a pull of four blobs (config and three layers, three at a
# time), and one for a push: it is cached until it expires, not asked per blob.
test_registry_client_token_reused_across_blobs() {
    reg_start token
    push_index --random-layers 1M,1M,1M "$REG/test/three:v1" >/dev/null
    login
    local before
    before=$(token_requests)
    capture $M pull "$REG/test/three:v1"
    assert_eq 0 "$rc" "pull ($out)"
    assert_eq 1 "$(($(token_requests) - before))" "token requests of one pull: $(cat "$REG_DIR/token.log")"
    assert_contains "$(tail -1 "$REG_DIR/token.log")" "scope=repository:test/three:pull "

    make_local_image "$REG/test/up:v1"
    before=$(token_requests)
    capture $M push "$REG/test/up:v1"
    assert_eq 0 "$rc" "push ($out)"
    assert_eq 1 "$(($(token_requests) - before))" "token requests of one push: $(cat "$REG_DIR/token.log")"
    assert_contains "$(tail -1 "$REG_DIR/token.log")" "scope=repository:test/up:pull,push "
}

# OCI layers compressed with zstd, and not compressed at all, pull and run.
test_registry_client_zstd_and_uncompressed_layers() {
    reg_start plain
    local c ref file=/random/layer-0.bin sum blob magic
    for c in zstd none; do
        ref=$REG/test/layer-$c:v1
        push_index --compression "$c" --tar "$IMAGE_TAR" --random-layers 64K "$ref" >"$regdir/$c.json"
        capture $M pull "$ref"
        assert_eq 0 "$rc" "pull of $c layers ($out)"
        sum=$(jget "$regdir/$c.json" "d['images'][0]['layers'][1]['files']['$file']")
        assert_eq "$sum  $file" "$($M run --rm "$ref" sha256sum "$file")" "$c layer's file"
        assert_eq "$(jget "$regdir/$c.json" 'json.dumps([l["diff_id"] for l in d["images"][0]["layers"]], separators=(",", ":"))')" \
            "$($M image inspect -f '{{json .RootFS.Layers}}' "$ref")" "diff ids of the $c image"
        # what was stored is the blob as sent: zstd's magic, or a tar header
        blob=$MOCKER_ROOT/blobs/sha256/$(jget "$regdir/$c.json" 'd["images"][0]["layers"][1]["digest"][7:]')
        case $c in
        zstd) magic=28b52ffd ;;
        none) magic=72616e64 ;; # "rand", the first entry's name
        esac
        assert_eq "$magic" "$(head -c4 "$blob" | od -An -tx1 | tr -d ' \n')" "start of the stored $c blob"
    done
}

# A schema 1 manifest (served by the proxy: distribution 2.8 will not store
# one) is refused with a clear error before anything is fetched or stored.
test_registry_client_schema1_refused() {
    reg_start plain
    reg_proxy --schema1 test/old:v1
    local list=(images -a --digests --no-trunc --format '{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}}')
    local before blobs log=$regdir/proxy/requests.log
    before=$($M "${list[@]}" | sort)
    blobs=$(ls -R "$MOCKER_ROOT/blobs" "$MOCKER_ROOT/layers")
    capture $M pull "$PROXY/test/old:v1"
    assert_eq 1 "$rc" "pull of a schema 1 image ($out)"
    assert_contains "$out" "Error response from daemon: "
    assert_contains "$out" "schema 1"
    assert_eq "$before" "$($M "${list[@]}" | sort)" "images after the refused pull"
    assert_eq "$blobs" "$(ls -R "$MOCKER_ROOT/blobs" "$MOCKER_ROOT/layers")" "store after the refused pull"
    grep -q "^proxy GET /v2/test/old/manifests/v1 " "$log" || fail "the manifest was not asked for: $(cat "$log")"
    assert_eq "" "$(grep '/blobs/' "$log")" "blob requests for a schema 1 image"
}

# An image pulled from test/src, pushed as test/dst: every layer (and the
# config) is mounted from test/src, nothing uploaded; the token that allows
# it names both repositories.  Pushed again, every layer already exists.
# The digest printed is the registry's.
test_registry_client_push_mounts_from_another_repository() {
    reg_start token
    push_index --tar "$IMAGE_TAR" --random-layers 64K "$REG/test/src:v1" >"$regdir/src.json"
    login
    $M pull -q "$REG/test/src:v1" >/dev/null
    $M tag "$REG/test/src:v1" "$REG/test/dst:v1"
    capture $M push "$REG/test/dst:v1"
    assert_eq 0 "$rc" "push ($out)"
    local ids id digest size
    ids=$(jget "$regdir/src.json" '" ".join(l["diff_id"][7:19] for l in d["images"][0]["layers"])')
    for id in $ids; do
        assert_contains "$out" "$id: Mounted from test/src"
    done
    assert_not_contains "$out" "Pushed"
    assert_eq 0 "$(grep -c 'PATCH /v2/test/dst/blobs/uploads/\|PUT /v2/test/dst/blobs/uploads/' "$REG_DIR/registry.log")" \
        "blob uploads to test/dst"
    digest=$(reg_digest test/dst v1)
    size=$(reg_header Content-Length test/dst v1)
    assert_eq "$(jget "$regdir/src.json" 'd["digest"]')" "$digest" "test/dst's manifest is test/src's"
    assert_eq "v1: digest: $digest size: $size" "$(tail -1 <<<"$out")" "push's last line"

    capture $M push "$REG/test/dst:v1"
    assert_eq 0 "$rc" "second push ($out)"
    for id in $ids; do
        assert_contains "$out" "$id: Layer already exists"
    done
    assert_not_contains "$out" "Mounted"
    assert_eq "v1: digest: $digest size: $size" "$(tail -1 <<<"$out")" "second push's last line"
}

# A TLS registry whose CA mocker does not know: listed in daemon.json's
# insecure-registries (and on loopback, which is insecure anyway), TLS is
# spoken unverified.  A CA for it in certs.d means verification: with a CA
# that did not sign its certificate the pull fails on the certificate.
test_registry_client_insecure_tls_and_certs_d() {
    reg_start tls
    push_index --random-layers 16K "$REG/test/tls:v1" >/dev/null
    rm -r "$MOCKER_ETC/certs.d"
    printf '{"insecure-registries": ["%s"]}\n' "$REG" >"$MOCKER_ETC/daemon.json"
    capture $M pull "$REG/test/tls:v1"
    assert_eq 0 "$rc" "pull from an insecure TLS registry ($out)"
    # HTTP to its port would have been answered 400: it was TLS
    grep -q '"GET /v2/test/tls/manifests/v1 HTTP/[0-9.]*" 200' "$REG_DIR/registry.log" ||
        fail "no manifest GET in the registry's log"
    $M rmi "$REG/test/tls:v1" >/dev/null

    rm "$MOCKER_ETC/daemon.json"
    mkdir -p "$MOCKER_ETC/certs.d/$REG"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
        -keyout "$regdir/other.key" -out "$MOCKER_ETC/certs.d/$REG/ca.crt" \
        -subj "/CN=not the registry's CA" 2>/dev/null
    capture $M pull "$REG/test/tls:v1"
    assert_eq 1 "$rc" "pull with a CA that did not sign the registry's certificate ($out)"
    assert_eq "Error response from daemon: Get \"https://$REG/v2/\": x509: certificate signed by unknown authority" "$out"
    assert_eq "" "$($M images -q "$REG/test/tls:v1")" "image after the refused pull"

    cp "$REG_CA" "$MOCKER_ETC/certs.d/$REG/ca.crt"
    capture $M pull "$REG/test/tls:v1"
    assert_eq 0 "$rc" "pull with the registry's CA ($out)"
}

# pull -a: every tag of the repository, one Status line for it all and its
# name last; push -a: every local tag of the repository and no other's.
test_registry_client_all_tags() {
    reg_start plain
    local t
    for t in v1 v2; do
        push_index --random-layers 16K "$REG/test/all:$t" >"$regdir/$t.json"
    done
    capture $M pull -a "$REG/test/all"
    assert_eq 0 "$rc" "pull -a ($out)"
    for t in v1 v2; do
        assert_contains "$out" "$t: Pulling from test/all"
        assert_eq "$(jget "$regdir/$t.json" 'd["images"][0]["config"]')" \
            "$($M image inspect -f '{{.Id}}' "$REG/test/all:$t")" "image of $REG/test/all:$t"
    done
    assert_eq "Status: Downloaded newer image for $REG/test/all" "$(grep '^Status: ' <<<"$out")"
    assert_eq "$REG/test/all" "$(tail -1 <<<"$out")" "pull -a's last line"
    capture $M pull -a "$REG/test/all"
    assert_eq 0 "$rc" "second pull -a ($out)"
    assert_eq "Status: Image is up to date for $REG/test/all" "$(grep '^Status: ' <<<"$out")"

    make_local_image "$REG/test/pa:t1"
    make_local_image "$REG/test/pa:t2"
    $M tag $IMG "$REG/test/pa-other:t3"
    $M tag $IMG "$REG/test/pa/sub:t4"
    capture $M push -a "$REG/test/pa"
    assert_eq 0 "$rc" "push -a ($out)"
    assert_eq "The push refers to repository [$REG/test/pa]" "$(grep '^The push refers' <<<"$out")"
    local digest
    for t in t1 t2; do
        digest=$(reg_digest test/pa "$t")
        [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "the registry has no test/pa:$t"
        assert_contains "$out" "$t: digest: $digest size: "
    done
    assert_eq '["t1", "t2"]' "$(curl -sS "$REG_URL/v2/test/pa/tags/list" | python3 -c 'import json, sys; print(json.dumps(sorted(json.load(sys.stdin)["tags"])))')"
    assert_eq "" "$(reg_digest test/pa-other t3)" "test/pa-other:t3 pushed"
    assert_eq "" "$(reg_digest test/pa/sub t4)" "test/pa/sub:t4 pushed"
}
