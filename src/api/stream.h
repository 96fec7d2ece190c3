/* stream.h: a hijacked connection carrying a container's or an exec's stdio
 * (POST /containers/{id}/attach, POST /exec/{id}/start). */
#ifndef MK_API_STREAM_H
#define MK_API_STREAM_H

#include "api/api.h"
#include "monitor/monitor.h"

struct mk_api_stream {
    int fd;       /* the client's connection (the reply's; not owned) */
    bool tty;     /* raw bytes; otherwise docker's 8-byte multiplexed framing */
    mk_buf early; /* input that arrived with the request */
    size_t early_off;
    uint8_t keys[MK_DETACH_KEYS_MAX]; /* detach sequence (tty input only) */
    size_t n_keys, matched;
    mk_buf held; /* input bytes matching a prefix of the detach keys */
};

/* Answer 101 (or 200) with the content type of the framing, and take over the
 * connection: from here on c->reply is not used. */
int mk_api_stream_begin(struct mk_api_ctx *c, struct mk_api_stream *s, bool tty, mk_err **err);
void mk_api_stream_clear(struct mk_api_stream *s);
/* INVALID with docker's wording unless keys is a detach sequence. */
int mk_api_stream_keys_valid(const char *keys, mk_err **err);
/* docker's detachKeys ("" or NULL: ctrl-p,ctrl-q). */
int mk_api_stream_detach_keys(struct mk_api_stream *s, const char *keys, mk_err **err);
/* The client's input: what came with the request first, then read(2). */
ssize_t mk_api_stream_read(struct mk_api_stream *s, void *buf, size_t cap);
bool mk_api_stream_has_early(const struct mk_api_stream *s);
/* Input bound for the process, without the detach keys, into out (reset
 * first); true when the client typed the whole detach sequence. */
bool mk_api_stream_filter_input(struct mk_api_stream *s, const char *in, size_t len, mk_buf *out);
/* Output of stream 1 (stdout) or 2 (stderr) to the client; -1 when it is gone. */
int mk_api_stream_output(struct mk_api_stream *s, int stream, const void *data, size_t len);

/* logs=1 of attach: the container's log so far, written to fd in the framing. */
int mk_api_logs_replay(struct mk_engine *e, const char *id, bool tty, bool want_out, bool want_err,
                       int fd, mk_err **err);

/* An attach to a container that is not running yet (docker run attaches
 * before it starts) waits for the start; a start through the API hands the
 * first such attach the monitor connection it starts with, so no early
 * output is lost.  Returns the number of attaches it told. */
int mk_api_attach_started(const char *id, int attach_fd);
/* Whether an attach waits for container id (start then asks the monitor for
 * a connection to give it). */
bool mk_api_attach_waiting(const char *id);

#endif
