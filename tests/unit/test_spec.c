/* test_spec.c: docker create body -> OCI spec, checked against what moby
 * produces for the same container. */
#include "engine/engine.h"
#include "engine/spec.h"
#include "image/image.h"
#include "tap.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

/* Stand-in for the image module's lookup, used only while the real one is not
 * linked in (weak: the real definition wins). */
__attribute__((weak)) char *mk_layers_find_file(char *const *dirs, const char *rel)
{
    for (size_t i = 0; dirs != NULL && dirs[i] != NULL; i++) {
        char *p = mk_path_join(dirs[i], rel);
        if (access(p, F_OK) == 0)
            return p;
        free(p);
    }
    return NULL;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char tmp_root[] = "/tmp/test_spec.XXXXXX";

static char *tmp_path(const char *rel)
{
    return mk_path_join(tmp_root, rel);
}

static void write_file(const char *rel, const char *data)
{
    _cleanup_free_ char *p = tmp_path(rel);
    _cleanup_free_ char *dir = xstrdup(p);
    *strrchr(dir, '/') = '\0';
    mk_mkdir_p(dir, 0755, NULL);
    mk_write_file_atomic(p, data, strlen(data), 0644, NULL);
}

static const char passwd_data[] = "root:x:0:0:root:/root:/bin/sh\n"
                                  "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                                  "\n"
                                  "  alice:x:1000:1000:Alice:/home/alice:/bin/sh  \n"
                                  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
static const char group_data[] = "root:x:0:root\n"
                                 "daemon:x:1:root,daemon\n"
                                 "wheel:x:10:root,alice\n"
                                 "users:x:100:\n"
                                 "alice:x:1000:\n"
                                 "audio:x:29:alice\n";

/* ---- helpers ---- */

static json_t *parse(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (j == NULL)
        printf("# bad test json: %s: %s\n", s, e.text);
    return j;
}

static bool array_has_str(const json_t *a, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

/* Is syscall `name` allowed by some rule (any action other than errno)? */
static const json_t *seccomp_rule_for(const json_t *sc, const char *name, const char *action)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(sc, "syscalls"), i, r)
    {
        if (array_has_str(json_object_get(r, "names"), name) &&
            (action == NULL || strcmp(mk_json_str(r, "action"), action) == 0))
            return r;
    }
    return NULL;
}

static const json_t *find_mount(const json_t *spec, const char *dest)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(spec, "mounts"), i, m)
    {
        if (strcmp(mk_json_str(m, "destination"), dest) == 0)
            return m;
    }
    return NULL;
}

static char *options_str(const json_t *m)
{
    _cleanup_strv_ char **v = mk_json_strv(json_object_get(m, "options"));
    return mk_strv_join(v, ",");
}

struct fixture {
    char *upper, *lower, *hosts, *hostname, *resolv;
    char *lowers[2];
};

static void fixture_init(struct fixture *f)
{
    f->upper = tmp_path("upper");
    f->lower = tmp_path("lower");
    mk_mkdir_p(f->upper, 0755, NULL);
    f->hosts = tmp_path("ctr/hosts");
    f->hostname = tmp_path("ctr/hostname");
    f->resolv = tmp_path("ctr/resolv.conf");
    f->lowers[0] = f->lower;
    f->lowers[1] = NULL;
}

static void fixture_free(struct fixture *f)
{
    free(f->upper);
    free(f->lower);
    free(f->hosts);
    free(f->hostname);
    free(f->resolv);
}

/* Build a spec for config/host_config JSON texts; NULL on error (in *err). */
static json_t *build(const char *config, const char *host_config, mk_err **err)
{
    struct fixture f;
    fixture_init(&f);
    _cleanup_json_ json_t *cfg = parse(config);
    _cleanup_json_ json_t *hc = parse(host_config);
    struct mk_spec_input in = {
        .id = "abc123",
        .config = cfg,
        .host_config = hc,
        .rootfs = "/var/lib/mocker/containers/abc123/rootfs",
        .lower_dirs = f.lowers,
        .upper_dir = f.upper,
        .work_dir = "/var/lib/mocker/containers/abc123/work",
        .hostname = "abc123",
        .hosts_path = f.hosts,
        .hostname_path = f.hostname,
        .resolv_path = f.resolv,
        .init_path = "/usr/libexec/mocker/mocker-init",
        .cgroup_parent = "/mocker",
        /* the engine's MountPoints ride in the fixture's host config */
        .mount_points = json_object_get(hc, "MountPoints"),
    };
    json_t *spec = NULL;
    int r = mk_spec_build(&in, &spec, err);
    fixture_free(&f);
    return r < 0 ? NULL : spec;
}

#define BASIC_CONFIG "{\"Cmd\":[\"sh\",\"-c\",\"true\"],\"Hostname\":\"abc123\"}"

/* ---- capabilities ---- */

static void test_default_caps(void)
{
    _cleanup_strv_ char **caps = NULL;
    CHECK(mk_spec_capabilities(NULL, NULL, false, &caps, NULL) == 0);
    CHECK_INT(mk_strv_len(caps), 14);
    CHECK_INT(mk_spec_cap_mask(caps), 0xa80425fbULL);
    CHECK_STR(caps[0], "CAP_CHOWN");
    CHECK_STR(caps[13], "CAP_AUDIT_WRITE");
}

static void test_caps_add_drop(void)
{
    _cleanup_json_ json_t *add = parse("[\"sys_admin\",\"CAP_net_ADMIN\"]");
    _cleanup_json_ json_t *drop = parse("[\"chown\"]");
    _cleanup_strv_ char **caps = NULL;
    CHECK(mk_spec_capabilities(add, drop, false, &caps, NULL) == 0);
    CHECK(mk_strv_contains(caps, "CAP_SYS_ADMIN"));
    CHECK(mk_strv_contains(caps, "CAP_NET_ADMIN"));
    CHECK(!mk_strv_contains(caps, "CAP_CHOWN"));
    CHECK_INT(mk_strv_len(caps), 15);

    _cleanup_json_ json_t *all = parse("[\"all\"]");
    _cleanup_json_ json_t *mknod = parse("[\"MKNOD\"]");
    _cleanup_strv_ char **everything = NULL, **all_but = NULL, **only_kill = NULL;
    CHECK(mk_spec_capabilities(NULL, NULL, true, &everything, NULL) == 0);
    CHECK(mk_spec_capabilities(all, mknod, false, &all_but, NULL) == 0);
    CHECK_INT(mk_strv_len(all_but), mk_strv_len(everything) - 1);
    CHECK(!mk_strv_contains(all_but, "CAP_MKNOD"));
    if (geteuid() == 0)
        CHECK(mk_strv_contains(everything, "CAP_SYS_ADMIN"));

    _cleanup_json_ json_t *kill = parse("[\"kill\"]");
    CHECK(mk_spec_capabilities(kill, all, false, &only_kill, NULL) == 0);
    CHECK_INT(mk_strv_len(only_kill), 1);
    CHECK_STR(only_kill[0], "CAP_KILL");

    _cleanup_json_ json_t *bad = parse("[\"foo\"]");
    _cleanup_strv_ char **none = NULL;
    _cleanup_err_ mk_err *err = NULL;
    CHECK(mk_spec_capabilities(bad, NULL, false, &none, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_INVALID);
    CHECK_STR(err->msg, "unknown capability: \"CAP_FOO\"");
    CHECK(none == NULL);
}

/* ---- seccomp ---- */

static void test_seccomp_default(void)
{
    _cleanup_strv_ char **caps = NULL;
    mk_spec_capabilities(NULL, NULL, false, &caps, NULL);
    _cleanup_json_ json_t *sc = NULL;
    CHECK(mk_spec_seccomp_default(caps, &sc, NULL) == 0);
    CHECK(sc != NULL);
    CHECK_STR(mk_json_str(sc, "defaultAction"), "SCMP_ACT_ERRNO");
    CHECK_INT(mk_json_int(sc, "defaultErrnoRet", 0), 1);
#if defined(__x86_64__)
    const json_t *arches = json_object_get(sc, "architectures");
    CHECK_INT(json_array_size(arches), 3);
    CHECK_STR(json_string_value(json_array_get(arches, 0)), "SCMP_ARCH_X86_64");
    CHECK_STR(json_string_value(json_array_get(arches, 1)), "SCMP_ARCH_X86");
    CHECK_STR(json_string_value(json_array_get(arches, 2)), "SCMP_ARCH_X32");
    CHECK(seccomp_rule_for(sc, "arch_prctl", "SCMP_ACT_ALLOW") != NULL);
    CHECK(seccomp_rule_for(sc, "modify_ldt", "SCMP_ACT_ALLOW") != NULL);
    CHECK(seccomp_rule_for(sc, "s390_runtime_instr", NULL) == NULL);
#endif
    CHECK(seccomp_rule_for(sc, "read", "SCMP_ACT_ALLOW") != NULL);
    /* ptrace needs kernel >= 4.8, which every host we run on has. */
    CHECK(seccomp_rule_for(sc, "ptrace", "SCMP_ACT_ALLOW") != NULL);
    CHECK(seccomp_rule_for(sc, "mount", NULL) == NULL);
    CHECK(seccomp_rule_for(sc, "bpf", NULL) == NULL);
    CHECK(seccomp_rule_for(sc, "chroot", "SCMP_ACT_ALLOW") != NULL); /* CAP_SYS_CHROOT */
    /* Without CAP_SYS_ADMIN: clone only with safe flags, clone3 fails ENOSYS. */
    const json_t *clone = seccomp_rule_for(sc, "clone", "SCMP_ACT_ALLOW");
    CHECK(clone != NULL);
    CHECK_INT(json_array_size(json_object_get(clone, "args")), 1);
    const json_t *clone3 = seccomp_rule_for(sc, "clone3", "SCMP_ACT_ERRNO");
    CHECK(clone3 != NULL);
    CHECK_INT(mk_json_int(clone3, "errnoRet", 0), 38);
    /* docker-only keys never reach the OCI object. */
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(sc, "syscalls"), i, r)
    {
        CHECK(json_object_get(r, "includes") == NULL);
        CHECK(json_object_get(r, "excludes") == NULL);
        CHECK(json_object_get(r, "comment") == NULL);
    }
    CHECK(json_object_get(sc, "archMap") == NULL);
}

static void test_seccomp_sys_admin(void)
{
    _cleanup_json_ json_t *add = parse("[\"SYS_ADMIN\"]");
    _cleanup_strv_ char **caps = NULL;
    mk_spec_capabilities(add, NULL, false, &caps, NULL);
    _cleanup_json_ json_t *sc = NULL;
    CHECK(mk_spec_seccomp_default(caps, &sc, NULL) == 0);
    CHECK(seccomp_rule_for(sc, "mount", "SCMP_ACT_ALLOW") != NULL);
    CHECK(seccomp_rule_for(sc, "bpf", "SCMP_ACT_ALLOW") != NULL);
    CHECK(seccomp_rule_for(sc, "clone3", "SCMP_ACT_ERRNO") == NULL);
    const json_t *clone = seccomp_rule_for(sc, "clone", "SCMP_ACT_ALLOW");
    CHECK(clone != NULL);
    CHECK(json_object_get(clone, "args") == NULL);
}

static void test_seccomp_custom(void)
{
    _cleanup_strv_ char **caps = NULL;
    mk_spec_capabilities(NULL, NULL, false, &caps, NULL);
    _cleanup_json_ json_t *p1 =
        parse("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
              "\"syscalls\":[{\"name\":\"chmod\",\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13},"
              "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ALLOW\","
              "\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},"
              "{\"names\":[\"kexec_load\"],\"action\":\"SCMP_ACT_ERRNO\","
              "\"excludes\":{\"minKernel\":\"2.6\"}}]}");
    _cleanup_json_ json_t *sc = NULL;
    CHECK(mk_spec_seccomp_from_docker(p1, caps, &sc, NULL) == 0);
    CHECK_STR(mk_json_str(sc, "defaultAction"), "SCMP_ACT_ALLOW");
    CHECK_INT(json_array_size(json_object_get(sc, "architectures")), 1);
    CHECK_INT(json_array_size(json_object_get(sc, "syscalls")), 1);
    const json_t *chmod_rule = seccomp_rule_for(sc, "chmod", "SCMP_ACT_ERRNO");
    CHECK(chmod_rule != NULL);
    CHECK_INT(mk_json_int(chmod_rule, "errnoRet", 0), 13);

    /* No default action and no rules: seccomp disabled. */
    _cleanup_json_ json_t *p2 = parse("{}");
    _cleanup_json_ json_t *none = NULL;
    CHECK(mk_spec_seccomp_from_docker(p2, caps, &none, NULL) == 0);
    CHECK(none == NULL);

    _cleanup_json_ json_t *p3 =
        parse("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86\"],"
              "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\"}],\"syscalls\":[]}");
    _cleanup_err_ mk_err *err = NULL;
    _cleanup_json_ json_t *bad = NULL;
    CHECK(mk_spec_seccomp_from_docker(p3, caps, &bad, &err) < 0);
    CHECK(strstr(err->msg, "use either 'architectures' or 'archMap'") != NULL);

    _cleanup_json_ json_t *p4 =
        parse("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
              "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"4\"}}]}");
    _cleanup_err_ mk_err *err2 = NULL;
    CHECK(mk_spec_seccomp_from_docker(p4, caps, &bad, &err2) < 0);
    CHECK(strstr(err2->msg, "invalid kernel version") != NULL);
}

/* ---- users ---- */

static void test_resolve_user(void)
{
    _cleanup_free_ char *pw = tmp_path("etc/passwd"), *gr = tmp_path("etc/group");
    write_file("etc/passwd", passwd_data);
    write_file("etc/group", group_data);
    uid_t uid;
    gid_t gid;
    _cleanup_free_ gid_t *extra = NULL;
    size_t n = 0;
    _cleanup_free_ char *home = NULL;

    CHECK(mk_spec_resolve_user("", pw, gr, &uid, &gid, &extra, &n, &home, NULL) == 0);
    CHECK_INT(uid, 0);
    CHECK_INT(gid, 0);
    CHECK_STR(home, "/root");
    CHECK_INT(n, 3); /* 0 (primary, also listed), daemon, wheel */
    CHECK_INT(extra[0], 0);
    CHECK_INT(extra[1], 1);
    CHECK_INT(extra[2], 10);
    free(extra), extra = NULL, free(home), home = NULL;

    CHECK(mk_spec_resolve_user("alice", pw, gr, &uid, &gid, &extra, &n, &home, NULL) == 0);
    CHECK_INT(uid, 1000);
    CHECK_INT(gid, 1000);
    CHECK_STR(home, "/home/alice");
    CHECK_INT(n, 3);
    CHECK_INT(extra[1], 10);
    CHECK_INT(extra[2], 29);
    free(extra), extra = NULL, free(home), home = NULL;

    /* Explicit group: no supplementary groups from membership. */
    CHECK(mk_spec_resolve_user("alice:users", pw, gr, &uid, &gid, &extra, &n, &home, NULL) == 0);
    CHECK_INT(uid, 1000);
    CHECK_INT(gid, 100);
    CHECK_INT(n, 1);
    free(extra), extra = NULL, free(home), home = NULL;

    /* Numeric ids need not exist. */
    CHECK(mk_spec_resolve_user("4242:4343", pw, gr, &uid, &gid, &extra, &n, &home, NULL) == 0);
    CHECK_INT(uid, 4242);
    CHECK_INT(gid, 4343);
    CHECK_STR(home, "/");
    free(extra), extra = NULL, free(home), home = NULL;

    CHECK(mk_spec_resolve_user("1", pw, gr, &uid, &gid, &extra, &n, &home, NULL) == 0);
    CHECK_INT(uid, 1);
    CHECK_INT(gid, 1);
    CHECK_STR(home, "/usr/sbin");
    free(extra), extra = NULL, free(home), home = NULL;

    CHECK(mk_spec_resolve_user("nobody:0", NULL, NULL, &uid, &gid, &extra, &n, &home, NULL) < 0);
    {
        _cleanup_err_ mk_err *err = NULL;
        CHECK(mk_spec_resolve_user("bob", pw, gr, &uid, &gid, &extra, &n, &home, &err) < 0);
        CHECK_STR(err->msg, "unable to find user bob: no matching entries in passwd file");
    }
    {
        _cleanup_err_ mk_err *err = NULL;
        CHECK(mk_spec_resolve_user("0:staff", pw, gr, &uid, &gid, &extra, &n, &home, &err) < 0);
        CHECK_STR(err->msg, "unable to find group staff: no matching entries in group file");
    }
    {
        _cleanup_err_ mk_err *err = NULL;
        CHECK(mk_spec_resolve_user("-5", pw, gr, &uid, &gid, &extra, &n, &home, &err) < 0);
        CHECK_STR(err->msg, "uids and gids must be in range 0-2147483647");
    }
    /* No passwd file at all: root by default, names fail, numbers work. */
    CHECK(mk_spec_resolve_user("", NULL, NULL, &uid, &gid, &extra, &n, &home, NULL) == 0);
    CHECK_INT(uid, 0);
    CHECK_STR(home, "/");
    free(extra), extra = NULL, free(home), home = NULL;
    CHECK(extra == NULL);
}

static void test_group_add(void)
{
    _cleanup_free_ char *gr = tmp_path("etc/group");
    write_file("etc/group", group_data);
    _cleanup_json_ json_t *groups = parse("[\"audio\",\"4000\",\"10\"]");
    _cleanup_free_ gid_t *g = NULL;
    size_t n = 0;
    CHECK(mk_spec_additional_groups(groups, gr, &g, &n, NULL) == 0);
    CHECK_INT(n, 3);
    CHECK_INT(g[0], 29);
    CHECK_INT(g[1], 4000);
    CHECK_INT(g[2], 10);
    _cleanup_json_ json_t *bad = parse("[\"nope\"]");
    _cleanup_err_ mk_err *err = NULL;
    _cleanup_free_ gid_t *g2 = NULL;
    CHECK(mk_spec_additional_groups(bad, gr, &g2, &n, &err) < 0);
    CHECK_STR(err->msg, "unable to find group nope: no matching entries in group file");
}

/* ---- the whole spec ---- */

static void test_process(void)
{
    write_file("upper/etc/passwd", passwd_data);
    write_file("upper/etc/group", group_data);
    _cleanup_json_ json_t *spec =
        build("{\"Entrypoint\":[\"/bin/ep\"],\"Cmd\":[\"a\",\"b\"],\"Tty\":true,\"User\":\"alice\","
              "\"WorkingDir\":\"/work\",\"Env\":[\"FOO=bar\",\"PATH=/custom\",\"HOSTNAME\"]}",
              "{\"GroupAdd\":[\"users\"],\"OomScoreAdj\":-500,\"ConsoleSize\":[40,120]}", NULL);
    CHECK(spec != NULL);
    const json_t *p = json_object_get(spec, "process");
    CHECK(json_is_true(json_object_get(p, "terminal")));
    _cleanup_strv_ char **args = mk_json_strv(json_object_get(p, "args"));
    _cleanup_free_ char *args_s = mk_strv_join(args, " ");
    CHECK_STR(args_s, "/bin/ep a b");
    _cleanup_strv_ char **env = mk_json_strv(json_object_get(p, "env"));
    _cleanup_free_ char *env_s = mk_strv_join(env, " ");
    /* PATH replaced in place, HOSTNAME unset, TERM for the tty, HOME from passwd. */
    CHECK_STR(env_s, "PATH=/custom TERM=xterm FOO=bar HOME=/home/alice");
    CHECK_STR(mk_json_str(p, "cwd"), "/work");
    const json_t *user = json_object_get(p, "user");
    CHECK_INT(mk_json_int(user, "uid", -1), 1000);
    CHECK_INT(mk_json_int(user, "gid", -1), 1000);
    const json_t *gids = json_object_get(user, "additionalGids");
    CHECK_INT(json_array_size(gids), 4); /* 1000, wheel, audio, users */
    CHECK_INT(json_integer_value(json_array_get(gids, 3)), 100);
    CHECK_INT(mk_json_int(p, "oomScoreAdj", 0), -500);
    CHECK_INT(mk_json_int(json_object_get(p, "consoleSize"), "width", 0), 120);
    CHECK(json_object_get(p, "noNewPrivileges") == NULL);
    const json_t *capset = json_object_get(p, "capabilities");
    CHECK_INT(json_array_size(json_object_get(capset, "bounding")), 14);
    CHECK_INT(json_array_size(json_object_get(capset, "effective")), 14);
    CHECK_INT(json_array_size(json_object_get(capset, "permitted")), 14);
    CHECK(json_object_get(capset, "inheritable") == NULL);
    CHECK(json_object_get(capset, "ambient") == NULL);
    _cleanup_free_ char *passwd = tmp_path("upper/etc/passwd");
    unlink(passwd);
}

static void test_default_env_and_rlimits(void)
{
    _cleanup_json_ json_t *spec = build(BASIC_CONFIG, "{}", NULL);
    CHECK(spec != NULL);
    const json_t *p = json_object_get(spec, "process");
    _cleanup_strv_ char **env = mk_json_strv(json_object_get(p, "env"));
    _cleanup_free_ char *env_s = mk_strv_join(env, " ");
    CHECK_STR(env_s, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "
                     "HOSTNAME=abc123 HOME=/");
    CHECK_STR(mk_json_str(p, "cwd"), "/");
    const json_t *rl = json_object_get(p, "rlimits");
    CHECK_INT(json_array_size(rl), 1);
    struct rlimit cur;
    getrlimit(RLIMIT_NOFILE, &cur);
    long long want = cur.rlim_max < 1048576 ? (long long)cur.rlim_max : 1048576;
    CHECK_STR(mk_json_str(json_array_get(rl, 0), "type"), "RLIMIT_NOFILE");
    CHECK_INT(mk_json_int(json_array_get(rl, 0), "soft", 0), want);
    CHECK_INT(mk_json_int(json_array_get(rl, 0), "hard", 0), want);

    _cleanup_json_ json_t *s2 =
        build(BASIC_CONFIG,
              "{\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":1024,\"Hard\":2048},"
              "{\"Name\":\"nproc\",\"Soft\":10,\"Hard\":20}]}",
              NULL);
    CHECK(s2 != NULL);
    rl = json_object_get(json_object_get(s2, "process"), "rlimits");
    CHECK_INT(json_array_size(rl), 2);
    CHECK_INT(mk_json_int(json_array_get(rl, 0), "soft", 0), 1024);
    CHECK_STR(mk_json_str(json_array_get(rl, 1), "type"), "RLIMIT_NPROC");

    _cleanup_err_ mk_err *err = NULL;
    CHECK(build(BASIC_CONFIG, "{\"Ulimits\":[{\"Name\":\"bogus\",\"Soft\":1,\"Hard\":1}]}", &err) ==
          NULL);
    CHECK_STR(err->msg, "invalid ulimit type: bogus");

    _cleanup_err_ mk_err *err2 = NULL;
    CHECK(build("{\"Cmd\":[]}", "{}", &err2) == NULL);
    CHECK_STR(err2->msg, "no command specified");
}

static void test_mounts(void)
{
    write_file("ctr/hosts", "127.0.0.1 localhost\n");
    write_file("ctr/hostname", "abc123\n");
    write_file("ctr/resolv.conf", "nameserver 1.1.1.1\n");
    _cleanup_free_ char *a = tmp_path("binds/a"), *b = tmp_path("binds/b/c");
    _cleanup_free_ char *hc = xasprintf("{\"Binds\":[\"%s:/data\",\"%s:/data/sub:ro\","
                                        "\"%s:/etc\"],\"Tmpfs\":{\"/run\":\"size=64m,exec\"},"
                                        "\"Init\":true}",
                                        a, b, a);
    _cleanup_json_ json_t *spec = build(BASIC_CONFIG, hc, NULL);
    CHECK(spec != NULL);
    struct stat st;
    CHECK(stat(b, &st) == 0 && S_ISDIR(st.st_mode)); /* -v created the host dir */
    static const char *const want[] = {
        "/proc",       "/dev",      "/dev/pts",          "/sys",          "/sys/fs/cgroup",
        "/dev/mqueue", "/dev/shm",  "/sbin/docker-init", "/data",         "/etc",
        "/run",        "/data/sub", "/etc/resolv.conf",  "/etc/hostname", "/etc/hosts",
        NULL,
    };
    const json_t *mounts = json_object_get(spec, "mounts");
    CHECK_INT(json_array_size(mounts), 15);
    for (size_t i = 0; want[i] != NULL; i++)
        CHECK_STR(mk_json_str(json_array_get(mounts, i), "destination"), want[i]);

    _cleanup_free_ char *o_proc = options_str(find_mount(spec, "/proc"));
    CHECK_STR(o_proc, "nosuid,noexec,nodev");
    _cleanup_free_ char *o_dev = options_str(find_mount(spec, "/dev"));
    CHECK_STR(o_dev, "nosuid,strictatime,mode=755,size=65536k");
    _cleanup_free_ char *o_pts = options_str(find_mount(spec, "/dev/pts"));
    CHECK_STR(o_pts, "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5");
    _cleanup_free_ char *o_sys = options_str(find_mount(spec, "/sys"));
    CHECK_STR(o_sys, "nosuid,noexec,nodev,ro");
    _cleanup_free_ char *o_cg = options_str(find_mount(spec, "/sys/fs/cgroup"));
    CHECK_STR(o_cg, "ro,nosuid,noexec,nodev");
    _cleanup_free_ char *o_shm = options_str(find_mount(spec, "/dev/shm"));
    CHECK_STR(o_shm, "nosuid,noexec,nodev,mode=1777,size=67108864");
    _cleanup_free_ char *o_sub = options_str(find_mount(spec, "/data/sub"));
    CHECK_STR(o_sub, "rbind,ro,rprivate");
    _cleanup_free_ char *o_data = options_str(find_mount(spec, "/data"));
    CHECK_STR(o_data, "rbind,rprivate");
    CHECK_STR(mk_json_str(find_mount(spec, "/data/sub"), "source"), b);
    _cleanup_free_ char *o_run = options_str(find_mount(spec, "/run"));
    CHECK_STR(o_run, "nosuid,nodev,rprivate,size=64m,exec");
    CHECK_STR(mk_json_str(find_mount(spec, "/run"), "type"), "tmpfs");
    _cleanup_free_ char *o_init = options_str(find_mount(spec, "/sbin/docker-init"));
    CHECK_STR(o_init, "bind,ro");
    _cleanup_free_ char *o_res = options_str(find_mount(spec, "/etc/resolv.conf"));
    CHECK_STR(o_res, "rbind,rprivate");
    const json_t *args = json_object_get(json_object_get(spec, "process"), "args");
    CHECK_STR(json_string_value(json_array_get(args, 0)), "/sbin/docker-init");
    CHECK_STR(json_string_value(json_array_get(args, 1)), "--");
    CHECK_STR(json_string_value(json_array_get(args, 2)), "sh");
}

static void test_mounts_readonly_privileged(void)
{
    _cleanup_json_ json_t *ro =
        build(BASIC_CONFIG, "{\"ReadonlyRootfs\":true,\"ShmSize\":1048576}", NULL);
    CHECK(ro != NULL);
    CHECK(json_is_true(json_object_get(json_object_get(ro, "root"), "readonly")));
    _cleanup_free_ char *o_res = options_str(find_mount(ro, "/etc/hosts"));
    CHECK_STR(o_res, "rbind,ro,rprivate");
    _cleanup_free_ char *o_mq = options_str(find_mount(ro, "/dev/mqueue"));
    CHECK_STR(o_mq, "nosuid,noexec,nodev");
    _cleanup_free_ char *o_shm = options_str(find_mount(ro, "/dev/shm"));
    CHECK_STR(o_shm, "nosuid,noexec,nodev,mode=1777,size=1048576");

    _cleanup_json_ json_t *priv = build(BASIC_CONFIG, "{\"Privileged\":true}", NULL);
    CHECK(priv != NULL);
    _cleanup_free_ char *o_sys = options_str(find_mount(priv, "/sys"));
    CHECK_STR(o_sys, "nosuid,noexec,nodev");
    _cleanup_free_ char *o_cg = options_str(find_mount(priv, "/sys/fs/cgroup"));
    CHECK_STR(o_cg, "nosuid,noexec,nodev");
    const json_t *lx = json_object_get(priv, "linux");
    CHECK(json_object_get(lx, "seccomp") == NULL);
    CHECK(json_object_get(lx, "maskedPaths") == NULL);
    CHECK(json_object_get(lx, "readonlyPaths") == NULL);
    const json_t *rules = json_object_get(json_object_get(lx, "resources"), "devices");
    CHECK_INT(json_array_size(rules), 1);
    CHECK(json_is_true(json_object_get(json_array_get(rules, 0), "allow")));
    bool has_null = false;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(lx, "devices"), i, d)
    {
        has_null = has_null || strcmp(mk_json_str(d, "path"), "/dev/null") == 0;
    }
    CHECK(has_null);

    _cleanup_err_ mk_err *err = NULL;
    CHECK(build(BASIC_CONFIG, "{\"Binds\":[\"/tmp:/\"]}", &err) == NULL);
    CHECK(strstr(err->msg, "destination can't be '/'") != NULL);
    /* A named volume in Binds is mounted from the engine's MountPoints, as a
     * bind of its data directory; a --mount tmpfs as a tmpfs. */
    _cleanup_json_ json_t *vs = build(
        BASIC_CONFIG,
        "{\"Binds\":[\"vol:/data:ro\"],\"MountPoints\":[{\"Type\":\"volume\",\"Name\":\"vol\","
        "\"Source\":\"/var/lib/mocker/volumes/vol/_data\",\"Destination\":\"/data\",\"RW\":false},"
        "{\"Type\":\"tmpfs\",\"Source\":\"\",\"Destination\":\"/t\",\"TmpfsData\":\"size=1024\"}]}",
        NULL);
    CHECK(vs != NULL);
    const json_t *vm = find_mount(vs, "/data");
    CHECK(vm != NULL);
    CHECK_STR(mk_json_str(vm, "source"), "/var/lib/mocker/volumes/vol/_data");
    _cleanup_free_ char *vo = options_str(vm);
    CHECK_STR(vo, "rbind,ro,rprivate");
    const json_t *tm = find_mount(vs, "/t");
    CHECK(tm != NULL && strcmp(mk_json_str(tm, "type"), "tmpfs") == 0);
    _cleanup_free_ char *to = options_str(tm);
    CHECK(strstr(to, "size=1024") != NULL);
    _cleanup_err_ mk_err *err3 = NULL;
    CHECK(build(BASIC_CONFIG, "{\"Binds\":[\"/tmp:/x:bogus\"]}", &err3) == NULL);
    CHECK_STR(err3->msg, "invalid mode: bogus");
    _cleanup_err_ mk_err *err4 = NULL;
    CHECK(build(BASIC_CONFIG, "{\"Tmpfs\":{\"/t\":\"foo\"}}", &err4) == NULL);
    CHECK_STR(err4->msg, "--tmpfs /t: invalid tmpfs option \"foo\"");
}

static void test_linux_defaults(void)
{
    _cleanup_json_ json_t *spec = build(BASIC_CONFIG, "{}", NULL);
    CHECK(spec != NULL);
    CHECK_STR(mk_json_str(spec, "hostname"), "abc123");
    const json_t *lx = json_object_get(spec, "linux");
    CHECK_STR(mk_json_str(lx, "cgroupsPath"), "/mocker/abc123");
    _cleanup_strv_ char **ns = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(lx, "namespaces"), i, v)
    {
        mk_strv_push(&ns, mk_json_str(v, "type"));
    }
    _cleanup_free_ char *ns_s = mk_strv_join(ns, ",");
    CHECK_STR(ns_s, "mount,network,uts,pid,ipc,cgroup");
    const json_t *masked = json_object_get(lx, "maskedPaths");
    CHECK(array_has_str(masked, "/proc/kcore"));
    CHECK(array_has_str(masked, "/proc/interrupts"));
    CHECK(array_has_str(masked, "/sys/devices/virtual/powercap"));
    CHECK_INT(json_array_size(json_object_get(lx, "readonlyPaths")), 5);
    const json_t *seccomp = json_object_get(lx, "seccomp");
    CHECK(seccomp != NULL);
    CHECK_STR(mk_json_str(seccomp, "defaultAction"), "SCMP_ACT_ERRNO");
    const json_t *res = json_object_get(lx, "resources");
    const json_t *devs = json_object_get(res, "devices");
    CHECK(json_is_false(json_object_get(json_array_get(devs, 0), "allow")));
    CHECK_STR(mk_json_str(json_array_get(devs, 0), "access"), "rwm");
    CHECK(json_object_get(res, "memory") == NULL);
    CHECK(json_object_get(res, "cpu") == NULL);
    const json_t *ann = json_object_get(spec, "annotations");
    _cleanup_free_ char *lower = tmp_path("lower");
    CHECK_STR(mk_json_str(ann, "org.mocker.rootfs.lowerdirs"), lower);
    CHECK_STR(mk_json_str(ann, "org.mocker.rootfs.workdir"),
              "/var/lib/mocker/containers/abc123/work");
    CHECK(mk_json_str(ann, "org.mocker.rootfs.upperdir") != NULL);
    CHECK_STR(mk_json_str(json_object_get(spec, "root"), "path"),
              "/var/lib/mocker/containers/abc123/rootfs");
    CHECK(json_is_false(json_object_get(json_object_get(spec, "root"), "readonly")));
}

static void test_namespace_modes(void)
{
    _cleanup_json_ json_t *spec = build(
        BASIC_CONFIG,
        "{\"NetworkMode\":\"host\",\"PidMode\":\"host\",\"IpcMode\":\"host\",\"UTSMode\":\"host\","
        "\"Init\":true}",
        NULL);
    CHECK(spec != NULL);
    const json_t *lx = json_object_get(spec, "linux");
    CHECK_INT(json_array_size(json_object_get(lx, "namespaces")), 2); /* mount, cgroup */
    CHECK(json_object_get(spec, "hostname") == NULL);
    CHECK_STR(mk_json_str(find_mount(spec, "/dev/shm"), "type"), "bind");
    CHECK(find_mount(spec, "/sbin/docker-init") == NULL); /* no init in the host pid ns */
    CHECK(json_object_get(json_object_get(lx, "sysctl"), "net.ipv4.ping_group_range") == NULL);

    _cleanup_json_ json_t *none = build(BASIC_CONFIG, "{\"IpcMode\":\"none\"}", NULL);
    CHECK(none != NULL);
    CHECK(find_mount(none, "/dev/shm") == NULL);

    /* container:X needs the engine to have resolved X's namespace. */
    _cleanup_err_ mk_err *err = NULL;
    CHECK(build(BASIC_CONFIG, "{\"PidMode\":\"container:x\"}", &err) == NULL);
    CHECK_INT(err->kind, MK_ERR_INVALID);
    _cleanup_err_ mk_err *err4 = NULL;
    CHECK(build(BASIC_CONFIG, "{\"IpcMode\":\"container:x\"}", &err4) == NULL);
    CHECK_INT(err4->kind, MK_ERR_UNSUPPORTED);
    _cleanup_err_ mk_err *err2 = NULL;
    CHECK(build(BASIC_CONFIG, "{\"CpuRealtimePeriod\":1000}", &err2) == NULL);
    CHECK_INT(err2->kind, MK_ERR_UNSUPPORTED);
    CHECK_STR(err2->msg, "--cpu-rt-period is not supported yet");

    _cleanup_json_ json_t *host_cgns = build(BASIC_CONFIG, "{\"CgroupnsMode\":\"host\"}", NULL);
    CHECK(host_cgns != NULL);
    CHECK_INT(json_array_size(json_object_get(json_object_get(host_cgns, "linux"), "namespaces")),
              5);
    _cleanup_err_ mk_err *err3 = NULL;
    CHECK(build(BASIC_CONFIG, "{\"CgroupnsMode\":\"bogus\"}", &err3) == NULL);
    CHECK_STR(err3->msg, "invalid cgroup namespace mode: bogus");
}

/* --device as the docker CLI parses it: (flag, host, container, perms) or the error. */
static void test_device_mapping_parse(void)
{
    static const struct {
        const char *flag, *host, *ctr, *perms, *error;
    } cases[] = {
        {"/dev/null", "/dev/null", "/dev/null", "rwm", NULL},
        {"/dev/./null/", "/dev/null", "/dev/null", "rwm", NULL},
        {"/dev/null:rw", "/dev/null", "/dev/null", "rw", NULL},
        {"/dev/null:/dev/mynull", "/dev/null", "/dev/mynull", "rwm", NULL},
        {"/dev/null:/dev//x/", "/dev/null", "/dev/x", "rwm", NULL},
        {"/dev/null:/dev/mynull:mr", "/dev/null", "/dev/mynull", "mr", NULL},
        {"/dev/null:/dev/x:rwx", NULL, NULL, NULL, "bad mode specified: rwx"},
        {"/dev/null:/dev/x:rr", NULL, NULL, NULL, "bad mode specified: rr"},
        {"/dev/null:/dev/x:", NULL, NULL, NULL, "bad mode specified: "},
        {"/dev/null:x", NULL, NULL, NULL, "x is not an absolute path"},
        {"null", NULL, NULL, NULL, "null is not an absolute path"},
        {"/dev/null::rw", NULL, NULL, NULL, " is not an absolute path"},
        {"/a:/b:r:w", NULL, NULL, NULL, "bad format for path: /a:/b:r:w"},
        {":/a", NULL, NULL, NULL, "bad format for path: :/a"},
        {"", NULL, NULL, NULL, "bad format for path: "},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        _cleanup_json_ json_t *d = NULL;
        _cleanup_err_ mk_err *err = NULL;
        int r = mk_device_mapping_parse(cases[i].flag, &d, &err);
        if (cases[i].error != NULL) {
            CHECK(r < 0);
            if (r < 0)
                CHECK_STR(err->msg, cases[i].error);
            continue;
        }
        CHECK(r == 0);
        if (r < 0)
            continue;
        CHECK_STR(mk_json_str(d, "PathOnHost"), cases[i].host);
        CHECK_STR(mk_json_str(d, "PathInContainer"), cases[i].ctr);
        CHECK_STR(mk_json_str(d, "CgroupPermissions"), cases[i].perms);
    }
}

static void test_device_cgroup_rule_parse(void)
{
    _cleanup_json_ json_t *r1 = NULL, *r2 = NULL, *r3 = NULL;
    CHECK(mk_device_cgroup_rule_parse("c 1:3 rwm", &r1, NULL) == 0);
    CHECK_STR(mk_json_str(r1, "type"), "c");
    CHECK_INT(mk_json_int(r1, "major", 0), 1);
    CHECK_INT(mk_json_int(r1, "minor", 0), 3);
    CHECK_STR(mk_json_str(r1, "access"), "rwm");
    CHECK(json_is_true(json_object_get(r1, "allow")));
    CHECK(mk_device_cgroup_rule_parse("b *:7 m", &r2, NULL) == 0);
    CHECK_INT(mk_json_int(r2, "major", 0), -1);
    CHECK_INT(mk_json_int(r2, "minor", 0), 7);
    CHECK(mk_device_cgroup_rule_parse("a *:* r", &r3, NULL) == 0);
    CHECK_STR(mk_json_str(r3, "type"), "a");
    static const char *const bad[] = {"a", "c 1:3", "x 1:3 r", "c 1:3 rwmr", "c 1:3 rwx",
                                      "c 1 r", "c -1:3 r", "c 1:3  r", " c 1:3 r", "c *:* ",
                                      ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        _cleanup_json_ json_t *r = NULL;
        _cleanup_err_ mk_err *err = NULL;
        CHECK(mk_device_cgroup_rule_parse(bad[i], &r, &err) < 0);
        _cleanup_free_ char *want = xasprintf("invalid device cgroup rule format: '%s'", bad[i]);
        if (err != NULL)
            CHECK_STR(err->msg, want);
    }
}

/* --device: the host node's numbers and mode in linux.devices, an allow rule
 * after docker's defaults, then the --device-cgroup-rule ones. */
static void test_devices_in_spec(void)
{
    _cleanup_json_ json_t *spec = build(
        BASIC_CONFIG,
        "{\"Devices\":[{\"PathOnHost\":\"/dev/null\",\"PathInContainer\":\"/dev/mynull\","
        "\"CgroupPermissions\":\"rw\"}],\"DeviceCgroupRules\":[\"c 4:* rwm\"]}",
        NULL);
    CHECK(spec != NULL);
    const json_t *lx = json_object_get(spec, "linux");
    const json_t *devs = json_object_get(lx, "devices");
    CHECK_INT(json_array_size(devs), 1);
    const json_t *d = json_array_get(devs, 0);
    CHECK_STR(mk_json_str(d, "path"), "/dev/mynull");
    CHECK_STR(mk_json_str(d, "type"), "c");
    CHECK_INT(mk_json_int(d, "major", 0), 1);
    CHECK_INT(mk_json_int(d, "minor", 0), 3);
    CHECK_INT(mk_json_int(d, "fileMode", 0), 0666);
    const json_t *rules = json_object_get(json_object_get(lx, "resources"), "devices");
    size_t n = json_array_size(rules);
    CHECK(n > 3);
    const json_t *dev_rule = json_array_get(rules, n - 2), *cg_rule = json_array_get(rules, n - 1);
    CHECK_STR(mk_json_str(dev_rule, "access"), "rw");
    CHECK_INT(mk_json_int(dev_rule, "major", 0), 1);
    CHECK_INT(mk_json_int(dev_rule, "minor", 0), 3);
    CHECK_INT(mk_json_int(cg_rule, "major", 0), 4);
    CHECK_INT(mk_json_int(cg_rule, "minor", 0), -1);

    /* Nothing asked: no linux.devices at all. */
    _cleanup_json_ json_t *plain = build(BASIC_CONFIG, "{}", NULL);
    CHECK(json_object_get(json_object_get(plain, "linux"), "devices") == NULL);

    _cleanup_err_ mk_err *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;
    CHECK(build(BASIC_CONFIG, "{\"Devices\":[{\"PathOnHost\":\"/etc/passwd\"}]}", &e1) ==
          NULL);
    CHECK_STR(e1->msg, "error gathering device information while adding custom device "
                       "\"/etc/passwd\": not a device node");
    CHECK(build(BASIC_CONFIG, "{\"Devices\":[{\"PathOnHost\":\"/nonexistent-dev\"}]}", &e2) ==
          NULL);
    CHECK_STR(e2->msg, "error gathering device information while adding custom device "
                       "\"/nonexistent-dev\": no such file or directory");
    CHECK_INT(e2->exit_code, 127);
    CHECK(build(BASIC_CONFIG, "{\"DeviceCgroupRules\":[\"c 1:3\"]}", &e3) == NULL);
    CHECK_STR(e3->msg, "invalid device cgroup rule format: 'c 1:3'");
    CHECK(build(BASIC_CONFIG,
                "{\"Devices\":[{\"PathOnHost\":\"/dev/null\",\"CgroupPermissions\":\"x\"}]}",
                &e4) == NULL);
    CHECK_STR(e4->msg, "bad mode specified: x");

    /* Privileged: all host devices already; a mapping to the same path adds nothing. */
    _cleanup_json_ json_t *priv =
        build(BASIC_CONFIG,
              "{\"Privileged\":true,\"Devices\":[{\"PathOnHost\":\"/dev/null\","
              "\"PathInContainer\":\"/dev/null\",\"CgroupPermissions\":\"r\"}]}",
              NULL);
    CHECK(priv != NULL);
    rules = json_object_get(json_object_get(json_object_get(priv, "linux"), "resources"),
                            "devices");
    CHECK_INT(json_array_size(rules), 1);
}

/* --cgroup-parent: cleaned as a rooted path, relative ones under the root. */
static void test_cgroup_parent(void)
{
    static const char *const cases[][2] = {
        {"/mytest", "/mytest/abc123"},   {"foo", "/foo/abc123"},
        {"../../esc", "/esc/abc123"},    {"/a/../../b", "/b/abc123"},
        {"mytest/sub/", "/mytest/sub/abc123"}, {"/", "/abc123"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        _cleanup_free_ char *hc = xasprintf("{\"CgroupParent\":\"%s\"}", cases[i][0]);
        _cleanup_json_ json_t *spec = build(BASIC_CONFIG, hc, NULL);
        CHECK(spec != NULL);
        CHECK_STR(mk_json_str(json_object_get(spec, "linux"), "cgroupsPath"), cases[i][1]);
    }
}

static void test_cpu_memory(void)
{
    _cleanup_json_ json_t *spec = build(BASIC_CONFIG,
                                        "{\"NanoCpus\":1500000000,\"Memory\":67108864,"
                                        "\"CpuShares\":512,\"CpusetCpus\":\"0\",\"PidsLimit\":100}",
                                        NULL);
    CHECK(spec != NULL);
    const json_t *res = json_object_get(json_object_get(spec, "linux"), "resources");
    const json_t *cpu = json_object_get(res, "cpu");
    CHECK_INT(mk_json_int(cpu, "period", 0), 100000);
    CHECK_INT(mk_json_int(cpu, "quota", 0), 150000);
    CHECK_INT(mk_json_int(cpu, "shares", 0), 512);
    CHECK_STR(mk_json_str(cpu, "cpus"), "0");
    const json_t *mem = json_object_get(res, "memory");
    CHECK_INT(mk_json_int(mem, "limit", 0), 67108864);
    CHECK_INT(mk_json_int(mem, "swap", 0), 134217728);
    CHECK_INT(mk_json_int(json_object_get(res, "pids"), "limit", 0), 100);

    _cleanup_json_ json_t *s2 =
        build(BASIC_CONFIG, "{\"Memory\":67108864,\"MemorySwap\":-1,\"PidsLimit\":0}", NULL);
    CHECK(s2 != NULL);
    res = json_object_get(json_object_get(s2, "linux"), "resources");
    CHECK(json_object_get(json_object_get(res, "memory"), "swap") == NULL);
    CHECK_INT(mk_json_int(json_object_get(res, "pids"), "limit", 0), -1);

    _cleanup_err_ mk_err *e1 = NULL, *e2 = NULL, *e3 = NULL;
    CHECK(build(BASIC_CONFIG, "{\"Memory\":1000000}", &e1) == NULL);
    CHECK_STR(e1->msg, "Minimum memory limit allowed is 6MB");
    CHECK(build(BASIC_CONFIG, "{\"NanoCpus\":1000000000,\"CpuPeriod\":50000}", &e2) == NULL);
    CHECK_STR(e2->msg, "Conflicting options: Nano CPUs and CPU Period cannot both be set");
    CHECK(build(BASIC_CONFIG, "{\"Memory\":67108864,\"MemorySwap\":1000}", &e3) == NULL);
    CHECK_STR(e3->msg, "Minimum memoryswap limit should be larger than memory limit, see usage");
}

static void test_sysctls(void)
{
    _cleanup_json_ json_t *spec =
        build("{\"Cmd\":[\"x\"],\"Domainname\":\"example.org\"}",
              "{\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\",\"kernel.shmmax\":\"1000\","
              "\"net.ipv4.ip_unprivileged_port_start\":\"80\"}}",
              NULL);
    CHECK(spec != NULL);
    const json_t *sc = json_object_get(json_object_get(spec, "linux"), "sysctl");
    CHECK_STR(mk_json_str(sc, "net.ipv4.ip_forward"), "1");
    CHECK_STR(mk_json_str(sc, "kernel.shmmax"), "1000");
    CHECK_STR(mk_json_str(sc, "kernel.domainname"), "example.org");
    CHECK_STR(mk_json_str(sc, "net.ipv4.ip_unprivileged_port_start"), "80");

    _cleanup_err_ mk_err *e1 = NULL, *e2 = NULL, *e3 = NULL;
    CHECK(build(BASIC_CONFIG,
                "{\"NetworkMode\":\"host\",\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\"}}",
                &e1) == NULL);
    CHECK_STR(e1->msg,
              "sysctl \"net.ipv4.ip_forward\" is not allowed in the hosts network namespace");
    CHECK(build(BASIC_CONFIG, "{\"Sysctls\":{\"vm.swappiness\":\"1\"}}", &e2) == NULL);
    CHECK_STR(e2->msg, "sysctl \"vm.swappiness\" is not in a separate kernel namespace");
    CHECK_INT(e2->kind, MK_ERR_INVALID);
    CHECK(build(BASIC_CONFIG, "{\"IpcMode\":\"host\",\"Sysctls\":{\"kernel.sem\":\"1\"}}", &e3) ==
          NULL);
    CHECK_STR(e3->msg, "sysctl \"kernel.sem\" is not allowed in the hosts ipc namespace");
}

static void test_security_opts(void)
{
    static const char *const nnp[] = {"no-new-privileges", "no-new-privileges:true",
                                      "no-new-privileges=true", NULL};
    for (size_t i = 0; nnp[i] != NULL; i++) {
        _cleanup_free_ char *hc = xasprintf("{\"SecurityOpt\":[\"%s\"]}", nnp[i]);
        _cleanup_json_ json_t *spec = build(BASIC_CONFIG, hc, NULL);
        CHECK(spec != NULL);
        CHECK(json_is_true(json_object_get(json_object_get(spec, "process"), "noNewPrivileges")));
    }
    _cleanup_json_ json_t *unconf = build(
        BASIC_CONFIG, "{\"SecurityOpt\":[\"seccomp=unconfined\",\"apparmor=unconfined\"]}", NULL);
    CHECK(unconf != NULL);
    CHECK(json_object_get(json_object_get(unconf, "linux"), "seccomp") == NULL);

    _cleanup_json_ json_t *custom =
        build(BASIC_CONFIG,
              "{\"SecurityOpt\":[\"seccomp={\\\"defaultAction\\\":\\\"SCMP_ACT_ALLOW\\\","
              "\\\"syscalls\\\":[{\\\"names\\\":[\\\"mkdir\\\"],\\\"action\\\":\\\"SCMP_ACT_"
              "ERRNO\\\"}]}\"]}",
              NULL);
    CHECK(custom != NULL);
    const json_t *sc = json_object_get(json_object_get(custom, "linux"), "seccomp");
    CHECK_STR(mk_json_str(sc, "defaultAction"), "SCMP_ACT_ALLOW");
    CHECK(seccomp_rule_for(sc, "mkdir", "SCMP_ACT_ERRNO") != NULL);

    _cleanup_json_ json_t *lbl =
        build(BASIC_CONFIG, "{\"SecurityOpt\":[\"label=disable\",\"label:disable\"]}", NULL);
    CHECK(lbl != NULL);

    _cleanup_err_ mk_err *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *e5 = NULL;
    CHECK(build(BASIC_CONFIG, "{\"SecurityOpt\":[\"label=user:foo\"]}", &e1) == NULL);
    CHECK_INT(e1->kind, MK_ERR_UNSUPPORTED);
    CHECK(build(BASIC_CONFIG, "{\"SecurityOpt\":[\"apparmor=docker-default\"]}", &e2) == NULL);
    CHECK_INT(e2->kind, MK_ERR_UNSUPPORTED);
    CHECK(build(BASIC_CONFIG, "{\"SecurityOpt\":[\"bogus\"]}", &e3) == NULL);
    CHECK_STR(e3->msg, "invalid --security-opt 1: \"bogus\"");
    CHECK(build(BASIC_CONFIG, "{\"SecurityOpt\":[\"no-new-privileges=maybe\"]}", &e4) == NULL);
    CHECK_STR(e4->msg, "invalid --security-opt 2: \"no-new-privileges=maybe\"");
    CHECK(build(BASIC_CONFIG, "{\"SecurityOpt\":[\"seccomp={nope\"]}", &e5) == NULL);
    CHECK(mk_str_has_prefix(e5->msg, "Decoding seccomp profile failed"));
}

static void test_round_trip_and_time(void)
{
    _cleanup_json_ json_t *spec = build(BASIC_CONFIG, "{}", NULL);
    CHECK(spec != NULL);
    _cleanup_free_ char *text = mk_json_dump(spec);
    _cleanup_json_ json_t *back = parse(text);
    CHECK(back != NULL);
    CHECK(json_equal(spec, back));
    CHECK_STR(mk_json_str(back, "ociVersion"), "1.0.2-dev");

    /* Cost of one build on the start path, after the first (which parses
     * the built-in profile). */
    const int n = 200;
    int64_t t0 = now_ns();
    for (int i = 0; i < n; i++) {
        json_t *s = build(BASIC_CONFIG, "{}", NULL);
        CHECK(s != NULL);
        json_decref(s);
    }
    int64_t per = (now_ns() - t0) / n;
    printf("# mk_spec_build (default container, warm): %lld us\n", (long long)per / 1000);
    int64_t t1 = now_ns();
    for (int i = 0; i < n; i++) {
        json_t *s = build(BASIC_CONFIG, "{}", NULL);
        char *d = mk_json_dump(s);
        free(d);
        json_decref(s);
    }
    printf("# mk_spec_build + serialise: %lld us\n", (long long)(now_ns() - t1) / n / 1000);
    int64_t t2 = now_ns();
    for (int i = 0; i < 50; i++) {
        json_error_t e;
        extern const char mk_seccomp_default_json[];
        json_t *p = json_loads(mk_seccomp_default_json, 0, &e);
        json_decref(p);
    }
    printf("# parsing the built-in seccomp profile (once per process): %lld us\n",
           (long long)(now_ns() - t2) / 50 / 1000);
}

static void first_build_time(void)
{
    int64_t t0 = now_ns();
    json_t *s = build(BASIC_CONFIG, "{}", NULL);
    printf("# first mk_spec_build in a process (cold): %lld us\n",
           (long long)(now_ns() - t0) / 1000);
    CHECK(s != NULL);
    json_decref(s);
}

int main(void)
{
    if (mkdtemp(tmp_root) == NULL)
        return 1;
    RUN(first_build_time);
    RUN(test_default_caps);
    RUN(test_caps_add_drop);
    RUN(test_seccomp_default);
    RUN(test_seccomp_sys_admin);
    RUN(test_seccomp_custom);
    RUN(test_resolve_user);
    RUN(test_group_add);
    RUN(test_process);
    RUN(test_default_env_and_rlimits);
    RUN(test_mounts);
    RUN(test_mounts_readonly_privileged);
    RUN(test_linux_defaults);
    RUN(test_namespace_modes);
    RUN(test_device_mapping_parse);
    RUN(test_device_cgroup_rule_parse);
    RUN(test_devices_in_spec);
    RUN(test_cgroup_parent);
    RUN(test_cpu_memory);
    RUN(test_sysctls);
    RUN(test_security_opts);
    RUN(test_round_trip_and_time);
    mk_rm_rf(tmp_root, NULL);
    return tap_done();
}
