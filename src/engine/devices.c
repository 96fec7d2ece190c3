/* devices.c: docker's --device and --device-cgroup-rule, from their text to
 * OCI linux.devices entries and linux.resources.devices rules.
 *
 * The syntax checks are the docker CLI's (cli/command/container/opts.go:
 * validateLinuxPath, parseLinuxDevice); the host lookups and the rule parser
 * are the daemon's (daemon/pkg/oci/devices_linux.go, oci.go).  They live in the
 * engine, not the CLI, because compose's `devices:` takes the same syntax. */
#include "engine/engine.h"
#include "engine/spec.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* docker's validDeviceMode: a non-empty set of r, w and m, each at most once. */
bool mk_spec_device_mode_valid(const char *mode)
{
    if (*mode == '\0')
        return false;
    bool seen[3] = {false, false, false};
    for (const char *c = mode; *c != '\0'; c++) {
        const char *at = strchr("rwm", *c);
        if (at == NULL || seen[at - "rwm"])
            return false;
        seen[at - "rwm"] = true;
    }
    return true;
}

int mk_device_mapping_parse(const char *spec, json_t **out, mk_err **err)
{
    size_t colons = 0;
    for (const char *p = spec; *p != '\0'; p++)
        colons += *p == ':';
    if (colons > 2 || *spec == '\0' || *spec == ':')
        return mk_err_set(err, MK_ERR_INVALID, "bad format for path: %s", spec);
    _cleanup_free_ char *dup = xstrdup(spec);
    char *parts[3] = {dup, NULL, NULL};
    for (size_t i = 1; i <= colons; i++) {
        char *c = strchr(parts[i - 1], ':');
        *c = '\0';
        parts[i] = c + 1;
    }
    /* HOST, HOST:MODE, HOST:CONTAINER or HOST:CONTAINER:MODE */
    const char *perms = "rwm";
    bool ctr_given = colons == 2 || (colons == 1 && !mk_spec_device_mode_valid(parts[1]));
    if (colons == 2 && !mk_spec_device_mode_valid(parts[2]))
        return mk_err_set(err, MK_ERR_INVALID, "bad mode specified: %s", parts[2]);
    if (colons > 0 && !(colons == 1 && ctr_given))
        perms = parts[colons];
    const char *ctr = ctr_given ? parts[1] : parts[0];
    if (*ctr != '/')
        return mk_err_set(err, MK_ERR_INVALID, "%s is not an absolute path", ctr);
    /* The CLI cleans the one path of HOST[:MODE] and the container path of
     * HOST:CONTAINER; the three-part form goes through as written. */
    _cleanup_free_ char *host = ctr_given ? xstrdup(parts[0]) : mk_spec_path_clean(parts[0]);
    _cleanup_free_ char *in_ctr = !ctr_given    ? xstrdup(host)
                                  : colons == 1 ? mk_spec_path_clean(ctr)
                                                : xstrdup(ctr);
    *out = json_pack("{s:s,s:s,s:s}", "PathOnHost", host, "PathInContainer", in_ctr,
                     "CgroupPermissions", perms);
    return 0;
}

int mk_device_cgroup_rule_parse(const char *rule, json_t **out, mk_err **err)
{
    /* ^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$ */
    const char *p = rule;
    long long num[2] = {-1, -1};
    char type = *p;
    if (type == '\0' || strchr("acb", type) == NULL || p[1] != ' ')
        goto bad;
    p += 2;
    for (int i = 0; i < 2; i++) {
        if (*p == '*') {
            p++;
        } else {
            if (*p < '0' || *p > '9')
                goto bad;
            errno = 0;
            char *end;
            num[i] = strtoll(p, &end, 10);
            if (errno != 0)
                goto bad;
            p = end;
        }
        if (*p++ != (i == 0 ? ':' : ' '))
            goto bad;
    }
    size_t n = strspn(p, "rwm");
    if (n < 1 || n > 3 || p[n] != '\0')
        goto bad;
    json_t *r = json_pack("{s:b,s:s}", "allow", 1, "type", (char[]){type, '\0'});
    json_object_set_new(r, "major", json_integer(num[0]));
    json_object_set_new(r, "minor", json_integer(num[1]));
    json_object_set_new(r, "access", json_string(p));
    *out = r;
    return 0;
bad:
    return mk_err_set(err, MK_ERR_INVALID, "invalid device cgroup rule format: '%s'", rule);
}

/* containerd's DeviceFromPath: the node at path (not followed), or 1 when it
 * is not a device, -1 on error. */
static int device_from_path(const char *host, const char *in_ctr, const char *perms, json_t *devs,
                            json_t *rules, mk_err **err)
{
    struct stat st;
    if (lstat(host, &st) < 0)
        return mk_err_sys(err, "lstat %s", host);
    const char *type;
    if (S_ISCHR(st.st_mode))
        type = "c";
    else if (S_ISBLK(st.st_mode))
        type = "b";
    else if (S_ISFIFO(st.st_mode))
        type = "p";
    else
        return 1;
    json_array_append_new(devs, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "path", in_ctr, "type",
                                          type, "major", (json_int_t)major(st.st_rdev), "minor",
                                          (json_int_t)minor(st.st_rdev), "fileMode",
                                          (json_int_t)(st.st_mode & 07777), "uid",
                                          (json_int_t)st.st_uid, "gid", (json_int_t)st.st_gid));
    /* A fifo is no device to the devices cgroup (it has no major:minor and
     * cgroup v1 rejects type p): it needs no rule to be opened. */
    if (rules != NULL && *type != 'p')
        json_array_append_new(rules, json_pack("{s:b,s:s,s:I,s:I,s:s}", "allow", 1, "type", type,
                                               "major", (json_int_t)major(st.st_rdev), "minor",
                                               (json_int_t)minor(st.st_rdev), "access", perms));
    return 0;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* The devices below a directory, recursively, in filepath.WalkDir's order. */
static void walk_devices(const char *dir, const char *in_ctr, const char *perms, json_t *devs,
                         json_t *rules)
{
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, name_cmp);
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
            _cleanup_free_ char *host = mk_path_join(dir, name);
            _cleanup_free_ char *ctr = mk_path_join(in_ctr, name);
            struct stat st;
            if (lstat(host, &st) == 0 && S_ISDIR(st.st_mode))
                walk_devices(host, ctr, perms, devs, rules);
            else
                device_from_path(host, ctr, perms, devs, rules, NULL);
        }
        free(ents[i]);
    }
    free(ents);
}

int mk_spec_devices_from_path(const char *host, const char *in_ctr, const char *perms, json_t *devs,
                              json_t *rules, mk_err **err)
{
    /* A symlink (/dev/disk/by-id/...) names the node it points to. */
    _cleanup_free_ char *resolved = realpath(host, NULL);
    const char *path = resolved != NULL ? resolved : host;
    _cleanup_err_ mk_err *cause = NULL;
    int r = device_from_path(path, in_ctr, perms, devs, rules, &cause);
    if (r == 0)
        return 0;
    size_t before = json_array_size(devs);
    struct stat st;
    if (r > 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        walk_devices(path, in_ctr, perms, devs, rules);
    if (json_array_size(devs) > before)
        return 0;
    bool missing = r < 0 && cause->errnum == ENOENT;
    /* Go spells errno strings in lower case: "no such file or directory". */
    char why[128] = "not a device node";
    if (r < 0) {
        snprintf(why, sizeof(why), "%s", strerror(cause->errnum));
        why[0] = (char)tolower((unsigned char)why[0]);
    }
    mk_err_set(err, missing ? MK_ERR_NOT_FOUND : MK_ERR_INVALID,
               "error gathering device information while adding custom device \"%s\": %s", host,
               why);
    /* docker run reports a start error about a missing file with 127. */
    if (missing && err != NULL)
        (*err)->exit_code = 127;
    return -1;
}
