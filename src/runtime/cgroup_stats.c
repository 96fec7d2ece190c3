/* cgroup_stats.c: a container's cgroup for docker stats and top.
 *
 * The figures are the ones runc hands dockerd (cgroup_stats_json.c), summed
 * the way the docker CLI then does (memory without the inactive file cache),
 * so the numbers match. */
#include "runtime/internal.h"

#include <string.h>

/* docker's sum over io_service_bytes_recursive, by the entries' op. */
static int64_t blk_bytes(const json_t *blkio, char op)
{
    int64_t sum = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(blkio, "io_service_bytes_recursive"), i, e) {
        const char *o = json_string_value(json_object_get(e, "op"));
        if (o != NULL && (o[0] | 0x20) == op)
            sum += json_integer_value(json_object_get(e, "value"));
    }
    return sum;
}

/* The summary of mk_cgroup_stats_json's figures, so that `mocker stats` and
 * the API read a cgroup the same way. */
int mk_cgroup_stats(const char *path, struct mk_cgroup_stats *out, mk_err **err)
{
    _cleanup_json_ json_t *j = NULL;
    if (mk_cgroup_stats_json(path, &j, err) < 0)
        return -1;
    struct mk_cgroup_stats s = {0};
    json_t *cur = json_object_get(json_object_get(j, "pids_stats"), "current");
    s.pids = cur != NULL ? json_integer_value(cur) : -1;
    s.cpu_ns = (uint64_t)json_integer_value(
        json_object_get(json_object_get(json_object_get(j, "cpu_stats"), "cpu_usage"), "total_usage"));
    /* docker's calculateMemUsageUnixNoCache: usage less the inactive page cache */
    json_t *mem = json_object_get(j, "memory_stats");
    json_t *usage = json_object_get(mem, "usage");
    json_t *stats = json_object_get(mem, "stats");
    json_t *inactive = json_object_get(stats, "total_inactive_file");
    if (inactive == NULL)
        inactive = json_object_get(stats, "inactive_file");
    s.mem_usage = usage != NULL ? json_integer_value(usage) : -1;
    if (usage != NULL && json_integer_value(inactive) > 0 && json_integer_value(inactive) < s.mem_usage)
        s.mem_usage -= json_integer_value(inactive);
    int64_t limit = json_integer_value(json_object_get(mem, "limit"));
    s.mem_limit = limit > 0 ? limit : INT64_MAX;
    json_t *blkio = json_object_get(j, "blkio_stats");
    s.blk_read = blk_bytes(blkio, 'r');
    s.blk_write = blk_bytes(blkio, 'w');
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
