/* boot.c: restart policies across a host reboot, without a daemon.
 *
 * dockerd starts the containers whose policy says so when it starts; mocker
 * has no daemon, so the first mocker command after a boot does it (or the
 * systemd unit in contrib/systemd, running `mocker __boot`).  A marker file in
 * the run root holds the kernel's boot id of the boot that was handled: the
 * run root is not always on a tmpfs emptied by a reboot (/run is a plain
 * directory of the root filesystem on some hosts, this VM among them), so the
 * marker's mere presence would not do.  The hot path costs two small reads. */
#include "engine/engine.h"
#include "engine/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#define BOOT_MARKER "booted"
#define BOOT_LOCK   "boot.lock"

#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"
#define BOOT_ID_MAX  64

/* The first line of path into buf ("" if unreadable). */
static void read_id(const char *path, char buf[BOOT_ID_MAX])
{
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, BOOT_ID_MAX - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
}

static bool boot_handled(const char *runroot)
{
    _cleanup_free_ char *marker = mk_path_join(runroot, BOOT_MARKER);
    char handled[BOOT_ID_MAX], now[BOOT_ID_MAX];
    read_id(marker, handled);
    read_id(BOOT_ID_PATH, now);
    return handled[0] != '\0' && strcmp(handled, now) == 0;
}

int mk_engine_boot_check(struct mk_engine *e, mk_err **err)
{
    return boot_handled(e->store->runroot) ? 0 : mk_engine_boot(e, err);
}

bool mk_engine_boot_pending(void)
{
    return !boot_handled(mk_store_runroot_default());
}

/* Running (by the store) when the host went down, with a policy that brings it back. */
static bool comes_back(const struct mk_container *c)
{
    bool was_running = strcmp(c->status, "running") == 0 ||
                       strcmp(c->status, "restarting") == 0 || strcmp(c->status, "paused") == 0;
    return was_running && mk_restart_on_boot(json_object_get(c->config, "HostConfig"));
}

/* Start the containers named in ids; the first error is returned after all
 * were tried.  mk_container_get reconciles first: the dead monitor's container
 * is recorded as exited, so the start goes ahead. */
static int start_all(struct mk_engine *e, char **ids, mk_err **err)
{
    int ret = 0;
    for (size_t i = 0; ids[i] != NULL; i++) {
        mk_err *one = NULL;
        if (mk_container_start(e, ids[i], NULL, &one) < 0) {
            if (ret == 0 && err != NULL && one->kind != MK_ERR_NOT_MODIFIED) {
                *err = one;
                one = NULL;
                ret = -1;
            }
            mk_err_free(one);
        }
    }
    return ret;
}

/* Who comes back, read before any reconcile marks the dead as exited. */
static int boot_candidates(struct mk_engine *e, char ***out, mk_err **err)
{
    struct mk_container **v = NULL;
    size_t n = 0;
    if (mk_store_container_list(e->store, &v, &n, err) < 0)
        return -1;
    char **ids = xcalloc(n + 1, sizeof(*ids));
    size_t k = 0;
    /* Oldest first, as they were probably started. */
    for (size_t i = n; i-- > 0;)
        if (comes_back(v[i]) && !mk_proc_alive(v[i]->monitor_pid, v[i]->monitor_start))
            ids[k++] = xstrdup(v[i]->id);
    mk_container_list_free(v, n);
    *out = ids;
    return 0;
}

int mk_engine_boot(struct mk_engine *e, mk_err **err)
{
    _cleanup_free_ char *lock_path = mk_path_join(e->store->runroot, BOOT_LOCK);
    _cleanup_close_ int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0)
        return mk_err_sys(err, "open %s", lock_path);
    /* One command does it; the others wait and then find it done. */
    while (flock(lock, LOCK_EX) < 0)
        if (errno != EINTR)
            return mk_err_sys(err, "lock %s", lock_path);
    _cleanup_strv_ char **ids = NULL;
    if (boot_candidates(e, &ids, err) < 0)
        return -1;
    /* Marked before starting: each new monitor opens the engine too. */
    _cleanup_free_ char *marker = mk_path_join(e->store->runroot, BOOT_MARKER);
    char now[BOOT_ID_MAX];
    read_id(BOOT_ID_PATH, now);
    if (mk_write_file_atomic(marker, now, strlen(now), 0644, err) < 0)
        return -1;
    struct mk_container **all = NULL;
    size_t n = 0;
    /* Record every container whose monitor died with the host. */
    if (mk_container_list(e, &all, &n, err) < 0)
        return -1;
    mk_container_list_free(all, n);
    return start_all(e, ids, err);
}
