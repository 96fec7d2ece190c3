/* runtime.h: mocker's built-in OCI runtime.
 *
 * Input is an OCI runtime spec (the config.json of a bundle, parsed).  Mocker's
 * own extensions travel as annotations, so an external runtime sees a standard
 * bundle:
 *   "org.mocker.rootfs.lowerdirs"  lower dirs joined by ':', topmost first
 *                                  (store paths never contain ':'; annotations are strings)
 *   "org.mocker.rootfs.upperdir"   overlay upper dir
 *   "org.mocker.rootfs.workdir"    overlay work dir
 *   "org.mocker.rootfs.volatile"   "true": overlay's volatile option (no sync
 *                                  of the upper fs at unmount; a --rm
 *                                  container's writes are deleted with it)
 * When present, the built-in runtime mounts the overlay on root.path inside the
 * container's own mount namespace (so it disappears with the container and
 * never leaks into the host); mk_runtime_run_external mounts it in the host
 * first, because runc expects a ready rootfs, and mk_runtime_delete unmounts it.
 *
 * The caller (the monitor) should be a child subreaper: the container's init is
 * its child (or is reparented to it when an external runtime exits). */
#ifndef MK_RUNTIME_H
#define MK_RUNTIME_H

#include "util/util.h"

struct mk_runtime_io {
    int stdin_fd;  /* -1: /dev/null */
    int stdout_fd; /* -1: /dev/null */
    int stderr_fd; /* -1: /dev/null */
    /* >= 0 when process.terminal is true: the runtime allocates the pty inside
     * the container's devpts and sends the master here with SCM_RIGHTS (the
     * OCI console-socket protocol, which runc speaks too). */
    int console_sock;
    /* exec only: the process leads a process group of its own, so that what
     * it starts can be killed with it (healthcheck probes). */
    bool own_process_group;
    /* mk_runtime_run: called (when not NULL) while the init sets its rootfs
     * up, after it was cloned: for work the caller must finish before the
     * container's process runs, without holding the init up. */
    void (*setting_up)(void *ctx);
    void *setting_up_ctx;
    /* mk_runtime_run: called (when not NULL) once the init is in its cgroup,
     * while it sets its rootfs up, before setting_up.  The init waits for it
     * just before its execve, and is killed instead when it fails: for what
     * the container's process must find in place (its network's links). */
    int (*before_exec)(void *ctx, mk_err **err);
    /* mk_runtime_run: the rootfs, being mounted ahead (mk_runtime_rootfs_begin;
     * it stays the caller's to end).  NULL: the init mounts it. */
    struct mk_rootfs_job *rootfs;
};

/* Create and start the container.  Returns once the user process has been
 * exec'd (or failed to be): *out_pid is the init's pid in the host namespace.
 * When the command cannot run, err->exit_code is 127 (not found) or 126 (not
 * executable) and the message is docker's ("exec: \"x\": executable file not
 * found in $PATH"). */
/* *out_mounts (when not NULL) gets an fd of the container's mount namespace:
 * it keeps the rootfs mounted after the init exits.  Unmounting is the
 * slowest part of a container's exit (about a millisecond here, before the
 * kernel reports the exit at all): closing *out_mounts is when it happens, so
 * the caller picks a moment nobody waits on. */
int mk_runtime_run(const char *bundle, const json_t *spec, const char *id,
                   const struct mk_runtime_io *io, pid_t *out_pid, int *out_mounts,
                   mk_err **err);

/* The same bundle through an external OCI runtime (runc, crun): create + start.
 * state_root is passed as --root. */
int mk_runtime_run_external(const char *runtime, const char *state_root, const char *bundle,
                            const json_t *spec, const char *id, const struct mk_runtime_io *io,
                            pid_t *out_pid, mk_err **err);

/* Start `process` (an OCI process object: args, env, cwd, user, terminal,
 * capabilities...) inside the running container whose init is init_pid, joining
 * its namespaces and cgroup, with the spec's seccomp and capabilities unless the
 * process overrides them.  *out_pid is a child of the caller. */
int mk_runtime_exec(pid_t init_pid, const json_t *spec, const json_t *process,
                    const struct mk_runtime_io *io, pid_t *out_pid, mk_err **err);

/* Make sure the kernel runs executables of architecture goarch (GOARCH
 * names: "arm64", "arm", "riscv64"...) for an image of a foreign platform:
 * mounts binfmt_misc if it is not, and when no enabled entry accepts that
 * architecture's ELF header registers qemu-user-static's (binfmt.c says from
 * where) with the F flag.  NOT_FOUND when no interpreter is installed,
 * UNSUPPORTED for an architecture without a known emulator or an entry that
 * is disabled.  MOCKER_BINFMT_PREFIX (tests) roots the interpreter lookup. */
int mk_binfmt_ensure(const char *goarch, mk_err **err);

/* Remove what a run left outside the container: kill any process still in its
 * cgroup, remove the cgroup, unmount the host-side rootfs of an external run.
 * Idempotent; safe to call for a container that never started. */
int mk_runtime_delete(const json_t *spec, mk_err **err);

/* The rootfs overlay of spec mounted detached (fsmount): *out is the fd of its
 * root, attached nowhere, gone when the last fd on it closes.  For cp/export of
 * a container that is not running. */
int mk_runtime_rootfs_open(const json_t *spec, int *out, mk_err **err);

/* The overlay rootfs of the org.mocker.rootfs.* annotations, mounted on a
 * thread of its own while the caller goes on preparing the start (builds the
 * spec: rootfs_job.c); mk_runtime_run takes it through mk_runtime_io.rootfs
 * when its spec has the same annotations.  End it in any case (it waits for
 * the thread, and unmounts what was not taken). */
struct mk_rootfs_job;
struct mk_rootfs_job *mk_runtime_rootfs_begin(const json_t *annotations);
void mk_runtime_rootfs_end(struct mk_rootfs_job *j);

/* After the init exited: did the kernel OOM-kill a process of the container? */
bool mk_runtime_oom_killed(const json_t *spec);

/* ---- cgroups (v1, v2 and hybrid), also for stats/pause/update later ---- */
enum mk_cgroup_layout { MK_CGROUP_V1, MK_CGROUP_HYBRID, MK_CGROUP_V2 };
enum mk_cgroup_layout mk_cgroup_detect(void);
/* Whether a block I/O weight can be applied (v1 needs a scheduler that
 * provides blkio.weight; many virtual disks have none). */
bool mk_cgroup_blkio_weight_supported(void);
/* Create the cgroup at `path` (relative, e.g. "/mocker/<id>") in every hierarchy
 * used, and apply OCI linux.resources. */
int mk_cgroup_create(const char *path, const json_t *resources, mk_err **err);
/* Read now what mk_runtime_run reads once per process (the cgroup layout and
 * the v1 hierarchies): `run`'s monitor does it on its prep thread. */
void mk_runtime_warm(void);
/* Move pid (0 = the caller) into it. */
int mk_cgroup_enter(const char *path, pid_t pid, mk_err **err);
int mk_cgroup_destroy(const char *path, mk_err **err);
/* Memory usage/limit in bytes from the cgroup's own files. */
int mk_cgroup_memory(const char *path, int64_t *usage, int64_t *limit, mk_err **err);
/* Freeze (pause) or thaw the cgroup; freezing returns once every task is frozen. */
int mk_cgroup_freeze(const char *path, bool frozen, mk_err **err);
bool mk_cgroup_frozen(const char *path);
/* Apply OCI linux.resources to an existing cgroup (docker update). */
int mk_cgroup_update(const char *path, const json_t *resources, mk_err **err);
/* The pids in the container's cgroup (its cgroup.procs), for docker top. */
int mk_cgroup_pids(const char *path, pid_t **out, size_t *n, mk_err **err);
/* What docker stats shows, from the cgroup's own files.  -1 where unknown. */
struct mk_cgroup_stats {
    uint64_t cpu_ns;       /* total CPU time used */
    int64_t mem_usage;     /* usage minus inactive file cache, as docker computes it */
    int64_t mem_limit;     /* INT64_MAX without a limit */
    int64_t blk_read;      /* bytes */
    int64_t blk_write;
    int64_t pids;          /* pids.current */
};
int mk_cgroup_stats(const char *path, struct mk_cgroup_stats *out, mk_err **err);
/* The same cgroup in dockerd's stats shapes (runtime/cgroup_stats_json.c):
 * {"cpu_stats":{cpu_usage, throttling_data}, "memory_stats":{usage,
 * [max_usage,] stats, limit (0: none)}, "blkio_stats", "pids_stats"}. */
int mk_cgroup_stats_json(const char *path, json_t **out, mk_err **err);

#endif
