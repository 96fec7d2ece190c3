# t_volumes.sh: volumes (docker volume create/ls/inspect/rm/prune) and their
# use by run/create, with docker's wording, checked against a dockerd.

# The file's tests share a store: each starts without containers or volumes.
vol_reset() {
    local c v
    for c in $($M ps -aq); do $M rm -f "$c" >/dev/null; done
    for v in $($M volume ls -q); do $M volume rm "$v" >/dev/null; done
}

test_volume_create_inspect_ls() {
    vol_reset
    assert_eq v1 "$($M volume create --label a=b --label c v1)"
    # a second create of the name gives the same volume back
    assert_eq v1 "$($M volume create v1)"
    assert_eq "local|v1|$MOCKER_ROOT/volumes/v1/_data|map[a:b c:]|local|<no value>" \
        "$($M volume inspect -f '{{.Driver}}|{{.Name}}|{{.Mountpoint}}|{{.Labels}}|{{.Scope}}|{{.Options}}' v1)"
    [ -d "$MOCKER_ROOT/volumes/v1/_data" ] || fail "no data directory"
    capture $M volume inspect v1
    assert_contains "$out" '"CreatedAt": "'
    assert_contains "$out" '"Options": null'
    anon=$($M volume create)
    [[ $anon =~ ^[0-9a-f]{64}$ ]] || fail "random name: $anon"
    assert_eq "$(printf '%s\nv1' "$anon" | sort)" "$($M volume ls -q | sort)"
    assert_eq "DRIVER    VOLUME NAME" "$($M volume ls | head -1)"
    assert_eq v1 "$($M volume ls -q --filter label=a=b)"
    assert_eq v1 "$($M volume ls -q --filter name=v)"
    assert_eq "" "$($M volume ls -q --filter driver=other)"
    assert_eq "v1 a=b,c=" "$($M volume ls --filter label=c --format '{{.Name}} {{.Labels}}')"
    capture $M volume inspect v1 nosuch
    assert_eq 1 "$rc"
    assert_contains "$out" "Error response from daemon: get nosuch: no such volume"
    assert_contains "$out" '"Name": "v1"'
}

test_volume_names_that_could_escape_are_refused() {
    vol_reset
    for n in .. . a/b ../x /abs _x; do
        capture $M volume create "$n"
        assert_eq 1 "$rc" "create $n"
        assert_contains "$out" "includes invalid characters for a local volume name" "create $n"
    done
    capture $M volume create a
    assert_contains "$out" "create a: volume name is too short, names should be at least two alphanumeric characters"
    assert_eq "" "$($M volume ls -q)"
    assert_eq "" "$(ls "$MOCKER_ROOT/volumes")"
    capture $M volume create -d nfs vv
    assert_contains "$out" 'create vv: error looking up volume plugin nfs: plugin "nfs" not found'
    capture $M volume create -o type=tmpfs vv
    assert_eq 125 "$rc" "-o is refused"
    assert_eq "" "$($M volume ls -q)"
}

test_volume_rm() {
    vol_reset
    $M volume create v1 >/dev/null
    echo data >"$MOCKER_ROOT/volumes/v1/_data/f"
    assert_eq v1 "$($M volume rm v1)"
    [ ! -e "$MOCKER_ROOT/volumes/v1" ] || fail "data left"
    capture $M volume rm v1
    assert_eq 1 "$rc"
    assert_contains "$out" "Error response from daemon: get v1: no such volume"
    capture $M volume rm -f v1
    assert_eq "0 v1" "$rc $out"
}

test_volume_prune_without_users() {
    vol_reset
    $M volume create named >/dev/null
    $M volume create --label keep=1 named2 >/dev/null
    # without -a only anonymous volumes go (docker 23+), and there are none
    assert_eq "Total reclaimed space: 0B" "$($M volume prune -f)"
    printf 'x%.0s' $(seq 1 2000) >"$MOCKER_ROOT/volumes/named/_data/f"
    capture $M volume prune -a -f --filter label!=keep
    assert_eq "Deleted Volumes:
named

Total reclaimed space: 2kB" "$out"
    assert_eq named2 "$($M volume ls -q)"
    # no answer to the prompt: nothing removed
    capture $M volume prune -a </dev/null
    assert_contains "$out" "WARNING! This will remove all local volumes not used by at least one container."
    assert_eq named2 "$($M volume ls -q)"
}
