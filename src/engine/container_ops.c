/* container_ops.c: looking containers up, stop, kill, wait and rm. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "engine/spec.h"
#include "network/network.h"
#include "monitor/monitor.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>

bool mk_container_is_running(const struct mk_container *c)
{
    return strcmp(c->status, "running") == 0 || strcmp(c->status, "paused") == 0 ||
           strcmp(c->status, "restarting") == 0;
}

/* A running container whose monitor is gone was killed with it (the init has
 * PDEATHSIG=SIGKILL): record that, so ps never shows a ghost as Up. */
static void reconcile(struct mk_engine *e, struct mk_container *c)
{
    if (!mk_container_is_running(c) || mk_proc_alive(c->monitor_pid, c->monitor_start))
        return;
    /* Between two runs of a restart policy (no pid) the last exit code is
     * already recorded; otherwise the init died of SIGKILL with the monitor. */
    if (c->pid != 0)
        c->exit_code = 137;
    free(c->status);
    c->status = xstrdup("exited");
    c->finished_at = mk_now_ns();
    c->pid = 0;
    c->pid_start = 0;
    mk_store_container_save_state(e->store, c, NULL);
}

int mk_container_get(struct mk_engine *e, const char *ref, struct mk_container **out, mk_err **err)
{
    if (mk_store_container_get(e->store, ref, out, err) < 0)
        return -1;
    reconcile(e, *out);
    return 0;
}

int mk_container_list(struct mk_engine *e, struct mk_container ***out, size_t *n, mk_err **err)
{
    if (mk_store_container_list(e->store, out, n, err) < 0)
        return -1;
    for (size_t i = 0; i < *n; i++)
        reconcile(e, (*out)[i]);
    return 0;
}

char *mk_container_log_path(struct mk_engine *e, const struct mk_container *c)
{
    _cleanup_free_ char *dir = mk_store_container_dir(e->store, c->id);
    return xasprintf("%s/%s-json.log", dir, c->id);
}

int mk_engine_attach_connect(struct mk_engine *e, const struct mk_container *c)
{
    _cleanup_free_ char *rundir = mk_store_container_rundir(e->store, c->id);
    _cleanup_free_ char *sock = mk_path_join(rundir, "attach.sock");
    _cleanup_err_ mk_err *ignored = NULL;
    return mk_unix_connect(sock, &ignored);
}

/* Read frames until EXIT; output frames are dropped (we only wait). */
static int wait_exit_on(int fd, int timeout_ms, int *code)
{
    int64_t deadline = timeout_ms < 0 ? 0 : mk_monotonic_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        int wait_ms = -1;
        if (timeout_ms >= 0) {
            int64_t left = deadline - mk_monotonic_ns();
            if (left <= 0)
                return 0;
            wait_ms = (int)(left / 1000000) + 1;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, wait_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return 0;
        enum mk_frame_type type;
        _cleanup_free_ char *data = NULL;
        size_t len;
        r = mk_frame_read(fd, &type, &data, &len);
        if (r <= 0)
            return -1;
        if (type == MK_FRAME_EXIT) {
            *code = atoi(data);
            return 1;
        }
    }
}

int mk_engine_wait_exit(struct mk_engine *e, const struct mk_container *c, int timeout_ms,
                        int *code)
{
    _cleanup_close_ int fd = mk_engine_attach_connect(e, c);
    if (fd < 0)
        return -1;
    return wait_exit_on(fd, timeout_ms, code);
}

/* Send sig to the init, if it is still the process we started. */
static int signal_init(const struct mk_container *c, int sig, mk_err **err)
{
    if (c->pid <= 0 || !mk_proc_alive(c->pid, c->pid_start))
        return 0;
    if (kill(c->pid, sig) < 0 && errno != ESRCH)
        return mk_err_sys(err, "kill container %s", c->id);
    return 0;
}

/* Stop on purpose: through the monitor when it answers, so that the restart
 * policy does not undo it and a container waiting to restart stays stopped;
 * the monitor signals its init itself (no pid race).  Without a monitor, the
 * signal goes to the init directly.  keep: a --rm container is kept (the stop
 * of `restart`, as docker's). */
static int stop_init(const struct mk_container *c, int monitor_fd, int sig, bool keep,
                     mk_err **err)
{
    if (monitor_fd >= 0) {
        char text[24];
        snprintf(text, sizeof(text), "%d%s", sig, keep ? " keep" : "");
        if (mk_frame_write(monitor_fd, MK_FRAME_STOP, text, strlen(text)) == 0)
            return 0;
    }
    return signal_init(c, sig, err);
}

/* After a signal: wait for the monitor's report, or for the monitor to vanish. */
static int wait_stopped(struct mk_engine *e, struct mk_container *c, int fd, int timeout_ms)
{
    int code;
    if (fd >= 0) {
        int r = wait_exit_on(fd, timeout_ms, &code);
        if (r != -1)
            return r;
    }
    /* No monitor to tell us: watch the processes themselves. */
    int64_t deadline = mk_monotonic_ns() + (int64_t)(timeout_ms < 0 ? 3600000 : timeout_ms) * 1000000;
    while (mk_proc_alive(c->pid, c->pid_start) || mk_proc_alive(c->monitor_pid, c->monitor_start)) {
        if (mk_monotonic_ns() > deadline)
            return 0;
        usleep(5000);
    }
    return 1;
}

static int container_stop(struct mk_engine *e, const char *ref, int timeout, const char *signal,
                          bool keep, mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    int ret = -1;
    _cleanup_close_ int fd = -1;
    if (!mk_container_is_running(c)) {
        mk_err_set(err, MK_ERR_NOT_MODIFIED, "container %s is not running", c->id);
        goto out;
    }
    const json_t *config = json_object_get(c->config, "Config");
    const char *sig_name = signal && *signal ? signal : mk_json_str(config, "StopSignal");
    int sig = SIGTERM;
    if (sig_name != NULL && mk_signal_parse(sig_name, &sig, err) < 0)
        goto out;
    if (timeout < 0)
        timeout = (int)mk_json_int(config, "StopTimeout", 10);
    fd = mk_engine_attach_connect(e, c);
    if (stop_init(c, fd, sig, keep, err) < 0)
        goto out;
    mk_engine_thaw_after_signal(e, c);
    if (wait_stopped(e, c, fd, timeout * 1000) == 0) {
        if (stop_init(c, fd, SIGKILL, keep, err) < 0)
            goto out;
        wait_stopped(e, c, fd, -1);
    }
    mk_container_event(e, c, "stop", NULL);
    ret = 0;
out:
    mk_container_free(c);
    return ret;
}

int mk_container_stop(struct mk_engine *e, const char *ref, int timeout, const char *signal,
                      mk_err **err)
{
    return container_stop(e, ref, timeout, signal, false, err);
}

/* docker: SIGKILL, or the container's stop signal (any signal when it has
 * none), is a stop on purpose; other signals leave the policy alone. */
static int kill_init(struct mk_engine *e, const struct mk_container *c, int sig, mk_err **err)
{
    const char *stop_name = mk_json_str(json_object_get(c->config, "Config"), "StopSignal");
    int stop_sig = 0;
    bool on_purpose = sig == SIGKILL || stop_name == NULL || *stop_name == '\0' ||
                      (mk_signal_parse(stop_name, &stop_sig, NULL) == 0 && stop_sig == sig);
    if (!on_purpose)
        return signal_init(c, sig, err);
    _cleanup_close_ int fd = mk_engine_attach_connect(e, c);
    return stop_init(c, fd, sig, false, err);
}

int mk_container_kill(struct mk_engine *e, const char *ref, const char *signal, mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    int ret = -1;
    int sig = SIGKILL;
    _cleanup_free_ char *sig_s = NULL;
    if (signal != NULL && *signal && mk_signal_parse(signal, &sig, err) < 0)
        goto out;
    if (!mk_container_is_running(c)) {
        mk_err_set(err, MK_ERR_CONFLICT, "Cannot kill container: %s: Container %s is not running",
                   ref, c->id);
        goto out;
    }
    if (kill_init(e, c, sig, err) < 0)
        goto out;
    mk_engine_thaw_after_signal(e, c);
    sig_s = xasprintf("%d", sig);
    json_t *attrs = json_pack("{s:s}", "signal", sig_s);
    mk_container_event(e, c, "kill", attrs);
    json_decref(attrs);
    ret = 0;
out:
    mk_container_free(c);
    return ret;
}

int mk_container_wait(struct mk_engine *e, const char *ref, int *exit_code, mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    if (mk_container_is_running(c)) {
        int code;
        if (mk_engine_wait_exit(e, c, -1, &code) == 1) {
            *exit_code = code;
            mk_container_free(c);
            return 0;
        }
        /* The monitor went away without a report: read what it recorded. */
        wait_stopped(e, c, -1, -1);
        mk_container_free(c);
        if (mk_container_get(e, ref, &c, err) < 0)
            return -1;
    }
    *exit_code = c->exit_code;
    mk_container_free(c);
    return 0;
}

/* A container's directory leaves through <root>/trash: one rename when the
 * container is removed, the recursive delete when the remover has time (the
 * monitor of a --rm container does it after reporting the exit, so `run --rm`
 * does not wait for it).  An entry left by a remover that died is taken by the
 * next mk_engine_empty_trash. */
static int move_to_trash(struct mk_engine *e, const char *id, mk_err **err)
{
    int root = e->store->root_fd;
    if (mkdirat(root, "trash", 0700) < 0 && errno != EEXIST)
        return mk_err_sys(err, "mkdir %s/trash", e->store->root);
    _cleanup_free_ char *from = xasprintf("containers/%s", id);
    _cleanup_free_ char *to = xasprintf("trash/%s", id);
    if (renameat(root, from, root, to) < 0 && errno != ENOENT)
        return mk_err_sys(err, "move %s/%s to the trash", e->store->root, from);
    return 0;
}

int mk_engine_lock_container(struct mk_engine *e, const char *id, bool wait, mk_err **err)
{
    _cleanup_free_ char *rel = xasprintf("containers/%s", id);
    int fd = openat(e->store->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return mk_err_sys(err, "open %s/%s", e->store->root, rel);
    int r;
    do
        r = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        int saved = errno;
        close(fd);
        if (saved == EWOULDBLOCK)
            return mk_err_set(err, MK_ERR_CONFLICT, "container %s is starting", id);
        return mk_err_errno(err, saved, "lock container %s", id);
    }
    return fd;
}

int mk_engine_remove_files(struct mk_engine *e, const struct mk_container *c, const json_t *spec,
                           const json_t *die_attrs, mk_err **err)
{
    _cleanup_free_ char *dir = mk_store_container_dir(e->store, c->id);
    _cleanup_json_ json_t *loaded = NULL;
    if (spec == NULL) {
        _cleanup_free_ char *cfg = mk_path_join(dir, "config.json");
        loaded = mk_json_load_file(cfg, NULL);
        spec = loaded;
    }
    /* No config.json: never started, or its monitor was killed before writing
     * it, when its cgroup may exist already (made ahead, or by the runtime). */
    int r = 0;
    if (spec == NULL) {
        _cleanup_free_ char *cg = mk_spec_cgroups_path(
            mk_json_str(json_object_get(c->config, "HostConfig"), "CgroupParent"), c->id);
        r = mk_cgroup_destroy(cg, err);
    } else {
        r = mk_runtime_delete(spec, err);
    }
    if (r < 0 || mk_engine_remove_rundir(e, c->id, err) < 0) {
        /* The exit happened all the same. */
        if (die_attrs != NULL)
            mk_container_event(e, c, "die", die_attrs);
        return mk_err_wrap(err, "remove container %s", c->id);
    }
    return mk_engine_remove_entry(e, c, die_attrs, err);
}

int mk_engine_remove_entry(struct mk_engine *e, const struct mk_container *c,
                           const json_t *die_attrs, mk_err **err)
{
    if (move_to_trash(e, c->id, err) < 0) {
        /* The exit happened all the same. */
        if (die_attrs != NULL)
            mk_container_event(e, c, "die", die_attrs);
        return mk_err_wrap(err, "remove container %s", c->id);
    }
    mk_trace("rm-files");
    /* One commit for the row and its events. */
    if (mk_store_begin(e->store, err) < 0)
        return -1;
    if (die_attrs != NULL)
        mk_container_event(e, c, "die", die_attrs);
    if (mk_store_container_delete(e->store, c->id, err) < 0) {
        mk_store_rollback(e->store);
        return -1;
    }
    mk_container_event(e, c, "destroy", NULL);
    return mk_store_commit(e->store, err);
}

/* A container that does not run yet may be starting: its monitor holds the
 * run lock from before it leases addresses and ports until after it gives
 * them back.  Hold the lock for the removal, or, when a start holds it, wait
 * (up to 5 s) until the container runs and is removed as running. */
#define CREATE_GRACE_NS (2 * 1000000000LL)

static int starting(struct mk_engine *e, struct mk_container **c, int *lock, mk_err **err)
{
    for (int i = 0; i < 100; i++) {
        mk_err *busy = NULL;
        *lock = mk_engine_lock_container(e, (*c)->id, false, &busy);
        if (*lock >= 0)
            return 0;
        bool held = busy->kind == MK_ERR_CONFLICT;
        mk_err_free(busy);
        if (!held) {
            /* No directory: a removal half done, which this one finishes, or
             * a create between its row and its mkdir.  Removing that one now
             * would leave the directory it is about to make with no row:
             * give it a moment. */
            bool creating = strcmp((*c)->status, "created") == 0 &&
                            mk_now_ns() - (*c)->created < CREATE_GRACE_NS;
            if (!creating)
                return 0;
            /* (a create killed there: after the grace, removed as half done) */
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        struct mk_container *now = NULL;
        if (mk_container_get(e, (*c)->id, &now, err) < 0)
            return -1;
        mk_container_free(*c);
        *c = now;
        if (mk_container_is_running(now))
            return 0;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return mk_err_set(err, MK_ERR_CONFLICT, "container %s is being started or copied from", (*c)->id);
}

int mk_container_remove(struct mk_engine *e, const char *ref, bool force, bool remove_volumes,
                        mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    int ret = -1;
    _cleanup_close_ int lock = -1;
    if (!mk_container_is_running(c) && starting(e, &c, &lock, err) < 0)
        goto out;
    if (mk_container_is_running(c)) {
        if (!force) {
            mk_err_set(err, MK_ERR_CONFLICT,
                       "You cannot remove a running container %s. Stop the container before "
                       "attempting removal or force remove",
                       c->id);
            goto out;
        }
        _cleanup_close_ int fd = mk_engine_attach_connect(e, c);
        if (stop_init(c, fd, SIGKILL, false, err) < 0)
            goto out;
        mk_engine_thaw_after_signal(e, c);
        wait_stopped(e, c, fd, 10000);
        /* A --rm container's monitor removed it on the way out, as docker's
         * daemon does: nothing is left for us to remove. */
        struct mk_container *now = NULL;
        if (mk_store_container_get(e->store, c->id, &now, NULL) < 0) {
            ret = 0;
            goto out;
        }
        mk_container_free(now);
    }
    /* A monitor killed with -9 could not take its published ports back. */
    const json_t *hc = json_object_get(c->config, "HostConfig");
    if (json_object_size(json_object_get(hc, "PortBindings")) > 0 ||
        mk_json_bool(hc, "PublishAllPorts", false))
        mk_fw_ports_remove(c->id, NULL);
    /* Mark first: a rm killed half way is finished by the next rm. */
    free(c->status);
    c->status = xstrdup("removing");
    mk_store_container_save_state(e->store, c, NULL);
    ret = mk_engine_remove_files(e, c, NULL, NULL, err);
    if (ret == 0 && remove_volumes)
        mk_engine_remove_anon_volumes(e, c);
    mk_engine_empty_trash(e);
out:
    mk_container_free(c);
    return ret;
}

int mk_container_restart(struct mk_engine *e, const char *ref, int timeout, const char *signal,
                         mk_err **err)
{
    _cleanup_err_ mk_err *stop_err = NULL;
    /* A container that is not running is simply started, as docker does; a
     * --rm one that is stops without being removed. */
    if (container_stop(e, ref, timeout, signal, true, &stop_err) < 0 &&
        stop_err->kind != MK_ERR_NOT_MODIFIED) {
        if (err != NULL)
            *err = steal_pointer(&stop_err);
        return -1;
    }
    return mk_container_start(e, ref, NULL, err);
}
