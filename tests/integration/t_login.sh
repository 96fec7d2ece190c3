# t_login.sh: login and logout as docker 28 words them, and the credentials
# they keep in docker's config.json.  Each test has a DOCKER_CONFIG of its own;
# none reaches a registry except the test_login_registry_* ones, which start
# one through tools/registry-fixture and are skipped when it is absent.

use_config() {
    DOCKER_CONFIG=$(mktemp -d "$PWD/dockercfg.XXXXXX")/docker
    export DOCKER_CONFIG
    CFG=$DOCKER_CONFIG/config.json
}

# A port on loopback where nothing listens.
closed_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

test_login_flag_errors() {
    use_config
    capture $M login --password-stdin </dev/null
    assert_eq 1 "$rc"
    assert_eq "the --password-stdin option requires --username to be set" "$out"
    capture $M login -u a -p x --password-stdin </dev/null
    assert_eq 1 "$rc"
    assert_eq "conflicting options: cannot specify both --password and --password-stdin" "$out"
    capture $M login -u "" localhost:5000 </dev/null
    assert_eq 1 "$rc"
    assert_eq "username is empty" "$out"
    capture $M login -u a --password= localhost:5000 </dev/null
    assert_eq 1 "$rc"
    assert_eq "password is empty" "$out"
    capture $M login a b
    assert_eq 1 "$rc"
    assert_contains "$out" "'mocker login' requires at most 1 argument"
    capture $M logout a b
    assert_eq 1 "$rc"
    assert_contains "$out" "'mocker logout' requires at most 1 argument"
    capture $M login --bogus
    assert_eq 125 "$rc"
    assert_contains "$out" "unknown flag: --bogus"
    out=$($M login --help)
    assert_contains "$out" "Usage:  mocker login [OPTIONS] [SERVER]"
    assert_contains "$out" "--password-stdin"
    [ ! -e "$DOCKER_CONFIG" ] || fail "a refused login created $DOCKER_CONFIG"
}

test_login_non_tty() {
    use_config
    msg="Error: Cannot perform an interactive login from a non TTY device"
    capture $M login localhost:5000 </dev/null
    assert_eq 1 "$rc"
    assert_eq "$msg" "$out"
    capture $M login -u someone localhost:5000 </dev/null
    assert_eq 1 "$rc"
    assert_eq "$msg" "$out"
    # An empty --password-stdin is no password: docker asks for one, and cannot.
    capture $M login -u someone --password-stdin localhost:5000 < <(printf '')
    assert_eq 1 "$rc"
    assert_eq "$msg" "$out"
    capture $M login </dev/null
    assert_eq 1 "$rc"
    assert_eq "$msg" "$out"
}

test_login_password_flag_warns() {
    use_config
    port=$(closed_port)
    capture $M login -u someone -p pw "127.0.0.1:$port" </dev/null
    assert_eq 1 "$rc"
    assert_eq "WARNING! Using --password via the CLI is insecure. Use --password-stdin." "$(head -1 <<<"$out")"
    assert_contains "$out" "Error"
    # A login the registry did not accept stores nothing.
    [ ! -e "$CFG" ] || fail "failed login wrote $(cat "$CFG")"
}

# The prompts, on a terminal: the username echoed, the password not.
test_login_prompts_on_tty() {
    use_config
    port=$(closed_port)
    out=$(python3 - "$M" "127.0.0.1:$port" <<'PY'
import os, pty, select, sys, termios, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "login", sys.argv[2]])
buf = b""
def read_until(want, t=10):
    global buf
    end = time.time() + t
    while want not in buf and time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                d = os.read(fd, 4096)
            except OSError:
                break
            if not d:
                break
            buf += d
read_until(b"Username: ")
buf += b"[echo=%d]" % bool(termios.tcgetattr(fd)[3] & termios.ECHO)
os.write(fd, b"someone\n")
read_until(b"Password: ")
buf += b"[echo=%d]" % bool(termios.tcgetattr(fd)[3] & termios.ECHO)
os.write(fd, b"hidden-pw\n")
read_until(b"\x00", 10)
_, st = os.waitpid(pid, 0)
print(buf.decode(errors="replace").replace("\r", ""))
print("rc=%d" % os.waitstatus_to_exitcode(st))
PY
)
    assert_contains "$out" "Username: [echo=1]someone"
    assert_contains "$out" "Password: [echo=0]"
    assert_not_contains "$out" "hidden-pw"
    assert_contains "$out" "rc=1"
    [ ! -e "$CFG" ] || fail "failed login wrote $(cat "$CFG")"
}

test_logout_not_logged_in() {
    use_config
    capture $M logout localhost:5000
    assert_eq 0 "$rc"
    assert_eq "Removing login credentials for localhost:5000" "$out"
    capture $M logout
    assert_eq 0 "$rc"
    assert_eq "Removing login credentials for https://index.docker.io/v1/" "$out"
    capture $M logout https://localhost:5000/v2/
    assert_eq "Removing login credentials for localhost:5000" "$out"
    [ ! -e "$DOCKER_CONFIG" ] || fail "logout created $DOCKER_CONFIG"
}

test_logout_removes_entry() {
    use_config
    mkdir -p "$DOCKER_CONFIG"
    cat >"$CFG" <<'EOF'
{
  "auths": {
    "reg.test:5000": {"auth": "dTpw"},
    "https://reg.test:5000": {"auth": "dTpw"},
    "keep.test": {"auth": "dTpw", "email": "e@x"},
    "https://index.docker.io/v1/": {"auth": "aHViOnB3"}
  },
  "psFormat": "table {{.ID}}",
  "somethingNew": {"nested": [1, true, null]}
}
EOF
    chmod 0644 "$CFG"
    capture $M logout reg.test:5000
    assert_eq 0 "$rc"
    assert_eq "Removing login credentials for reg.test:5000" "$out"
    python3 - "$CFG" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
assert sorted(c["auths"]) == ["https://index.docker.io/v1/", "keep.test"], c["auths"]
assert c["auths"]["keep.test"] == {"auth": "dTpw", "email": "e@x"}
assert c["psFormat"] == "table {{.ID}}"
assert c["somethingNew"] == {"nested": [1, True, None]}
PY
    assert_eq 600 "$(stat -c %a "$CFG")"
    $M logout >/dev/null
    python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["auths"]; assert list(a) == ["keep.test"], a' "$CFG"
    # The docker CLI reads what mocker wrote.
    if [ -x /usr/local/bin/docker ]; then
        /usr/local/bin/docker logout keep.test >/dev/null
        python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["auths"] == {}' "$CFG"
    fi
}

test_malformed_config_untouched() {
    use_config
    mkdir -p "$DOCKER_CONFIG"
    printf '{"auths": {"reg.test:5000": {"auth": "dTpw"}' >"$CFG"
    before=$(sha256sum <"$CFG")
    capture $M login reg.test:5000 </dev/null
    assert_eq 1 "$rc"
    assert_contains "$out" "$CFG"
    assert_contains "$out" "not valid JSON"
    capture $M logout reg.test:5000
    assert_eq 0 "$rc"
    assert_contains "$out" "WARNING: could not erase credentials"
    assert_contains "$out" "not valid JSON"
    assert_eq "$before" "$(sha256sum <"$CFG")"
}

# ---- against a real registry (Debian's docker-registry, htpasswd Basic over TLS) ----
#
# tools/registry-fixture start tls-basic DIR prints the registry's address
# (REG), its test CA (REG_CA) and a user (REG_USER, REG_PASS).
start_auth_registry() {
    REG_DIR=$(mktemp -d "$PWD/registry.XXXXXX")
    # the fixture's own output sets REG_DIR (to its directory): stop by a
    # name it does not touch
    login_registry=$REG_DIR/reg
    on_exit '"$REPO/tools/registry-fixture" stop "$login_registry" >/dev/null 2>&1'
    local vars
    vars=$("$REPO/tools/registry-fixture" start tls-basic "$login_registry") ||
        fail "registry-fixture start failed"
    eval "$vars"
    REGISTRY=$REG
    export MOCKER_ETC=$login_registry/etc
    mkdir -p "$MOCKER_ETC/certs.d/$REG"
    cp "$REG_CA" "$MOCKER_ETC/certs.d/$REG/ca.crt"
}

test_login_registry_password_stdin() {
    start_auth_registry
    use_config
    capture $M login -u "$REG_USER" --password-stdin "$REGISTRY" <<<"wrong"
    assert_eq 1 "$rc"
    assert_contains "$out" "Error response from daemon"
    [ ! -e "$CFG" ] || fail "refused login wrote $(cat "$CFG")"
    capture $M login -u "$REG_USER" --password-stdin "$REGISTRY" <<<"$REG_PASS"
    assert_eq 0 "$rc"
    assert_contains "$out" "Login Succeeded"
    assert_contains "$out" "WARNING! Your credentials are stored unencrypted in '$CFG'."
    assert_eq 600 "$(stat -c %a "$CFG")"
    auth=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["auths"][sys.argv[2]]["auth"])' "$CFG" "$REGISTRY")
    assert_eq "$REG_USER:$REG_PASS" "$(base64 -d <<<"$auth")"
    # Logged in, with stdin no terminal: the stored credentials are used.
    capture $M login "$REGISTRY" </dev/null
    assert_eq 0 "$rc"
    assert_contains "$out" "Authenticating with existing credentials... [Username: $REG_USER]"
    assert_contains "$out" "Login Succeeded"
    capture $M logout "$REGISTRY"
    assert_eq "Removing login credentials for $REGISTRY" "$out"
    capture $M login "$REGISTRY" </dev/null
    assert_eq 1 "$rc"
    assert_contains "$out" "Cannot perform an interactive login from a non TTY device"
}

test_login_registry_stale_credentials() {
    start_auth_registry
    use_config
    mkdir -p "$DOCKER_CONFIG"
    printf '{"auths": {"%s": {"auth": "%s"}}}' "$REGISTRY" "$(printf '%s' "$REG_USER:old" | base64)" >"$CFG"
    capture $M login "$REGISTRY" </dev/null
    assert_eq 1 "$rc"
    assert_contains "$out" "Stored credentials invalid or expired"
    assert_contains "$out" "Cannot perform an interactive login from a non TTY device"
}

test_login_registry_creds_store() {
    start_auth_registry
    use_config
    bin=$(mktemp -d "$PWD/helperbin.XXXXXX")
    cat >"$bin/docker-credential-fake" <<'PY'
#!/usr/bin/env python3
import json, os, sys
db = os.path.join(os.environ["FAKE_HELPER_DB"])
data = sys.stdin.read()
with open(db + ".log", "a") as f:
    f.write(sys.argv[1] + "\n")
store = json.load(open(db)) if os.path.exists(db) else {}
if sys.argv[1] == "store":
    c = json.loads(data); store[c["ServerURL"]] = c
elif sys.argv[1] == "get":
    if data not in store:
        print("credentials not found in native keychain"); sys.exit(1)
    print(json.dumps(store[data])); sys.exit(0)
elif sys.argv[1] == "erase":
    if store.pop(data, None) is None:
        print("credentials not found in native keychain"); sys.exit(1)
json.dump(store, open(db, "w"))
PY
    chmod +x "$bin/docker-credential-fake"
    export FAKE_HELPER_DB="$bin/db.json" PATH="$bin:$PATH"
    mkdir -p "$DOCKER_CONFIG"
    echo '{"credsStore": "fake"}' >"$CFG"
    capture $M login -u "$REG_USER" --password-stdin "$REGISTRY" <<<"$REG_PASS"
    assert_eq 0 "$rc"
    assert_not_contains "$out" "unencrypted"
    python3 - "$CFG" "$FAKE_HELPER_DB" "$REGISTRY" "$REG_USER" "$REG_PASS" <<'PY'
import json, sys
cfg, db, reg, user, pw = sys.argv[1:]
c = json.load(open(cfg))
assert c["credsStore"] == "fake" and c["auths"] == {reg: {}}, c
assert json.load(open(db))[reg] == {"ServerURL": reg, "Username": user, "Secret": pw}
PY
    capture $M login "$REGISTRY" </dev/null
    assert_eq 0 "$rc"
    assert_contains "$out" "Login Succeeded"
    $M logout "$REGISTRY" >/dev/null
    python3 -c 'import json,sys; assert sys.argv[2] not in json.load(open(sys.argv[1]))' "$FAKE_HELPER_DB" "$REGISTRY"
}

# Root editing someone else's docker config (sudo with their DOCKER_CONFIG)
# leaves it theirs, and writes through a fresh temp name only: a link planted
# in their directory under any name is never followed.
test_logout_keeps_the_config_owner() {
    use_config
    mkdir -p "$DOCKER_CONFIG"
    printf '{"auths": {"example.com": {"auth": "eDp5"}}, "other": 1}' >"$CFG"
    chown nobody:nogroup "$CFG" "$DOCKER_CONFIG"
    touch victim
    for pid in $(seq $$ $(($$ + 50))); do ln -sf "$PWD/victim" "$DOCKER_CONFIG/.config.json.tmp-$pid"; done
    capture $M logout example.com
    assert_eq 0 "$rc" "logout ($out)"
    assert_eq "nobody" "$(stat -c %U "$CFG")" "owner of config.json"
    [ -f "$CFG" ] && [ ! -L "$CFG" ] || fail "config.json is no longer a plain file"
    assert_eq "" "$(cat victim)" "a planted link was written through"
    assert_contains "$(cat "$CFG")" '"other": 1'
}
