/* images.c: GET /images/json. */
#include "api/api.h"
#include "image/image.h"


int mk_api_images_list(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_strv_ char **kv = NULL;
    if (mk_http_query_bool(c->req, "shared-size", false))
        return mk_err_set(err, MK_ERR_UNSUPPORTED, "shared-size is not computed by mocker yet");
    if (mk_api_filters(c->req, &kv, err) < 0 || mk_api_engine(c, &e, err) < 0)
        return -1;
    struct mk_image_filters f;
    if (mk_image_filters_parse(e->store, kv, mk_image_list_filters, false, &f, err) < 0)
        return -1;
    _cleanup_json_ json_t *list = NULL;
    int r = mk_image_list(e->store, &f, mk_http_query_bool(c->req, "all", false), &list, err);
    mk_image_filters_clear(&f);
    if (r < 0)
        return -1;
    return mk_http_reply_json(c->reply, 200, list);
}
