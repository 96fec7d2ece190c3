/* caps.c: the capability set of a container, as docker computes it from
 * CapAdd, CapDrop and Privileged (moby's caps.TweakCapabilities). */
#include "engine/spec.h"

#include <ctype.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/syscall.h>

/* Indexed by capability number (linux/capability.h). */

/* docker's default set, in docker's order (the spec lists them this way). */
static const char *const default_caps[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
    NULL,
};

int mk_spec_cap_number(const char *name)
{
    for (int i = 0; i < mk_cap_count(); i++)
        if (strcmp(mk_cap_name(i), name) == 0)
            return i;
    return -1;
}

uint64_t mk_spec_cap_mask(char *const *caps)
{
    uint64_t mask = 0;
    for (size_t i = 0; caps != NULL && caps[i] != NULL; i++) {
        int n = mk_spec_cap_number(caps[i]);
        if (n >= 0)
            mask |= UINT64_C(1) << n;
    }
    return mask;
}

/* What moby calls "available": the capabilities this process holds (so the
 * kernel knows them too).  When capget fails, assume all, as moby does. */
static uint64_t available_caps(void)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &hdr, data) < 0)
        return mk_cap_count() >= 64 ? UINT64_MAX : (UINT64_C(1) << mk_cap_count()) - 1;
    return (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
}

/* Upper-case, add CAP_ unless "ALL", check against the known and available
 * sets (docker's NormalizeLegacyCapabilities). */
static int normalize_caps(const json_t *list, uint64_t avail, char ***out, mk_err **err)
{
    _cleanup_strv_ char **res = xcalloc(1, sizeof(char *));
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *s = json_string_value(v);
        if (s == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "capabilities must be strings");
        char *up = xmalloc(strlen(s) + 5);
        size_t n = 0;
        for (; s[n] != '\0'; n++)
            up[n] = (char)toupper((unsigned char)s[n]);
        up[n] = '\0';
        if (strcmp(up, "ALL") != 0 && !mk_str_has_prefix(up, "CAP_")) {
            memmove(up + 4, up, n + 1);
            memcpy(up, "CAP_", 4);
        }
        mk_strv_push_owned(&res, up);
        if (strcmp(up, "ALL") == 0)
            continue;
        int num = mk_spec_cap_number(up);
        if (num < 0)
            return mk_err_set(err, MK_ERR_INVALID, "unknown capability: \"%s\"", up);
        if (!(avail & (UINT64_C(1) << num)))
            return mk_err_set(err, MK_ERR_INVALID,
                              "capability not supported by your kernel or not available in the "
                              "current environment: \"%s\"",
                              up);
    }
    *out = steal_pointer(&res);
    return 0;
}

static void push_unique(char ***v, const char *s)
{
    if (!mk_strv_contains(*v, s))
        mk_strv_push(v, s);
}

int mk_spec_capabilities(const json_t *cap_add, const json_t *cap_drop, bool privileged,
                         char ***out, mk_err **err)
{
    uint64_t avail = available_caps();
    _cleanup_strv_ char **res = xcalloc(1, sizeof(char *));
    if (privileged) {
        for (int i = 0; i < mk_cap_count(); i++)
            if (avail & (UINT64_C(1) << i))
                mk_strv_push(&res, mk_cap_name(i));
        *out = steal_pointer(&res);
        return 0;
    }
    _cleanup_strv_ char **add = NULL, **drop = NULL;
    if (normalize_caps(cap_drop, avail, &drop, err) < 0 ||
        normalize_caps(cap_add, avail, &add, err) < 0)
        return -1;
    if (mk_strv_contains(add, "ALL")) {
        for (int i = 0; i < mk_cap_count(); i++)
            if ((avail & (UINT64_C(1) << i)) && !mk_strv_contains(drop, mk_cap_name(i)))
                mk_strv_push(&res, mk_cap_name(i));
    } else {
        /* Dropping ALL keeps only what is added back. */
        if (!mk_strv_contains(drop, "ALL"))
            for (size_t i = 0; default_caps[i] != NULL; i++)
                if (!mk_strv_contains(drop, default_caps[i]))
                    mk_strv_push(&res, default_caps[i]);
        for (size_t i = 0; add[i] != NULL; i++)
            push_unique(&res, add[i]);
    }
    *out = steal_pointer(&res);
    return 0;
}
