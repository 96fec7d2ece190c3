/* internal.h: helpers shared by the engine's files, not part of its API. */
#ifndef MK_ENGINE_INTERNAL_H
#define MK_ENGINE_INTERNAL_H

#include "engine/engine.h"
#include "monitor/monitor.h"

/* mk_engine_open without the after-boot check (the monitor's own open: its
 * caller did the check). */
int mk_engine_open_plain(struct mk_engine **out, mk_err **err);
/* Build the OCI spec of c (image layers, paths, resources...). */
int mk_engine_build_spec(struct mk_engine *e, const struct mk_container *c, json_t **out,
                         mk_err **err);
/* ---- platforms (container_platform.c) ---- */
struct mk_platform;
/* create: an image (found by ref) not of the platform asked for is NOT_FOUND
 * with dockerd's wording; with none asked for, *warning (owned, else NULL)
 * is docker's warning for an image that is not the host's platform. */
int mk_engine_check_platform(const char *ref, const struct mk_image *img,
                             const struct mk_platform *want, char **warning, mk_err **err);
/* start: an image of a foreign architecture needs qemu in binfmt_misc
 * (mk_binfmt_ensure); the error says so and why it cannot be had. */
int mk_engine_ensure_emulation(const struct mk_image *img, mk_err **err);
/* ---- a running container's network state (container_network.c) ---- */
int mk_container_net_state_write(struct mk_engine *e, const char *id, const json_t *state,
                                 mk_err **err);
/* NULL when the container is not running or has no network of its own. */
json_t *mk_container_net_state(struct mk_engine *e, const struct mk_container *c);
void mk_container_net_state_remove(struct mk_engine *e, const char *id);

/* ---- a starting container's networks, made by its monitor (container_netup.c) ---- */
struct mk_container_net;
struct mk_monitor_params;
/* Connect the container (its network namespace netns, held by the monitor)
 * to its networks, write its hosts and resolv.conf, hold its published ports,
 * start its DNS server and publish network.json.  *out is NULL when the
 * container has no network of its own (none, host, container:X).  On failure
 * nothing is left.  links_later: the veth pairs are only planned, for
 * mk_container_net_link to make while the container's init sets up. */
int mk_container_net_up(struct mk_engine *e, const struct mk_container *c, int netns,
                        bool links_later, struct mk_container_net **out, mk_err **err);
/* Whether mk_container_net_up planned links (NULL is fine), and make them. */
bool mk_container_net_links_planned(const struct mk_container_net *cn);
int mk_container_net_link(struct mk_container_net *cn, mk_err **err);
/* A veth pair to make for one endpoint (network/endpoint.c). */
struct mk_net_link {
    char *bridge;
    char host_name[16], ifname[16];
    unsigned char mac[6];
    uint32_t addr, gateway;
    int prefix, mtu;
};
/* One network of a container whose namespace is netns: lease, endpoint
 * ifname eth<idx> (the default route on eth0), and its entries in state's
 * "Networks" and "Interfaces" (network.json).  For idx 0 the address, whether
 * the network is user-defined and internal are returned.  later: the link is
 * not made but returned there (host_nl and ns_nl unused). */
int mk_container_join_network(struct mk_engine *e, const struct mk_container *c, int idx,
                              const char *name, const json_t *epcfg, int netns, int host_nl,
                              int ns_nl, struct mk_net_link *later, json_t *state,
                              uint32_t *primary_ip, bool *user_net, bool *primary_internal,
                              mk_err **err);
/* Remove a lease whose container has no monitor any more (-9, a reboot):
 * 1 if removed, 0 if its container's monitor may still use it. */
int mk_lease_remove_if_stale(struct mk_engine *e, const struct mk_net_endpoint *ep);
/* Serve the DNS server from the monitor's loop. */
void mk_container_net_source(struct mk_container_net *cn, struct mk_monitor_params *p);
/* Undo everything mk_container_net_up made; NULL is fine. */
void mk_container_net_down(struct mk_container_net *cn);

/* ---- legacy links, --link (container_links.c) ---- */
/* "name[:alias]" or docker's stored "/name:/container/alias". */
int mk_link_parse(const char *raw, char **name, char **alias, mk_err **err);
/* HostConfig.Links as given into docker's stored form, each linked container
 * found ("could not get container for NAME: ..."). */
int mk_links_normalize(struct mk_engine *e, const json_t *links, const char *self, json_t **out,
                       mk_err **err);
/* At start: the /etc/hosts lines and environment variables of c's links;
 * CONFLICT when a linked container does not run. */
int mk_links_resolve(struct mk_engine *e, const struct mk_container *c, json_t **hosts,
                     json_t **env, mk_err **err);

/* ---- published ports (container_ports.c) ---- */
struct mk_port_map {
    char proto[4]; /* tcp, udp */
    unsigned ctr_port;
    uint32_t host_ip; /* host order, 0: every address */
    unsigned host_port;
    int fd; /* the socket that holds the host port */
};
/* Bind every published port of a container (-p, and -P's exposed ports);
 * CONFLICT with docker's "Bind for IP:PORT failed: port is already
 * allocated".  Nothing is held on failure. */
int mk_ports_reserve(const json_t *config, const json_t *host_config, struct mk_port_map **out,
                     size_t *n, mk_err **err);
void mk_ports_release(struct mk_port_map *v, size_t n);
/* qsort order of "80/tcp" keys (const char *): by port number, then protocol. */
int mk_port_key_cmp(const void *a, const void *b);
/* NetworkSettings.Ports: every exposed port, with its bindings or null. */
json_t *mk_ports_json(const json_t *config, const json_t *host_config,
                      const struct mk_port_map *v, size_t n);

/* ---- a container's /etc/hosts and /etc/resolv.conf (container_netfiles.c) ---- */
/* hosts: ip 0 when the container has no address of its own (none, host). */
char *mk_netfiles_hosts(const json_t *host_config, const char *hostname, uint32_t ip,
                        uint32_t host_gateway, const json_t *links);
/* The host's resolv.conf text (systemd-resolved's upstream file when the
 * host's only names its stub), "" when there is none. */
char *mk_host_resolv_conf(void);
/* resolv.conf from the host's (its text); embedded_dns on user-defined networks. */
char *mk_netfiles_resolv(const json_t *host_config, const char *host_resolv, bool host_net,
                         bool embedded_dns);

/* The container's run directory (the attach socket, network state): made at
 * a start, removed after the exit (container_rundir.c keeps empty ones for
 * the next start). */
int mk_engine_rundir_make(struct mk_engine *e, const char *id, mk_err **err);
int mk_engine_remove_rundir(struct mk_engine *e, const char *id, mk_err **err);
/* Delete everything a container owns: its runtime state (cgroup) and run
 * directory, then what mk_engine_remove_entry removes.  spec may be NULL (it
 * is then read from the bundle when present). */
int mk_engine_remove_files(struct mk_engine *e, const struct mk_container *c, const json_t *spec,
                           const json_t *die_attrs, mk_err **err);
/* The row; the container's directory is moved to the trash.  die_attrs, for
 * a --rm container's exit, records its "die" event in the transaction that
 * deletes the row (NULL: no event).  The monitor of a --rm container calls it
 * alone, and deletes the runtime state (the cgroup, empty once the init is
 * dead) and the run directory after reporting the exit. */
int mk_engine_remove_entry(struct mk_engine *e, const struct mk_container *c,
                           const json_t *die_attrs, mk_err **err);
/* The container's run lock (flock on its directory): its monitor holds it for
 * the container's whole life, and whoever mounts the container's overlay
 * outside a run (cp, export of a stopped container) holds it meanwhile, so
 * two overlays never share the upper dir.  Returns the fd holding it, or -1:
 * CONFLICT if wait is false and someone holds it. */
int mk_engine_lock_container(struct mk_engine *e, const char *id, bool wait, mk_err **err);
/* ---- a container's directory (container_dir.c) ---- */
/* <root>/containers/<id> with upper, work, rootfs, hostname, hosts and
 * resolv.conf: a kept one when there is one, else made. */
int mk_container_dir_make(struct mk_engine *e, const char *id, const char *hostname,
                          const json_t *host_config, bool host_net, mk_err **err);
/* Write the spec as config.json in the container's directory dfd (in place of
 * a kept directory's old one when there is one); replaced atomically. */
int mk_container_dir_write_config(int dfd, const char *data, size_t len, mk_err **err);
/* Empty the trash (this remover's and any left by dead ones): a directory left
 * as its create made it is kept for the next create, the rest deleted. */
void mk_engine_empty_trash(struct mk_engine *e);
/* Resolve HostConfig.Runtime: *out NULL for the built-in runtime. */
int mk_engine_runtime_path(const char *name, char **out, mk_err **err);
/* Wait (up to timeout_ms, -1 forever) for the monitor of c to report the exit.
 * Returns 1 with *code on an exit, 0 on timeout, -1 if no monitor answers. */
int mk_engine_wait_exit(struct mk_engine *e, const struct mk_container *c, int timeout_ms,
                        int *code);
/* docker's container name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+, an optional leading '/'. */
bool mk_engine_valid_name(const char *n);
/* A connection to the attach socket of c's monitor, or -1. */
int mk_engine_attach_connect(struct mk_engine *e, const struct mk_container *c);

/* The container's cgroup (the bundle's linux.cgroupsPath), a new string. */
int mk_engine_cgroup_path(struct mk_engine *e, const struct mk_container *c, char **out,
                          mk_err **err);
/* A signal to a paused container takes effect once it is thawed: dockerd
 * unpauses it after sending one, and so do we (status back to running). */
void mk_engine_thaw_after_signal(struct mk_engine *e, struct mk_container *c);
/* ---- a container's volumes and mounts (container_volumes.c) ---- */
/* Resolve -v volumes, --mount, --volumes-from and the image's VOLUMEs into
 * MountPoints (*points), making the volumes that do not exist (*made, for
 * mk_engine_volumes_undo if create fails); *copy_dests are the destinations
 * whose volume is to be filled from the image. */
int mk_engine_volumes_prepare(struct mk_engine *e, const json_t *host_config,
                              const json_t *config, json_t **points, char ***made,
                              char ***copy_dests, mk_err **err);
void mk_engine_volumes_undo(struct mk_engine *e, char **made);
/* docker's copy-up: each volume at dests that is still empty gets the image's
 * content there (the container id's filesystem, not yet started). */
int mk_engine_volumes_copy_up(struct mk_engine *e, const char *id, const json_t *points,
                              char *const *dests, mk_err **err);
/* rm -v and --rm: the container's anonymous volumes that nothing else uses. */
void mk_engine_remove_anon_volumes(struct mk_engine *e, const struct mk_container *c);
/* MountPoints as inspect's Mounts (without mocker's own fields). */
json_t *mk_engine_mount_points_json(const json_t *points);

/* ---- healthchecks (container_health.c) ---- */
/* The daemon's checks of a create body's Healthcheck (INVALID, docker's wording). */
int mk_health_config_validate(const json_t *hc, mk_err **err);
/* Set config's Healthcheck from the user's over the image's, field by field,
 * without zero fields (docker's omitempty). */
void mk_health_config_merge(json_t *config, const json_t *user, const json_t *image);
/* A Healthcheck whose Test is not empty or NONE: the container gets State.Health. */
bool mk_health_configured(const json_t *config);
/* 1 and *out (argv owned) for a CMD or CMD-SHELL test, with docker's defaults
 * filled in; 0 when there is nothing to run. */
int mk_health_probe_from_config(const json_t *config, struct mk_health_probe *out);
/* State.Health at a (re)start: "starting", streak 0, previous's Log kept. */
json_t *mk_health_state_starting(json_t *previous);
/* Apply one result to State.Health (docker's handleProbeResult); true if the
 * Status changed.  retries <= 0 means docker's default, 3. */
bool mk_health_apply(json_t *health, const struct mk_health_result *r, int retries,
                     int64_t start_period_ns, int64_t started_at_ns);

/* The monitor's side: State.Health kept in memory and written to the store. */
struct mk_engine_health {
    struct mk_engine *e;
    const struct mk_container *c; /* its started_at is the start period's origin */
    bool configured;
    struct mk_health_probe probe;
    json_t *state; /* NULL until started */
};
/* True when there is a probe to run (h->probe). */
bool mk_engine_health_init(struct mk_engine_health *h, struct mk_engine *e,
                           const struct mk_container *c);
void mk_engine_health_started(struct mk_engine_health *h);
void mk_engine_health_stopped(struct mk_engine_health *h);
bool mk_engine_health_result(struct mk_engine_health *h, const struct mk_health_result *r);
bool mk_engine_health_paused(struct mk_engine_health *h);
void mk_engine_health_free(struct mk_engine_health *h);

#endif
