/* cmd_run.c: docker run and docker create: flags to a create body, then the engine. */
#include "cli/cli.h"
#include "cli/progress.h"
#include "image/image.h"
#include "monitor/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/stat.h>

struct run_flags {
    bool detach, interactive, tty, rm, read_only, init, privileged, sig_proxy, quiet;
    char *name, *workdir, *user, *hostname, *domainname, *entrypoint, *stop_signal, *cidfile;
    char *network, *log_driver, *runtime, *memory, *memory_swap, *memory_reservation, *cpus;
    char *cpuset_cpus, *cpuset_mems, *shm_size, *ipc, *pid, *uts, *detach_keys, *pull;
    char *restart, *platform;
    long stop_timeout, cpu_shares, cpu_period, cpu_quota, pids_limit, oom_score_adj;
    long blkio_weight, memory_swappiness;
    bool blkio_weight_set, memory_swappiness_set;
    bool stop_timeout_set, entrypoint_set, pids_limit_set, cpu_shares_set, oom_set;
    char **env, **env_file, **labels, **volumes, **tmpfs, **log_opts, **cap_add, **cap_drop;
    char **security_opt, **ulimits, **sysctls, **group_add, **label_files, **annotations, **attach;
    bool attach_stdin, attach_stdout, attach_stderr; /* from -a; all unset: docker's default */
    char *health_cmd, *health_durations[4];
    long health_retries;
    bool no_healthcheck;
    char **devices, **device_cgroup_rules, *cgroupns, *cgroup_parent;
    char **mounts, **volumes_from;
    char **publish, **expose, **dns, **dns_search, **dns_options, **add_hosts, **aliases, **links;
    char *ip, *mac_address;
    bool publish_all;
    bool usage_error; /* build_body's error is a bad flag value: docker's usage output */
    bool oom_kill_disable;
};

/* --health-* durations, in the order of run_flags.health_durations. */
static const char *const health_flags[4] = {"health-interval", "health-timeout",
                                            "health-start-period", "health-start-interval"};
static const char *const health_keys[4] = {"Interval", "Timeout", "StartPeriod", "StartInterval"};

#define REFUSE_V(n, s, why) {n, s, MK_OPT_REFUSED_VALUE, NULL, why, NULL}
#define REFUSE_B(n, s, why) {n, s, MK_OPT_REFUSED_BOOL, NULL, why, NULL}
#define VOL_ISSUE  "volume plugins are not supported: the local driver is the only one"
#define IMG_ISSUE  "registries and pulling are not implemented yet"

static void run_opts(struct run_flags *f, struct mk_opt *o, size_t cap, bool is_run)
{
    struct mk_opt all[] = {
        {"detach", 'd', MK_OPT_BOOL, &f->detach, "Run container in background and print container ID", NULL},
        {"interactive", 'i', MK_OPT_BOOL, &f->interactive, "Keep STDIN open even if not attached", NULL},
        {"tty", 't', MK_OPT_BOOL, &f->tty, "Allocate a pseudo-TTY", NULL},
        {"rm", 0, MK_OPT_BOOL, &f->rm, "Automatically remove the container and its associated anonymous volumes when it exits", NULL},
        {"name", 0, MK_OPT_STRING, &f->name, "Assign a name to the container", NULL},
        {"env", 'e', MK_OPT_LIST, &f->env, "Set environment variables", NULL},
        {"env-file", 0, MK_OPT_LIST, &f->env_file, "Read in a file of environment variables", NULL},
        {"workdir", 'w', MK_OPT_STRING, &f->workdir, "Working directory inside the container", NULL},
        {"user", 'u', MK_OPT_STRING, &f->user, "Username or UID (format: <name|uid>[:<group|gid>])", NULL},
        {"hostname", 'h', MK_OPT_STRING, &f->hostname, "Container host name", NULL},
        {"domainname", 0, MK_OPT_STRING, &f->domainname, "Container NIS domain name", NULL},
        {"entrypoint", 0, MK_OPT_STRING, &f->entrypoint, "Overwrite the default ENTRYPOINT of the image", &f->entrypoint_set},
        {"label", 'l', MK_OPT_LIST, &f->labels, "Set meta data on a container", NULL},
        {"volume", 'v', MK_OPT_LIST, &f->volumes, "Bind mount a volume", NULL},
        {"tmpfs", 0, MK_OPT_LIST, &f->tmpfs, "Mount a tmpfs directory", NULL},
        {"read-only", 0, MK_OPT_BOOL, &f->read_only, "Mount the container's root filesystem as read only", NULL},
        {"init", 0, MK_OPT_BOOL, &f->init, "Run an init inside the container that forwards signals and reaps processes", NULL},
        {"stop-signal", 0, MK_OPT_STRING, &f->stop_signal, "Signal to stop the container", NULL},
        {"stop-timeout", 0, MK_OPT_INT, &f->stop_timeout, "Timeout (in seconds) to stop a container", &f->stop_timeout_set},
        {"cidfile", 0, MK_OPT_STRING, &f->cidfile, "Write the container ID to the file", NULL},
        {"network", 0, MK_OPT_STRING, &f->network, "Connect a container to a network (none, host)", NULL},
        {"net", 0, MK_OPT_STRING, &f->network, NULL, NULL},
        {"log-driver", 0, MK_OPT_STRING, &f->log_driver, "Logging driver for the container (json-file, none)", NULL},
        {"log-opt", 0, MK_OPT_LIST, &f->log_opts, "Log driver options (max-size, max-file)", NULL},
        {"runtime", 0, MK_OPT_STRING, &f->runtime, "Runtime to use for this container (mocker, runc)", NULL},
        {"cap-add", 0, MK_OPT_LIST, &f->cap_add, "Add Linux capabilities", NULL},
        {"cap-drop", 0, MK_OPT_LIST, &f->cap_drop, "Drop Linux capabilities", NULL},
        {"privileged", 0, MK_OPT_BOOL, &f->privileged, "Give extended privileges to this container", NULL},
        {"security-opt", 0, MK_OPT_LIST, &f->security_opt, "Security Options", NULL},
        {"ulimit", 0, MK_OPT_LIST, &f->ulimits, "Ulimit options", NULL},
        {"memory", 'm', MK_OPT_STRING, &f->memory, "Memory limit", NULL},
        {"memory-swap", 0, MK_OPT_STRING, &f->memory_swap, "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", NULL},
        {"memory-reservation", 0, MK_OPT_STRING, &f->memory_reservation, "Memory soft limit", NULL},
        {"cpus", 0, MK_OPT_STRING, &f->cpus, "Number of CPUs", NULL},
        {"cpu-shares", 'c', MK_OPT_INT, &f->cpu_shares, "CPU shares (relative weight)", &f->cpu_shares_set},
        {"cpu-period", 0, MK_OPT_INT, &f->cpu_period, "Limit CPU CFS (Completely Fair Scheduler) period", NULL},
        {"cpu-quota", 0, MK_OPT_INT, &f->cpu_quota, "Limit CPU CFS (Completely Fair Scheduler) quota", NULL},
        {"cpuset-cpus", 0, MK_OPT_STRING, &f->cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)", NULL},
        {"cpuset-mems", 0, MK_OPT_STRING, &f->cpuset_mems, "MEMs in which to allow execution (0-3, 0,1)", NULL},
        {"pids-limit", 0, MK_OPT_INT, &f->pids_limit, "Tune container pids limit (set -1 for unlimited)", &f->pids_limit_set},
        {"shm-size", 0, MK_OPT_STRING, &f->shm_size, "Size of /dev/shm", NULL},
        {"oom-score-adj", 0, MK_OPT_INT, &f->oom_score_adj, "Tune host's OOM preferences (-1000 to 1000)", &f->oom_set},
        {"sysctl", 0, MK_OPT_LIST, &f->sysctls, "Sysctl options", NULL},
        {"group-add", 0, MK_OPT_LIST, &f->group_add, "Add additional groups to join", NULL},
        {"ipc", 0, MK_OPT_STRING, &f->ipc, "IPC mode to use", NULL},
        {"pid", 0, MK_OPT_STRING, &f->pid, "PID namespace to use", NULL},
        {"uts", 0, MK_OPT_STRING, &f->uts, "UTS namespace to use", NULL},
        {"pull", 0, MK_OPT_STRING, &f->pull, "Pull image before running (\"missing\", \"never\")", NULL},
        {"quiet", 'q', MK_OPT_BOOL, &f->quiet, "Suppress the pull output", NULL},
        {"publish", 'p', MK_OPT_LIST, &f->publish, "Publish a container's port(s) to the host", NULL},
        {"publish-all", 'P', MK_OPT_BOOL, &f->publish_all, "Publish all exposed ports to random ports", NULL},
        {"expose", 0, MK_OPT_LIST, &f->expose, "Expose a port or a range of ports", NULL},
        {"dns", 0, MK_OPT_LIST, &f->dns, "Set custom DNS servers", NULL},
        {"dns-search", 0, MK_OPT_LIST, &f->dns_search, "Set custom DNS search domains", NULL},
        {"dns-option", 0, MK_OPT_LIST, &f->dns_options, "Set DNS options", NULL},
        {"dns-opt", 0, MK_OPT_LIST, &f->dns_options, NULL, NULL},
        {"add-host", 0, MK_OPT_LIST, &f->add_hosts, "Add a custom host-to-IP mapping (host:ip)", NULL},
        {"mac-address", 0, MK_OPT_STRING, &f->mac_address, "Container MAC address (e.g., 92:d0:c6:0a:29:33)", NULL},
        {"ip", 0, MK_OPT_STRING, &f->ip, "IPv4 address (e.g., 172.30.100.104)", NULL},
        REFUSE_V("ip6", 0, "IPv6 networking is not supported by mocker"),
        {"network-alias", 0, MK_OPT_LIST, &f->aliases, "Add network-scoped alias for the container", NULL},
        {"net-alias", 0, MK_OPT_LIST, &f->aliases, NULL, NULL},
        {"link", 0, MK_OPT_LIST, &f->links, "Add link to another container", NULL},
        {"mount", 0, MK_OPT_LIST, &f->mounts, "Attach a filesystem mount to the container", NULL},
        {"volumes-from", 0, MK_OPT_LIST, &f->volumes_from, "Mount volumes from the specified container(s)", NULL},
        REFUSE_V("volume-driver", 0, VOL_ISSUE),
        {"health-cmd", 0, MK_OPT_STRING, &f->health_cmd, "Command to run to check health", NULL},
        {"health-interval", 0, MK_OPT_STRING, &f->health_durations[0], "Time between running the check (ms|s|m|h) (default 0s)", NULL},
        {"health-timeout", 0, MK_OPT_STRING, &f->health_durations[1], "Maximum time to allow one check to run (ms|s|m|h) (default 0s)", NULL},
        {"health-start-period", 0, MK_OPT_STRING, &f->health_durations[2], "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)", NULL},
        {"health-start-interval", 0, MK_OPT_STRING, &f->health_durations[3], "Time between running the check during the start period (ms|s|m|h) (default 0s)", NULL},
        {"health-retries", 0, MK_OPT_INT, &f->health_retries, "Consecutive failures needed to report unhealthy", NULL},
        {"no-healthcheck", 0, MK_OPT_BOOL, &f->no_healthcheck, "Disable any container-specified HEALTHCHECK", NULL},
        {"restart", 0, MK_OPT_STRING, &f->restart, "Restart policy to apply when a container exits", NULL},
        {"device", 0, MK_OPT_LIST, &f->devices, "Add a host device to the container", NULL},
        {"device-cgroup-rule", 0, MK_OPT_LIST, &f->device_cgroup_rules, "Add a rule to the cgroup allowed devices list", NULL},
        {"label-file", 0, MK_OPT_LIST, &f->label_files, "Read in a line delimited file of labels", NULL},
        {"annotation", 0, MK_OPT_LIST, &f->annotations, "Add an annotation to the container (passed through to the OCI runtime)", NULL},
        {"attach", 'a', MK_OPT_LIST, &f->attach, "Attach to STDIN, STDOUT or STDERR", NULL},
        {"cgroupns", 0, MK_OPT_STRING, &f->cgroupns, "Cgroup namespace to use (host|private)", NULL},
        {"cgroup-parent", 0, MK_OPT_STRING, &f->cgroup_parent, "Optional parent cgroup for the container", NULL},
        {"oom-kill-disable", 0, MK_OPT_BOOL, &f->oom_kill_disable, "Disable OOM Killer", NULL},
        {"platform", 0, MK_OPT_STRING, &f->platform, "Set platform if server is multi-platform capable", NULL},
        REFUSE_V("gpus", 0, "GPUs are not supported"),
        {"blkio-weight", 0, MK_OPT_INT, &f->blkio_weight, "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)", &f->blkio_weight_set},
        {"memory-swappiness", 0, MK_OPT_INT, &f->memory_swappiness, "Tune container memory swappiness (0 to 100) (default -1)", &f->memory_swappiness_set},
        REFUSE_V("kernel-memory", 0, "kernel memory limits do not exist on this kernel (Linux 6.x removed them; docker ignores the flag with a warning)"),
        REFUSE_V("userns", 0, "user namespaces are not supported by mocker's runtime"),
        REFUSE_V("storage-opt", 0, "the overlay store has no per-container storage options"),
        REFUSE_V("isolation", 0, "only the default isolation exists on Linux"),
        REFUSE_B("disable-content-trust", 0, IMG_ISSUE),
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    size_t n = sizeof(all) / sizeof(all[0]);
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        /* create has no -d/--rm attach semantics of its own but docker accepts --rm on it. */
        if (!is_run && all[i].name != NULL &&
            (strcmp(all[i].name, "detach") == 0 || strcmp(all[i].name, "sig-proxy") == 0 ||
             strcmp(all[i].name, "detach-keys") == 0))
            continue;
        o[k++] = all[i];
    }
    if (is_run) {
        o[k - 1] = (struct mk_opt){"sig-proxy", 0, MK_OPT_BOOL, &f->sig_proxy, "Proxy received signals to the process", NULL};
        o[k++] = (struct mk_opt){"detach-keys", 0, MK_OPT_STRING, &f->detach_keys, "Override the key sequence for detaching a container", NULL};
        o[k++] = (struct mk_opt){NULL, 0, 0, NULL, NULL, NULL};
    }
}

static void free_flags(struct run_flags *f)
{
    char **strs[] = {&f->name, &f->workdir, &f->user, &f->hostname, &f->domainname, &f->entrypoint,
                     &f->stop_signal, &f->cidfile, &f->network, &f->log_driver, &f->runtime,
                     &f->memory, &f->memory_swap, &f->memory_reservation, &f->cpus, &f->cpuset_cpus,
                     &f->cpuset_mems, &f->shm_size, &f->ipc, &f->pid, &f->uts, &f->detach_keys,
                     &f->pull, &f->health_cmd, &f->health_durations[0], &f->health_durations[1],
                     &f->health_durations[2], &f->health_durations[3], &f->restart, &f->cgroupns,
                     &f->cgroup_parent, &f->platform, &f->ip, &f->mac_address};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        free(*strs[i]);
    char ***lists[] = {&f->env, &f->env_file, &f->labels, &f->volumes, &f->tmpfs, &f->log_opts,
                       &f->cap_add, &f->cap_drop, &f->security_opt, &f->ulimits, &f->sysctls,
                       &f->group_add, &f->label_files, &f->annotations, &f->attach,
                       &f->devices, &f->device_cgroup_rules, &f->mounts, &f->volumes_from,
                       &f->publish, &f->expose, &f->dns, &f->dns_search, &f->dns_options,
                       &f->add_hosts, &f->aliases, &f->links};
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        mk_strv_free(*lists[i]);
}

/* -e K=V sets; -e K takes K from our environment, or nothing if unset (docker). */
static void add_env(json_t *env, const char *kv)
{
    if (strchr(kv, '=') != NULL) {
        json_array_append_new(env, json_string(kv));
        return;
    }
    const char *v = getenv(kv);
    if (v != NULL) {
        char *s = xasprintf("%s=%s", kv, v);
        json_array_append_new(env, json_string(s));
        free(s);
    }
}

/* The lines of an --env-file or --label-file as docker reads them: CR/LF
 * endings, leading blanks dropped, blank lines and # comments skipped. */
static int each_file_line(const char *path, int (*fn)(char *line, void *ctx), void *ctx,
                          mk_err **err)
{
    _cleanup_free_ char *data = NULL;
    if (mk_read_file(path, &data, NULL, err) < 0)
        return mk_err_wrap(err, "open %s", path);
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t l = strlen(line);
        if (l > 0 && line[l - 1] == '\r')
            line[--l] = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '\0' || *line == '#')
            continue;
        if (fn(line, ctx) < 0)
            return mk_err_set(err, MK_ERR_INVALID, "invalid environment variable: %s", line);
    }
    return 0;
}

static int env_line(char *line, void *env)
{
    if (*line == '=')
        return -1;
    add_env(env, line);
    return 0;
}

static int read_env_file(const char *path, json_t *env, mk_err **err)
{
    return each_file_line(path, env_line, env, err);
}

/* "k=v" (or "k", an empty value) into obj, as docker's -l and --annotation. */
static void set_kv(json_t *obj, const char *s)
{
    _cleanup_free_ char *kv = xstrdup(s);
    char *eq = strchr(kv, '=');
    if (eq != NULL)
        *eq++ = '\0';
    json_object_set_new(obj, kv, json_string(eq ? eq : ""));
}

static int kv_line(char *line, void *obj)
{
    set_kv(obj, line);
    return 0;
}

/* --label-file: a label per line. */
static int read_kv_file(const char *path, json_t *obj, mk_err **err)
{
    return each_file_line(path, kv_line, obj, err);
}

/* -a stdin|stdout|stderr (any case), repeatable. */
static int parse_attach(struct run_flags *f, mk_err **err)
{
    for (size_t i = 0; f->attach && f->attach[i]; i++) {
        const char *a = f->attach[i];
        if (strcasecmp(a, "stdin") == 0)
            f->attach_stdin = true;
        else if (strcasecmp(a, "stdout") == 0)
            f->attach_stdout = true;
        else if (strcasecmp(a, "stderr") == 0)
            f->attach_stderr = true;
        else
            return mk_err_set(err, MK_ERR_INVALID,
                              "invalid argument \"%s\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR", a);
    }
    if (f->attach != NULL && f->detach)
        return mk_err_set(err, MK_ERR_INVALID, "conflicting options: cannot specify both --attach and --detach");
    return 0;
}

static int size_field(json_t *hc, const char *key, const char *value, mk_err **err)
{
    if (value == NULL)
        return 0;
    int64_t v;
    if (strcmp(key, "MemorySwap") == 0 && strcmp(value, "-1") == 0)
        v = -1;
    else if (mk_size_parse(value, &v, err) < 0)
        return -1;
    json_object_set_new(hc, key, json_integer(v));
    return 0;
}

/* "nofile=1024:2048" or "nofile=1024" */
static int parse_ulimit(const char *s, json_t **out, mk_err **err)
{
    const char *eq = strchr(s, '=');
    if (eq == NULL || eq == s)
        return mk_err_set(err, MK_ERR_INVALID, "invalid ulimit argument: %s", s);
    _cleanup_free_ char *name = xstrndup(s, (size_t)(eq - s));
    char *end;
    errno = 0;
    long long soft = strtoll(eq + 1, &end, 10), hard = soft;
    if (end == eq + 1 || errno != 0)
        return mk_err_set(err, MK_ERR_INVALID, "invalid ulimit argument: %s", s);
    if (*end == ':') {
        const char *h = end + 1;
        hard = strtoll(h, &end, 10);
        if (end == h || errno != 0)
            return mk_err_set(err, MK_ERR_INVALID, "invalid ulimit argument: %s", s);
    }
    if (*end != '\0')
        return mk_err_set(err, MK_ERR_INVALID, "invalid ulimit argument: %s", s);
    if (soft > hard)
        return mk_err_set(err, MK_ERR_INVALID,
                          "ulimit soft limit must be less than or equal to hard limit: %lld > %lld",
                          soft, hard);
    *out = json_pack("{s:s,s:I,s:I}", "Name", name, "Soft", (json_int_t)soft, "Hard", (json_int_t)hard);
    return 0;
}

/* -v SRC:DST[:MODE], -v DST[:MODE]: the CLI's own checks (the engine makes
 * volumes of names and of a lone destination). */
static int check_bind(const char *v, mk_err **err)
{
    const char *colon = strchr(v, ':');
    const char *dst = colon != NULL && colon[1] == '/' ? colon + 1 : v;
    if (*dst != '/')
        return mk_err_set(err, MK_ERR_INVALID, "invalid volume specification: '%s'", v);
    const char *mode = strchr(dst, ':');
    if (mode != NULL) {
        _cleanup_free_ char *m = xstrdup(mode + 1);
        char *save = NULL;
        for (char *t = strtok_r(m, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (strcmp(t, "ro") != 0 && strcmp(t, "rw") != 0 && strcmp(t, "z") != 0 &&
                strcmp(t, "Z") != 0 && strcmp(t, "private") != 0 && strcmp(t, "rprivate") != 0 &&
                strcmp(t, "slave") != 0 && strcmp(t, "rslave") != 0 && strcmp(t, "shared") != 0 &&
                strcmp(t, "rshared") != 0 && strcmp(t, "nocopy") != 0)
                return mk_err_set(err, MK_ERR_INVALID, "invalid mode: %s", t);
    }
    return 0;
}

/* docker's --health-* and --no-healthcheck (the CLI's checks; the daemon's
 * come at create). */
static int health_config(const struct run_flags *f, json_t *body, mk_err **err)
{
    int64_t d[4] = {0};
    bool have = (f->health_cmd != NULL && *f->health_cmd != '\0') || f->health_retries != 0;
    for (size_t i = 0; i < 4; i++) {
        if (f->health_durations[i] == NULL)
            continue;
        if (mk_duration_parse(f->health_durations[i], &d[i], err) < 0)
            return mk_err_wrap(err, "invalid argument \"%s\" for \"--%s\" flag",
                               f->health_durations[i], health_flags[i]);
        have |= d[i] != 0;
    }
    if (f->no_healthcheck) {
        if (have)
            return mk_err_set(err, MK_ERR_INVALID, "--no-healthcheck conflicts with --health-* options");
        json_object_set_new(body, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
        return 0;
    }
    if (!have)
        return 0;
    json_t *hc = json_object();
    json_object_set_new(body, "Healthcheck", hc);
    if (f->health_cmd != NULL && *f->health_cmd != '\0')
        json_object_set_new(hc, "Test", json_pack("[s,s]", "CMD-SHELL", f->health_cmd));
    for (size_t i = 0; i < 4; i++) {
        /* docker checks interval, timeout, then retries, then the start ones */
        if (i == 2 && f->health_retries < 0)
            return mk_err_set(err, MK_ERR_INVALID, "--health-retries cannot be negative");
        if (d[i] < 0)
            return mk_err_set(err, MK_ERR_INVALID, "--%s cannot be negative", health_flags[i]);
        json_object_set_new(hc, health_keys[i], json_integer(d[i]));
    }
    json_object_set_new(hc, "Retries", json_integer(f->health_retries));
    return 0;
}

static json_t *strv_or_null(char **v)
{
    return v ? mk_json_from_strv(v) : json_null();
}

/* --device, --device-cgroup-rule, --cgroupns, --cgroup-parent and
 * --oom-kill-disable, checked as the docker CLI checks them. */
static int device_fields(struct run_flags *f, json_t *hc, mk_err **err)
{
    json_t *devs = json_array();
    json_object_set_new(hc, "Devices", devs);
    for (size_t i = 0; f->devices && f->devices[i]; i++) {
        json_t *d = NULL;
        if (mk_device_mapping_parse(f->devices[i], &d, err) < 0)
            return -1;
        json_array_append_new(devs, d);
    }
    for (size_t i = 0; f->device_cgroup_rules && f->device_cgroup_rules[i]; i++) {
        _cleanup_json_ json_t *rule = NULL;
        if (mk_device_cgroup_rule_parse(f->device_cgroup_rules[i], &rule, NULL) < 0)
            return mk_err_set(err, MK_ERR_INVALID,
                              "invalid argument \"%s\" for \"--device-cgroup-rule\" flag: invalid "
                              "device cgroup format '%s'",
                              f->device_cgroup_rules[i], f->device_cgroup_rules[i]);
    }
    json_object_set_new(hc, "DeviceCgroupRules", strv_or_null(f->device_cgroup_rules));
    if (f->cgroupns != NULL && *f->cgroupns != '\0' && strcmp(f->cgroupns, "host") != 0 &&
        strcmp(f->cgroupns, "private") != 0)
        return mk_err_set(err, MK_ERR_INVALID, "--cgroupns: invalid CGROUP mode");
    json_object_set_new(hc, "CgroupnsMode", json_string(f->cgroupns ? f->cgroupns : ""));
    json_object_set_new(hc, "CgroupParent", json_string(f->cgroup_parent ? f->cgroup_parent : ""));
    json_object_set_new(hc, "OomKillDisable", json_boolean(f->oom_kill_disable));
    return 0;
}

static json_t *strv_array(char **v)
{
    json_t *a = json_array();
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static bool valid_mac(const char *s)
{
    unsigned b[6];
    char tail;
    return strlen(s) == 17 &&
           sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                  &tail) == 6;
}

/* -p/-P/--expose, --dns*, --add-host, --mac-address, --ip, --network-alias:
 * the docker CLI's checks and the create body's fields. */
static int network_fields(struct run_flags *f, json_t *body, json_t *hc, mk_err **err)
{
    json_t *bindings = json_object(), *exposed = json_object();
    json_object_set_new(hc, "PortBindings", bindings);
    json_object_set_new(body, "ExposedPorts", exposed);
    for (size_t i = 0; f->publish && f->publish[i]; i++)
        if (mk_port_spec_parse(f->publish[i], bindings, exposed, err) < 0)
            return -1;
    for (size_t i = 0; f->expose && f->expose[i]; i++)
        if (mk_expose_parse(f->expose[i], exposed, err) < 0)
            return -1;
    if (f->publish_all)
        json_object_set_new(hc, "PublishAllPorts", json_true());
    for (size_t i = 0; f->dns && f->dns[i]; i++) {
        unsigned char a[16];
        if (inet_pton(AF_INET, f->dns[i], a) != 1 && inet_pton(AF_INET6, f->dns[i], a) != 1) {
            f->usage_error = true;
            return mk_err_set(err, MK_ERR_INVALID,
                              "invalid argument \"%s\" for \"--dns\" flag: IP address is not "
                              "correctly formatted: %s",
                              f->dns[i], f->dns[i]);
        }
    }
    json_object_set_new(hc, "Dns", strv_array(f->dns));
    json_object_set_new(hc, "DnsSearch", strv_array(f->dns_search));
    json_object_set_new(hc, "DnsOptions", strv_array(f->dns_options));
    for (size_t i = 0; f->add_hosts && f->add_hosts[i]; i++) {
        _cleanup_err_ mk_err *bad = NULL;
        if (mk_extra_host_parse(f->add_hosts[i], NULL, NULL, &bad) < 0) {
            f->usage_error = true;
            return mk_err_set(err, MK_ERR_INVALID, "invalid argument \"%s\" for \"--add-host\" flag: %s",
                              f->add_hosts[i], bad->msg);
        }
    }
    json_object_set_new(hc, "ExtraHosts", strv_array(f->add_hosts));
    json_object_set_new(hc, "Links", strv_array(f->links));
    if (f->mac_address != NULL) {
        if (!valid_mac(f->mac_address))
            return mk_err_set(err, MK_ERR_INVALID, "%s is not a valid mac address", f->mac_address);
        json_object_set_new(body, "MacAddress", json_string(f->mac_address));
    }
    if (f->ip != NULL || f->aliases != NULL) {
        /* For the network named by --network, as the docker CLI sends it. */
        const char *net = f->network != NULL ? f->network : "default";
        json_t *ep = json_object();
        if (f->ip != NULL)
            json_object_set_new(ep, "IPAMConfig", json_pack("{s:s}", "IPv4Address", f->ip));
        if (f->aliases != NULL)
            json_object_set_new(ep, "Aliases", strv_array(f->aliases));
        json_object_set_new(body, "NetworkingConfig",
                            json_pack("{s:{s:o}}", "EndpointsConfig", net, ep));
    }
    return 0;
}

static int build_body(struct run_flags *f, char **rest, json_t **out, mk_err **err)
{
    _cleanup_json_ json_t *body = json_object();
    _cleanup_json_ json_t *hc = json_object();
    if (parse_attach(f, err) < 0)
        return -1;
    json_object_set_new(body, "Image", json_string(rest[0]));
    if (rest[1] != NULL)
        json_object_set_new(body, "Cmd", mk_json_from_strv(rest + 1));
    if (f->entrypoint_set)
        json_object_set_new(body, "Entrypoint", json_pack("[s]", f->entrypoint));
    json_t *env = json_array();
    json_object_set_new(body, "Env", env);
    for (size_t i = 0; f->env_file && f->env_file[i]; i++)
        if (read_env_file(f->env_file[i], env, err) < 0)
            return -1;
    for (size_t i = 0; f->env && f->env[i]; i++)
        add_env(env, f->env[i]);
    if (f->workdir) {
        if (f->workdir[0] != '/')
            return mk_err_set(err, MK_ERR_INVALID,
                              "the working directory '%s' is invalid, it needs to be an absolute path",
                              f->workdir);
        json_object_set_new(body, "WorkingDir", json_string(f->workdir));
    }
    if (f->user)
        json_object_set_new(body, "User", json_string(f->user));
    if (f->hostname)
        json_object_set_new(body, "Hostname", json_string(f->hostname));
    if (f->domainname)
        json_object_set_new(body, "Domainname", json_string(f->domainname));
    json_t *labels = json_object();
    json_object_set_new(body, "Labels", labels);
    /* docker: the files first, so -l overrides them. */
    for (size_t i = 0; f->label_files && f->label_files[i]; i++)
        if (read_kv_file(f->label_files[i], labels, err) < 0)
            return -1;
    for (size_t i = 0; f->labels && f->labels[i]; i++)
        set_kv(labels, f->labels[i]);
    if (f->annotations) {
        json_t *ann = json_object();
        json_object_set_new(hc, "Annotations", ann);
        for (size_t i = 0; f->annotations[i]; i++)
            set_kv(ann, f->annotations[i]);
    }
    bool attached = !f->detach;
    bool all_streams = f->attach == NULL;
    json_object_set_new(body, "Tty", json_boolean(f->tty));
    json_object_set_new(body, "OpenStdin", json_boolean(f->interactive));
    json_object_set_new(body, "StdinOnce", json_boolean(f->interactive && attached));
    json_object_set_new(body, "AttachStdin",
                        json_boolean(f->interactive && attached && (all_streams || f->attach_stdin)));
    json_object_set_new(body, "AttachStdout", json_boolean(attached && (all_streams || f->attach_stdout)));
    json_object_set_new(body, "AttachStderr", json_boolean(attached && (all_streams || f->attach_stderr)));
    if (f->stop_signal) {
        int sig;
        if (mk_signal_parse(f->stop_signal, &sig, err) < 0)
            return -1;
        json_object_set_new(body, "StopSignal", json_string(f->stop_signal));
    }
    if (f->stop_timeout_set)
        json_object_set_new(body, "StopTimeout", json_integer(f->stop_timeout));
    if (health_config(f, body, err) < 0)
        return -1;

    for (size_t i = 0; f->volumes && f->volumes[i]; i++)
        if (check_bind(f->volumes[i], err) < 0)
            return -1;
    json_object_set_new(hc, "Binds", strv_or_null(f->volumes));
    if (f->mounts != NULL) {
        json_t *ms = json_array();
        json_object_set_new(hc, "Mounts", ms);
        for (size_t i = 0; f->mounts[i]; i++) {
            json_t *m = NULL;
            if (mk_cli_mount_parse(f->mounts[i], &m, err) < 0) {
                f->usage_error = (*err)->kind == MK_ERR_INVALID;
                return -1;
            }
            json_array_append_new(ms, m);
        }
    }
    json_object_set_new(hc, "VolumesFrom", strv_or_null(f->volumes_from));
    if (f->tmpfs) {
        json_t *t = json_object();
        for (size_t i = 0; f->tmpfs[i]; i++) {
            _cleanup_free_ char *s = xstrdup(f->tmpfs[i]);
            char *colon = strchr(s, ':');
            if (colon != NULL)
                *colon++ = '\0';
            if (s[0] != '/') {
                json_decref(t);
                return mk_err_set(err, MK_ERR_INVALID, "invalid mount path: '%s' mount path must be absolute", s);
            }
            json_object_set_new(t, s, json_string(colon ? colon : ""));
        }
        json_object_set_new(hc, "Tmpfs", t);
    }
    json_object_set_new(hc, "ReadonlyRootfs", json_boolean(f->read_only));
    if (f->init)
        json_object_set_new(hc, "Init", json_true());
    json_object_set_new(hc, "AutoRemove", json_boolean(f->rm));
    if (f->restart != NULL) {
        json_t *rp = NULL;
        if (mk_restart_policy_parse(f->restart, &rp, err) < 0)
            return -1;
        json_object_set_new(hc, "RestartPolicy", rp);
        /* The CLI's own check, before the daemon's (docker's wording). */
        const char *name = mk_json_str(rp, "Name");
        if (f->rm && *name != '\0' && strcmp(name, "no") != 0)
            return mk_err_set(err, MK_ERR_INVALID,
                              "conflicting options: cannot specify both --restart and --rm");
    }
    json_object_set_new(hc, "NetworkMode", json_string(f->network ? f->network : "default"));
    if (network_fields(f, body, hc, err) < 0)
        return -1;
    json_t *log_cfg = json_object();
    for (size_t i = 0; f->log_opts && f->log_opts[i]; i++) {
        _cleanup_free_ char *kv = xstrdup(f->log_opts[i]);
        char *eq = strchr(kv, '=');
        if (eq == NULL) {
            json_decref(log_cfg);
            return mk_err_set(err, MK_ERR_INVALID, "invalid key/value pair format in logging opts: %s", kv);
        }
        *eq++ = '\0';
        if (strcmp(kv, "max-size") != 0 && strcmp(kv, "max-file") != 0) {
            json_decref(log_cfg);
            return mk_err_set(err, MK_ERR_INVALID, "unknown log opt '%s' for json-file log driver", kv);
        }
        json_object_set_new(log_cfg, kv, json_string(eq));
    }
    const char *ms = mk_json_str(log_cfg, "max-size");
    int64_t tmp;
    if (ms != NULL && mk_size_parse(ms, &tmp, err) < 0) {
        json_decref(log_cfg);
        return -1;
    }
    json_object_set_new(hc, "LogConfig", json_pack("{s:s,s:o}", "Type",
                                                   f->log_driver ? f->log_driver : "json-file",
                                                   "Config", log_cfg));
    if (f->runtime)
        json_object_set_new(hc, "Runtime", json_string(f->runtime));
    json_object_set_new(hc, "CapAdd", strv_or_null(f->cap_add));
    json_object_set_new(hc, "CapDrop", strv_or_null(f->cap_drop));
    json_object_set_new(hc, "Privileged", json_boolean(f->privileged));
    if (f->security_opt) {
        json_t *so = json_array();
        json_object_set_new(hc, "SecurityOpt", so);
        for (size_t i = 0; f->security_opt[i]; i++) {
            const char *s = f->security_opt[i];
            /* As the docker CLI: a seccomp profile file travels as its content. */
            if (mk_str_has_prefix(s, "seccomp=") && strcmp(s, "seccomp=unconfined") != 0 &&
                s[8] != '{') {
                _cleanup_free_ char *content = NULL;
                if (mk_read_file(s + 8, &content, NULL, err) < 0)
                    return mk_err_wrap(err, "opening seccomp profile (%s) failed", s + 8);
                _cleanup_free_ char *opt = xasprintf("seccomp=%s", content);
                json_array_append_new(so, json_string(opt));
            } else {
                json_array_append_new(so, json_string(s));
            }
        }
    }
    if (f->ulimits) {
        json_t *ul = json_array();
        json_object_set_new(hc, "Ulimits", ul);
        for (size_t i = 0; f->ulimits[i]; i++) {
            json_t *u = NULL;
            if (parse_ulimit(f->ulimits[i], &u, err) < 0)
                return -1;
            json_array_append_new(ul, u);
        }
    }
    if (size_field(hc, "Memory", f->memory, err) < 0 ||
        size_field(hc, "MemorySwap", f->memory_swap, err) < 0 ||
        size_field(hc, "MemoryReservation", f->memory_reservation, err) < 0 ||
        size_field(hc, "ShmSize", f->shm_size, err) < 0)
        return -1;
    if (f->cpus) {
        char *end;
        double c = strtod(f->cpus, &end);
        if (*f->cpus == '\0' || *end != '\0' || c < 0 || !isfinite(c))
            return mk_err_set(err, MK_ERR_INVALID, "invalid argument \"%s\" for \"--cpus\" flag: failed to parse %s as a rational number", f->cpus, f->cpus);
        json_object_set_new(hc, "NanoCpus", json_integer((json_int_t)llround(c * 1e9)));
    }
    if (f->cpu_shares_set)
        json_object_set_new(hc, "CpuShares", json_integer(f->cpu_shares));
    if (f->cpu_period)
        json_object_set_new(hc, "CpuPeriod", json_integer(f->cpu_period));
    if (f->cpu_quota)
        json_object_set_new(hc, "CpuQuota", json_integer(f->cpu_quota));
    if (f->cpuset_cpus)
        json_object_set_new(hc, "CpusetCpus", json_string(f->cpuset_cpus));
    if (f->cpuset_mems)
        json_object_set_new(hc, "CpusetMems", json_string(f->cpuset_mems));
    if (f->pids_limit_set)
        json_object_set_new(hc, "PidsLimit", json_integer(f->pids_limit));
    if (f->blkio_weight_set)
        json_object_set_new(hc, "BlkioWeight", json_integer(f->blkio_weight));
    if (f->memory_swappiness_set)
        json_object_set_new(hc, "MemorySwappiness", json_integer(f->memory_swappiness));
    if (f->oom_set)
        json_object_set_new(hc, "OomScoreAdj", json_integer(f->oom_score_adj));
    if (f->sysctls) {
        json_t *sc = json_object();
        json_object_set_new(hc, "Sysctls", sc);
        for (size_t i = 0; f->sysctls[i]; i++) {
            _cleanup_free_ char *kv = xstrdup(f->sysctls[i]);
            char *eq = strchr(kv, '=');
            if (eq == NULL)
                return mk_err_set(err, MK_ERR_INVALID, "invalid argument \"%s\" for \"--sysctl\" flag: sysctl '%s' is not allowed", kv, kv);
            *eq++ = '\0';
            json_object_set_new(sc, kv, json_string(eq));
        }
    }
    if (f->group_add)
        json_object_set_new(hc, "GroupAdd", mk_json_from_strv(f->group_add));
    if (f->ipc)
        json_object_set_new(hc, "IpcMode", json_string(f->ipc));
    if (f->pid)
        json_object_set_new(hc, "PidMode", json_string(f->pid));
    if (f->uts)
        json_object_set_new(hc, "UTSMode", json_string(f->uts));
    if (f->pull && strcmp(f->pull, "missing") != 0 && strcmp(f->pull, "never") != 0 &&
        strcmp(f->pull, "always") != 0)
        return mk_err_set(err, MK_ERR_INVALID, "invalid pull option: '%s': must be one of \"always\", \"missing\" or \"never\"", f->pull);
    if (device_fields(f, hc, err) < 0)
        return -1;
    json_object_set(body, "HostConfig", hc);
    *out = steal_pointer(&body);
    return 0;
}

/* --cidfile as docker: the file is made (empty) before the container, so one
 * that exists stops the command before anything is created; the id goes in
 * once there is one. */
static int cidfile_open(const char *path, mk_err **err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0)
        return fd;
    if (errno == EEXIST)
        return mk_err_set(err, MK_ERR_INVALID, "container ID file found, make sure the other container isn't running or delete %s", path);
    return mk_err_sys(err, "failed to create the container ID file");
}

static int cidfile_write(int fd, const char *path, const char *id, mk_err **err)
{
    return mk_write_all(fd, id, strlen(id)) < 0 ? mk_err_sys(err, "write %s", path) : 0;
}

/* docker 28's run/create errors: "docker: MSG" (the engine's prefixed
 * "Error response from daemon: ", as the daemon's are), a blank line and
 * where to find help. */
static int run_fail(const struct mk_cmd *cmd, mk_err *err, int status, bool from_engine)
{
    bool daemon = from_engine && err->kind != MK_ERR_UNSUPPORTED;
    fprintf(stderr, "mocker: %s%s\n\nRun 'mocker %s --help' for more information\n",
            daemon ? "Error response from daemon: " : "", err->msg, cmd->name);
    mk_err_free(err);
    return status;
}

/* --pull missing (the default): does create's failure mean the image has to
 * be pulled?  It is not here, or (with --platform) not of that platform.
 * Asked only once create has failed, so a run of an image that is here looks
 * it up once, on the start path. */
static bool image_wanted(struct mk_engine *e, const char *image, const struct mk_platform *platform)
{
    struct mk_image *img = NULL;
    mk_err *lookup = NULL;
    if (mk_image_lookup(e->store, image, &img, &lookup) < 0) {
        bool missing = lookup->kind == MK_ERR_NOT_FOUND;
        mk_err_free(lookup);
        return missing;
    }
    struct mk_platform have;
    bool usable = platform == NULL || !mk_platform_from_config(img->config, &have) ||
                  mk_platform_match(platform, &have) > 0;
    mk_image_free(img);
    return !usable;
}

/* Pull for run/create, its progress on stderr as docker's; announce: say
 * first that the image was not found (--pull missing). */
static int pull_image(struct mk_engine *e, const struct run_flags *f, const char *image,
                      bool announce, mk_err **err)
{
    if (announce) {
        struct mk_ref *ref = NULL;
        if (mk_ref_parse(image, &ref, err) < 0)
            return -1;
        _cleanup_free_ char *familiar = mk_ref_familiar(ref);
        mk_ref_free(ref);
        fprintf(stderr, "Unable to find image '%s' locally\n", familiar);
    }
    struct mk_cli_progress prog;
    mk_cli_progress_init(&prog, stderr, f->quiet);
    struct mk_pull_opts o = {.name = image, .platform = f->platform, .progress = mk_cli_progress_cb,
                             .ctx = &prog};
    struct mk_pull_result res;
    int r = mk_image_pull(e->store, &o, &res, err);
    mk_pull_result_clear(&res);
    mk_cli_progress_free(&prog);
    return r;
}

/* `create`: the container made here, pulling as --pull says. */
static int cli_create(const struct run_flags *f, const char *image, const json_t *body,
                      const struct mk_platform *want, const char *pull, char **id,
                      json_t **warnings, mk_err **err)
{
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return -1; /* said */
    int r = strcmp(pull, "always") == 0 ? pull_image(e, f, image, false, err) : 0;
    if (r == 0)
        r = mk_container_create_platform(e, f->name, want, body, id, warnings, err);
    if (r < 0 && strcmp(pull, "missing") == 0 && (*err)->kind == MK_ERR_NOT_FOUND &&
        image_wanted(e, image, want)) {
        mk_err_clear(err);
        r = pull_image(e, f, image, true, err);
        if (r == 0)
            r = mk_container_create_platform(e, f->name, want, body, id, warnings, err);
    }
    mk_engine_free(e);
    return r;
}

/* `run`: the container's monitor is forked first, before any store is open
 * here, and creates the container with the store it opened meanwhile; we
 * open one only to pull (or for the first command of a boot), and close it
 * before forking.  *monitor_fd: the monitor, waiting to start it. */
static int run_create(const struct run_flags *f, const char *image,
                      const struct mk_run_create *req, const struct mk_platform *want,
                      const char *pull, int *monitor_fd, char **id, json_t **warnings,
                      mk_err **err)
{
    bool own_netns = f->network == NULL || (strcmp(f->network, "host") != 0 &&
                                            !mk_str_has_prefix(f->network, "container:"));
    /* The firewall's library is needed for published ports and, on a
     * user-defined network, the DNS redirect. */
    bool user_net = own_netns && f->network != NULL && strcmp(f->network, "bridge") != 0 &&
                    strcmp(f->network, "default") != 0 && strcmp(f->network, "none") != 0;
    bool firewall = own_netns && (f->publish != NULL || f->publish_all || user_net);
    bool pull_first = strcmp(pull, "always") == 0;
    if (pull_first || mk_engine_boot_pending()) {
        struct mk_engine *e = mk_cli_engine();
        if (e == NULL)
            return -1; /* said */
        int r = pull_first ? pull_image(e, f, image, false, err) : 0;
        mk_engine_free(e);
        if (r < 0)
            return -1;
    }
    for (bool pulled = false;; pulled = true) {
        if (mk_engine_monitor_fork(monitor_fd, own_netns, firewall, err) < 0)
            return -1;
        mk_trace("cli-forked");
        if (mk_engine_run_create(*monitor_fd, req, id, warnings, err) == 0)
            return 0;
        mk_closep(monitor_fd);
        if (pulled || strcmp(pull, "missing") != 0 || (*err)->kind != MK_ERR_NOT_FOUND)
            return -1;
        struct mk_engine *e = mk_cli_engine();
        if (e == NULL)
            return -1; /* said */
        int r = 0;
        if (image_wanted(e, image, want)) {
            mk_err_clear(err);
            r = pull_image(e, f, image, true, err);
        }
        mk_engine_free(e);
        if (r < 0 || *err != NULL)
            return -1;
    }
}

static int run_or_create(int argc, char **argv, bool is_run)
{
    static const struct mk_cmd run_cmd = {"run", "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
                                          "Create and run a new container from an image", false};
    static const struct mk_cmd create_cmd = {"create", "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
                                             "Create a new container", false};
    const struct mk_cmd *cmd = is_run ? &run_cmd : &create_cmd;
    struct run_flags f = {.sig_proxy = true};
    struct mk_opt opts[160];
    run_opts(&f, opts, sizeof(opts) / sizeof(opts[0]), is_run);
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int status = 125;
    json_t *body = NULL;
    _cleanup_free_ char *id = NULL;
    _cleanup_json_ json_t *warnings = NULL;
    _cleanup_close_ int monitor_fd = -1;
    _cleanup_close_ int cid_fd = -1;
    int r = mk_args_parse(cmd, argc, argv, opts, &rest, &err);
    if (r != 0) {
        free_flags(&f);
        return r > 0 ? 0 : mk_cli_usage_error(cmd, err);
    }
    if (mk_cli_check_args(cmd, rest, 1, (size_t)-1) != 0) {
        free_flags(&f);
        return 1;
    }
    if (f.tty && f.interactive && !isatty(0)) {
        free_flags(&f);
        fprintf(stderr, "the input device is not a TTY\n");
        return 1;
    }
    if (build_body(&f, rest, &body, &err) < 0) {
        status = f.usage_error ? mk_cli_usage_error(cmd, err) : run_fail(cmd, err, 125, false);
        goto out;
    }
    /* Parsed here, as the docker CLI does, before any engine work. */
    struct mk_platform platform;
    bool has_platform = f.platform != NULL && *f.platform != '\0';
    if (has_platform && mk_platform_parse(f.platform, &platform, &err) < 0) {
        mk_err_wrap(&err, "error parsing specified platform");
        status = run_fail(cmd, err, 125, false);
        goto out;
    }
    mk_trace("cli-parsed");
    if (f.cidfile != NULL && (cid_fd = cidfile_open(f.cidfile, &err)) < 0) {
        status = run_fail(cmd, err, 125, false);
        goto out;
    }
    const char *pull = f.pull != NULL ? f.pull : "missing";
    const struct mk_platform *want = has_platform ? &platform : NULL;
    /* The monitor starts the container right after creating it, unless a
     * cidfile is to be written first (docker writes it before the start). */
    struct mk_run_create req = {.name = f.name,
                                .platform = f.platform,
                                .body = body,
                                .attach = !f.detach,
                                .at_once = f.cidfile == NULL};
    int created = is_run ? run_create(&f, rest[0], &req, want, pull, &monitor_fd, &id, &warnings, &err)
                         : cli_create(&f, rest[0], body, want, pull, &id, &warnings, &err);
    if (created < 0 && cid_fd >= 0)
        unlink(f.cidfile);
    if (created < 0) {
        /* docker run exits 125 when the daemon refuses; docker create prints
         * the daemon's error alone and exits 1 */
        if (err != NULL)
            status = is_run ? run_fail(cmd, err, 125, true) : mk_cli_fail(NULL, err, 1);
        goto out;
    }
    size_t wi;
    json_t *w;
    json_array_foreach(warnings, wi, w)
        fprintf(stderr, "WARNING: %s\n", json_string_value(w));
    if (cid_fd >= 0 && cidfile_write(cid_fd, f.cidfile, id, &err) < 0) {
        status = run_fail(cmd, err, 125, false);
        goto out;
    }
    if (!is_run) {
        printf("%s\n", id);
        status = 0;
        goto out;
    }
    mk_trace("cli-created");
    pid_t init_pid = 0;
    if (mk_engine_run_start(monitor_fd, &req, id, &init_pid, &err) < 0) {
        status = run_fail(cmd, err, err->exit_code, true);
        goto out;
    }
    if (f.detach) {
        printf("%s\n", id);
        status = 0;
        goto out;
    }
    mk_trace("cli-started");
    /* The monitor's connection carries the container's streams now. */
    int attach_fd = steal_fd(&monitor_fd);
    struct mk_attach_opts ao = {
        .stdin_ = f.interactive && (f.attach == NULL || f.attach_stdin),
        .tty = f.tty,
        .drop_stdout = f.attach != NULL && !f.attach_stdout,
        .drop_stderr = f.attach != NULL && !f.attach_stderr,
        .detach_keys = f.detach_keys,
        .sig_proxy = f.sig_proxy && !f.tty,
        .container_pid = f.sig_proxy && !f.tty ? init_pid : 0,
    };
    int code = 0;
    bool detached = false;
    r = mk_attach_client(attach_fd, &ao, &code, &detached, &err);
    close(attach_fd);
    mk_trace("cli-exit");
    if (r < 0) {
        status = run_fail(cmd, err, 125, true);
        goto out;
    }
    status = detached ? 0 : code;
out:
    json_decref(body);
    free_flags(&f);
    return status;
}

int cmd_run(int argc, char **argv)
{
    return run_or_create(argc, argv, true);
}

int cmd_create(int argc, char **argv)
{
    return run_or_create(argc, argv, false);
}
