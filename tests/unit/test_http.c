/* test_http.c: the Engine API's HTTP parser, reply writer and router. */
#include "api/api.h"
#include "tap.h"

#include <string.h>
#include <sys/socket.h>

/* Parse all of s fed in pieces of `step` bytes; the first request or NULL. */
static struct mk_http_request *parse_in_steps(const char *s, size_t len, size_t step, int *rc,
                                              struct mk_http_parser *p)
{
    struct mk_http_request *req = NULL;
    *rc = 0;
    for (size_t off = 0; off < len && *rc == 0; off += step) {
        size_t n = len - off < step ? len - off : step;
        mk_http_parser_feed(p, s + off, n);
        *rc = mk_http_parser_next(p, &req);
    }
    return req;
}

static void test_request_line_and_headers(void)
{
    static const char raw[] = "GET /v1.47/containers/json?all=1&filters=%7B%22a%22%3A1%7D HTTP/1.1\r\n"
                              "Host: docker\r\nX-Thing:  spaced value  \r\nconnection: keep-alive\r\n\r\n";
    for (size_t step = 1; step <= sizeof(raw); step++) {
        struct mk_http_parser p;
        mk_http_parser_init(&p, NULL);
        int rc;
        struct mk_http_request *r = parse_in_steps(raw, sizeof(raw) - 1, step, &rc, &p);
        CHECK_INT(rc, 1);
        CHECK_STR(r->method, "GET");
        CHECK_STR(r->path, "/containers/json");
        CHECK_STR(r->api_version, "1.47");
        CHECK_STR(mk_http_header(r, "HOST"), "docker");
        CHECK_STR(mk_http_header(r, "x-thing"), "spaced value");
        CHECK(r->keep_alive);
        CHECK(!r->upgrade);
        char *all = mk_http_query(r, "all");
        char *f = mk_http_query(r, "filters");
        CHECK_STR(all, "1");
        CHECK_STR(f, "{\"a\":1}");
        free(all);
        free(f);
        CHECK(mk_http_query_bool(r, "all", false));
        CHECK(!mk_http_query_bool(r, "none", false));
        mk_http_request_free(r);
        mk_http_parser_clear(&p);
    }
}

static void test_version_prefix(void)
{
    char *v = NULL;
    CHECK_STR(mk_http_strip_version("/v1.24/_ping", &v), "/_ping");
    CHECK_STR(v, "1.24");
    free(v);
    CHECK_STR(mk_http_strip_version("/v9.99/version", &v), "/version");
    free(v);
    CHECK_STR(mk_http_strip_version("/volumes", &v), "/volumes");
    CHECK(v == NULL);
    CHECK_STR(mk_http_strip_version("/v1.47x/info", &v), "/v1.47x/info");
    CHECK(v == NULL);
    CHECK_STR(mk_http_strip_version("/v/info", &v), "/v/info");
    CHECK(v == NULL);
}

static int parse_one(const char *raw, struct mk_http_request **out, int *status,
                     const struct mk_http_limits *lim)
{
    struct mk_http_parser p;
    mk_http_parser_init(&p, lim);
    mk_http_parser_feed(&p, raw, strlen(raw));
    int rc = mk_http_parser_next(&p, out);
    *status = p.error_status;
    mk_http_parser_clear(&p);
    return rc;
}

static void test_bodies(void)
{
    struct mk_http_request *r = NULL;
    int st;
    CHECK_INT(parse_one("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", &r, &st, NULL), 1);
    CHECK_INT(r->body_len, 5);
    CHECK_STR(r->body, "hello");
    mk_http_request_free(r);
    /* chunked, with an extension and a trailer, bare-LF lines, fed a byte at a time */
    static const char ch[] = "PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n";
    struct mk_http_parser p;
    mk_http_parser_init(&p, NULL);
    int rc;
    r = parse_in_steps(ch, sizeof(ch) - 1, 1, &rc, &p);
    CHECK_INT(rc, 1);
    CHECK_STR(r->body, "hello world");
    mk_http_request_free(r);
    mk_http_parser_clear(&p);
    CHECK_INT(parse_one("PUT /x HTTP/1.1\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n", &r, &st, NULL), 1);
    CHECK_STR(r->body, "abc");
    mk_http_request_free(r);
}

static void test_limits_and_malformed(void)
{
    struct mk_http_limits lim = {.max_header_bytes = 256, .max_headers = 4, .max_body = 16};
    struct mk_http_request *r = NULL;
    int st;
    char big[1024];
    snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: %0300d\r\n\r\n", 0);
    CHECK_INT(parse_one(big, &r, &st, &lim), -1);
    CHECK_INT(st, 431);
    /* no end of head yet, but already over the limit */
    snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: %0300d", 0);
    CHECK_INT(parse_one(big, &r, &st, &lim), -1);
    CHECK_INT(st, 431);
    CHECK_INT(parse_one("GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n", &r, &st, &lim), -1);
    CHECK_INT(st, 431);
    CHECK_INT(parse_one("POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n", &r, &st, &lim), -1);
    CHECK_INT(st, 413);
    CHECK_INT(parse_one("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n1\r\nx\r\n", &r, &st, &lim), -1);
    CHECK_INT(st, 413);
    static const char *const bad[] = {
        "GET\r\n\r\n",
        "GET / HTTP/1.1 extra\r\n\r\n",
        "GET nopath HTTP/1.1\r\n\r\n",
        "GET / HTTX/1.1\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
        "GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n",
        "GET /%zz HTTP/1.1\r\n\r\n",
        "GET /a%00b HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nA: x\ry\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse_one(bad[i], &r, &st, NULL) != -1 || st != 400)
            FAIL_AT("accepted or wrong status %d: %s", st, bad[i]);
    }
    CHECK_INT(parse_one("GET / HTTP/2.0\r\n\r\n", &r, &st, NULL), -1);
    CHECK_INT(st, 505);
    CHECK_INT(parse_one("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", &r, &st, NULL), -1);
    CHECK_INT(st, 501);
}

static void test_pipelined_and_keepalive(void)
{
    static const char raw[] = "\r\nGET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"
                              "GET /c HTTP/1.0\r\n\r\nGET /d HTTP/1.1\r\nConnection: close\r\n\r\n"
                              "POST /e HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nRAW";
    struct mk_http_parser p;
    mk_http_parser_init(&p, NULL);
    mk_http_parser_feed(&p, raw, sizeof(raw) - 1);
    const char *paths[] = {"/a", "/b", "/c", "/d", "/e"};
    const bool alive[] = {true, true, false, false, true};
    for (size_t i = 0; i < 5; i++) {
        struct mk_http_request *r = NULL;
        CHECK_INT(mk_http_parser_next(&p, &r), 1);
        CHECK_STR(r->path, paths[i]);
        CHECK_INT(r->keep_alive, alive[i]);
        if (i == 1)
            CHECK_STR(r->body, "hi");
        if (i == 4)
            CHECK(r->upgrade);
        mk_http_request_free(r);
    }
    size_t n;
    const char *rest = mk_http_parser_pending(&p, &n);
    CHECK_INT(n, 3);
    CHECK(memcmp(rest, "RAW", 3) == 0);
    mk_http_parser_clear(&p);
}

/* What a reply wrote, read back from a socketpair. */
static char *written(int fd)
{
    mk_buf b = {0};
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        mk_buf_append(&b, buf, (size_t)n);
    return b.data ? mk_buf_steal(&b) : xstrdup("");
}

static void test_writer(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    struct mk_http_reply w;
    mk_http_reply_init(&w, sv[0], NULL);
    json_t *j = json_pack("{s:s}", "Path", "/a/b");
    mk_http_reply_json(&w, 200, j);
    json_decref(j);
    mk_http_reply_clear(&w);
    mk_http_reply_init(&w, sv[0], NULL);
    mk_http_reply_begin_chunked(&w, 200, "application/json");
    mk_http_reply_chunk(&w, "abc", 3);
    mk_http_reply_chunk(&w, "", 0);
    mk_http_reply_end_chunked(&w);
    mk_http_reply_clear(&w);
    struct mk_http_request up = {.method = "POST", .upgrade = true, .keep_alive = true};
    mk_http_reply_init(&w, sv[0], &up);
    mk_http_reply_hijack(&w, &up, "application/vnd.docker.raw-stream");
    CHECK(!w.keep_alive);
    mk_http_reply_clear(&w);
    close(sv[0]);
    char *out = written(sv[1]);
    close(sv[1]);
    CHECK(strstr(out, "HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nDocker-Experimental: false\r\nOstype: linux\r\nServer: mocker/") == out);
    CHECK(strstr(out, "Content-Length: 16\r\n") != NULL);
    CHECK(strstr(out, "\r\n\r\n{\"Path\":\"/a/b\"}\n") != NULL);
    CHECK(strstr(out, "Transfer-Encoding: chunked\r\n") != NULL);
    CHECK(strstr(out, "\r\n\r\n3\r\nabc\r\n0\r\n\r\n") != NULL);
    CHECK(strstr(out, "HTTP/1.1 101 UPGRADED\r\n") != NULL);
    CHECK(strstr(out, "Connection: Upgrade\r\nUpgrade: tcp\r\n") != NULL);
    free(out);
}

static int dummy(struct mk_api_ctx *c, mk_err **err)
{
    return 0;
}

static void test_router(void)
{
    static const struct mk_api_route t[] = {
        {"GET", "/containers/json", dummy},
        {"GET", "/containers/{id}/json", dummy},
        {"GET", "/images/{name*}/json", dummy},
        {"*", "/swarm/{rest*}", dummy},
        {NULL, NULL, NULL},
    };
    char **params = NULL;
    CHECK(mk_api_route_match(t, "GET", "/containers/json", &params) == &t[0]);
    mk_strv_free(params);
    params = NULL;
    CHECK(mk_api_route_match(t, "GET", "/containers/abc/json", &params) == &t[1]);
    CHECK_STR(params[0], "id");
    CHECK_STR(params[1], "abc");
    mk_strv_free(params);
    params = NULL;
    CHECK(mk_api_route_match(t, "GET", "/images/127.0.0.1:5000/a/b:1/json", &params) == &t[2]);
    CHECK_STR(params[1], "127.0.0.1:5000/a/b:1");
    mk_strv_free(params);
    params = NULL;
    CHECK(mk_api_route_match(t, "POST", "/swarm/init", &params) == &t[3]);
    mk_strv_free(params);
    params = NULL;
    CHECK(mk_api_route_match(t, "POST", "/containers/json", &params) == NULL);
    CHECK(mk_api_route_match(t, "GET", "/containers/a/b/json", &params) == NULL);
    CHECK(mk_api_route_match(t, "GET", "/images/json", &params) == NULL);
    CHECK(mk_api_route_match(t, "GET", "/swarm", &params) == NULL);
}

static void test_filters(void)
{
    struct mk_http_request r = {.query = "filters=%7B%22label%22%3A%7B%22a%3Db%22%3Atrue%7D%2C%22status%22%3A%5B%22exited%22%5D%7D"};
    char **kv = NULL;
    CHECK(mk_api_filters(&r, &kv, NULL) == 0);
    CHECK_INT(mk_strv_len(kv), 2);
    CHECK(mk_strv_contains(kv, "label=a=b"));
    CHECK(mk_strv_contains(kv, "status=exited"));
    mk_strv_free(kv);
    struct mk_http_request bad = {.query = "filters=notjson"};
    mk_err *err = NULL;
    CHECK(mk_api_filters(&bad, &kv, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_INVALID);
    mk_err_free(err);
}

/* Random and mutated requests, fed in random pieces: every outcome is a
 * request, a wait for more, or a 4xx/5xx; never a crash (ASan runs this too). */
static void test_fuzz(void)
{
    static const char *const seeds[] = {
        "GET /v1.47/containers/json?all=1 HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
        "PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    };
    struct mk_http_limits lim = {.max_header_bytes = 512, .max_headers = 8, .max_body = 64};
    unsigned seed = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        const char *s = seeds[iter % 3];
        size_t len = strlen(s);
        char buf[600];
        memcpy(buf, s, len);
        int muts = 1 + rand_r(&seed) % 4;
        for (int m = 0; m < muts; m++) {
            int kind = rand_r(&seed) % 4;
            size_t at = (size_t)rand_r(&seed) % len;
            if (kind == 0)
                buf[at] = (char)(rand_r(&seed) % 256);
            else if (kind == 1 && len > 1) {
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
            } else if (kind == 2 && len < sizeof(buf) - 1) {
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = "\r\n:; 0aZ%/?"[rand_r(&seed) % 11];
                len++;
            } else if (kind == 3)
                len = at + 1;
        }
        struct mk_http_parser p;
        mk_http_parser_init(&p, &lim);
        size_t off = 0;
        int rc = 0;
        while (off < len && rc >= 0) {
            size_t n = 1 + (size_t)rand_r(&seed) % 16;
            if (n > len - off)
                n = len - off;
            mk_http_parser_feed(&p, buf + off, n);
            off += n;
            struct mk_http_request *r = NULL;
            while ((rc = mk_http_parser_next(&p, &r)) == 1)
                mk_http_request_free(r);
        }
        if (rc < 0 && (p.error_status < 400 || p.error_status > 505))
            FAIL_AT("iteration %d: status %d", iter, p.error_status);
        mk_http_parser_clear(&p);
    }
}

int main(void)
{
    RUN(test_request_line_and_headers);
    RUN(test_version_prefix);
    RUN(test_bodies);
    RUN(test_limits_and_malformed);
    RUN(test_pipelined_and_keepalive);
    RUN(test_writer);
    RUN(test_router);
    RUN(test_filters);
    RUN(test_fuzz);
    return tap_done();
}
