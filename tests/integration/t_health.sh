# t_health.sh: healthchecks: --health-* flags, the image's HEALTHCHECK, probes
# run by the monitor, State.Health in inspect, ps status and filter, events.

health() { # container
    $M inspect -f '{{.State.Health.Status}}' "$1"
}

is_health() { # container status
    [ "$(health "$1")" = "$2" ]
}

test_health_passing_turns_healthy() {
    $M run -d --name ok --health-cmd 'echo alive' --health-interval 200ms $IMG sleep 60 >/dev/null
    # The first probe comes an interval after the start.
    assert_eq starting "$(health ok)"
    assert_contains "$($M ps --format '{{.Status}}' -f name=ok)" "(health: starting)"
    wait_for 50 is_health ok healthy || fail "never healthy: $(health ok)"
    assert_contains "$($M ps --format '{{.Status}}' -f name=ok)" "(healthy)"
    assert_eq 0 "$($M inspect -f '{{.State.Health.FailingStreak}}' ok)"
    assert_eq "0 alive" "$($M inspect -f '{{with index .State.Health.Log 0}}{{.ExitCode}} {{.Output}}{{end}}' ok)"
    assert_eq '{"Test":["CMD-SHELL","echo alive"],"Interval":200000000}' \
        "$($M inspect -f '{{json .Config.Healthcheck}}' ok)"
    # the event docker sends (read from the store until `events` exists)
    id=$($M inspect -f '{{.Id}}' ok)
    assert_contains "$(sqlite3 "$MOCKER_ROOT/mocker.db" "SELECT action FROM events WHERE actor_id = '$id'")" \
        "health_status: healthy"
    $M rm -f ok >/dev/null
}

test_health_failing_turns_unhealthy() {
    $M run -d --name flaky --health-cmd 'echo probing; test -e /tmp/ok' --health-interval 200ms \
        --health-retries 2 $IMG sh -c 'touch /tmp/ok; exec sleep 60' >/dev/null
    wait_for 50 is_health flaky healthy || fail "never healthy: $(health flaky)"
    $M exec flaky rm /tmp/ok
    wait_for 50 is_health flaky unhealthy || fail "never unhealthy: $(health flaky)"
    streak=$($M inspect -f '{{.State.Health.FailingStreak}}' flaky)
    [ "$streak" -ge 2 ] || fail "failing streak $streak"
    assert_eq "1 probing" "$($M inspect -f '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}' flaky | grep . | tail -1)"
    # docker keeps the last five results
    sleep 1.2
    assert_eq 5 "$($M inspect -f '{{len .State.Health.Log}}' flaky)"
    assert_contains "$($M ps --format '{{.Status}}' -f name=flaky)" "(unhealthy)"
    # and recovers on the next success
    $M exec flaky touch /tmp/ok
    wait_for 50 is_health flaky healthy || fail "never healthy again: $(health flaky)"
    assert_eq 0 "$($M inspect -f '{{.State.Health.FailingStreak}}' flaky)"
    $M rm -f flaky >/dev/null
}

test_health_timeout() {
    $M run -d --name slow --health-cmd 'echo started; sleep 10' --health-interval 200ms \
        --health-timeout 300ms --health-retries 1 $IMG sleep 60 >/dev/null
    wait_for 50 is_health slow unhealthy || fail "never unhealthy: $(health slow)"
    assert_eq "-1 Health check exceeded timeout (300ms): started" \
        "$($M inspect -f '{{with index .State.Health.Log 0}}{{.ExitCode}} {{.Output}}{{end}}' slow)"
    # The timed-out probes were killed, not left to pile up.
    sleep 0.5
    n=$($M exec slow ps | grep -c 'sleep 10' || true)
    [ "$n" -le 1 ] || fail "$n probes still running"
    $M rm -f slow >/dev/null
}

test_health_start_period() {
    # Failures within the start period do not count while still starting.
    $M run -d --name warm --health-cmd false --health-interval 200ms --health-retries 1 \
        --health-start-period 30s --health-start-interval 200ms $IMG sleep 60 >/dev/null
    wait_for 50 sh -c "[ \$($M inspect -f '{{len .State.Health.Log}}' warm) -ge 2 ]" || fail "no probes"
    assert_eq "starting 0" "$($M inspect -f '{{.State.Health.Status}} {{.State.Health.FailingStreak}}' warm)"
    $M rm -f warm >/dev/null
}

test_health_exec_form_user_and_workdir() {
    # CMD form: argv as given, no shell; the probe runs as the container's user in its workdir.
    $M run -d --name form -u 1000 -w /tmp --health-cmd 'true' --health-interval 200ms $IMG sleep 60 >/dev/null
    wait_for 50 is_health form healthy || fail "never healthy"
    $M rm -f form >/dev/null
    id=$($M create --health-cmd 'id -u; pwd; echo "$0"' --health-interval 200ms -u 1000 -w /tmp $IMG sleep 60)
    $M start "$id" >/dev/null
    wait_for 50 is_health "$id" healthy || fail "never healthy"
    assert_eq "1000
/tmp
/bin/sh" "$($M inspect -f '{{with index .State.Health.Log 0}}{{.Output}}{{end}}' "$id")"
    $M rm -f "$id" >/dev/null
}

test_health_stop_and_restart() {
    $M run -d --name cycle --health-cmd true --health-interval 200ms $IMG sleep 60 >/dev/null
    wait_for 50 is_health cycle healthy || fail "never healthy"
    $M stop -t 0 cycle >/dev/null
    # docker: unhealthy once the checks stopped, the log kept
    assert_eq unhealthy "$(health cycle)"
    n=$($M inspect -f '{{len .State.Health.Log}}' cycle)
    sleep 0.6
    assert_eq "$n" "$($M inspect -f '{{len .State.Health.Log}}' cycle)" "no probes after the exit"
    assert_contains "$($M ps -a --format '{{.Status}}' -f name=cycle)" "Exited"
    $M start cycle >/dev/null
    assert_eq starting "$(health cycle)"
    wait_for 50 is_health cycle healthy || fail "never healthy after restart"
    $M rm -f cycle >/dev/null
}

test_health_ps_filter() {
    $M run -d --name fh-good --health-cmd true --health-interval 200ms $IMG sleep 60 >/dev/null
    $M run -d --name fh-bad --health-cmd false --health-interval 200ms --health-retries 1 $IMG sleep 60 >/dev/null
    $M run -d --name fh-none $IMG sleep 60 >/dev/null
    $M run -d --name fh-slow --health-cmd true --health-interval 1h $IMG sleep 60 >/dev/null
    wait_for 50 is_health fh-good healthy || fail "fh-good"
    wait_for 50 is_health fh-bad unhealthy || fail "fh-bad"
    assert_eq fh-good "$($M ps --filter health=healthy -f name=fh- --format '{{.Names}}')"
    assert_eq fh-bad "$($M ps --filter health=unhealthy -f name=fh- --format '{{.Names}}')"
    assert_eq fh-slow "$($M ps --filter health=starting -f name=fh- --format '{{.Names}}')"
    assert_eq fh-none "$($M ps --filter health=none -f name=fh- --format '{{.Names}}')"
    capture $M ps --filter health=bogus
    assert_eq 1 "$rc"
    assert_contains "$out" "Unrecognised filter value for health: bogus"
    $M rm -f fh-good fh-bad fh-none fh-slow >/dev/null
}

test_health_from_image_and_no_healthcheck() {
    $M import --change 'HEALTHCHECK --interval=200ms --retries=1 CMD ["sh", "-c", "exit 3"]' \
        "$IMAGE_TAR" hc-image >/dev/null
    $M run -d --name img $IMG sleep 60 >/dev/null
    assert_eq "null" "$($M inspect -f '{{json .State.Health}}' img)" "no healthcheck"
    $M rm -f img >/dev/null
    $M run -d --name img hc-image sleep 60 >/dev/null
    wait_for 50 is_health img unhealthy || fail "image healthcheck did not run"
    assert_eq 3 "$($M inspect -f '{{with index .State.Health.Log 0}}{{.ExitCode}}{{end}}' img)"
    $M rm -f img >/dev/null
    # flags override the image's fields one by one
    $M run -d --name img --health-cmd true hc-image sleep 60 >/dev/null
    assert_eq '{"Test":["CMD-SHELL","true"],"Interval":200000000,"Retries":1}' \
        "$($M inspect -f '{{json .Config.Healthcheck}}' img)"
    wait_for 50 is_health img healthy || fail "override did not run"
    $M rm -f img >/dev/null
    $M run -d --name img --no-healthcheck hc-image sleep 60 >/dev/null
    # docker merges the other fields even under NONE
    assert_eq '{"Test":["NONE"],"Interval":200000000,"Retries":1}' \
        "$($M inspect -f '{{json .Config.Healthcheck}}' img)"
    sleep 0.5
    assert_eq "null" "$($M inspect -f '{{json .State.Health}}' img)"
    assert_eq img "$($M ps --filter health=none -f name=img --format '{{.Names}}')"
    $M rm -f img >/dev/null
    $M rmi hc-image >/dev/null
}

test_health_probe_cannot_start() {
    $M import --change 'HEALTHCHECK --interval=200ms --retries=1 CMD ["nope"]' "$IMAGE_TAR" hc-nope >/dev/null
    $M run -d --name nope hc-nope sleep 60 >/dev/null
    wait_for 50 is_health nope unhealthy || fail "never unhealthy: $(health nope)"
    assert_eq '-1 OCI runtime exec failed: exec failed: unable to start container process: exec: "nope": executable file not found in $PATH: unknown' \
        "$($M inspect -f '{{with index .State.Health.Log 0}}{{.ExitCode}} {{.Output}}{{end}}' nope)"
    $M rm -f nope >/dev/null
    $M rmi hc-nope >/dev/null
}

test_health_flag_errors() {
    before=$($M ps -aq | wc -l)
    capture $M run --no-healthcheck --health-interval 1s $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "--no-healthcheck conflicts with --health-* options"
    capture $M run --health-interval -1s $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "--health-interval cannot be negative"
    capture $M create --health-retries -1 $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "--health-retries cannot be negative"
    capture $M run --health-timeout 1ns $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" "Timeout in Healthcheck cannot be less than 1ms"
    capture $M run --health-interval bogus $IMG true
    assert_eq 125 "$rc"
    assert_contains "$out" 'invalid argument "bogus" for "--health-interval" flag: time: invalid duration "bogus"'
    assert_eq "$before" "$($M ps -aq | wc -l)" "nothing created"
}
