# t_images.sh: images filters and rows, rmi conflicts and pruned parents,
# image prune, image inspect's shape, system df's shared layers.

# The tests of a file share a store: each starts from an empty one.
reset_store() {
    $M ps -aq | xargs -r $M rm -f >/dev/null
    $M image prune -af >/dev/null
}

# a base image with a committed child and an untagged grandchild
make_chain() {
    $M import "$IMAGE_TAR" base:1 >/dev/null
    $M run --name ch1 base:1 sh -c 'echo a >/a' >/dev/null
    $M commit ch1 child:1 >/dev/null
    $M run --name ch2 child:1 sh -c 'echo b >/b' >/dev/null
    $M commit ch2 >/dev/null
    $M rm ch1 ch2 >/dev/null
}

test_images_filters() {
    reset_store
    $M import -c 'LABEL team=a' "$IMAGE_TAR" lab:1 >/dev/null
    $M tag lab:1 example.com/x/y:3
    $M import "$IMAGE_TAR" >/dev/null
    make_chain
    assert_eq "lab:1" "$($M images --filter label=team --format '{{.Repository}}:{{.Tag}}' | grep lab)"
    assert_eq "" "$($M images --filter label=team=b -q)"
    # reference: familiar names, '*' never crosses a '/', with or without the tag
    assert_eq "example.com/x/y" "$($M images --filter 'reference=*/x/*' --format '{{.Repository}}')"
    assert_eq "" "$($M images --filter 'reference=docker.io/library/lab' -q)"
    assert_eq "lab" "$($M images --filter 'reference=l?b:[0-9]' --format '{{.Repository}}')"
    assert_eq "lab" "$($M images lab --format '{{.Repository}}')"
    assert_not_contains "$($M images --filter 'reference=*' --format '{{.Repository}}')" "example.com"
    # dangling: the untagged grandchild and the untagged import; -q a line per row
    assert_eq 2 "$($M images -q --filter dangling=true | wc -l)"
    assert_eq 0 "$($M images --filter dangling=false | grep -c '<none>' || true)"
    assert_eq "$($M images -q lab:1) $($M images -q lab:1)" "$(echo $($M images -q --filter reference=lab --filter 'reference=*/x/*'))"
    # before/since compare creation times
    assert_not_contains "$($M images --filter before=child:1 --format '{{.Repository}}')" "child"
    assert_contains "$($M images --filter before=child:1 --format '{{.Repository}}')" "base"
    assert_eq "" "$($M images --filter since=child:1 --format '{{.Repository}}' | grep -v '<none>' || true)"
    # docker's errors
    capture $M images --filter foo=bar
    assert_eq 1 "$rc"
    assert_eq "Error response from daemon: Invalid filter 'foo'" "$out"
    capture $M images --filter dangling=maybe
    assert_eq "Error response from daemon: Invalid filter 'dangling=[maybe]'" "$out"
    capture $M images --filter 'reference=['
    assert_eq "Error response from daemon: syntax error in pattern" "$out"
    capture $M images --filter before=nosuch
    assert_eq "Error response from daemon: No such image: nosuch:latest" "$out"
    capture $M images --filter foo
    assert_eq 125 "$rc"
    assert_contains "$out" 'invalid argument "foo" for "-f, --filter" flag: bad format of filter (expected name=value)'
    $M images --filter until=1h -q >/dev/null
}

test_images_intermediate_and_format() {
    reset_store
    make_chain
    # untagging the child makes it an intermediate image: listed with -a only
    $M rmi child:1 >/dev/null
    child=$($M images -aq | sed -n 2p)
    assert_eq 3 "$($M images -a --format '{{.ID}}' | wc -l | tr -d ' ')"
    assert_eq 2 "$($M images --format '{{.ID}}' | wc -l | tr -d ' ')"
    id=$($M images -q base:1)
    assert_eq "$id|base|1|<none>|N/A|N/A|N/A" \
        "$($M images --format '{{.ID}}|{{.Repository}}|{{.Tag}}|{{.Digest}}|{{.SharedSize}}|{{.UniqueSize}}|{{.Containers}}' base:1)"
    [[ "$($M images --format '{{.CreatedAt}}' base:1)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9:]{8}\ [+-][0-9]{4}\ [A-Z]+$ ]] || fail "CreatedAt"
    assert_eq "sha256:" "$($M images --no-trunc --format '{{.ID}}' base:1 | cut -c1-7)"
    $M images --format json base:1 | python3 -c '
import json, sys
row = json.loads(sys.stdin.read())
assert list(row) == ["Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository",
                     "SharedSize", "Size", "Tag", "UniqueSize", "VirtualSize"], list(row)'
    assert_contains "$($M images --digests base:1 | head -1)" "DIGEST"
}

test_images_digests() {
    reset_store
    # a digest reference as a pull stores it (no registry needed to check rows)
    $M import "$IMAGE_TAR" dg:1 >/dev/null
    $M tag dg:1 dg:2
    id=$($M images -q --no-trunc dg:1)
    dg=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    sqlite3 "$MOCKER_ROOT/mocker.db" "INSERT INTO digests (ref, image_id) VALUES ('docker.io/library/dg@$dg', '$id')"
    assert_eq "1 $dg|2 $dg|" "$($M images --digests --format '{{.Tag}} {{.Digest}}|' dg | tr -d '\n')"
    assert_eq "1 <none>|2 <none>|" "$($M images --format '{{.Tag}} {{ .Digest }}|' dg | tr -d '\n')"
    # the reference filter drops the digest reference it does not match
    assert_eq "<none>" "$($M images --digests --format '{{.Digest}}' dg:1)"
    assert_eq "[\"dg@$dg\"]" "$($M image inspect -f '{{json .RepoDigests}}' dg:1)"
    # removing the repository's last tag takes its digest references along
    out=$($M rmi dg:1 dg:2)
    assert_eq "Untagged: dg:1 Untagged: dg:2 Untagged: dg@$dg Deleted: $id" "$(echo $out | cut -d' ' -f1-8)"
}

test_rmi_conflicts() {
    reset_store
    make_chain
    base=$($M images -q base:1)
    capture $M rmi -f "$base"
    assert_eq 1 "$rc"
    assert_eq "Error response from daemon: conflict: unable to delete $base (cannot be forced) - image has dependent child images" "$out"
    # several arguments: go on after an error, exit 1 at the end
    $M tag base:1 base:2
    capture $M rmi base:2 nosuch base:3
    assert_eq 1 "$rc"
    assert_contains "$out" "Untagged: base:2"
    assert_contains "$out" "No such image: nosuch:latest"
    assert_contains "$out" "No such image: base:3"
    # several names given by id: must be forced
    $M import "$IMAGE_TAR" m:1 >/dev/null
    $M tag m:1 m:2
    mid=$($M images -q m:1)
    capture $M rmi "$mid"
    assert_eq "Error response from daemon: conflict: unable to delete $mid (must be forced) - image is referenced in multiple repositories" "$out"
    # a stopped container: its only name cannot go unforced; forced, the image
    # goes but the container still starts
    $M create --name st m:1 echo still-runs >/dev/null
    $M rmi m:2 >/dev/null
    capture $M rmi m:1
    assert_eq 1 "$rc"
    assert_contains "$out" "conflict: unable to remove repository reference \"m:1\" (must force) - container"
    capture $M rmi "$mid"
    assert_contains "$out" "(must be forced) - image is being used by stopped container"
    out=$($M rmi -f "$mid")
    assert_eq "Untagged: m:1 Deleted: $($M inspect -f '{{.Image}}' st)" "$(echo $out)"
    assert_eq "still-runs" "$($M start -a st)"
    $M rm st >/dev/null
    # running: untag with -f leaves the image; deleting it cannot be forced
    $M import "$IMAGE_TAR" run:1 >/dev/null
    rid=$($M images -q run:1)
    $M run -d --name rn run:1 sleep 100 >/dev/null
    capture $M rmi -f "$rid"
    assert_eq "Error response from daemon: conflict: unable to delete $rid (cannot be forced) - image is being used by running container $($M ps -q -f name=rn)" "$out"
    assert_eq "Untagged: run:1" "$($M rmi -f run:1)"
    assert_eq "$rid" "$($M images -q --filter dangling=true | grep "$rid")"
    $M rm -f rn >/dev/null
}

test_rmi_prunes_parents() {
    reset_store
    make_chain
    $M tag "$($M images -q --filter dangling=true)" grand:1
    base=$($M images -q --no-trunc base:1)
    child=$($M images -q --no-trunc child:1)
    grand=$($M images -q --no-trunc grand:1)
    # --no-prune keeps the untagged parent
    $M rmi child:1 >/dev/null
    assert_eq "Untagged: grand:1 Deleted: $grand" "$(echo $($M rmi --no-prune grand:1) | sed -E 's/ Deleted: sha256:[0-9a-f]{64}$//')"
    assert_eq "$child" "$($M images -aq --no-trunc --filter dangling=true)"
    # without it the untagged parent goes with its child, each with its layer
    $M run --name ch3 base:1 true >/dev/null
    $M commit ch3 again:1 >/dev/null
    $M rm ch3 >/dev/null
    again=$($M images -q --no-trunc again:1)
    capture $M rmi "$child"
    assert_eq 0 "$rc"
    assert_contains "$out" "Deleted: $child"
    out=$($M rmi again:1 base:1)
    assert_contains "$out" "Deleted: $again"
    assert_contains "$out" "Deleted: $base"
    assert_eq "" "$(ls "$MOCKER_ROOT/layers" | grep -v -e '^tmp-' -e '^empty$' -e '^init$' || true)"
}

test_image_prune() {
    reset_store
    $M import "$IMAGE_TAR" keep:1 >/dev/null
    $M import "$IMAGE_TAR" >/dev/null
    $M import -c 'LABEL drop=yes' "$IMAGE_TAR" >/dev/null
    make_chain
    $M rmi child:1 >/dev/null
    $M create --name used keep:1 true >/dev/null
    # the prompt; no is the default
    capture bash -c "echo n | $M image prune"
    assert_eq 0 "$rc"
    assert_eq "WARNING! This will remove all dangling images.
Are you sure you want to continue? [y/N] " "$out"
    assert_eq 6 "$($M images -aq | sort -u | wc -l)"
    # a label filter picks the dangling image with that label
    out=$($M image prune -f --filter label=drop=yes)
    assert_eq "Deleted Images:" "$(head -1 <<<"$out")"
    assert_eq 1 "$(grep -c '^deleted: sha256:' <<<"$out")"
    assert_eq "Total reclaimed space: 0B" "$(tail -1 <<<"$out")"
    capture $M image prune -f --filter reference=x
    assert_eq "Error response from daemon: Invalid filter 'reference'" "$out"
    capture $M image prune -f --filter foo
    assert_eq 125 "$rc"
    assert_contains "$out" 'for "--filter" flag'
    # dangling images, and the untagged chain with them; tagged ones stay
    out=$($M image prune -f)
    assert_eq "Deleted Images:" "$(head -1 <<<"$out")"
    assert_not_contains "$out" "untagged:"
    assert_eq "base keep" "$(echo $($M images --format '{{.Repository}}' | sort))"
    # -a: everything no container uses; keep:1 stays
    out=$($M image prune -af)
    assert_contains "$out" "untagged: base:1"
    assert_eq "keep" "$($M images --format '{{.Repository}}')"
    assert_eq "Total reclaimed space: 0B" "$($M image prune -af)"
    $M rm used >/dev/null
    out=$($M image prune -a --force)
    assert_contains "$out" "untagged: keep:1"
    [[ "$(tail -1 <<<"$out")" =~ ^Total\ reclaimed\ space:\ 1\.[0-9]+MB$ ]] || fail "reclaimed [$(tail -1 <<<"$out")]"
    assert_eq "" "$($M images -aq)"
    assert_eq "" "$(ls "$MOCKER_ROOT/layers" | grep -v -e '^tmp-' -e '^empty$' -e '^init$' || true)"
}

test_image_inspect_docker_shape() {
    reset_store
    $M import -c 'CMD ["sh"]' -c 'EXPOSE 80' -m msg "$IMAGE_TAR" shape:1 >/dev/null
    $M run --name sh1 shape:1 touch /x >/dev/null
    $M commit sh1 shape:2 >/dev/null
    $M rm sh1 >/dev/null
    $M image inspect shape:1 shape:2 | python3 -c '
import json, sys
a, b = json.load(sys.stdin)
assert list(a) == ["Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "DockerVersion",
                   "Author", "Config", "Architecture", "Os", "Size", "VirtualSize", "GraphDriver",
                   "RootFS", "Metadata"], list(a)
c = a["Config"]
assert list(c) == ["Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr",
                   "ExposedPorts", "Tty", "OpenStdin", "StdinOnce", "Env", "Cmd", "Image", "Volumes",
                   "WorkingDir", "Entrypoint", "OnBuild", "Labels"], list(c)
assert c["Cmd"] == ["sh"] and c["Env"] is None and c["ExposedPorts"] == {"80/tcp": {}}, c
assert a["Comment"] == "msg" and a["Size"] == a["VirtualSize"] > 0
assert a["GraphDriver"]["Name"] == "overlay2" and "LowerDir" not in a["GraphDriver"]["Data"]
assert b["GraphDriver"]["Data"]["LowerDir"] == a["GraphDriver"]["Data"]["UpperDir"], b["GraphDriver"]
assert b["Parent"] == a["Id"] and len(b["RootFS"]["Layers"]) == 2
assert "Variant" not in a and a["Metadata"] == {"LastTagTime": "0001-01-01T00:00:00Z"}'
}

test_system_df_shared_layers() {
    reset_store
    $M import "$IMAGE_TAR" df:1 >/dev/null
    $M import -m other "$IMAGE_TAR" df:2 >/dev/null
    # two images on one layer: its size once, all of it reclaimable
    one=$($M images --format '{{.VirtualSize}}' df:1)
    assert_eq "Images 2 0 $one $one (100%)" "$($M system df --format '{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}' | head -1)"
    # one in use: the layer is shared, so still reclaimable as docker counts it
    $M create --name dfc df:1 true >/dev/null
    assert_eq "Images 2 1 $one $one (100%)" "$($M system df --format '{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}' | head -1)"
    $M rmi df:2 >/dev/null
    assert_eq "Images 1 1 $one 0B (0%)" "$($M system df --format '{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}' | head -1)"
    $M rm dfc >/dev/null
}

# What killed pulls and loads left (temp blobs, layers/tmp-*) goes with the
# next rmi when it is over an hour old, but never a temp blob a live writer
# holds locked, nor anything recent.
test_rmi_collects_old_temp_files() {
    old=$(date -d '2 hours ago' '+%Y%m%d%H%M')
    mkdir -p "$MOCKER_ROOT/layers/tmp-deadbeef/diff"
    echo x >"$MOCKER_ROOT/blobs/tmp/stale"
    echo x >"$MOCKER_ROOT/blobs/tmp/held"
    echo x >"$MOCKER_ROOT/blobs/tmp/fresh"
    touch -t "$old" "$MOCKER_ROOT/layers/tmp-deadbeef" "$MOCKER_ROOT/blobs/tmp/stale" \
        "$MOCKER_ROOT/blobs/tmp/held"
    flock -s "$MOCKER_ROOT/blobs/tmp/held" sleep 5 &
    holder=$!
    sleep 0.2
    $M import -c 'LABEL gc=1' "$IMAGE_TAR" gc:1 >/dev/null
    $M rmi gc:1 >/dev/null
    [ ! -e "$MOCKER_ROOT/layers/tmp-deadbeef" ] || fail "old layers/tmp-* kept"
    [ ! -e "$MOCKER_ROOT/blobs/tmp/stale" ] || fail "old temp blob kept"
    [ -e "$MOCKER_ROOT/blobs/tmp/held" ] || fail "a locked (live) temp blob was removed"
    [ -e "$MOCKER_ROOT/blobs/tmp/fresh" ] || fail "a recent temp blob was removed"
    kill "$holder" 2>/dev/null || true
    wait "$holder" 2>/dev/null || true
    rm -f "$MOCKER_ROOT/blobs/tmp/held" "$MOCKER_ROOT/blobs/tmp/fresh"
}
