# registry_lib.sh: what the registry test files share (sourced by
# t_registry.sh and t_registry_client.sh, after lib.sh): a registry from
# tools/registry-fixture per test with its own MOCKER_ETC and DOCKER_CONFIG,
# the fixture's proxy, the registry's own digests, a local image to push.

FIX=$REPO/tools/registry-fixture
PUSH_INDEX=$REPO/tools/registry-push-index
ACCEPT_MANIFEST='application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
ACCEPT_INDEX='application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json'

# Start a registry in MODE for this test, with its own MOCKER_ETC (the test
# CA in certs.d/<host:port>/) and DOCKER_CONFIG; stopped when the test ends.
reg_start() { # MODE [fixture options]
    regdir=$(mktemp -d "$PWD/reg.XXXXXX")
    on_exit reg_stop
    local env
    env=$("$FIX" start "$1" "$regdir/reg" "${@:2}") || fail "registry-fixture start $1 failed"
    eval "$env"
    export MOCKER_ETC=$regdir/etc DOCKER_CONFIG=$regdir/docker
    mkdir -p "$MOCKER_ETC"
    if [ -n "$REG_CA" ]; then
        mkdir -p "$MOCKER_ETC/certs.d/$REG"
        cp "$REG_CA" "$MOCKER_ETC/certs.d/$REG/ca.crt"
    fi
}

# The fixture's proxy in front of $REG (options: registry-fixture's); sets PROXY.
reg_proxy() {
    local env
    env=$("$FIX" proxy "$regdir/proxy" "$REG" "$@") || fail "registry-fixture proxy failed"
    eval "$env"
}

reg_stop() {
    "$FIX" stop "$regdir/proxy" 2>/dev/null
    "$FIX" stop "$regdir/reg"
}

# A value from a JSON file, by a Python expression on d.
jget() { # FILE EXPR
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# A header of the registry's own answer to HEAD manifests/REF, asked with
# curl (a Bearer token fetched from the token server first in the token modes).
reg_header() { # HEADER REPO REF [ACCEPT]
    local header=$1 repo=$2 ref=$3
    local args=(-sS -o /dev/null -D - -H "Accept: ${4:-$ACCEPT_MANIFEST}")
    [ -z "$REG_CA" ] || args+=(--cacert "$REG_CA")
    if [ -n "${REG_TOKEN_URL:-}" ]; then
        local tok
        tok=$(curl -sS ${REG_CA:+--cacert "$REG_CA"} -u "$REG_USER:$REG_PASS" \
            "$REG_TOKEN_URL?service=$REG_SERVICE&scope=repository:$repo:pull" |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
        args+=(-H "Authorization: Bearer $tok")
    elif [ -n "${REG_USER:-}" ]; then
        args+=(-u "$REG_USER:$REG_PASS")
    fi
    curl "${args[@]}" -I "$REG_URL/v2/$repo/manifests/$ref" | tr -d '\r' |
        awk -F': ' -v h="$header" 'tolower($1) == tolower(h) {print $2}'
}

# The registry's Docker-Content-Digest for REPO:REF.
reg_digest() { # REPO REF [ACCEPT]
    reg_header Docker-Content-Digest "$@"
}

# registry-push-index with the registry's CA and credentials.
push_index() { # [registry-push-index options] REF
    "$PUSH_INDEX" ${REG_CA:+--ca "$REG_CA"} ${REG_USER:+--user "$REG_USER" --password "$REG_PASS"} "$@"
}

# $regdir/img.tar: the busybox rootfs with a file only it has, /stamp (so a
# pull downloads its layer rather than finding it).  Sets $stamp, its content.
make_stamped_tar() {
    stamp=stamp-$RANDOM$RANDOM
    cp "$IMAGE_TAR" "$regdir/img.tar"
    echo "$stamp" >"$regdir/stamp"
    tar -C "$regdir" -rf "$regdir/img.tar" stamp
}

# A busybox image of our own (make_stamped_tar's), tagged REF with `mocker tag`.
make_local_image() { # REF
    make_stamped_tar
    $M import "$regdir/img.tar" "local/$stamp" >/dev/null
    $M tag "local/$stamp" "$1"
    $M rmi "local/$stamp" >/dev/null
}
