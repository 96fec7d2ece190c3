# tests/compat/scenarios.sh: what tests/compat/run compares.  Each sc_* drives
# the engine $E on compat/busybox (from a fresh scratch directory) and removes
# what it created.  Keep output deterministic: no sizes that depend on the
# engine's store, no timing.
IMG=compat/busybox

# ---- run: the process environment docker gives a container ----
sc_run_echo() { $E run --rm --network none $IMG echo hello; }
sc_run_exit_codes() {
    for c in 0 1 42 255; do $E run --rm --network none $IMG sh -c "exit $c"; echo "code $?"; done
}
sc_run_missing_command() { $E run --rm --network none $IMG /nonexistent; }
sc_run_not_executable() { $E run --rm --network none $IMG /etc/passwd; }
sc_run_identity() {
    $E run --rm --network none $IMG sh -c 'echo $$; id; grep -E "^(CapEff|CapBnd|Seccomp|NoNewPrivs):" /proc/self/status'
}
sc_run_hostname_is_short_id() { $E run --rm --network none $IMG sh -c 'hostname | grep -cE "^[0-9a-f]{12}$"'; }
sc_run_env_defaults() { $E run --rm --network none $IMG env | grep -v '^HOSTNAME=' | sort; }
sc_run_user_workdir_env() {
    $E run --rm --network none -u app -w /tmp -e A=1 --env B=two $IMG sh -c 'id; pwd; echo $A $B'
}
sc_run_user_numeric() { $E run --rm --network none -u 1000:1000 $IMG id; }
sc_run_unknown_user() { $E run --rm --network none -u nobody-here $IMG true; }
sc_run_masked_paths() {
    $E run --rm --network none $IMG sh -c 'cat /proc/keys /proc/timer_list | wc -c; touch /proc/sys/kernel/x 2>&1 | head -1'
}
sc_run_read_only() { $E run --rm --network none --read-only $IMG touch /x; }
sc_run_tmpfs() { $E run --rm --network none --read-only --tmpfs /scratch $IMG sh -c 'touch /scratch/x && echo ok'; }
sc_run_cap_drop() { $E run --rm --network none --cap-drop ALL $IMG grep CapEff /proc/self/status; }
sc_run_privileged_caps() { $E run --rm --network none --privileged $IMG grep -E 'CapEff|Seccomp:' /proc/self/status; }
sc_run_dev() { $E run --rm --network none $IMG ls /dev; }
sc_run_mounts() { $E run --rm --network none $IMG sh -c "awk '{print \$2, \$3}' /proc/mounts | sort"; }
sc_run_ulimit() { $E run --rm --network none --ulimit nofile=512:1024 $IMG sh -c 'ulimit -n; ulimit -Hn'; }
sc_run_memory_oom() {
    $E run --network none --name compat-oom --memory 32m $IMG sh -c 'x=a; while :; do x=$x$x; done'
    echo "code $?"
    $E inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' compat-oom
    $E rm compat-oom >/dev/null
}
sc_run_bad_flag() { $E run --no-such-flag $IMG true; }
sc_run_missing_image() { $E run --rm --pull never --network none compat/no-such-image true; }
sc_run_init_pid1() { $E run --rm --network none --init $IMG sh -c 'cat /proc/1/comm'; }

# ---- lifecycle ----
sc_lifecycle_create_start_wait() {
    $E create --network none --name compat-c $IMG sh -c 'echo out; echo err >&2; exit 3' >/dev/null
    $E inspect -f '{{.State.Status}}' compat-c
    $E start -a compat-c
    echo "code $?"
    $E wait compat-c
    $E inspect -f '{{.State.Status}} {{.State.ExitCode}}' compat-c
    $E rm compat-c
}
sc_lifecycle_stop_kill() {
    $E run -d --network none --name compat-s $IMG sleep 100 >/dev/null
    $E stop -t 1 compat-s
    $E inspect -f '{{.State.Status}} {{.State.ExitCode}}' compat-s
    $E start compat-s
    $E kill -s USR1 compat-s
    $E wait compat-s
    $E kill compat-s
    echo "code $?"
    $E rm compat-s
}
sc_lifecycle_rm_running() {
    $E run -d --network none --name compat-r $IMG sleep 100 >/dev/null
    $E rm compat-r
    echo "code $?"
    $E rm -f compat-r
}
sc_lifecycle_name_conflict() {
    $E create --network none --name compat-n $IMG true >/dev/null
    $E create --network none --name compat-n $IMG true
    echo "code $?"
    $E rm compat-n
}
sc_lifecycle_missing_container() { $E stop compat-none; $E rm compat-none; $E inspect compat-none; }

# ---- inspection ----
sc_logs() {
    $E run --network none --name compat-l $IMG sh -c 'echo one; echo two >&2; echo three' >/dev/null 2>&1
    $E logs compat-l
    $E logs --tail 1 compat-l
    $E rm compat-l >/dev/null
}
sc_exec() {
    $E run -d --network none --name compat-e $IMG sleep 100 >/dev/null
    $E exec compat-e sh -c 'echo in; exit 7'
    echo "code $?"
    $E exec -u app -w /tmp compat-e sh -c 'id -u; pwd'
    $E exec compat-e /nonexistent
    echo "code $?"
    $E rm -f compat-e >/dev/null
}
sc_ps_format() {
    $E create --network none --name compat-p --label a=b $IMG true >/dev/null
    $E ps -a --filter name=compat-p --format '{{.Names}} {{.Image}} {{.Command}} {{.Status}} {{.Label "a"}}'
    $E ps -a --filter label=a=b --format '{{.Names}}'
    $E rm compat-p >/dev/null
}
sc_inspect_fields() {
    $E create --network none --name compat-i -e X=1 -w /tmp $IMG sh -c true >/dev/null
    $E inspect -f '{{.Name}} {{.Path}} {{.Args}} {{.Config.WorkingDir}} {{.State.Status}} {{.HostConfig.NetworkMode}}' compat-i
    $E rm compat-i >/dev/null
}

# ---- the rest of the container commands (issue 3) ----
sc_pause_unpause() {
    $E run -d --network none --name compat-pa $IMG sleep 100 >/dev/null
    $E pause compat-pa
    $E inspect -f '{{.State.Status}} {{.State.Paused}}' compat-pa
    $E unpause compat-pa
    $E inspect -f '{{.State.Status}} {{.State.Paused}}' compat-pa
    $E rm -f compat-pa >/dev/null
}
sc_rename() {
    $E create --network none --name compat-old $IMG true >/dev/null
    $E rename compat-old compat-new
    $E ps -a --filter name=compat- --format '{{.Names}}'
    $E rm compat-new >/dev/null
}
sc_diff() {
    $E run --network none --name compat-d $IMG sh -c 'echo x > /tmp/new; rm /etc/group' >/dev/null
    $E diff compat-d | sort
    $E rm compat-d >/dev/null
}
sc_cp_roundtrip() {
    mkdir -p src/sub && echo data >src/sub/f && ln -s sub/f src/link
    $E create --network none --name compat-cp $IMG true >/dev/null
    $E cp src compat-cp:/copied
    $E cp compat-cp:/copied back
    find back | sort
    cat back/sub/f
    $E rm compat-cp >/dev/null
}
sc_top() {
    $E run -d --network none --name compat-t $IMG sleep 100 >/dev/null
    $E top compat-t -o pid,comm | tail -n +2 | awk '{print $2}'
    $E rm -f compat-t >/dev/null
}
sc_restart_policy_on_failure() {
    $E run --network none --name compat-rp --restart on-failure:2 $IMG sh -c 'exit 1' >/dev/null
    sleep 3
    $E inspect -f '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}' compat-rp
    $E rm -f compat-rp >/dev/null
}
sc_commit() {
    $E run --network none --name compat-cm $IMG sh -c 'echo changed > /marker' >/dev/null
    $E commit -m msg compat-cm compat/committed >/dev/null
    $E run --rm --network none compat/committed cat /marker
    $E rm compat-cm >/dev/null
    $E rmi compat/committed >/dev/null
}
sc_export_import() {
    $E create --network none --name compat-x $IMG true >/dev/null
    $E export compat-x | tar -t | grep -c '^bin/busybox$'
    $E rm compat-x >/dev/null
}

# ---- every `docker container` subcommand has a scenario (issue 3) ----
sc_container_help_lists_all() {
    $E container --help | awk '/^Commands:/ {on=1; next} on && NF {print $1}' | sort
}
sc_attach() {
    $E run -d --network none --name compat-at $IMG sh -c 'sleep 1; echo late; exit 4' >/dev/null
    $E attach compat-at
    echo "code $?"
    $E attach compat-at
    echo "code $?"
    $E rm compat-at >/dev/null
}
sc_port_none() {
    $E create --network none --name compat-po $IMG true >/dev/null
    $E port compat-po
    echo "code $?"
    $E port compat-po 80/tcp
    echo "code $?"
    $E rm compat-po >/dev/null
}
sc_prune() {
    $E create --network none --name compat-pr1 --label compat=prune $IMG true >/dev/null
    $E run -d --network none --name compat-pr2 --label compat=prune $IMG sleep 100 >/dev/null
    $E container prune -f --filter label=compat=prune | grep -c '^[0-9a-f]\{64\}$'
    $E ps -a --filter label=compat=prune --format '{{.Names}}'
    $E rm -f compat-pr2 >/dev/null
}
sc_restart_cmd() {
    $E run -d --network none --name compat-rs $IMG sleep 100 >/dev/null
    $E restart -t 1 compat-rs
    $E inspect -f '{{.State.Status}} {{.RestartCount}}' compat-rs
    $E rm -f compat-rs >/dev/null
}
sc_stats_no_stream() {
    $E run -d --network none --name compat-st --memory 64m $IMG sleep 100 >/dev/null
    $E stats --no-stream --format '{{.Name}} {{.PIDs}}' compat-st
    $E stats --no-stream --format '{{.MemUsage}}' compat-st | sed 's/.* \/ //'
    $E rm -f compat-st >/dev/null
}
sc_update() {
    $E run -d --network none --name compat-up --memory 64m $IMG sleep 100 >/dev/null
    $E update --memory 128m --memory-swap 256m --pids-limit 50 compat-up
    $E inspect -f '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.PidsLimit}}' compat-up
    $E update --restart always compat-up
    $E inspect -f '{{.HostConfig.RestartPolicy.Name}}' compat-up
    $E rm -f compat-up >/dev/null
}
sc_ls_aliases() {
    $E create --network none --name compat-ls $IMG true >/dev/null
    $E container ls -a --filter name=compat-ls --format '{{.Names}}'
    $E container list -a --filter name=compat-ls --format '{{.Names}}'
    $E container rm compat-ls
}
sc_wait_codes() {
    $E run -d --network none --name compat-w1 $IMG sh -c 'exit 9' >/dev/null
    $E run -d --network none --name compat-w2 $IMG sh -c 'exit 0' >/dev/null
    $E wait compat-w1 compat-w2
    $E wait compat-none
    echo "code $?"
    $E rm compat-w1 compat-w2 >/dev/null
}
sc_logs_follow_timestamps() {
    $E run -d --network none --name compat-lf $IMG sh -c 'echo a; sleep 1; echo b' >/dev/null
    $E logs -f compat-lf
    $E logs -t compat-lf | sed -E 's/^[0-9T:.-]+Z /<TS> /'
    $E rm compat-lf >/dev/null
}
sc_healthcheck() {
    $E run -d --network none --name compat-hc --health-cmd 'exit 0' --health-interval 1s $IMG sleep 100 >/dev/null
    sleep 3
    $E inspect -f '{{.State.Health.Status}} {{.State.Health.FailingStreak}}' compat-hc
    $E ps --filter health=healthy --format '{{.Names}}'
    $E rm -f compat-hc >/dev/null
}
sc_save_load() {
    $E tag $IMG compat/saved:1
    $E save -o saved.tar compat/saved:1
    tar -tf saved.tar | grep -c '^manifest.json$'
    $E rmi compat/saved:1 >/dev/null
    $E load -i saved.tar
    $E run --rm --network none compat/saved:1 echo loaded
    $E save compat/saved:1 | $E load
    $E save compat/nosuch:1 >/dev/null
    $E save compat/nosuch >/dev/null
    echo bogus >bad.tar
    $E load -i bad.tar >/dev/null 2>&1
    echo "code $?"
    $E rmi compat/saved:1
}

# ---- images (issue 4): filters, rmi conflicts, prune ----
sc_images_filters() {
    $E tag $IMG compat/tagged:1 && $E tag $IMG example.com/compat/x:2
    $E images --format '{{.Repository}}:{{.Tag}}' --filter 'reference=compat/*' | sort
    $E images --format '{{.Repository}}:{{.Tag}}' --filter 'reference=*/compat/*'
    $E images --format '{{.Repository}}:{{.Tag}}' 'compat/tagged:[0-9]'
    $E images -q --filter dangling=true
    $E images --filter foo=bar; $E images --filter dangling=maybe; $E images --filter 'reference=['
    $E images --filter before=compat/none
    $E rmi compat/tagged:1 example.com/compat/x:2
}
sc_rmi_conflicts() {
    $E tag $IMG compat/rmi:1
    $E run --network none --name compat-rmi compat/rmi:1 sh -c 'echo x >/x'
    $E commit compat-rmi compat/rmi-child:1 >/dev/null
    $E rmi compat/rmi:1 compat/nosuch
    echo "code $?"
    $E rmi -f "$($E images -q compat/rmi-child:1)" | grep -c Deleted
    $E rm compat-rmi >/dev/null
    $E rmi compat/rmi-child:1 | grep -c Deleted
}
sc_image_prune() {
    echo n | $E image prune; echo
    $E image prune -f --filter foo=bar
    $E image prune -f --filter label=compat-none
}

# ---- volumes (issue 5) ----
# The peer dockerd is 20.10 (API 1.41): its prune takes every unused volume,
# docker 23+ (and mocker) only anonymous ones without -a, which 1.41 refuses:
# the prune scenario has anonymous volumes only, where both agree.
sc_volume_create_ls_inspect() {
    $E volume create --label a=b compat-v1
    $E volume create compat-v1
    $E volume ls --filter name=compat-v --format '{{.Driver}} {{.Name}} {{.Labels}} {{.Scope}}'
    $E volume ls -q --filter label=a=b
    $E volume inspect -f '{{.Name}} {{.Driver}} {{.Labels}} {{.Options}} {{.Scope}}' compat-v1
    $E volume inspect compat-nosuch; echo "code $?"
    $E volume create a/b; echo "code $?"
    $E volume create ..; echo "code $?"
    $E volume create x; echo "code $?"
    $E volume create -d compat-nodriver compat-v2; echo "code $?"
    $E volume rm compat-v1
}
sc_volume_rm_in_use() {
    $E create --network none --name compat-vu -v compat-vu:/data $IMG true >/dev/null
    $E volume rm compat-vu; echo "code $?"
    $E volume rm -f compat-vu; echo "code $?"
    $E volume rm compat-nosuch; echo "code $?"
    $E volume rm -f compat-nosuch; echo "code $?"
    $E volume ls -q --filter name=compat-vu --filter dangling=false
    $E rm compat-vu >/dev/null
    $E volume ls -q --filter name=compat-vu --filter dangling=true
    $E volume rm compat-vu
}
sc_volume_prune_spares_used() {
    # anonymous volumes only: one in use, one left by a container removed without -v
    $E create --network none --name compat-pr -v /data $IMG true >/dev/null
    $E run --network none --name compat-pr2 -v /data $IMG true
    $E rm compat-pr2 >/dev/null
    $E volume prune -f --filter label=compat-none
    $E volume prune -f
    $E volume ls -q --filter dangling=false | wc -l
    $E rm -v compat-pr >/dev/null
    $E volume ls -q | wc -l
}
sc_volume_data_survives() {
    $E run --network none --rm -v compat-data:/data $IMG sh -c 'echo kept >/data/f'
    $E run --network none --rm -v compat-data:/data:ro $IMG sh -c 'cat /data/f; touch /data/g 2>&1 | sed "s/.*: //"'
    $E run --network none --rm -v compat-etc:/etc $IMG true
    $E run --network none --rm -v compat-etc:/x $IMG ls /x/passwd
    $E volume rm compat-data compat-etc
}
sc_volume_inspect_mounts() {
    $E create --network none --name compat-mi -v compat-mi:/a:ro --mount type=volume,src=compat-mi2,dst=/b \
        --mount type=tmpfs,dst=/t $IMG true >/dev/null
    $E inspect -f '{{range .Mounts}}{{.Type}} {{.Destination}} {{.Mode}} {{.RW}} {{.Propagation}}{{if eq .Type "volume"}} {{.Name}} {{.Driver}}{{end}}|{{end}}' compat-mi |
        tr '|' '\n' | sort
    $E create --network none --mount type=volume,dst=/x,foo=bar $IMG true; echo "code $?"
    $E rm compat-mi >/dev/null
    $E volume rm compat-mi compat-mi2
}
