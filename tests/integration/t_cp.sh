# t_cp.sh: cp and export, compared with what docker does.

# A tree with every kind of entry cp must carry.
make_tree() {
    mkdir -p src/d/sub
    echo hello >src/d/f
    ln src/d/f src/d/hl
    ln -s f src/d/sl
    mkfifo src/d/fifo
    chown 1234:5678 src/d/f
    chmod 4755 src/d/f # after chown, which clears setuid
    chmod 1777 src/d
    chmod 2750 src/d/sub
    touch -h -d '2001-02-03 04:05:06' src/d/f src/d/sl src/d/sub src/d
}

# type, mode, link count, size, mtime and link target of every entry.  Whole
# seconds: docker's tar headers truncate mtimes to the second.
tree_listing() { # dir
    (cd "$1" && find . -printf '%p %y %m %n %s %T@ %l\n' | awk '{$6 = int($6); print}' | sort)
}

test_cp_round_trip_keeps_the_tree() {
    cd "$(mktemp -d -p .)"
    make_tree
    $M create --name cpc $IMG sleep 1000 >/dev/null
    $M cp src/d cpc:/tmp/ # into a stopped container
    $M start cpc >/dev/null
    assert_eq "1234:5678 hello" "$($M exec cpc sh -c 'echo $(stat -c %u:%g /tmp/d/f) $(cat /tmp/d/hl)')"
    assert_eq "$($M exec cpc stat -c %i /tmp/d/f)" "$($M exec cpc stat -c %i /tmp/d/hl)" "hard link"
    mkdir out
    $M cp cpc:/tmp/d out/ # out of a running one
    assert_eq "$(tree_listing src/d)" "$(tree_listing out/d)"
    # docker's CLI extracts as the invoking user (NoLchown)
    assert_eq "0:0" "$(stat -c %u:%g out/d/f)"
    # SRC/. copies the contents; a new name renames
    $M cp cpc:/tmp/d/. out/contents
    assert_eq "$(tree_listing src/d)" "$(tree_listing out/contents)"
    $M cp cpc:/tmp/d/f out/renamed
    assert_eq hello "$(cat out/renamed)"
}

test_cp_archive_gives_files_to_the_container_user() {
    cd "$(mktemp -d -p .)"
    make_tree
    $M create --name cpu --user app $IMG sleep 1000 >/dev/null
    $M cp src/d cpu:/tmp/plain
    $M cp -a src/d cpu:/tmp/arch
    $M start cpu >/dev/null
    assert_eq "1234:5678" "$($M exec cpu stat -c %u:%g /tmp/plain/f)"
    assert_eq "1000:1000 1000:1000" "$($M exec cpu stat -c %u:%g /tmp/arch/f /tmp/arch/sub | tr '\n' ' ' | sed 's/ $//')"
}

test_cp_resolves_symlinks_in_the_container() {
    cd "$(mktemp -d -p .)"
    $M run -d --name cps $IMG sh -c 'ln -s /etc /tmp/link; echo inside >/etc/marker; sleep 1000' >/dev/null
    wait_for 50 $M exec cps test -L /tmp/link
    mkdir out
    $M cp cps:/tmp/link/marker out/m
    assert_eq inside "$(cat out/m)"
    # the container's own /etc/hostname (a bind mount), not the host's
    $M cp cps:/tmp/link/hostname out/hn
    assert_eq "$($M exec cps cat /etc/hostname)" "$(cat out/hn)"
    # the link itself comes out as a link, and nothing goes through it
    before=$(ls -la /etc | md5sum)
    $M cp cps:/tmp/link out/
    assert_eq /etc "$(readlink out/link)"
    assert_eq "$before" "$(ls -la /etc | md5sum)" "host /etc"
    # -L copies what the link points at, under the link's name
    $M cp -L cps:/tmp/link out/followed
    assert_eq inside "$(cat out/followed/marker)"
}

test_cp_tar_stream_cannot_leave_the_container() {
    cd "$(mktemp -d -p .)"
    $M run -d --name cpt $IMG sleep 1000 >/dev/null
    marker="mocker-cp-escape-$$"
    python3 - "$marker" <<'PY'
import io, sys, tarfile
m = sys.argv[1]
with tarfile.open("evil.tar", "w") as t:
    link = tarfile.TarInfo("esc"); link.type = tarfile.SYMTYPE; link.linkname = "/"
    t.addfile(link)
    data = b"x\n"
    f = tarfile.TarInfo("esc/tmp/" + m); f.size = len(data)
    t.addfile(f, io.BytesIO(data))
with tarfile.open("dotdot.tar", "w") as t:
    f = tarfile.TarInfo("../../../../tmp/" + m); f.size = 2
    t.addfile(f, io.BytesIO(b"x\n"))
PY
    $M cp - cpt:/tmp <evil.tar
    [ ! -e "/tmp/$marker" ] || { rm -f "/tmp/$marker"; fail "cp wrote through a symlink onto the host"; }
    $M exec cpt test -f "/tmp/$marker" # the link resolved inside the container
    capture $M cp - cpt:/tmp <dotdot.tar
    assert_eq 1 "$rc"
    assert_contains "$out" "is outside of"
    [ ! -e "/tmp/$marker" ] || { rm -f "/tmp/$marker"; fail "cp wrote outside the container"; }
}

test_cp_stdin_and_stdout_are_tar_streams() {
    cd "$(mktemp -d -p .)"
    make_tree
    $M run -d --name io $IMG sleep 1000 >/dev/null
    tar -C src -cf - d | $M cp - io:/tmp
    assert_eq hello "$($M exec io cat /tmp/d/f)"
    out=$($M cp io:/tmp/d - | tar -tvf - | awk '{print $1, $NF}')
    assert_contains "$out" "drwxrwxrwt d/"
    assert_contains "$out" "-rwsr-xr-x d/f"
    assert_contains "$out" "hrwsr-xr-x d/f" # d/hl link to d/f
    assert_contains "$out" "prw-r--r-- d/fifo"
}

test_cp_errors_as_docker() {
    cd "$(mktemp -d -p .)"
    $M create --name cpe $IMG true >/dev/null
    mkdir out
    echo x >out/file
    capture $M cp cpe:/nonexist out/
    assert_eq "1 Error response from daemon: Could not find the file /nonexist in container cpe" "$rc $out"
    capture $M cp nosuch:/x out/
    assert_eq "1 Error response from daemon: No such container: nosuch" "$rc $out"
    capture $M cp out/nonexist cpe:/tmp
    assert_eq "1 lstat $PWD/out/nonexist: no such file or directory" "$rc $out"
    capture $M cp cpe:/etc/hostname cpe:/tmp
    assert_eq "1 copying between containers is not supported" "$rc $out"
    capture $M cp out out2
    assert_eq "1 must specify at least one container source" "$rc $out"
    capture $M cp cpe:/etc/passwd out/nodir/
    assert_eq "1 no such directory" "$rc $out"
    capture $M cp cpe:/etc/passwd out/nodir/x
    assert_eq "1 invalid output path: directory \"$PWD/out/nodir\" does not exist" "$rc $out"
    capture $M cp cpe:/etc out/file
    assert_eq "1 cannot copy directory" "$rc $out"
    capture $M cp out/file cpe:/nonex/y
    assert_eq "1 Error response from daemon: Could not find the file /nonex in container cpe" "$rc $out"
    capture $M cp - cpe:/etc/passwd </dev/null
    assert_eq "1 destination \"cpe:/etc/passwd\" must be a directory" "$rc $out"
    capture $M cp -x out cpe:/
    assert_eq 125 "$rc"
    # a failed copy leaves what was there
    assert_eq x "$(cat out/file)"
}

test_export_round_trips_through_import() {
    cd "$(mktemp -d -p .)"
    $M run --name cpx $IMG sh -c 'mkdir -p /data && echo exported >/data/f && ln -s f /data/l' >/dev/null
    $M export cpx | $M import - exported:1 >/dev/null
    assert_eq "exported exported" "$($M run --rm exported:1 sh -c 'echo $(cat /data/f) $(cat /data/l)')"
    $M export -o x.tar cpx
    list=$(tar -tf x.tar)
    assert_contains "$list" "bin/busybox"
    assert_contains "$list" "data/f"
    assert_not_contains "$(head -1 <<<"$list")" "./"
    capture $M export nosuch
    assert_eq "1 Error response from daemon: No such container: nosuch" "$rc $out"
    if command -v script >/dev/null; then
        out=$(script -qec "$M export cpx" /dev/null </dev/null | tr -d '\r')
        assert_eq "cowardly refusing to save to a terminal. Use the -o flag or redirect" "$out"
    fi
}

# The whole root of a running container: the kernel's filesystems mounted in
# it (/proc, /sys, the runtime's tmpfs /dev) come out as empty directories, as
# in docker's view of the rootfs.
test_cp_root_of_running_container() {
    $M run -d --name cproot $IMG sleep 100 >/dev/null
    $M cp cproot:/ whole
    [ -x whole/bin/busybox ] || fail "no bin/busybox in the copy"
    assert_eq "" "$(ls -A whole/proc whole/sys whole/dev | grep -v ':$' | grep -v '^$')" "kernel filesystems"
    $M rm -f cproot >/dev/null
}

# A copy into a stopped container holds it: a start waits until the copy is
# done instead of mounting a second overlay on the same upper directory.
test_cp_into_stopped_container_holds_start() {
    $M create --name cphold $IMG cat /tmp/late >/dev/null
    mkdir -p src && echo payload >src/late && tar -C src -cf late.tar late
    shared=$(dmesg | grep -c "upperdir is in-use" || true)
    (sleep 1; cat late.tar) | $M cp - cphold:/tmp &
    cp_pid=$!
    sleep 0.3
    start=$(date +%s%N)
    $M start -a cphold >started.out
    waited=$(( ($(date +%s%N) - start) / 1000000 ))
    wait $cp_pid
    [ "$waited" -ge 500 ] || fail "start did not wait for the copy (${waited} ms)"
    assert_eq payload "$(cat started.out)"
    assert_eq "$shared" "$(dmesg | grep -c "upperdir is in-use" || true)" "kernel warnings of a shared upper dir"
    $M rm cphold >/dev/null
}

# "link/" names the directory the link points at (inside the container), as
# docker resolves it; "link" is the link itself.
test_cp_trailing_slash_follows_a_link_to_a_directory() {
    $M run -d --name cplink $IMG sh -c 'mkdir -p /data/sub && echo in >/data/sub/f && ln -s /data /tmp/evil && sleep 100' >/dev/null
    wait_for 30 $M exec cplink test -L /tmp/evil
    $M cp cplink:/tmp/evil/ out
    assert_eq "in" "$(cat out/sub/f)"
    echo host >hostfile
    $M cp hostfile cplink:/tmp/evil/
    assert_eq "host" "$($M exec cplink cat /data/hostfile)"
    $M cp cplink:/tmp/evil link
    assert_eq "/data" "$(readlink link)"
    [ ! -e /data/hostfile ] || fail "a container path reached the host"
    $M rm -f cplink >/dev/null
}
