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

# The issue's must-show: data outlives its container, and prune spares what is used.
test_named_volume_survives_rm_and_prune_spares_used_ones() {
    vol_reset
    $M run --name writer -v keep:/data $IMG sh -c 'echo persisted >/data/f'
    $M rm writer >/dev/null
    assert_eq keep "$($M volume ls -q)" "rm leaves the named volume"
    assert_eq persisted "$($M run --rm -v keep:/data $IMG cat /data/f)"
    # -v NAME makes the volume; docker's Mode for a named volume is "z"
    $M create --name user -v keep:/data -v /anon $IMG true >/dev/null
    anon=$($M inspect -f '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}' user)
    [[ $anon =~ ^[0-9a-f]{64}$ ]] || fail "anonymous volume name: $anon"
    $M volume create unused >/dev/null
    $M volume create --label x=1 unused2 >/dev/null
    # in use by a created (never started) container: neither prune takes them
    capture $M volume prune -f
    assert_eq "Total reclaimed space: 0B" "$out"
    capture $M volume prune -a -f
    assert_contains "$out" "Deleted Volumes:"
    assert_contains "$out" unused
    assert_eq "$(printf '%s\nkeep' "$anon" | sort)" "$($M volume ls -q | sort)"
    assert_eq "$anon" "$($M volume ls -q --filter dangling=false | grep -v keep)"
    capture $M volume rm keep
    assert_eq 1 "$rc"
    assert_contains "$out" "Error response from daemon: remove keep: volume is in use - [$($M inspect -f '{{.Id}}' user)]"
    capture $M volume rm -f keep
    assert_eq 1 "$rc" "-f does not remove a volume in use"
    # rm without -v keeps the anonymous volume, prune (anonymous only) then takes it
    $M rm user >/dev/null
    assert_eq "$(printf '%s\nkeep' "$anon" | sort)" "$($M volume ls -q | sort)"
    capture $M volume prune -f
    assert_contains "$out" "$anon"
    assert_eq keep "$($M volume ls -q)"
}

test_anonymous_volumes_go_with_rm_v_and_run_rm() {
    vol_reset
    $M create --name a1 -v /anon -v named:/n $IMG true >/dev/null
    assert_eq 2 "$($M volume ls -q | wc -l)"
    $M rm -v a1 >/dev/null
    assert_eq named "$($M volume ls -q)" "rm -v removes the anonymous one only"
    $M run --rm -v /anon2 $IMG sh -c 'echo x >/anon2/f'
    assert_eq named "$($M volume ls -q)" "run --rm removes its anonymous volume"
    # an image's VOLUME is an anonymous volume, filled from the image
    $M run --name base $IMG sh -c 'mkdir -p /vol && echo from-image >/vol/f' >/dev/null
    $M commit -c 'VOLUME /vol' base withvol >/dev/null
    assert_eq from-image "$($M run --rm withvol cat /vol/f)"
    assert_eq named "$($M volume ls -q)"
    $M create --name iv withvol true >/dev/null
    assert_eq volume "$($M inspect -f '{{range .Mounts}}{{.Type}}{{end}}' iv)"
    # -v on the image's VOLUME path replaces it
    $M create --name iv2 -v named:/vol withvol true >/dev/null
    assert_eq named "$($M inspect -f '{{range .Mounts}}{{.Name}}{{end}}' iv2)"
    $M rm -v iv iv2 >/dev/null
    $M rm base >/dev/null
    $M rmi withvol >/dev/null
    assert_eq named "$($M volume ls -q)"
}

test_new_volume_is_filled_from_the_image() {
    vol_reset
    $M run --rm -v etc:/etc $IMG true
    [ -f "$MOCKER_ROOT/volumes/etc/_data/passwd" ] || fail "copy-up: no passwd in the volume"
    # ownership and modes come along
    $M run --name own $IMG sh -c 'mkdir -p /o/d && chown 123:45 /o/d && chmod 710 /o/d' >/dev/null
    $M commit own ownimg >/dev/null
    $M run --rm -v ovol:/o ownimg true
    assert_eq "123:45 710" "$(stat -c '%u:%g %a' "$MOCKER_ROOT/volumes/ovol/_data/d")"
    # not for nocopy, not for a volume that has data, not for binds
    $M run --rm -v o2:/o:nocopy ownimg true
    assert_eq "" "$(ls -A "$MOCKER_ROOT/volumes/o2/_data")"
    $M volume create full >/dev/null
    echo mine >"$MOCKER_ROOT/volumes/full/_data/mine"
    $M run --rm -v full:/o ownimg true
    assert_eq mine "$(ls -A "$MOCKER_ROOT/volumes/full/_data")"
    mkdir -p bindsrc
    $M run --rm -v "$PWD/bindsrc:/o" ownimg true
    assert_eq "" "$(ls -A bindsrc)"
    $M rm own >/dev/null
    $M rmi ownimg >/dev/null
}

test_volume_mounts_in_the_container_and_inspect() {
    vol_reset
    $M volume create ro1 >/dev/null
    capture $M run --rm -v ro1:/r:ro $IMG sh -c 'echo x >/r/f'
    [ "$rc" -ne 0 ] || fail "write to a :ro volume succeeded"
    $M create --name ins -v ro1:/r:ro $IMG true >/dev/null
    assert_eq "{\"Type\":\"volume\",\"Name\":\"ro1\",\"Source\":\"$MOCKER_ROOT/volumes/ro1/_data\",\"Destination\":\"/r\",\"Driver\":\"local\",\"Mode\":\"ro\",\"RW\":false,\"Propagation\":\"\"}" \
        "$($M inspect -f '{{range .Mounts}}{{json .}}{{end}}' ins)"
    assert_eq '["ro1:/r:ro"]' "$($M inspect -f '{{json .HostConfig.Binds}}' ins)"
}

test_volume_names_in_v_are_checked() {
    vol_reset
    for v in '../x:/x' 'a/b:/x'; do
        capture $M create -v "$v" $IMG true
        [ "$rc" -ne 0 ] || fail "-v $v accepted"
    done
    capture $M create -v a/b:/x $IMG true
    assert_contains "$out" 'create a/b: "a/b" includes invalid characters for a local volume name'
    capture $M create -v nv:rel $IMG true
    assert_contains "$out" "invalid volume specification: 'nv:rel'"
    capture $M create -v nv:/x -v nv2:/x $IMG true
    assert_contains "$out" "Duplicate mount point: /x"
    assert_eq "" "$($M volume ls -q)" "a failed create leaves no volume behind"
    assert_eq "" "$($M ps -aq)"
}

test_mount_flag_forms() {
    vol_reset
    mkdir -p src && echo bound >src/f
    $M run --rm --mount type=volume,src=mv,dst=/v --mount "type=bind,source=$PWD/src,target=/b,readonly" \
        --mount type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770 \
        $IMG sh -c 'echo v >/v/f && cat /b/f && ! touch /b/x 2>/dev/null && stat -c %a /t && grep " /t " /proc/mounts' >out.txt
    assert_eq bound "$(sed -n 1p out.txt)"
    assert_eq 1770 "$(sed -n 2p out.txt)"
    assert_contains "$(sed -n 3p out.txt)" "size=1024k"
    assert_eq v "$(cat "$MOCKER_ROOT/volumes/mv/_data/f")"
    # no source: an anonymous volume; volume-nocopy: not filled
    $M create --name mm --mount type=volume,dst=/etc,volume-nocopy $IMG true >/dev/null
    name=$($M inspect -f '{{range .Mounts}}{{.Name}}{{end}}' mm)
    assert_eq "" "$(ls -A "$MOCKER_ROOT/volumes/$name/_data")"
    assert_eq '[{"Type":"volume","Target":"/etc","VolumeOptions":{"NoCopy":true}}]' "$($M inspect -f '{{json .HostConfig.Mounts}}' mm)"
    $M rm -v mm >/dev/null
    capture $M create --mount type=volume,src=v,dst=/x,foo=bar $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "invalid argument \"type=volume,src=v,dst=/x,foo=bar\" for \"--mount\" flag: unexpected key 'foo' in 'foo=bar'"
    capture $M create --mount type=bind,src=/tmp,dst=/x,volume-nocopy $IMG true
    assert_contains "$out" "cannot mix 'volume-*' options with mount type 'bind'"
    capture $M create --mount type=bind,src=/nonexistent-src,dst=/x $IMG true
    assert_contains "$out" 'invalid mount config for type "bind": bind source path does not exist: /nonexistent-src'
    capture $M create --mount type=volume,src=v,dst=/x,volume-driver=nfs $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "volume-driver"
    capture $M create --mount type=bind,src=/tmp,dst=/x,bind-create-mountpoint=true $IMG true
    assert_eq 125 "$rc"
    assert_eq mv "$($M volume ls -q)"
}

test_volumes_from() {
    vol_reset
    mkdir -p hostdir
    $M create --name src1 -v shared:/s -v "$PWD/hostdir:/h" $IMG true >/dev/null
    $M run --rm --volumes-from src1 $IMG sh -c 'echo from-2 >/s/f && echo h >/h/f'
    assert_eq from-2 "$(cat "$MOCKER_ROOT/volumes/shared/_data/f")"
    assert_eq h "$(cat hostdir/f)"
    capture $M run --rm --volumes-from src1:ro $IMG sh -c 'echo x >/s/g'
    [ "$rc" -ne 0 ] || fail "volumes-from :ro is writable"
    $M create --name user2 --volumes-from src1 $IMG true >/dev/null
    assert_eq "shared true" "$($M inspect -f '{{range .Mounts}}{{if .Name}}{{.Name}} {{.RW}}{{end}}{{end}}' user2)"
    $M rm src1 >/dev/null
    capture $M volume rm shared
    assert_contains "$out" "volume is in use - [$($M inspect -f '{{.Id}}' user2)]"
    capture $M create --volumes-from nosuch $IMG true
    assert_contains "$out" "No such container: nosuch"
}

# -o type=none -o o=bind -o device=DIR: the local driver's bind of a directory.
test_volume_bind_device_option() {
    vol_reset
    mkdir -p devdir
    assert_eq bv "$($M volume create -o type=none -o o=bind -o device="$PWD/devdir" bv)"
    assert_eq "{\"device\":\"$PWD/devdir\",\"o\":\"bind\",\"type\":\"none\"}" "$($M volume inspect -f '{{json .Options}}' bv)"
    $M run --rm -v bv:/o $IMG sh -c 'echo in-dev >/o/f'
    assert_eq in-dev "$(cat devdir/f)"
    # removing the volume leaves the directory's content alone
    $M volume rm bv >/dev/null
    assert_eq in-dev "$(cat devdir/f)"
    $M volume create -o type=none -o o=bind -o device=/nonexistent-dev bad >/dev/null
    capture $M run --rm -v bad:/x $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "failed to mount local volume: mount /nonexistent-dev:$MOCKER_ROOT/volumes/bad/_data, flags: 0x1000: no such file or directory"
    capture $M volume create -o foo=bar x1
    assert_contains "$out" 'create x1: invalid option: "foo"'
    capture $M volume create -o type=tmpfs -o device=tmpfs tv
    assert_eq 125 "$rc"
    assert_eq bad "$($M volume ls -q)"
}

# A directory that no volume row names (a remove killed half way) is not a
# volume's data: a new volume of that name starts empty.
test_volume_create_does_not_inherit_a_stale_directory() {
    mkdir -p "$MOCKER_ROOT/volumes/stalevol/_data"
    echo old-secret >"$MOCKER_ROOT/volumes/stalevol/_data/s"
    $M volume create stalevol >/dev/null
    assert_eq "" "$($M run --rm -v stalevol:/d $IMG ls /d)"
    $M volume rm stalevol >/dev/null
}
