/* stream.c: what attach and exec start share once a connection is hijacked:
 * the handshake, the client's input (the bytes that came with the request
 * first), docker's detach keys, and writing output in the stream's framing. */
#include "api/stream.h"

#include <errno.h>
#include <string.h>

int mk_api_stream_begin(struct mk_api_ctx *c, struct mk_api_stream *s, bool tty, mk_err **err)
{
    memset(s, 0, sizeof(*s));
    s->fd = c->reply->fd;
    s->tty = tty;
    /* API 1.42's content types say which framing follows */
    if (mk_http_reply_hijack(c->reply, c->req,
                             tty ? "application/vnd.docker.raw-stream"
                                 : "application/vnd.docker.multiplexed-stream") < 0)
        return mk_err_sys(err, "answer the attach");
    size_t n = 0;
    const char *early = c->parser != NULL ? mk_http_parser_pending(c->parser, &n) : NULL;
    if (n > 0)
        mk_buf_append(&s->early, early, n);
    return 0;
}

void mk_api_stream_clear(struct mk_api_stream *s)
{
    mk_buf_free(&s->early);
    mk_buf_free(&s->held);
}

int mk_api_stream_keys_valid(const char *keys, mk_err **err)
{
    uint8_t bytes[MK_DETACH_KEYS_MAX];
    size_t n;
    return mk_detach_keys_parse(keys, bytes, &n, err);
}

int mk_api_stream_detach_keys(struct mk_api_stream *s, const char *keys, mk_err **err)
{
    return mk_detach_keys_parse(keys, s->keys, &s->n_keys, err);
}

ssize_t mk_api_stream_read(struct mk_api_stream *s, void *buf, size_t cap)
{
    if (s->early_off < s->early.len) {
        size_t n = s->early.len - s->early_off;
        if (n > cap)
            n = cap;
        memcpy(buf, s->early.data + s->early_off, n);
        s->early_off += n;
        return (ssize_t)n;
    }
    for (;;) {
        ssize_t n = read(s->fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        return n;
    }
}

bool mk_api_stream_has_early(const struct mk_api_stream *s)
{
    return s->early_off < s->early.len;
}

/* docker applies the detach keys to a terminal's input: the whole sequence
 * detaches; a partial match is held back until the next byte decides. */
bool mk_api_stream_filter_input(struct mk_api_stream *s, const char *in, size_t len, mk_buf *out)
{
    out->len = 0;
    if (!s->tty || s->n_keys == 0) {
        mk_buf_append(out, in, len);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)in[i];
        if (b == s->keys[s->matched]) {
            mk_buf_append(&s->held, &in[i], 1);
            if (++s->matched == s->n_keys)
                return true;
            continue;
        }
        if (s->matched > 0) {
            mk_buf_append(out, s->held.data, s->held.len);
            s->held.len = 0;
            s->matched = 0;
        }
        if (b == s->keys[0]) {
            mk_buf_append(&s->held, &in[i], 1);
            if (++s->matched == s->n_keys)
                return true;
            continue;
        }
        mk_buf_append(out, &in[i], 1);
    }
    return false;
}

int mk_api_stream_output(struct mk_api_stream *s, int stream, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (!s->tty) {
        uint32_t n = (uint32_t)len;
        uint8_t head[8] = {(uint8_t)stream, 0, 0, 0, n >> 24, n >> 16, n >> 8, n};
        if (mk_write_all(s->fd, head, sizeof(head)) < 0)
            return -1;
    }
    return mk_write_all(s->fd, data, len);
}
