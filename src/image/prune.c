/* prune.c: docker image prune.  As dockerd's ImagesPrune: the candidates are
 * the images without children (all images with -a / dangling=false), minus
 * untagged intermediate ones and those the until/label filters exclude; each
 * is removed as `rmi` would (not forced, parents pruned), by its id when it
 * has no name, else by each of its names (with dangling only, an image with a
 * tag is kept).  An image a container uses is a conflict, and is skipped. */
#include "image/image.h"

#include <string.h>

/* One rmi; conflicts and images already gone (a parent pruned with its
 * child) are skipped, as dockerd does. */
static int prune_one(struct mk_store *s, const char *name, char ***report, int64_t *reclaimed,
                     mk_err **err)
{
    struct mk_image_rm o = {0};
    _cleanup_err_ mk_err *e = NULL;
    int r = mk_image_remove_with(s, name, &o, report, &e);
    *reclaimed += o.reclaimed;
    if (r == 0 || e->kind == MK_ERR_CONFLICT || e->kind == MK_ERR_NOT_FOUND)
        return 0;
    if (err != NULL)
        *err = steal_pointer(&e);
    return -1;
}

int mk_image_prune(struct mk_store *s, const struct mk_image_filters *f, char ***report,
                   int64_t *reclaimed, mk_err **err)
{
    bool dangling_only = f->dangling != 0;
    struct mk_image **all = NULL;
    size_t n = 0;
    *reclaimed = 0;
    if (mk_store_image_list(s, &all, &n, err) < 0)
        return -1;
    /* Decide on the list as it was, then remove: removing changes who has
     * children. */
    _cleanup_strv_ char **names = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct mk_image *img = all[i];
        bool children = mk_image_has_children(all, n, img->id);
        size_t nrefs = mk_strv_len(img->tags) + mk_strv_len(img->digests);
        if ((dangling_only && children) || (nrefs == 0 && children) ||
            !mk_image_filters_match(f, img))
            continue;
        if (nrefs == 0) {
            mk_strv_push(&names, img->id + 7);
            continue;
        }
        /* dangling: only images named by digests alone */
        if (dangling_only && mk_strv_len(img->tags) > 0)
            continue;
        for (size_t k = 0; img->tags != NULL && img->tags[k] != NULL; k++)
            mk_strv_push(&names, img->tags[k]);
        for (size_t k = 0; img->digests != NULL && img->digests[k] != NULL; k++)
            mk_strv_push(&names, img->digests[k]);
    }
    mk_image_list_free(all, n);
    for (size_t i = 0; names != NULL && names[i] != NULL; i++)
        if (prune_one(s, names[i], report, reclaimed, err) < 0)
            return -1;
    return 0;
}
