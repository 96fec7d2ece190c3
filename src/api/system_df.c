/* system_df.c: GET /system/df, the engine's mk_system_df (what `mocker
 * system df` prints); `type` (API 1.42) limits it to some object types. */
#include "api/api.h"

#include <string.h>

int mk_api_system_df(struct mk_api_ctx *c, mk_err **err)
{
    static const struct {
        const char *name;
        unsigned bit;
    } kinds[] = {{"container", MK_DF_CONTAINERS},
                 {"image", MK_DF_IMAGES},
                 {"volume", MK_DF_VOLUMES},
                 {"build-cache", MK_DF_BUILD_CACHE}};
    _cleanup_strv_ char **types = mk_http_query_all(c->req, "type");
    unsigned want = 0;
    for (size_t i = 0; types != NULL && types[i] != NULL; i++) {
        unsigned bit = 0;
        for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++)
            if (strcmp(types[i], kinds[k].name) == 0)
                bit = kinds[k].bit;
        if (bit == 0)
            return mk_err_set(err, MK_ERR_INVALID, "unknown object type: %s", types[i]);
        want |= bit;
    }
    struct mk_engine *e;
    _cleanup_json_ json_t *df = NULL;
    if (mk_api_engine(c, &e, err) < 0 || mk_system_df(e, want ? want : MK_DF_ALL, &df, err) < 0)
        return -1;
    return mk_http_reply_json(c->reply, 200, df);
}
