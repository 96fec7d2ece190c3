/* test_cgroup.c: cgroup creation, resources, enter, kill and removal on the
 * host's real layout (as root; skipped otherwise). */
#include "runtime/internal.h"
#include "tap.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <linux/magic.h>

static char *path;

static char *cg_file(const char *controller, const char *file)
{
    if (mk_cgroup_detect() == MK_CGROUP_V2)
        return xasprintf("/sys/fs/cgroup%s/%s", path, file);
    return xasprintf("/sys/fs/cgroup/%s%s/%s", controller, path, file);
}

static char *read_cg(const char *controller, const char *file)
{
    _cleanup_free_ char *f = cg_file(controller, file);
    char *data = NULL;
    if (mk_read_file(f, &data, NULL, NULL) < 0)
        return xstrdup("(missing)");
    data[strcspn(data, "\n")] = '\0';
    return data;
}

static void test_detect(void)
{
    struct statfs sf;
    CHECK(statfs("/sys/fs/cgroup", &sf) == 0);
    enum mk_cgroup_layout l = mk_cgroup_detect();
    if ((long)sf.f_type == CGROUP2_SUPER_MAGIC)
        CHECK_INT(l, MK_CGROUP_V2);
    else
        CHECK(l == MK_CGROUP_V1 || l == MK_CGROUP_HYBRID);
    printf("# layout: %s\n", l == MK_CGROUP_V2 ? "v2" : l == MK_CGROUP_HYBRID ? "hybrid" : "v1");
}

static void test_paths(void)
{
    json_t *spec = json_pack("{s:{s:s}}", "linux", "cgroupsPath", "system.slice:docker:abc");
    const char *p = NULL;
    mk_err *err = NULL;
    CHECK(rt_cgroup_path(spec, &p, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_UNSUPPORTED);
    mk_err_clear(&err);
    json_decref(spec);
    spec = json_pack("{s:{s:s}}", "linux", "cgroupsPath", "/mocker/../etc");
    CHECK(rt_cgroup_path(spec, &p, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_INVALID);
    mk_err_clear(&err);
    json_decref(spec);
    spec = json_pack("{s:{}}", "linux");
    CHECK(rt_cgroup_path(spec, &p, &err) == 0 && p == NULL);
    json_decref(spec);
}

static void test_create_resources(void)
{
    _cleanup_json_ json_t *res = json_pack(
        "{s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:s}, s:{s:I}, s:[{s:b, s:s}, {s:b, s:s, s:I, "
        "s:I, s:s}]}",
        "memory", "limit", (json_int_t)32 << 20, "swap", (json_int_t)64 << 20, "reservation",
        (json_int_t)16 << 20, "cpu", "shares", (json_int_t)512, "quota", (json_int_t)50000,
        "period", (json_int_t)100000, "cpus", "0", "pids", "limit", (json_int_t)42, "devices",
        "allow", 0, "access", "rwm", "allow", 1, "type", "c", "major", (json_int_t)1, "minor",
        (json_int_t)3, "access", "rwm");
    mk_err *err = NULL;
    if (mk_cgroup_create(path, res, &err) < 0)
        FAIL_AT("create: %s", err->msg);
    if (mk_cgroup_detect() == MK_CGROUP_V2) {
        _cleanup_free_ char *max = read_cg("", "memory.max");
        CHECK_STR(max, "33554432");
        _cleanup_free_ char *swap = read_cg("", "memory.swap.max");
        CHECK_STR(swap, "33554432");
        _cleanup_free_ char *cpu = read_cg("", "cpu.max");
        CHECK_STR(cpu, "50000 100000");
        _cleanup_free_ char *pids = read_cg("", "pids.max");
        CHECK_STR(pids, "42");
        return;
    }
    _cleanup_free_ char *lim = read_cg("memory", "memory.limit_in_bytes");
    CHECK_STR(lim, "33554432");
    _cleanup_free_ char *memsw = read_cg("memory", "memory.memsw.limit_in_bytes");
    CHECK_STR(memsw, "67108864");
    _cleanup_free_ char *soft = read_cg("memory", "memory.soft_limit_in_bytes");
    CHECK_STR(soft, "16777216");
    _cleanup_free_ char *shares = read_cg("cpu", "cpu.shares");
    CHECK_STR(shares, "512");
    _cleanup_free_ char *quota = read_cg("cpu", "cpu.cfs_quota_us");
    CHECK_STR(quota, "50000");
    _cleanup_free_ char *cpus = read_cg("cpuset", "cpuset.cpus");
    CHECK_STR(cpus, "0");
    _cleanup_free_ char *mems = read_cg("cpuset", "cpuset.mems");
    CHECK(strcmp(mems, "") != 0 && strcmp(mems, "(missing)") != 0);
    _cleanup_free_ char *pids = read_cg("pids", "pids.max");
    CHECK_STR(pids, "42");
    _cleanup_free_ char *devs = read_cg("devices", "devices.list");
    CHECK_STR(devs, "c 1:3 rwm");
    int64_t usage, limit;
    CHECK(mk_cgroup_memory(path, &usage, &limit, NULL) == 0);
    CHECK_INT(limit, 32 << 20);
    /* Creating again is fine (a restart reuses the path). */
    CHECK(mk_cgroup_create(path, NULL, NULL) == 0);
}

static void test_enter_and_destroy(void)
{
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    mk_err *err = NULL;
    if (mk_cgroup_enter(path, child, &err) < 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        FAIL_AT("enter: %s", err->msg);
    }
    _cleanup_free_ char *procs = read_cg("pids", "cgroup.procs");
    char want[32];
    snprintf(want, sizeof(want), "%d", (int)child);
    CHECK_STR(procs, want);
    if (mk_cgroup_destroy(path, &err) < 0)
        FAIL_AT("destroy: %s", err->msg);
    int status;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    _cleanup_free_ char *dir = cg_file("pids", "");
    CHECK(access(dir, F_OK) < 0);
    CHECK(mk_cgroup_destroy(path, NULL) == 0); /* idempotent */
}

/* A device rule repeated is written once, unless a rule of the other kind
 * in between may have undone it (v1; v2 has no devices file). */
static void test_repeated_device_rules(void)
{
    if (mk_cgroup_detect() == MK_CGROUP_V2)
        return;
    static const char *const cases[][2] = {
        /* allowed, denied, allowed again: the last allow must be written */
        {"[{\"allow\":false,\"access\":\"rwm\"},"
         "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},"
         "{\"allow\":false,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},"
         "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"}]",
         "c 1:3 rwm"},
        /* a deny of another device in between: the repeat changes nothing */
        {"[{\"allow\":false,\"access\":\"rwm\"},"
         "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},"
         "{\"allow\":false,\"type\":\"c\",\"major\":10,\"minor\":229,\"access\":\"rwm\"},"
         "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"}]",
         "c 1:3 rwm"},
        /* denied everything after: nothing stays */
        {"[{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},"
         "{\"allow\":false,\"access\":\"rwm\"},"
         "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":5,\"access\":\"rwm\"},"
         "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"}]",
         "c 1:5 rwm\nc 1:3 rwm"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        _cleanup_json_ json_t *res = json_pack("{s:o}", "devices", json_loads(cases[i][0], 0, NULL));
        mk_err *err = NULL;
        mk_cgroup_destroy(path, NULL);
        if (mk_cgroup_create(path, res, &err) < 0)
            FAIL_AT("case %zu: %s", i, err->msg);
        _cleanup_free_ char *f = cg_file("devices", "devices.list");
        _cleanup_free_ char *list = NULL;
        CHECK(mk_read_file(f, &list, NULL, NULL) == 0);
        size_t n = strlen(list);
        if (n > 0 && list[n - 1] == '\n')
            list[n - 1] = '\0';
        if (strcmp(list, cases[i][1]) != 0)
            FAIL_AT("case %zu: devices.list [%s], expected [%s]", i, list, cases[i][1]);
    }
    mk_cgroup_destroy(path, NULL);
}

static void test_unsupported(void)
{
    _cleanup_json_ json_t *res =
        json_pack("{s:[{s:s, s:I}]}", "hugepageLimits", "pageSize", "2MB", "limit", (json_int_t)1);
    mk_err *err = NULL;
    CHECK(mk_cgroup_create(path, res, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_UNSUPPORTED);
    mk_err_clear(&err);
    CHECK(mk_cgroup_destroy(path, NULL) == 0);
    CHECK(mk_cgroup_destroy("/", &err) < 0);
    mk_err_clear(&err);
}

int main(void)
{
    RUN(test_paths);
    if (geteuid() != 0) {
        printf("# skip: the rest needs root\n");
        return tap_done();
    }
    path = xasprintf("/mocker-test-cg/%d", (int)getpid());
    RUN(test_detect);
    RUN(test_create_resources);
    RUN(test_enter_and_destroy);
    RUN(test_repeated_device_rules);
    RUN(test_unsupported);
    mk_cgroup_destroy("/mocker-test-cg", NULL);
    free(path);
    return tap_done();
}
