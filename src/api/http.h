/* http.h: the HTTP/1.1 server side of the Engine API, with no sockets in it.
 *
 * A parser fed bytes as they arrive (any fragmentation) yields whole requests:
 * request line, headers, a Content-Length or chunked body, keep-alive, and the
 * bytes that follow a request (the next pipelined request, or the raw stream
 * of a hijacked connection).  Limits turn hostile input into docker's 4xx
 * answers instead of memory.  The writer puts docker's headers on every
 * response and writes whole, chunked and hijacked (101) responses to an fd. */
#ifndef MK_API_HTTP_H
#define MK_API_HTTP_H

#include "util/util.h"

struct mk_http_limits {
    size_t max_header_bytes; /* request line + headers: 431 past it */
    size_t max_headers;      /* header lines: 431 past it */
    size_t max_body;         /* decoded body: 413 past it (body_limit may lower it) */
};
/* 64 KiB of headers, 100 of them, 64 MiB of body. */
extern const struct mk_http_limits mk_http_default_limits;

/* Body bytes buffered by all the connections of a server together: a request
 * whose body would go past max waits for no one, it gets 503.  Without it,
 * every connection could hold its largest body at once. */
struct mk_http_budget {
    _Atomic size_t used;
    size_t max;
};

struct mk_http_header {
    char *name;
    char *value;
};

struct mk_http_request {
    char *method;
    char *target;      /* as sent: "/v1.47/containers/json?all=1" */
    char *path;        /* percent-decoded, version prefix stripped: "/containers/json" */
    char *api_version; /* "1.47" from the prefix, NULL without one */
    char *query;       /* raw, after '?', NULL without one */
    int minor;         /* HTTP/1.<minor> */
    struct mk_http_header *headers;
    size_t n_headers;
    char *body; /* NUL-terminated (the NUL not counted); NULL when empty or spooled */
    size_t body_len;
    bool spooled; /* a large upload's body: in body_fd, an unlinked file */
    int body_fd;
    bool keep_alive;
    bool upgrade; /* Connection: Upgrade with Upgrade: tcp (attach, exec start) */
};

enum mk_http_state {
    MK_HTTP_HEAD,
    MK_HTTP_BODY,
    MK_HTTP_CHUNK_SIZE,
    MK_HTTP_CHUNK_DATA,
    MK_HTTP_CHUNK_END,
    MK_HTTP_TRAILER,
    MK_HTTP_DONE,
    MK_HTTP_ERROR,
};

struct mk_http_parser {
    struct mk_http_limits limits;
    /* Called once a request's head is parsed: the most body bytes it may send
     * (0: limits.max_body; more than limits.max_body is allowed, so an upload
     * endpoint can opt in to large bodies while the others stay small). */
    size_t (*body_limit)(const struct mk_http_request *req, void *ud);
    void *body_limit_ud;
    struct mk_http_budget *budget; /* NULL: none */
    /* Bodies allowed more than limits.max_body (uploads) go to an unlinked
     * file in spool_dir once past spool_after bytes, so a large image load
     * holds disk, not memory (NULL: never). */
    const char *spool_dir;
    size_t spool_after;
    int spool_fd;      /* the current request's spool file, or -1 */
    size_t body_total; /* decoded body bytes so far, spooled ones included */
    size_t body_max;               /* the current request's limit */
    size_t reserved;               /* budget held by the request being read */
    size_t held;                   /* budget held by the last request returned */
    enum mk_http_state state;
    mk_buf in;        /* received; bytes before `off` are parsed */
    size_t off;
    size_t scanned;   /* bytes of `in` already searched for the end of the head */
    size_t remaining; /* of the Content-Length body or the current chunk */
    mk_buf body;
    struct mk_http_request *req; /* being parsed */
    int error_status;            /* 400, 413, 431, 501, 505 when state is ERROR */
    const char *error;           /* its message (static) */
};

void mk_http_parser_init(struct mk_http_parser *p, const struct mk_http_limits *limits);
void mk_http_parser_clear(struct mk_http_parser *p);
/* Append received bytes (amortised linear over any pipelining). */
void mk_http_parser_feed(struct mk_http_parser *p, const void *data, size_t len);
/* 1: *out is the next complete request (the caller frees it), 0: more bytes
 * needed, -1: malformed or over a limit (p->error_status, p->error; the
 * connection cannot be used further).  The budget a returned request's body
 * holds is given back at the next call (its body is freed by then). */
int mk_http_parser_next(struct mk_http_parser *p, struct mk_http_request **out);
/* True when bytes of a request that is not complete yet have arrived. */
bool mk_http_parser_busy(const struct mk_http_parser *p);
/* The bytes received after the last request (a hijacked stream's first bytes). */
const char *mk_http_parser_pending(const struct mk_http_parser *p, size_t *len);

void mk_http_request_free(struct mk_http_request *r);
/* Header value by case-insensitive name (the first of repeated ones), or NULL. */
const char *mk_http_header(const struct mk_http_request *r, const char *name);
/* Whether a comma-separated header (Connection) lists token, case-insensitively. */
bool mk_http_header_has_token(const struct mk_http_request *r, const char *name,
                              const char *token);
/* Percent-decoded query value of key (the first one; "a&a=1" gives ""), or NULL.
 * Owned by the caller. */
char *mk_http_query(const struct mk_http_request *r, const char *key);
/* Every value of key, in order (NULL when none). */
char **mk_http_query_all(const struct mk_http_request *r, const char *key);
/* docker's boolean query values: absent or empty is dflt; "0", "no", "false",
 * "none" are false; anything else is true. */
bool mk_http_query_bool(const struct mk_http_request *r, const char *key, bool dflt);
/* In place: %XX and (for queries) '+' decoded; -1 on a bad escape or a NUL. */
int mk_http_unescape(char *s, bool plus_is_space);
/* "/v1.47/x" -> "/x" and "1.47"; "/volumes" and "/v1.47x" are kept whole. */
const char *mk_http_strip_version(const char *path, char **version);
const char *mk_http_status_text(int status);

/* ---- the writer ---- */
struct mk_http_reply {
    int fd;
    bool head_only;  /* a HEAD request: headers only */
    bool keep_alive; /* the request's; cleared when the response cannot be delimited */
    bool started;    /* the status line is out */
    bool chunked;    /* in a chunked response */
    bool failed;     /* a write failed: the connection is gone */
    int status;
    mk_buf extra;    /* headers added with mk_http_reply_header */
};

void mk_http_reply_init(struct mk_http_reply *w, int fd, const struct mk_http_request *req);
void mk_http_reply_clear(struct mk_http_reply *w);
/* An extra header for the response about to start (Cache-Control, Swarm...). */
void mk_http_reply_header(struct mk_http_reply *w, const char *name, const char *value);
/* The whole response: status, Content-Type (NULL: none) and body. */
int mk_http_reply_send(struct mk_http_reply *w, int status, const char *content_type,
                      const void *body, size_t len);
/* JSON body without escaped slashes, with docker's trailing newline. */
int mk_http_reply_json(struct mk_http_reply *w, int status, const json_t *body);
/* docker's error body {"message":"..."}; bytes of message that are not UTF-8
 * (a path, a tool's output) become U+FFFD, as JSON cannot carry them. */
int mk_http_reply_error(struct mk_http_reply *w, int status, const char *message);
/* A streamed response (events, pull progress, logs): chunks, then the end. */
int mk_http_reply_begin_chunked(struct mk_http_reply *w, int status, const char *content_type);
int mk_http_reply_chunk(struct mk_http_reply *w, const void *data, size_t len);
/* One JSON value and a newline as a chunk (events, progress, a late wait). */
int mk_http_reply_json_chunk(struct mk_http_reply *w, const json_t *value);
int mk_http_reply_end_chunked(struct mk_http_reply *w);
/* Take over the connection for a raw stream (attach, exec start): 101
 * UPGRADED with Upgrade: tcp when the request asked for it, else docker's 200
 * with the raw-stream content type.  Afterwards the fd carries raw bytes and
 * the connection is not reused. */
int mk_http_reply_hijack(struct mk_http_reply *w, const struct mk_http_request *req,
                        const char *content_type);

/* s with every byte that is not part of valid UTF-8 replaced by U+FFFD. */
char *mk_utf8_sanitize(const char *s);

/* The head of a response (status line and docker's headers), for tests and
 * the writer: content_length -1 means chunked, -2 no length (hijack). */
void mk_http_format_head(mk_buf *b, int status, const char *content_type,
                         int64_t content_length, bool keep_alive, const char *extra);

#endif
