# t_commit.sh: diff and commit.  The expected diff lists were checked against
# docker 20.10 (overlay2) running the same commands; docker's order within a
# directory is random, ours is by name.

changes='echo hi >/etc/newfile; rm /bin/ls; mkdir -p /tmp/a/b; echo x >/tmp/a/b/c; rm -rf /usr; mkdir /usr; touch /usr/z; chmod 700 /var/tmp; rm -rf /root; ln /etc/newfile /etc/hl; ln -s /x /etc/sl'

test_diff_lists_changes() {
    $M run --name d1 $IMG sh -c "$changes"
    expected='C /bin
D /bin/ls
C /etc
A /etc/hl
A /etc/newfile
A /etc/sl
C /tmp
A /tmp/a
A /tmp/a/b
A /tmp/a/b/c
C /usr
A /usr/z
D /usr/bin
D /usr/sbin
C /var
C /var/tmp
D /root'
    assert_eq "$expected" "$($M diff d1)"
    assert_eq "$expected" "$($M container diff d1)"
}

test_diff_nothing_changed() {
    # The runtime's mount points (/etc/hosts...) are not changes, as in docker.
    $M run --name d2 $IMG true
    assert_eq "" "$($M diff d2)"
}

test_diff_running_container() {
    $M run -d --name d3 $IMG sleep 60 >/dev/null
    $M exec d3 touch /home/app/new
    assert_eq "$(printf 'C /home\nC /home/app\nA /home/app/new')" "$($M diff d3)"
    $M rm -f d3 >/dev/null
}

test_diff_errors() {
    capture $M diff nosuch
    assert_eq 1 "$rc"
    assert_eq "Error response from daemon: No such container: nosuch" "$out"
    capture $M diff
    assert_eq 1 "$rc"
    assert_contains "$out" "requires 1 argument"
}

test_commit_keeps_changes() {
    $M run --name c1 $IMG sh -c "$changes"
    id=$($M commit -a "Me <me@example.com>" -m "my message" -c 'CMD ["echo","hi"]' c1 committed:v1)
    [[ "$id" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "commit printed [$id]"
    assert_eq "${id#sha256:}" "$($M images -q --no-trunc committed:v1 | sed 's/^sha256://')"
    assert_eq hi "$($M run --rm committed:v1)"
    assert_eq "hi hi" "$($M run --rm committed:v1 sh -c 'echo $(cat /etc/newfile) $(cat /etc/hl)')"
    # hard link kept, symlink kept, mode kept, deletions applied
    assert_eq "2 /x 700" "$($M run --rm committed:v1 sh -c 'echo $(stat -c %h /etc/newfile) $(readlink /etc/sl) $(stat -c %a /var/tmp)')"
    assert_eq "/usr/z" "$($M run --rm committed:v1 sh -c 'echo /usr/*')"
    assert_eq "gone gone" "$($M run --rm committed:v1 sh -c 'test -e /bin/ls || echo -n "gone "; test -e /root || echo gone')"
    assert_eq "Me <me@example.com>" "$($M image inspect -f '{{.Author}}' committed:v1)"
    assert_eq "my message" "$($M image inspect -f '{{.Comment}}' committed:v1)"
    assert_eq '["echo","hi"]' "$($M image inspect -f '{{json .Config.Cmd}}' committed:v1)"
    assert_eq 2 "$($M image inspect -f '{{len .RootFS.Layers}}' committed:v1)"
}

test_commit_layer_tar() {
    $M run --name c2 $IMG sh -c 'rm /bin/ls; rm -rf /usr; mkdir /usr; echo x >/usr/z'
    $M commit c2 tarcheck >/dev/null
    diff_id=$($M image inspect -f '{{index .RootFS.Layers 1}}' tarcheck)
    tar tf "$MOCKER_ROOT/blobs/sha256/${diff_id#sha256:}" >names
    assert_eq "bin/
bin/.wh.ls
usr/
usr/.wh..wh..opq
usr/z" "$(cat names)"
}

test_commit_of_commit_and_running() {
    $M run --name c3 $IMG sh -c 'echo one >/one'
    $M commit c3 step:1 >/dev/null
    $M run -d --name c4 step:1 sh -c 'echo two >/two; rm /one; sleep 60' >/dev/null
    wait_for 50 $M exec c4 test -f /two
    # docker lists a directory's deletions after its additions
    assert_eq "$(printf 'A /two\nD /one')" "$($M diff c4)"
    $M commit c4 step:2 >/dev/null
    $M commit -p=false c4 step:2b >/dev/null
    $M rm -f c4 >/dev/null
    assert_eq two "$($M run --rm step:2 cat /two)"
    capture $M run --rm step:2 cat /one
    assert_contains "$out" "No such file"
    assert_eq 3 "$($M image inspect -f '{{len .RootFS.Layers}}' step:2b)"
    assert_eq '["sh","-c","echo two >/two; rm /one; sleep 60"]' "$($M image inspect -f '{{json .Config.Cmd}}' step:2)"
}

test_commit_without_changes_adds_no_layer() {
    $M create --name c5 $IMG true >/dev/null
    $M commit c5 same:1 >/dev/null
    assert_eq 1 "$($M image inspect -f '{{len .RootFS.Layers}}' same:1)"
}

test_commit_errors() {
    before=$($M images -q | sort)
    capture $M commit nosuch
    assert_eq 1 "$rc"
    assert_eq "Error response from daemon: No such container: nosuch" "$out"
    $M create --name c6 $IMG true >/dev/null
    capture $M commit -c 'BOGUS x' c6 bad:1
    assert_eq 1 "$rc"
    assert_contains "$out" "bogus is not a valid change command"
    capture $M commit c6 'Bad:Name'
    assert_eq 1 "$rc"
    assert_contains "$out" "invalid reference format"
    capture $M commit --nope c6
    assert_eq 125 "$rc"
    assert_eq "$before" "$($M images -q | sort)"
}
