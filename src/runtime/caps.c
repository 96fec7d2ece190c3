/* caps.c: capabilities through the raw syscalls (capset, prctl), no libcap.
 * Names the running kernel does not know are skipped, as runc does. */
#include "runtime/internal.h"

#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>


int rt_cap_from_name(const char *name)
{
    for (int i = 0; i < mk_cap_count(); i++)
        if (strcasecmp(name, mk_cap_name(i)) == 0)
            return i;
    return -1;
}

static int last_cap(void)
{
    static int cached = -1;
    if (cached >= 0)
        return cached;
    cached = CAP_LAST_CAP;
    char *data = NULL;
    if (mk_read_file("/proc/sys/kernel/cap_last_cap", &data, NULL, NULL) == 0) {
        int v = atoi(data);
        if (v > 0 && v < 64)
            cached = v;
        free(data);
    }
    return cached;
}

static int parse_set(const json_t *caps, const char *key, uint64_t *out, mk_err **err)
{
    *out = 0;
    const json_t *arr = json_object_get(caps, key);
    if (arr != NULL && !json_is_array(arr))
        return mk_err_set(err, MK_ERR_INVALID, "process.capabilities.%s: not an array", key);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *name = json_string_value(v);
        int c = name != NULL ? rt_cap_from_name(name) : -1;
        if (c < 0)
            return mk_err_set(err, MK_ERR_INVALID,
                              "unknown capability %s in process.capabilities.%s",
                              name != NULL ? name : "(not a string)", key);
        if (c <= last_cap())
            *out |= 1ULL << c;
    }
    return 0;
}

int rt_caps_parse(const json_t *caps, struct rt_caps *out, mk_err **err)
{
    memset(out, 0, sizeof(*out));
    if (caps == NULL || json_is_null(caps))
        return 0;
    if (parse_set(caps, "bounding", &out->bounding, err) < 0 ||
        parse_set(caps, "effective", &out->effective, err) < 0 ||
        parse_set(caps, "permitted", &out->permitted, err) < 0 ||
        parse_set(caps, "inheritable", &out->inheritable, err) < 0 ||
        parse_set(caps, "ambient", &out->ambient, err) < 0)
        return -1;
    out->set = true;
    return 0;
}

int rt_caps_drop_bounding(const struct rt_caps *c, mk_err **err)
{
    if (!c->set)
        return 0;
    int last = last_cap();
    for (int i = 0; i <= last; i++) {
        if (c->bounding & (1ULL << i))
            continue;
        if (prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
            return mk_err_sys(err, "drop %s from the bounding set", mk_cap_name(i));
    }
    return 0;
}

int rt_caps_apply(const struct rt_caps *c, mk_err **err)
{
    if (!c->set)
        return 0;
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    for (int i = 0; i < 2; i++) {
        data[i].effective = (uint32_t)(c->effective >> (32 * i));
        data[i].permitted = (uint32_t)(c->permitted >> (32 * i));
        data[i].inheritable = (uint32_t)(c->inheritable >> (32 * i));
    }
    if (syscall(SYS_capset, &hdr, data) < 0)
        return mk_err_sys(err, "capset");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return mk_err_sys(err, "clear ambient capabilities");
    for (int i = 0; i <= last_cap(); i++) {
        if (!(c->ambient & (1ULL << i)))
            continue;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
            return mk_err_sys(err, "raise ambient capability %s", mk_cap_name(i));
    }
    return 0;
}
