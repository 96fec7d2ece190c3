/* container_stats.c: GET /containers/{id}/stats.  Each frame is the engine's
 * sample in dockerd's shape (mk_stats_sample_json, the figures behind
 * `mocker stats`) with the previous frame's CPU figures as precpu_stats, so
 * that a client computes CPU % as docker's CLI does.  As dockerd: stream
 * sends one a second, the first without precpu; stream=false waits for the
 * second sample (a second later) so its CPU % is current; one-shot answers
 * the first at once. */
#include "api/api.h"

#include <string.h>

#define STATS_INTERVAL_NS 1000000000LL

/* The container's sample now; *gone when it no longer exists (ends a stream). */
static int sample(struct mk_engine *e, const char *id, json_t **out, bool *gone, mk_err **err)
{
    struct mk_container *c = NULL;
    *out = NULL;
    if (mk_container_get(e, id, &c, err) < 0) {
        *gone = *err != NULL && (*err)->kind == MK_ERR_NOT_FOUND;
        return -1;
    }
    struct mk_stats_sampler *s = mk_stats_sampler_new(e, &c, 1);
    int r = mk_stats_sample_json(s, 0, out, err);
    mk_stats_sampler_free(s);
    mk_container_free(c);
    return r;
}

int mk_api_container_stats(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    struct mk_container *ctr = NULL;
    bool stream = mk_http_query_bool(c->req, "stream", true);
    bool one_shot = mk_http_query_bool(c->req, "one-shot", false);
    if (stream && one_shot)
        return mk_err_set(err, MK_ERR_INVALID, "cannot have stream=true and one-shot=true");
    if (mk_api_engine(c, &e, err) < 0 || mk_container_get(e, mk_api_param(c, "id"), &ctr, err) < 0)
        return -1;
    _cleanup_free_ char *id = xstrdup(ctr->id);
    mk_container_free(ctr);
    _cleanup_json_ json_t *prev = NULL;
    int64_t tick = mk_monotonic_ns();
    for (bool first = true;; first = false) {
        json_t *cur;
        bool gone = false;
        mk_err *serr = NULL;
        if (sample(e, id, &cur, &gone, &serr) < 0) {
            json_decref(cur);
            if (gone && c->reply->started) { /* removed while streamed: the stream ends */
                mk_err_free(serr);
                return mk_http_reply_end_chunked(c->reply);
            }
            *err = serr;
            return -1;
        }
        if (prev != NULL) {
            json_object_set(cur, "preread", json_object_get(prev, "read"));
            json_object_set(cur, "precpu_stats", json_object_get(prev, "cpu_stats"));
        }
        json_decref(prev);
        prev = cur;
        if (!stream && (one_shot || !first))
            return mk_http_reply_json(c->reply, 200, cur);
        if (stream) {
            if (first && mk_http_reply_begin_chunked(c->reply, 200, "application/json") < 0)
                return -1;
            if (mk_http_reply_json_chunk(c->reply, cur) < 0) {
                c->reply->keep_alive = false; /* the client went away */
                return 0;
            }
        }
        tick += STATS_INTERVAL_NS;
        mk_sleep_until_monotonic(tick);
    }
}
