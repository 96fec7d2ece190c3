/* volume.c: docker's volumes with the "local" driver: create, inspect, rm,
 * prune, and what run/create need (a volume made on first use, the data
 * directory, the users).  A volume's data is volumes/<name>/_data under the
 * store's root; its row in the store says the rest. */
#include "engine/engine.h"
#include "engine/internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* docker's local driver: [a-zA-Z0-9][a-zA-Z0-9_.-]+, which is also what keeps
 * a name from leaving volumes/ (no '/', and ".", ".." start with a dot). */
bool mk_volume_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n < 2 || !(isalnum((unsigned char)name[0])))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && strchr("_.-", name[i]) == NULL)
            return false;
    return true;
}

static int name_error(const char *name, mk_err **err)
{
    return mk_err_set(err, MK_ERR_INVALID,
                      "create %s: \"%s\" includes invalid characters for a local volume name, "
                      "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a "
                      "host directory, use absolute path",
                      name, name);
}

/* The bind form of the local driver's options (type=none o=bind device=DIR)
 * is a bind of DIR wherever the volume is mounted; what would mount a
 * filesystem (type=tmpfs, nfs, a block device...) is refused. */
static int check_options(const char *name, const json_t *opts, mk_err **err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)opts, key, v)
    {
        if (strcmp(key, "type") != 0 && strcmp(key, "device") != 0 && strcmp(key, "o") != 0 &&
            strcmp(key, "size") != 0)
            return mk_err_set(err, MK_ERR_INVALID, "create %s: invalid option: \"%s\"", name, key);
    }
    if (json_object_size(opts) == 0)
        return 0;
    if (mk_volume_bind_device(opts) == NULL)
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "create %s: mocker's local driver binds a directory (-o type=none -o "
                          "o=bind -o device=DIR) but does not mount filesystems (type, size and "
                          "other o= options) yet",
                          name);
    return 0;
}

const char *mk_volume_bind_device(const json_t *opts)
{
    const char *o = mk_json_str(opts, "o"), *device = mk_json_str(opts, "device");
    if (o == NULL || device == NULL || *device != '/' || json_object_get(opts, "size") != NULL)
        return NULL;
    const char *type = mk_json_str(opts, "type");
    if (type != NULL && strcmp(type, "none") != 0 && strcmp(type, "bind") != 0)
        return NULL;
    bool bind = false;
    _cleanup_free_ char *dup = xstrdup(o);
    char *save = NULL;
    for (char *t = strtok_r(dup, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "bind") == 0 || strcmp(t, "rbind") == 0)
            bind = true;
        else
            return NULL;
    }
    return bind ? device : NULL;
}

char *mk_volume_data_path(struct mk_engine *e, const char *name)
{
    return xasprintf("%s/volumes/%s/_data", e->store->root, name);
}

static void volume_event(struct mk_engine *e, const char *action, const char *name,
                         const char *driver)
{
    _cleanup_json_ json_t *attrs = json_pack("{s:s}", "driver", driver);
    mk_err *ignored = NULL;
    if (mk_store_event_add(e->store, "volume", action, name, attrs, &ignored) < 0)
        mk_err_free(ignored);
}

int mk_volume_create(struct mk_engine *e, const struct mk_volume_create_opts *o,
                     struct mk_volume **out, mk_err **err)
{
    const char *driver = o->driver != NULL && *o->driver != '\0' ? o->driver : "local";
    _cleanup_free_ char *random = NULL;
    const char *name = o->name;
    if (name == NULL || *name == '\0')
        name = random = mk_random_hex(64);
    if (strcmp(driver, "local") != 0)
        return mk_err_set(err, MK_ERR_NOT_FOUND,
                          "create %s: error looking up volume plugin %s: plugin \"%s\" not found",
                          name, driver, driver);
    if (strlen(name) < 2 && isalnum((unsigned char)name[0]))
        return mk_err_set(err, MK_ERR_INVALID,
                          "create %s: volume name is too short, names should be at least two "
                          "alphanumeric characters",
                          name);
    if (!mk_volume_name_valid(name))
        return name_error(name, err);
    if (check_options(name, o->options, err) < 0)
        return -1;
    /* One writer at a time from the look-up to the row (BEGIN IMMEDIATE):
     * the directory of a name without a row can then only be what a crashed
     * remove left, which a new volume must not inherit. */
    if (mk_store_begin(e->store, err) < 0)
        return -1;
    struct mk_volume *old = NULL;
    if (mk_store_volume_get(e->store, name, &old, NULL) == 0) {
        mk_store_rollback(e->store);
        /* docker hands back the volume that already has the name */
        *out = old;
        return 0;
    }
    _cleanup_free_ char *top = xasprintf("%s/volumes/%s", e->store->root, name);
    mk_err *stale = NULL;
    if (mk_rm_rf(top, &stale) < 0)
        mk_err_free(stale);
    _cleanup_free_ char *data = mk_volume_data_path(e, name);
    struct mk_volume v = {
        .name = (char *)name,
        .driver = (char *)driver,
        .labels = o->labels,
        .options = o->options,
        .created = mk_now_ns(),
        .anonymous = o->anonymous,
    };
    if (mk_mkdir_p(data, 0755, err) < 0 || mk_store_volume_insert(e->store, &v, err) < 0 ||
        mk_store_commit(e->store, err) < 0) {
        mk_store_rollback(e->store);
        return mk_err_wrap(err, "create %s", name);
    }
    volume_event(e, "create", name, driver);
    return mk_store_volume_get(e->store, name, out, err);
}

int mk_volume_get(struct mk_engine *e, const char *name, struct mk_volume **out, mk_err **err)
{
    return mk_store_volume_get(e->store, name, out, err);
}

static char *created_string(int64_t ns)
{
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    localtime_r(&t, &tm);
    char buf[64], off[40];
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    long gmtoff = tm.tm_gmtoff;
    if (gmtoff == 0)
        return xasprintf("%sZ", buf);
    snprintf(off, sizeof(off), "%c%02ld:%02ld", gmtoff < 0 ? '-' : '+', labs(gmtoff) / 3600,
             labs(gmtoff) % 3600 / 60);
    return xasprintf("%s%s", buf, off);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *mk_engine_json_sorted(const json_t *obj)
{
    size_t n = json_object_size(obj), i = 0;
    const char **keys = xcalloc(n + 1, sizeof(*keys));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
        keys[i++] = k;
    qsort(keys, n, sizeof(*keys), cmp_str);
    json_t *out = json_object();
    for (i = 0; i < n; i++)
        json_object_set(out, keys[i], json_object_get(obj, keys[i]));
    free(keys);
    return out;
}

json_t *mk_volume_inspect_json(struct mk_engine *e, const struct mk_volume *v)
{
    _cleanup_free_ char *created = created_string(v->created);
    _cleanup_free_ char *mountpoint = mk_volume_data_path(e, v->name);
    /* docker shows Options as null when the volume has none */
    json_t *opts = json_object_size(v->options) > 0 ? mk_engine_json_sorted(v->options) : json_null();
    return json_pack("{s:s,s:s,s:o,s:s,s:s,s:o,s:s}", "CreatedAt", created, "Driver", v->driver,
                     "Labels", mk_engine_json_sorted(v->labels), "Mountpoint", mountpoint, "Name", v->name, "Options",
                     opts, "Scope", "local");
}

/* Remove the row, then the directory, in that order: a crash between the two
 * leaves a directory no volume names, never a volume without its data. */
static int volume_remove_locked(struct mk_engine *e, const char *name, mk_err **err)
{
    _cleanup_strv_ char **users = NULL;
    if (mk_store_begin(e->store, err) < 0)
        return -1;
    if (mk_store_volume_users(e->store, name, &users, err) < 0) {
        mk_store_rollback(e->store);
        return -1;
    }
    if (users[0] != NULL) {
        mk_store_rollback(e->store);
        _cleanup_free_ char *list = mk_strv_join(users, ", ");
        return mk_err_set(err, MK_ERR_CONFLICT, "remove %s: volume is in use - [%s]", name, list);
    }
    struct mk_volume *v = NULL;
    if (mk_store_volume_get(e->store, name, &v, err) < 0 ||
        mk_store_volume_delete(e->store, name, err) < 0 || mk_store_commit(e->store, err) < 0) {
        mk_store_rollback(e->store);
        mk_volume_free(v);
        return -1;
    }
    _cleanup_free_ char *dir = xasprintf("%s/volumes/%s", e->store->root, name);
    mk_err *ignored = NULL;
    if (mk_rm_rf(dir, &ignored) < 0)
        mk_err_free(ignored);
    volume_event(e, "destroy", name, v->driver);
    mk_volume_free(v);
    return 0;
}

int mk_volume_discard(struct mk_engine *e, const char *name, mk_err **err)
{
    return volume_remove_locked(e, name, err);
}

int mk_volume_remove(struct mk_engine *e, const char *name, bool force, mk_err **err)
{
    _cleanup_close_ int lock = mk_store_lock_volumes(e->store, true, err);
    if (lock < 0)
        return -1;
    if (volume_remove_locked(e, name, err) < 0) {
        if (force && (*err)->kind == MK_ERR_NOT_FOUND) {
            mk_err_clear(err);
            return 0;
        }
        return -1;
    }
    return 0;
}

/* label=k, label=k=v, label!=...: as container prune's filter. */
static bool label_matches(const json_t *labels, const char *want)
{
    const char *eq = strchr(want, '=');
    if (eq == NULL)
        return json_object_get(labels, want) != NULL;
    _cleanup_free_ char *k = xstrndup(want, (size_t)(eq - want));
    const char *have = mk_json_str(labels, k);
    return have != NULL && strcmp(have, eq + 1) == 0;
}

bool mk_volume_labels_match(const json_t *labels, char *const *want, char *const *not_want)
{
    for (size_t i = 0; want != NULL && want[i] != NULL; i++)
        if (!label_matches(labels, want[i]))
            return false;
    for (size_t i = 0; not_want != NULL && not_want[i] != NULL; i++)
        if (label_matches(labels, not_want[i]))
            return false;
    return true;
}

int mk_volume_prune(struct mk_engine *e, bool all, char *const *labels, char *const *not_labels,
                    char ***names, int64_t *reclaimed, mk_err **err)
{
    struct mk_volume **v = NULL;
    size_t n = 0;
    _cleanup_close_ int lock = mk_store_lock_volumes(e->store, true, err);
    if (lock < 0 || mk_store_volume_list(e->store, &v, &n, err) < 0)
        return -1;
    char **out = xcalloc(1, sizeof(*out));
    int64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if ((!all && !v[i]->anonymous) ||
            !mk_volume_labels_match(v[i]->labels, labels, not_labels))
            continue;
        _cleanup_free_ char *data = mk_volume_data_path(e, v[i]->name);
        int64_t size = mk_dir_size(data);
        mk_err *busy = NULL;
        /* in use (or gone meanwhile): not ours to prune */
        if (volume_remove_locked(e, v[i]->name, &busy) < 0) {
            mk_err_free(busy);
            continue;
        }
        bytes += size > 0 ? size : 0;
        mk_strv_push(&out, v[i]->name);
    }
    mk_volume_list_free(v, n);
    *names = out;
    *reclaimed = bytes;
    return 0;
}
