/* test_http_robust.c: the request parser against hostile input: request
 * smuggling shapes, NUL bytes, pipelining cost, body limits per request and
 * across connections, and error messages that are not UTF-8. */
#include "api/api.h"
#include "tap.h"

#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Feed s whole; the status of the first failure, 0 when a request came out
 * (freed), -2 when more bytes are needed. */
static int parse_status(struct mk_http_parser *p, const char *s, size_t len)
{
    mk_http_parser_feed(p, s, len);
    struct mk_http_request *r = NULL;
    int rc = mk_http_parser_next(p, &r);
    mk_http_request_free(r);
    return rc < 0 ? p->error_status : rc == 1 ? 0 : -2;
}

static int status_of(const char *s, size_t len)
{
    struct mk_http_parser p;
    mk_http_parser_init(&p, NULL);
    int st = parse_status(&p, s, len);
    mk_http_parser_clear(&p);
    return st;
}
#define STATUS(lit) status_of(lit, sizeof(lit) - 1)

static void test_framing_ambiguity(void)
{
    CHECK_INT(STATUS("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
              400);
    CHECK_INT(STATUS("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), 400);
    CHECK_INT(STATUS("POST / HTTP/1.1\r\nContent-Length: 5\r\ntransfer-encoding: chunked\r\n\r\n"), 400);
    CHECK_INT(STATUS("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\0zz\r\nhello\r\n0\r\n\r\n"), 400);
    CHECK_INT(STATUS("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a\0b\r\nhello\r\n0\r\n\r\n"), 400);
    CHECK_INT(STATUS("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX: a\0b\r\n\r\n"), 400);
    CHECK_INT(STATUS("GET /\0 HTTP/1.1\r\n\r\n"), 400);
    /* the same without the hostile byte is fine */
    CHECK_INT(STATUS("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\n\r\n"), 0);
}

/* Many small pipelined requests in one read: each is parsed without moving
 * the rest of the buffer (that was quadratic: 100k requests, 2.4 MB, took
 * minutes). */
static void test_pipelining_is_linear(void)
{
    static const char one[] = "GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n";
    const size_t n = 100000;
    mk_buf all = {0};
    for (size_t i = 0; i < n; i++)
        mk_buf_append(&all, one, sizeof(one) - 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct mk_http_parser p;
    mk_http_parser_init(&p, NULL);
    mk_http_parser_feed(&p, all.data, all.len);
    size_t got = 0;
    struct mk_http_request *r = NULL;
    while (mk_http_parser_next(&p, &r) == 1) {
        got++;
        mk_http_request_free(r);
        /* a client that keeps sending while we parse */
        if (got % 1000 == 0)
            mk_http_parser_feed(&p, one, sizeof(one) - 1);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    mk_http_parser_clear(&p);
    mk_buf_free(&all);
    CHECK_INT(got, n + n / 1000);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (s > 5.0) /* linear: well under a second even under ASan */
        FAIL_AT("%zu pipelined requests took %.1f s", n, s);
}

static size_t limit_by_path(const struct mk_http_request *req, void *ud)
{
    (void)ud;
    return strcmp(req->path, "/upload") == 0 ? 200 : strcmp(req->path, "/small") == 0 ? 10 : 0;
}

static void test_per_request_limit(void)
{
    struct mk_http_limits lim = mk_http_default_limits;
    lim.max_body = 50;
    const char *cases[][2] = {
        {"POST /small HTTP/1.1\r\nContent-Length: 11\r\n\r\n", "413"},
        {"POST /small HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", "0"},
        {"POST /other HTTP/1.1\r\nContent-Length: 51\r\n\r\n", "413"},
        /* an upload opts in past the default */
        {"POST /upload HTTP/1.1\r\nContent-Length: 150\r\n\r\n", "-2"},
        {"POST /upload HTTP/1.1\r\nContent-Length: 201\r\n\r\n", "413"},
        {"POST /small HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n6\r\n", "413"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mk_http_parser p;
        mk_http_parser_init(&p, &lim);
        p.body_limit = limit_by_path;
        int st = parse_status(&p, cases[i][0], strlen(cases[i][0]));
        mk_http_parser_clear(&p);
        if (st != atoi(cases[i][1]))
            FAIL_AT("case %zu: status %d, want %s", i, st, cases[i][1]);
    }
}

static void test_global_budget(void)
{
    struct mk_http_budget b = {.max = 100};
    struct mk_http_parser a, c;
    mk_http_parser_init(&a, NULL);
    mk_http_parser_init(&c, NULL);
    a.budget = c.budget = &b;
    static const char big[] = "POST / HTTP/1.1\r\nContent-Length: 80\r\n\r\n";
    static const char mid[] = "POST / HTTP/1.1\r\nContent-Length: 30\r\n\r\n";
    CHECK_INT(parse_status(&a, big, sizeof(big) - 1), -2); /* waiting for its body */
    CHECK_INT(b.used, 80);
    CHECK_INT(parse_status(&c, mid, sizeof(mid) - 1), 503);
    mk_http_parser_clear(&c);
    /* a's body arrives: the request is out, its budget held while it is handled */
    char body[80];
    memset(body, 'x', sizeof(body));
    mk_http_parser_feed(&a, body, sizeof(body));
    struct mk_http_request *r = NULL;
    CHECK_INT(mk_http_parser_next(&a, &r), 1);
    CHECK_INT(r->body_len, 80);
    CHECK_INT(b.used, 80);
    mk_http_request_free(r);
    CHECK_INT(mk_http_parser_next(&a, &r), 0); /* handled: given back */
    CHECK_INT(b.used, 0);
    /* chunked bodies take it chunk by chunk; clear gives back a partial one */
    mk_http_parser_init(&c, NULL);
    c.budget = &b;
    static const char ch[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3c\r\n";
    CHECK_INT(parse_status(&c, ch, sizeof(ch) - 1), -2);
    CHECK_INT(b.used, 60);
    mk_http_parser_clear(&c);
    CHECK_INT(b.used, 0);
    mk_http_parser_clear(&a);
}

static char *written(int fd)
{
    mk_buf b = {0};
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        mk_buf_append(&b, buf, (size_t)n);
    return b.data ? mk_buf_steal(&b) : xstrdup("");
}

static void test_utf8_errors(void)
{
    char *s = mk_utf8_sanitize("a\xff" "b \xc3\xa9 \xc0\xaf \xed\xa0\x80 \xf0\x9f\x90\xb3 \xe2\x82");
    CHECK_STR(s, "a\xef\xbf\xbd" "b \xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
                 "\xf0\x9f\x90\xb3 \xef\xbf\xbd\xef\xbf\xbd");
    free(s);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    struct mk_http_reply w;
    mk_http_reply_init(&w, sv[0], NULL);
    mk_http_reply_error(&w, 404, "No such container: \xfe\xff");
    mk_http_reply_clear(&w);
    close(sv[0]);
    char *out = written(sv[1]);
    close(sv[1]);
    bool ok = strstr(out, "\r\n\r\n{\"message\":\"No such container: \xef\xbf\xbd\xef\xbf\xbd\"}\n") != NULL;
    if (!ok)
        printf("# got: %s\n", out);
    free(out);
    CHECK(ok);
}

int main(void)
{
    RUN(test_framing_ambiguity);
    RUN(test_pipelining_is_linear);
    RUN(test_per_request_limit);
    RUN(test_global_budget);
    RUN(test_utf8_errors);
    return tap_done();
}
