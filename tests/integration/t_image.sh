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
