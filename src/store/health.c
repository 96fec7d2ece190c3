/* health.c: a container's State.Health (status, failing streak, the last
 * probe results), written by its monitor after each probe, read by ps and
 * inspect.  The status has a column of its own so ps never parses the log. */
#include "store/internal.h"

#include <string.h>

static int health_column(struct mk_store *s, enum store_stmt which, const char *id, char **out,
                         mk_err **err)
{
    *out = NULL;
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, which, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = store_column_strdup(st, 0);
    else if (rc != SQLITE_DONE)
        return store_db_err(s, err, "read container health");
    return 0;
}

int mk_store_health_status(struct mk_store *s, const char *id, char **out, mk_err **err)
{
    return health_column(s, ST_HEALTH_STATUS, id, out, err);
}

int mk_store_health_get(struct mk_store *s, const char *id, json_t **out, mk_err **err)
{
    _cleanup_free_ char *text = NULL;
    *out = NULL;
    if (health_column(s, ST_HEALTH_GET, id, &text, err) < 0)
        return -1;
    if (text == NULL)
        return 0;
    json_t *j = mk_json_parse(text, strlen(text), err);
    if (j == NULL)
        return mk_err_wrap(err, "container %s health", id);
    *out = j;
    return 0;
}

int mk_store_health_put(struct mk_store *s, const char *id, const json_t *health, mk_err **err)
{
    _cleanup_free_ char *text = mk_json_dump(health);
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_HEALTH_PUT, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, id);
    store_bind_text(st, 2, mk_json_str(health, "Status"));
    store_bind_text(st, 3, text);
    return store_exec_stmt(s, st, NULL, err, "save container health");
}
