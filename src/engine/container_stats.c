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

/* Bytes received and sent on every interface but lo: docker counts the
 * container's network endpoints, never its loopback. */
static void net_io(pid_t pid, int64_t *rx, int64_t *tx)
{
    *rx = *tx = 0;
    _cleanup_free_ char *path = xasprintf("/proc/%d/net/dev", (int)pid);
    _cleanup_free_ char *data = NULL;
    if (mk_read_file(path, &data, NULL, NULL) < 0)
        return;
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
        long long v[9] = {0};
        char *p = colon + 1;
        for (int i = 0; i < 9; i++) {
            char *end;
            v[i] = strtoll(p, &end, 10);
            p = end;
        }
        *rx += v[0];
        *tx += v[8];
    }
}

int mk_container_stats(struct mk_engine *e, const struct mk_container *c,
                       struct mk_container_stats *out, mk_err **err)
{
    struct mk_container_stats s = {0};
    s.system_ns = system_cpu_ns();
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    s.online_cpus = cpus > 0 ? (int)cpus : 1;
    if (!mk_container_is_running(c)) {
        *out = s;
        return 0;
    }
    _cleanup_free_ char *cg = NULL;
    struct mk_cgroup_stats cs;
    if (mk_engine_cgroup_path(e, c, &cg, err) < 0 || mk_cgroup_stats(cg, &cs, err) < 0)
        return mk_err_wrap(err, "stats of %s", c->id);
    s.running = true;
    s.cpu_ns = cs.cpu_ns;
    s.mem_usage = cs.mem_usage > 0 ? cs.mem_usage : 0;
    /* dockerd reports the host's memory when the cgroup's limit is above it. */
    struct sysinfo si;
    int64_t host = sysinfo(&si) == 0 ? (int64_t)si.totalram * (int64_t)si.mem_unit : INT64_MAX;
    s.mem_limit = cs.mem_limit > 0 && cs.mem_limit < host ? cs.mem_limit : host;
    s.blk_read = cs.blk_read;
    s.blk_write = cs.blk_write;
    s.pids = cs.pids > 0 ? cs.pids : 0;
    net_io(c->pid, &s.net_rx, &s.net_tx);
    *out = s;
    return 0;
}
