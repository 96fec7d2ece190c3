/* events.c: the event log that `docker events` and the API's /events read.
 * One row per event; the sequence number orders them across processes. */
#include "store/internal.h"

int mk_store_event_add(struct mk_store *s, const char *type, const char *action, const char *id,
                       const json_t *attrs, mk_err **err)
{
    _cleanup_free_ char *attr_json = attrs != NULL ? mk_json_dump(attrs) : NULL;
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_EVENT_ADD, err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, mk_now_ns());
    store_bind_text(st, 2, type);
    store_bind_text(st, 3, action);
    store_bind_text(st, 4, id != NULL ? id : "");
    store_bind_text(st, 5, attr_json);
    if (store_exec_stmt(s, st, NULL, err, "record event") < 0)
        return mk_err_wrap(err, "%s %s event", type, action);
    return 0;
}
