/* container_start.c: docker start.  The CLI side hands the container to a
 * monitor and waits for its first frame; the monitor side builds the OCI
 * bundle, runs the container and records its life in the store through the
 * monitor's hooks.  `start` spawns the monitor (`mocker __monitor ID`); `run`
 * forks it before opening its store (mk_engine_monitor_fork), so the monitor
 * readies itself while the CLI creates the container. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "engine/spec.h"
#include "image/image.h"
#include "monitor/monitor.h"
#include "network/network.h"
#include "runtime/runtime.h"
#include "util/reap.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* config.json is rebuilt at every start, so it is written without fsync: a
 * crash just means the next start writes it again. */
static int write_bundle_config(const char *dir, const json_t *spec, mk_err **err)
{
    _cleanup_free_ char *data = mk_json_dump(spec);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return mk_err_sys(err, "open %s", dir);
    return mk_container_dir_write_config(dfd, data, strlen(data), err);
}

static int image_of(struct mk_engine *e, const struct mk_container *c, struct mk_image **img,
                    mk_err **err)
{
    /* The image row may be gone (rmi -f): its config and layers stay while
     * a container uses them. */
    if (mk_image_get_for_container(e->store, c->image_id, img, err) < 0)
        return mk_err_wrap(err, "image of container %s", c->name);
    return 0;
}

/* A container's overlay: its image's layers below the init layer, then its
 * own upper and work dirs. */
struct rootfs_dirs {
    char **lowers;
    char *dir;
    char *upper;
    char *work;
};

static void rootfs_dirs_clear(struct rootfs_dirs *d)
{
    mk_strv_free(d->lowers);
    free(d->dir);
    free(d->upper);
    free(d->work);
}

static int rootfs_dirs_get(struct mk_engine *e, const struct mk_container *c,
                           const struct mk_image *img, struct rootfs_dirs *d, mk_err **err)
{
    *d = (struct rootfs_dirs){0};
    if (mk_container_lower_dirs(e->store, img, &d->lowers, err) < 0)
        return -1;
    d->dir = mk_store_container_dir(e->store, c->id);
    d->upper = mk_path_join(d->dir, "upper");
    d->work = mk_path_join(d->dir, "work");
    return 0;
}

static int build_spec_files(struct mk_engine *e, const struct mk_container *c,
                            const struct mk_image *img, const struct rootfs_dirs *dirs,
                            const char *files_of, const char *join_net, const char *join_pid,
                            json_t **out, mk_err **err);
static int build_spec(struct mk_engine *e, const struct mk_container *c, const struct mk_image *img,
                      const struct rootfs_dirs *dirs, bool to_run, json_t **out, mk_err **err);

/* For a spec that is not run (cp, export, update): a container:X namespace
 * is named, not resolved. */
int mk_engine_build_spec(struct mk_engine *e, const struct mk_container *c, json_t **out,
                         mk_err **err)
{
    struct mk_image *img = NULL;
    if (image_of(e, c, &img, err) < 0)
        return -1;
    int ret = build_spec(e, c, img, NULL, false, out, err);
    mk_image_free(img);
    return ret;
}

/* --network/--pid container:X: the namespace of X's init, which must
 * run (docker's words). */
static int join_ns(struct mk_engine *e, const json_t *hc, const char *key, const char *what,
                   const char *ns, bool to_run, char **path, struct mk_container **target,
                   mk_err **err)
{
    const char *mode = mk_json_str(hc, key);
    *path = NULL;
    if (mode == NULL || !mk_str_has_prefix(mode, "container:"))
        return 0;
    struct mk_container *t = NULL;
    if (mk_container_get(e, mode + 10, &t, err) < 0)
        return -1;
    /* A spec that will not run (cp, update of a stopped container) only
     * needs to name the namespace. */
    if (!to_run && !mk_container_is_running(t)) {
        *path = xstrdup(mode);
        mk_container_free(t);
        return 0;
    }
    if (!mk_container_is_running(t)) {
        mk_err_set(err, MK_ERR_CONFLICT, "cannot join %s of a non running container: %s", what,
                   mode + 10);
        mk_container_free(t);
        return -1;
    }
    *path = xasprintf("/proc/%d/ns/%s", (int)t->pid, ns);
    if (target != NULL && *target == NULL)
        *target = t;
    else
        mk_container_free(t);
    return 0;
}

/* dirs: the container's overlay directories when the caller has them (NULL:
 * looked up here). */
static int build_spec(struct mk_engine *e, const struct mk_container *c, const struct mk_image *img,
                      const struct rootfs_dirs *dirs, bool to_run, json_t **out, mk_err **err)
{
    const json_t *hc = json_object_get(c->config, "HostConfig");
    _cleanup_free_ char *join_net = NULL, *join_pid = NULL;
    struct mk_container *net_owner = NULL;
    if (join_ns(e, hc, "NetworkMode", "network", "net", to_run, &join_net, &net_owner, err) < 0 ||
        join_ns(e, hc, "PidMode", "PID", "pid", to_run, &join_pid, NULL, err) < 0) {
        mk_container_free(net_owner);
        return -1;
    }
    /* Sharing a network namespace shares its hosts and resolv.conf too. */
    const char *files_of = net_owner != NULL ? net_owner->id : c->id;
    int r = build_spec_files(e, c, img, dirs, files_of, join_net, join_pid, out, err);
    mk_container_free(net_owner);
    return r;
}

static int build_spec_files(struct mk_engine *e, const struct mk_container *c,
                            const struct mk_image *img, const struct rootfs_dirs *dirs,
                            const char *files_of, const char *join_net, const char *join_pid,
                            json_t **out, mk_err **err)
{
    struct rootfs_dirs own = {0};
    if (dirs == NULL && rootfs_dirs_get(e, c, img, &own, err) < 0)
        return -1;
    const struct rootfs_dirs *d = dirs != NULL ? dirs : &own;
    _cleanup_free_ char *rootfs = mk_path_join(d->dir, "rootfs");
    _cleanup_free_ char *files = mk_store_container_dir(e->store, files_of);
    _cleanup_free_ char *hosts = mk_path_join(files, "hosts");
    _cleanup_free_ char *hostname = mk_path_join(files, "hostname");
    _cleanup_free_ char *resolv = mk_path_join(files, "resolv.conf");
    const json_t *config = json_object_get(c->config, "Config");
    struct mk_spec_input in = {
        .id = c->id,
        .config = config,
        .host_config = json_object_get(c->config, "HostConfig"),
        .rootfs = rootfs,
        .lower_dirs = d->lowers,
        .upper_dir = d->upper,
        .work_dir = d->work,
        .hostname = mk_json_str(config, "Hostname"),
        .hosts_path = hosts,
        .hostname_path = hostname,
        .resolv_path = resolv,
        .init_path = e->init_path,
        .cgroup_parent = MK_CGROUP_PARENT_DEFAULT,
        .mount_points = json_object_get(c->config, "MountPoints"),
        .join_net = join_net,
        .join_pid = join_pid,
    };
    json_t *spec = NULL;
    int r = mk_spec_build(&in, &spec, err);
    rootfs_dirs_clear(&own);
    if (r < 0)
        return -1;
    /* The runtime caches compiled seccomp programs here (run state: a reboot
     * or a new kernel starts afresh). */
    json_t *ann = json_object_get(spec, "annotations");
    if (ann == NULL) {
        ann = json_object();
        json_object_set_new(spec, "annotations", ann);
    }
    _cleanup_free_ char *cache = mk_path_join(e->store->runroot, "seccomp-cache");
    json_object_set_new(ann, "org.mocker.seccomp.cache", json_string(cache));
    *out = spec;
    return 0;
}

/* Read the monitor's first frame: STARTED "PID", or ERROR "CODE message". */
static int await_started(int fd, pid_t *pid, mk_err **err)
{
    enum mk_frame_type type;
    _cleanup_free_ char *data = NULL;
    size_t len;
    int r = mk_frame_read(fd, &type, &data, &len);
    if (r <= 0)
        return mk_err_set(err, MK_ERR_INTERNAL, "the container's monitor exited before the container started");
    if (type == MK_FRAME_STARTED) {
        if (pid != NULL)
            *pid = (pid_t)strtol(data, NULL, 10);
        return 0;
    }
    if (type == MK_FRAME_ERROR) {
        char *msg = NULL;
        long code = strtol(data, &msg, 10);
        while (msg != NULL && *msg == ' ')
            msg++;
        mk_err_set(err, MK_ERR_INTERNAL, "%s", msg && *msg ? msg : "failed to start container");
        (*err)->exit_code = code > 0 ? (int)code : 125;
        return -1;
    }
    return mk_err_set(err, MK_ERR_INTERNAL, "unexpected frame %d from the monitor", (int)type);
}

/* The monitor is spawned (vfork semantics, no page-table copy) in a session
 * of its own, so the terminal's signals never reach it, with fd 3 as its first
 * client and default signal handling.  It stays our child only while we run:
 * the CLI exits without waiting for it and it is re-parented to init (a
 * long-lived caller such as `mocker serve` must reap its monitors). */
static int spawn_monitor(struct mk_engine *e, const char *id, int client_end, mk_err **err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
    posix_spawn_file_actions_adddup2(&fa, 0, 1);
    posix_spawn_file_actions_adddup2(&fa, 0, 2);
    posix_spawn_file_actions_adddup2(&fa, client_end, 3);
    posix_spawn_file_actions_addclosefrom_np(&fa, 4);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"mocker", "__monitor", (char *)id, NULL};
    pid_t pid;
    int r = posix_spawn(&pid, e->self_exe, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (r != 0)
        return mk_err_errno(err, r, "could not start the container's monitor");
    mk_reap_register(pid); /* outlives this call: a long-lived caller reaps it */
    return 0;
}

/* The CLI's side of a start: the monitor (spawned now) builds the bundle and
 * starts the container; we wait for its first frame. */
int mk_container_start(struct mk_engine *e, const char *ref, int *attach_fd, mk_err **err)
{
    _cleanup_close_ int conn = -1;
    _cleanup_close_ int peer = -1;
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    int ret = -1;
    if (mk_container_is_running(c)) {
        mk_err_set(err, MK_ERR_NOT_MODIFIED, "container %s is already running", c->id);
        goto out;
    }
    if (strcmp(c->status, "removing") == 0) {
        mk_err_set(err, MK_ERR_CONFLICT, "container is marked for removal and cannot be started");
        goto out;
    }
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        mk_err_sys(err, "socketpair");
        goto out;
    }
    conn = sp[0];
    peer = sp[1];
    /* docker records the attach of run/start -a before the start. */
    if (attach_fd != NULL)
        mk_container_event(e, c, "attach", NULL);
    if (spawn_monitor(e, c->id, peer, err) < 0)
        goto out;
    mk_closep(&peer);
    if (await_started(conn, NULL, err) < 0)
        goto out;
    if (attach_fd != NULL)
        *attach_fd = steal_fd(&conn);
    ret = 0;
out:
    mk_container_free(c);
    return ret;
}

int mk_engine_run_create(int monitor_fd, const struct mk_run_create *req, char **id,
                         json_t **warnings, mk_err **err)
{
    json_t *msg = json_pack("{s:s?,s:s?,s:O,s:b,s:b}", "Name", req->name, "Platform",
                            req->platform, "Config", req->body, "Attach", req->attach, "Start",
                            req->at_once);
    _cleanup_free_ char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (mk_frame_write(monitor_fd, MK_FRAME_CREATE, text, strlen(text)) < 0)
        return mk_err_sys(err, "hand the container to its monitor");
    enum mk_frame_type type;
    _cleanup_free_ char *data = NULL;
    size_t len;
    if (mk_frame_read(monitor_fd, &type, &data, &len) <= 0)
        return mk_err_set(err, MK_ERR_INTERNAL,
                          "the container's monitor exited before the container was created");
    _cleanup_json_ json_t *reply = type == MK_FRAME_CREATED ? json_loadb(data, len, 0, NULL) : NULL;
    if (reply == NULL)
        return mk_err_set(err, MK_ERR_INTERNAL, "unexpected frame %d from the monitor", (int)type);
    const char *error = mk_json_str(reply, "Error");
    if (error != NULL) {
        mk_err_set(err, (enum mk_err_kind)mk_json_int(reply, "Kind", MK_ERR_INTERNAL), "%s", error);
        (*err)->exit_code = (int)mk_json_int(reply, "Code", 125);
        return -1;
    }
    const char *got = mk_json_str(reply, "Id");
    if (got == NULL)
        return mk_err_set(err, MK_ERR_INTERNAL, "the container's monitor sent no id");
    *id = xstrdup(got);
    if (warnings != NULL)
        *warnings = json_incref(json_object_get(reply, "Warnings"));
    return 0;
}

int mk_engine_run_start(int monitor_fd, const struct mk_run_create *req, const char *id,
                        pid_t *pid, mk_err **err)
{
    mk_trace("start-spawn");
    if (!req->at_once && mk_frame_write(monitor_fd, MK_FRAME_START, id, strlen(id)) < 0)
        return mk_err_sys(err, "hand the container to its monitor");
    mk_trace("start-spawned");
    return await_started(monitor_fd, pid, err);
}

/* ---- the monitor side ---- */

struct monitor_ctx {
    struct mk_engine *e;
    struct mk_container *c;
    const json_t *spec;
    bool auto_remove;
    int lock_fd; /* the container's run lock, let go at the final exit */
    struct mk_engine_health health;
    struct mk_restart_state restart;
    bool restarting; /* the policy decided to start this exited container again */
    bool spec_written; /* config.json is in the bundle */
    bool external;     /* an external runtime (runc) runs it */
    bool attach_event; /* `run` attaches: docker's "attach" event goes before "start" */
    struct mk_container_net *net; /* its networks, up for the monitor's life */
    struct mk_rootfs_job *rootfs;  /* the first start's rootfs, mounting ahead */
};

/* Before anything removes the container's directories: the rootfs job reads
 * them until it ends. */
static void rootfs_end(struct monitor_ctx *m)
{
    mk_runtime_rootfs_end(m->rootfs);
    m->rootfs = NULL;
}

/* Our runtime's rootfs, mounted while the spec is built: the overlay the
 * spec will describe (rootfs_job.c takes it only if it does). */
static struct mk_rootfs_job *rootfs_begin(const struct mk_container *c, const struct rootfs_dirs *d)
{
    _cleanup_json_ json_t *ann = json_object();
    mk_spec_rootfs_annotate(ann, d->lowers, d->upper, d->work,
                            json_object_get(c->config, "HostConfig"));
    return mk_runtime_rootfs_begin(ann);
}

/* The container stopped for good: its addresses, ports and DNS go. */
static void net_down(struct monitor_ctx *m)
{
    mk_container_net_down(m->net);
    m->net = NULL;
}

/* Our runtime needs no config.json: it is written while the init sets up,
 * for exec, pause and kill to read once it runs. */
static void write_spec(struct monitor_ctx *m)
{
    if (m->spec_written)
        return;
    _cleanup_free_ char *dir = mk_store_container_dir(m->e->store, m->c->id);
    m->spec_written = write_bundle_config(dir, m->spec, NULL) == 0;
}

static void hook_starting(void *ctx)
{
    struct monitor_ctx *m = ctx;
    write_spec(m);
    mk_store_container_prepare(m->e->store);
}

static int hook_before_exec(void *ctx, mk_err **err)
{
    struct monitor_ctx *m = ctx;
    int r = mk_container_net_link(m->net, err);
    mk_trace("hook-linked");
    return r;
}

static void hook_started(void *ctx, pid_t pid)
{
    struct monitor_ctx *m = ctx;
    struct mk_container *c = m->c;
    mk_trace("hook-started");
    write_spec(m);
    free(c->status);
    c->status = xstrdup("running");
    c->pid = pid;
    c->pid_start = mk_proc_start_time(pid);
    c->monitor_pid = getpid();
    c->monitor_start = mk_proc_start_time(getpid());
    c->started_at = mk_now_ns();
    /* As docker: counted by the policy's restarts, zeroed by a start by hand. */
    if (!m->restarting)
        c->restart_count = 0;
    m->restarting = false;
    c->exit_code = 0;
    c->oom_killed = false;
    free(c->error);
    c->error = NULL;
    /* The state and its events in one commit. */
    bool tx = mk_store_begin(m->e->store, NULL) == 0;
    mk_store_container_save_state(m->e->store, c, NULL);
    if (m->attach_event)
        mk_container_event(m->e, c, "attach", NULL);
    m->attach_event = false;
    mk_container_event(m->e, c, "start", NULL);
    if (tx)
        mk_store_commit(m->e->store, NULL);
    mk_engine_health_started(&m->health);
    mk_trace("hook-started-saved");
}

static void hook_start_failed(void *ctx, const mk_err *err)
{
    struct monitor_ctx *m = ctx;
    struct mk_container *c = m->c;
    rootfs_end(m);
    net_down(m);
    if (m->auto_remove) {
        if (mk_engine_remove_files(m->e, c, m->spec, NULL, NULL) == 0)
            mk_engine_remove_anon_volumes(m->e, c);
        mk_engine_empty_trash(m->e);
        return;
    }
    free(c->status);
    /* A restart that failed leaves the container stopped, not never started. */
    c->status = xstrdup(m->restarting ? "exited" : "created");
    if (m->restarting)
        c->finished_at = mk_now_ns();
    c->exit_code = err->exit_code;
    free(c->error);
    c->error = xstrdup(err->msg);
    mk_store_container_save_state(m->e->store, c, NULL);
    mk_runtime_delete(m->spec, NULL);
}

static int exit_code_of(int wait_status)
{
    return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status)
                                  : 128 + (WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0);
}

static int hook_exited(void *ctx, int wait_status, bool oom_killed)
{
    struct monitor_ctx *m = ctx;
    struct mk_container *c = m->c;
    mk_trace("hook-exited");
    int code = exit_code_of(wait_status);
    _cleanup_free_ char *code_s = xasprintf("%d", code);
    json_t *attrs = json_pack("{s:s}", "exitCode", code_s);
    mk_engine_health_stopped(&m->health);
    if (!m->restarting)
        net_down(m);
    if (m->auto_remove) {
        /* docker run --rm returns after the removal: do it before the exit is
         * reported.  Our runtime's state, the cgroup, and the run directory go
         * after (hook_finished): the init is dead, nothing can join it, and
         * nobody names the container any more.  An external runtime's goes
         * first: it unmounts the rootfs by its path, which the removal moves. */
        int removed = m->external ? mk_engine_remove_files(m->e, c, m->spec, attrs, NULL)
                                  : mk_engine_remove_entry(m->e, c, attrs, NULL);
        if (removed == 0)
            mk_engine_remove_anon_volumes(m->e, c);
        mk_closep(&m->lock_fd);
        json_decref(attrs);
        mk_trace("hook-removed");
        return code;
    }
    free(c->status);
    c->status = xstrdup(m->restarting ? "restarting" : "exited");
    if (m->restarting)
        c->restart_count++;
    c->exit_code = code;
    c->oom_killed = oom_killed;
    c->finished_at = mk_now_ns();
    c->pid = 0;
    c->pid_start = 0;
    mk_store_container_save_state(m->e->store, c, NULL);
    mk_container_event(m->e, c, "die", attrs);
    json_decref(attrs);
    mk_runtime_delete(m->spec, NULL);
    /* Stopped for good: a cp or export may mount it from now on (before the
     * exit is reported, so whoever waited for it finds it free). */
    if (!m->restarting)
        mk_closep(&m->lock_fd);
    return code;
}

static int64_t hook_restart_delay(void *ctx, int wait_status, int64_t ran_ns)
{
    struct monitor_ctx *m = ctx;
    /* --rm excludes a restart policy (create and update refuse the pair):
     * no store read on the exit path of `run --rm`. */
    if (m->auto_remove)
        return -1;
    /* The policy as it is now: `update --restart` may have changed it. */
    struct mk_container *now = NULL;
    if (mk_store_container_get(m->e->store, m->c->id, &now, NULL) == 0) {
        json_decref(m->c->config);
        m->c->config = json_incref(now->config);
        mk_container_free(now);
    }
    const json_t *hc = json_object_get(m->c->config, "HostConfig");
    int64_t delay = mk_restart_decide(hc, &m->restart, exit_code_of(wait_status), ran_ns);
    m->restarting = delay >= 0;
    return delay;
}

static void hook_restart_cancelled(void *ctx)
{
    struct monitor_ctx *m = ctx;
    struct mk_container *c = m->c;
    net_down(m);
    m->restarting = false;
    free(c->status);
    c->status = xstrdup("exited");
    mk_store_container_save_state(m->e->store, c, NULL);
    mk_closep(&m->lock_fd);
}

/* After the exit is reported nobody waits for this monitor: the slow parts
 * of the clean-up happen here. */
static void hook_finished(void *ctx)
{
    struct monitor_ctx *m = ctx;
    if (m->auto_remove) {
        if (!m->external) {
            mk_runtime_delete(m->spec, NULL);
            /* Empty since report_exit unlinked the attach socket; an rmdir
             * on a disk's /run is ~20-70 us (ext4 -o discard here). */
            mk_engine_remove_rundir(m->e, m->c->id, NULL);
        }
        mk_engine_empty_trash(m->e);
    }
    mk_store_maintain(m->e->store);
}

static void hook_keep(void *ctx)
{
    ((struct monitor_ctx *)ctx)->auto_remove = false;
}

static bool hook_health_paused(void *ctx)
{
    return mk_engine_health_paused(&((struct monitor_ctx *)ctx)->health);
}

static bool hook_health_result(void *ctx, const struct mk_health_result *r)
{
    return mk_engine_health_result(&((struct monitor_ctx *)ctx)->health, r);
}

/* Where an external runtime named by HostConfig.Runtime lives; NULL for ours. */
int mk_engine_runtime_path(const char *name, char **out, mk_err **err)
{
    *out = NULL;
    if (name == NULL || *name == '\0' || strcmp(name, "mocker") == 0)
        return 0;
    if (strchr(name, '/') != NULL) {
        if (access(name, X_OK) == 0) {
            *out = xstrdup(name);
            return 0;
        }
    } else {
        const char *path = getenv("PATH");
        _cleanup_free_ char *copy = xstrdup(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
            char *cand = xasprintf("%s/%s", d, name);
            if (access(cand, X_OK) == 0) {
                *out = cand;
                return 0;
            }
            free(cand);
        }
        const char *sbin[] = {"/usr/sbin", "/sbin", "/usr/local/sbin"};
        for (size_t i = 0; i < 3; i++) {
            char *cand = xasprintf("%s/%s", sbin[i], name);
            if (access(cand, X_OK) == 0) {
                *out = cand;
                return 0;
            }
            free(cand);
        }
    }
    return mk_err_set(err, MK_ERR_INVALID, "unknown or invalid runtime name: %s", name);
}

/* A new network namespace the spec asks for is one the monitor made (*netns,
 * made now if the forked monitor had not made it ahead): its loopback is up,
 * as docker's, and the init joins it by path.  The monitor holds it for the
 * container's life. */
static int use_netns(json_t *spec, int *netns, mk_err **err)
{
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(json_object_get(spec, "linux"), "namespaces"), i, n)
    {
        const char *type = mk_json_str(n, "type");
        const char *path = mk_json_str(n, "path");
        if (type == NULL || strcmp(type, "network") != 0 || (path != NULL && *path != '\0'))
            continue;
        if (*netns < 0 && mk_netns_create(netns, err) < 0)
            return -1;
        json_object_set_new(n, "path", json_sprintf("/proc/%d/fd/%d", (int)getpid(), *netns));
        return 0;
    }
    return 0;
}

/* The run lock, held for the monitor's life.  Held by another monitor: the
 * container runs already (two starts at once), docker's 304.  Held by a cp
 * or an export of the stopped container: they finish first. */
static int take_run_lock(struct mk_engine *e, const char *id, mk_err **err)
{
    mk_err *busy = NULL;
    int fd = mk_engine_lock_container(e, id, false, &busy);
    if (fd >= 0 || busy->kind != MK_ERR_CONFLICT) {
        if (fd < 0)
            *err = busy;
        return fd;
    }
    mk_err_free(busy);
    struct mk_container *c = NULL;
    bool running = mk_store_container_get(e->store, id, &c, NULL) == 0 &&
                   (mk_container_is_running(c) || strcmp(c->status, "restarting") == 0);
    mk_container_free(c);
    if (running)
        return mk_err_set(err, MK_ERR_NOT_MODIFIED, "container %s is already running", id);
    return mk_engine_lock_container(e, id, true, err);
}

/* --link: the linked containers' variables join the process's environment
 * (docker puts them before the container's own). */
static int add_link_env(struct mk_engine *e, const struct mk_container *c, json_t *spec,
                        mk_err **err)
{
    if (json_array_size(json_object_get(json_object_get(c->config, "HostConfig"), "Links")) == 0)
        return 0;
    json_t *hosts = NULL, *env = NULL;
    if (mk_links_resolve(e, c, &hosts, &env, err) < 0)
        return -1;
    json_t *penv = json_object_get(json_object_get(spec, "process"), "env");
    json_array_extend(env, penv);
    json_array_clear(penv);
    json_array_extend(penv, env);
    json_decref(hosts);
    json_decref(env);
    return 0;
}

/* What the forked monitor makes on a thread of its own while its main thread
 * opens the store, creates the container and builds its spec: what the spec
 * builder and the runtime read once per process (mk_spec_warm, mk_runtime_warm:
 * ~0.3 ms, most of it parsing the default seccomp profile), the network
 * namespace (~0.5 ms alone here, 1-2 ms while the previous container's is
 * torn down) and, for ports to publish, libnftables loaded (~1.5 ms).  In
 * that order: the spec builder needs the first (it waits for the thread's
 * pthread_once) before the start needs the namespace, and with the namespace
 * first, a slow one held the spec up (traced: the slowest third of 100 runs
 * had their spec built 0.8 ms later).  Failing is not final: the start makes
 * the namespace again and says why. */
struct monitor_prep {
    bool netns_wanted, firewall_wanted;
    int netns;
    bool threaded;
    pthread_t thread;
};

static void *monitor_prep(void *arg)
{
    struct monitor_prep *p = arg;
    mk_spec_warm();
    mk_runtime_warm();
    if (p->netns_wanted && mk_netns_create(&p->netns, NULL) < 0)
        p->netns = -1;
    mk_trace("monitor-netns");
    if (p->firewall_wanted)
        mk_fw_prepare(NULL);
    return NULL;
}

static void monitor_prep_begin(struct monitor_prep *p)
{
    p->threaded = pthread_create(&p->thread, NULL, monitor_prep, p) == 0;
    if (!p->threaded)
        monitor_prep(p);
}

/* Joined before anything forks (the init is cloned from a single-threaded
 * process).  Returns the namespace, now the caller's; -1 without one. */
static int monitor_prep_end(struct monitor_prep *p)
{
    if (p == NULL)
        return -1;
    if (p->threaded)
        pthread_join(p->thread, NULL);
    p->threaded = false;
    return steal_fd(&p->netns);
}

/* Everything between "start this container" and the monitor's loop: the
 * bundle's spec (built here, in the monitor, so the CLI only waits), the log
 * and runtime settings.  A failure is sent to the client as an ERROR frame. */
static int monitor_start(struct mk_engine *e, const char *id, int client_fd,
                         struct monitor_prep *prep, bool attach_event, mk_err **err)
{
    _cleanup_close_ int netns = -1;
    int ret = -1;
    struct mk_container *c = NULL;
    struct mk_image *img = NULL;
    json_t *spec = NULL;
    _cleanup_free_ char *runtime = NULL;
    _cleanup_free_ char *dir = NULL;
    _cleanup_free_ char *rundir = NULL;
    _cleanup_free_ char *log_path = NULL;
    _cleanup_free_ char *runtime_root = NULL;
    struct rootfs_dirs dirs = {0};
    struct monitor_ctx m = {.e = e, .lock_fd = -1, .attach_event = attach_event};
    /* Held until the monitor exits (close-on-exec, so never the container's):
     * a cp into the stopped container finishes before this start mounts. */
    m.lock_fd = take_run_lock(e, id, err);
    if (m.lock_fd < 0 || mk_store_container_get(e->store, id, &c, err) < 0)
        goto fail;
    const json_t *config = json_object_get(c->config, "Config");
    const json_t *hc = json_object_get(c->config, "HostConfig");
    const json_t *log = json_object_get(hc, "LogConfig");
    const char *driver = mk_json_str(log, "Type");
    int64_t max_size = 0;
    int max_file = 1;
    const char *ms = mk_json_str(json_object_get(log, "Config"), "max-size");
    const char *mf = mk_json_str(json_object_get(log, "Config"), "max-file");
    if (ms != NULL && mk_size_parse(ms, &max_size, err) < 0)
        goto fail;
    if (mf != NULL)
        max_file = atoi(mf) > 0 ? atoi(mf) : 1;
    if (mk_engine_runtime_path(mk_json_str(hc, "Runtime"), &runtime, err) < 0 ||
        image_of(e, c, &img, err) < 0 || mk_engine_ensure_emulation(img, err) < 0)
        goto fail;
    /* Looked up once: our runtime's rootfs is mounted from them meanwhile
     * (rootfs_job.c), and the spec names them. */
    if (rootfs_dirs_get(e, c, img, &dirs, err) < 0)
        goto fail;
    if (runtime == NULL)
        m.rootfs = rootfs_begin(c, &dirs);
    if (build_spec(e, c, img, &dirs, true, &spec, err) < 0)
        goto fail;
    /* build_spec warmed the spec's facts if the prep thread had not; the
     * runtime's too, rather than wait for the thread's namespace (each is
     * read once, by whichever thread comes first). */
    mk_runtime_warm();
    netns = monitor_prep_end(prep);
    if (use_netns(spec, &netns, err) < 0 || add_link_env(e, c, spec, err) < 0)
        goto fail;
    mk_trace("monitor-spec");
    dir = mk_store_container_dir(e->store, c->id);
    rundir = mk_store_container_rundir(e->store, c->id);
    /* An external runtime reads the bundle before anything runs. */
    if (runtime != NULL && write_bundle_config(dir, spec, err) < 0)
        goto fail;
    if (mk_engine_rundir_make(e, c->id, err) < 0)
        goto fail;
    /* With our runtime, the veth pairs are made while the init sets up. */
    if (mk_container_net_up(e, c, netns, runtime == NULL, &m.net, err) < 0)
        goto fail;
    mk_trace("monitor-net");
    log_path = mk_container_log_path(e, c);
    runtime_root = mk_path_join(e->store->runroot, "runc");
    m.c = c;
    m.spec = spec;
    m.spec_written = runtime != NULL;
    m.external = runtime != NULL;
    m.auto_remove = mk_json_bool(hc, "AutoRemove", false);
    bool probe = mk_engine_health_init(&m.health, e, c);
    struct mk_monitor_params p = {
        .id = c->id,
        .rundir = rundir,
        .bundle = dir,
        .spec = spec,
        .runtime = runtime,
        .runtime_root = runtime_root,
        .tty = mk_json_bool(config, "Tty", false),
        .open_stdin = mk_json_bool(config, "OpenStdin", false),
        .stdin_once = mk_json_bool(config, "StdinOnce", false),
        .log_driver = driver && *driver ? driver : "json-file",
        .log_path = log_path,
        .log_max_size = max_size,
        .log_max_file = max_file,
        .client_fd = client_fd,
        .health = probe ? &m.health.probe : NULL,
        .unmount_late = m.auto_remove,
        .rootfs = m.rootfs,
        .source_fd = -1,
        .hooks = {.ctx = &m,
                  .starting = hook_starting,
                  /* Only then does the init wait for it before its execve. */
                  .before_exec =
                      mk_container_net_links_planned(m.net) ? hook_before_exec : NULL,
                  .started = hook_started,
                  .start_failed = hook_start_failed,
                  .exited = hook_exited,
                  .finished = hook_finished,
                  .keep = hook_keep,
                  .health_paused = hook_health_paused,
                  .health_result = hook_health_result,
                  .restart_delay = hook_restart_delay,
                  .restart_cancelled = hook_restart_cancelled},
    };
    mk_container_net_source(m.net, &p);
    /* From here on the monitor reports its own failures. */
    ret = mk_monitor_main(&p, err);
    net_down(&m);
    mk_engine_health_free(&m.health);
    goto out;
fail:
    rootfs_end(&m);
    net_down(&m);
    /* docker removes a --rm container whose start failed, before the client
     * hears of it (a process that failed: hook_start_failed). */
    if (m.lock_fd >= 0 && c != NULL &&
        mk_json_bool(json_object_get(c->config, "HostConfig"), "AutoRemove", false)) {
        mk_closep(&m.lock_fd);
        mk_container_remove(e, c->id, true, true, NULL);
    }
    mk_monitor_send_error(client_fd, *err);
out:
    rootfs_end(&m);
    rootfs_dirs_clear(&dirs);
    mk_closep(&m.lock_fd);
    json_decref(spec);
    mk_image_free(img);
    mk_container_free(c);
    return ret;
}

int mk_engine_monitor_main(const char *id, int client_fd, mk_err **err)
{
    struct mk_engine *e = NULL;
    if (mk_engine_open_plain(&e, err) < 0) {
        mk_monitor_send_error(client_fd, *err);
        return -1;
    }
    mk_trace("monitor-engine");
    int ret = monitor_start(e, id, client_fd, NULL, false, err);
    mk_engine_free(e);
    return ret;
}

/* The forked monitor detaches as spawn_monitor's child would be: a session of
 * its own, default signals, /dev/null for stdio, its connection as fd 3 and
 * nothing else the CLI had open. */
static void detach_forked(int conn)
{
    setsid();
    mk_signals_default();
    int keep = fcntl(conn, F_DUPFD_CLOEXEC, 10);
    int null = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; fd++)
        if (null >= 0 && null != fd)
            dup2(null, fd);
    dup3(keep, 3, O_CLOEXEC);
    closefrom(4);
    mk_trace_forked();
}

/* The create of `run` in the forked monitor: the request of
 * mk_engine_run_create, answered with a CREATED frame.  *attach: whether the
 * CLI attaches; *at_once: whether to start without waiting for START. */
static int forked_create(struct mk_engine *e, const char *data, size_t len, char **id,
                         bool *attach, bool *at_once, mk_err **err)
{
    _cleanup_json_ json_t *req = json_loadb(data, len, 0, NULL);
    _cleanup_json_ json_t *warnings = NULL;
    struct mk_platform platform;
    const char *platform_s = mk_json_str(req, "Platform");
    *attach = mk_json_bool(req, "Attach", false);
    *at_once = mk_json_bool(req, "Start", false);
    int r = e == NULL ? -1
            : !json_is_object(req)
                ? mk_err_set(err, MK_ERR_INVALID, "bad create request to the monitor")
            : platform_s != NULL && mk_platform_parse(platform_s, &platform, err) < 0
                ? -1
                : mk_container_create_platform(e, mk_json_str(req, "Name"),
                                               platform_s != NULL ? &platform : NULL,
                                               json_object_get(req, "Config"), id, &warnings, err);
    json_t *reply = r == 0 ? json_pack("{s:s,s:o}", "Id", *id, "Warnings",
                                       warnings != NULL ? json_incref(warnings) : json_array())
                           : json_pack("{s:s,s:i,s:i}", "Error", (*err)->msg, "Kind",
                                       (int)(*err)->kind, "Code", (*err)->exit_code);
    _cleanup_free_ char *text = json_dumps(reply, JSON_COMPACT);
    json_decref(reply);
    size_t n = strlen(text);
    mk_frame_write(3, MK_FRAME_CREATED, text, n < MK_FRAME_MAX ? n : MK_FRAME_MAX);
    return r;
}

/* The forked monitor: prepares while the CLI parses, creates the container
 * when asked and starts it when told.  The CLI closing the connection instead
 * ends it quietly (a container created stays, as after `create`).  The prep
 * thread is joined once the spec is built (monitor_prep_end). */
static int forked_monitor(bool netns_wanted, bool firewall_wanted)
{
    _cleanup_err_ mk_err *err = NULL;
    struct monitor_prep prep = {.netns_wanted = netns_wanted,
                                .firewall_wanted = firewall_wanted,
                                .netns = -1};
    monitor_prep_begin(&prep);
    struct mk_engine *e = NULL;
    if (mk_engine_open_plain(&e, &err) < 0)
        e = NULL;
    mk_trace("monitor-engine");
    enum mk_frame_type type;
    _cleanup_free_ char *data = NULL, *id = NULL, *start = NULL;
    size_t len;
    bool attach = false, at_once = false;
    int ret = 0;
    if (mk_frame_read(3, &type, &data, &len) > 0 && type == MK_FRAME_CREATE) {
        mk_trace("monitor-create");
        ret = forked_create(e, data, len, &id, &attach, &at_once, &err);
        mk_trace("monitor-created");
    }
    if (ret == 0 && id != NULL &&
        (at_once || (mk_frame_read(3, &type, &start, &len) > 0 && type == MK_FRAME_START))) {
        mk_trace("monitor-main");
        ret = monitor_start(e, id, 3, &prep, attach, &err);
    }
    /* Not started, or failed before its namespace was needed. */
    int unused = monitor_prep_end(&prep);
    mk_closep(&unused);
    mk_engine_free(e);
    return ret < 0 ? 1 : 0;
}

int mk_engine_monitor_fork(int *monitor_fd, bool netns, bool firewall, mk_err **err)
{
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
        return mk_err_sys(err, "socketpair");
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(sp[0]);
        close(sp[1]);
        return mk_err_errno(err, saved, "could not start the container's monitor");
    }
    if (pid == 0) {
        close(sp[0]);
        detach_forked(sp[1]);
        /* Not exit(): the CLI's stdio buffers and atexit handlers are not ours. */
        _exit(forked_monitor(netns, firewall));
    }
    close(sp[1]);
    *monitor_fd = sp[0];
    return 0;
}
