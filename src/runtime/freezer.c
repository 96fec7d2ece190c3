/* freezer.c: pause and unpause, the freezer of a container's cgroup.
 *
 * v1 (and hybrid hosts, where runc uses the v1 freezer too): freezer.state
 * takes FROZEN or THAWED and reads FREEZING until every task has stopped.  v2:
 * cgroup.freeze takes 1 or 0 and cgroup.events says "frozen 1" once it holds.
 * Either way the write returns before the freeze is complete, so we poll. */
#include "runtime/internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* The v1 freezer hierarchy when the host mounts one, else the unified tree. */
static bool use_v1(void)
{
    return mk_cgroup_detect() != MK_CGROUP_V2 && access("/sys/fs/cgroup/freezer", F_OK) == 0;
}

static bool is_frozen(const char *dir, bool v1)
{
    if (v1) {
        _cleanup_free_ char *state = rt_cgroup_read(dir, "freezer.state");
        return state != NULL && strcmp(state, "FROZEN") == 0;
    }
    return rt_cgroup_keyed(dir, "cgroup.events", "frozen") == 1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int freeze(const char *dir, bool v1, mk_err **err)
{
    /* A task in the middle of a fork can keep v1 in FREEZING: runc rewrites
     * FROZEN until it holds; give up (and thaw) after about 5 seconds. */
    for (int attempt = 0; attempt < 1000; attempt++) {
        if (attempt % 10 == 0 &&
            rt_cgroup_write(dir, v1 ? "freezer.state" : "cgroup.freeze", v1 ? "FROZEN" : "1",
                            err) < 0)
            return -1;
        if (is_frozen(dir, v1))
            return 0;
        sleep_ms(5);
    }
    rt_cgroup_write(dir, v1 ? "freezer.state" : "cgroup.freeze", v1 ? "THAWED" : "0", NULL);
    return mk_err_set(err, MK_ERR_INTERNAL, "freeze %s: the cgroup did not freeze within 5s", dir);
}

static char *freezer_dir(const char *path, bool *v1)
{
    *v1 = use_v1();
    if (*v1)
        return rt_cgroup_dir("freezer", path);
    if (mk_cgroup_detect() == MK_CGROUP_HYBRID)
        return xasprintf("/sys/fs/cgroup/unified%s", path);
    return rt_cgroup_dir("", path);
}

int mk_cgroup_freeze(const char *path, bool frozen, mk_err **err)
{
    bool v1;
    _cleanup_free_ char *dir = freezer_dir(path, &v1);
    if (access(dir, F_OK) < 0)
        return mk_err_sys(err, "cgroup %s", dir);
    if (frozen)
        return freeze(dir, v1, err);
    return rt_cgroup_write(dir, v1 ? "freezer.state" : "cgroup.freeze", v1 ? "THAWED" : "0", err);
}

bool mk_cgroup_frozen(const char *path)
{
    bool v1;
    _cleanup_free_ char *dir = freezer_dir(path, &v1);
    return is_frozen(dir, v1);
}
