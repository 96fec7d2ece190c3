/* engine.h: the operations behind every front end.
 *
 * cli/ (argv) and, later, api/ (HTTP) call these and nothing below them, so
 * `mocker rm x` and `DELETE /containers/x` are the same code.  Inputs use the
 * Engine API's JSON shapes (the create body is docker's ContainerConfig with a
 * HostConfig inside), so the API can hand its request bodies straight in. */
#ifndef MK_ENGINE_H
#define MK_ENGINE_H

#include "network/network.h"
#include "store/store.h"
#include "util/tarfs.h"

struct mk_engine {
    struct mk_store *store;
    char *self_exe;  /* re-executed as the monitor */
    char *init_path; /* the static init for --init */
};

int mk_engine_open(struct mk_engine **out, mk_err **err);
void mk_engine_free(struct mk_engine *e);

/* ---- containers (engine/container_*.c) ---- */
/* Create from a docker create body; name may be NULL (a random one is picked).
 * *out_id gets the full id. Warnings (may be NULL) receives an array of strings. */
int mk_container_create(struct mk_engine *e, const char *name, const json_t *body, char **out_id,
                        json_t **warnings, mk_err **err);
/* The same for --platform (the API's ?platform=; NULL: none): an image of
 * another platform is NOT_FOUND, dockerd's "image with reference x was found
 * but does not match the specified platform: wanted ..., actual: ...".
 * Without one, an image the host cannot run natively adds docker's warning. */
struct mk_platform;
int mk_container_create_platform(struct mk_engine *e, const char *name,
                                 const struct mk_platform *platform, const json_t *body,
                                 char **out_id, json_t **warnings, mk_err **err);
/* An --add-host entry, "host:ip" (or host=ip; ip may be IPv6 or
 * "host-gateway"); INVALID with docker's wording.  host and ip may be NULL. */
int mk_extra_host_parse(const char *entry, char **host, char **ip, mk_err **err);
/* docker port: "80/tcp -> 0.0.0.0:8080" lines, or "0.0.0.0:8080" for one
 * private port ("80" is 80/tcp); NOT_FOUND "No public port '80/tcp'
 * published for REF" when that one is not published. */
int mk_container_port_lines(struct mk_engine *e, const char *ref, const char *private_port,
                            char ***out, mk_err **err);
/* docker's `-p` syntax, [ip:][hostPort[-end]:]containerPort[-end][/proto],
 * added to HostConfig.PortBindings and Config.ExposedPorts (engine/ports.c);
 * the docker CLI's errors. */
int mk_port_spec_parse(const char *raw, json_t *bindings, json_t *exposed, mk_err **err);
/* `--expose port[-end][/proto]` into Config.ExposedPorts. */
int mk_expose_parse(const char *raw, json_t *exposed, mk_err **err);
/* --device HOST[:CONTAINER][:PERMS] as the docker CLI takes it, into a
 * HostConfig.Devices entry {PathOnHost, PathInContainer, CgroupPermissions};
 * docker's errors ("bad mode specified: x", "x is not an absolute path"). */
int mk_device_mapping_parse(const char *spec, json_t **out, mk_err **err);
/* A --device-cgroup-rule ("c 1:3 rwm", "a *:* rwm") as an OCI
 * linux.resources.devices rule ("*" is -1); docker's daemon error. */
int mk_device_cgroup_rule_parse(const char *rule, json_t **out, mk_err **err);

/* Start: spawn the monitor and wait until the process runs.  When attach_fd is
 * not NULL, the connection to the monitor is kept and returned there (the CLI
 * relays the container's stdio over it with mk_attach_client); the monitor
 * then treats it as the container's first attached client.  Starting a running
 * container is NOT_MODIFIED. */
int mk_container_start(struct mk_engine *e, const char *ref, int *attach_fd, mk_err **err);
/* `run`'s path.  mk_engine_monitor_fork, called before any store is opened
 * (an SQLite connection must not cross a fork), forks the container's monitor
 * at once: it opens the store and, with netns, makes the container's network
 * namespace (with firewall, ports to publish, it loads the firewall's
 * library) while the CLI is still parsing.  mk_engine_run_create has it create
 * the container (mk_container_create_platform's arguments and results, and
 * whether the CLI will attach); mk_engine_run_start has it start the
 * container (at once after the create when the request says so: the CLI has
 * nothing to do between, no cidfile to write) and returns the init's pid
 * (monitor_fd then carries the attached streams).  Closing monitor_fd instead
 * makes the monitor exit; a container created stays, as after `create`.  The
 * CLI needs no store of its own. */
int mk_engine_monitor_fork(int *monitor_fd, bool netns, bool firewall, mk_err **err);
struct mk_run_create {
    const char *name;     /* NULL: a random one */
    const char *platform; /* --platform as given, NULL: none */
    const json_t *body;   /* docker's create body */
    bool attach;          /* the CLI attaches: docker's "attach" event before "start" */
    bool at_once;         /* start right after the create, without a START frame */
};
int mk_engine_run_create(int monitor_fd, const struct mk_run_create *req, char **id,
                         json_t **warnings, mk_err **err);
int mk_engine_run_start(int monitor_fd, const struct mk_run_create *req, const char *id,
                        pid_t *pid, mk_err **err);
/* Stop: the stop signal, then SIGKILL after timeout seconds (-1: the
 * container's StopTimeout or 10).  A container that is not running is NOT_MODIFIED. */
int mk_container_stop(struct mk_engine *e, const char *ref, int timeout, const char *signal,
                      mk_err **err);
int mk_container_kill(struct mk_engine *e, const char *ref, const char *signal, mk_err **err);
/* Remove; a running container needs force (killed first).  remove_volumes is
 * accepted for -v (anonymous volumes come with the volumes issue). */
int mk_container_remove(struct mk_engine *e, const char *ref, bool force, bool remove_volumes,
                        mk_err **err);
/* pause/unpause: freeze or thaw every process of a running container
 * (engine/container_pause.c).  Errors are docker's ("is not running", "is
 * already paused", "is not paused"), CONFLICT. */
int mk_container_pause(struct mk_engine *e, const char *ref, mk_err **err);
int mk_container_unpause(struct mk_engine *e, const char *ref, mk_err **err);
/* stats: samples of what docker stats shows (engine/container_stats.c).
 * A container that is not running gives zeros.  CPU % needs two samples:
 * (cpu_ns delta / system_ns delta) * online_cpus * 100, as docker computes it. */
struct mk_container_stats {
    bool running;
    uint64_t cpu_ns;    /* CPU time the container used */
    uint64_t system_ns; /* the host's CPU time (all CPUs), /proc/stat */
    int64_t sampled_ns; /* CLOCK_MONOTONIC when the round was read */
    int online_cpus;
    int64_t mem_usage; /* without the inactive file cache */
    int64_t mem_limit; /* the cgroup's limit, or the host's memory */
    int64_t net_rx, net_tx;
    int64_t blk_read, blk_write;
    int64_t pids;
};
/* A sampler over n containers (borrowed: they outlive it).  Each round reads
 * the host's figures once for all of them, as dockerd's collector does, and a
 * container's cgroup path is looked up once, not per round. */
struct mk_stats_sampler;
struct mk_stats_sampler *mk_stats_sampler_new(struct mk_engine *e, struct mk_container *const *c,
                                              size_t n);
/* One round: out[i] is the sample of the sampler's i-th container. */
int mk_stats_sample(struct mk_stats_sampler *s, struct mk_container_stats *out, mk_err **err);
void mk_stats_sampler_free(struct mk_stats_sampler *s);
/* The sampler's i-th container now, in dockerd's stats JSON (read, pids_stats,
 * blkio_stats, cpu_stats, memory_stats, networks, name, id...); preread and
 * precpu_stats are zero: they are the previous sample's, the caller's to set.
 * A container that is not running gives mk_stats_zero_json's. */
int mk_stats_sample_json(struct mk_stats_sampler *s, size_t i, json_t **out, mk_err **err);
/* dockerd's stats of a container it has none for: zeros with its name and id. */
json_t *mk_stats_zero_json(const struct mk_container *c);
/* top: the host's `ps ps_args` (NULL: -ef) rows for the container's processes,
 * as dockerd's {"Titles":[...],"Processes":[[...]]} (engine/container_top.c). */
int mk_container_top(struct mk_engine *e, const char *ref, char *const *ps_args, json_t **out,
                     mk_err **err);
/* update: merge changes (docker's update body: Memory, MemorySwap,
 * MemoryReservation, NanoCpus, CpuShares, CpuPeriod, CpuQuota, CpusetCpus,
 * CpusetMems, PidsLimit, BlkioWeight, RestartPolicy) into the stored HostConfig,
 * validated as create does, and apply them to a running container's cgroup. */
int mk_container_update(struct mk_engine *e, const char *ref, const json_t *changes, mk_err **err);
/* Block until the container is not running; *exit_code is its exit code. */
int mk_container_wait(struct mk_engine *e, const char *ref, int *exit_code, mk_err **err);
/* docker's wait conditions: not-running is mk_container_wait; next-exit waits
 * for the next exit even of a stopped container (for it to be started and
 * to stop); removed waits for that exit and then for the container to be
 * removed (a --rm container's monitor removes it). */
enum mk_wait_condition { MK_WAIT_NOT_RUNNING, MK_WAIT_NEXT_EXIT, MK_WAIT_REMOVED };
/* "not-running", "next-exit", "removed" ("" or NULL: not-running); INVALID otherwise. */
int mk_wait_condition_parse(const char *s, enum mk_wait_condition *out, mk_err **err);
/* ready (may be NULL) is called once the container is found and the wait set
 * up, before blocking: the API answers its headers there, and a client that
 * starts the container after that point is sure to be seen. */
int mk_container_wait_condition(struct mk_engine *e, const char *ref, enum mk_wait_condition cond,
                                void (*ready)(void *arg), void *arg, int *exit_code,
                                mk_err **err);
/* docker logs: each json-file entry of the container's log (mk_log_read's
 * options; still_running is filled in here) to fn.  A container whose log
 * driver is "none" is INVALID with dockerd's wording. */
struct mk_log_read_opts;
/* Whether c's log can be read: INVALID "configured logging driver does not
 * support reading" for the "none" driver. */
int mk_container_logs_readable(const struct mk_container *c, mk_err **err);
int mk_container_logs(struct mk_engine *e, const char *ref, struct mk_log_read_opts *opts,
                      int (*fn)(void *ctx, const char *stream, int64_t time_ns, const char *data,
                                size_t len),
                      void *fn_ctx, mk_err **err);
/* docker's `tail` value ("all", "" or a count; negative is all) as a count
 * (-1: all); INVALID, dockerd's "invalid value for \"tail\": \"x\"". */
int mk_log_tail_parse(const char *s, int64_t *out, mk_err **err);
/* Look up a container, reconciling a state whose monitor died. */
int mk_container_get(struct mk_engine *e, const char *ref, struct mk_container **out,
                     mk_err **err);
int mk_container_list(struct mk_engine *e, struct mk_container ***out, size_t *n, mk_err **err);
/* docker inspect's JSON for a container. */
json_t *mk_container_inspect_json(struct mk_engine *e, const struct mk_container *c);
/* Parts of it that the container list shows too (without inspect's image
 * and health lookups): Mounts and NetworkSettings. */
json_t *mk_container_mounts_json(const struct mk_container *c);
json_t *mk_container_network_settings_json(struct mk_engine *e, const struct mk_container *c);
/* Its Networks alone, and the monitor's network state (Ports...; NULL when
 * not running) in *state; both the caller's. */
json_t *mk_container_networks_json(struct mk_engine *e, const struct mk_container *c,
                                   json_t **state);
/* Path of the container's json-file log. */
char *mk_container_log_path(struct mk_engine *e, const struct mk_container *c);
bool mk_container_is_running(const struct mk_container *c);

/* Attach: *fd is a new connection to the monitor of the running container c
 * (relay it with mk_attach_client); records docker's "attach" event.  A
 * container that is not running is CONFLICT with docker's wording. */
int mk_container_attach(struct mk_engine *e, const struct mk_container *c, int *fd, mk_err **err);
/* Set the size of a running container's terminal (docker resize); CONFLICT
 * when it does not run.  Without a tty the monitor ignores it, as dockerd does. */
int mk_container_resize(struct mk_engine *e, const char *ref, unsigned rows, unsigned cols,
                        mk_err **err);
/* Rename, with docker's checks (valid, different, free); records "rename". */
int mk_container_rename(struct mk_engine *e, const char *ref, const char *new_name, mk_err **err);
/* Remove stopped containers created before until_ns (0: any) whose labels
 * match every label filter ("k", "k=v", "label!=..." as negate).  Ids of the
 * removed containers go to *ids, *reclaimed is the bytes of their upper dirs. */
struct mk_prune_filter {
    int64_t until_ns;
    char **labels;     /* label=k / label=k=v: all must match */
    char **not_labels; /* label!=k / label!=k=v: none may match */
};
/* docker's prune filters ("until=10m", "label=k=v", "label!=k") into f
 * (owning its lists); others are INVALID, "Invalid filter 'key'". */
int mk_prune_filter_parse(struct mk_prune_filter *f, char *const *kv, mk_err **err);
void mk_prune_filter_clear(struct mk_prune_filter *f);
int mk_container_prune(struct mk_engine *e, const struct mk_prune_filter *f, char ***ids,
                       int64_t *reclaimed, mk_err **err);
/* Bytes in the container's writable layer (its overlay upper dir). */
int64_t mk_container_rw_size(struct mk_engine *e, const struct mk_container *c);
/* Record a container event with docker's attributes: the container's labels,
 * image and name, plus extra (strings, may be NULL). */
void mk_container_event(struct mk_engine *e, const struct mk_container *c, const char *action,
                        const json_t *extra);

/* ---- system (engine/system.c) ---- */
/* Go's name for a uname machine ("x86_64" -> "amd64"). */
const char *mk_go_arch(const char *machine);
/* GET /version's object (docker version's Server part). */
json_t *mk_engine_version_json(void);
/* GET /info's object (docker info's Server part). */
int mk_engine_info_json(struct mk_engine *e, json_t **out, mk_err **err);

/* GET /system/df's object (engine/system_df.c): LayersSize and Images[]
 * (ImageSummary with Size, SharedSize, Containers), Containers[]
 * (ContainerSummary with SizeRw/SizeRootFs), Volumes[] (with UsageData),
 * BuildCache (null: mocker keeps no build cache) and BuilderSize: those of
 * the MK_DF_ types asked for. */
enum {
    MK_DF_CONTAINERS = 1,
    MK_DF_IMAGES = 2,
    MK_DF_VOLUMES = 4,
    MK_DF_BUILD_CACHE = 8,
    MK_DF_ALL = 15,
};
int mk_system_df(struct mk_engine *e, unsigned types, json_t **out, mk_err **err);

/* ---- listing containers (engine/container_list.c): docker ps and GET /containers/json ---- */
struct mk_container_filters {
    char **id, **name, **label, **status, **ancestor, **health;
};
/* One docker filter key=value; docker's keys mocker does not filter on yet are
 * UNSUPPORTED, unknown keys INVALID ("Invalid filter 'x'"). */
int mk_container_filters_add(struct mk_container_filters *f, const char *key, const char *value,
                             mk_err **err);
/* The same from "key=value" strings (the CLI's --filter). */
int mk_container_filters_parse(struct mk_container_filters *f, char *const *kv, mk_err **err);
void mk_container_filters_clear(struct mk_container_filters *f);
struct mk_container_row {
    struct mk_container *c;
    char *health; /* starting|healthy|unhealthy, NULL without a healthcheck */
};
/* docker's selection, newest first: running ones unless all (a status filter
 * or a limit implies all), at most limit (<0: no limit). */
int mk_container_select(struct mk_engine *e, const struct mk_container_filters *f, bool all,
                        long limit, struct mk_container_row **out, size_t *n, mk_err **err);
void mk_container_rows_free(struct mk_container_row *rows, size_t n);
/* docker's Status column: "Up 2 minutes (healthy)", "Exited (0) 3 seconds ago"... */
char *mk_container_status_text(const struct mk_container *c, const char *health, int64_t now);
/* The Engine API's ContainerSummary (GET /containers/json); size adds SizeRw
 * and SizeRootFs. */
json_t *mk_container_summary_json(struct mk_engine *e, const struct mk_container_row *row,
                                  bool size);
/* Bytes of the container's writable layer and of that plus its image. */
void mk_container_sizes(struct mk_engine *e, const struct mk_container *c, int64_t *rw,
                        int64_t *root_fs);

/* ---- volumes (engine/volume.c) ---- */
struct mk_volume_create_opts {
    const char *name;   /* NULL or "": a random 64-hex name */
    const char *driver; /* NULL: "local", the only one */
    json_t *labels;     /* object of strings (borrowed), may be NULL */
    json_t *options;    /* -o, object of strings (borrowed), may be NULL */
    bool anonymous;
};
/* docker volume create: a name that exists gives that volume back. */
int mk_volume_create(struct mk_engine *e, const struct mk_volume_create_opts *o,
                     struct mk_volume **out, mk_err **err);
int mk_volume_get(struct mk_engine *e, const char *name, struct mk_volume **out, mk_err **err);
/* [a-zA-Z0-9][a-zA-Z0-9_.-]+: nothing that can leave the volumes directory. */
bool mk_volume_name_valid(const char *name);
/* The DIR of a volume made with -o type=none -o o=bind -o device=DIR (borrowed
 * from opts), NULL for any other options. */
const char *mk_volume_bind_device(const json_t *opts);
/* <root>/volumes/<name>/_data (new string). */
char *mk_volume_data_path(struct mk_engine *e, const char *name);
/* docker volume inspect's object. */
json_t *mk_volume_inspect_json(struct mk_engine *e, const struct mk_volume *v);
/* docker volume rm: a volume some container (any state) uses is CONFLICT,
 * "remove NAME: volume is in use - [ID]", force or not; force ignores a
 * missing one. */
int mk_volume_remove(struct mk_engine *e, const char *name, bool force, mk_err **err);
/* mk_volume_remove for a caller already holding mk_store_lock_volumes (create
 * undoing the volumes it made). */
int mk_volume_discard(struct mk_engine *e, const char *name, mk_err **err);
/* label filters as docker's: "k" or "k=v", all of want and none of not_want. */
bool mk_volume_labels_match(const json_t *labels, char *const *want, char *const *not_want);
/* docker volume prune (API >= 1.42): unused anonymous volumes, all unused
 * ones with all; *names the removed, *reclaimed their bytes. */
int mk_volume_prune(struct mk_engine *e, bool all, char *const *labels, char *const *not_labels,
                    char ***names, int64_t *reclaimed, mk_err **err);
/* docker volume ls / GET /volumes (engine/volume_list.c): the volumes that
 * match filters ("key=value": name, driver, label, label!, dangling). */
int mk_volume_select(struct mk_engine *e, char *const *filters, struct mk_volume ***out,
                     size_t *n, mk_err **err);
/* docker volume prune's filters: label, label! and all (API >= 1.42: named
 * volumes too); *labels and *not_labels are new. */
int mk_volume_prune_filters(char *const *filters, bool *all, char ***labels, char ***not_labels,
                            mk_err **err);

/* ---- networks (engine/network.c) ---- */
/* docker network create, after the CLI has paired each --gateway and
 * --ip-range with its --subnet: NULL strings are "not given". */
struct mk_network_create_opts {
    const char *name;
    const char *driver; /* NULL or "": bridge, the only driver mocker has */
    const char *subnet, *gateway, *ip_range;
    bool internal, attachable, ipv6;
    json_t *labels;  /* object of strings (borrowed), may be NULL */
    json_t *options; /* -o, object of strings (borrowed), may be NULL */
};
/* Validate as dockerd does, pick a subnet clear of the host's routes and of
 * every other network when none is given, record the network and make its
 * Linux bridge (up, with the gateway address). */
int mk_network_create(struct mk_engine *e, const struct mk_network_create_opts *o,
                      struct mk_network **out, mk_err **err);
/* Resolve ref (id, name, id prefix) with the store's wording. */
int mk_network_get(struct mk_engine *e, const char *ref, struct mk_network **out, mk_err **err);
/* What the container side calls before attaching a container: resolve ref and
 * make sure the network can take it now: for `bridge`, the first call picks
 * and stores its subnet (daemon.json "bip", else a free one) and bridge name
 * (daemon.json "bridge", else mocker0); for a bridge network, its Linux bridge
 * is (re)made when missing (after a reboot) and IPv4 forwarding is on. */
int mk_network_ensure(struct mk_engine *e, const char *ref, struct mk_network **out, mk_err **err);
/* The IPv4 side of a bridge network's config, parsed.  INVALID for a network
 * without a subnet (host, none, bridge before mk_network_ensure). */
struct mk_network_ipv4 {
    struct mk_ipv4_net subnet;
    uint32_t gateway;
    struct mk_ipv4_net range; /* --ip-range; the subnet when none was given */
    int mtu;                  /* com.docker.network.driver.mtu, 0 when not set */
};
int mk_network_ipv4(const struct mk_network *n, struct mk_network_ipv4 *out, mk_err **err);
/* bridge, host and none. */
bool mk_network_predefined(const struct mk_network *n);
/* docker's EndpointID of a container's lease on a network: stable, 64 hex. */
char *mk_network_endpoint_id(const char *network_id, const char *container_id);
/* docker network inspect's object, Containers from the network's endpoints. */
json_t *mk_network_inspect_json(struct mk_engine *e, const struct mk_network *n);
/* docker network rm: predefined networks and networks with endpoints are
 * refused with dockerd's wording; the Linux bridge goes with the row. */
int mk_network_remove(struct mk_engine *e, const char *ref, mk_err **err);
/* docker network prune: user networks without endpoints created before
 * until_ns (0: any) whose labels match; *names the removed ones. */
int mk_network_prune(struct mk_engine *e, int64_t until_ns, char *const *labels,
                     char *const *not_labels, char ***names, mk_err **err);
/* docker network ls / GET /networks (engine/network_list.c): the networks
 * that match filters ("key=value": driver, id, label, name, scope, type,
 * dangling). */
int mk_network_select(struct mk_engine *e, char *const *filters, struct mk_network ***out,
                      size_t *n, mk_err **err);
/* docker network prune's filters: until, label and label!; *labels and
 * *not_labels are pushed to. */
int mk_network_prune_filters(char *const *filters, int64_t *until_ns, char ***labels,
                             char ***not_labels, mk_err **err);
/* Delete the Linux bridges this store made (marked with its root) that no
 * network row owns: what a crash between making a bridge and recording its
 * network leaves. */
int mk_network_reconcile(struct mk_engine *e, mk_err **err);
/* Delete every bridge and firewall rule of this store's networks, leaving
 * the rows (test and benchmark stores, before their directory goes). */
int mk_network_teardown(struct mk_engine *e, mk_err **err);
/* docker network connect / disconnect.  A stopped container's stored
 * NetworkingConfig.EndpointsConfig.<network name> ({IPAMConfig:{IPv4Address},
 * Aliases, NetworkID}) is what changes; a running one goes through the
 * _live functions below.  A container whose config has no EndpointsConfig yet
 * is taken to be on the network its HostConfig.NetworkMode names
 * ("default": bridge), which then becomes its first entry. */
int mk_network_connect(struct mk_engine *e, const char *net_ref, const char *ctr_ref,
                       const char *ip, char *const *aliases, mk_err **err);
int mk_network_disconnect(struct mk_engine *e, const char *net_ref, const char *ctr_ref,
                          bool force, mk_err **err);
/* Connect / disconnect a running container (engine/network_live.c); endpoint
 * is the EndpointsConfig entry to add.  Not wired yet: UNSUPPORTED. */
/* Tell a running container's monitor that its networks changed (after a
 * live connect): on its first user-defined network it starts the embedded
 * DNS server. */
void mk_container_network_changed(struct mk_engine *e, const struct mk_container *c);
int mk_container_network_connect_live(struct mk_engine *e, const struct mk_container *c,
                                      const struct mk_network *n, const json_t *endpoint,
                                      mk_err **err);
int mk_container_network_disconnect_live(struct mk_engine *e, const struct mk_container *c,
                                         const struct mk_network *n, bool force, mk_err **err);

/* A copy of the object with its keys sorted, as docker prints a Go map
 * (NULL gives an empty object). */
json_t *mk_engine_json_sorted(const json_t *obj);

/* The event log (docker events): see mk_store_event_list. */
int mk_events_list(struct mk_engine *e, int64_t after_seq, int64_t since_ns, int64_t until_ns,
                   int (*fn)(void *ctx, const struct mk_event *ev), void *ctx, int64_t *last_seq,
                   mk_err **err);
/* The file every new event is written to first (SQLite's WAL), for followers
 * to watch with inotify. */
char *mk_events_wal_path(struct mk_engine *e);
/* docker events' filters (engine/events_follow.c): "key=value" strings as an
 * object key -> values (OR within a key, AND across keys); an unknown key is
 * dockerd's INVALID "Invalid filter 'key'". */
int mk_events_filters(char *const *kv, json_t **out, mk_err **err);
bool mk_event_matches(const json_t *filters, const struct mk_event *ev);
/* The event as dockerd sends it (events.Message): status/id/from, Type,
 * Action, Actor, scope, time, timeNano. */
json_t *mk_event_message(const struct mk_event *ev);
struct mk_events_query {
    bool since_set, until_set;
    int64_t since_ns, until_ns;
    const json_t *filters; /* from mk_events_filters */
};
/* Pass fn the matching events: without since or until the new ones only,
 * else those since `since`; then follow the log until `until` has passed
 * (forever without it).  fn is also called with NULL whenever the follower
 * is idle; a nonzero return from fn stops it (returning 0). */
int mk_events_follow(struct mk_engine *e, const struct mk_events_query *q,
                     int (*fn)(void *ctx, const struct mk_event *ev), void *ctx, mk_err **err);

/* exec: run a process in a running container.  opts is docker's exec create body
 * (Cmd, Env, WorkingDir, User, Tty, AttachStdin, Privileged, Detach).
 * Without a tty, the process gets stdin_fd/stdout_fd/stderr_fd directly; with a
 * tty, *pty_master receives the pty.  *pid is our child to wait for. */
int mk_container_exec(struct mk_engine *e, const char *ref, const json_t *opts, int stdin_fd,
                      int stdout_fd, int stderr_fd, int *pty_master, pid_t *pid, mk_err **err);

/* docker diff: the Engine API's changes array ([{"Path":"/etc","Kind":0}]). */
int mk_container_changes(struct mk_engine *e, const char *ref, json_t **out, mk_err **err);
/* docker commit: the container's changes as a new image; *out_id "sha256:<hex>". */
struct mk_commit_opts {
    const char *ref;     /* REPOSITORY[:TAG] or NULL */
    const char *author;  /* -a */
    const char *comment; /* -m */
    char **changes;      /* -c: Dockerfile instructions */
    bool pause;          /* -p */
    /* the Engine API's body: a container Config whose set fields win over
     * the container's (Env by variable, Labels and ExposedPorts by key), or NULL */
    const json_t *config;
};
int mk_container_commit(struct mk_engine *e, const char *ref, const struct mk_commit_opts *o,
                        char **out_id, mk_err **err);
/* ---- a container's filesystem: cp and export (engine/container_fs.c) ----
 * An open filesystem is a running container's as its processes see it, or a
 * stopped one's overlay mounted detached; paths are container paths, resolved
 * inside it.  Errors use docker's wording ("Could not find the file /x in
 * container c"). */
struct mk_container_fs;
int mk_container_fs_open(struct mk_engine *e, const char *ref, struct mk_container_fs **out,
                         mk_err **err);
void mk_container_fs_close(struct mk_container_fs *fs);
/* lstat path (the last component not followed); "dir/" and "dir/." must be directories. */
int mk_container_fs_stat(const struct mk_container_fs *fs, const char *path,
                         struct mk_path_stat *out, mk_err **err);
/* Where the symlink path finally points in the container, as an absolute
 * clean path (docker's linkTarget in a path stat). */
int mk_container_fs_link_target(const struct mk_container_fs *fs, const char *path, char **out,
                                mk_err **err);
/* path as a tar stream on out_fd, entries named after its last component or rebase. */
int mk_container_fs_archive(const struct mk_container_fs *fs, const char *path,
                            const char *rebase, int out_fd, mk_err **err);
/* Extract the tar on in_fd into the directory path (symlinks followed in the
 * container).  A read-only rootfs or volume refuses it (FORBIDDEN). */
struct mk_container_extract_opts {
    bool copy_uid_gid;             /* cp -a: owned by the container's user if it has one */
    bool no_overwrite_dir_non_dir; /* a directory never replaces a file, nor a file a directory */
};
int mk_container_fs_extract(const struct mk_container_fs *fs, const char *path, int in_fd,
                            const struct mk_container_extract_opts *eo, int64_t *bytes,
                            mk_err **err);
/* docker export: the container's root filesystem (no bind mounts) as a tar. */
int mk_container_export(struct mk_engine *e, const char *ref, int out_fd, mk_err **err);

/* The monitor process's entry point (`mocker __monitor ID`, fd 3 = first
 * client): the monitor of `start`, `restart` and the boot pass. */
int mk_engine_monitor_main(const char *id, int client_fd, mk_err **err);

/* ---- restart policies (engine/restart.c, engine/boot.c) ---- */
/* docker's --restart value ("no", "always", "on-failure:3"...) as a
 * RestartPolicy object {Name, MaximumRetryCount}; INVALID when the count is not
 * a number.  The name is checked by mk_restart_policy_validate. */
int mk_restart_policy_parse(const char *s, json_t **out, mk_err **err);
/* HostConfig.RestartPolicy (and its clash with AutoRemove), as dockerd checks it. */
int mk_restart_policy_validate(const json_t *host_config, mk_err **err);
/* What a container's monitor keeps between exits. */
struct mk_restart_state {
    int64_t delay_ns; /* the last back-off, 0 before the first */
    int restarts;     /* restarts since the container was started by hand */
};
/* After an exit: the delay (ns) before starting again, or -1 to stay stopped. */
int64_t mk_restart_decide(const json_t *host_config, struct mk_restart_state *st, int exit_code,
                          int64_t ran_ns);
/* Whether a container that was running when the host went down comes back. */
bool mk_restart_on_boot(const json_t *host_config);
/* The first command after a boot starts what the policies bring back: one
 * stat when there is nothing to do.  mk_engine_open calls it. */
int mk_engine_boot_check(struct mk_engine *e, mk_err **err);
/* Whether that pass is still to be made in this boot (`run`, which opens no
 * store of its own, asks before forking its monitor). */
bool mk_engine_boot_pending(void);
/* Unconditionally: reconcile containers whose monitors died with the host and
 * start the ones whose policy says so (`mocker __boot`, the systemd unit). */
int mk_engine_boot(struct mk_engine *e, mk_err **err);
/* docker restart: stop (timeout/signal as mk_container_stop) if running, then start. */
int mk_container_restart(struct mk_engine *e, const char *ref, int timeout, const char *signal,
                         mk_err **err);

/* Names and signals. */
char *mk_container_random_name(void);
/* "SIGTERM", "TERM", "15" -> 15; INVALID for others. */
int mk_signal_parse(const char *s, int *out, mk_err **err);

#endif
