/* spec.c: a docker container definition (Config + HostConfig) turned into the
 * OCI runtime spec moby would hand to runc for it: same capabilities, seccomp
 * profile, mounts and their order, masked paths, namespaces, cgroup resources
 * and environment, so a container looks the same from inside.
 *
 * Facts come from moby's daemon/oci_linux.go, daemon/pkg/oci/defaults.go,
 * daemon/daemon_unix.go (validation wording) and runc's implicit device rules. */
#include "engine/engine.h"
#include "engine/spec.h"
#include "image/image.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define DEFAULT_PATH     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_SHM_SIZE (64LL * 1024 * 1024)
#define MIN_MEMORY       (6LL * 1024 * 1024)
#define INIT_PATH        "/sbin/docker-init"
#define HOSTNAME_MAX     64
#define NOFILE_DEFAULT   1048576ULL

/* ---- small helpers ---- */

static json_t *strv_json(const char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v[i] != NULL; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static const char *str_or(const json_t *obj, const char *key, const char *dflt)
{
    const char *s = mk_json_str(obj, key);
    return s != NULL ? s : dflt;
}

/* Go's path.Clean. */
char *mk_spec_path_clean(const char *p)
{
    if (*p == '\0')
        return xstrdup(".");
    bool rooted = *p == '/';
    size_t n = strlen(p);
    char *out = xmalloc(n + 2);
    size_t w = 0, dotdot = 0;
    if (rooted) {
        out[w++] = '/';
        dotdot = 1;
    }
    for (size_t r = rooted ? 1 : 0; r < n;) {
        if (p[r] == '/') {
            r++;
        } else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
            r++;
        } else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
            r += 2;
            if (w > dotdot) {
                w--;
                while (w > dotdot && out[w] != '/')
                    w--;
            } else if (!rooted) {
                if (w > 0)
                    out[w++] = '/';
                out[w++] = '.';
                out[w++] = '.';
                dotdot = w;
            }
        } else {
            if ((rooted && w != 1) || (!rooted && w != 0))
                out[w++] = '/';
            for (; r < n && p[r] != '/'; r++)
                out[w++] = p[r];
        }
    }
    if (w == 0)
        out[w++] = '.';
    out[w] = '\0';
    return out;
}

/* ---- security options ---- */

enum seccomp_mode { SECCOMP_DEFAULT, SECCOMP_UNCONFINED, SECCOMP_CUSTOM };

struct secopts {
    bool no_new_privs;
    bool writable_cgroups, writable_cgroups_set;
    enum seccomp_mode seccomp;
    const char *seccomp_profile; /* JSON text for SECCOMP_CUSTOM */
};

/* Go's strconv.ParseBool. */
static int parse_bool(const char *s, bool *out)
{
    static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True", NULL};
    static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False", NULL};
    for (size_t i = 0; t[i] != NULL; i++) {
        if (strcmp(s, t[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, f[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static int parse_security_opts(const json_t *list, struct secopts *so, mk_err **err)
{
    memset(so, 0, sizeof(*so));
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *opt = json_string_value(v);
        if (opt == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "SecurityOpt entries must be strings");
        if (strcmp(opt, "no-new-privileges") == 0) {
            so->no_new_privs = true;
            continue;
        }
        if (strcmp(opt, "writable-cgroups") == 0) {
            so->writable_cgroups = so->writable_cgroups_set = true;
            continue;
        }
        /* SELinux is not used here: asking for no labelling is already true. */
        if (strcmp(opt, "disable") == 0)
            continue;
        const char *sep = strchr(opt, '=');
        if (sep == NULL)
            sep = strchr(opt, ':');
        if (sep == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "invalid --security-opt 1: \"%s\"", opt);
        _cleanup_free_ char *key = xstrndup(opt, (size_t)(sep - opt));
        const char *val = sep + 1;
        if (strcmp(key, "label") == 0) {
            if (strcmp(val, "disable") == 0)
                continue;
            return mk_err_set(err, MK_ERR_UNSUPPORTED,
                              "--security-opt label=%s is not supported: mocker does not use "
                              "SELinux",
                              val);
        } else if (strcmp(key, "apparmor") == 0) {
            if (strcmp(val, "unconfined") != 0)
                return mk_err_set(err, MK_ERR_UNSUPPORTED,
                                  "--security-opt apparmor=%s is not supported: mocker does not "
                                  "use AppArmor (only apparmor=unconfined)",
                                  val);
        } else if (strcmp(key, "seccomp") == 0) {
            if (strcmp(val, "unconfined") == 0) {
                so->seccomp = SECCOMP_UNCONFINED;
            } else if (strcmp(val, "builtin") == 0 || *val == '\0') {
                so->seccomp = SECCOMP_DEFAULT;
            } else {
                so->seccomp = SECCOMP_CUSTOM;
                so->seccomp_profile = val;
            }
        } else if (strcmp(key, "no-new-privileges") == 0) {
            if (parse_bool(val, &so->no_new_privs) < 0)
                return mk_err_set(err, MK_ERR_INVALID, "invalid --security-opt 2: \"%s\"", opt);
        } else if (strcmp(key, "writable-cgroups") == 0) {
            if (parse_bool(val, &so->writable_cgroups) < 0)
                return mk_err_set(err, MK_ERR_INVALID, "invalid --security-opt 2: \"%s\"", opt);
            so->writable_cgroups_set = true;
        } else {
            return mk_err_set(err, MK_ERR_INVALID, "invalid --security-opt 2: \"%s\"", opt);
        }
    }
    return 0;
}

/* ---- namespaces modes ---- */

struct ns_modes {
    bool host_net, host_ipc, host_pid, host_uts, ipc_none, host_cgroupns;
    const char *join_net, *join_pid; /* container:X, by path */
};

/* container:X modes need the engine to have found X's namespace. */
static int join_path(const char *mode, const char *path, const char **out, mk_err **err)
{
    if (path == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "%s: the container's namespace was not resolved",
                          mode);
    *out = path;
    return 0;
}

static int parse_modes(const json_t *hc, const struct mk_spec_input *in, struct ns_modes *m,
                       mk_err **err)
{
    memset(m, 0, sizeof(*m));
    const char *net = str_or(hc, "NetworkMode", "");
    if (strcmp(net, "host") == 0) {
        m->host_net = true;
    } else if (mk_str_has_prefix(net, "container:")) {
        if (join_path(net, in->join_net, &m->join_net, err) < 0)
            return -1;
    }
    /* Any other mode (none, default, bridge, a network's name) is a network
     * namespace of the container's own, which the monitor connects. */

    const char *ipc = str_or(hc, "IpcMode", "");
    if (strcmp(ipc, "host") == 0)
        m->host_ipc = true;
    else if (strcmp(ipc, "none") == 0)
        m->ipc_none = true;
    /* Joining the namespace alone would share SysV IPC but not the POSIX
     * shared memory in /dev/shm, which is a mount of the container's own. */
    else if (mk_str_has_prefix(ipc, "container:"))
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "--ipc=%s is not supported yet: mocker cannot share a container's "
                          "/dev/shm",
                          ipc);
    else if (*ipc != '\0' && strcmp(ipc, "private") != 0 && strcmp(ipc, "shareable") != 0)
        return mk_err_set(err, MK_ERR_INVALID, "invalid IPC mode: %s", ipc);

    const char *pid = str_or(hc, "PidMode", "");
    if (strcmp(pid, "host") == 0)
        m->host_pid = true;
    else if (mk_str_has_prefix(pid, "container:")) {
        if (join_path(pid, in->join_pid, &m->join_pid, err) < 0)
            return -1;
    }
    else if (*pid != '\0' && strcmp(pid, "private") != 0)
        return mk_err_set(err, MK_ERR_INVALID, "invalid PID mode: %s", pid);

    const char *uts = str_or(hc, "UTSMode", "");
    if (strcmp(uts, "host") == 0)
        m->host_uts = true;
    else if (*uts != '\0' && strcmp(uts, "private") != 0)
        return mk_err_set(err, MK_ERR_INVALID, "invalid UTS mode: %s", uts);

    /* create fills in docker's default (host on cgroup v1 and hybrid hosts,
     * private on v2); a body without one, as before that, gets its own. */
    const char *cgns = str_or(hc, "CgroupnsMode", "");
    if (strcmp(cgns, "host") == 0)
        m->host_cgroupns = true;
    else if (*cgns != '\0' && strcmp(cgns, "private") != 0)
        return mk_err_set(err, MK_ERR_INVALID, "invalid cgroup namespace mode: %s", cgns);

    const char *userns = str_or(hc, "UsernsMode", "");
    if (*userns != '\0' && strcmp(userns, "host") != 0)
        return mk_err_set(err, MK_ERR_UNSUPPORTED, "--userns=%s is not supported yet", userns);
    return 0;
}

/* HostConfig fields mocker cannot honour yet: refused when set. */
static int check_unsupported(const json_t *hc, mk_err **err)
{
    static const struct {
        const char *key, *flag;
    } keys[] = {
        {"DeviceRequests", "--gpus"},
        {"BlkioWeightDevice", "--blkio-weight-device"},
        {"BlkioDeviceReadBps", "--device-read-bps"},
        {"BlkioDeviceWriteBps", "--device-write-bps"},
        {"BlkioDeviceReadIOps", "--device-read-iops"},
        {"BlkioDeviceWriteIOps", "--device-write-iops"},
        {"CpuRealtimePeriod", "--cpu-rt-period"},
        {"CpuRealtimeRuntime", "--cpu-rt-runtime"},
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!mk_json_is_empty(json_object_get(hc, keys[i].key)))
            return mk_err_set(err, MK_ERR_UNSUPPORTED, "%s is not supported yet", keys[i].flag);
    return 0;
}

/* ---- process ---- */

/* docker's ReplaceOrAppendEnvValues: overrides replace same-named defaults in
 * place, "K" alone unsets K, the rest is appended. */
static void env_apply(char ***env, const json_t *overrides)
{
    size_t n_defaults = mk_strv_len(*env);
    size_t i;
    json_t *v;
    json_array_foreach(overrides, i, v)
    {
        const char *kv = json_string_value(v);
        if (kv == NULL)
            continue;
        const char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
        bool done = false;
        for (size_t d = 0; d < n_defaults && !done; d++) {
            char *cur = (*env)[d];
            if (*cur != '\0' && strncmp(cur, kv, klen) == 0 && cur[klen] == '=') {
                free(cur);
                (*env)[d] = xstrdup(eq ? kv : "");
                done = true;
            }
        }
        if (!done && eq != NULL)
            mk_strv_push(env, kv);
    }
    /* Drop the unset ones. */
    size_t w = 0;
    for (size_t r = 0; (*env)[r] != NULL; r++) {
        if (*(*env)[r] == '\0')
            free((*env)[r]);
        else
            (*env)[w++] = (*env)[r];
    }
    (*env)[w] = NULL;
}

static bool env_has(char *const *env, const char *key)
{
    size_t klen = strlen(key);
    for (size_t i = 0; env[i] != NULL; i++)
        if (strncmp(env[i], key, klen) == 0 && env[i][klen] == '=')
            return true;
    return false;
}

static const char *const ulimit_names[] = {
    "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
    "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack",    NULL,
};

static json_t *rlimit_json(const char *name, int64_t soft, int64_t hard)
{
    char type[32];
    size_t n = 0;
    n += (size_t)snprintf(type, sizeof(type), "RLIMIT_");
    for (size_t i = 0; name[i] != '\0' && n + 1 < sizeof(type); i++)
        type[n++] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    type[n] = '\0';
    return json_pack("{s:s,s:I,s:I}", "type", type, "hard", (json_int_t)hard, "soft",
                     (json_int_t)soft);
}

static int build_rlimits(const json_t *ulimits, json_t **out, mk_err **err)
{
    _cleanup_json_ json_t *res = json_array();
    bool have_nofile = false;
    size_t i;
    json_t *u;
    json_array_foreach(ulimits, i, u)
    {
        const char *name = mk_json_str(u, "Name");
        if (name == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "invalid ulimit: missing Name");
        bool known = false;
        for (size_t k = 0; ulimit_names[k] != NULL; k++)
            known = known || strcmp(ulimit_names[k], name) == 0;
        if (!known)
            return mk_err_set(err, MK_ERR_INVALID, "invalid ulimit type: %s", name);
        int64_t soft = mk_json_int(u, "Soft", 0), hard = mk_json_int(u, "Hard", 0);
        /* -1 is unlimited (RLIM_INFINITY), larger than any value. */
        if (hard != -1 && (soft == -1 || soft > hard))
            return mk_err_set(err, MK_ERR_INVALID,
                              "ulimit soft limit must be less than or equal to hard limit: %lld > "
                              "%lld",
                              (long long)soft, (long long)hard);
        if (strcmp(name, "nofile") == 0)
            have_nofile = true;
        json_array_append_new(res, rlimit_json(name, soft, hard));
    }
    if (!have_nofile) {
        /* 1048576 is what docker's containers get; a lower hard limit of
         * ours could not be raised, so use it instead. */
        struct rlimit rl;
        unsigned long long n = NOFILE_DEFAULT;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n)
            n = rl.rlim_max;
        json_array_append_new(res, rlimit_json("nofile", (int64_t)n, (int64_t)n));
    }
    *out = steal_pointer(&res);
    return 0;
}

/* ---- mounts ---- */

struct user_mount {
    char *dest;
    json_t *obj;
    size_t depth;
};

struct mounts {
    struct user_mount *v;
    size_t n;
    const char *root_propagation;
};

static void mounts_free(struct mounts *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].dest);
        json_decref(m->v[i].obj);
    }
    free(m->v);
}

static const struct user_mount *mounts_find(const struct mounts *m, const char *dest)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i].dest, dest) == 0)
            return &m->v[i];
    return NULL;
}

static int mounts_add(struct mounts *m, const char *dest, const char *type, const char *source,
                      json_t *options, mk_err **err)
{
    if (mounts_find(m, dest) != NULL) {
        json_decref(options);
        return mk_err_set(err, MK_ERR_INVALID, "Duplicate mount point: %s", dest);
    }
    m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
    struct user_mount *um = &m->v[m->n++];
    um->dest = xstrdup(dest);
    um->obj = json_pack("{s:s,s:s,s:s,s:o}", "destination", dest, "type", type, "source", source,
                        "options", options);
    um->depth = 0;
    for (const char *p = dest; *p != '\0'; p++)
        um->depth += *p == '/';
    return 0;
}

static bool is_propagation(const char *o)
{
    static const char *const p[] = {"private", "rprivate", "shared", "rshared",
                                    "slave",   "rslave",   NULL};
    for (size_t i = 0; p[i] != NULL; i++)
        if (strcmp(o, p[i]) == 0)
            return true;
    return false;
}

/* docker's linuxValidMountMode, also extracting what we use. */
static bool parse_bind_mode(const char *mode, bool *ro, const char **prop)
{
    *ro = false;
    *prop = "rprivate";
    if (*mode == '\0')
        return true;
    int rw = 0, label = 0, propagation = 0, copy = 0, consistency = 0;
    _cleanup_free_ char *dup = xstrdup(mode);
    char *save = NULL;
    for (char *o = strtok_r(dup, ",", &save); o != NULL; o = strtok_r(NULL, ",", &save)) {
        if (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0) {
            rw++;
            *ro = strcmp(o, "ro") == 0;
        } else if (strcmp(o, "z") == 0 || strcmp(o, "Z") == 0) {
            label++; /* SELinux relabelling: a no-op without SELinux, as in docker */
        } else if (is_propagation(o)) {
            propagation++;
            *prop = mode + (o - dup);
        } else if (strcmp(o, "nocopy") == 0) {
            copy++;
        } else if (strcmp(o, "consistent") == 0 || strcmp(o, "cached") == 0 ||
                   strcmp(o, "delegated") == 0) {
            consistency++;
        } else {
            return false;
        }
    }
    /* *prop points into mode: the caller cuts it at its comma. */
    return rw <= 1 && label <= 1 && propagation <= 1 && copy <= 1 && consistency <= 1;
}

/* A shared or slave bind needs the rootfs to propagate as well. */
static void note_propagation(struct mounts *m, const char *prop)
{
    if (strstr(prop, "shared") != NULL)
        m->root_propagation = "shared";
    else if (strstr(prop, "slave") != NULL && m->root_propagation == NULL)
        m->root_propagation = "rslave";
}

static int add_bind(struct mounts *m, const char *raw, mk_err **err)
{
    _cleanup_free_ char *dup = xstrdup(raw);
    char *parts[4] = {0};
    size_t n = 0;
    char *p = dup;
    while (n < 4) {
        parts[n++] = p;
        char *c = n < 4 ? strchr(p, ':') : NULL;
        if (c == NULL)
            break;
        *c = '\0';
        p = c + 1;
    }
    if (*parts[0] == '\0' || n == 4)
        return mk_err_set(err, MK_ERR_INVALID, "invalid volume specification: '%s'", raw);
    bool ro;
    const char *prop;
    /* Volumes (no source, or a name) are the engine's MountPoints. */
    if (n == 1 || (n == 2 && parse_bind_mode(parts[1], &ro, &prop)))
        return 0;
    const char *mode = n == 3 ? parts[2] : "";
    if (!parse_bind_mode(mode, &ro, &prop))
        return mk_err_set(err, MK_ERR_INVALID, "invalid mode: %s", mode);
    const char *src = parts[0], *dst = parts[1];
    if (*src != '/')
        return 0;
    if (*dst == '\0')
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid volume specification: '%s': invalid mount config for type "
                          "\"bind\": field Target must not be empty",
                          raw);
    _cleanup_free_ char *dest = mk_spec_path_clean(dst);
    if (*dest != '/')
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid volume specification: '%s': invalid mount config for type "
                          "\"bind\": invalid mount path: '%s' mount path must be absolute",
                          raw, dst);
    if (strcmp(dest, "/") == 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid volume specification: '%s': invalid mount config for type "
                          "\"bind\": invalid specification: destination can't be '/'",
                          raw);
    _cleanup_free_ char *source = mk_spec_path_clean(src);
    /* -v creates a missing host directory (--mount would refuse). */
    struct stat st;
    if (stat(source, &st) < 0) {
        if (errno != ENOENT)
            return mk_err_sys(err, "bind source %s", source);
        if (mk_mkdir_p(source, 0755, err) < 0)
            return mk_err_wrap(err, "create bind source for %s", raw);
    }
    size_t plen = strcspn(prop, ",");
    _cleanup_free_ char *propagation = xstrndup(prop, plen);
    json_t *opts = json_pack("[s]", "rbind");
    if (ro)
        json_array_append_new(opts, json_string("ro"));
    json_array_append_new(opts, json_string(propagation));
    note_propagation(m, propagation);
    return mounts_add(m, dest, "bind", source, opts, err);
}

/* moby/sys/mount's MergeTmpfsOptions: the last of each flag kind (or data
 * key) wins, in its last position; unknown options are an error. */
static int merge_tmpfs_options(char *const *in, json_t **out, mk_err **err)
{
    static const struct {
        const char *name;
        int key;
    } flags[] = {
        {"ro", 1},           {"rw", 1},
        {"suid", 2},         {"nosuid", 2},
        {"dev", 3},          {"nodev", 3},
        {"exec", 4},         {"noexec", 4},
        {"sync", 5},         {"async", 5},
        {"dirsync", 6},      {"remount", 7},
        {"mand", 8},         {"nomand", 8},
        {"atime", 9},        {"noatime", 9},
        {"diratime", 10},    {"nodiratime", 10},
        {"relatime", 11},    {"norelatime", 11},
        {"strictatime", 12}, {"nostrictatime", 12},
        {"bind", -1},        {"rbind", -1},
        {"unbindable", -1},  {"runbindable", -1},
        {"private", -1},     {"rprivate", -1},
        {"shared", -1},      {"rshared", -1},
        {"slave", -1},       {"rslave", -1},
    };
    static const char *const data_keys[] = {"",          "size",      "mode", "uid", "gid",
                                            "nr_inodes", "nr_blocks", "mpol", NULL};
    size_t n = mk_strv_len(in);
    const char **kept = xcalloc(n + 1, sizeof(char *));
    size_t n_kept = 0;
    int seen_flags[16] = {0};
    _cleanup_strv_ char **seen_data = NULL;
    for (size_t i = n; i-- > 0;) {
        const char *o = in[i];
        if (strcmp(o, "defaults") == 0)
            continue;
        int key = 0;
        for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]) && key == 0; f++)
            if (strcmp(flags[f].name, o) == 0)
                key = flags[f].key;
        if (key != 0) {
            /* All propagation flags are one kind. */
            int idx = key < 0 ? 0 : key;
            if (!seen_flags[idx]) {
                kept[n_kept++] = o;
                seen_flags[idx] = 1;
            }
            continue;
        }
        const char *eq = strchr(o, '=');
        _cleanup_free_ char *k = eq ? xstrndup(o, (size_t)(eq - o)) : xstrdup(o);
        bool valid = false;
        for (size_t d = 0; eq != NULL && data_keys[d] != NULL; d++)
            valid = valid || strcmp(data_keys[d], k) == 0;
        if (!valid) {
            free(kept);
            return mk_err_set(err, MK_ERR_INVALID, "invalid tmpfs option \"%s\"", k);
        }
        if (!mk_strv_contains(seen_data, k)) {
            mk_strv_push(&seen_data, k);
            kept[n_kept++] = o;
        }
    }
    json_t *a = json_array();
    for (size_t i = n_kept; i-- > 0;)
        json_array_append_new(a, json_string(kept[i]));
    free(kept);
    *out = a;
    return 0;
}

static int add_tmpfs(struct mounts *m, const char *dst, const char *data, mk_err **err)
{
    if (*dst != '/')
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid mount path: '%s' mount path must be absolute", dst);
    _cleanup_free_ char *dest = mk_spec_path_clean(dst);
    if (strcmp(dest, "/") == 0)
        return mk_err_set(err, MK_ERR_INVALID, "invalid specification: destination can't be '/'");
    _cleanup_strv_ char **opts = NULL;
    mk_strv_push(&opts, "noexec");
    mk_strv_push(&opts, "nosuid");
    mk_strv_push(&opts, "nodev");
    mk_strv_push(&opts, "rprivate");
    if (data != NULL && *data != '\0') {
        const char *p = data;
        for (;;) {
            size_t len = strcspn(p, ",");
            mk_strv_push_owned(&opts, xstrndup(p, len));
            if (p[len] == '\0')
                break;
            p += len + 1;
        }
    }
    json_t *merged = NULL;
    if (merge_tmpfs_options(opts, &merged, err) < 0)
        return mk_err_wrap(err, "--tmpfs %s", dst);
    return mounts_add(m, dest, "tmpfs", "tmpfs", merged, err);
}

static bool path_exists(const char *p)
{
    struct stat st;
    return p != NULL && stat(p, &st) == 0;
}

/* The docker mounts every container gets, in moby's order. */
static json_t *default_mounts(int64_t shm_size)
{
    char shm[48];
    snprintf(shm, sizeof(shm), "size=%lld", (long long)shm_size);
    return json_pack("[{s:s,s:s,s:s,s:[sss]},{s:s,s:s,s:s,s:[ssss]},{s:s,s:s,s:s,s:[ssssss]},"
                     "{s:s,s:s,s:s,s:[ssss]},{s:s,s:s,s:s,s:[ssss]},{s:s,s:s,s:s,s:[sss]},"
                     "{s:s,s:s,s:s,s:[sssss]}]",
                     "destination", "/proc", "type", "proc", "source", "proc", "options", "nosuid",
                     "noexec",
                     "nodev", //
                     "destination", "/dev", "type", "tmpfs", "source", "tmpfs", "options", "nosuid",
                     "strictatime", "mode=755", "size=65536k", //
                     "destination", "/dev/pts", "type", "devpts", "source", "devpts", "options",
                     "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", //
                     "destination", "/sys", "type", "sysfs", "source", "sysfs", "options", "nosuid",
                     "noexec", "nodev", "ro", //
                     "destination", "/sys/fs/cgroup", "type", "cgroup", "source", "cgroup",
                     "options", "ro", "nosuid", "noexec", "nodev", //
                     "destination", "/dev/mqueue", "type", "mqueue", "source", "mqueue", "options",
                     "nosuid", "noexec", "nodev", //
                     "destination", "/dev/shm", "type", "tmpfs", "source", "shm", "options",
                     "nosuid", "noexec", "nodev", "mode=1777", shm);
}

/* The engine's MountPoints: volumes and --mount binds are binds of their
 * Source, --mount tmpfs a tmpfs with its size and mode. */
static int add_mount_points(struct mounts *m, const json_t *points, mk_err **err)
{
    size_t i;
    json_t *mp;
    json_array_foreach((json_t *)points, i, mp)
    {
        const char *type = mk_json_str(mp, "Type"), *dest = mk_json_str(mp, "Destination");
        const char *src = mk_json_str(mp, "HostSource");
        if (src == NULL)
            src = mk_json_str(mp, "Source");
        if (type == NULL || dest == NULL || src == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "MountPoints entries need Type, Source and Destination");
        if (strcmp(type, "tmpfs") == 0) {
            if (add_tmpfs(m, dest, mk_json_str(mp, "TmpfsData"), err) < 0)
                return -1;
            continue;
        }
        const char *prop = mk_json_str(mp, "Propagation");
        if (prop == NULL || *prop == '\0')
            prop = "rprivate";
        json_t *opts = json_pack("[s]", "rbind");
        if (!mk_json_bool(mp, "RW", true))
            json_array_append_new(opts, json_string("ro"));
        json_array_append_new(opts, json_string(prop));
        note_propagation(m, prop);
        if (mounts_add(m, dest, "bind", src, opts, err) < 0)
            return -1;
    }
    return 0;
}

static void options_remove(json_t *mount, const char *opt)
{
    json_t *opts = json_object_get(mount, "options");
    for (size_t i = json_array_size(opts); i-- > 0;)
        if (strcmp(json_string_value(json_array_get(opts, i)), opt) == 0)
            json_array_remove(opts, i);
}

static bool options_has(const json_t *mount, const char *opt)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(mount, "options"), i, v)
    {
        if (strcmp(json_string_value(v), opt) == 0)
            return true;
    }
    return false;
}

struct build_ctx {
    const struct mk_spec_input *in;
    const json_t *cfg, *hc;
    struct ns_modes modes;
    struct secopts sec;
    bool privileged, readonly_rootfs, use_init;
};

static int build_mounts(const struct build_ctx *b, json_t **out, const char **root_prop,
                        mk_err **err)
{
    const struct mk_spec_input *in = b->in;
    const json_t *hc = b->hc;
    int64_t shm_size = mk_json_int(hc, "ShmSize", 0);
    if (shm_size < 0)
        return mk_err_set(err, MK_ERR_INVALID, "SHM size can not be less than 0");
    if (shm_size == 0)
        shm_size = DEFAULT_SHM_SIZE;

    /* User mounts: binds first, then the network files, then tmpfs, as
     * moby collects them before sorting. */
    struct mounts um = {0};
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(hc, "Binds"), i, v)
    {
        const char *raw = json_string_value(v);
        if (raw == NULL || add_bind(&um, raw, err) < 0) {
            mounts_free(&um);
            return raw == NULL ? mk_err_set(err, MK_ERR_INVALID, "Binds entries must be strings")
                               : -1;
        }
    }
    static const char *const net_dests[] = {"/etc/resolv.conf", "/etc/hostname", "/etc/hosts"};
    const char *net_srcs[] = {in->resolv_path, in->hostname_path, in->hosts_path};
    for (size_t k = 0; k < 3; k++) {
        /* A user's bind on the same file replaces ours, as in moby. */
        if (mounts_find(&um, net_dests[k]) != NULL || !path_exists(net_srcs[k]))
            continue;
        json_t *opts = b->readonly_rootfs ? json_pack("[sss]", "rbind", "ro", "rprivate")
                                          : json_pack("[ss]", "rbind", "rprivate");
        if (mounts_add(&um, net_dests[k], "bind", net_srcs[k], opts, err) < 0) {
            mounts_free(&um);
            return -1;
        }
    }
    if (b->modes.host_ipc && mounts_add(&um, "/dev/shm", "bind", "/dev/shm",
                                        json_pack("[ss]", "rbind", "rprivate"), err) < 0) {
        mounts_free(&um);
        return -1;
    }
    if (add_mount_points(&um, in->mount_points, err) < 0) {
        mounts_free(&um);
        return -1;
    }
    const char *key;
    json_object_foreach((json_t *)json_object_get(hc, "Tmpfs"), key, v)
    {
        if (add_tmpfs(&um, key, json_string_value(v), err) < 0) {
            mounts_free(&um);
            return -1;
        }
    }
    /* Parents before children: stable sort on the number of components. */
    for (size_t a = 1; a < um.n; a++) {
        struct user_mount t = um.v[a];
        size_t k = a;
        for (; k > 0 && um.v[k - 1].depth > t.depth; k--)
            um.v[k] = um.v[k - 1];
        um.v[k] = t;
    }

    json_t *res = json_array();
    _cleanup_json_ json_t *defaults = default_mounts(shm_size);
    bool user_dev = mounts_find(&um, "/dev") != NULL;
    json_array_foreach(defaults, i, v)
    {
        const char *dest = mk_json_str(v, "destination");
        if (mounts_find(&um, dest) != NULL || (user_dev && mk_str_has_prefix(dest, "/dev/")))
            continue;
        if (strcmp(dest, "/dev/shm") == 0 && b->modes.ipc_none)
            continue;
        json_array_append(res, v);
    }
    if (b->use_init)
        json_array_append_new(res,
                              json_pack("{s:s,s:s,s:s,s:[ss]}", "destination", INIT_PATH, "type",
                                        "bind", "source", in->init_path, "options", "bind", "ro"));
    /* A read-only rootfs makes docker's own mounts read-only too, except the
     * ones processes need to write. */
    if (b->readonly_rootfs) {
        static const char *const writable[] = {"/proc",       "/dev/pts", "/dev/shm",
                                               "/dev/mqueue", "/dev",     NULL};
        json_array_foreach(res, i, v)
        {
            const char *dest = mk_json_str(v, "destination");
            bool skip = false;
            for (size_t k = 0; writable[k] != NULL; k++)
                skip = skip || strcmp(writable[k], dest) == 0;
            if (!skip && !options_has(v, "ro"))
                json_array_append_new(json_object_get(v, "options"), json_string("ro"));
        }
    }
    bool writable_cgroups = b->sec.writable_cgroups_set ? b->sec.writable_cgroups : b->privileged;
    json_array_foreach(res, i, v)
    {
        const char *dest = mk_json_str(v, "destination");
        if (b->privileged && strcmp(dest, "/sys") == 0)
            options_remove(v, "ro");
        if (writable_cgroups && strcmp(mk_json_str(v, "type"), "cgroup") == 0)
            options_remove(v, "ro");
    }
    for (size_t k = 0; k < um.n; k++)
        json_array_append(res, um.v[k].obj);
    *root_prop = um.root_propagation;
    mounts_free(&um);
    *out = res;
    return 0;
}

/* ---- host facts, looked up once per process ---- */

static pthread_once_t facts_once = PTHREAD_ONCE_INIT;
static bool have_ping_group_range, have_unpriv_port_start;
static char **thermal_paths;

static void facts_init(void)
{
    have_ping_group_range = path_exists("/proc/sys/net/ipv4/ping_group_range");
    have_unpriv_port_start = path_exists("/proc/sys/net/ipv4/ip_unprivileged_port_start");
    /* moby also masks each possible CPU's thermal_throttle directory. */
    _cleanup_free_ char *possible = NULL;
    if (mk_read_file("/sys/devices/system/cpu/possible", &possible, NULL, NULL) < 0)
        return;
    for (char *p = possible; *p != '\0' && *p != '\n';) {
        char *end;
        long a = strtol(p, &end, 10), z = a;
        if (end == p)
            break;
        if (*end == '-')
            z = strtol(end + 1, &end, 10);
        for (long c = a; c <= z && c - a < 4096; c++) {
            char path[80];
            snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%ld/thermal_throttle", c);
            if (path_exists(path))
                mk_strv_push(&thermal_paths, path);
        }
        p = *end == ',' ? end + 1 : end;
    }
}

static json_t *masked_paths(void)
{
    static const char *const paths[] = {
        "/proc/acpi",
        "/proc/asound",
        "/proc/interrupts",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/sys/devices/virtual/powercap",
        "/sys/firmware",
        NULL,
    };
    json_t *a = strv_json(paths);
    for (size_t i = 0; thermal_paths != NULL && thermal_paths[i] != NULL; i++)
        json_array_append_new(a, json_string(thermal_paths[i]));
    return a;
}

/* ---- sysctls ---- */

static int check_sysctl(const struct build_ctx *b, const char *name, mk_err **err)
{
    static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",          "kernel.msgmni",
                                      "kernel.sem",    "kernel.shmall",          "kernel.shmmax",
                                      "kernel.shmmni", "kernel.shm_rmid_forced", NULL};
    bool is_ipc = mk_str_has_prefix(name, "fs.mqueue.");
    for (size_t i = 0; ipc[i] != NULL; i++)
        is_ipc = is_ipc || strcmp(ipc[i], name) == 0;
    if (is_ipc) {
        if (b->modes.host_ipc)
            return mk_err_set(err, MK_ERR_INVALID,
                              "sysctl \"%s\" is not allowed in the hosts ipc namespace", name);
        return 0;
    }
    if (mk_str_has_prefix(name, "net.")) {
        if (b->modes.host_net)
            return mk_err_set(err, MK_ERR_INVALID,
                              "sysctl \"%s\" is not allowed in the hosts network namespace", name);
        return 0;
    }
    if (!b->modes.host_uts) {
        if (strcmp(name, "kernel.domainname") == 0)
            return 0;
        if (strcmp(name, "kernel.hostname") == 0)
            return mk_err_set(err, MK_ERR_INVALID,
                              "sysctl \"%s\" is not allowed as it conflicts with the OCI "
                              "\"hostname\" field",
                              name);
    }
    return mk_err_set(err, MK_ERR_INVALID, "sysctl \"%s\" is not in a separate kernel namespace",
                      name);
}

static int build_sysctls(const struct build_ctx *b, json_t **out, mk_err **err)
{
    _cleanup_json_ json_t *res = json_object();
    if (!b->modes.host_net) {
        /* docker's defaults for a private network namespace: ping and low
         * ports without privileges. */
        if (have_ping_group_range)
            json_object_set_new(res, "net.ipv4.ping_group_range", json_string("0 2147483647"));
        if (have_unpriv_port_start)
            json_object_set_new(res, "net.ipv4.ip_unprivileged_port_start", json_string("0"));
    }
    const char *domain = mk_json_str(b->cfg, "Domainname");
    if (domain != NULL && *domain != '\0')
        json_object_set_new(res, "kernel.domainname", json_string(domain));
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(b->hc, "Sysctls"), key, v)
    {
        if (!json_is_string(v))
            return mk_err_set(err, MK_ERR_INVALID, "sysctl %s: value must be a string", key);
        if (check_sysctl(b, key, err) < 0)
            return -1;
        json_object_set(res, key, v);
    }
    *out = steal_pointer(&res);
    return 0;
}

/* ---- resources ---- */

static json_t *device_rule(bool allow, const char *type, int64_t major, int64_t minor,
                           const char *access)
{
    json_t *d = json_pack("{s:b}", "allow", allow);
    if (type != NULL)
        json_object_set_new(d, "type", json_string(type));
    if (major >= 0)
        json_object_set_new(d, "major", json_integer(major));
    if (minor >= 0)
        json_object_set_new(d, "minor", json_integer(minor));
    json_object_set_new(d, "access", json_string(access));
    return d;
}

static json_t *device_rules(bool privileged)
{
    json_t *a = json_array();
    if (privileged) {
        json_array_append_new(a, device_rule(true, NULL, -1, -1, "rwm"));
        return a;
    }
    /* moby's default list... */
    json_array_append_new(a, device_rule(false, NULL, -1, -1, "rwm"));
    static const int64_t allowed[][2] = {{1, 5}, {1, 3}, {1, 9}, {1, 8}, {5, 0}, {5, 1}};
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        json_array_append_new(a, device_rule(true, "c", allowed[i][0], allowed[i][1], "rwm"));
    json_array_append_new(a, device_rule(false, "c", 10, 229, "rwm"));
    /* ...then the rules runc appends to every container, written out so that
     * any runtime applies the same set. */
    json_array_append_new(a, device_rule(true, "c", -1, -1, "m"));
    json_array_append_new(a, device_rule(true, "b", -1, -1, "m"));
    static const int64_t runc[][2] = {{1, 3}, {1, 8},    {1, 7}, {5, 0},   {1, 5},
                                      {1, 9}, {136, -1}, {5, 2}, {10, 200}};
    for (size_t i = 0; i < sizeof(runc) / sizeof(runc[0]); i++)
        json_array_append_new(a, device_rule(true, "c", runc[i][0], runc[i][1], "rwm"));
    return a;
}

static int build_resources(const struct build_ctx *b, json_t **out, mk_err **err)
{
    const json_t *hc = b->hc;
    _cleanup_json_ json_t *res = json_object();
    json_object_set_new(res, "devices", device_rules(b->privileged));

    int64_t memory = mk_json_int(hc, "Memory", 0);
    int64_t swap = mk_json_int(hc, "MemorySwap", 0);
    int64_t reservation = mk_json_int(hc, "MemoryReservation", 0);
    if (memory != 0 && memory < MIN_MEMORY)
        return mk_err_set(err, MK_ERR_INVALID, "Minimum memory limit allowed is 6MB");
    if (memory > 0 && swap == 0)
        swap = memory * 2; /* docker's default: as much swap as memory */
    if (memory > 0 && swap > 0 && swap < memory)
        return mk_err_set(err, MK_ERR_INVALID,
                          "Minimum memoryswap limit should be larger than memory limit, see usage");
    if (memory == 0 && swap > 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "You should always set the Memory limit when using Memoryswap limit, "
                          "see usage");
    if (reservation > 0 && reservation < MIN_MEMORY)
        return mk_err_set(err, MK_ERR_INVALID, "Minimum memory reservation allowed is 6MB");
    if (memory > 0 && reservation > 0 && memory < reservation)
        return mk_err_set(err, MK_ERR_INVALID,
                          "Minimum memory limit can not be less than memory reservation limit, "
                          "see usage");
    json_t *mem = json_object();
    if (memory > 0)
        json_object_set_new(mem, "limit", json_integer(memory));
    if (reservation > 0)
        json_object_set_new(mem, "reservation", json_integer(reservation));
    if (swap > 0)
        json_object_set_new(mem, "swap", json_integer(swap));
    const json_t *swappiness = json_object_get(hc, "MemorySwappiness");
    if (json_is_integer(swappiness) && json_integer_value(swappiness) != -1) {
        json_int_t sw = json_integer_value(swappiness);
        if (sw < 0 || sw > 100) {
            json_decref(mem);
            return mk_err_set(err, MK_ERR_INVALID,
                              "Invalid value: %lld, valid memory swappiness range is 0-100",
                              (long long)sw);
        }
        json_object_set_new(mem, "swappiness", json_integer(sw));
    }
    const json_t *oom_kill_disable = json_object_get(hc, "OomKillDisable");
    if (json_is_boolean(oom_kill_disable))
        json_object_set_new(mem, "disableOOMKiller", json_boolean(json_is_true(oom_kill_disable)));
    if (json_object_size(mem) > 0)
        json_object_set_new(res, "memory", mem);
    else
        json_decref(mem);

    int64_t shares = mk_json_int(hc, "CpuShares", 0), nano = mk_json_int(hc, "NanoCpus", 0);
    int64_t period = mk_json_int(hc, "CpuPeriod", 0), quota = mk_json_int(hc, "CpuQuota", 0);
    if (nano > 0 && period > 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "Conflicting options: Nano CPUs and CPU Period cannot both be set");
    if (nano > 0 && quota > 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
    if (nano != 0) {
        cpu_set_t set;
        long ncpu = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set)
                                                                 : sysconf(_SC_NPROCESSORS_ONLN);
        if (nano < 0 || nano > ncpu * 1000000000LL)
            return mk_err_set(err, MK_ERR_INVALID,
                              "range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs "
                              "available",
                              ncpu, ncpu);
    }
    if (period != 0 && (period < 1000 || period > 1000000))
        return mk_err_set(err, MK_ERR_INVALID,
                          "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s "
                          "(i.e. 1000000)");
    if (quota > 0 && quota < 1000)
        return mk_err_set(err, MK_ERR_INVALID,
                          "CPU cfs quota can not be less than 1ms (i.e. 1000)");
    if (shares < 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid CPU shares (%lld): value must be a positive integer",
                          (long long)shares);
    json_t *cpu = json_object();
    if (shares != 0)
        json_object_set_new(cpu, "shares", json_integer(shares));
    const char *cpus = mk_json_str(hc, "CpusetCpus"), *mems = mk_json_str(hc, "CpusetMems");
    if (cpus != NULL && *cpus != '\0')
        json_object_set_new(cpu, "cpus", json_string(cpus));
    if (mems != NULL && *mems != '\0')
        json_object_set_new(cpu, "mems", json_string(mems));
    if (nano > 0) {
        /* CFS over a 100 ms period, as docker: quota = cpus * period. */
        json_object_set_new(cpu, "period", json_integer(100000));
        json_object_set_new(cpu, "quota", json_integer(nano * 100000 / 1000000000LL));
    }
    if (period != 0)
        json_object_set_new(cpu, "period", json_integer(period));
    if (quota != 0)
        json_object_set_new(cpu, "quota", json_integer(quota));
    if (json_object_size(cpu) > 0)
        json_object_set_new(res, "cpu", cpu);
    else
        json_decref(cpu);

    const json_t *pids = json_object_get(hc, "PidsLimit");
    if (json_is_integer(pids)) {
        json_int_t l = json_integer_value(pids);
        json_object_set_new(res, "pids", json_pack("{s:I}", "limit", l <= 0 ? (json_int_t)-1 : l));
    }

    json_t *blkio = json_object();
    int64_t weight = mk_json_int(hc, "BlkioWeight", 0);
    if (weight != 0) {
        if (weight < 10 || weight > 1000) {
            json_decref(blkio);
            return mk_err_set(err, MK_ERR_INVALID, "Range of blkio weight is from 10 to 1000");
        }
        json_object_set_new(blkio, "weight", json_integer(weight));
    }
    json_object_set_new(res, "blockIO", blkio);
    *out = steal_pointer(&res);
    return 0;
}

/* ---- privileged: every host device ---- */

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void host_devices(const char *dir, json_t *out)
{
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, name_cmp);
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        _cleanup_free_ char *path = mk_path_join(dir, name);
        struct stat st;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || lstat(path, &st) < 0)
            goto next;
        if (S_ISDIR(st.st_mode)) {
            static const char *const skip[] = {"pts",  "shm",         "fd",    "mqueue",
                                               ".lxc", ".lxd-mounts", ".udev", NULL};
            bool s = false;
            for (size_t k = 0; skip[k] != NULL; k++)
                s = s || strcmp(skip[k], name) == 0;
            if (!s)
                host_devices(path, out);
            goto next;
        }
        if (strcmp(name, "console") == 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
            goto next;
        json_array_append_new(out, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "path", path, "type",
                                             S_ISCHR(st.st_mode) ? "c" : "b", "major",
                                             (json_int_t)major(st.st_rdev), "minor",
                                             (json_int_t)minor(st.st_rdev), "fileMode",
                                             (json_int_t)(st.st_mode & 07777), "uid",
                                             (json_int_t)st.st_uid, "gid", (json_int_t)st.st_gid));
    next:
        free(ents[i]);
    }
    free(ents);
}

/* ---- --device and --device-cgroup-rule (moby's WithDevices) ---- */

/* linux.devices for the mappings, and their rules, then the cgroup rules,
 * after docker's defaults in rules.  A privileged container already has every
 * host device and may use all: only mappings to another path add a node. */
static int build_devices(const struct build_ctx *b, json_t *rules, json_t *devs, mk_err **err)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(b->hc, "Devices"), i, m)
    {
        const char *host = mk_json_str(m, "PathOnHost");
        const char *ctr = mk_json_str(m, "PathInContainer");
        const char *perms = mk_json_str(m, "CgroupPermissions");
        if (host == NULL || *host == '\0')
            return mk_err_set(err, MK_ERR_INVALID, "Devices entries need a PathOnHost");
        if (ctr == NULL || *ctr == '\0')
            ctr = host;
        if (perms == NULL || *perms == '\0')
            perms = "rwm";
        if (!mk_spec_device_mode_valid(perms))
            return mk_err_set(err, MK_ERR_INVALID, "bad mode specified: %s", perms);
        if (b->privileged && strcmp(host, ctr) == 0)
            continue;
        if (mk_spec_devices_from_path(host, ctr, perms, devs, b->privileged ? NULL : rules, err) <
            0)
            return -1;
    }
    if (b->privileged)
        return 0;
    json_t *r;
    json_array_foreach(json_object_get(b->hc, "DeviceCgroupRules"), i, r)
    {
        json_t *rule = NULL;
        if (!json_is_string(r))
            return mk_err_set(err, MK_ERR_INVALID, "DeviceCgroupRules entries must be strings");
        if (mk_device_cgroup_rule_parse(json_string_value(r), &rule, err) < 0)
            return -1;
        json_array_append_new(rules, rule);
    }
    return 0;
}

/* ---- the whole spec ---- */

static int build_process(const struct build_ctx *b, char *const *caps, json_t **out, mk_err **err)
{
    const struct mk_spec_input *in = b->in;
    const json_t *cfg = b->cfg, *hc = b->hc;

    _cleanup_strv_ char **args = NULL;
    if (b->use_init) {
        mk_strv_push(&args, INIT_PATH);
        mk_strv_push(&args, "--");
    }
    size_t n_init = mk_strv_len(args);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(cfg, "Entrypoint"), i, v)
    {
        if (json_is_string(v))
            mk_strv_push(&args, json_string_value(v));
    }
    json_array_foreach(json_object_get(cfg, "Cmd"), i, v)
    {
        if (json_is_string(v))
            mk_strv_push(&args, json_string_value(v));
    }
    if (mk_strv_len(args) == n_init)
        return mk_err_set(err, MK_ERR_INVALID, "no command specified");

    const char *cwd = str_or(cfg, "WorkingDir", "");
    if (*cwd == '\0')
        cwd = "/";
    else if (*cwd != '/')
        return mk_err_set(err, MK_ERR_INVALID,
                          "the working directory '%s' is invalid, it needs to be an absolute path",
                          cwd);

    /* The user, from the image's own passwd and group files. */
    _cleanup_strv_ char **dirs = NULL;
    if (in->upper_dir != NULL)
        mk_strv_push(&dirs, in->upper_dir);
    for (size_t k = 0; in->lower_dirs != NULL && in->lower_dirs[k] != NULL; k++)
        mk_strv_push(&dirs, in->lower_dirs[k]);
    _cleanup_free_ char *passwd = dirs ? mk_layers_find_file(dirs, "etc/passwd") : NULL;
    _cleanup_free_ char *group = dirs ? mk_layers_find_file(dirs, "etc/group") : NULL;
    uid_t uid;
    gid_t gid;
    _cleanup_free_ gid_t *extra = NULL, *added = NULL;
    size_t n_extra = 0, n_added = 0;
    _cleanup_free_ char *home = NULL;
    if (mk_spec_resolve_user(str_or(cfg, "User", ""), passwd, group, &uid, &gid, &extra, &n_extra,
                             &home, err) < 0 ||
        mk_spec_additional_groups(json_object_get(hc, "GroupAdd"), group, &added, &n_added, err) <
            0)
        return -1;
    json_t *gids = json_array();
    for (size_t k = 0; k < n_extra + n_added; k++) {
        gid_t g = k < n_extra ? extra[k] : added[k - n_extra];
        bool dup = false;
        for (size_t j = 0; j < json_array_size(gids) && !dup; j++)
            dup = json_integer_value(json_array_get(gids, j)) == (json_int_t)g;
        if (!dup)
            json_array_append_new(gids, json_integer(g));
    }

    /* Environment: docker's defaults, the container's Env over them, and
     * HOME from passwd when unset, as runc adds it. */
    bool tty = mk_json_bool(cfg, "Tty", false);
    const char *hostname = in->hostname ? in->hostname : str_or(cfg, "Hostname", "");
    _cleanup_strv_ char **env = NULL;
    mk_strv_push(&env, "PATH=" DEFAULT_PATH);
    mk_strv_push_owned(&env, xasprintf("HOSTNAME=%s", hostname));
    if (tty)
        mk_strv_push(&env, "TERM=xterm");
    env_apply(&env, json_object_get(cfg, "Env"));
    if (!env_has(env, "HOME"))
        mk_strv_push_owned(&env, xasprintf("HOME=%s", home));

    json_t *rlimits = NULL;
    if (build_rlimits(json_object_get(hc, "Ulimits"), &rlimits, err) < 0) {
        json_decref(gids);
        return -1;
    }
    int64_t oom = mk_json_int(hc, "OomScoreAdj", 0);
    if (oom < -1000 || oom > 1000) {
        json_decref(gids);
        json_decref(rlimits);
        return mk_err_set(err, MK_ERR_INVALID,
                          "Invalid value %lld, range for oom score adj is [-1000, 1000]",
                          (long long)oom);
    }
    json_t *capset = json_pack("{s:o,s:o,s:o}", "bounding", mk_json_from_strv(caps), "effective",
                               mk_json_from_strv(caps), "permitted", mk_json_from_strv(caps));
    json_t *p =
        json_pack("{s:b,s:{s:I,s:I,s:o},s:o,s:o,s:s,s:o,s:o,s:I}", "terminal", tty, "user", "uid",
                  (json_int_t)uid, "gid", (json_int_t)gid, "additionalGids", gids, "args",
                  mk_json_from_strv(args), "env", mk_json_from_strv(env), "cwd", cwd,
                  "capabilities", capset, "rlimits", rlimits, "oomScoreAdj", (json_int_t)oom);
    if (b->sec.no_new_privs)
        json_object_set_new(p, "noNewPrivileges", json_true());
    const json_t *console = json_object_get(hc, "ConsoleSize");
    json_int_t ch = json_integer_value(json_array_get(console, 0));
    json_int_t cw = json_integer_value(json_array_get(console, 1));
    if (tty && (ch > 0 || cw > 0))
        json_object_set_new(p, "consoleSize", json_pack("{s:I,s:I}", "height", ch, "width", cw));
    *out = p;
    return 0;
}

static json_t *ns_entry(const char *type, const char *path)
{
    return path != NULL ? json_pack("{s:s,s:s}", "type", type, "path", path)
                        : json_pack("{s:s}", "type", type);
}

static json_t *build_namespaces(const struct ns_modes *m)
{
    json_t *a = json_array();
    json_array_append_new(a, json_pack("{s:s}", "type", "mount"));
    if (!m->host_net)
        json_array_append_new(a, ns_entry("network", m->join_net));
    if (!m->host_uts)
        json_array_append_new(a, json_pack("{s:s}", "type", "uts"));
    if (!m->host_pid)
        json_array_append_new(a, ns_entry("pid", m->join_pid));
    if (!m->host_ipc)
        json_array_append_new(a, json_pack("{s:s}", "type", "ipc"));
    if (!m->host_cgroupns)
        json_array_append_new(a, json_pack("{s:s}", "type", "cgroup"));
    return a;
}

static int build_seccomp(const struct build_ctx *b, char *const *caps, json_t **out, mk_err **err)
{
    *out = NULL;
    if (b->sec.seccomp == SECCOMP_UNCONFINED)
        return 0;
    if (b->sec.seccomp == SECCOMP_CUSTOM) {
        json_error_t jerr;
        _cleanup_json_ json_t *profile = json_loads(b->sec.seccomp_profile, 0, &jerr);
        if (profile == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "Decoding seccomp profile failed: %s",
                              jerr.text);
        return mk_spec_seccomp_from_docker(profile, caps, out, err);
    }
    /* Privileged containers run unconfined unless given a profile. */
    if (b->privileged)
        return 0;
    return mk_spec_seccomp_default(caps, out, err);
}

static json_t *build_annotations(const struct mk_spec_input *in, const json_t *hc)
{
    json_t *ann = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(hc, "Annotations"), key, v)
    {
        if (json_is_string(v))
            json_object_set(ann, key, v);
    }
    mk_spec_rootfs_annotate(ann, in->lower_dirs, in->upper_dir, in->work_dir, hc);
    return ann;
}

void mk_spec_rootfs_annotate(json_t *ann, char *const *lower_dirs, const char *upper_dir,
                             const char *work_dir, const json_t *host_config)
{
    if (lower_dirs != NULL) {
        _cleanup_free_ char *lowers = mk_strv_join(lower_dirs, ":");
        json_object_set_new(ann, "org.mocker.rootfs.lowerdirs", json_string(lowers));
    }
    if (upper_dir != NULL)
        json_object_set_new(ann, "org.mocker.rootfs.upperdir", json_string(upper_dir));
    if (work_dir != NULL)
        json_object_set_new(ann, "org.mocker.rootfs.workdir", json_string(work_dir));
    /* A --rm container's writes go with it: nothing to sync at its unmount. */
    if (upper_dir != NULL && mk_json_bool(host_config, "AutoRemove", false))
        json_object_set_new(ann, "org.mocker.rootfs.volatile", json_string("true"));
}

void mk_spec_warm(void)
{
    pthread_once(&facts_once, facts_init);
    mk_spec_seccomp_warm();
}

/* --cgroup-parent as docker's cgroupfs driver: cleaned as a rooted path, so
 * ".." stops at the hierarchy's root.  docker puts a relative parent below
 * the daemon's own cgroup; with no daemon (each CLI call has a cgroup of its
 * own) it goes below the root, where dockerd usually is. */
char *mk_spec_cgroups_path(const char *parent, const char *id)
{
    if (parent == NULL || *parent == '\0')
        parent = MK_CGROUP_PARENT_DEFAULT;
    _cleanup_free_ char *joined = xasprintf("/%s/%s", parent, id);
    return mk_spec_path_clean(joined);
}

int mk_spec_build(const struct mk_spec_input *in, json_t **out, mk_err **err)
{
    pthread_once(&facts_once, facts_init);
    _cleanup_json_ json_t *empty = json_object();
    struct build_ctx b = {
        .in = in,
        .cfg = json_is_object(in->config) ? in->config : empty,
        .hc = json_is_object(in->host_config) ? in->host_config : empty,
    };
    const json_t *hc = b.hc;
    if (check_unsupported(hc, err) < 0 || parse_modes(hc, in, &b.modes, err) < 0 ||
        parse_security_opts(json_object_get(hc, "SecurityOpt"), &b.sec, err) < 0)
        return -1;
    b.privileged = mk_json_bool(hc, "Privileged", false);
    b.readonly_rootfs = mk_json_bool(hc, "ReadonlyRootfs", false);
    /* --init only makes sense as pid 1 of a pid namespace of our own. */
    b.use_init = mk_json_bool(hc, "Init", false) && !b.modes.host_pid;
    if (b.use_init && in->init_path == NULL)
        return mk_err_set(err, MK_ERR_INTERNAL, "--init: no init binary available");

    const char *hostname = in->hostname ? in->hostname : str_or(b.cfg, "Hostname", "");
    if (strlen(hostname) > HOSTNAME_MAX)
        return mk_err_set(err, MK_ERR_INVALID, "hostname \"%s\" is too long (maximum %d bytes)",
                          hostname, HOSTNAME_MAX);

    _cleanup_strv_ char **caps = NULL;
    if (mk_spec_capabilities(json_object_get(hc, "CapAdd"), json_object_get(hc, "CapDrop"),
                             b.privileged, &caps, err) < 0)
        return -1;

    _cleanup_json_ json_t *process = NULL, *mounts = NULL, *resources = NULL, *sysctl = NULL,
                          *seccomp = NULL;
    const char *root_prop = NULL;
    if (build_process(&b, caps, &process, err) < 0 ||
        build_mounts(&b, &mounts, &root_prop, err) < 0 ||
        build_resources(&b, &resources, err) < 0 || build_sysctls(&b, &sysctl, err) < 0 ||
        build_seccomp(&b, caps, &seccomp, err) < 0)
        return -1;

    const char *cg_parent = mk_json_str(hc, "CgroupParent");
    if (cg_parent == NULL || *cg_parent == '\0')
        cg_parent = in->cgroup_parent;
    _cleanup_free_ char *cgroups_path = mk_spec_cgroups_path(cg_parent, in->id ? in->id : "");

    json_t *linux_obj = json_pack("{s:o,s:O,s:s}", "namespaces", build_namespaces(&b.modes),
                                  "resources", resources, "cgroupsPath", cgroups_path);
    if (!b.privileged) {
        json_object_set_new(linux_obj, "maskedPaths", masked_paths());
        static const char *const ro_paths[] = {
            "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};
        json_object_set_new(linux_obj, "readonlyPaths", strv_json(ro_paths));
    }
    json_t *devs = json_array();
    json_object_set_new(linux_obj, "devices", devs);
    if (b.privileged)
        host_devices("/dev", devs);
    if (build_devices(&b, json_object_get(resources, "devices"), devs, err) < 0) {
        json_decref(linux_obj);
        return -1;
    }
    if (json_array_size(devs) == 0)
        json_object_del(linux_obj, "devices");
    /* Explicit lists (the API's MaskedPaths/ReadonlyPaths) win. */
    const json_t *user_masked = json_object_get(hc, "MaskedPaths");
    if (json_is_array(user_masked))
        json_object_set_new(linux_obj, "maskedPaths", json_deep_copy(user_masked));
    const json_t *user_ro = json_object_get(hc, "ReadonlyPaths");
    if (json_is_array(user_ro))
        json_object_set_new(linux_obj, "readonlyPaths", json_deep_copy(user_ro));
    if (json_object_size(sysctl) > 0)
        json_object_set(linux_obj, "sysctl", sysctl);
    if (seccomp != NULL)
        json_object_set(linux_obj, "seccomp", seccomp);
    if (root_prop != NULL)
        json_object_set_new(linux_obj, "rootfsPropagation", json_string(root_prop));

    json_t *spec = json_pack("{s:s,s:O,s:{s:s,s:b},s:O,s:o,s:o}", "ociVersion", "1.0.2-dev",
                             "process", process, "root", "path", in->rootfs ? in->rootfs : "rootfs",
                             "readonly", b.readonly_rootfs, "mounts", mounts, "linux", linux_obj,
                             "annotations", build_annotations(in, hc));
    if (!b.modes.host_uts)
        json_object_set_new(spec, "hostname", json_string(hostname));
    *out = spec;
    return 0;
}
