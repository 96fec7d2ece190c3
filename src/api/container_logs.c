/* container_logs.c: GET /containers/{id}/logs.  The entries come from
 * mk_container_logs, the reader `mocker logs` uses; a tty container's are
 * sent as raw bytes, others in docker's multiplexed framing (an 8-byte header:
 * the stream, 1 stdout or 2 stderr, three zero bytes and the payload's length
 * big-endian), one chunk of the chunked response per entry so that a
 * follower sees each line as it is logged. */
#include "api/stream.h"
#include "monitor/monitor.h"

#include <string.h>

struct logs_out {
    struct mk_http_reply *reply; /* chunks of a response, or... */
    int raw_fd;                  /* ...(when >= 0) the bytes of a hijacked stream */
    bool tty, timestamps, want_out, want_err;
};

static int send_entry(void *p, const char *stream, int64_t t, const char *data, size_t len)
{
    struct logs_out *o = p;
    bool is_err = strcmp(stream, "stderr") == 0;
    if (is_err ? !o->want_err : !o->want_out)
        return 0;
    _cleanup_free_ char *ts = o->timestamps ? mk_time_rfc3339_fixed(t) : NULL;
    size_t tl = ts != NULL ? strlen(ts) + 1 : 0;
    size_t hl = o->tty ? 0 : 8;
    _cleanup_free_ unsigned char *buf = xmalloc(hl + tl + len);
    if (!o->tty) {
        uint32_t n = (uint32_t)(tl + len);
        unsigned char head[8] = {is_err ? 2 : 1, 0, 0, 0, n >> 24, n >> 16, n >> 8, n};
        memcpy(buf, head, 8);
    }
    if (ts != NULL) {
        memcpy(buf + hl, ts, tl - 1);
        buf[hl + tl - 1] = ' ';
    }
    memcpy(buf + hl + tl, data, len);
    /* a client that went away stops the read (and a follow) */
    if (o->raw_fd >= 0)
        return mk_write_all(o->raw_fd, buf, hl + tl + len) < 0 ? -1 : 0;
    return mk_http_reply_chunk(o->reply, buf, hl + tl + len) < 0 ? -1 : 0;
}

int mk_api_logs_replay(struct mk_engine *e, const char *id, bool tty, bool want_out, bool want_err,
                       int fd, mk_err **err)
{
    struct logs_out o = {.raw_fd = fd, .tty = tty, .want_out = want_out, .want_err = want_err};
    struct mk_log_read_opts lo = {.tail = -1};
    return mk_container_logs(e, id, &lo, send_entry, &o, err);
}

int mk_api_container_logs(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    struct mk_container *ctr = NULL;
    struct logs_out o = {
        .reply = c->reply,
        .raw_fd = -1,
        .timestamps = mk_http_query_bool(c->req, "timestamps", false),
        .want_out = mk_http_query_bool(c->req, "stdout", false),
        .want_err = mk_http_query_bool(c->req, "stderr", false),
    };
    if (!o.want_out && !o.want_err)
        return mk_err_set(err, MK_ERR_INVALID, "Bad parameters: you must choose at least one stream");
    struct mk_log_read_opts lo = {.follow = mk_http_query_bool(c->req, "follow", false)};
    _cleanup_free_ char *tail = mk_http_query(c->req, "tail");
    _cleanup_free_ char *since = mk_http_query(c->req, "since");
    _cleanup_free_ char *until = mk_http_query(c->req, "until");
    int64_t now = mk_now_ns();
    if (mk_log_tail_parse(tail, &lo.tail, err) < 0 ||
        (since != NULL && *since != '\0' && mk_time_parse(since, now, &lo.since, err) < 0) ||
        (until != NULL && *until != '\0' && mk_time_parse(until, now, &lo.until, err) < 0))
        return -1;
    if (mk_api_engine(c, &e, err) < 0 || mk_container_get(e, mk_api_param(c, "id"), &ctr, err) < 0)
        return -1;
    o.tty = mk_json_bool(json_object_get(ctr->config, "Config"), "Tty", false);
    _cleanup_free_ char *id = xstrdup(ctr->id);
    int r = mk_container_logs_readable(ctr, err);
    mk_container_free(ctr);
    if (r < 0)
        return -1;
    /* the head goes out now, so that a follower of a silent container has
     * its answer; API 1.42's content types say which framing follows */
    if (mk_http_reply_begin_chunked(c->reply, 200,
                                    o.tty ? "application/vnd.docker.raw-stream"
                                          : "application/vnd.docker.multiplexed-stream") < 0)
        return -1;
    if (mk_container_logs(e, id, &lo, send_entry, &o, err) < 0)
        return -1;
    return mk_http_reply_end_chunked(c->reply);
}
