/* cmd_stats.c: docker stats: a live table of the containers' resource usage.
 *
 * CPU % is a rate, so each row needs two samples: --no-stream takes them a
 * second apart (dockerd's collector interval), streaming redraws every second
 * against the previous sample.  The redraw is docker's: cursor home, each line
 * followed by erase-to-end-of-line, then erase below. */
#include "cli/cli.h"
#include "cli/format.h"

#include <string.h>

#define STATS_DEFAULT                                                                              \
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}" \
    "\t{{.PIDs}}"

struct target {
    struct mk_container *c;
    char *label; /* {{.Container}}: the name or id the user gave, else the id */
    struct mk_container_stats prev, cur;
    bool have_prev;
};

struct stats_opts {
    bool all, no_stream, no_trunc;
    char *format;
};

static void targets_free(struct target *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mk_container_free(t[i].c);
        free(t[i].label);
    }
    free(t);
}

/* The containers named, or every running one (every one with -a), newest first. */
static int collect(struct mk_engine *e, char **names, const struct stats_opts *o,
                   struct target **out, size_t *n, mk_err **err)
{
    struct target *t = NULL;
    size_t count = 0;
    if (names[0] != NULL) {
        for (size_t i = 0; names[i]; i++) {
            struct mk_container *c = NULL;
            if (mk_container_get(e, names[i], &c, err) < 0) {
                targets_free(t, count);
                return -1;
            }
            t = xrealloc(t, (count + 1) * sizeof(*t));
            t[count++] = (struct target){.c = c, .label = xstrdup(names[i])};
        }
    } else {
        struct mk_container **list = NULL;
        size_t nl = 0;
        if (mk_container_list(e, &list, &nl, err) < 0)
            return -1;
        for (size_t i = 0; i < nl; i++) {
            if (!o->all && !mk_container_is_running(list[i])) {
                mk_container_free(list[i]);
                continue;
            }
            t = xrealloc(t, (count + 1) * sizeof(*t));
            char *label = o->no_trunc ? xstrdup(list[i]->id) : xstrndup(list[i]->id, 12);
            t[count++] = (struct target){.c = list[i], .label = label};
        }
        free(list);
    }
    *out = t;
    *n = count;
    return 0;
}

/* docker's calculateCPUPercentUnix: the container's CPU time over the host's
 * (all CPUs), times the CPUs.  The host's CPU time over an interval is the
 * interval times the CPUs; measured on the monotonic clock it is exact even
 * over --no-stream's short window, where /proc/stat's 10 ms ticks are not. */
static double cpu_percent(const struct target *t)
{
    if (!t->have_prev || !t->cur.running || !t->prev.running)
        return 0.0;
    double cpu = (double)t->cur.cpu_ns - (double)t->prev.cpu_ns;
    double wall = (double)t->cur.sampled_ns - (double)t->prev.sampled_ns;
    if (cpu <= 0.0 || wall <= 0.0)
        return 0.0;
    /* cpu / (wall * cpus) * cpus * 100 */
    return cpu / wall * 100.0;
}

static char *pair(int64_t a, int64_t b, char *(*fmt)(int64_t))
{
    _cleanup_free_ char *x = fmt(a);
    _cleanup_free_ char *y = fmt(b);
    return xasprintf("%s / %s", x, y);
}

static json_t *row(const struct target *t, bool no_trunc)
{
    const struct mk_container_stats *s = &t->cur;
    _cleanup_free_ char *cpu = xasprintf("%.2f%%", cpu_percent(t));
    double mem_pct = s->mem_limit > 0 ? (double)s->mem_usage / (double)s->mem_limit * 100.0 : 0.0;
    _cleanup_free_ char *mem_perc = xasprintf("%.2f%%", mem_pct);
    _cleanup_free_ char *mem = pair(s->mem_usage, s->mem_limit, mk_human_size_binary);
    _cleanup_free_ char *net = pair(s->net_rx, s->net_tx, mk_human_size);
    _cleanup_free_ char *blk = pair(s->blk_read, s->blk_write, mk_human_size);
    _cleanup_free_ char *pids = xasprintf("%lld", (long long)s->pids);
    _cleanup_free_ char *id = no_trunc ? xstrdup(t->c->id) : xstrndup(t->c->id, 12);
    /* docker's keys, in the order its {{json .}} prints them */
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "BlockIO", blk, "CPUPerc", cpu,
                     "Container", t->label, "ID", id, "MemPerc", mem_perc, "MemUsage", mem,
                     "Name", t->c->name, "NetIO", net, "PIDs", pids);
}

/* One round for every target at once, so --no-stream sleeps one interval in
 * all, not one per container. */
static int sample(struct mk_stats_sampler *s, struct target *t, size_t n,
                  struct mk_container_stats *buf, mk_err **err)
{
    if (mk_stats_sample(s, buf, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        t[i].prev = t[i].cur;
        t[i].have_prev = t[i].cur.system_ns != 0;
        t[i].cur = buf[i];
    }
    return 0;
}

static int render(const struct target *t, size_t n, const struct stats_opts *o, FILE *f,
                  mk_err **err)
{
    static const char *const headers_kv[] = {
        "Container", "CONTAINER", "ID",     "CONTAINER ID", "Name",    "NAME",
        "CPUPerc",   "CPU %",     "MemUsage", "MEM USAGE / LIMIT", "MemPerc", "MEM %",
        "NetIO",     "NET I/O",   "BlockIO", "BLOCK I/O",   "PIDs",    "PIDS",
    };
    _cleanup_json_ json_t *headers = json_object();
    for (size_t i = 0; i < sizeof(headers_kv) / sizeof(*headers_kv); i += 2)
        json_object_set_new(headers, headers_kv[i], json_string(headers_kv[i + 1]));
    _cleanup_json_ json_t *rows = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, row(&t[i], o->no_trunc));
    return mk_format_rows(o->format, STATS_DEFAULT, headers, rows, f, err);
}

/* One frame of the live view, drawn over the previous one. */
static int redraw(const struct target *t, size_t n, const struct stats_opts *o, mk_err **err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    int r = render(t, n, o, mem, err);
    fclose(mem);
    _cleanup_free_ char *owned = text;
    if (r < 0)
        return -1;
    mk_buf frame = {0};
    mk_buf_puts(&frame, "\033[H");
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        mk_buf_puts(&frame, l);
        mk_buf_puts(&frame, "\033[K\n");
    }
    mk_buf_puts(&frame, "\033[J");
    fwrite(frame.data, 1, frame.len, stdout);
    fflush(stdout);
    mk_buf_free(&frame);
    return 0;
}

/* --no-stream's CPU %: over this window, not the second between two rounds
 * of the live table.  dockerd's one-shot answer waits for its collector's
 * next round (one to two seconds); podman shows the average since the
 * container started.  A tenth of a second is current and still measured:
 * the CPU time is the cgroup's (nanoseconds) over the monotonic clock. */
#define NO_STREAM_WINDOW_NS 100000000LL

static int run_stats(struct mk_engine *e, char **names, const struct stats_opts *o, mk_err **err)
{
    struct target *t = NULL;
    size_t n = 0;
    if (collect(e, names, o, &t, &n, err) < 0)
        return -1;
    int ret = -1;
    struct mk_container **cs = xcalloc(n + 1, sizeof(*cs));
    for (size_t i = 0; i < n; i++)
        cs[i] = t[i].c;
    struct mk_stats_sampler *s = mk_stats_sampler_new(e, cs, n);
    struct mk_container_stats *buf = xcalloc(n + 1, sizeof(*buf));
    if (sample(s, t, n, buf, err) < 0)
        goto out;
    int64_t tick = mk_monotonic_ns(); /* the window starts when the first round is read */
    for (;;) {
        tick += o->no_stream ? NO_STREAM_WINDOW_NS : 1000000000;
        mk_sleep_until_monotonic(tick);
        if (sample(s, t, n, buf, err) < 0)
            goto out;
        if (o->no_stream) {
            ret = render(t, n, o, stdout, err);
            goto out;
        }
        if (redraw(t, n, o, err) < 0)
            goto out;
    }
out:
    free(buf);
    mk_stats_sampler_free(s);
    free(cs);
    targets_free(t, n);
    return ret;
}

int cmd_stats(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"stats", "stats [OPTIONS] [CONTAINER...]",
                                      "Display a live stream of container(s) resource usage statistics",
                                      true};
    struct stats_opts o = {0};
    struct mk_opt opts[] = {
        {"all", 'a', MK_OPT_BOOL, &o.all, "Show all containers (default shows just running)", NULL},
        {"format", 0, MK_OPT_STRING, &o.format, "Format output using a custom template", NULL},
        {"no-stream", 0, MK_OPT_BOOL, &o.no_stream, "Disable streaming stats and only pull the first result", NULL},
        {"no-trunc", 0, MK_OPT_BOOL, &o.no_trunc, "Do not truncate output", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, (size_t)-1, &rest);
    _cleanup_free_ char *fmt = o.format;
    if (r >= 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    int status = 0;
    if (run_stats(e, rest, &o, &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    mk_engine_free(e);
    return status;
}
