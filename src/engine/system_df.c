/* system_df.c: docker system df's figures (GET /system/df, `mocker system
 * df`): every image with its size, the part of it shared with other images
 * and its containers; every container with its writable layer; every volume
 * with its size and users.  Layers are counted once however many images
 * share them (LayersSize), as dockerd does. */
#include "engine/engine.h"
#include "image/image.h"

#include <string.h>

/* Per image: Size (its layers), SharedSize (those other images use too) and
 * Containers (any state), set on dockerd's ImageSummary from mk_image_list. */
static int images_df(struct mk_engine *e, json_t *out, int64_t *layers_size, mk_err **err)
{
    struct mk_image_filters f;
    if (mk_image_filters_parse(e->store, NULL, mk_image_list_filters, false, &f, err) < 0)
        return -1;
    _cleanup_json_ json_t *list = NULL;
    int r = mk_image_list(e->store, &f, true, &list, err);
    mk_image_filters_clear(&f);
    struct mk_image **imgs = NULL;
    size_t ni = 0;
    if (r < 0 || mk_store_image_list(e->store, &imgs, &ni, err) < 0)
        return -1;
    struct mk_container **cs = NULL;
    size_t nc = 0;
    if (mk_container_list(e, &cs, &nc, err) < 0) {
        mk_image_list_free(imgs, ni);
        return -1;
    }
    _cleanup_json_ json_t *sizes = json_object(); /* chain id -> bytes */
    _cleanup_json_ json_t *users = json_object(); /* chain id -> images using it */
    _cleanup_json_ json_t *chains = json_object(); /* image id -> its chain ids */
    for (size_t i = 0; i < ni; i++) {
        char **ids = NULL;
        if (mk_image_chain_ids(imgs[i]->config, &ids, NULL) < 0)
            continue;
        json_t *arr = json_array();
        for (size_t c = 0; ids[c] != NULL; c++) {
            json_array_append_new(arr, json_string(ids[c]));
            json_t *n = json_object_get(users, ids[c]);
            if (n != NULL) {
                json_integer_set(n, json_integer_value(n) + 1);
                continue;
            }
            _cleanup_free_ char *dir = mk_store_layer_dir(e->store, ids[c]);
            _cleanup_free_ char *diff = dir ? mk_path_join(dir, "diff") : NULL;
            int64_t bytes = diff ? mk_dir_size(diff) : 0;
            json_object_set_new(sizes, ids[c], json_integer(bytes));
            json_object_set_new(users, ids[c], json_integer(1));
            *layers_size += bytes;
        }
        json_object_set_new(chains, imgs[i]->id, arr);
        mk_strv_free(ids);
    }
    size_t i;
    json_t *sum;
    json_array_foreach(list, i, sum) {
        const char *id = json_string_value(json_object_get(sum, "Id"));
        int64_t size = 0, shared = 0, containers = 0;
        size_t k;
        json_t *ch;
        json_array_foreach(json_object_get(chains, id), k, ch) {
            const char *cid = json_string_value(ch);
            int64_t bytes = json_integer_value(json_object_get(sizes, cid));
            size += bytes;
            if (json_integer_value(json_object_get(users, cid)) > 1)
                shared += bytes;
        }
        for (k = 0; k < nc; k++)
            containers += cs[k]->image_id != NULL && strcmp(cs[k]->image_id, id) == 0;
        json_object_set_new(sum, "Size", json_integer(size));
        json_object_set_new(sum, "VirtualSize", json_integer(size));
        json_object_set_new(sum, "SharedSize", json_integer(shared));
        json_object_set_new(sum, "Containers", json_integer(containers));
        json_array_append(out, sum);
    }
    mk_image_list_free(imgs, ni);
    mk_container_list_free(cs, nc);
    return 0;
}

static int containers_df(struct mk_engine *e, json_t *out, mk_err **err)
{
    struct mk_container_filters f = {0};
    struct mk_container_row *rows = NULL;
    size_t n = 0;
    if (mk_container_select(e, &f, true, -1, &rows, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, mk_container_summary_json(e, &rows[i], true));
    mk_container_rows_free(rows, n);
    return 0;
}

static int volumes_df(struct mk_engine *e, json_t *out, mk_err **err)
{
    struct mk_volume **v = NULL;
    size_t n = 0;
    if (mk_store_volume_list(e->store, &v, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char **ids = NULL;
        if (mk_store_volume_users(e->store, v[i]->name, &ids, err) < 0) {
            mk_volume_list_free(v, n);
            return -1;
        }
        json_t *j = mk_volume_inspect_json(e, v[i]);
        const char *mp = json_string_value(json_object_get(j, "Mountpoint"));
        json_object_set_new(j, "UsageData",
                            json_pack("{s:I,s:I}", "Size", (json_int_t)(mp ? mk_dir_size(mp) : -1),
                                      "RefCount", (json_int_t)mk_strv_len(ids)));
        json_array_append_new(out, j);
        mk_strv_free(ids);
    }
    mk_volume_list_free(v, n);
    return 0;
}

int mk_system_df(struct mk_engine *e, unsigned types, json_t **out, mk_err **err)
{
    _cleanup_json_ json_t *df = json_object();
    if (types & MK_DF_IMAGES) {
        json_t *imgs = json_array();
        int64_t layers = 0;
        json_object_set_new(df, "Images", imgs);
        if (images_df(e, imgs, &layers, err) < 0)
            return -1;
        json_object_set_new(df, "LayersSize", json_integer(layers));
    }
    if (types & MK_DF_CONTAINERS) {
        json_t *cs = json_array();
        json_object_set_new(df, "Containers", cs);
        if (containers_df(e, cs, err) < 0)
            return -1;
    }
    if (types & MK_DF_VOLUMES) {
        json_t *vs = json_array();
        json_object_set_new(df, "Volumes", vs);
        if (volumes_df(e, vs, err) < 0)
            return -1;
    }
    /* mocker builds keep no cache: dockerd's answer without one (null, and
     * the deprecated BuilderSize 0) */
    if (types & MK_DF_BUILD_CACHE) {
        json_object_set_new(df, "BuildCache", json_null());
        json_object_set_new(df, "BuilderSize", json_integer(0));
    }
    *out = json_incref(df);
    return 0;
}
