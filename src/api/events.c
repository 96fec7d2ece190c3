/* events.c: GET /events: the engine's event log (mk_events_follow, what
 * `mocker events` reads), one JSON message a line in a chunked response,
 * followed until `until` or until the client goes away. */
#include "api/api.h"

#include <poll.h>

struct events_out {
    struct mk_http_reply *reply;
    bool gone; /* the client hung up or a write failed */
};

/* A follower of a quiet log writes nothing: ask the socket whether the
 * client hung up, else its thread would follow forever. */
static bool client_gone(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

static int send_event(void *p, const struct mk_event *ev)
{
    struct events_out *o = p;
    /* the head goes out at the first call, before any event or at the first
     * idle moment: after the follower has fixed where "new" starts, so a
     * client that saw the head misses nothing it causes next */
    if (!o->reply->started &&
        mk_http_reply_begin_chunked(o->reply, 200, "application/json") < 0) {
        o->gone = true;
        return 1;
    }
    if (ev == NULL)
        o->gone = client_gone(o->reply->fd);
    else {
        _cleanup_json_ json_t *m = mk_event_message(ev);
        o->gone = mk_http_reply_json_chunk(o->reply, m) < 0;
    }
    return o->gone ? 1 : 0;
}

static int time_param(const struct mk_http_request *r, const char *key, int64_t now, bool *set,
                      int64_t *out, mk_err **err)
{
    _cleanup_free_ char *v = mk_http_query(r, key);
    *set = v != NULL && *v != '\0';
    if (*set && mk_time_parse(v, now, out, err) < 0)
        return mk_err_wrap(err, "invalid %s", key);
    return 0;
}

int mk_api_events(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_strv_ char **kv = NULL;
    _cleanup_json_ json_t *filters = NULL;
    struct mk_events_query q = {0};
    int64_t now = mk_now_ns();
    if (time_param(c->req, "since", now, &q.since_set, &q.since_ns, err) < 0 ||
        time_param(c->req, "until", now, &q.until_set, &q.until_ns, err) < 0 ||
        mk_api_filters(c->req, &kv, err) < 0 || mk_events_filters(kv, &filters, err) < 0)
        return -1;
    if (q.since_set && q.until_set && q.since_ns > q.until_ns) {
        _cleanup_free_ char *s = mk_http_query(c->req, "since");
        _cleanup_free_ char *u = mk_http_query(c->req, "until");
        return mk_err_set(err, MK_ERR_INVALID, "`since` time (%s) cannot be after `until` time (%s)",
                          s, u);
    }
    q.filters = filters;
    if (mk_api_engine(c, &e, err) < 0)
        return -1;
    struct events_out o = {.reply = c->reply};
    if (mk_events_follow(e, &q, send_event, &o, err) < 0)
        return -1;
    if (o.gone) {
        c->reply->keep_alive = false;
        return 0;
    }
    /* a past until with nothing to send: the follower never called back */
    if (!c->reply->started && mk_http_reply_begin_chunked(c->reply, 200, "application/json") < 0)
        return -1;
    return mk_http_reply_end_chunked(c->reply);
}
