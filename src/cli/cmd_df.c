/* cmd_df.c: docker system df: what images and containers take on disk. */
#include "cli/cli.h"
#include "cli/format.h"
#include "image/image.h"

#include <string.h>

static json_t *df_row(const char *type, size_t total, size_t active, int64_t size,
                      int64_t reclaimable)
{
    _cleanup_free_ char *sz = mk_human_size_prec(size, 4);
    _cleanup_free_ char *rec = mk_human_size_prec(reclaimable, 4);
    /* docker adds the share only when there is a total to take it of. */
    _cleanup_free_ char *rec_text = size > 0
        ? xasprintf("%s (%lld%%)", rec, (long long)(reclaimable * 100 / size)) : xstrdup(rec);
    _cleanup_free_ char *t = xasprintf("%zu", total), *a = xasprintf("%zu", active);
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "Active", a, "Reclaimable", rec_text, "Size", sz,
                     "TotalCount", t, "Type", type);
}

/* docker's image sizes: every layer counted once however many images share
 * it; what is reclaimable is all but the layers only active images (used by a
 * container) have to themselves (their size minus what they share). */
static void images_df(struct mk_store *s, struct mk_image **imgs, size_t ni,
                      struct mk_container **cs, size_t nc, size_t *active, int64_t *total,
                      int64_t *reclaimable)
{
    _cleanup_json_ json_t *sizes = json_object(); /* chain id -> bytes */
    _cleanup_json_ json_t *users = json_object(); /* chain id -> images using it */
    char ***chains = xcalloc(ni + 1, sizeof(char **));
    for (size_t i = 0; i < ni; i++) {
        if (mk_image_chain_ids(imgs[i]->config, &chains[i], NULL) < 0)
            continue;
        for (size_t c = 0; chains[i][c] != NULL; c++) {
            const char *id = chains[i][c];
            json_t *n = json_object_get(users, id);
            if (n != NULL) {
                json_integer_set(n, json_integer_value(n) + 1);
                continue;
            }
            _cleanup_free_ char *dir = mk_store_layer_dir(s, id);
            _cleanup_free_ char *diff = dir ? mk_path_join(dir, "diff") : NULL;
            int64_t bytes = diff ? mk_dir_size(diff) : 0;
            json_object_set_new(sizes, id, json_integer(bytes));
            json_object_set_new(users, id, json_integer(1));
            *total += bytes;
        }
    }
    int64_t used = 0;
    for (size_t i = 0; i < ni; i++) {
        bool in_use = false;
        for (size_t k = 0; k < nc && !in_use; k++)
            in_use = strcmp(cs[k]->image_id, imgs[i]->id) == 0;
        *active += in_use;
        for (size_t c = 0; in_use && chains[i] != NULL && chains[i][c] != NULL; c++)
            if (json_integer_value(json_object_get(users, chains[i][c])) == 1)
                used += json_integer_value(json_object_get(sizes, chains[i][c]));
        mk_strv_free(chains[i]);
    }
    free(chains);
    *reclaimable = *total - used;
}

static int df_rows(struct mk_engine *e, json_t *rows, mk_err **err)
{
    struct mk_image **imgs = NULL;
    size_t ni = 0;
    if (mk_store_image_list(e->store, &imgs, &ni, err) < 0)
        return -1;
    struct mk_container **cs = NULL;
    size_t nc = 0;
    if (mk_container_list(e, &cs, &nc, err) < 0) {
        mk_image_list_free(imgs, ni);
        return -1;
    }
    size_t active_imgs = 0, running = 0;
    int64_t img_size = 0, img_free = 0, ctr_size = 0, ctr_free = 0;
    images_df(e->store, imgs, ni, cs, nc, &active_imgs, &img_size, &img_free);
    for (size_t k = 0; k < nc; k++) {
        int64_t rw = mk_container_rw_size(e, cs[k]);
        bool on = mk_container_is_running(cs[k]);
        running += on;
        ctr_size += rw;
        ctr_free += on ? 0 : rw;
    }
    json_array_append_new(rows, df_row("Images", ni, active_imgs, img_size, img_free));
    json_array_append_new(rows, df_row("Containers", nc, running, ctr_size, ctr_free));
    /* Neither exists in mocker yet: docker's rows for none of them. */
    json_array_append_new(rows, df_row("Local Volumes", 0, 0, 0, 0));
    json_array_append_new(rows, df_row("Build Cache", 0, 0, 0, 0));
    mk_image_list_free(imgs, ni);
    mk_container_list_free(cs, nc);
    return 0;
}

int cmd_system_df(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"df", "system df [OPTIONS]", "Show mocker disk usage", true};
    _cleanup_free_ char *format = NULL;
    struct mk_opt opts[] = {
        {"format", 0, MK_OPT_STRING, &format, "Format output using a custom template", NULL},
        {"verbose", 'v', MK_OPT_REFUSED_BOOL, NULL, "the verbose listing is not implemented yet", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    if (r >= 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    _cleanup_json_ json_t *rows = json_array();
    _cleanup_json_ json_t *headers = json_pack("{s:s,s:s,s:s,s:s,s:s}", "Type", "TYPE", "TotalCount",
                                              "TOTAL", "Active", "ACTIVE", "Size", "SIZE",
                                              "Reclaimable", "RECLAIMABLE");
    int status = 0;
    if (df_rows(e, rows, &err) < 0 ||
        mk_format_rows(format, "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                       headers, rows, stdout, &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    mk_engine_free(e);
    return status;
}
