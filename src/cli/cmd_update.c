/* cmd_update.c: docker update [OPTIONS] CONTAINER...: new resource limits and
 * restart policy, turned into docker's update body for the engine. */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <string.h>

struct update_flags {
    char *memory, *memory_swap, *memory_reservation, *cpus, *cpuset_cpus, *cpuset_mems, *restart;
    long cpu_shares, cpu_period, cpu_quota, pids_limit, blkio_weight;
    bool cpu_shares_set, cpu_period_set, cpu_quota_set, pids_limit_set, blkio_weight_set;
};

/* docker's opts.ParseRestartPolicy: "name" or "name:count". */
static int parse_restart(const char *s, json_t *body, mk_err **err)
{
    const char *colon = strchr(s, ':');
    _cleanup_free_ char *name = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
    long count = 0;
    if (colon != NULL && *name == '\0')
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid restart policy format: no policy provided before colon");
    if (colon != NULL) {
        char *end;
        errno = 0;
        count = strtol(colon + 1, &end, 10);
        if (colon[1] == '\0' || *end != '\0' || errno != 0)
            return mk_err_set(err, MK_ERR_INVALID,
                              "invalid restart policy format: maximum retry count must be an "
                              "integer");
    }
    json_object_set_new(body, "RestartPolicy",
                        json_pack("{s:s,s:I}", "Name", name, "MaximumRetryCount", (json_int_t)count));
    return 0;
}

static int size_key(json_t *body, const char *key, const char *value, mk_err **err)
{
    int64_t v;
    if (value == NULL)
        return 0;
    if (strcmp(key, "MemorySwap") == 0 && strcmp(value, "-1") == 0)
        v = -1;
    else if (mk_size_parse(value, &v, err) < 0)
        return -1;
    json_object_set_new(body, key, json_integer(v));
    return 0;
}

static int build_body(const struct update_flags *f, json_t *body, mk_err **err)
{
    if (size_key(body, "Memory", f->memory, err) < 0 ||
        size_key(body, "MemorySwap", f->memory_swap, err) < 0 ||
        size_key(body, "MemoryReservation", f->memory_reservation, err) < 0)
        return -1;
    if (f->cpus != NULL) {
        char *end;
        double c = strtod(f->cpus, &end);
        if (*f->cpus == '\0' || *end != '\0' || c < 0 || !isfinite(c))
            return mk_err_set(err, MK_ERR_INVALID,
                              "invalid argument \"%s\" for \"--cpus\" flag: failed to parse %s "
                              "as a rational number",
                              f->cpus, f->cpus);
        json_object_set_new(body, "NanoCpus", json_integer((json_int_t)llround(c * 1e9)));
    }
    if (f->cpu_shares_set)
        json_object_set_new(body, "CpuShares", json_integer(f->cpu_shares));
    if (f->cpu_period_set)
        json_object_set_new(body, "CpuPeriod", json_integer(f->cpu_period));
    if (f->cpu_quota_set)
        json_object_set_new(body, "CpuQuota", json_integer(f->cpu_quota));
    if (f->pids_limit_set)
        json_object_set_new(body, "PidsLimit", json_integer(f->pids_limit));
    if (f->blkio_weight_set)
        json_object_set_new(body, "BlkioWeight", json_integer(f->blkio_weight));
    if (f->cpuset_cpus != NULL)
        json_object_set_new(body, "CpusetCpus", json_string(f->cpuset_cpus));
    if (f->cpuset_mems != NULL)
        json_object_set_new(body, "CpusetMems", json_string(f->cpuset_mems));
    if (f->restart != NULL && parse_restart(f->restart, body, err) < 0)
        return -1;
    return 0;
}

static int do_update(struct mk_engine *e, const char *ref, void *ctx, mk_err **err)
{
    return mk_container_update(e, ref, ctx, err);
}

int cmd_update(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"update", "update [OPTIONS] CONTAINER [CONTAINER...]",
                                      "Update configuration of one or more containers", true};
    struct update_flags f = {0};
    struct mk_opt opts[] = {
        {"blkio-weight", 0, MK_OPT_INT, &f.blkio_weight, "Block IO (relative weight)", &f.blkio_weight_set},
        {"cpu-period", 0, MK_OPT_INT, &f.cpu_period, "Limit CPU CFS period", &f.cpu_period_set},
        {"cpu-quota", 0, MK_OPT_INT, &f.cpu_quota, "Limit CPU CFS quota", &f.cpu_quota_set},
        {"cpu-rt-period", 0, MK_OPT_REFUSED_VALUE, NULL, "realtime CPU scheduling is not supported by mocker's runtime", NULL},
        {"cpu-rt-runtime", 0, MK_OPT_REFUSED_VALUE, NULL, "realtime CPU scheduling is not supported by mocker's runtime", NULL},
        {"cpu-shares", 'c', MK_OPT_INT, &f.cpu_shares, "CPU shares (relative weight)", &f.cpu_shares_set},
        {"cpus", 0, MK_OPT_STRING, &f.cpus, "Number of CPUs", NULL},
        {"cpuset-cpus", 0, MK_OPT_STRING, &f.cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)", NULL},
        {"cpuset-mems", 0, MK_OPT_STRING, &f.cpuset_mems, "MEMs in which to allow execution (0-3, 0,1)", NULL},
        {"kernel-memory", 0, MK_OPT_REFUSED_VALUE, NULL, "kernel memory limits are deprecated and not supported by mocker", NULL},
        {"memory", 'm', MK_OPT_STRING, &f.memory, "Memory limit", NULL},
        {"memory-reservation", 0, MK_OPT_STRING, &f.memory_reservation, "Memory soft limit", NULL},
        {"memory-swap", 0, MK_OPT_STRING, &f.memory_swap, "Swap limit equal to memory plus swap: -1 to enable unlimited swap", NULL},
        {"pids-limit", 0, MK_OPT_INT, &f.pids_limit, "Tune container pids limit (set -1 for unlimited)", &f.pids_limit_set},
        {"restart", 0, MK_OPT_STRING, &f.restart, "Restart policy to apply when a container exits", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    /* pflag stops at the first error: parse everything before talking to the store */
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    _cleanup_json_ json_t *body = json_object();
    int r = mk_args_parse(&cmd, argc, argv, opts, &rest, &err);
    char *owned[] = {f.memory, f.memory_swap, f.memory_reservation, f.cpus,
                     f.cpuset_cpus, f.cpuset_mems, f.restart};
    int status = 1;
    if (r != 0) {
        status = r > 0 ? 0 : mk_cli_usage_error(&cmd, err);
        goto out;
    }
    if (mk_cli_check_args(&cmd, rest, 1, (size_t)-1) != 0)
        goto out;
    if (build_body(&f, body, &err) < 0) {
        status = mk_cli_fail(NULL, err, 1);
        goto out;
    }
    if (json_object_size(body) == 0) {
        fprintf(stderr, "you must provide one or more flags when using this command\n");
        goto out;
    }
    status = mk_cli_for_each(rest, do_update, body, true);
out:
    for (size_t i = 0; i < sizeof(owned) / sizeof(*owned); i++)
        free(owned[i]);
    return status;
}
