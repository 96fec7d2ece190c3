/* containers.c: container rows: insert, lookup by id / name / id prefix, list,
 * state and config updates, rename, delete.  Names are unique: a taken name is
 * a CONFLICT worded as docker words it. */
#include "store/internal.h"

#include <string.h>

void mk_container_free(struct mk_container *c)
{
    if (c == NULL)
        return;
    free(c->id);
    free(c->name);
    free(c->image);
    free(c->image_id);
    json_decref(c->config);
    free(c->status);
    free(c->error);
    free(c);
}

void mk_container_list_free(struct mk_container **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        mk_container_free(v[i]);
    free(v);
}

#define CONFIG_CACHE_MAX 1024

/* The config column parsed, from the connection's cache when the text is the
 * one parsed before (a deep copy: callers change their containers' configs). */
static json_t *config_parse(struct mk_store *s, const char *id, const char *text)
{
    if (text == NULL || id == NULL)
        return NULL;
    struct store_impl *impl = store_impl(s);
    if (!impl->keep_configs) /* a command reads a config once or twice */
        return json_loads(text, 0, NULL);
    json_t *hit = json_object_get(impl->config_cache, id);
    if (hit != NULL && strcmp(json_string_value(json_array_get(hit, 0)), text) == 0)
        return json_deep_copy(json_array_get(hit, 1));
    json_t *parsed = json_loads(text, 0, NULL);
    if (parsed == NULL)
        return NULL;
    if (impl->config_cache == NULL || json_object_size(impl->config_cache) >= CONFIG_CACHE_MAX) {
        json_decref(impl->config_cache);
        impl->config_cache = json_object();
    }
    json_object_set_new(impl->config_cache, id, json_pack("[s,o]", text, json_deep_copy(parsed)));
    return parsed;
}

void mk_store_keep_configs(struct mk_store *s)
{
    store_impl(s)->keep_configs = true;
}

/* Columns in CONTAINER_COLS order (db.c). */
static struct mk_container *container_from_row(struct mk_store *s, sqlite3_stmt *st)
{
    struct mk_container *c = xcalloc(1, sizeof(*c));
    c->id = store_column_strdup(st, 0);
    c->name = store_column_strdup(st, 1);
    c->image = store_column_strdup(st, 2);
    c->image_id = store_column_strdup(st, 3);
    c->created = sqlite3_column_int64(st, 4);
    c->config = config_parse(s, c->id, (const char *)sqlite3_column_text(st, 5));
    if (c->config == NULL)
        c->config = json_object();
    c->status = store_column_strdup(st, 6);
    c->pid = (pid_t)sqlite3_column_int64(st, 7);
    c->pid_start = (uint64_t)sqlite3_column_int64(st, 8);
    c->monitor_pid = (pid_t)sqlite3_column_int64(st, 9);
    c->monitor_start = (uint64_t)sqlite3_column_int64(st, 10);
    c->exit_code = sqlite3_column_int(st, 11);
    c->oom_killed = sqlite3_column_int(st, 12) != 0;
    c->started_at = sqlite3_column_int64(st, 13);
    c->finished_at = sqlite3_column_int64(st, 14);
    c->error = store_column_strdup(st, 15);
    c->restart_count = sqlite3_column_int(st, 16);
    return c;
}

/* Bind the state columns of c at ?first .. ?first+10 (save_state order). */
static void bind_state(sqlite3_stmt *st, int first, const struct mk_container *c)
{
    store_bind_text(st, first, c->status != NULL ? c->status : "created");
    sqlite3_bind_int64(st, first + 1, c->pid);
    sqlite3_bind_int64(st, first + 2, (sqlite3_int64)c->pid_start);
    sqlite3_bind_int64(st, first + 3, c->monitor_pid);
    sqlite3_bind_int64(st, first + 4, (sqlite3_int64)c->monitor_start);
    sqlite3_bind_int(st, first + 5, c->exit_code);
    sqlite3_bind_int(st, first + 6, c->oom_killed ? 1 : 0);
    sqlite3_bind_int64(st, first + 7, c->started_at);
    sqlite3_bind_int64(st, first + 8, c->finished_at);
    store_bind_text(st, first + 9, c->error);
    sqlite3_bind_int(st, first + 10, c->restart_count);
}

/* CONFLICT with docker's wording if name belongs to a container other than self_id. */
static int check_name_free(struct mk_store *s, const char *name, const char *self_id, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_CONTAINER_ID_BY_NAME, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return store_db_err(s, err, "look up container name");
    const char *owner = (const char *)sqlite3_column_text(st, 0);
    if (self_id != NULL && owner != NULL && strcmp(owner, self_id) == 0)
        return 0;
    return mk_err_set(err, MK_ERR_CONFLICT,
                      "Conflict. The container name \"/%s\" is already in use by container "
                      "\"%s\". You have to remove (or rename) that container to be able to "
                      "reuse that name.",
                      name, owner != NULL ? owner : "");
}

static int container_insert_locked(struct mk_store *s, const struct mk_container *c,
                                   const char *name, mk_err **err)
{
    if (check_name_free(s, name, NULL, err) < 0)
        return -1;
    _cleanup_free_ char *cfg = c->config != NULL ? mk_json_dump(c->config) : xstrdup("{}");
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_CONTAINER_INSERT, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, c->id);
    store_bind_text(st, 2, name);
    store_bind_text(st, 3, c->image != NULL ? c->image : "");
    store_bind_text(st, 4, c->image_id != NULL ? c->image_id : "");
    sqlite3_bind_int64(st, 5, c->created);
    store_bind_text(st, 6, cfg);
    bind_state(st, 7, c);
    return store_exec_stmt(s, st, NULL, err, "insert container");
}

int mk_store_container_insert(struct mk_store *s, const struct mk_container *c, mk_err **err)
{
    const char *name = c->name[0] == '/' ? c->name + 1 : c->name;
    bool owned;
    if (store_tx_begin(s, &owned, err) < 0)
        return -1;
    int r = container_insert_locked(s, c, name, err);
    return store_tx_end(s, owned, r == 0, err);
}

/* Run a lookup statement bound to key; 1 and *out on a single match, 0 on none,
 * 2 when a prefix matches more than one row, -1 on error. */
static int container_query_one(struct mk_store *s, enum store_stmt which, const char *key,
                               struct mk_container **out, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, which, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return store_db_err(s, err, "look up container");
    struct mk_container *c = container_from_row(s, st);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        mk_container_free(c);
        return 2;
    }
    *out = c;
    return 1;
}

int mk_store_container_get(struct mk_store *s, const char *ref, struct mk_container **out,
                           mk_err **err)
{
    if (ref == NULL || *ref == '\0')
        return mk_err_set(err, MK_ERR_NOT_FOUND, "No such container: %s", ref ? ref : "");
    struct mk_container *c = NULL;
    int r = container_query_one(s, ST_CONTAINER_BY_ID, ref, &c, err);
    if (r == 0)
        r = container_query_one(s, ST_CONTAINER_BY_NAME, ref[0] == '/' ? ref + 1 : ref, &c, err);
    if (r == 0 && mk_str_is_hex(ref))
        r = container_query_one(s, ST_CONTAINER_BY_PREFIX, ref, &c, err);
    if (r < 0)
        return -1;
    if (r == 0)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "No such container: %s", ref);
    if (r == 2)
        return mk_err_set(err, MK_ERR_INVALID, "multiple IDs found with provided prefix: %s", ref);
    *out = c;
    return 0;
}

static int container_list_query(struct mk_store *s, enum store_stmt which, const char *key,
                                struct mk_container ***out, size_t *n, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, which, err);
    if (st == NULL)
        return -1;
    if (key != NULL)
        store_bind_text(st, 1, key);
    struct mk_container **v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? 2 * cap : 16;
            v = xrealloc(v, cap * sizeof(*v));
        }
        v[len++] = container_from_row(s, st);
    }
    if (rc != SQLITE_DONE) {
        mk_container_list_free(v, len);
        return store_db_err(s, err, "list containers");
    }
    *out = v;
    *n = len;
    return 0;
}

int mk_store_container_list(struct mk_store *s, struct mk_container ***out, size_t *n, mk_err **err)
{
    return container_list_query(s, ST_CONTAINER_LIST, NULL, out, n, err);
}

int mk_store_container_list_by_image(struct mk_store *s, const char *image_id,
                                     struct mk_container ***out, size_t *n, mk_err **err)
{
    return container_list_query(s, ST_CONTAINER_LIST_BY_IMAGE, image_id, out, n, err);
}

/* Run an UPDATE/DELETE keyed by container id; NOT_FOUND when no row matched. */
static int container_update(struct mk_store *s, sqlite3_stmt *st, const char *id, mk_err **err,
                            const char *what)
{
    int changes = 0;
    if (store_exec_stmt(s, st, &changes, err, what) < 0)
        return -1;
    if (changes == 0)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "No such container: %s", id);
    return 0;
}

int mk_store_container_save_state(struct mk_store *s, const struct mk_container *c, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_CONTAINER_SAVE_STATE, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, c->id);
    bind_state(st, 2, c);
    return container_update(s, st, c->id, err, "save container state");
}

int mk_store_container_save_config(struct mk_store *s, const char *id, const json_t *config,
                                   mk_err **err)
{
    _cleanup_free_ char *cfg = mk_json_dump(config);
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_CONTAINER_SAVE_CONFIG, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, id);
    store_bind_text(st, 2, cfg);
    return container_update(s, st, id, err, "save container config");
}

static int container_rename_locked(struct mk_store *s, const char *id, const char *name,
                                   mk_err **err)
{
    if (check_name_free(s, name, id, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_CONTAINER_RENAME, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, id);
    store_bind_text(st, 2, name);
    return container_update(s, st, id, err, "rename container");
}

int mk_store_container_rename(struct mk_store *s, const char *id, const char *name, mk_err **err)
{
    if (name[0] == '/')
        name++;
    bool owned;
    if (store_tx_begin(s, &owned, err) < 0)
        return -1;
    int r = container_rename_locked(s, id, name, err);
    return store_tx_end(s, owned, r == 0, err);
}

void mk_store_container_prepare(struct mk_store *s)
{
    static const enum store_stmt ids[] = {ST_CONTAINER_SAVE_STATE, ST_EVENT_ADD,
                                          ST_CONTAINER_DELETE};
    for (size_t i = 0; i < sizeof(ids) / sizeof(*ids); i++)
        store_stmt(s, ids[i], NULL);
}

int mk_store_container_delete(struct mk_store *s, const char *id, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_CONTAINER_DELETE, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, id);
    return container_update(s, st, id, err, "delete container");
}
