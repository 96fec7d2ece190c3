/* volumes.c: the volumes table.  A volume's data lives in volumes/<name>/_data
 * (the engine makes and removes it); the row says what docker's volume inspect
 * shows, and whether it is anonymous (made for -v /path or an image VOLUME),
 * which is what prune without -a and rm -v look at. */
#include "store/internal.h"

#include <string.h>

void mk_volume_free(struct mk_volume *v)
{
    if (v == NULL)
        return;
    free(v->name);
    free(v->driver);
    json_decref(v->labels);
    json_decref(v->options);
    free(v);
}

void mk_volume_list_free(struct mk_volume **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mk_volume_free(v[i]);
    free(v);
}

static struct mk_volume *volume_row(sqlite3_stmt *st)
{
    struct mk_volume *v = xcalloc(1, sizeof(*v));
    v->name = store_column_strdup(st, 0);
    v->driver = store_column_strdup(st, 1);
    v->labels = store_column_json(st, 2, false);
    v->options = store_column_json(st, 3, false);
    v->created = sqlite3_column_int64(st, 4);
    v->anonymous = sqlite3_column_int(st, 5) != 0;
    return v;
}

int mk_store_volume_insert(struct mk_store *s, const struct mk_volume *v, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_VOLUME_INSERT, err);
    if (st == NULL)
        return -1;
    _cleanup_free_ char *labels = v->labels ? mk_json_dump(v->labels) : xstrdup("{}");
    _cleanup_free_ char *options = v->options ? mk_json_dump(v->options) : xstrdup("{}");
    store_bind_text(st, 1, v->name);
    store_bind_text(st, 2, v->driver);
    store_bind_text(st, 3, labels);
    store_bind_text(st, 4, options);
    sqlite3_bind_int64(st, 5, v->created);
    sqlite3_bind_int(st, 6, v->anonymous);
    return store_exec_stmt(s, st, NULL, err, "insert volume");
}

int mk_store_volume_get(struct mk_store *s, const char *name, struct mk_volume **out, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_VOLUME_GET, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "get %s: no such volume", name);
    if (rc != SQLITE_ROW)
        return store_db_err(s, err, "read volume");
    *out = volume_row(st);
    return 0;
}

int mk_store_volume_list(struct mk_store *s, struct mk_volume ***out, size_t *n, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_VOLUME_LIST, err);
    if (st == NULL)
        return -1;
    struct mk_volume **v = NULL;
    size_t cnt = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        v = xrealloc(v, (cnt + 1) * sizeof(*v));
        v[cnt++] = volume_row(st);
    }
    if (rc != SQLITE_DONE) {
        mk_volume_list_free(v, cnt);
        return store_db_err(s, err, "list volumes");
    }
    *out = v;
    *n = cnt;
    return 0;
}

int mk_store_volume_users(struct mk_store *s, const char *name, char ***ids, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_VOLUME_USERS, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, name);
    char **v = xcalloc(1, sizeof(*v));
    size_t cnt = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        _cleanup_free_ char *id = store_column_strdup(st, 0);
        /* A container mounting the same volume twice is one user. */
        if (cnt > 0 && strcmp(v[cnt - 1], id) == 0)
            continue;
        v = xrealloc(v, (cnt + 2) * sizeof(*v));
        v[cnt++] = steal_pointer(&id);
        v[cnt] = NULL;
    }
    if (rc != SQLITE_DONE) {
        mk_strv_free(v);
        return store_db_err(s, err, "list the users of volume");
    }
    *ids = v;
    return 0;
}

int mk_store_volume_delete(struct mk_store *s, const char *name, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_VOLUME_DELETE, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, name);
    return store_exec_stmt(s, st, NULL, err, "delete volume");
}
