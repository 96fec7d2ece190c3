/* cgroup_stats_json.c: a container's cgroup counters in the shape dockerd's
 * stats endpoint sends them (what runc's stats give it): cpu_usage with the
 * kernel/user split and, on v1, per CPU; throttling_data; memory_stats with
 * every memory.stat key; blkio_stats per device; pids_stats. */
#include "runtime/internal.h"

#include <string.h>

static bool v2(void)
{
    return mk_cgroup_detect() == MK_CGROUP_V2;
}

static int64_t nonneg(int64_t v)
{
    return v > 0 ? v : 0;
}

/* The whole file (rt_cgroup_read keeps its first line only); NULL if unreadable. */
static char *read_all(const char *dir, const char *file)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
    char *data = NULL;
    return mk_read_file(path, &data, NULL, NULL) < 0 ? NULL : data;
}

/* A flat keyed file ("key value" lines) as an object of integers. */
static json_t *keyed_all(const char *dir, const char *file)
{
    json_t *o = json_object();
    _cleanup_free_ char *data = read_all(dir, file);
    char *save = NULL;
    for (char *l = data ? strtok_r(data, "\n", &save) : NULL; l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        char *sp = strchr(l, ' ');
        if (sp == NULL)
            continue;
        *sp = '\0';
        json_object_set_new(o, l, json_integer(strtoll(sp + 1, NULL, 10)));
    }
    return o;
}

static int64_t key_of(const json_t *o, const char *key)
{
    return nonneg(json_integer_value(json_object_get(o, key)));
}

static json_t *cpu_v1(const char *path)
{
    bool ok;
    _cleanup_free_ char *acct = rt_cgroup_dir("cpuacct", path);
    _cleanup_free_ char *cpu = rt_cgroup_dir("cpu", path);
    int64_t total = nonneg(rt_cgroup_read_i64(acct, "cpuacct.usage", &ok));
    json_t *percpu = json_array();
    _cleanup_free_ char *per = rt_cgroup_read(acct, "cpuacct.usage_percpu");
    for (char *p = per, *end; p != NULL && *p != '\0' && *p != '\n'; p = end) {
        long long v = strtoll(p, &end, 10);
        if (end == p)
            break;
        json_array_append_new(percpu, json_integer(v));
        while (*end == ' ')
            end++;
    }
    /* cpuacct.stat counts in USER_HZ ticks; runc hands dockerd nanoseconds */
    _cleanup_json_ json_t *st = keyed_all(acct, "cpuacct.stat");
    long hz = sysconf(_SC_CLK_TCK);
    int64_t tick_ns = 1000000000 / (hz > 0 ? hz : 100);
    _cleanup_json_ json_t *thr = keyed_all(cpu, "cpu.stat");
    return json_pack("{s:{s:I,s:o,s:I,s:I},s:{s:I,s:I,s:I}}", "cpu_usage", "total_usage",
                     (json_int_t)total, "percpu_usage", percpu, "usage_in_kernelmode",
                     (json_int_t)(key_of(st, "system") * tick_ns), "usage_in_usermode",
                     (json_int_t)(key_of(st, "user") * tick_ns), "throttling_data", "periods",
                     (json_int_t)key_of(thr, "nr_periods"), "throttled_periods",
                     (json_int_t)key_of(thr, "nr_throttled"), "throttled_time",
                     (json_int_t)key_of(thr, "throttled_time"));
}

/* v2's cpu.stat in microseconds; there is no per-CPU figure (dockerd omits it). */
static json_t *cpu_v2(const char *path)
{
    _cleanup_free_ char *dir = rt_cgroup_dir("", path);
    _cleanup_json_ json_t *st = keyed_all(dir, "cpu.stat");
    return json_pack("{s:{s:I,s:I,s:I},s:{s:I,s:I,s:I}}", "cpu_usage", "total_usage",
                     (json_int_t)(key_of(st, "usage_usec") * 1000), "usage_in_kernelmode",
                     (json_int_t)(key_of(st, "system_usec") * 1000), "usage_in_usermode",
                     (json_int_t)(key_of(st, "user_usec") * 1000), "throttling_data", "periods",
                     (json_int_t)key_of(st, "nr_periods"), "throttled_periods",
                     (json_int_t)key_of(st, "nr_throttled"), "throttled_time",
                     (json_int_t)(key_of(st, "throttled_usec") * 1000));
}

static json_t *memory(const char *path)
{
    bool ok_u, ok_l, ok_m;
    _cleanup_free_ char *dir = rt_cgroup_dir("memory", path);
    json_t *m = json_object();
    int64_t usage = rt_cgroup_read_i64(dir, v2() ? "memory.current" : "memory.usage_in_bytes", &ok_u);
    int64_t limit = rt_cgroup_read_i64(dir, v2() ? "memory.max" : "memory.limit_in_bytes", &ok_l);
    if (ok_u)
        json_object_set_new(m, "usage", json_integer(nonneg(usage)));
    if (!v2()) {
        int64_t max = rt_cgroup_read_i64(dir, "memory.max_usage_in_bytes", &ok_m);
        if (ok_m)
            json_object_set_new(m, "max_usage", json_integer(nonneg(max)));
        int64_t failcnt = rt_cgroup_read_i64(dir, "memory.failcnt", &ok_m);
        if (ok_m && failcnt > 0)
            json_object_set_new(m, "failcnt", json_integer(failcnt));
    }
    json_object_set_new(m, "stats", keyed_all(dir, "memory.stat"));
    /* no limit reads as a huge one (v1) or INT64_MAX (v2's "max"): the
     * engine puts the host's memory instead, as dockerd */
    json_object_set_new(m, "limit", json_integer(ok_l ? nonneg(limit) : 0));
    return m;
}

static void blk_entry(json_t *arr, const char *dev, const char *op, long long value)
{
    unsigned maj = 0, min = 0;
    if (sscanf(dev, "%u:%u", &maj, &min) != 2)
        return;
    json_array_append_new(arr, json_pack("{s:i,s:i,s:s,s:I}", "major", (int)maj, "minor", (int)min,
                                         "op", op, "value", (json_int_t)value));
}

/* v1: "8:0 Read 4096" lines (runc reads the CFQ file, else the throttle one). */
static json_t *blkio_v1_file(const char *dir, const char *cfq, const char *throttle)
{
    json_t *arr = json_array();
    const char *files[] = {cfq, throttle};
    for (size_t i = 0; i < 2; i++) {
        _cleanup_free_ char *data = read_all(dir, files[i]);
        if (data == NULL || data[0] == '\0' || mk_str_has_prefix(data, "Total"))
            continue;
        char *save = NULL;
        for (char *l = strtok_r(data, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
            char dev[32], op[16];
            long long v;
            if (sscanf(l, "%31s %15s %lld", dev, op, &v) == 3)
                blk_entry(arr, dev, op, v);
        }
        break;
    }
    return arr;
}

static json_t *blkio(const char *path)
{
    static const char *const others[] = {"io_queue_recursive",   "io_service_time_recursive",
                                         "io_wait_time_recursive", "io_merged_recursive",
                                         "io_time_recursive",     "sectors_recursive"};
    json_t *b = json_object();
    if (!v2()) {
        _cleanup_free_ char *dir = rt_cgroup_dir("blkio", path);
        json_object_set_new(b, "io_service_bytes_recursive",
                            blkio_v1_file(dir, "blkio.io_service_bytes_recursive",
                                          "blkio.throttle.io_service_bytes_recursive"));
        json_object_set_new(b, "io_serviced_recursive",
                            blkio_v1_file(dir, "blkio.io_serviced_recursive",
                                          "blkio.throttle.io_serviced_recursive"));
    } else {
        /* io.stat: "8:0 rbytes=4096 wbytes=0 rios=1 wios=0 ..." */
        _cleanup_free_ char *dir = rt_cgroup_dir("", path);
        _cleanup_free_ char *data = read_all(dir, "io.stat");
        json_t *bytes = json_array(), *ios = json_array();
        char *save = NULL;
        for (char *l = data ? strtok_r(data, "\n", &save) : NULL; l != NULL;
             l = strtok_r(NULL, "\n", &save)) {
            char *s2 = NULL;
            char *dev = strtok_r(l, " ", &s2);
            long long rb = 0, wb = 0, ri = 0, wi = 0;
            for (char *kv = strtok_r(NULL, " ", &s2); kv != NULL; kv = strtok_r(NULL, " ", &s2)) {
                sscanf(kv, "rbytes=%lld", &rb);
                sscanf(kv, "wbytes=%lld", &wb);
                sscanf(kv, "rios=%lld", &ri);
                sscanf(kv, "wios=%lld", &wi);
            }
            blk_entry(bytes, dev, "read", rb);
            blk_entry(bytes, dev, "write", wb);
            blk_entry(ios, dev, "read", ri);
            blk_entry(ios, dev, "write", wi);
        }
        json_object_set_new(b, "io_service_bytes_recursive", bytes);
        json_object_set_new(b, "io_serviced_recursive", ios);
    }
    /* runc fills none of these; dockerd passes v1's empty lists on and has
     * none on v2 */
    for (size_t i = 0; i < sizeof(others) / sizeof(*others); i++)
        json_object_set_new(b, others[i], v2() ? json_null() : json_array());
    return b;
}

int mk_cgroup_stats_json(const char *path, json_t **out, mk_err **err)
{
    _cleanup_free_ char *pids_dir = rt_cgroup_dir("pids", path);
    if (access(pids_dir, F_OK) < 0)
        return mk_err_sys(err, "cgroup %s", pids_dir);
    bool ok;
    json_t *pids = json_object();
    int64_t cur = rt_cgroup_read_i64(pids_dir, "pids.current", &ok);
    if (ok)
        json_object_set_new(pids, "current", json_integer(nonneg(cur)));
    /* "max" (no limit) is runc's MaxUint64, which JSON integers here cannot
     * hold: omitted, as dockerd's omitempty does with no limit */
    int64_t max = rt_cgroup_read_i64(pids_dir, "pids.max", &ok);
    if (ok && max > 0 && max != INT64_MAX)
        json_object_set_new(pids, "limit", json_integer(max));
    *out = json_pack("{s:o,s:o,s:o,s:o}", "cpu_stats", v2() ? cpu_v2(path) : cpu_v1(path),
                     "memory_stats", memory(path), "blkio_stats", blkio(path), "pids_stats", pids);
    return 0;
}
