/* seccomp.c: the OCI linux.seccomp object compiled with libseccomp into a
 * classic BPF program, loaded with seccomp(2) by the container's process.
 *
 * The program is rewritten shorter (seccomp_compact.c says why and how).
 * Compiling docker's profile costs milliseconds, so the exported program is
 * cached in the directory the "org.mocker.seccomp.cache" annotation names,
 * keyed by the sha256 of the canonical JSON, the architecture and the
 * libseccomp version.  A cached program is only read: the kernel verifies it
 * again at load time. */
#include "runtime/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

static int parse_action(const char *name, const json_t *errno_ret, int64_t dflt_errno,
                        uint32_t *out, mk_err **err)
{
    int64_t e = json_is_integer(errno_ret) ? json_integer_value(errno_ret) : dflt_errno;
    if (name == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "seccomp: missing action");
    if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
        *out = SCMP_ACT_ALLOW;
    else if (strcmp(name, "SCMP_ACT_ERRNO") == 0)
        *out = SCMP_ACT_ERRNO((uint32_t)e);
    else if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
        *out = SCMP_ACT_KILL;
    else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
        *out = SCMP_ACT_KILL_PROCESS;
    else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
        *out = SCMP_ACT_TRAP;
    else if (strcmp(name, "SCMP_ACT_TRACE") == 0)
        *out = SCMP_ACT_TRACE((uint32_t)e);
    else if (strcmp(name, "SCMP_ACT_LOG") == 0)
        *out = SCMP_ACT_LOG;
    else if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "seccomp action SCMP_ACT_NOTIFY is not supported by mocker's runtime");
    else
        return mk_err_set(err, MK_ERR_INVALID, "seccomp: unknown action %s", name);
    return 0;
}

static int parse_op(const char *name, enum scmp_compare *out, mk_err **err)
{
    static const struct {
        const char *name;
        enum scmp_compare op;
    } ops[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    };
    for (size_t i = 0; name != NULL && i < sizeof(ops) / sizeof(*ops); i++) {
        if (strcmp(name, ops[i].name) == 0) {
            *out = ops[i].op;
            return 0;
        }
    }
    return mk_err_set(err, MK_ERR_INVALID, "seccomp: unknown operator %s",
                      name != NULL ? name : "(none)");
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token. */
static int parse_arch(const char *name, uint32_t *out, mk_err **err)
{
    if (name == NULL || !mk_str_has_prefix(name, "SCMP_ARCH_"))
        return mk_err_set(err, MK_ERR_INVALID, "seccomp: bad architecture %s",
                          name != NULL ? name : "(none)");
    char lower[32];
    size_t i = 0;
    for (const char *p = name + 10; *p != '\0' && i < sizeof(lower) - 1; p++)
        lower[i++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    lower[i] = '\0';
    *out = seccomp_arch_resolve_name(lower);
    if (*out == 0)
        return mk_err_set(err, MK_ERR_INVALID, "seccomp: unknown architecture %s", name);
    return 0;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t dflt, const json_t *rule, int64_t dflt_errno,
                    mk_err **err)
{
    uint32_t action;
    if (parse_action(mk_json_str(rule, "action"), json_object_get(rule, "errnoRet"), dflt_errno,
                     &action, err) < 0)
        return -1;
    if (action == dflt)
        return 0; /* libseccomp refuses rules that repeat the default */
    const json_t *args = json_object_get(rule, "args");
    size_t nargs = json_array_size(args);
    if (nargs > 6)
        return mk_err_set(err, MK_ERR_INVALID, "seccomp: more than 6 argument conditions");
    struct scmp_arg_cmp cmps[6];
    int per_index[6] = {0};
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a)
    {
        int64_t index = mk_json_int(a, "index", -1);
        if (index < 0 || index > 5)
            return mk_err_set(err, MK_ERR_INVALID, "seccomp: bad argument index %lld",
                              (long long)index);
        enum scmp_compare op = SCMP_CMP_EQ;
        if (parse_op(mk_json_str(a, "op"), &op, err) < 0)
            return -1;
        cmps[i] = (struct scmp_arg_cmp){.arg = (unsigned int)index,
                                        .op = op,
                                        .datum_a = (scmp_datum_t)mk_json_int(a, "value", 0),
                                        .datum_b = (scmp_datum_t)mk_json_int(a, "valueTwo", 0)};
        per_index[index]++;
    }
    /* Conditions on distinct arguments are ANDed in one rule; several on the
     * same argument can only be expressed as one rule each (ORed), as runc does. */
    bool split = false;
    for (int k = 0; k < 6; k++)
        split = split || per_index[k] > 1;
    json_t *n;
    json_array_foreach(json_object_get(rule, "names"), i, n)
    {
        const char *name = json_string_value(n);
        if (name == NULL)
            continue;
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
            continue; /* unknown to this libseccomp: nothing to filter */
        int r;
        if (!split) {
            r = seccomp_rule_add_array(ctx, action, nr, (unsigned int)nargs, cmps);
        } else {
            r = 0;
            for (size_t k = 0; k < nargs && r == 0; k++)
                r = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[k]);
        }
        if (r < 0)
            return mk_err_errno(err, -r, "seccomp: add rule for %s", name);
    }
    return 0;
}

int rt_seccomp_compile(const json_t *sec, struct sock_fprog *prog, mk_err **err)
{
    int64_t dflt_errno = mk_json_int(sec, "defaultErrnoRet", EPERM);
    uint32_t dflt;
    if (parse_action(mk_json_str(sec, "defaultAction"), json_object_get(sec, "defaultErrnoRet"),
                     EPERM, &dflt, err) < 0)
        return -1;
    scmp_filter_ctx ctx = seccomp_init(dflt);
    if (ctx == NULL)
        return mk_err_set(err, MK_ERR_INTERNAL, "seccomp_init failed");
    int ret = -1, r;
    int fd = -1;
    off_t size;
    /* no_new_privs is the spec's decision (process.noNewPrivileges), not libseccomp's. */
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    /* A binary tree of syscall numbers: fewer instructions run per syscall. */
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(sec, "architectures"), i, v)
    {
        uint32_t arch;
        if (parse_arch(json_string_value(v), &arch, err) < 0)
            goto out;
        r = seccomp_arch_add(ctx, arch);
        if (r < 0 && r != -EEXIST) {
            mk_err_errno(err, -r, "seccomp: add architecture %s", json_string_value(v));
            goto out;
        }
    }
    json_array_foreach(json_object_get(sec, "syscalls"), i, v)
    {
        if (add_rule(ctx, dflt, v, dflt_errno, err) < 0)
            goto out;
    }
    fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
    if (fd < 0) {
        mk_err_sys(err, "memfd_create");
        goto out;
    }
    r = seccomp_export_bpf(ctx, fd);
    if (r < 0) {
        mk_err_errno(err, -r, "seccomp: export the filter");
        goto out;
    }
    size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || size % sizeof(struct sock_filter) != 0) {
        mk_err_set(err, MK_ERR_INTERNAL, "seccomp: exported filter has a bad size");
        goto out;
    }
    prog->filter = xmalloc((size_t)size);
    prog->len = (unsigned short)(size / sizeof(struct sock_filter));
    if (pread(fd, prog->filter, (size_t)size, 0) != size) {
        free(prog->filter);
        prog->filter = NULL;
        mk_err_sys(err, "seccomp: read the exported filter");
        goto out;
    }
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    seccomp_release(ctx);
    return ret;
}

static char *cache_key(const json_t *sec)
{
    struct utsname u;
    uname(&u);
    const struct scmp_version *ver = seccomp_version();
    _cleanup_free_ char *head = xasprintf("mocker-seccomp-4\n%s\n%u.%u.%u\n", u.machine, ver->major,
                                          ver->minor, ver->micro);
    struct mk_sha256 h;
    mk_sha256_init(&h);
    mk_sha256_update(&h, head, strlen(head));
    mk_json_hash(sec, &h);
    char hex[65];
    mk_sha256_hex(&h, hex);
    return xstrdup(hex);
}

static int cache_read(const char *path, struct sock_fprog *prog)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    if (mk_read_file(path, &data, &len, NULL) < 0)
        return -1;
    if (len == 0 || len % sizeof(struct sock_filter) != 0 ||
        len / sizeof(struct sock_filter) > BPF_MAXINSNS)
        return -1;
    prog->filter = (struct sock_filter *)steal_pointer(&data);
    prog->len = (unsigned short)(len / sizeof(struct sock_filter));
    return 0;
}

int rt_seccomp_prepare(const json_t *sec, const char *cache_dir, struct rt_seccomp **out,
                       mk_err **err)
{
    *out = NULL;
    if (sec == NULL || json_is_null(sec))
        return 0;
    if (mk_json_str(sec, "listenerPath") != NULL)
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "seccomp listenerPath (user notification) is not supported by mocker's "
                          "runtime");
    unsigned int flags = 0;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(sec, "flags"), i, f)
    {
        const char *name = json_string_value(f);
        if (name != NULL && strcmp(name, "SECCOMP_FILTER_FLAG_LOG") == 0)
            flags |= SECCOMP_FILTER_FLAG_LOG;
        else if (name != NULL && strcmp(name, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
            flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        else if (name != NULL && strcmp(name, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
            flags |= SECCOMP_FILTER_FLAG_TSYNC;
        else
            return mk_err_set(err, MK_ERR_UNSUPPORTED,
                              "seccomp flag %s is not supported by mocker's runtime",
                              name != NULL ? name : "(not a string)");
    }
    struct rt_seccomp *s = xcalloc(1, sizeof(*s));
    s->flags = flags;
    _cleanup_free_ char *path = NULL;
    if (cache_dir != NULL && *cache_dir != '\0') {
        _cleanup_free_ char *key = cache_key(sec);
        path = xasprintf("%s/%s.bpf", cache_dir, key);
        if (cache_read(path, &s->prog) == 0) {
            *out = s;
            return 0;
        }
    }
    if (rt_seccomp_compile(sec, &s->prog, err) < 0) {
        rt_seccomp_free(s);
        return mk_err_wrap(err, "linux.seccomp");
    }
    struct sock_fprog small;
    if (rt_bpf_compact(&s->prog, &small)) {
        free(s->prog.filter);
        s->prog = small;
    }
    if (path != NULL) {
        /* The cache only saves time: failing to write it is not an error. */
        size_t size = s->prog.len * sizeof(struct sock_filter);
        if (mk_mkdir_p(cache_dir, 0700, NULL) == 0)
            mk_write_file_atomic(path, s->prog.filter, size, 0600, NULL);
    }
    *out = s;
    return 0;
}

void rt_seccomp_free(struct rt_seccomp *s)
{
    if (s == NULL)
        return;
    free(s->prog.filter);
    free(s);
}

int rt_seccomp_load(const struct rt_seccomp *s, mk_err **err)
{
    if (s == NULL)
        return 0;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->flags, &s->prog) < 0)
        return mk_err_sys(err, "load the seccomp filter");
    return 0;
}
