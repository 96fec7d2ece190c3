/* spec.h: from a docker container definition to an OCI runtime spec.
 *
 * Input is the normalised docker create body ({"Config":{...},"HostConfig":{...}},
 * the same JSON the Engine API's POST /containers/create takes, already merged
 * with the image's defaults) plus what the engine prepared on disk.  Output is
 * the config.json every runtime (built-in or runc) runs from.  Pure: no I/O but
 * reading the rootfs' /etc/passwd and /etc/group through the layer dirs. */
#ifndef MK_ENGINE_SPEC_H
#define MK_ENGINE_SPEC_H

#include "util/util.h"

struct mk_spec_input {
    const char *id;
    const json_t *config;      /* docker Config: Cmd, Entrypoint, Env, WorkingDir, User, Tty... */
    const json_t *host_config; /* docker HostConfig */
    const char *rootfs;        /* where the rootfs is mounted (root.path) */
    char *const *lower_dirs;   /* image layers, topmost first */
    const char *upper_dir;
    const char *work_dir;
    const char *hostname;
    const char *hosts_path;    /* bind-mounted to /etc/hosts */
    const char *hostname_path; /* to /etc/hostname */
    const char *resolv_path;   /* to /etc/resolv.conf */
    const char *init_path;     /* static init bind-mounted at /sbin/docker-init for --init */
    const char *cgroup_parent; /* "/mocker" */
    /* The container's MountPoints (engine/container_volumes.c): volumes and
     * --mount binds as binds of their Source, tmpfs with TmpfsData. */
    const json_t *mount_points;
    /* --network/--pid container:X: the namespace of X's init to join
     * (/proc/PID/ns/...), resolved by the engine; NULL otherwise. */
    const char *join_net, *join_pid;
};

/* Build the spec.  Errors are INVALID with docker's wording for bad input
 * (unknown capability, bad ulimit, unable to find user x...). */
int mk_spec_build(const struct mk_spec_input *in, json_t **out, mk_err **err);
/* What mk_spec_build reads once per process (the host's facts, docker's
 * seccomp profile parsed: ~0.25 ms), read now: `run`'s monitor does it on
 * its prep thread while its main thread creates the container. */
void mk_spec_warm(void);

/* docker's default seccomp profile, resolved for these capabilities and this
 * architecture into an OCI linux.seccomp object. */
int mk_spec_seccomp_default(char *const *caps, json_t **out, mk_err **err);
/* Parse the built-in profile now (mk_spec_warm). */
void mk_spec_seccomp_warm(void);
/* A docker-format seccomp profile (the --security-opt seccomp=FILE content)
 * resolved the same way. */
int mk_spec_seccomp_from_docker(const json_t *profile, char *const *caps, json_t **out,
                                mk_err **err);

/* The effective capability list ("CAP_CHOWN", ...) for CapAdd/CapDrop/Privileged:
 * docker's defaults, "ALL", names with or without the CAP_ prefix, any case. */
int mk_spec_capabilities(const json_t *cap_add, const json_t *cap_drop, bool privileged,
                         char ***out, mk_err **err);

/* Resolve "user", "uid", "user:group", "uid:gid" against passwd/group files
 * (paths may be NULL when absent).  Docker's errors: "unable to find user x: no
 * matching entries in passwd file". additional gids from /etc/group membership. */
int mk_spec_resolve_user(const char *user, const char *passwd_path, const char *group_path,
                         uid_t *uid, gid_t *gid, gid_t **additional, size_t *n_additional,
                         char **home, mk_err **err);
/* Notes on the functions above:
 * - mk_spec_build writes annotations "org.mocker.rootfs.lowerdirs" (the lower
 *   dirs joined by ':', topmost first: store paths never contain ':'),
 *   "org.mocker.rootfs.upperdir" and "org.mocker.rootfs.workdir".  -v binds
 *   whose host directory is missing get it created (mkdir -p), as docker does.
 *   An rlimit of -1 means unlimited (RLIM_INFINITY; JSON here has no uint64).
 * - mk_spec_seccomp_*: *out is NULL when the profile disables seccomp (no
 *   defaultAction and no rules).  The result shares the profile's "names" and
 *   "args" arrays: treat its syscalls as read-only.
 * - mk_spec_resolve_user: *additional is docker's additionalGids without
 *   --group-add: the primary gid first, then the groups listing the user. */

/* Capability number of "CAP_X" (0..40), -1 if unknown. */
int mk_spec_cap_number(const char *name);
/* The bitmask of a capability list, as CapEff in /proc/<pid>/status shows it. */
uint64_t mk_spec_cap_mask(char *const *caps);
/* docker's --group-add (HostConfig.GroupAdd, an array of names or gids)
 * resolved in group_path (may be NULL): names must exist, numbers need not.
 * *out is NULL when there are none. */
int mk_spec_additional_groups(const json_t *groups, const char *group_path, gid_t **out,
                              size_t *n_out, mk_err **err);

/* Go's path.Clean. */
char *mk_spec_path_clean(const char *p);
/* The cgroupsPath of container id below parent (HostConfig.CgroupParent;
 * NULL or "": the engine's "/mocker"), as docker's cgroupfs driver names it. */
char *mk_spec_cgroups_path(const char *parent, const char *id);
/* The org.mocker.rootfs.* annotations of mk_spec_build, set on ann: what a
 * start can have the runtime mount before the spec is built. */
void mk_spec_rootfs_annotate(json_t *ann, char *const *lower_dirs, const char *upper_dir,
                             const char *work_dir, const json_t *host_config);
#define MK_CGROUP_PARENT_DEFAULT "/mocker"

/* ---- devices (devices.c) ---- */
/* docker's device permission string: r, w and m, each at most once. */
bool mk_spec_device_mode_valid(const char *mode);
/* The device node at host (a symlink is followed; a directory gives every
 * device below it) appended to devs as OCI linux.devices entries named
 * in_ctr, and an allow rule with perms for each to rules (may be NULL).
 * Errors as docker's: "error gathering device information while adding
 * custom device \"x\": not a device node". */
int mk_spec_devices_from_path(const char *host, const char *in_ctr, const char *perms,
                              json_t *devs, json_t *rules, mk_err **err);

#endif
