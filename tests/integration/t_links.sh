# t_links.sh: docker's legacy links (--link NAME[:ALIAS]) on the default
# bridge: the /etc/hosts entry and the environment docker gives, checked
# against dockerd 20.10's variables for the same link.

test_link_hosts_and_env() {
    $M run -d --name web -e FOO=bar --expose 80 $IMG sleep 60 >/dev/null
    web_ip=$($M inspect -f '{{.NetworkSettings.IPAddress}}' web)
    [ -n "$web_ip" ] || fail "web has no address on the bridge"
    web_id=$($M inspect -f '{{.Id}}' web)
    capture $M run --rm --name client --link web:db $IMG sh -c \
        'grep -w db /etc/hosts; env | grep ^DB_ | sort; ping -c1 -W2 db >/dev/null && echo reached'
    assert_eq 0 "$rc" "run with a link: $out"
    assert_eq "$web_ip	db ${web_id:0:12} web
DB_ENV_FOO=bar
DB_NAME=/client/db
DB_PORT=tcp://$web_ip:80
DB_PORT_80_TCP=tcp://$web_ip:80
DB_PORT_80_TCP_ADDR=$web_ip
DB_PORT_80_TCP_PORT=80
DB_PORT_80_TCP_PROTO=tcp
reached" "$out"
    # Stored as docker stores it; the alias defaults to the name.
    id=$($M create --name c2 --link web $IMG true)
    assert_eq '["/web:/c2/web"]' "$($M inspect -f '{{json .HostConfig.Links}}' c2)"
    $M rm c2 >/dev/null
    $M rm -f web >/dev/null
}

test_link_errors() {
    capture $M run --rm --link nope:x $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "could not get container for nope"
    $M create --name stopped $IMG true >/dev/null
    capture $M run --rm --link stopped:s $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "Cannot link to a non running container: /stopped AS "
    capture $M run --rm --network none --link stopped $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "default bridge network only"
    $M rm stopped >/dev/null
}
