/* networks.c: the networks table (docker's networks: a name, a driver and a
 * config object) and the endpoints table (a container's lease of an address
 * on a network).  Names are unique and resolved as dockerd resolves them; an
 * address is leased to one container of a network at a time, which the
 * table's UNIQUE constraint enforces across every process writing the store. */
#include "store/internal.h"

#include <string.h>

void mk_network_free(struct mk_network *n)
{
    if (n == NULL)
        return;
    free(n->id);
    free(n->name);
    free(n->driver);
    json_decref(n->config);
    free(n);
}

void mk_network_list_free(struct mk_network **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mk_network_free(v[i]);
    free(v);
}

/* Columns in NETWORK_COLS order (db.c). */
static struct mk_network *network_row(sqlite3_stmt *st)
{
    struct mk_network *n = xcalloc(1, sizeof(*n));
    n->id = store_column_strdup(st, 0);
    n->name = store_column_strdup(st, 1);
    n->driver = store_column_strdup(st, 2);
    n->created = sqlite3_column_int64(st, 3);
    n->config = store_column_json(st, 4, false);
    return n;
}

int mk_store_network_insert(struct mk_store *s, const struct mk_network *n, mk_err **err)
{
    _cleanup_free_ char *cfg = n->config != NULL ? mk_json_dump(n->config) : xstrdup("{}");
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_NETWORK_INSERT, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, n->id);
    store_bind_text(st, 2, n->name);
    store_bind_text(st, 3, n->driver);
    sqlite3_bind_int64(st, 4, n->created);
    store_bind_text(st, 5, cfg);
    if (sqlite3_step(st) == SQLITE_DONE)
        return 0;
    if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE &&
        strstr(sqlite3_errmsg(s->db), "networks.name") != NULL)
        return mk_err_set(err, MK_ERR_CONFLICT, "network with name %s already exists", n->name);
    return store_db_err(s, err, "insert network");
}

/* The number of rows of a lookup by key, the first one in *out. */
static int network_query(struct mk_store *s, enum store_stmt which, const char *key,
                         struct mk_network **out, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, which, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, key);
    int rc, count = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (count++ == 0)
            *out = network_row(st);
    if (rc == SQLITE_DONE)
        return count;
    if (count > 0) {
        mk_network_free(*out);
        *out = NULL;
    }
    return store_db_err(s, err, "look up network");
}

int mk_store_network_get(struct mk_store *s, const char *ref, struct mk_network **out, mk_err **err)
{
    struct mk_network *n = NULL;
    int r = 0;
    if (ref != NULL && *ref != '\0') {
        r = network_query(s, ST_NETWORK_BY_ID, ref, &n, err);
        if (r == 0)
            r = network_query(s, ST_NETWORK_BY_NAME, ref, &n, err);
        if (r == 0 && mk_str_is_hex(ref))
            r = network_query(s, ST_NETWORK_BY_PREFIX, ref, &n, err);
    }
    if (r < 0)
        return -1;
    if (r == 0)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "network %s not found", ref ? ref : "");
    if (r > 1) {
        mk_network_free(n);
        return mk_err_set(err, MK_ERR_INVALID,
                          "network %s is ambiguous (%d matches found based on ID prefix)", ref, r);
    }
    *out = n;
    return 0;
}

int mk_store_network_list(struct mk_store *s, struct mk_network ***out, size_t *n, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_NETWORK_LIST, err);
    if (st == NULL)
        return -1;
    struct mk_network **v = NULL;
    size_t cnt = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        v = xrealloc(v, (cnt + 1) * sizeof(*v));
        v[cnt++] = network_row(st);
    }
    if (rc != SQLITE_DONE) {
        mk_network_list_free(v, cnt);
        return store_db_err(s, err, "list networks");
    }
    *out = v;
    *n = cnt;
    return 0;
}

/* An UPDATE or DELETE of one network by id: NOT_FOUND when there is none. */
static int network_change(struct mk_store *s, sqlite3_stmt *st, const char *id, mk_err **err,
                          const char *what)
{
    int changes = 0;
    if (store_exec_stmt(s, st, &changes, err, what) < 0)
        return -1;
    if (changes == 0)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "network %s not found", id);
    return 0;
}

int mk_store_network_save_config(struct mk_store *s, const char *id, const json_t *config,
                                 mk_err **err)
{
    _cleanup_free_ char *cfg = mk_json_dump(config);
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_NETWORK_SAVE_CONFIG, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, id);
    store_bind_text(st, 2, cfg);
    return network_change(s, st, id, err, "save network config");
}

int mk_store_network_delete(struct mk_store *s, const char *id, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_NETWORK_DELETE, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, id);
    return network_change(s, st, id, err, "delete network");
}

/* ---- endpoints ---- */

void mk_net_endpoint_free(struct mk_net_endpoint *ep)
{
    if (ep == NULL)
        return;
    free(ep->network_id);
    free(ep->container_id);
    free(ep->mac);
    json_decref(ep->aliases);
    free(ep);
}

void mk_net_endpoint_list_free(struct mk_net_endpoint **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mk_net_endpoint_free(v[i]);
    free(v);
}

int mk_store_endpoint_add(struct mk_store *s, const struct mk_net_endpoint *ep, mk_err **err)
{
    _cleanup_free_ char *aliases = ep->aliases ? mk_json_dump(ep->aliases) : xstrdup("[]");
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_ENDPOINT_ADD, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, ep->network_id);
    store_bind_text(st, 2, ep->container_id);
    sqlite3_bind_int64(st, 3, ep->ip);
    store_bind_text(st, 4, ep->mac != NULL ? ep->mac : "");
    store_bind_text(st, 5, aliases);
    if (sqlite3_step(st) == SQLITE_DONE)
        return 0;
    int code = sqlite3_extended_errcode(s->db);
    const char *msg = sqlite3_errmsg(s->db);
    if (code == SQLITE_CONSTRAINT_UNIQUE && strstr(msg, "endpoints.ip") != NULL)
        return mk_err_set(err, MK_ERR_CONFLICT, "Address already in use");
    if (code == SQLITE_CONSTRAINT_PRIMARYKEY)
        return mk_err_set(err, MK_ERR_CONFLICT,
                          "container %s already has an endpoint on network %s", ep->container_id,
                          ep->network_id);
    return store_db_err(s, err, "add endpoint");
}

int mk_store_endpoint_remove(struct mk_store *s, const char *network_id, const char *container_id,
                             mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st =
        store_stmt(s, network_id != NULL ? ST_ENDPOINT_REMOVE : ST_ENDPOINT_REMOVE_CONTAINER, err);
    if (st == NULL)
        return -1;
    if (network_id != NULL) {
        store_bind_text(st, 1, network_id);
        store_bind_text(st, 2, container_id);
    } else {
        store_bind_text(st, 1, container_id);
    }
    return store_exec_stmt(s, st, NULL, err, "remove endpoint");
}

static int endpoint_list(struct mk_store *s, enum store_stmt which, const char *key,
                         struct mk_net_endpoint ***out, size_t *n, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, which, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, key);
    struct mk_net_endpoint **v = NULL;
    size_t cnt = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct mk_net_endpoint *ep = xcalloc(1, sizeof(*ep));
        ep->network_id = store_column_strdup(st, 0);
        ep->container_id = store_column_strdup(st, 1);
        ep->ip = (uint32_t)sqlite3_column_int64(st, 2);
        ep->mac = store_column_strdup(st, 3);
        ep->aliases = store_column_json(st, 4, true);
        v = xrealloc(v, (cnt + 1) * sizeof(*v));
        v[cnt++] = ep;
    }
    if (rc != SQLITE_DONE) {
        mk_net_endpoint_list_free(v, cnt);
        return store_db_err(s, err, "list endpoints");
    }
    *out = v;
    *n = cnt;
    return 0;
}

int mk_store_endpoint_list_by_network(struct mk_store *s, const char *network_id,
                                      struct mk_net_endpoint ***out, size_t *n, mk_err **err)
{
    return endpoint_list(s, ST_ENDPOINT_BY_NETWORK, network_id, out, n, err);
}

int mk_store_endpoint_list_by_container(struct mk_store *s, const char *container_id,
                                        struct mk_net_endpoint ***out, size_t *n, mk_err **err)
{
    return endpoint_list(s, ST_ENDPOINT_BY_CONTAINER, container_id, out, n, err);
}
