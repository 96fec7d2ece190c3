# t_platform.sh: --platform on import, run and create; foreign-architecture
# images run through qemu-user-static in binfmt_misc, registered by mocker.
#
# binfmt_misc is the host's, shared with everything else on it: a test that
# takes an entry away puts the one it found back, as it was, when it ends.

BINFMT=/proc/sys/fs/binfmt_misc

# The arm64 busybox image (Debian's busybox-static:arm64), made once per file.
arm64_image() {
    local tar=$MOCKER_ROOT/../busybox-arm64.tar
    [ -s "$tar" ] || "$REPO/tools/mkimage-busybox" "$tar" arm64 || fail "no arm64 busybox (run make deps)"
    $M image inspect a64 >/dev/null 2>&1 || $M import --platform linux/arm64 "$tar" a64 >/dev/null
}

# Names of the binfmt_misc entries that accept an ELF of e_machine $1 (hex
# as the kernel prints the magic's last bytes: aarch64 b700, riscv f300).
entries_for() {
    local e
    for e in "$BINFMT"/*; do
        case ${e##*/} in register | status) continue ;; esac
        grep -qE "^magic 7f454c46.{24}0200$1" "$e" 2>/dev/null && echo "${e##*/}"
    done
    return 0
}

# The registration line that recreates an entry from its status text.
entry_line() { # name status-text
    local name=$1 text=$2 magic mask offset interp flags
    magic=$(sed -n 's/^magic //p' <<<"$text" | sed 's/../\\x&/g')
    mask=$(sed -n 's/^mask //p' <<<"$text" | sed 's/../\\x&/g')
    offset=$(sed -n 's/^offset //p' <<<"$text")
    interp=$(sed -n 's/^interpreter //p' <<<"$text")
    flags=$(sed -n 's/^flags: //p' <<<"$text")
    printf ':%s:M:%s:%s:%s:%s:%s' "$name" "$offset" "$magic" "$mask" "$interp" "$flags"
}

test_import_platform() {
    arm64_image
    assert_eq "linux arm64" "$($M image inspect -f '{{.Os}} {{.Architecture}}' a64)"
    tar=$MOCKER_ROOT/../busybox-arm64.tar
    $M import --platform LINUX/AARCH64/v8 "$tar" a64v8 >/dev/null
    assert_eq "arm64 v8" "$($M image inspect -f '{{.Architecture}} {{.Variant}}' a64v8)"
    $M import --platform linux/armhf "$tar" armhf >/dev/null
    assert_eq "arm" "$($M image inspect -f '{{.Architecture}}' armhf)" "armhf is arm (v7 implied)"
    before=$($M images -q | sort)
    capture $M import --platform bogus "$tar" bad:1
    assert_eq 1 "$rc"
    assert_eq 'Error response from daemon: "bogus": unknown operating system or architecture: invalid argument' "$out"
    capture $M import --platform windows/amd64 "$tar" bad:2
    assert_eq 1 "$rc"
    assert_eq "Error response from daemon: operating system is not supported" "$out"
    assert_eq "$before" "$($M images -q | sort)" "a refused import stores nothing"
    # Without --platform: the host's.
    [ "$(uname -m)" != x86_64 ] || assert_eq amd64 "$($M image inspect -f '{{.Architecture}}' $IMG)"
}

test_run_foreign_image_through_qemu() {
    [ -x /usr/bin/qemu-aarch64-static ] || fail "qemu-user-static is not installed (run make deps)"
    arm64_image
    # Take away the entries that run arm64 (the host's, shared), so that
    # mocker has to register one; the EXIT trap puts them back as they were.
    saved=()
    if mountpoint -q "$BINFMT"; then
        for name in $(entries_for b700); do
            saved+=("$name" "$(cat "$BINFMT/$name")")
            echo -1 >"$BINFMT/$name"
        done
    fi
    restore() {
        local i name text
        for ((i = 0; i < ${#saved[@]}; i += 2)); do
            name=${saved[i]} text=${saved[i + 1]}
            [ "$(cat "$BINFMT/$name" 2>/dev/null)" = "$text" ] && continue
            [ ! -e "$BINFMT/$name" ] || echo -1 >"$BINFMT/$name"
            entry_line "$name" "$text" >"$BINFMT/register"
            [ "$(head -1 <<<"$text")" = enabled ] || echo 0 >"$BINFMT/$name"
        done
    }
    on_exit restore
    assert_eq "" "$(entries_for b700)" "no entry runs arm64 before the run"

    capture $M run --rm a64 uname -m
    assert_eq 0 "$rc" "run of the arm64 image: $out"
    assert_contains "$out" "WARNING: The requested image's platform (linux/arm64) does not match the detected host platform (linux/amd64) and no specific platform was requested"
    assert_eq aarch64 "$(tail -1 <<<"$out")"
    mountpoint -q "$BINFMT" || fail "binfmt_misc is not mounted"
    name=$(entries_for b700)
    assert_eq qemu-aarch64 "$name" "mocker registered qemu's entry"
    assert_eq enabled "$(head -1 "$BINFMT/$name")"
    # F: the kernel holds the interpreter, which the container does not have.
    assert_contains "$(grep '^flags:' "$BINFMT/$name")" F

    # Registered now: asked for explicitly, no warning; exec goes through qemu too.
    assert_eq aarch64 "$($M run --rm --platform linux/arm64 a64 uname -m 2>&1)"
    id=$($M run -d a64 sleep 30 2>/dev/null)
    assert_eq aarch64 "$($M exec "$id" uname -m)"
    $M rm -f "$id" >/dev/null
}

test_run_platform_flag() {
    arm64_image
    before=$($M ps -aq | wc -l)
    # --pull never: with the default (missing) docker pulls the wanted platform,
    # and a64 would name Docker Hub, which tests never reach
    capture $M run --rm --pull never --platform linux/amd64 a64 true
    assert_eq 125 "$rc"
    assert_contains "$out" "mocker: Error response from daemon: image with reference a64 was found but does not match the specified platform: wanted linux/amd64, actual: linux/arm64"
    capture $M create --pull never --platform linux/arm/v7 a64 true
    assert_eq 1 "$rc"
    assert_eq "Error response from daemon: image with reference a64 was found but does not match the specified platform: wanted linux/arm/v7, actual: linux/arm64" "$out"
    capture $M run --rm --platform bogus a64 true
    assert_eq 125 "$rc"
    assert_contains "$out" 'mocker: error parsing specified platform: "bogus": unknown operating system or architecture: invalid argument'
    assert_eq "$before" "$($M ps -aq | wc -l)" "nothing created"
    # arm64 == arm64/v8; the host's own image takes its platform silently.
    id=$($M create --platform linux/arm64/v8 a64 true)
    [[ "$id" =~ ^[0-9a-f]{64}$ ]] || fail "create --platform linux/arm64/v8 printed [$id]"
    if [ "$(uname -m)" = x86_64 ]; then
        assert_eq hi "$($M run --rm --platform linux/x86_64 $IMG echo hi 2>&1)"
    fi
}

test_foreign_image_without_interpreter() {
    arm64_image
    tar=$MOCKER_ROOT/../busybox-arm64.tar
    # Stamped riscv64 (it never gets to run): no qemu under the test's
    # lookup root, so nothing can be registered for it.
    $M import --platform linux/riscv64 "$tar" rv >/dev/null
    empty=$(mktemp -d)
    if [ -n "$(entries_for f300)" ]; then
        echo "# the host already runs riscv64 binaries: only the unknown architecture is tried"
    else
        capture env MOCKER_BINFMT_PREFIX="$empty" $M run --rm rv true
        assert_eq 125 "$rc" "$out"
        assert_contains "$out" "mocker: Error response from daemon: exec format error: the image's platform (linux/riscv64) is not this host's"
        assert_contains "$out" "no binfmt_misc entry runs riscv64 binaries and $empty/usr/bin/qemu-riscv64-static is not installed"
        assert_eq "" "$(entries_for f300)" "nothing registered"
    fi
    $M import --platform linux/foo "$tar" foo >/dev/null
    capture $M run --rm foo true
    assert_eq 125 "$rc"
    assert_contains "$out" "cannot be emulated: no emulator is known for architecture foo"
    rmdir "$empty"
}

# The host's architecture in a variant it may lack (amd64/v3) runs natively:
# never an emulator registered for the host's own binaries.
test_host_architecture_variant_runs_natively() {
    [ "$(uname -m)" = x86_64 ] || skip "checks amd64/v3 on an amd64 host"
    before=$(ls /proc/sys/fs/binfmt_misc 2>/dev/null | sort)
    $M import --platform linux/amd64/v3 "$IMAGE_TAR" v3:1 >/dev/null
    assert_eq native "$($M run --rm v3:1 echo native 2>/dev/null)"
    assert_eq "$before" "$(ls /proc/sys/fs/binfmt_misc 2>/dev/null | sort)" "binfmt_misc entries"
}
