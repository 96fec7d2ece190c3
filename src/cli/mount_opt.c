/* mount_opt.c: the value of --mount, as the docker CLI reads it (a CSV of
 * key=value fields), into a HostConfig.Mounts entry of the Engine API. */
#include "cli/cli.h"

#include <string.h>

#include <stdarg.h>

static int bad(const char *value, mk_err **err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(const char *value, mk_err **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *why = NULL;
    if (vasprintf(&why, fmt, ap) < 0)
        abort();
    va_end(ap);
    return mk_err_set(err, MK_ERR_INVALID, "invalid argument \"%s\" for \"--mount\" flag: %s",
                      value, why);
}

static int parse_bool(const char *value, const char *field, const char *v, bool *out, mk_err **err)
{
    if (v == NULL || strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0) {
        *out = true;
        return 0;
    }
    if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0) {
        *out = false;
        return 0;
    }
    return bad(value, err, "invalid value for %s: %s", field, v);
}

/* The sub-object of m named key, made on first use. */
static json_t *sub(json_t *m, const char *key)
{
    json_t *o = json_object_get(m, key);
    if (o == NULL) {
        o = json_object();
        json_object_set_new(m, key, o);
    }
    return o;
}

int mk_cli_mount_parse(const char *value, json_t **out, mk_err **err)
{
    _cleanup_json_ json_t *m = json_object();
    _cleanup_free_ char *dup = xstrdup(value);
    bool has_volume_opts = false, has_bind_opts = false, has_tmpfs_opts = false;
    char *save = NULL;
    for (char *f = strtok_r(dup, ",", &save); f != NULL; f = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(f, '=');
        if (eq != NULL)
            *eq = '\0';
        const char *k = f, *v = eq != NULL ? eq + 1 : NULL;
        bool b;
        if (v == NULL && strcmp(k, "readonly") != 0 && strcmp(k, "ro") != 0 &&
            strcmp(k, "volume-nocopy") != 0)
            return bad(value, err, "invalid field '%s' must be a key=value pair", k);
        if (strcmp(k, "type") == 0) {
            json_object_set_new(m, "Type", json_string(v));
        } else if (strcmp(k, "source") == 0 || strcmp(k, "src") == 0) {
            json_object_set_new(m, "Source", json_string(v));
        } else if (strcmp(k, "target") == 0 || strcmp(k, "dst") == 0 ||
                   strcmp(k, "destination") == 0) {
            json_object_set_new(m, "Target", json_string(v));
        } else if (strcmp(k, "readonly") == 0 || strcmp(k, "ro") == 0) {
            if (parse_bool(value, k, v, &b, err) < 0)
                return -1;
            json_object_set_new(m, "ReadOnly", json_boolean(b));
        } else if (strcmp(k, "consistency") == 0) {
            json_object_set_new(m, "Consistency", json_string(v));
        } else if (strcmp(k, "bind-propagation") == 0) {
            has_bind_opts = true;
            json_object_set_new(sub(m, "BindOptions"), "Propagation", json_string(v));
        } else if (strcmp(k, "volume-nocopy") == 0) {
            has_volume_opts = true;
            if (parse_bool(value, k, v, &b, err) < 0)
                return -1;
            json_object_set_new(sub(m, "VolumeOptions"), "NoCopy", json_boolean(b));
        } else if (strcmp(k, "volume-label") == 0) {
            has_volume_opts = true;
            const char *e2 = strchr(v, '=');
            _cleanup_free_ char *lk = e2 ? xstrndup(v, (size_t)(e2 - v)) : xstrdup(v);
            json_object_set_new(sub(sub(m, "VolumeOptions"), "Labels"), lk,
                                json_string(e2 ? e2 + 1 : ""));
        } else if (strcmp(k, "tmpfs-size") == 0) {
            has_tmpfs_opts = true;
            int64_t size;
            mk_err *e = NULL;
            if (mk_size_parse(v, &size, &e) < 0) {
                mk_err_free(e);
                return bad(value, err, "invalid value for %s: %s", k, v);
            }
            json_object_set_new(sub(m, "TmpfsOptions"), "SizeBytes", json_integer(size));
        } else if (strcmp(k, "tmpfs-mode") == 0) {
            has_tmpfs_opts = true;
            char *end = NULL;
            unsigned long mode = strtoul(v, &end, 8);
            if (*v == '\0' || *end != '\0')
                return bad(value, err, "invalid value for %s: %s", k, v);
            json_object_set_new(sub(m, "TmpfsOptions"), "Mode", json_integer((json_int_t)mode));
        } else if (strcmp(k, "volume-driver") == 0 || strcmp(k, "volume-opt") == 0 ||
                   strcmp(k, "volume-subpath") == 0 || strcmp(k, "bind-recursive") == 0 ||
                   strcmp(k, "bind-nonrecursive") == 0 || strcmp(k, "bind-create-mountpoint") == 0 ||
                   strcmp(k, "tmpfs-option") == 0 || strcmp(k, "image-subpath") == 0) {
            return mk_err_set(err, MK_ERR_UNSUPPORTED,
                              "--mount option %s is not supported by mocker yet", k);
        } else {
            return bad(value, err, "unexpected key '%s' in '%s'", k, value + (f - dup));
        }
    }
    const char *type = mk_json_str(m, "Type");
    if (type == NULL) {
        type = "volume";
        json_object_set_new(m, "Type", json_string(type));
    }
    if (mk_json_str(m, "Target") == NULL)
        return bad(value, err, "target is required");
    if (has_volume_opts && strcmp(type, "volume") != 0)
        return bad(value, err, "cannot mix 'volume-*' options with mount type '%s'", type);
    if (has_bind_opts && strcmp(type, "bind") != 0)
        return bad(value, err, "cannot mix 'bind-*' options with mount type '%s'", type);
    if (has_tmpfs_opts && strcmp(type, "tmpfs") != 0)
        return bad(value, err, "cannot mix 'tmpfs-*' options with mount type '%s'", type);
    *out = steal_pointer(&m);
    return 0;
}
