/* fuzz_http.c: a fuzz target over what a client of mocker serve controls
 * before any handler runs: the request parser (fed in arbitrary pieces, with
 * per-route body limits and a shared budget), the router over the real route
 * table, and the request helpers handlers call (query values, filters, header
 * tokens, error bodies).
 *
 * One input: its first byte picks the piece sizes and the limits, the rest is
 * the byte stream of a connection.  The invariants checked beyond "no crash,
 * no leak, no undefined behaviour" (ASan+UBSan): every refusal is a 4xx/5xx
 * with a message, a request's path has no NUL and starts with '/', the budget
 * is all given back.
 *
 * Built two ways:
 * - with -DMK_LIBFUZZER and clang's -fsanitize=fuzzer (make fuzz-libfuzzer):
 *   libFuzzer's coverage-guided search;
 * - without (make check, make fuzz): the deterministic mutator loop in main()
 *   below, run for FUZZ_SECONDS (default 20), which needs no clang. */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_http: invariant broken: %s\n", what);
        abort();
    }
}

static size_t fuzz_body_limit(const struct mk_http_request *req, void *ud)
{
    /* the real rule: the matched route's limit (server.c's), scaled down */
    char **params = NULL;
    const struct mk_api_route *r = mk_api_route_match(mk_api_routes, req->method, req->path, &params);
    mk_strv_free(params);
    return r != NULL && r->max_body ? 4096 : *(const size_t *)ud;
}

/* What a handler might do with the request's parts. */
static void use_request(const struct mk_http_request *req)
{
    check(req->path != NULL && req->path[0] == '/', "path starts with /");
    check(req->body == NULL || req->body[req->body_len] == '\0', "body is NUL-terminated");
    char **params = NULL;
    const struct mk_api_route *r = mk_api_route_match(mk_api_routes, req->method, req->path, &params);
    if (r != NULL) {
        struct mk_api_ctx c = {.req = (struct mk_http_request *)req, .params = params};
        for (size_t i = 0; params && params[i]; i += 2) {
            check(params[i + 1] != NULL, "a capture has a value");
            check(mk_api_param(&c, params[i]) != NULL, "a capture is found by name");
        }
    } else
        check(params == NULL, "no captures without a route");
    mk_strv_free(params);
    free(mk_http_query(req, "all"));
    mk_strv_free(mk_http_query_all(req, "filters"));
    (void)mk_http_query_bool(req, "follow", false);
    char **kv = NULL;
    mk_err *err = NULL;
    if (mk_api_filters(req, &kv, &err) < 0)
        check(err != NULL && err->msg != NULL, "a filter error has a message");
    mk_strv_free(kv);
    mk_err_free(err);
    long n;
    err = NULL;
    (void)mk_api_query_int(req, "tail", -1, &n, &err);
    mk_err_free(err);
    (void)mk_http_header_has_token(req, "Connection", "upgrade");
    /* an error body quoting the path must be JSON, whatever its bytes */
    _cleanup_free_ char *msg = xasprintf("No such container: %s", req->path);
    _cleanup_free_ char *clean = mk_utf8_sanitize(msg);
    json_t *j = json_pack("{s:s}", "message", clean);
    check(j != NULL, "a sanitized message is a JSON string");
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t ctl = data[0];
    data++;
    size--;
    struct mk_http_limits lim = {.max_header_bytes = 256 + (ctl & 3) * 512,
                                 .max_headers = 4 + (ctl >> 2 & 3) * 8,
                                 .max_body = 64 << (ctl >> 4 & 3)};
    size_t small = 16 + (ctl & 0x40 ? 1000 : 0);
    struct mk_http_budget budget = {.max = 2048};
    struct mk_http_parser p;
    mk_http_parser_init(&p, &lim);
    p.body_limit = fuzz_body_limit;
    p.body_limit_ud = &small;
    p.budget = &budget;
    /* pieces of 1..N bytes, N from the control byte, so one input covers
     * every split of the stream the kernel could hand us */
    size_t piece = 1 + (ctl >> 6) * 37, off = 0;
    int rc = 0;
    while (off < size && rc >= 0) {
        size_t n = piece < size - off ? piece : size - off;
        mk_http_parser_feed(&p, data + off, n);
        off += n;
        struct mk_http_request *req = NULL;
        while ((rc = mk_http_parser_next(&p, &req)) == 1) {
            use_request(req);
            mk_http_request_free(req);
        }
        piece = piece % 97 + 1;
    }
    if (rc < 0) {
        check(p.error_status >= 400 && p.error_status <= 505, "a refusal is a 4xx/5xx");
        check(p.error != NULL && *p.error != '\0', "a refusal has a message");
    }
    size_t pending = 0;
    (void)mk_http_parser_pending(&p, &pending);
    check(pending <= size, "pending bytes were received");
    mk_http_parser_clear(&p);
    check(budget.used == 0, "the body budget is given back");
    return 0;
}

#ifndef MK_LIBFUZZER
/* ---- the deterministic mutator loop (no libFuzzer) ---- */

static const char *const seeds[] = {
    "GET /v1.47/containers/json?all=1&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D HTTP/1.1\r\nHost: docker\r\n\r\n",
    "POST /v1.47/containers/create?name=x HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{\"Image\":\"busy\"}\n",
    "POST /images/load HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nTrailer: 1\r\n\r\n",
    "GET /containers/abc/logs?follow=1&tail=10 HTTP/1.1\r\n\r\nGET /_ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "POST /containers/abc/attach?stream=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nraw",
    "DELETE /v1.24/containers/a%2Fb?force=1&v=true HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    "HEAD /_ping HTTP/1.1\n\n\r\n\r\nGET /swarm/x/y/z HTTP/1.1\r\n\r\n",
};

/* Fragments that mean something to the parser, spliced in at random. */
static const char *const dict[] = {
    "\r\n", "\n", "\r\n\r\n", "\0", ":", " ", "%", "%00", "%zz", "?", "&", "=", "/", "/v1.47",
    "{id}", "Content-Length: ", "Transfer-Encoding: chunked\r\n", "Content-Length: 5\r\n",
    "Connection: close\r\n", "Connection: upgrade\r\nUpgrade: tcp\r\n", "ffffffffffffffff",
    "0\r\n\r\n", "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "HTTP/1.1", "HTTP/2.0", "filters=",
    "%7B%22a%22%3A%7B%22b%22%3Atrue%7D%7D", "%5B", "\t", "\x7f",
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    /* xorshift64*: reproducible from FUZZ_SEED */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
    int n = 1 + (int)(rnd() % 6);
    for (int m = 0; m < n; m++) {
        size_t at = len ? rnd() % len : 0;
        switch (rnd() % 7) {
        case 0: /* flip a byte */
            if (len)
                buf[at] ^= (uint8_t)(1u << (rnd() % 8));
            break;
        case 1: /* random byte */
            if (len)
                buf[at] = (uint8_t)rnd();
            break;
        case 2: { /* delete a run */
            size_t k = 1 + rnd() % 16;
            if (at + k > len)
                k = len - at;
            memmove(buf + at, buf + at + k, len - at - k);
            len -= k;
            break;
        }
        case 3: { /* insert a dictionary word */
            const char *w = dict[rnd() % (sizeof(dict) / sizeof(dict[0]))];
            size_t k = w[0] ? strlen(w) : 1;
            if (len + k <= cap) {
                memmove(buf + at + k, buf + at, len - at);
                memcpy(buf + at, w, k);
                len += k;
            }
            break;
        }
        case 4: { /* duplicate a run (pipelining, repeated headers) */
            size_t k = 1 + rnd() % 64;
            if (at + k > len)
                k = len - at;
            if (len + k <= cap) {
                memmove(buf + at + k, buf + at, len - at);
                memcpy(buf + at, buf + at + k, k);
                len += k;
            }
            break;
        }
        case 5: /* truncate */
            len = at;
            break;
        default: { /* splice another seed */
            const char *s = seeds[rnd() % (sizeof(seeds) / sizeof(seeds[0]))];
            size_t k = strlen(s);
            if (len + k <= cap) {
                memcpy(buf + len, s, k);
                len += k;
            }
            break;
        }
        }
    }
    return len;
}

int main(int argc, char **argv)
{
    double seconds = getenv("FUZZ_SECONDS") ? atof(getenv("FUZZ_SECONDS")) : 20;
    if (getenv("FUZZ_SEED"))
        rng_state = strtoull(getenv("FUZZ_SEED"), NULL, 0) | 1;
    enum { CAP = 8192 };
    static uint8_t buf[CAP];
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long iters = 0;
    for (;; iters++) {
        if (iters % 256 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= seconds)
                break;
        }
        const char *s = seeds[rnd() % (sizeof(seeds) / sizeof(seeds[0]))];
        size_t len = strlen(s);
        buf[0] = (uint8_t)rnd();
        memcpy(buf + 1, s, len);
        len = 1 + mutate(buf + 1, len, CAP - 1);
        /* now and then, a mutant of a mutant */
        if (rnd() % 4 == 0)
            len = 1 + mutate(buf + 1, len - 1, CAP - 1);
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("# fuzz_http: %lu inputs in %.0f s\n", iters, seconds);
    printf("fuzz: 1 passed, 0 failed\n");
    return 0;
}
#endif
