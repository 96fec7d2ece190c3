/* seccomp_profile.c: docker-format seccomp profiles (archMap, conditional
 * includes/excludes) resolved into an OCI linux.seccomp object for this
 * host's architecture and kernel and the container's capabilities, with the
 * semantics of moby's profiles/seccomp setupSeccomp.
 *
 * The default profile is linked into the binary and parsed once per process.
 * Resolution copies nothing: the result references the profile's "names" and
 * "args" arrays (jansson's reference counts are atomic), so callers must treat
 * the syscalls of a resolved object as read-only. */
#include "engine/spec.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

extern const char mk_seccomp_default_json[];

/* moby's goToNative/nativeToSeccomp for the architecture we were built for. */
#if defined(__x86_64__)
#define NATIVE_ARCH  "amd64"
#define SECCOMP_ARCH "SCMP_ARCH_X86_64"
#elif defined(__aarch64__)
#define NATIVE_ARCH  "arm64"
#define SECCOMP_ARCH "SCMP_ARCH_AARCH64"
#elif defined(__i386__)
#define NATIVE_ARCH  "x86"
#define SECCOMP_ARCH "SCMP_ARCH_X86"
#elif defined(__arm__)
#define NATIVE_ARCH  "arm"
#define SECCOMP_ARCH "SCMP_ARCH_ARM"
#elif defined(__s390x__)
#define NATIVE_ARCH  "s390x"
#define SECCOMP_ARCH "SCMP_ARCH_S390X"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_ARCH  "ppc64le"
#define SECCOMP_ARCH "SCMP_ARCH_PPC64LE"
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_ARCH  "riscv64"
#define SECCOMP_ARCH "SCMP_ARCH_RISCV64"
#else
#define NATIVE_ARCH  ""
#define SECCOMP_ARCH ""
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static json_t *default_profile;
static char default_error[200];
static unsigned kernel_major, kernel_minor;

static void init_once(void)
{
    struct utsname u;
    if (uname(&u) == 0 && sscanf(u.release, "%u.%u", &kernel_major, &kernel_minor) != 2)
        kernel_major = kernel_minor = 0;
    json_error_t jerr;
    default_profile = json_loads(mk_seccomp_default_json, 0, &jerr);
    if (default_profile == NULL)
        snprintf(default_error, sizeof(default_error), "line %d: %s", jerr.line, jerr.text);
}

/* "<kernel>.<major>", each 0-255 and not both 0, as moby's KernelVersion. */
static int parse_min_kernel(const json_t *v, unsigned *maj, unsigned *min, bool *set, mk_err **err)
{
    *set = false;
    if (v == NULL || json_is_null(v))
        return 0;
    const char *s = json_string_value(v);
    if (s == NULL)
        return mk_err_set(err, MK_ERR_INVALID,
                          "Decoding seccomp profile failed: invalid kernel version: expected "
                          "\"<kernel>.<major>\"");
    if (*s == '\0')
        return 0;
    unsigned a, b;
    char tail;
    if (strchr(s, '.') == NULL || strchr(strchr(s, '.') + 1, '.') != NULL ||
        sscanf(s, "%u.%u%c", &a, &b, &tail) != 2 || a > 255 || b > 255 || (a == 0 && b == 0) ||
        s[0] < '0' || s[0] > '9')
        return mk_err_set(err, MK_ERR_INVALID,
                          "Decoding seccomp profile failed: invalid kernel version: \"%s\", "
                          "expected \"<kernel>.<major>\"",
                          s);
    *maj = a;
    *min = b;
    *set = true;
    return 0;
}

static bool kernel_at_least(unsigned maj, unsigned min)
{
    return kernel_major > maj || (kernel_major == maj && kernel_minor >= min);
}

static bool array_has(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *e = json_string_value(v);
        if (e != NULL && strcmp(e, s) == 0)
            return true;
    }
    return false;
}

/* Does the filter's condition hold?  include: all caps held, arch listed,
 * kernel new enough.  exclude: any cap held, arch listed, kernel new enough.
 * Empty parts do not count.  *skip is set when the rule must be left out. */
static int check_filter(const json_t *f, bool include, char *const *caps, bool *skip, mk_err **err)
{
    if (!json_is_object(f))
        return 0;
    unsigned maj = 0, min = 0;
    bool kset;
    if (parse_min_kernel(json_object_get(f, "minKernel"), &maj, &min, &kset, err) < 0)
        return -1;
    const json_t *arches = json_object_get(f, "arches");
    if (json_array_size(arches) > 0 && array_has(arches, NATIVE_ARCH) != include)
        *skip = true;
    const json_t *fcaps = json_object_get(f, "caps");
    size_t i;
    json_t *c;
    json_array_foreach(fcaps, i, c)
    {
        const char *name = json_string_value(c);
        bool held = name != NULL && mk_strv_contains(caps, name);
        if (include ? !held : held)
            *skip = true;
    }
    if (kset && kernel_at_least(maj, min) != include)
        *skip = true;
    return 0;
}

static const char *const copied_keys[] = {
    "defaultAction", "defaultErrnoRet", "flags", "listenerPath", "listenerMetadata", NULL,
};

int mk_spec_seccomp_from_docker(const json_t *profile, char *const *caps, json_t **out,
                                mk_err **err)
{
    pthread_once(&once, init_once);
    if (!json_is_object(profile))
        return mk_err_set(err, MK_ERR_INVALID,
                          "Decoding seccomp profile failed: the profile is not a JSON object");
    const json_t *syscalls = json_object_get(profile, "syscalls");
    const char *def = mk_json_str(profile, "defaultAction");
    /* No default action and no rules: seccomp disabled. */
    if ((def == NULL || *def == '\0') && json_array_size(syscalls) == 0) {
        *out = NULL;
        return 0;
    }
    const json_t *arches = json_object_get(profile, "architectures");
    const json_t *arch_map = json_object_get(profile, "archMap");
    if (json_array_size(arches) > 0 && json_array_size(arch_map) > 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "both 'architectures' and 'archMap' are specified in the seccomp "
                          "profile, use either 'architectures' or 'archMap'");

    _cleanup_json_ json_t *res = json_object();
    for (size_t i = 0; copied_keys[i] != NULL; i++) {
        json_t *v = json_object_get(profile, copied_keys[i]);
        if (v != NULL && !json_is_null(v))
            json_object_set(res, copied_keys[i], v);
    }
    json_t *out_arches = json_array();
    json_object_set_new(res, "architectures", out_arches);
    json_array_extend(out_arches, (json_t *)arches);
    size_t i;
    json_t *v;
    json_array_foreach(arch_map, i, v)
    {
        const char *a = mk_json_str(v, "architecture");
        if (a == NULL || *SECCOMP_ARCH == '\0' || strcmp(a, SECCOMP_ARCH) != 0)
            continue;
        json_array_append_new(out_arches, json_string(a));
        json_array_extend(out_arches, json_object_get(v, "subArchitectures"));
        break;
    }
    if (json_array_size(out_arches) == 0)
        json_object_del(res, "architectures");

    json_t *out_calls = json_array();
    json_object_set_new(res, "syscalls", out_calls);
    json_array_foreach(syscalls, i, v)
    {
        if (!json_is_object(v))
            return mk_err_set(err, MK_ERR_INVALID,
                              "Decoding seccomp profile failed: syscalls[%zu] is not an object", i);
        bool skip = false;
        if (check_filter(json_object_get(v, "excludes"), false, caps, &skip, err) < 0 ||
            check_filter(json_object_get(v, "includes"), true, caps, &skip, err) < 0)
            return -1;
        const char *name = mk_json_str(v, "name");
        json_t *names = json_object_get(v, "names");
        if (name != NULL && *name != '\0' && json_array_size(names) > 0)
            return mk_err_set(err, MK_ERR_INVALID,
                              "both 'name' and 'names' are specified in the seccomp profile, use "
                              "either 'name' or 'names'");
        if (skip)
            continue;
        json_t *call = json_object();
        if (name != NULL && *name != '\0')
            json_object_set_new(call, "names", json_pack("[s]", name));
        else if (names != NULL)
            json_object_set(call, "names", names);
        else
            json_object_set_new(call, "names", json_array());
        static const char *const call_keys[] = {"action", "errnoRet", "args", NULL};
        for (size_t k = 0; call_keys[k] != NULL; k++) {
            json_t *cv = json_object_get(v, call_keys[k]);
            if (cv != NULL && !json_is_null(cv) && !(json_is_array(cv) && json_array_size(cv) == 0))
                json_object_set(call, call_keys[k], cv);
        }
        json_array_append_new(out_calls, call);
    }
    *out = steal_pointer(&res);
    return 0;
}

void mk_spec_seccomp_warm(void)
{
    pthread_once(&once, init_once);
}

int mk_spec_seccomp_default(char *const *caps, json_t **out, mk_err **err)
{
    pthread_once(&once, init_once);
    if (default_profile == NULL)
        return mk_err_set(err, MK_ERR_INTERNAL, "parse the built-in seccomp profile: %s",
                          default_error);
    return mk_spec_seccomp_from_docker(default_profile, caps, out, err);
}
