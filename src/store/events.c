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

/* One batch of at most the statement's LIMIT rows; 1 if the batch was full. */
static int event_batch(struct mk_store *s, int64_t *seq, int64_t since_ns, int64_t until_ns,
                       int (*fn)(void *ctx, const struct mk_event *ev), void *ctx, bool *stop,
                       mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_EVENT_LIST, err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, *seq);
    sqlite3_bind_int64(st, 2, since_ns);
    sqlite3_bind_int64(st, 3, until_ns);
    int rows = 0, rc = SQLITE_DONE;
    while (!*stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rows++;
        const char *attrs_text = (const char *)sqlite3_column_text(st, 5);
        _cleanup_json_ json_t *attrs = attrs_text ? json_loads(attrs_text, 0, NULL) : NULL;
        if (!json_is_object(attrs)) {
            json_decref(attrs);
            attrs = json_object();
        }
        struct mk_event ev = {
            .seq = sqlite3_column_int64(st, 0),
            .time_ns = sqlite3_column_int64(st, 1),
            .type = (const char *)sqlite3_column_text(st, 2),
            .action = (const char *)sqlite3_column_text(st, 3),
            .actor_id = (const char *)sqlite3_column_text(st, 4),
            .attrs = attrs,
        };
        *seq = ev.seq;
        if (fn(ctx, &ev) < 0)
            *stop = true;
    }
    if (!*stop && rc != SQLITE_DONE)
        return store_db_err(s, err, "read events");
    return rows == 1000 ? 1 : 0;
}

int mk_store_event_list(struct mk_store *s, int64_t after_seq, int64_t since_ns, int64_t until_ns,
                        int (*fn)(void *ctx, const struct mk_event *ev), void *ctx,
                        int64_t *last_seq, mk_err **err)
{
    int64_t seq = after_seq;
    bool stop = false;
    int r;
    /* In batches: the statement's read transaction ends between them, so a
     * long listing never holds the WAL back for writers. */
    while ((r = event_batch(s, &seq, since_ns, until_ns, fn, ctx, &stop, err)) == 1 && !stop)
        ;
    if (r < 0)
        return -1;
    *last_seq = seq;
    return 0;
}

int64_t mk_store_event_last_seq(struct mk_store *s)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_EVENT_LAST_SEQ, NULL);
    if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
        return 0;
    return sqlite3_column_int64(st, 0);
}
