/* internal.h: what the store's own files share and nothing outside src/store/ sees:
 * the private part of struct mk_store (a cache of prepared statements) and the
 * helpers that run them. */
#ifndef MK_STORE_INTERNAL_H
#define MK_STORE_INTERNAL_H

#include "store/store.h"

/* Every statement the store runs, prepared on first use and kept for the life
 * of the handle.  The SQL texts live in db.c, indexed by this enum. */
enum store_stmt {
    ST_CONTAINER_INSERT,
    ST_CONTAINER_BY_ID,
    ST_CONTAINER_BY_NAME,
    ST_CONTAINER_BY_PREFIX,
    ST_CONTAINER_ID_BY_NAME,
    ST_CONTAINER_LIST,
    ST_CONTAINER_LIST_BY_IMAGE,
    ST_CONTAINER_SAVE_STATE,
    ST_CONTAINER_SAVE_CONFIG,
    ST_CONTAINER_RENAME,
    ST_CONTAINER_DELETE,
    ST_IMAGE_PUT,
    ST_IMAGE_BY_ID,
    ST_IMAGE_BY_PREFIX,
    ST_IMAGE_BY_TAG,
    ST_IMAGE_BY_DIGEST_REF,
    ST_IMAGE_LIST,
    ST_IMAGE_TAGS,
    ST_IMAGE_DIGESTS,
    ST_IMAGE_DELETE,
    ST_IMAGE_USERS,
    ST_TAG_SET,
    ST_TAG_REMOVE,
    ST_TAGS_DELETE_FOR_IMAGE,
    ST_DIGEST_ADD,
    ST_DIGEST_REMOVE,
    ST_DIGESTS_DELETE_FOR_IMAGE,
    ST_EVENT_ADD,
    ST_HEALTH_STATUS,
    ST_HEALTH_GET,
    ST_HEALTH_PUT,
    ST_EVENT_LIST,
    ST_EVENT_LAST_SEQ,
    ST_VOLUME_INSERT,
    ST_VOLUME_GET,
    ST_VOLUME_LIST,
    ST_VOLUME_DELETE,
    ST_VOLUME_USERS,
    ST_NETWORK_INSERT,
    ST_NETWORK_BY_ID,
    ST_NETWORK_BY_NAME,
    ST_NETWORK_BY_PREFIX,
    ST_NETWORK_LIST,
    ST_NETWORK_SAVE_CONFIG,
    ST_NETWORK_DELETE,
    ST_ENDPOINT_ADD,
    ST_ENDPOINT_REMOVE,
    ST_ENDPOINT_REMOVE_CONTAINER,
    ST_ENDPOINT_BY_NETWORK,
    ST_ENDPOINT_BY_CONTAINER,
    ST_COUNT
};

struct store_impl {
    struct mk_store pub;
    sqlite3_stmt *stmts[ST_COUNT];
    /* Container configs this connection parsed: id -> [text, parsed].  A
     * long-lived connection (mocker serve's) lists the same containers again
     * and again; copying a parsed config costs a fraction of parsing it. */
    json_t *config_cache;
    bool keep_configs; /* mk_store_keep_configs: off for a short-lived command */
    int wal_frames;    /* frames in the WAL after this connection's last commit */
};

static inline struct store_impl *store_impl(struct mk_store *s)
{
    return (struct store_impl *)s;
}

/* The statement ready for binding (reset, bindings cleared).  Callers declare
 * the variable with _cleanup_stmt_ so it is reset on every return path, which
 * ends the implicit read transaction it may hold. */
sqlite3_stmt *store_stmt(struct mk_store *s, enum store_stmt id, mk_err **err);
void store_stmt_resetp(sqlite3_stmt **st);
#define _cleanup_stmt_ __attribute__((cleanup(store_stmt_resetp)))

/* An error from the last sqlite call on s->db, with context. */
int store_db_err(struct mk_store *s, mk_err **err, const char *what);
/* Step a statement that returns no rows.  *changes (may be NULL) gets the number
 * of rows it changed. */
int store_exec_stmt(struct mk_store *s, sqlite3_stmt *st, int *changes, mk_err **err,
                    const char *what);

/* BEGIN IMMEDIATE unless a transaction is already open (mk_store_begin by the
 * caller); *owned says whether store_tx_end must finish it. */
int store_tx_begin(struct mk_store *s, bool *owned, mk_err **err);
/* Commit (ok) or roll back an owned transaction; returns ok ? 0 : -1 unless
 * the commit itself fails. */
int store_tx_end(struct mk_store *s, bool owned, bool ok, mk_err **err);

/* Bind a text parameter (NULL binds SQL NULL).  The text is copied. */
void store_bind_text(sqlite3_stmt *st, int idx, const char *v);
/* Column text as a new string, NULL for SQL NULL. */
char *store_column_strdup(sqlite3_stmt *st, int col);
/* Column JSON as a new object (array when array is true); an empty one for
 * SQL NULL or anything else. */
json_t *store_column_json(sqlite3_stmt *st, int col, bool array);

#endif
