/* http.c: the HTTP/1.1 request parser and response writer (api/http.h).
 *
 * Lenient where real clients differ (bare LF line ends, blank lines before a
 * request, any Host), strict where ambiguity is dangerous: both Content-Length
 * and Transfer-Encoding, repeated Transfer-Encodings, differing
 * Content-Lengths, folded headers and control characters (NUL included, in
 * the head and in chunk lines) are refused, so a proxy in front cannot
 * disagree with us about where a request ends. */
#include "api/http.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <time.h>

const struct mk_http_limits mk_http_default_limits = {
    .max_header_bytes = 64 * 1024,
    .max_headers = 100,
    .max_body = 64 * 1024 * 1024,
};

/* A chunk-size line longer than this is not a size. */
#define MAX_CHUNK_LINE 1024

void mk_http_parser_init(struct mk_http_parser *p, const struct mk_http_limits *limits)
{
    memset(p, 0, sizeof(*p));
    p->limits = limits ? *limits : mk_http_default_limits;
    p->state = MK_HTTP_HEAD;
    p->spool_fd = -1;
}

static void budget_release(struct mk_http_parser *p, size_t *n)
{
    if (p->budget != NULL && *n > 0)
        atomic_fetch_sub(&p->budget->used, *n);
    *n = 0;
}

/* Take n more bytes of the budget for the request being read; false when the
 * server has no room for them now. */
static bool budget_take(struct mk_http_parser *p, size_t n)
{
    if (p->budget == NULL || n == 0)
        return true;
    size_t used = atomic_load(&p->budget->used);
    do {
        if (used + n > p->budget->max || used + n < used)
            return false;
    } while (!atomic_compare_exchange_weak(&p->budget->used, &used, used + n));
    p->reserved += n;
    return true;
}

/* The unparsed bytes. */
static char *in_data(const struct mk_http_parser *p)
{
    return p->in.data ? p->in.data + p->off : (char *)"";
}

static size_t in_len(const struct mk_http_parser *p)
{
    return p->in.len - p->off;
}

static bool spools(const struct mk_http_parser *p)
{
    return p->spool_dir != NULL && p->body_max > p->limits.max_body;
}

/* Of n more body bytes, those that will be held in memory (the budget's
 * concern): a spooling request keeps at most spool_after. */
static size_t in_memory(const struct mk_http_parser *p, size_t n)
{
    if (!spools(p))
        return n;
    if (p->body_total >= p->spool_after)
        return 0;
    size_t room = p->spool_after - p->body_total;
    return n < room ? n : room;
}

void mk_http_parser_clear(struct mk_http_parser *p)
{
    budget_release(p, &p->reserved);
    budget_release(p, &p->held);
    mk_buf_free(&p->in);
    mk_buf_free(&p->body);
    mk_closep(&p->spool_fd);
    mk_http_request_free(p->req);
    p->req = NULL;
}

void mk_http_parser_feed(struct mk_http_parser *p, const void *data, size_t len)
{
    /* Parsed bytes are dropped only once they are at least half the buffer:
     * each byte is moved a bounded number of times, however many small
     * requests a client pipelines. */
    if (p->off > 0 && p->off >= in_len(p)) {
        memmove(p->in.data, p->in.data + p->off, in_len(p));
        p->in.len -= p->off;
        p->in.data[p->in.len] = '\0';
        p->off = 0;
    }
    mk_buf_append(&p->in, data, len);
}

bool mk_http_parser_busy(const struct mk_http_parser *p)
{
    return p->state != MK_HTTP_HEAD || in_len(p) > 0;
}

const char *mk_http_parser_pending(const struct mk_http_parser *p, size_t *len)
{
    *len = in_len(p);
    return in_data(p);
}

void mk_http_request_free(struct mk_http_request *r)
{
    if (r == NULL)
        return;
    if (r->spooled)
        close(r->body_fd);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    free(r->method);
    free(r->target);
    free(r->path);
    free(r->api_version);
    free(r->query);
    free(r->body);
    free(r);
}

static void consume(struct mk_http_parser *p, size_t n)
{
    p->off += n;
    if (p->off == p->in.len && p->in.data != NULL) {
        p->off = p->in.len = 0;
        p->in.data[0] = '\0';
    }
}

static int fail(struct mk_http_parser *p, int status, const char *msg)
{
    p->state = MK_HTTP_ERROR;
    p->error_status = status;
    p->error = msg;
    return -1;
}

static bool is_tchar(unsigned char c)
{
    return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool token_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

const char *mk_http_header(const struct mk_http_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

bool mk_http_header_has_token(const struct mk_http_request *r, const char *name,
                              const char *token)
{
    size_t tl = strlen(token);
    for (size_t i = 0; i < r->n_headers; i++) {
        if (strcasecmp(r->headers[i].name, name) != 0)
            continue;
        const char *s = r->headers[i].value;
        while (*s) {
            while (*s == ' ' || *s == '\t' || *s == ',')
                s++;
            size_t n = strcspn(s, ",");
            size_t t = n;
            while (t > 0 && (s[t - 1] == ' ' || s[t - 1] == '\t'))
                t--;
            if (t == tl && strncasecmp(s, token, tl) == 0)
                return true;
            s += n;
        }
    }
    return false;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int mk_http_unescape(char *s, bool plus_is_space)
{
    char *o = s;
    for (char *i = s; *i; i++) {
        if (*i == '%') {
            int a = hexval(i[1]), b = a < 0 ? -1 : hexval(i[2]);
            if (a < 0 || b < 0 || (a == 0 && b == 0))
                return -1;
            *o++ = (char)(a * 16 + b);
            i += 2;
        } else
            *o++ = plus_is_space && *i == '+' ? ' ' : *i;
    }
    *o = '\0';
    return 0;
}

const char *mk_http_strip_version(const char *path, char **version)
{
    *version = NULL;
    if (path[0] != '/' || path[1] != 'v')
        return path;
    size_t n = strspn(path + 2, "0123456789.");
    if (n == 0 || !isdigit((unsigned char)path[2]) || (path[2 + n] != '/' && path[2 + n] != '\0'))
        return path;
    *version = xstrndup(path + 2, n);
    return path[2 + n] ? path + 2 + n : "/";
}

/* Calls fn for every key=value pair of the query, both decoded; stops when fn
 * returns true. */
static void query_each(const struct mk_http_request *r,
                       bool (*fn)(const char *k, const char *v, void *ctx), void *ctx)
{
    if (r->query == NULL)
        return;
    _cleanup_free_ char *q = xstrdup(r->query);
    char *save = NULL;
    for (char *pair = strtok_r(q, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        const char *v = "";
        if (eq != NULL) {
            *eq = '\0';
            v = eq + 1;
        }
        _cleanup_free_ char *k = xstrdup(pair);
        _cleanup_free_ char *val = xstrdup(v);
        /* a pair that does not decode is skipped, as Go's ParseQuery drops it */
        if (mk_http_unescape(k, true) < 0 || mk_http_unescape(val, true) < 0)
            continue;
        if (fn(k, val, ctx))
            return;
    }
}

struct query_find {
    const char *key;
    char **all;
    bool first_only;
};

static bool query_find_one(const char *k, const char *v, void *ctx)
{
    struct query_find *f = ctx;
    if (strcmp(k, f->key) != 0)
        return false;
    mk_strv_push(&f->all, v);
    return f->first_only;
}

char *mk_http_query(const struct mk_http_request *r, const char *key)
{
    struct query_find f = {key, NULL, true};
    query_each(r, query_find_one, &f);
    char *v = f.all ? xstrdup(f.all[0]) : NULL;
    mk_strv_free(f.all);
    return v;
}

char **mk_http_query_all(const struct mk_http_request *r, const char *key)
{
    struct query_find f = {key, NULL, false};
    query_each(r, query_find_one, &f);
    return f.all;
}

bool mk_http_query_bool(const struct mk_http_request *r, const char *key, bool dflt)
{
    _cleanup_free_ char *v = mk_http_query(r, key);
    if (v == NULL || *v == '\0')
        return dflt;
    static const char *const no[] = {"0", "no", "false", "none"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (strcasecmp(v, no[i]) == 0)
            return false;
    return true;
}

/* The request line: METHOD SP origin-form SP HTTP/1.x */
static int parse_request_line(struct mk_http_parser *p, char *line)
{
    struct mk_http_request *r = p->req;
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL)
        return fail(p, 400, "malformed request line");
    if (!token_ok(line, (size_t)(sp1 - line)))
        return fail(p, 400, "malformed request method");
    const char *ver = sp2 + 1;
    if (strncmp(ver, "HTTP/", 5) != 0 || !isdigit((unsigned char)ver[5]) || ver[6] != '.' ||
        !isdigit((unsigned char)ver[7]) || ver[8] != '\0')
        return fail(p, 400, "malformed HTTP version");
    if (ver[5] != '1')
        return fail(p, 505, "HTTP version not supported");
    r->minor = ver[7] - '0';
    r->method = xstrndup(line, (size_t)(sp1 - line));
    r->target = xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    if (r->target[0] != '/')
        return fail(p, 400, "malformed request target");
    for (const char *c = r->target; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return fail(p, 400, "malformed request target");
    char *qm = strchr(r->target, '?');
    _cleanup_free_ char *raw = xstrndup(r->target, qm ? (size_t)(qm - r->target) : strlen(r->target));
    if (qm != NULL)
        r->query = xstrdup(qm + 1);
    if (mk_http_unescape(raw, false) < 0)
        return fail(p, 400, "malformed request target");
    r->path = xstrdup(mk_http_strip_version(raw, &r->api_version));
    return 0;
}

static int parse_header_line(struct mk_http_parser *p, char *line)
{
    struct mk_http_request *r = p->req;
    if (line[0] == ' ' || line[0] == '\t')
        return fail(p, 400, "folded header lines are not accepted");
    char *colon = strchr(line, ':');
    if (colon == NULL || !token_ok(line, (size_t)(colon - line)))
        return fail(p, 400, "malformed header line");
    if (r->n_headers >= p->limits.max_headers)
        return fail(p, 431, "too many header fields");
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t vl = strlen(v);
    while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
    for (size_t i = 0; i < vl; i++)
        if (((unsigned char)v[i] < ' ' && v[i] != '\t') || v[i] == 0x7f)
            return fail(p, 400, "malformed header value");
    r->headers = xrealloc(r->headers, (r->n_headers + 1) * sizeof(*r->headers));
    r->headers[r->n_headers].name = xstrndup(line, (size_t)(colon - line));
    r->headers[r->n_headers].value = xstrndup(v, vl);
    r->n_headers++;
    return 0;
}

/* How the body is delimited, from the parsed headers. */
static int body_framing(struct mk_http_parser *p)
{
    struct mk_http_request *r = p->req;
    const char *te = NULL;
    const char *cl = NULL;
    for (size_t i = 0; i < r->n_headers; i++) {
        if (strcasecmp(r->headers[i].name, "Transfer-Encoding") == 0) {
            /* "chunked" twice would be two codings: a proxy may read it otherwise */
            if (te != NULL)
                return fail(p, 400, "repeated Transfer-Encoding headers");
            te = r->headers[i].value;
        }
        if (strcasecmp(r->headers[i].name, "Content-Length") != 0)
            continue;
        if (cl != NULL && strcmp(cl, r->headers[i].value) != 0)
            return fail(p, 400, "conflicting Content-Length headers");
        cl = r->headers[i].value;
    }
    /* asked only when there is a body: a router lookup per request otherwise */
    size_t limit = p->body_limit && (te || cl) ? p->body_limit(r, p->body_limit_ud) : 0;
    p->body_max = limit ? limit : p->limits.max_body;
    if (te != NULL) {
        if (cl != NULL)
            return fail(p, 400, "both Transfer-Encoding and Content-Length");
        if (strcasecmp(te, "chunked") != 0)
            return fail(p, 501, "unsupported transfer encoding");
        p->state = MK_HTTP_CHUNK_SIZE;
        return 0;
    }
    if (cl != NULL) {
        if (*cl == '\0' || strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > 18)
            return fail(p, 400, "malformed Content-Length");
        unsigned long long n = strtoull(cl, NULL, 10);
        if (n > p->body_max)
            return fail(p, 413, "request body too large");
        if (!budget_take(p, in_memory(p, (size_t)n)))
            return fail(p, 503, "the server is busy receiving other requests' bodies; retry later");
        p->remaining = (size_t)n;
        p->state = n > 0 ? MK_HTTP_BODY : MK_HTTP_DONE;
        return 0;
    }
    p->state = MK_HTTP_DONE;
    return 0;
}

/* Offset just past the blank line that ends the head, or 0 if not there yet. */
static size_t head_end(struct mk_http_parser *p)
{
    const char *d = in_data(p);
    size_t len = in_len(p);
    size_t from = p->scanned > 2 ? p->scanned - 2 : 0;
    for (size_t i = from; i < len; i++) {
        const char *nl = memchr(d + i, '\n', len - i);
        if (nl == NULL)
            break;
        i = (size_t)(nl - d);
        if (i + 1 < len && d[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && d[i + 1] == '\r' && d[i + 2] == '\n')
            return i + 3;
    }
    p->scanned = len;
    return 0;
}

static int parse_head(struct mk_http_parser *p)
{
    /* blank lines before a request are ignored (RFC 9112 2.2) */
    size_t skip = 0;
    while (skip < in_len(p) && (in_data(p)[skip] == '\r' || in_data(p)[skip] == '\n'))
        skip++;
    if (skip > 0)
        consume(p, skip);
    if (in_len(p) == 0)
        return 0;
    size_t end = head_end(p);
    if (end == 0) {
        if (in_len(p) > p->limits.max_header_bytes)
            return fail(p, 431, "request header fields too large");
        return 0;
    }
    if (end > p->limits.max_header_bytes)
        return fail(p, 431, "request header fields too large");
    p->scanned = 0;
    _cleanup_free_ char *head = xstrndup(in_data(p), end);
    if (strlen(head) != end)
        return fail(p, 400, "NUL byte in request head");
    consume(p, end);
    p->req = xcalloc(1, sizeof(*p->req));
    char *save = NULL;
    bool first = true;
    for (char *line = strtok_r(head, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = '\0';
        if (n == 0)
            break;
        if (strchr(line, '\r') != NULL)
            return fail(p, 400, "bare CR in request head");
        if ((first ? parse_request_line(p, line) : parse_header_line(p, line)) < 0)
            return -1;
        first = false;
    }
    struct mk_http_request *r = p->req;
    r->keep_alive = r->minor >= 1 ? !mk_http_header_has_token(r, "Connection", "close")
                                  : mk_http_header_has_token(r, "Connection", "keep-alive");
    const char *up = mk_http_header(r, "Upgrade");
    r->upgrade = up != NULL && strcasecmp(up, "tcp") == 0 &&
                 mk_http_header_has_token(r, "Connection", "upgrade");
    return body_framing(p);
}

/* One line of the chunked framing (size or trailer), without its end; 0 if
 * the line is not complete yet. */
static int take_line(struct mk_http_parser *p, size_t max, char **line)
{
    const char *d = in_data(p);
    char *nl = memchr(d, '\n', in_len(p));
    if (nl == NULL) {
        if (in_len(p) > max)
            return fail(p, 400, "malformed chunked encoding");
        return 0;
    }
    size_t n = (size_t)(nl - d);
    if (n > max || memchr(d, '\0', n) != NULL)
        return fail(p, 400, "malformed chunked encoding");
    *line = xstrndup(d, n > 0 && nl[-1] == '\r' ? n - 1 : n);
    consume(p, n + 1);
    return 1;
}

static int parse_chunk_size(struct mk_http_parser *p)
{
    _cleanup_free_ char *line = NULL;
    int r = take_line(p, MAX_CHUNK_LINE, &line);
    if (r <= 0)
        return r;
    size_t digits = strspn(line, "0123456789abcdefABCDEF");
    if (digits == 0 || digits > 15 || (line[digits] != '\0' && line[digits] != ';'))
        return fail(p, 400, "malformed chunk size");
    size_t size = (size_t)strtoull(line, NULL, 16);
    if (size > p->body_max || p->body_total + size > p->body_max)
        return fail(p, 413, "request body too large");
    if (!budget_take(p, in_memory(p, size)))
        return fail(p, 503, "the server is busy receiving other requests' bodies; retry later");
    p->remaining = size;
    p->state = size == 0 ? MK_HTTP_TRAILER : MK_HTTP_CHUNK_DATA;
    p->scanned = 0;
    return 1;
}

/* An unlinked file in dir (O_TMPFILE, or a named one removed at once where
 * the filesystem lacks it). */
static int open_spool(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    _cleanup_free_ char *path = xasprintf("%s/body.XXXXXX", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

/* Body bytes: in memory, or past spool_after of an upload, in the spool file. */
static int body_store(struct mk_http_parser *p, const char *data, size_t n)
{
    p->body_total += n;
    if (p->spool_fd < 0 && spools(p) && p->body.len + n > p->spool_after) {
        p->spool_fd = open_spool(p->spool_dir);
        if (p->spool_fd < 0 || mk_write_all(p->spool_fd, p->body.data, p->body.len) < 0)
            return -1;
        mk_buf_free(&p->body);
        budget_release(p, &p->reserved);
    }
    if (p->spool_fd >= 0)
        return mk_write_all(p->spool_fd, data, n);
    mk_buf_append(&p->body, data, n);
    return 0;
}

/* Advance as far as the buffered bytes allow; 1 when the request is complete. */
static int step(struct mk_http_parser *p)
{
    for (;;) {
        switch (p->state) {
        case MK_HTTP_HEAD:
            if (parse_head(p) < 0)
                return -1;
            if (p->state == MK_HTTP_HEAD)
                return 0;
            break;
        case MK_HTTP_BODY:
        case MK_HTTP_CHUNK_DATA: {
            size_t n = in_len(p) < p->remaining ? in_len(p) : p->remaining;
            if (body_store(p, in_data(p), n) < 0)
                return fail(p, 507, "cannot store the request body");
            consume(p, n);
            p->remaining -= n;
            if (p->remaining > 0)
                return 0;
            p->state = p->state == MK_HTTP_BODY ? MK_HTTP_DONE : MK_HTTP_CHUNK_END;
            break;
        }
        case MK_HTTP_CHUNK_SIZE: {
            int r = parse_chunk_size(p);
            if (r <= 0)
                return r;
            break;
        }
        case MK_HTTP_CHUNK_END: {
            const char *d = in_data(p);
            if (in_len(p) < 1 || (d[0] == '\r' && in_len(p) < 2))
                return 0;
            size_t n = d[0] == '\n' ? 1 : d[0] == '\r' && d[1] == '\n' ? 2 : 0;
            if (n == 0)
                return fail(p, 400, "malformed chunked encoding");
            consume(p, n);
            p->state = MK_HTTP_CHUNK_SIZE;
            break;
        }
        case MK_HTTP_TRAILER: {
            /* trailer fields are read and dropped, within the header budget */
            _cleanup_free_ char *line = NULL;
            int r = take_line(p, p->limits.max_header_bytes, &line);
            if (r <= 0)
                return r;
            p->scanned += strlen(line) + 2;
            if (p->scanned > p->limits.max_header_bytes)
                return fail(p, 431, "request header fields too large");
            if (*line == '\0') {
                p->scanned = 0;
                p->state = MK_HTTP_DONE;
            }
            break;
        }
        case MK_HTTP_DONE:
            return 1;
        case MK_HTTP_ERROR:
        default:
            return -1;
        }
    }
}

int mk_http_parser_next(struct mk_http_parser *p, struct mk_http_request **out)
{
    budget_release(p, &p->held);
    int r = step(p);
    if (r <= 0)
        return r;
    struct mk_http_request *req = steal_pointer(&p->req);
    req->body_len = p->body_total;
    if (p->spool_fd >= 0) {
        req->spooled = true;
        req->body_fd = steal_fd(&p->spool_fd);
    } else {
        req->body = p->body.len ? mk_buf_steal(&p->body) : NULL;
    }
    mk_buf_free(&p->body);
    p->body_total = 0;
    p->held = p->reserved;
    p->reserved = 0;
    p->state = MK_HTTP_HEAD;
    p->scanned = 0;
    *out = req;
    return 1;
}

const char *mk_http_status_text(int status)
{
    switch (status) {
    case 101: return "UPGRADED";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Request Entity Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
    }
}

void mk_http_format_head(mk_buf *b, int status, const char *content_type,
                         int64_t content_length, bool keep_alive, const char *extra)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    mk_buf_printf(b,
                  "HTTP/1.1 %d %s\r\nApi-Version: 1.47\r\nDocker-Experimental: false\r\n"
                  "Ostype: linux\r\nServer: mocker/%s (linux)\r\nDate: %s\r\n",
                  status, mk_http_status_text(status), MK_VERSION, date);
    if (content_type != NULL)
        mk_buf_printf(b, "Content-Type: %s\r\n", content_type);
    if (content_length >= 0)
        mk_buf_printf(b, "Content-Length: %lld\r\n", (long long)content_length);
    else if (content_length == -1)
        mk_buf_puts(b, "Transfer-Encoding: chunked\r\n");
    if (status == 101)
        mk_buf_puts(b, "Connection: Upgrade\r\nUpgrade: tcp\r\n");
    else if (!keep_alive)
        mk_buf_puts(b, "Connection: close\r\n");
    if (extra != NULL)
        mk_buf_puts(b, extra);
    mk_buf_puts(b, "\r\n");
}

void mk_http_reply_init(struct mk_http_reply *w, int fd, const struct mk_http_request *req)
{
    memset(w, 0, sizeof(*w));
    w->fd = fd;
    w->head_only = req != NULL && strcmp(req->method, "HEAD") == 0;
    w->keep_alive = req == NULL || req->keep_alive;
}

void mk_http_reply_clear(struct mk_http_reply *w)
{
    mk_buf_free(&w->extra);
}

void mk_http_reply_header(struct mk_http_reply *w, const char *name, const char *value)
{
    mk_buf_printf(&w->extra, "%s: %s\r\n", name, value);
}

/* The pieces in one writev where the socket takes them: a response's head
 * and body (or a chunk's size, data and end) in separate writes would wake
 * the client twice, halving a keep-alive client's request rate. */
static int putv(struct mk_http_reply *w, struct iovec *iov, int n)
{
    if (w->failed)
        return -1;
    while (n > 0) {
        ssize_t done = writev(w->fd, iov, n);
        if (done < 0 && errno == EINTR)
            continue;
        if (done < 0) {
            w->failed = true;
            w->keep_alive = false;
            return -1;
        }
        while (n > 0 && (size_t)done >= iov->iov_len) {
            done -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + done;
            iov->iov_len -= (size_t)done;
        }
    }
    return 0;
}

static int put(struct mk_http_reply *w, const void *data, size_t len)
{
    struct iovec iov = {(void *)data, len};
    return putv(w, &iov, len > 0 ? 1 : 0);
}

/* The head, and body (len bytes, may be 0) right behind it. */
static int put_head_body(struct mk_http_reply *w, int status, const char *content_type,
                         int64_t content_length, const void *body, size_t len)
{
    if (w->started)
        return -1;
    w->started = true;
    w->status = status;
    mk_buf b = {0};
    mk_http_format_head(&b, status, content_type, content_length, w->keep_alive, w->extra.data);
    struct iovec iov[2] = {{b.data, b.len}, {(void *)body, len}};
    int r = putv(w, iov, len > 0 ? 2 : 1);
    mk_buf_free(&b);
    return r;
}

static int put_head(struct mk_http_reply *w, int status, const char *content_type, int64_t len)
{
    return put_head_body(w, status, content_type, len, NULL, 0);
}

int mk_http_reply_send(struct mk_http_reply *w, int status, const char *content_type,
                      const void *body, size_t len)
{
    /* 204 and 304 carry no body and no length (RFC 9110 8.6) */
    bool bodiless = status == 204 || status == 304;
    bool no_body = w->head_only || bodiless;
    return put_head_body(w, status, content_type, bodiless ? -2 : (int64_t)len,
                         no_body ? NULL : body, no_body ? 0 : len);
}

int mk_http_reply_json(struct mk_http_reply *w, int status, const json_t *body)
{
    _cleanup_free_ char *s = mk_json_dump(body);
    _cleanup_free_ char *line = xasprintf("%s\n", s);
    return mk_http_reply_send(w, status, "application/json", line, strlen(line));
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), 0 when there is none. */
static size_t utf8_seq(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
             : s[0] >= 0xf0 && s[0] <= 0xf4                                  ? 4
                                                                               : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
        return 0;
    return n;
}

char *mk_utf8_sanitize(const char *s)
{
    mk_buf b = {0};
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        size_t n = utf8_seq(u);
        if (n == 0) {
            mk_buf_puts(&b, "\xef\xbf\xbd");
            u++;
        } else {
            mk_buf_append(&b, u, n);
            u += n;
        }
    }
    return b.data ? mk_buf_steal(&b) : xstrdup("");
}

int mk_http_reply_error(struct mk_http_reply *w, int status, const char *message)
{
    _cleanup_free_ char *clean = mk_utf8_sanitize(message ? message : "");
    _cleanup_json_ json_t *j = json_pack("{s:s}", "message", clean);
    return mk_http_reply_json(w, status, j);
}

int mk_http_reply_begin_chunked(struct mk_http_reply *w, int status, const char *content_type)
{
    if (put_head(w, status, content_type, w->head_only ? 0 : -1) < 0)
        return -1;
    w->chunked = !w->head_only;
    return 0;
}

int mk_http_reply_chunk(struct mk_http_reply *w, const void *data, size_t len)
{
    if (!w->chunked)
        return w->head_only ? 0 : -1;
    if (len == 0) /* an empty chunk would end the body */
        return 0;
    char size[32];
    int n = snprintf(size, sizeof(size), "%zx\r\n", len);
    struct iovec iov[3] = {{size, (size_t)n}, {(void *)data, len}, {(void *)"\r\n", 2}};
    return putv(w, iov, 3);
}

int mk_http_reply_json_chunk(struct mk_http_reply *w, const json_t *value)
{
    _cleanup_free_ char *s = mk_json_dump(value);
    _cleanup_free_ char *line = xasprintf("%s\n", s);
    return mk_http_reply_chunk(w, line, strlen(line));
}

int mk_http_reply_end_chunked(struct mk_http_reply *w)
{
    if (!w->chunked)
        return w->head_only ? 0 : -1;
    w->chunked = false;
    return put(w, "0\r\n\r\n", 5);
}

int mk_http_reply_hijack(struct mk_http_reply *w, const struct mk_http_request *req,
                        const char *content_type)
{
    w->keep_alive = false;
    return put_head(w, req->upgrade ? 101 : 200, content_type, -2);
}
