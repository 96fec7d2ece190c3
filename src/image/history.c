/* history.c: docker history's data: the image config's history entries, each
 * with the size of the layer it made, and the ids of the images they belong
 * to as far as the local parent chain (commit's) knows them.  The same rows
 * dockerd's ImageHistory returns. */
#include "image/image.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Go's zero time.Time as Unix seconds: what docker reports for an entry
 * without "created". */
#define GO_ZERO_TIME_UNIX (-62135596800LL)

struct size_walk {
    int64_t total;
    /* (inode, size) of files with several links, each counted once at the end */
    struct linked {
        ino_t ino;
        int64_t size;
    } * linked;
    size_t n, cap;
};

static int cmp_linked(const void *a, const void *b)
{
    ino_t x = ((const struct linked *)a)->ino, y = ((const struct linked *)b)->ino;
    return x < y ? -1 : x > y;
}

/* Sum the sizes under the directory dfd (consumed). */
static int walk_size(int dfd, struct size_walk *w, mk_err **err)
{
    _cleanup_closedir_ DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return mk_err_sys(err, "read directory");
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return mk_err_sys(err, "stat %s", de->d_name);
        if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0)
                return mk_err_sys(err, "open %s", de->d_name);
            if (walk_size(sub, w, err) < 0)
                return mk_err_wrap(err, "%s", de->d_name);
            continue;
        }
        if (st.st_size == 0)
            continue;
        if (st.st_nlink > 1) {
            if (w->n == w->cap) {
                w->cap = w->cap ? w->cap * 2 : 16;
                w->linked = xrealloc(w->linked, w->cap * sizeof(*w->linked));
            }
            w->linked[w->n++] = (struct linked){st.st_ino, (int64_t)st.st_size};
            continue;
        }
        w->total += (int64_t)st.st_size;
    }
    return 0;
}

/* docker's size of a layer (moby's directory.Size over the layer's diff):
 * every non-directory's lstat size (a symlink counts its target's length), a
 * hard-linked file once. */
static int layer_size(struct mk_store *s, const char *chain_id, int64_t *out, mk_err **err)
{
    _cleanup_free_ char *dir = mk_store_layer_dir(s, chain_id);
    _cleanup_free_ char *diff = dir != NULL ? mk_path_join(dir, "diff") : NULL;
    if (diff == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "invalid layer %s", chain_id);
    int fd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return mk_err_sys(err, "layer %s", chain_id);
    struct size_walk w = {0};
    int r = walk_size(fd, &w, err);
    if (r == 0) {
        qsort(w.linked, w.n, sizeof(*w.linked), cmp_linked);
        for (size_t i = 0; i < w.n; i++)
            if (i == 0 || w.linked[i].ino != w.linked[i - 1].ino)
                w.total += w.linked[i].size;
        *out = w.total;
    }
    free(w.linked);
    return r < 0 ? mk_err_wrap(err, "layer %s", chain_id) : 0;
}

/* Familiar "name:tag" references of an image (no digests), or null. */
static json_t *image_tags(const struct mk_image *img)
{
    if (img->tags == NULL || img->tags[0] == NULL)
        return json_null();
    json_t *tags = json_array();
    for (size_t i = 0; img->tags[i]; i++) {
        _cleanup_free_ char *t = mk_ref_familiarize(img->tags[i]);
        json_array_append_new(tags, json_string(t));
    }
    return tags;
}

/* Fill in the ids: the image's for the newest row, then its parent's (the
 * image a commit started from) and so on while the chain is stored; the rows
 * below keep "<missing>" as docker shows them. */
static void fill_ids(struct mk_store *s, const struct mk_image *img, json_t *rows)
{
    struct mk_image *owned = NULL;
    const struct mk_image *cur = img;
    for (size_t i = 0; i < json_array_size(rows) && cur != NULL; i++) {
        json_t *row = json_array_get(rows, i);
        json_object_set_new(row, "Id", json_string(cur->id));
        json_object_set_new(row, "Tags", image_tags(cur));
        struct mk_image *parent = NULL;
        _cleanup_err_ mk_err *gone = NULL; /* a removed parent ends the chain */
        if (cur->parent != NULL && mk_store_image_get_by_id(s, cur->parent, &parent, &gone) < 0)
            parent = NULL;
        mk_image_free(owned);
        owned = parent;
        cur = parent;
    }
    mk_image_free(owned);
}

int mk_image_history(struct mk_store *s, const struct mk_image *img, json_t **out, mk_err **err)
{
    const json_t *history = json_object_get(img->config, "history");
    const json_t *diff_ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
    _cleanup_strv_ char **chains = NULL;
    if (mk_image_chain_ids(img->config, &chains, err) < 0)
        return -1;
    _cleanup_json_ json_t *rows = json_array();
    size_t layer = 0;
    size_t i;
    json_t *h;
    json_array_foreach(history, i, h)
    {
        int64_t size = 0;
        if (!json_is_true(json_object_get(h, "empty_layer"))) {
            if (layer >= json_array_size(diff_ids))
                return mk_err_set(err, MK_ERR_INTERNAL,
                                  "too many non-empty layers in History section");
            if (layer_size(s, chains[layer], &size, err) < 0)
                return -1;
            layer++;
        }
        int64_t created = GO_ZERO_TIME_UNIX, ns;
        const char *when = mk_json_str(h, "created");
        _cleanup_err_ mk_err *bad = NULL; /* docker keeps a row with a bad time too */
        if (when != NULL && mk_time_parse(when, 0, &ns, &bad) == 0)
            created = ns / 1000000000;
        json_array_insert_new(
            rows, 0,
            json_pack("{s:s,s:I,s:s,s:n,s:I,s:s}", "Id", "<missing>", "Created",
                      (json_int_t)created, "CreatedBy", mk_json_str(h, "created_by") ?: "", "Tags",
                      "Size", (json_int_t)size, "Comment", mk_json_str(h, "comment") ?: ""));
    }
    fill_ids(s, img, rows);
    *out = steal_pointer(&rows);
    return 0;
}
