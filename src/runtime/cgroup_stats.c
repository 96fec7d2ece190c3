/* cgroup_stats.c: reading a container's cgroup for docker stats and top.
 *
 * The figures are the ones runc hands dockerd, computed the way the docker CLI
 * then does (memory without the inactive file cache), so the numbers match. */
#include "runtime/internal.h"

#include <string.h>

static bool v2(void)
{
    return mk_cgroup_detect() == MK_CGROUP_V2;
}

static uint64_t cpu_ns(const char *path)
{
    bool ok;
    if (v2()) {
        _cleanup_free_ char *dir = rt_cgroup_dir("", path);
        int64_t us = rt_cgroup_keyed(dir, "cpu.stat", "usage_usec");
        return us > 0 ? (uint64_t)us * 1000 : 0;
    }
    _cleanup_free_ char *dir = rt_cgroup_dir("cpuacct", path);
    int64_t ns = rt_cgroup_read_i64(dir, "cpuacct.usage", &ok);
    return ok && ns > 0 ? (uint64_t)ns : 0;
}

/* docker's calculateMemUsageUnixNoCache: usage less the inactive page cache. */
static void memory(const char *path, struct mk_cgroup_stats *s)
{
    bool ok1, ok2;
    _cleanup_free_ char *dir = rt_cgroup_dir("memory", path);
    int64_t usage = rt_cgroup_read_i64(dir, v2() ? "memory.current" : "memory.usage_in_bytes", &ok1);
    int64_t limit = rt_cgroup_read_i64(dir, v2() ? "memory.max" : "memory.limit_in_bytes", &ok2);
    int64_t inactive =
        rt_cgroup_keyed(dir, "memory.stat", v2() ? "inactive_file" : "total_inactive_file");
    s->mem_usage = ok1 ? usage : -1;
    if (ok1 && inactive > 0 && inactive < usage)
        s->mem_usage = usage - inactive;
    s->mem_limit = ok2 ? limit : -1;
}

/* Sum the Read/Write bytes of every device ("8:0 Read 4096" on v1,
 * "8:0 rbytes=4096 wbytes=0 ..." in v2's io.stat). */
static void sum_blkio_line(char *line, struct mk_cgroup_stats *s)
{
    char *save = NULL;
    char *dev = strtok_r(line, " ", &save);
    if (dev == NULL)
        return;
    if (!v2()) {
        char *op = strtok_r(NULL, " ", &save), *val = strtok_r(NULL, " ", &save);
        if (op == NULL || val == NULL)
            return;
        if (strcasecmp(op, "read") == 0)
            s->blk_read += strtoll(val, NULL, 10);
        else if (strcasecmp(op, "write") == 0)
            s->blk_write += strtoll(val, NULL, 10);
        return;
    }
    for (char *kv = strtok_r(NULL, " ", &save); kv != NULL; kv = strtok_r(NULL, " ", &save)) {
        if (mk_str_has_prefix(kv, "rbytes="))
            s->blk_read += strtoll(kv + 7, NULL, 10);
        else if (mk_str_has_prefix(kv, "wbytes="))
            s->blk_write += strtoll(kv + 7, NULL, 10);
    }
}

static void blkio(const char *path, struct mk_cgroup_stats *s)
{
    /* runc reads the CFQ file and falls back to the throttle one (always there). */
    static const char *const v1_files[] = {"blkio.io_service_bytes_recursive",
                                           "blkio.throttle.io_service_bytes_recursive"};
    _cleanup_free_ char *dir = rt_cgroup_dir(v2() ? "" : "blkio", path);
    s->blk_read = s->blk_write = 0;
    for (size_t i = 0; i < (v2() ? 1 : 2); i++) {
        _cleanup_free_ char *f = xasprintf("%s/%s", dir, v2() ? "io.stat" : v1_files[i]);
        _cleanup_free_ char *data = NULL;
        if (mk_read_file(f, &data, NULL, NULL) < 0 || data[0] == '\0' ||
            mk_str_has_prefix(data, "Total"))
            continue;
        char *save = NULL;
        for (char *l = strtok_r(data, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save))
            sum_blkio_line(l, s);
        return;
    }
}

int mk_cgroup_stats(const char *path, struct mk_cgroup_stats *out, mk_err **err)
{
    struct mk_cgroup_stats s = {0};
    _cleanup_free_ char *pids_dir = rt_cgroup_dir("pids", path);
    if (access(pids_dir, F_OK) < 0)
        return mk_err_sys(err, "cgroup %s", pids_dir);
    bool ok;
    s.pids = rt_cgroup_read_i64(pids_dir, "pids.current", &ok);
    if (!ok)
        s.pids = -1;
    s.cpu_ns = cpu_ns(path);
    memory(path, &s);
    blkio(path, &s);
    *out = s;
    return 0;
}

int mk_cgroup_pids(const char *path, pid_t **out, size_t *n, mk_err **err)
{
    /* Any hierarchy holds every process; pids exists on v1 and v2 alike. */
    _cleanup_free_ char *dir = rt_cgroup_dir("pids", path);
    _cleanup_free_ char *f = xasprintf("%s/cgroup.procs", dir);
    _cleanup_free_ char *data = NULL;
    if (mk_read_file(f, &data, NULL, err) < 0)
        return -1;
    pid_t *v = NULL;
    size_t count = 0;
    char *save = NULL;
    for (char *l = strtok_r(data, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        v = xrealloc(v, (count + 1) * sizeof(*v));
        v[count++] = (pid_t)strtol(l, NULL, 10);
    }
    *out = v;
    *n = count;
    return 0;
}
