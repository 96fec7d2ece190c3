/* cgroup.c: container cgroups on v1, v2 and hybrid hosts.
 *
 * A container's cgroup is one relative path ("/mocker/<id>", the spec's
 * cgroupsPath) created in every hierarchy we use: on v1 each controller's own
 * mount under /sys/fs/cgroup (co-mounted ones like cpu,cpuacct are found through
 * their symlinks and de-duplicated), plus the cgroup2 mount in /sys/fs/cgroup/unified
 * on a hybrid host, as runc does; on v2 the single unified tree.  Creation is a
 * handful of mkdir/write syscalls: no mountinfo parsing on the start path. */
#include "runtime/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <time.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

struct hier {
    const char *name; /* controller (v1) or "" (unified) */
    char *dir;        /* mount point */
    bool v2;
};

/* v1 controllers a container is put in, when the host mounts them. */
static const char *const v1_controllers[] = {
    "memory",  "cpu",     "cpuacct",  "cpuset",     "pids", "freezer", "blkio",   "devices",
    "hugetlb", "net_cls", "net_prio", "perf_event", "rdma", "misc",    "systemd", NULL,
};

static struct hier hiers[32];
static size_t n_hiers;
static int layout = -1;

static bool is_fs(const char *path, long magic)
{
    struct statfs sf;
    return statfs(path, &sf) == 0 && (long)sf.f_type == magic;
}

static void detect_once(void)
{
    if (is_fs(CGROUP_ROOT, CGROUP2_SUPER_MAGIC)) {
        layout = MK_CGROUP_V2;
        hiers[n_hiers++] = (struct hier){"", xstrdup(CGROUP_ROOT), true};
        return;
    }
    dev_t seen[32];
    size_t n_seen = 0;
    for (size_t i = 0; v1_controllers[i] != NULL; i++) {
        _cleanup_free_ char *dir = xasprintf(CGROUP_ROOT "/%s", v1_controllers[i]);
        struct stat st;
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        bool dup = false;
        for (size_t j = 0; j < n_seen; j++)
            dup = dup || seen[j] == st.st_dev;
        if (dup)
            continue;
        seen[n_seen++] = st.st_dev;
        hiers[n_hiers++] = (struct hier){v1_controllers[i], steal_pointer(&dir), false};
    }
    layout = MK_CGROUP_V1;
    if (is_fs(CGROUP_ROOT "/unified", CGROUP2_SUPER_MAGIC)) {
        layout = MK_CGROUP_HYBRID;
        hiers[n_hiers++] = (struct hier){"", xstrdup(CGROUP_ROOT "/unified"), true};
    }
}

/* Once per process: mocker serve's connection threads share the result. */
static void detect(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, detect_once);
}

bool mk_cgroup_blkio_weight_supported(void)
{
    if (mk_cgroup_detect() == MK_CGROUP_V2)
        return true; /* io.weight: a failure to write it is reported at start */
    return access("/sys/fs/cgroup/blkio/blkio.weight", F_OK) == 0;
}

enum mk_cgroup_layout mk_cgroup_detect(void)
{
    detect();
    return (enum mk_cgroup_layout)layout;
}

/* The hierarchy holding a v1 controller's files; co-mounted controllers are
 * reached through the symlink named after them. */
char *rt_cgroup_dir(const char *controller, const char *path)
{
    detect();
    if (layout == MK_CGROUP_V2)
        return xasprintf(CGROUP_ROOT "%s", path);
    return xasprintf(CGROUP_ROOT "/%s%s", controller, path);
}

int rt_cgroup_path(const json_t *spec, const char **out, mk_err **err)
{
    const char *p = mk_json_str(json_object_get(spec, "linux"), "cgroupsPath");
    *out = NULL;
    if (p == NULL || *p == '\0')
        return 0;
    if (p[0] != '/')
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "cgroupsPath %s: only absolute cgroupfs paths are supported "
                          "(no systemd slice:prefix:name form)",
                          p);
    if (strstr(p, "/../") != NULL || mk_str_has_suffix(p, "/.."))
        return mk_err_set(err, MK_ERR_INVALID, "cgroupsPath %s: must not contain ..", p);
    *out = p;
    return 0;
}

int rt_cgroup_write(const char *dir, const char *file, const char *value, mk_err **err)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return mk_err_sys(err, "open %s", path);
    ssize_t n = write(fd, value, strlen(value));
    if (n < 0)
        return mk_err_sys(err, "write %s to %s", value, path);
    return 0;
}

static int writef(const char *dir, const char *file, mk_err **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int writef(const char *dir, const char *file, mk_err **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *v = xvasprintf(fmt, ap);
    va_end(ap);
    return rt_cgroup_write(dir, file, v, err);
}

char *rt_cgroup_read(const char *dir, const char *file)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
    char *data = NULL;
    if (mk_read_file(path, &data, NULL, NULL) < 0)
        return NULL;
    data[strcspn(data, "\n")] = '\0';
    return data;
}

/* A new cpuset cgroup starts with no cpus and mems, so nothing can join it,
 * unless its parent has cgroup.clone_children (ours do): copy the parent's
 * when the kernel did not, and let the new dir's own children inherit. */
static int cpuset_init(const char *parent, const char *dir, mk_err **err)
{
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    _cleanup_free_ char *cpus = rt_cgroup_read(dir, files[0]);
    bool inherited = cpus != NULL && *cpus != '\0';
    for (size_t i = 0; !inherited && i < 2; i++) {
        _cleanup_free_ char *v = rt_cgroup_read(parent, files[i]);
        if (v != NULL && *v != '\0' && rt_cgroup_write(dir, files[i], v, err) < 0)
            return -1;
    }
    return rt_cgroup_write(dir, "cgroup.clone_children", "1", err);
}

/* v2: a controller is usable in a cgroup only when its parent delegates it. */
static void v2_enable_controllers(const char *parent)
{
    _cleanup_free_ char *avail = rt_cgroup_read(parent, "cgroup.controllers");
    if (avail == NULL)
        return;
    char *save = NULL;
    for (char *c = strtok_r(avail, " ", &save); c != NULL; c = strtok_r(NULL, " ", &save)) {
        _cleanup_free_ char *v = xasprintf("+%s", c);
        rt_cgroup_write(parent, "cgroup.subtree_control", v, NULL);
    }
}

/* A directory just made gets its cpuset copied (v1) or its parent's
 * controllers delegated (v2). */
static int init_made(const struct hier *h, const char *full, mk_err **err)
{
    bool cpuset = !h->v2 && strcmp(h->name, "cpuset") == 0;
    if (!cpuset && !h->v2)
        return 0;
    _cleanup_free_ char *parent = xstrdup(full);
    *strrchr(parent, '/') = '\0';
    if (h->v2) {
        v2_enable_controllers(parent);
        return 0;
    }
    return cpuset_init(parent, full, err);
}

/* mkdir -p below the hierarchy's mount point. */
static int mkdir_hier(const struct hier *h, const char *path, mk_err **err)
{
    _cleanup_free_ char *full = xasprintf("%s%s", h->dir, path);
    /* The common cases in one mkdir: only the cgroup is missing, or it
     * exists (made and set up as below). */
    if (mkdir(full, 0755) == 0)
        return init_made(h, full, err);
    if (errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return mk_err_sys(err, "mkdir %s", full);
    for (char *p = full + strlen(h->dir) + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(full, 0755) == 0) {
            if (init_made(h, full, err) < 0)
                return -1;
        } else if (errno != EEXIST) {
            return mk_err_sys(err, "mkdir %s", full);
        }
        *p = saved;
        if (saved == '\0')
            return 0;
    }
}

/* ---- resources ---- */

static int64_t get_i64(const json_t *o, const char *key, bool *present)
{
    json_t *v = json_object_get(o, key);
    *present = json_is_integer(v);
    return *present ? json_integer_value(v) : 0;
}

static int check_memory(const json_t *mem, mk_err **err)
{
    /* swappiness and disableOOMKiller exist on v1 only. */
    static const char *const unsupported[] = {"kernel",       "kernelTCP",
                                              "swappiness",   "disableOOMKiller",
                                              "useHierarchy", "checkBeforeUpdate"};
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(*unsupported); i++) {
        json_t *v = json_object_get(mem, unsupported[i]);
        if (v == NULL || json_is_null(v) || json_is_false(v))
            continue;
        if (layout != MK_CGROUP_V2 && i >= 2 && i <= 3)
            continue;
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "linux.resources.memory.%s is not supported by mocker's runtime",
                          unsupported[i]);
    }
    return 0;
}

static int apply_memory_files(const char *path, const json_t *mem, mk_err **err)
{
    if (mem == NULL)
        return 0;
    if (check_memory(mem, err) < 0)
        return -1;
    bool has_limit, has_swap, has_res;
    int64_t limit = get_i64(mem, "limit", &has_limit);
    int64_t swap = get_i64(mem, "swap", &has_swap);
    int64_t res = get_i64(mem, "reservation", &has_res);
    _cleanup_free_ char *dir = rt_cgroup_dir("memory", path);
    if (layout == MK_CGROUP_V2) {
        if (has_limit && limit != 0 &&
            writef(dir, "memory.max", err, limit < 0 ? "max" : "%lld", (long long)limit) < 0)
            return -1;
        if (has_swap && swap != 0) {
            /* OCI swap is memory+swap (docker's --memory-swap); v2 counts swap alone. */
            if (swap > 0 && (!has_limit || limit <= 0))
                return mk_err_set(err, MK_ERR_INVALID,
                                  "unable to set swap limit without memory limit");
            if (swap > 0 && swap < limit)
                return mk_err_set(
                    err, MK_ERR_INVALID,
                    "memory+swap limit (%lld) should be bigger than memory limit (%lld)",
                    (long long)swap, (long long)limit);
            if (writef(dir, "memory.swap.max", err, swap < 0 ? "max" : "%lld",
                       (long long)(swap - limit)) < 0)
                return -1;
        }
        if (has_res && res != 0 &&
            writef(dir, "memory.low", err, res < 0 ? "max" : "%lld", (long long)res) < 0)
            return -1;
        return 0;
    }
    if (has_limit && limit != 0 &&
        writef(dir, "memory.limit_in_bytes", err, "%lld", (long long)limit) < 0)
        return -1;
    if (has_swap && swap != 0) {
        _cleanup_free_ char *f = xasprintf("%s/memory.memsw.limit_in_bytes", dir);
        if (access(f, F_OK) < 0)
            return mk_err_set(err, MK_ERR_UNSUPPORTED,
                              "this kernel does not account swap (no memory.memsw.limit_in_bytes): "
                              "cannot limit memory+swap");
        if (writef(dir, "memory.memsw.limit_in_bytes", err, "%lld", (long long)swap) < 0)
            return -1;
    }
    if (has_res && res != 0 &&
        writef(dir, "memory.soft_limit_in_bytes", err, "%lld", (long long)res) < 0)
        return -1;
    bool has;
    int64_t swappiness = get_i64(mem, "swappiness", &has);
    if (has && swappiness >= 0 && swappiness <= 100 &&
        writef(dir, "memory.swappiness", err, "%lld", (long long)swappiness) < 0)
        return -1;
    if (mk_json_bool(mem, "disableOOMKiller", false) &&
        rt_cgroup_write(dir, "memory.oom_control", "1", err) < 0)
        return -1;
    return 0;
}

static int apply_cpu(const char *path, const json_t *cpu, mk_err **err)
{
    if (cpu == NULL)
        return 0;
    bool has_shares, has_quota, has_period, has_rt;
    int64_t shares = get_i64(cpu, "shares", &has_shares);
    int64_t quota = get_i64(cpu, "quota", &has_quota);
    int64_t period = get_i64(cpu, "period", &has_period);
    get_i64(cpu, "realtimeRuntime", &has_rt);
    if (has_rt || json_object_get(cpu, "realtimePeriod") != NULL || json_object_get(cpu, "idle"))
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "linux.resources.cpu realtime/idle settings are not supported by "
                          "mocker's runtime");
    _cleanup_free_ char *dir = rt_cgroup_dir("cpu", path);
    if (layout == MK_CGROUP_V2) {
        /* runc's conversion of the [2, 262144] shares range onto [1, 10000]. */
        if (has_shares && shares != 0 &&
            writef(dir, "cpu.weight", err, "%lld",
                   (long long)(1 + ((shares - 2) * 9999) / 262142)) < 0)
            return -1;
        if ((has_quota && quota != 0) || (has_period && period != 0)) {
            if (period <= 0)
                period = 100000;
            _cleanup_free_ char *q =
                quota > 0 ? xasprintf("%lld", (long long)quota) : xstrdup("max");
            if (writef(dir, "cpu.max", err, "%s %lld", q, (long long)period) < 0)
                return -1;
        }
    } else {
        if (has_shares && shares != 0 &&
            writef(dir, "cpu.shares", err, "%lld", (long long)shares) < 0)
            return -1;
        if (has_period && period != 0 &&
            writef(dir, "cpu.cfs_period_us", err, "%lld", (long long)period) < 0)
            return -1;
        if (has_quota && quota != 0 &&
            writef(dir, "cpu.cfs_quota_us", err, "%lld", (long long)quota) < 0)
            return -1;
    }
    _cleanup_free_ char *cpuset = rt_cgroup_dir("cpuset", path);
    const char *cpus = mk_json_str(cpu, "cpus"), *mems = mk_json_str(cpu, "mems");
    if (cpus != NULL && *cpus != '\0' && rt_cgroup_write(cpuset, "cpuset.cpus", cpus, err) < 0)
        return -1;
    if (mems != NULL && *mems != '\0' && rt_cgroup_write(cpuset, "cpuset.mems", mems, err) < 0)
        return -1;
    return 0;
}

static int apply_pids(const char *path, const json_t *pids, mk_err **err)
{
    bool has;
    int64_t limit = get_i64(pids, "limit", &has);
    if (!has || limit == 0)
        return 0;
    _cleanup_free_ char *dir = rt_cgroup_dir("pids", path);
    return writef(dir, "pids.max", err, limit < 0 ? "max" : "%lld", (long long)limit);
}

static int apply_blkio(const char *path, const json_t *bio, mk_err **err)
{
    if (bio == NULL)
        return 0;
    _cleanup_free_ char *dir = rt_cgroup_dir(layout == MK_CGROUP_V2 ? "" : "blkio", path);
    bool has;
    int64_t weight = get_i64(bio, "weight", &has);
    if (has && weight != 0) {
        if (layout == MK_CGROUP_V2) {
            if (writef(dir, "io.weight", err, "default %lld",
                       (long long)(1 + (weight - 10) * 9999 / 990)) < 0)
                return -1;
        } else if (writef(dir, "blkio.weight", err, "%lld", (long long)weight) < 0) {
            return -1;
        }
    }
    if (json_object_get(bio, "leafWeight") != NULL ||
        (layout == MK_CGROUP_V2 && json_array_size(json_object_get(bio, "weightDevice")) > 0))
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "blkio leafWeight/weightDevice is not supported by mocker's runtime "
                          "on this cgroup layout");
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(bio, "weightDevice"), i, d)
    {
        if (writef(dir, "blkio.weight_device", err, "%lld:%lld %lld",
                   (long long)mk_json_int(d, "major", 0), (long long)mk_json_int(d, "minor", 0),
                   (long long)mk_json_int(d, "weight", 0)) < 0)
            return -1;
    }
    static const struct {
        const char *key, *v1, *v2;
    } throttles[] = {
        {"throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps"},
        {"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps"},
        {"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops"},
        {"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops"},
    };
    for (size_t t = 0; t < sizeof(throttles) / sizeof(*throttles); t++) {
        json_array_foreach(json_object_get(bio, throttles[t].key), i, d)
        {
            long long maj = mk_json_int(d, "major", 0), min = mk_json_int(d, "minor", 0);
            long long rate = mk_json_int(d, "rate", 0);
            int r = layout == MK_CGROUP_V2
                        ? writef(dir, "io.max", err, "%lld:%lld %s=%lld", maj, min, throttles[t].v2,
                                 rate)
                        : writef(dir, throttles[t].v1, err, "%lld:%lld %lld", maj, min, rate);
            if (r < 0)
                return -1;
        }
    }
    return 0;
}

/* Is every rule one docker's default list also has?  (Used on pure v2, where
 * device rules need an eBPF program that mocker does not load yet.) */
static bool devices_within_docker_defaults(const json_t *devices)
{
    static const struct {
        const char *type;
        long long major, minor;
    } allowed[] = {
        {"c", 1, 3},   {"c", 1, 5},   {"c", 1, 7}, {"c", 1, 8},    {"c", 1, 9},
        {"c", 5, 0},   {"c", 5, 1},   {"c", 5, 2}, {"c", 136, -1}, {"c", 10, 200},
        {"c", -1, -1}, {"b", -1, -1}, /* the wildcard ones only for "m" (mknod) */
    };
    size_t i;
    json_t *d;
    json_array_foreach(devices, i, d)
    {
        if (!mk_json_bool(d, "allow", false))
            continue;
        const char *type = mk_json_str(d, "type");
        long long maj = mk_json_int(d, "major", -1), min = mk_json_int(d, "minor", -1);
        const char *access = mk_json_str(d, "access");
        bool ok = false;
        for (size_t k = 0; k < sizeof(allowed) / sizeof(*allowed) && !ok; k++) {
            if (type == NULL || strcmp(type, allowed[k].type) != 0 || maj != allowed[k].major ||
                min != allowed[k].minor)
                continue;
            ok = allowed[k].major >= 0 || (access != NULL && strcmp(access, "m") == 0);
        }
        if (!ok)
            return false;
    }
    return true;
}

/* Whether two device rules can name the same device ("a", a missing type
 * or a negative number match anything). */
static bool rules_overlap(const json_t *a, const json_t *b)
{
    const char *ta = mk_json_str(a, "type"), *tb = mk_json_str(b, "type");
    if (ta != NULL && tb != NULL && strcmp(ta, "a") != 0 && strcmp(tb, "a") != 0 &&
        strcmp(ta, tb) != 0)
        return false;
    static const char *const nums[] = {"major", "minor"};
    for (size_t k = 0; k < 2; k++) {
        int64_t x = mk_json_int(a, nums[k], -1), y = mk_json_int(b, nums[k], -1);
        if (x >= 0 && y >= 0 && x != y)
            return false;
    }
    return true;
}

/* Whether devices[i] is already in effect: written before, with no rule of
 * the other kind since that could have undone it. */
static bool rule_in_effect(const json_t *devices, size_t i)
{
    const json_t *d = json_array_get(devices, i);
    bool allow = mk_json_bool(d, "allow", false);
    for (size_t k = i; k-- > 0;) {
        const json_t *e = json_array_get(devices, k);
        if (json_equal((json_t *)e, (json_t *)d))
            return true;
        if (mk_json_bool(e, "allow", false) != allow && rules_overlap(e, d))
            return false;
    }
    return false;
}

static int apply_devices(const char *path, const json_t *devices, mk_err **err)
{
    if (json_array_size(devices) == 0)
        return 0;
    if (layout == MK_CGROUP_V2) {
        if (devices_within_docker_defaults(devices))
            return 0;
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "device cgroup rules beyond docker's defaults (--device, "
                          "--device-cgroup-rule) need an eBPF device program on cgroup v2, which "
                          "mocker's runtime does not load yet (--runtime runc does)");
    }
    _cleanup_free_ char *dir = rt_cgroup_dir("devices", path);
    /* One rule per write, each file opened once (docker's defaults are ~20,
     * five of them twice: a rule already in effect is not written again). */
    static const char *const files[2] = {"devices.deny", "devices.allow"};
    int fds[2] = {-1, -1};
    int ret = 0;
    size_t i;
    json_t *d;
    json_array_foreach(devices, i, d)
    {
        if (rule_in_effect(devices, i))
            continue;
        const char *type = mk_json_str(d, "type");
        const char *access = mk_json_str(d, "access");
        int which = mk_json_bool(d, "allow", false);
        _cleanup_free_ char *file = xasprintf("%s/%s", dir, files[which]);
        if (fds[which] < 0 && (fds[which] = open(file, O_WRONLY | O_CLOEXEC)) < 0) {
            ret = mk_err_sys(err, "open %s", file);
            break;
        }
        _cleanup_free_ char *rule = NULL;
        if (type == NULL || strcmp(type, "a") == 0) {
            rule = xstrdup("a");
        } else {
            long long maj = mk_json_int(d, "major", -1), min = mk_json_int(d, "minor", -1);
            char majs[24] = "*", mins[24] = "*";
            if (maj >= 0)
                snprintf(majs, sizeof(majs), "%lld", maj);
            if (min >= 0)
                snprintf(mins, sizeof(mins), "%lld", min);
            rule = xasprintf("%s %s:%s %s", type, majs, mins,
                             access != NULL && *access ? access : "rwm");
        }
        if (write(fds[which], rule, strlen(rule)) < 0) {
            ret = mk_err_sys(err, "write %s to %s", rule, file);
            break;
        }
    }
    for (int k = 0; k < 2; k++)
        if (fds[k] >= 0)
            close(fds[k]);
    return ret;
}

static int apply_unified(const char *path, const json_t *unified, mk_err **err)
{
    if (json_object_size(unified) == 0)
        return 0;
    if (layout != MK_CGROUP_V2)
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "linux.resources.unified needs a cgroup v2 host");
    _cleanup_free_ char *dir = rt_cgroup_dir("", path);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)unified, key, v)
    {
        if (strchr(key, '/') != NULL || !json_is_string(v))
            return mk_err_set(err, MK_ERR_INVALID, "linux.resources.unified: bad key %s", key);
        if (rt_cgroup_write(dir, key, json_string_value(v), err) < 0)
            return -1;
    }
    return 0;
}

static int apply_resources(const char *path, const json_t *res, mk_err **err)
{
    static const char *const unsupported[] = {"hugepageLimits", "network", "rdma"};
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(*unsupported); i++) {
        json_t *v = json_object_get(res, unsupported[i]);
        if (v != NULL && !json_is_null(v) && (json_array_size(v) > 0 || json_object_size(v) > 0))
            return mk_err_set(err, MK_ERR_UNSUPPORTED,
                              "linux.resources.%s is not supported by mocker's runtime",
                              unsupported[i]);
    }
    if (apply_memory_files(path, json_object_get(res, "memory"), err) < 0 ||
        apply_cpu(path, json_object_get(res, "cpu"), err) < 0 ||
        apply_pids(path, json_object_get(res, "pids"), err) < 0 ||
        apply_blkio(path, json_object_get(res, "blockIO"), err) < 0 ||
        apply_devices(path, json_object_get(res, "devices"), err) < 0 ||
        apply_unified(path, json_object_get(res, "unified"), err) < 0)
        return -1;
    return 0;
}

int mk_cgroup_create(const char *path, const json_t *resources, mk_err **err)
{
    detect();
    for (size_t i = 0; i < n_hiers; i++) {
        if (mkdir_hier(&hiers[i], path, err) < 0)
            return mk_err_wrap(err, "create cgroup %s", path);
    }
    if (resources != NULL && apply_resources(path, resources, err) < 0)
        return mk_err_wrap(err, "cgroup %s", path);
    return 0;
}

/* How a process gets into its cgroup without the kernel's
 * cgroup_threadgroup_rwsem taken for writing: a cgroup.procs write (or a
 * tasks write naming another thread) takes it, and the first such write
 * after a quiet spell waits for an RCU grace period (~7 ms here, every
 * `run` after a pause, and now and then in a loop).  So a process is cloned
 * into its v2 cgroup (CLONE_INTO_CGROUP: only the read side), and its single
 * thread moves itself, "0", through each v1 hierarchy's tasks file (no lock
 * at all); cgroup.procs only when the clone could not do it. */
int rt_cgroup_open_v2_dir(const char *path, bool make, int *fd, mk_err **err)
{
    detect();
    *fd = -1;
    for (size_t i = 0; i < n_hiers; i++) {
        if (!hiers[i].v2)
            continue;
        if (make && mkdir_hier(&hiers[i], path, err) < 0)
            return mk_err_wrap(err, "create cgroup %s", path);
        _cleanup_free_ char *dir = xasprintf("%s%s", hiers[i].dir, path);
        *fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (*fd < 0)
            return mk_err_sys(err, "open %s", dir);
    }
    return 0;
}

int rt_cgroup_open_join(const char *path, int **fds, size_t *n, mk_err **err)
{
    detect();
    int *v = xcalloc(n_hiers + 1, sizeof(int));
    for (size_t i = 0; i < n_hiers; i++) {
        _cleanup_free_ char *f =
            xasprintf("%s%s/%s", hiers[i].dir, path, hiers[i].v2 ? "cgroup.procs" : "tasks");
        v[i] = open(f, O_WRONLY | O_CLOEXEC);
        if (v[i] < 0) {
            mk_err_sys(err, "open %s", f);
            rt_cgroup_close_fds(v, i);
            return -1;
        }
    }
    *fds = v;
    *n = n_hiers;
    return 0;
}

int rt_cgroup_join_self(const int *fds, size_t n, bool in_v2, mk_err **err)
{
    for (size_t i = 0; i < n; i++) {
        if (in_v2 && hiers[i].v2)
            continue;
        if (write(fds[i], "0", 1) < 0)
            return mk_err_sys(err, "join cgroup (%s)", hiers[i].dir);
    }
    return 0;
}

int rt_cgroup_gate_pass(struct rt_rootfs *r, mk_err **err)
{
    if (r->cgroup_gate < 0)
        return 0;
    int gate = r->cgroup_gate;
    r->cgroup_gate = -1;
    /* With the gate come the files to move itself in through (see above). */
    int fds[MK_SOCK_MAX_FDS];
    size_t n = 0;
    int j = rt_gate_wait_fds(gate, "the container's cgroup", fds, &n, MK_SOCK_MAX_FDS, err);
    if (j == 0 && r->cgroup_path != NULL && n != n_hiers)
        j = mk_err_set(err, MK_ERR_INTERNAL, "the container's cgroup came without its files");
    if (j == 0 && r->cgroup_path != NULL)
        j = rt_cgroup_join_self(fds, n, r->cloned_into_v2, err);
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
    if (j < 0)
        return -1;
    mk_trace("child-cgroup");
    if (r->unshare_cgroupns && unshare(CLONE_NEWCGROUP) < 0)
        return mk_err_sys(err, "unshare the cgroup namespace");
    return 0;
}

int rt_gate_wait(int fd, const char *what, mk_err **err)
{
    return rt_gate_wait_fds(fd, what, NULL, NULL, 0, err);
}

int rt_gate_wait_fds(int fd, const char *what, int *fds, size_t *n_fds, size_t max, mk_err **err)
{
    char ok;
    size_t n = 0;
    int r = mk_recv_fds(fd, &ok, fds, max, &n, err);
    if (n_fds != NULL)
        *n_fds = n;
    if (r < 0)
        return mk_err_wrap(err, "wait for %s", what);
    /* No byte: the monitor failed to set it up and reports why. */
    if (r == 0)
        return mk_err_set(err, MK_ERR_INTERNAL, "%s was not set up", what);
    return 0;
}

void rt_gate_open(int fd, const int *fds, size_t n_fds)
{
    /* EPIPE: the init died already; its channel says why. */
    mk_send_fds(fd, '1', fds, n_fds, NULL);
}

void rt_cgroup_close_fds(int *fds, size_t n)
{
    if (fds == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
}

int mk_cgroup_enter(const char *path, pid_t pid, mk_err **err)
{
    detect();
    for (size_t i = 0; i < n_hiers; i++) {
        _cleanup_free_ char *dir = xasprintf("%s%s", hiers[i].dir, path);
        if (writef(dir, "cgroup.procs", err, "%d", (int)pid) < 0)
            return -1;
    }
    return 0;
}

/* SIGKILL every process listed in dir/cgroup.procs; returns how many. */
static int kill_procs(const char *dir)
{
    _cleanup_free_ char *data = NULL;
    _cleanup_free_ char *f = xasprintf("%s/cgroup.procs", dir);
    if (mk_read_file(f, &data, NULL, NULL) < 0)
        return 0;
    int n = 0;
    for (char *p = data; *p != '\0';) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
            n++;
        p = end;
        while (*p == '\n')
            p++;
    }
    return n;
}

int mk_cgroup_destroy(const char *path, mk_err **err)
{
    detect();
    if (path == NULL || strcmp(path, "/") == 0 || *path == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "refusing to destroy the root cgroup");
    /* Processes may still fork while we kill: repeat until every rmdir works. */
    for (int attempt = 0;; attempt++) {
        bool busy = false;
        for (size_t i = 0; i < n_hiers; i++) {
            _cleanup_free_ char *dir = xasprintf("%s%s", hiers[i].dir, path);
            /* Empty (the init's exit took its pid namespace along): gone at once. */
            if (rmdir(dir) == 0 || errno == ENOENT)
                continue;
            if (errno != EBUSY)
                return mk_err_sys(err, "remove cgroup %s", dir);
            /* A frozen (paused) cgroup's tasks never act on SIGKILL: thaw it first. */
            if (!hiers[i].v2 && strcmp(hiers[i].name, "freezer") == 0)
                rt_cgroup_write(dir, "freezer.state", "THAWED", NULL);
            if (hiers[i].v2)
                rt_cgroup_write(dir, "cgroup.freeze", "0", NULL);
            if (hiers[i].v2 && rt_cgroup_write(dir, "cgroup.kill", "1", NULL) == 0)
                ;
            else
                kill_procs(dir);
            if (rmdir(dir) == 0 || errno == ENOENT)
                continue;
            if (errno != EBUSY)
                return mk_err_sys(err, "remove cgroup %s", dir);
            busy = true;
        }
        if (!busy)
            return 0;
        if (attempt >= 500)
            return mk_err_set(err, MK_ERR_INTERNAL, "remove cgroup %s: still busy after 5s", path);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int64_t rt_cgroup_read_i64(const char *dir, const char *file, bool *ok)
{
    _cleanup_free_ char *v = rt_cgroup_read(dir, file);
    *ok = v != NULL;
    if (v == NULL)
        return 0;
    if (strcmp(v, "max") == 0)
        return INT64_MAX;
    return strtoll(v, NULL, 10);
}

int mk_cgroup_memory(const char *path, int64_t *usage, int64_t *limit, mk_err **err)
{
    _cleanup_free_ char *dir = rt_cgroup_dir("memory", path);
    bool ok1, ok2;
    bool v2 = mk_cgroup_detect() == MK_CGROUP_V2;
    int64_t u = rt_cgroup_read_i64(dir, v2 ? "memory.current" : "memory.usage_in_bytes", &ok1);
    int64_t l = rt_cgroup_read_i64(dir, v2 ? "memory.max" : "memory.limit_in_bytes", &ok2);
    if (!ok1 || !ok2)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "no memory cgroup at %s", dir);
    *usage = u;
    *limit = l;
    return 0;
}

/* "key N" line of a flat-keyed cgroup file. */
int64_t rt_cgroup_keyed(const char *dir, const char *file, const char *key)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
    _cleanup_free_ char *data = NULL;
    if (mk_read_file(path, &data, NULL, NULL) < 0)
        return -1;
    size_t klen = strlen(key);
    for (char *line = data; line != NULL && *line != '\0';) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
            return strtoll(line + klen + 1, NULL, 10);
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return -1;
}

bool mk_runtime_oom_killed(const json_t *spec)
{
    const char *path = NULL;
    if (rt_cgroup_path(spec, &path, NULL) < 0 || path == NULL)
        return false;
    _cleanup_free_ char *dir = rt_cgroup_dir("memory", path);
    bool v2 = mk_cgroup_detect() == MK_CGROUP_V2;
    return rt_cgroup_keyed(dir, v2 ? "memory.events" : "memory.oom_control", "oom_kill") > 0;
}

static int v1_mounts_read(struct rt_cgroup_v1_mount **out, size_t *n, mk_err **err)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f == NULL)
        return mk_err_sys(err, "open /proc/self/mountinfo");
    struct rt_cgroup_v1_mount *v = NULL;
    size_t count = 0;
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
        char *sep = strstr(line, " - cgroup ");
        if (sep == NULL)
            continue;
        char *fields[5];
        char *save = NULL, *p = line;
        for (int i = 0; i < 5; i++, p = NULL)
            fields[i] = strtok_r(p, " ", &save);
        if (fields[4] == NULL || !mk_str_has_prefix(fields[4], CGROUP_ROOT "/"))
            continue;
        char *super = strrchr(sep + 10, ' ');
        if (super == NULL)
            continue;
        super++;
        super[strcspn(super, "\n")] = '\0';
        /* Keep only the controller names (and name=...), not rw/relatime etc. */
        mk_buf opts = {0};
        char *save2 = NULL;
        for (char *o = strtok_r(super, ",", &save2); o != NULL; o = strtok_r(NULL, ",", &save2)) {
            if (strcmp(o, "rw") == 0 || strcmp(o, "ro") == 0 || strcmp(o, "relatime") == 0 ||
                strcmp(o, "noatime") == 0 || strcmp(o, "nosuid") == 0 || strcmp(o, "nodev") == 0 ||
                strcmp(o, "noexec") == 0 || mk_str_has_prefix(o, "release_agent=") ||
                strcmp(o, "clone_children") == 0 || strcmp(o, "xattr") == 0)
                continue;
            if (opts.len > 0)
                mk_buf_puts(&opts, ",");
            mk_buf_puts(&opts, o);
        }
        v = xrealloc(v, (count + 1) * sizeof(*v));
        v[count].dir = xstrdup(fields[4]);
        v[count].name = xstrdup(fields[4] + strlen(CGROUP_ROOT "/"));
        v[count].opts = opts.len > 0 ? mk_buf_steal(&opts) : xstrdup("");
        mk_buf_free(&opts);
        count++;
    }
    *out = v;
    *n = count;
    return 0;
}

/* Read once per process: the host's hierarchies do not move under a
 * container's monitor, and `run`'s monitor reads them on its prep thread. */
static pthread_once_t v1_mounts_once = PTHREAD_ONCE_INIT;
static struct rt_cgroup_v1_mount *v1_mounts;
static size_t n_v1_mounts;
static int v1_mounts_errno;

static void v1_mounts_init(void)
{
    mk_err *err = NULL;
    if (v1_mounts_read(&v1_mounts, &n_v1_mounts, &err) < 0) {
        v1_mounts_errno = err->errnum != 0 ? err->errnum : EIO;
        mk_err_free(err);
    }
}

int rt_cgroup_v1_mounts(const struct rt_cgroup_v1_mount **out, size_t *n, mk_err **err)
{
    pthread_once(&v1_mounts_once, v1_mounts_init);
    if (v1_mounts_errno != 0)
        return mk_err_errno(err, v1_mounts_errno, "open /proc/self/mountinfo");
    *out = v1_mounts;
    *n = n_v1_mounts;
    return 0;
}

void mk_runtime_warm(void)
{
    detect();
    if (layout != MK_CGROUP_V2)
        pthread_once(&v1_mounts_once, v1_mounts_init);
}

/* v1 refuses a memory limit above memory+swap and a memory+swap below memory:
 * raise memory+swap before the memory limit and lower it after. */
static int v1_swap_first(const char *path, const json_t *mem, mk_err **err)
{
    bool has_swap, ok;
    int64_t swap = get_i64(mem, "swap", &has_swap);
    if (layout == MK_CGROUP_V2 || !has_swap || swap <= 0)
        return 0;
    _cleanup_free_ char *dir = rt_cgroup_dir("memory", path);
    int64_t cur = rt_cgroup_read_i64(dir, "memory.memsw.limit_in_bytes", &ok);
    if (ok && swap > cur)
        return writef(dir, "memory.memsw.limit_in_bytes", err, "%lld", (long long)swap);
    return 0;
}

int mk_cgroup_update(const char *path, const json_t *resources, mk_err **err)
{
    detect();
    if (v1_swap_first(path, json_object_get(resources, "memory"), err) < 0 ||
        apply_resources(path, resources, err) < 0)
        return mk_err_wrap(err, "update cgroup %s", path);
    return 0;
}
