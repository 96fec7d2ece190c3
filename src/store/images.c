/* images.c: image rows and the tag and digest references that point at them. */
#include "store/internal.h"

#include <string.h>

void mk_image_free(struct mk_image *img)
{
    if (img == NULL)
        return;
    free(img->id);
    free(img->manifest_digest);
    free(img->parent);
    json_decref(img->config);
    mk_strv_free(img->tags);
    mk_strv_free(img->digests);
    free(img);
}

void mk_image_list_free(struct mk_image **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        mk_image_free(v[i]);
    free(v);
}

/* Columns in IMAGE_COLS order (db.c). */
static struct mk_image *image_from_row(sqlite3_stmt *st)
{
    struct mk_image *img = xcalloc(1, sizeof(*img));
    img->id = store_column_strdup(st, 0);
    img->manifest_digest = store_column_strdup(st, 1);
    const char *cfg = (const char *)sqlite3_column_text(st, 2);
    if (cfg != NULL)
        img->config = json_loads(cfg, 0, NULL);
    if (img->config == NULL)
        img->config = json_object();
    img->size = sqlite3_column_int64(st, 3);
    img->created = sqlite3_column_int64(st, 4);
    img->parent = store_column_strdup(st, 5);
    return img;
}

/* The refs of one image from ST_IMAGE_TAGS or ST_IMAGE_DIGESTS; never NULL. */
static int image_refs(struct mk_store *s, enum store_stmt which, const char *id, char ***out,
                      mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, which, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, id);
    _cleanup_strv_ char **v = xcalloc(1, sizeof(char *));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        mk_strv_push(&v, (const char *)sqlite3_column_text(st, 0));
    if (rc != SQLITE_DONE)
        return store_db_err(s, err, "list image references");
    *out = steal_pointer(&v);
    return 0;
}

static int image_fill_refs(struct mk_store *s, struct mk_image *img, mk_err **err)
{
    if (image_refs(s, ST_IMAGE_TAGS, img->id, &img->tags, err) < 0 ||
        image_refs(s, ST_IMAGE_DIGESTS, img->id, &img->digests, err) < 0)
        return -1;
    return 0;
}

/* 1 and *out on one match, 0 on none, 2 on several (prefix), -1 on error. */
static int image_query_one(struct mk_store *s, enum store_stmt which, const char *key,
                           struct mk_image **out, mk_err **err)
{
    struct mk_image *img = NULL;
    {
        _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, which, err);
        if (st == NULL)
            return -1;
        store_bind_text(st, 1, key);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            return 0;
        if (rc != SQLITE_ROW)
            return store_db_err(s, err, "look up image");
        img = image_from_row(st);
        if (sqlite3_step(st) == SQLITE_ROW) {
            mk_image_free(img);
            return 2;
        }
    }
    if (image_fill_refs(s, img, err) < 0) {
        mk_image_free(img);
        return -1;
    }
    *out = img;
    return 1;
}

int mk_store_image_put(struct mk_store *s, const struct mk_image *img, mk_err **err)
{
    _cleanup_free_ char *cfg = img->config != NULL ? mk_json_dump(img->config) : xstrdup("{}");
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_IMAGE_PUT, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, img->id);
    store_bind_text(st, 2, img->manifest_digest);
    store_bind_text(st, 3, cfg);
    sqlite3_bind_int64(st, 4, img->size);
    sqlite3_bind_int64(st, 5, img->created);
    store_bind_text(st, 6, img->parent);
    return store_exec_stmt(s, st, NULL, err, "store image");
}

int mk_store_image_get_by_id(struct mk_store *s, const char *id_or_prefix, struct mk_image **out,
                             mk_err **err)
{
    const char *hex = id_or_prefix;
    if (mk_str_has_prefix(hex, "sha256:"))
        hex += 7;
    if (!mk_str_is_hex(hex) || strlen(hex) > 64)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "No such image: %s", id_or_prefix);
    _cleanup_free_ char *key = xmalloc(7 + strlen(hex) + 1);
    memcpy(key, "sha256:", 7);
    strcpy(key + 7, hex);
    int r =
        image_query_one(s, strlen(hex) == 64 ? ST_IMAGE_BY_ID : ST_IMAGE_BY_PREFIX, key, out, err);
    if (r < 0)
        return -1;
    if (r == 0)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "No such image: %s", id_or_prefix);
    if (r == 2)
        return mk_err_set(err, MK_ERR_INVALID, "multiple IDs found with provided prefix: %s",
                          id_or_prefix);
    return 0;
}

int mk_store_image_get_by_tag(struct mk_store *s, const char *ref, struct mk_image **out,
                              mk_err **err)
{
    int r = image_query_one(s, ST_IMAGE_BY_TAG, ref, out, err);
    if (r < 0)
        return -1;
    if (r == 0)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "No such image: %s", ref);
    return 0;
}

int mk_store_image_get_by_digest_ref(struct mk_store *s, const char *ref_at_digest,
                                     struct mk_image **out, mk_err **err)
{
    int r = image_query_one(s, ST_IMAGE_BY_DIGEST_REF, ref_at_digest, out, err);
    if (r < 0)
        return -1;
    if (r == 0)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "No such image: %s", ref_at_digest);
    return 0;
}

int mk_store_image_list(struct mk_store *s, struct mk_image ***out, size_t *n, mk_err **err)
{
    struct mk_image **v = NULL;
    size_t len = 0, cap = 0;
    {
        _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_IMAGE_LIST, err);
        if (st == NULL)
            return -1;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (len == cap) {
                cap = cap ? 2 * cap : 16;
                v = xrealloc(v, cap * sizeof(*v));
            }
            v[len++] = image_from_row(st);
        }
        if (rc != SQLITE_DONE) {
            mk_image_list_free(v, len);
            return store_db_err(s, err, "list images");
        }
    }
    for (size_t i = 0; i < len; i++) {
        if (image_fill_refs(s, v[i], err) < 0) {
            mk_image_list_free(v, len);
            return -1;
        }
    }
    *out = v;
    *n = len;
    return 0;
}

/* Bind ref and image id to an insert-or-move statement and run it. */
static int ref_point(struct mk_store *s, enum store_stmt which, const char *ref,
                     const char *image_id, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, which, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, ref);
    store_bind_text(st, 2, image_id);
    if (sqlite3_step(st) != SQLITE_DONE) {
        /* The foreign key on image_id is what fails for an unknown image. */
        if ((sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_CONSTRAINT)
            return mk_err_set(err, MK_ERR_NOT_FOUND, "No such image: %s", image_id);
        return store_db_err(s, err, "store reference");
    }
    return 0;
}

static int ref_delete(struct mk_store *s, enum store_stmt which, const char *ref, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, which, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, ref);
    int changes = 0;
    if (store_exec_stmt(s, st, &changes, err, "remove reference") < 0)
        return -1;
    if (changes == 0)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "No such image: %s", ref);
    return 0;
}

int mk_store_tag_set(struct mk_store *s, const char *ref, const char *image_id, mk_err **err)
{
    return ref_point(s, ST_TAG_SET, ref, image_id, err);
}

int mk_store_tag_remove(struct mk_store *s, const char *ref, mk_err **err)
{
    return ref_delete(s, ST_TAG_REMOVE, ref, err);
}

int mk_store_digest_add(struct mk_store *s, const char *ref_at_digest, const char *image_id,
                        mk_err **err)
{
    return ref_point(s, ST_DIGEST_ADD, ref_at_digest, image_id, err);
}

int mk_store_digest_remove(struct mk_store *s, const char *ref_at_digest, mk_err **err)
{
    return ref_delete(s, ST_DIGEST_REMOVE, ref_at_digest, err);
}

static int image_delete_locked(struct mk_store *s, const char *id, mk_err **err)
{
    static const enum store_stmt steps[] = {ST_TAGS_DELETE_FOR_IMAGE, ST_DIGESTS_DELETE_FOR_IMAGE,
                                            ST_IMAGE_DELETE};
    int changes = 0;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, steps[i], err);
        if (st == NULL)
            return -1;
        store_bind_text(st, 1, id);
        if (store_exec_stmt(s, st, &changes, err, "delete image") < 0)
            return -1;
    }
    if (changes == 0)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "No such image: %s", id);
    return 0;
}

int mk_store_image_delete(struct mk_store *s, const char *id, mk_err **err)
{
    bool owned;
    if (store_tx_begin(s, &owned, err) < 0)
        return -1;
    int r = image_delete_locked(s, id, err);
    return store_tx_end(s, owned, r == 0, err);
}

int mk_store_image_users(struct mk_store *s, const char *id, int *out, mk_err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, ST_IMAGE_USERS, err);
    if (st == NULL)
        return -1;
    store_bind_text(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW)
        return store_db_err(s, err, "count image users");
    *out = sqlite3_column_int(st, 0);
    return 0;
}
