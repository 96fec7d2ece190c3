/* container_stats.c: the figures behind docker stats, as dockerd gathers them:
 * the cgroup's counters, the host's CPU time and memory, and the network
 * counters of the container's own network namespace. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "runtime/runtime.h"

#include <string.h>
#include <sys/sysinfo.h>

/* moby's getSystemCPUUsage: the first seven fields of /proc/stat's "cpu" line
 * (user .. softirq), in nanoseconds. */
static uint64_t system_cpu_ns(void)
{
    _cleanup_free_ char *data = NULL;
    if (mk_read_file("/proc/stat", &data, NULL, NULL) < 0 || !mk_str_has_prefix(data, "cpu "))
        return 0;
    uint64_t ticks = 0;
    char *p = data + 4;
    for (int i = 0; i < 7; i++) {
        char *end;
        ticks += strtoull(p, &end, 10);
        p = end;
    }
    long hz = sysconf(_SC_CLK_TCK);
    return ticks * (1000000000ULL / (uint64_t)(hz > 0 ? hz : 100));
}

/* The container's network namespace's interfaces but lo, with dockerd's
 * counters (docker counts the container's endpoints, never its loopback). */
static json_t *net_json(pid_t pid)
{
    static const char *const keys[] = {"rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
                                       NULL,       NULL,         NULL,        NULL,
                                       "tx_bytes", "tx_packets", "tx_errors", "tx_dropped"};
    json_t *nets = json_object();
    _cleanup_free_ char *path = xasprintf("/proc/%d/net/dev", (int)pid);
    _cleanup_free_ char *data = NULL;
    if (mk_read_file(path, &data, NULL, NULL) < 0)
        return nets;
    char *save = NULL;
    for (char *l = strtok_r(data, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(l, ':');
        if (colon == NULL)
            continue;
        *colon = '\0';
        while (*l == ' ')
            l++;
        if (strcmp(l, "lo") == 0)
            continue;
        json_t *n = json_object();
        char *p = colon + 1;
        for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
            char *end;
            long long v = strtoll(p, &end, 10);
            p = end;
            if (keys[i] != NULL)
                json_object_set_new(n, keys[i], json_integer(v));
        }
        json_object_set_new(nets, l, n);
    }
    return nets;
}

/* Bytes received and sent, over every interface of net_json. */
static void net_io(pid_t pid, int64_t *rx, int64_t *tx)
{
    *rx = *tx = 0;
    _cleanup_json_ json_t *nets = net_json(pid);
    const char *name;
    json_t *n;
    json_object_foreach(nets, name, n) {
        *rx += json_integer_value(json_object_get(n, "rx_bytes"));
        *tx += json_integer_value(json_object_get(n, "tx_bytes"));
    }
}

/* The host's figures of a round: CPU time, CPUs, memory. */
static void host_sample(struct mk_container_stats *host)
{
    *host = (struct mk_container_stats){0};
    host->system_ns = system_cpu_ns();
    host->sampled_ns = mk_monotonic_ns();
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    host->online_cpus = cpus > 0 ? (int)cpus : 1;
    struct sysinfo si;
    host->mem_limit = sysinfo(&si) == 0 ? (int64_t)si.totalram * (int64_t)si.mem_unit : INT64_MAX;
}

struct mk_stats_sampler {
    struct mk_engine *e;
    struct mk_container *const *c;
    size_t n;
    char **cgroup; /* per container, resolved on its first running sample */
};

struct mk_stats_sampler *mk_stats_sampler_new(struct mk_engine *e, struct mk_container *const *c,
                                              size_t n)
{
    struct mk_stats_sampler *s = xmalloc(sizeof(*s));
    *s =
        (struct mk_stats_sampler){.e = e, .c = c, .n = n, .cgroup = xcalloc(n + 1, sizeof(char *))};
    return s;
}

void mk_stats_sampler_free(struct mk_stats_sampler *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->cgroup[i]);
    free(s->cgroup);
    free(s);
}

static int sample_one(struct mk_stats_sampler *s, size_t i, const struct mk_container_stats *host,
                      struct mk_container_stats *out, mk_err **err)
{
    const struct mk_container *c = s->c[i];
    *out =
        (struct mk_container_stats){.system_ns = host->system_ns, .sampled_ns = host->sampled_ns,
                                    .online_cpus = host->online_cpus};
    if (!mk_container_is_running(c))
        return 0;
    /* The path is in the OCI spec, a 10 kB file: parse it once, not per round. */
    if (s->cgroup[i] == NULL && mk_engine_cgroup_path(s->e, c, &s->cgroup[i], err) < 0)
        return mk_err_wrap(err, "stats of %s", c->id);
    struct mk_cgroup_stats cs;
    if (mk_cgroup_stats(s->cgroup[i], &cs, err) < 0)
        return mk_err_wrap(err, "stats of %s", c->id);
    out->running = true;
    out->cpu_ns = cs.cpu_ns;
    /* the time of this container's own reading: the first round (which
     * looks up every cgroup) takes longer than the next */
    out->sampled_ns = mk_monotonic_ns();
    out->mem_usage = cs.mem_usage > 0 ? cs.mem_usage : 0;
    /* dockerd reports the host's memory when the cgroup's limit is above it. */
    out->mem_limit =
        cs.mem_limit > 0 && cs.mem_limit < host->mem_limit ? cs.mem_limit : host->mem_limit;
    out->blk_read = cs.blk_read;
    out->blk_write = cs.blk_write;
    out->pids = cs.pids > 0 ? cs.pids : 0;
    net_io(c->pid, &out->net_rx, &out->net_tx);
    return 0;
}

int mk_stats_sample(struct mk_stats_sampler *s, struct mk_container_stats *out, mk_err **err)
{
    /* Read once for the round: the host's CPU time, CPUs and memory (a limit
     * above it shows as the host's memory). */
    struct mk_container_stats host;
    host_sample(&host);
    for (size_t i = 0; i < s->n; i++)
        if (sample_one(s, i, &host, &out[i], err) < 0)
            return -1;
    return 0;
}

json_t *mk_stats_zero_json(const struct mk_container *c)
{
    _cleanup_free_ char *name = xasprintf("/%s", c->name ? c->name : "");
    _cleanup_free_ char *zero = mk_time_rfc3339(0);
    json_t *cpu = json_pack("{s:{s:i,s:i,s:i},s:{s:i,s:i,s:i}}", "cpu_usage", "total_usage", 0,
                            "usage_in_kernelmode", 0, "usage_in_usermode", 0, "throttling_data",
                            "periods", 0, "throttled_periods", 0, "throttled_time", 0);
    json_t *blk = json_object();
    static const char *const lists[] = {"io_service_bytes_recursive", "io_serviced_recursive",
                                        "io_queue_recursive",         "io_service_time_recursive",
                                        "io_wait_time_recursive",     "io_merged_recursive",
                                        "io_time_recursive",          "sectors_recursive"};
    for (size_t i = 0; i < sizeof(lists) / sizeof(*lists); i++)
        json_object_set_new(blk, lists[i], json_null());
    return json_pack("{s:s,s:s,s:{},s:o,s:i,s:{},s:o,s:o,s:{},s:s,s:s}", "read", zero, "preread",
                     zero, "pids_stats", "blkio_stats", blk, "num_procs", 0, "storage_stats",
                     "cpu_stats", cpu, "precpu_stats", json_deep_copy(cpu), "memory_stats", "name", name, "id",
                     c->id);
}

int mk_stats_sample_json(struct mk_stats_sampler *s, size_t i, json_t **out, mk_err **err)
{
    const struct mk_container *c = s->c[i];
    json_t *j = mk_stats_zero_json(c);
    *out = j;
    if (!mk_container_is_running(c))
        return 0;
    if (s->cgroup[i] == NULL && mk_engine_cgroup_path(s->e, c, &s->cgroup[i], err) < 0)
        return mk_err_wrap(err, "stats of %s", c->id);
    struct mk_container_stats host;
    host_sample(&host);
    _cleanup_json_ json_t *cg = NULL;
    if (mk_cgroup_stats_json(s->cgroup[i], &cg, err) < 0)
        return mk_err_wrap(err, "stats of %s", c->id);
    _cleanup_free_ char *now = mk_time_rfc3339(mk_now_ns());
    json_object_set_new(j, "read", json_string(now));
    /* in dockerd's order: the host's figures between usage and throttling */
    json_t *cg_cpu = json_object_get(cg, "cpu_stats");
    json_object_set_new(cg, "cpu_stats",
                        json_pack("{s:O,s:I,s:i,s:O}", "cpu_usage",
                                  json_object_get(cg_cpu, "cpu_usage"), "system_cpu_usage",
                                  (json_int_t)host.system_ns, "online_cpus", host.online_cpus,
                                  "throttling_data", json_object_get(cg_cpu, "throttling_data")));
    /* dockerd reports the host's memory when the cgroup's limit is above it
     * (or there is none) */
    json_t *mem = json_object_get(cg, "memory_stats");
    int64_t limit = json_integer_value(json_object_get(mem, "limit"));
    if (limit <= 0 || limit > host.mem_limit)
        json_object_set_new(mem, "limit", json_integer(host.mem_limit));
    json_object_update(j, cg);
    json_t *nets = net_json(c->pid);
    if (json_object_size(nets) > 0)
        json_object_set_new(j, "networks", nets);
    else
        json_decref(nets); /* dockerd has no networks key without an endpoint */
    return 0;
}
