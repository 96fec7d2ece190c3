/* http.c: one HTTP exchange with a registry over libcurl, authenticated.
 *
 * Handles are pooled per client (layers download in parallel, each thread
 * takes its own) and reset between requests, which keeps their connections.
 * Redirects are followed for GET and HEAD only (blob storage); libcurl sends
 * our Authorization header to the original host only, never to the host a
 * redirect names. */
#include "registry/internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERROR_BODY_MAX (1u << 20)    /* what we keep of a body nobody streams */
#define SMALL_BODY_MAX (16u << 20)   /* manifests and configs: distribution caps at 4 MiB */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static CURL *handle_take(struct mk_registry *r)
{
    pthread_once(&curl_once, curl_init_once);
    pthread_mutex_lock(&r->lock);
    CURL *h = r->pooled > 0 ? r->pool[--r->pooled] : NULL;
    pthread_mutex_unlock(&r->lock);
    if (h == NULL)
        h = curl_easy_init();
    else
        curl_easy_reset(h);
    return h;
}

static void handle_give(struct mk_registry *r, CURL *h)
{
    pthread_mutex_lock(&r->lock);
    if (r->pooled < (int)(sizeof(r->pool) / sizeof(r->pool[0]))) {
        r->pool[r->pooled++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    if (h != NULL)
        curl_easy_cleanup(h);
}

void mk_http_resp_clear(struct mk_http_resp *resp)
{
    free(resp->body);
    free(resp->content_type);
    free(resp->location);
    free(resp->digest);
    free(resp->www_auth);
    free(resp->link);
    memset(resp, 0, sizeof(*resp));
}

struct xfer {
    CURL *h;
    const struct mk_http_req *req;
    struct mk_http_resp *resp;
    int decided; /* 0 not yet, 1 body to the sink, 2 body buffered */
    mk_buf buf;
    size_t cap;
    mk_err *sink_err;
    /* request body */
    size_t body_off;
    int64_t sent;
};

static size_t on_write(char *data, size_t size, size_t n, void *userp)
{
    struct xfer *x = userp;
    size_t len = size * n;
    if (x->decided == 0) {
        long code = 0;
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
        x->decided = (code >= 200 && code < 300 && x->req->sink != NULL) ? 1 : 2;
    }
    if (x->decided == 1)
        return x->req->sink(x->req->sink_ctx, data, len, &x->sink_err) < 0 ? 0 : len;
    if (x->buf.len + len > x->cap)
        return 0; /* CURLE_WRITE_ERROR: a body larger than any we expect */
    mk_buf_append(&x->buf, data, len);
    return len;
}

static size_t on_read(char *out, size_t size, size_t n, void *userp)
{
    struct xfer *x = userp;
    const struct mk_http_req *req = x->req;
    size_t want = size * n, got;
    if (req->body_fd >= 0) {
        int64_t left = req->body_size - x->sent;
        if (left <= 0)
            return 0;
        if ((int64_t)want > left)
            want = (size_t)left;
        ssize_t k;
        do
            k = read(req->body_fd, out, want);
        while (k < 0 && errno == EINTR);
        if (k <= 0)
            return CURL_READFUNC_ABORT; /* the file shrank under us */
        got = (size_t)k;
    } else {
        got = req->body_len - x->body_off;
        if (got > want)
            got = want;
        memcpy(out, (const char *)req->body + x->body_off, got);
        x->body_off += got;
    }
    x->sent += (int64_t)got;
    if (req->progress != NULL)
        req->progress(req->progress_ctx, x->sent, req->body_fd >= 0 ? req->body_size
                                                                    : (int64_t)req->body_len);
    return got;
}

static char *header_value(CURL *h, const char *name)
{
    struct curl_header *hd = NULL;
    if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hd) != CURLHE_OK || hd == NULL)
        return NULL;
    return xstrdup(hd->value);
}

/* Apply the endpoint's TLS settings to h. */
static void set_tls(struct mk_registry *r, CURL *h, const char *url)
{
    if (!mk_str_has_prefix(url, "https:"))
        return;
    if (r->ep.ca_pem != NULL) {
        struct curl_blob blob = {r->ep.ca_pem, r->ep.ca_len, CURL_BLOB_NOCOPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (r->ep.insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (r->ep.client_cert != NULL) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, r->ep.client_cert);
        curl_easy_setopt(h, CURLOPT_SSLKEY, r->ep.client_key);
    }
}

/* The common options of every request mocker makes to a registry or its
 * token server: timeouts that catch a dead peer, proxies from the environment
 * (libcurl's default), a user agent, TLS as the endpoint says. */
void mk_registry_curl_setup(struct mk_registry *r, CURL *h, const char *url)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mocker/" MK_VERSION);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L); /* stalled for a minute: give up */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    /* libcurl reads http_proxy, https_proxy/HTTPS_PROXY and no_proxy itself but
     * never HTTP_PROXY (a CGI program could be handed one); docker honours
     * it, and mocker is no CGI program. */
    /* Never through a proxy to loopback, as Go's (dockerd's) proxy rules. */
    const char *no_proxy = getenv("no_proxy") ?: getenv("NO_PROXY");
    _cleanup_free_ char *skip = xasprintf("%s%slocalhost,127.0.0.0/8,::1", no_proxy ?: "",
                                          no_proxy != NULL && *no_proxy ? "," : "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, skip);
    const char *upper = getenv("HTTP_PROXY");
    if (mk_str_has_prefix(url, "http:") && getenv("http_proxy") == NULL && upper != NULL &&
        *upper != '\0')
        curl_easy_setopt(h, CURLOPT_PROXY, upper);
    set_tls(r, h, url);
}

/* curl_easy_perform; on failure *reason says why.  A certificate refused for
 * want of a trusted issuer is worded as docker words it (Go's crypto/x509),
 * another refused certificate as libcurl details it (which name did not
 * match, ...), anything else in libcurl's words. */
CURLcode mk_registry_curl_perform(CURL *h, char **reason)
{
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, (char *)NULL); /* detail goes out of scope */
    *reason = NULL;
    if (rc == CURLE_OK)
        return rc;
    long verify = 0;
    if (rc != CURLE_PEER_FAILED_VERIFICATION) {
        *reason = xstrdup(curl_easy_strerror(rc));
    } else if (curl_easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &verify) == CURLE_OK &&
               (verify == 2 || (verify >= 18 && verify <= 21))) {
        /* X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT(_LOCALLY), ..._SELF_SIGNED_...,
         * UNABLE_TO_VERIFY_LEAF_SIGNATURE */
        *reason = xstrdup("x509: certificate signed by unknown authority");
    } else {
        *reason = xstrdup(detail[0] != '\0' ? detail : curl_easy_strerror(rc));
    }
    return rc;
}

/* "GET" -> "Get", as Go's net/http names a request in its errors. */
static const char *verb_title(const char *method)
{
    static const char *const names[][2] = {{"GET", "Get"},     {"HEAD", "Head"},
                                           {"PUT", "Put"},     {"POST", "Post"},
                                           {"PATCH", "Patch"}, {"DELETE", "Delete"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(method, names[i][0]) == 0)
            return names[i][1];
    return method;
}

static int perform(struct mk_registry *r, const struct mk_http_req *req, const char *url,
                   struct mk_http_resp *resp, mk_err **err)
{
    CURL *h = handle_take(r);
    if (h == NULL)
        return mk_err_set(err, MK_ERR_INTERNAL, "cannot create an HTTP handle");
    struct xfer x = {.h = h, .req = req, .resp = resp};
    x.cap = req->sink != NULL ? ERROR_BODY_MAX : SMALL_BODY_MAX;
    mk_registry_curl_setup(r, h, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    /* Blobs stream through the sink (a file write, a socket send and two
     * hashes per call): in 1 MiB pieces rather than libcurl's 16 KiB, a
     * pull makes a sixtieth of the system calls (measured: a 200 MB pull
     * went from ~60,000 to ~2,000 of them). */
    if (req->sink != NULL)
        curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 1L << 20);

    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    _cleanup_free_ char *accept = NULL, *ctype = NULL, *authz = NULL, *range = NULL;
    if (req->accept != NULL)
        hdrs = curl_slist_append(hdrs, (accept = xasprintf("Accept: %s", req->accept)));
    if (req->content_type != NULL)
        hdrs = curl_slist_append(hdrs,
                                 (ctype = xasprintf("Content-Type: %s", req->content_type)));
    if (req->range_from > 0)
        hdrs = curl_slist_append(
            hdrs, (range = xasprintf("Range: bytes=%lld-", (long long)req->range_from)));
    /* Credentials go only where they were asked for: the registry itself
     * (same scheme, host and port), never to a host an upload Location or a
     * Link names. */
    bool own = r->base != NULL && mk_str_has_prefix(url, r->base) &&
               (url[strlen(r->base)] == '/' || url[strlen(r->base)] == '\0');
    pthread_mutex_lock(&r->lock);
    if (own && r->bearer != NULL && mk_now_ns() < r->bearer_expiry_ns)
        authz = xasprintf("Authorization: Bearer %s", r->bearer);
    bool basic = own && r->basic && r->creds.username != NULL;
    pthread_mutex_unlock(&r->lock);
    if (authz != NULL)
        hdrs = curl_slist_append(hdrs, authz);
    else if (basic) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, r->creds.username);
        curl_easy_setopt(h, CURLOPT_PASSWORD,
                         r->creds.password != NULL ? r->creds.password : "");
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

    bool has_body = req->body != NULL || req->body_fd >= 0;
    curl_off_t body_size = req->body_fd >= 0 ? req->body_size : (curl_off_t)req->body_len;
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
        if (strcmp(req->method, "HEAD") == 0)
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, has_body ? body_size : (curl_off_t)0);
        if (has_body) {
            curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(h, CURLOPT_READDATA, &x);
        } else {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        }
    } else { /* PUT, PATCH: an upload, possibly empty */
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, has_body ? body_size : (curl_off_t)0);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &x);
        if (strcmp(req->method, "PUT") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    }

    _cleanup_free_ char *reason = NULL;
    CURLcode rc = mk_registry_curl_perform(h, &reason);
    curl_slist_free_all(hdrs);
    int ret = 0;
    if (rc != CURLE_OK) {
        if (x.sink_err != NULL) {
            *err = x.sink_err; /* the sink's own error says more than "write error" */
            x.sink_err = NULL;
            ret = -1;
        } else {
            /* docker's form: Get "https://host/v2/": <reason> */
            ret = mk_err_set(err, MK_ERR_INTERNAL, "%s \"%s\": %s", verb_title(req->method), url,
                             reason);
        }
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        curl_off_t cl = -1;
        curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        resp->content_length = cl;
        resp->content_type = header_value(h, "Content-Type");
        resp->location = header_value(h, "Location");
        resp->digest = header_value(h, "Docker-Content-Digest");
        resp->www_auth = header_value(h, "WWW-Authenticate");
        resp->link = header_value(h, "Link");
        mk_buf_append(&x.buf, "", 1);
        resp->len = x.buf.len - 1;
        resp->body = mk_buf_steal(&x.buf);
    }
    mk_buf_free(&x.buf);
    mk_err_free(x.sink_err);
    handle_give(r, h);
    return ret;
}

static char *full_url(struct mk_registry *r, const char *url)
{
    if (mk_str_has_prefix(url, "http://") || mk_str_has_prefix(url, "https://"))
        return xstrdup(url);
    return xasprintf("%s%s", r->base, url);
}

int mk_registry_request(struct mk_registry *r, const struct mk_http_req *req,
                        struct mk_http_resp *resp, mk_err **err)
{
    if (r->base == NULL && mk_registry_ping(r, NULL, err) < 0)
        return -1;
    _cleanup_free_ char *url = full_url(r, req->url);
    off_t start = req->body_fd >= 0 ? lseek(req->body_fd, 0, SEEK_CUR) : 0;
    for (int attempt = 0;; attempt++) {
        memset(resp, 0, sizeof(*resp));
        if (perform(r, req, url, resp, err) < 0)
            return -1;
        if (resp->status != 401 || attempt > 0 || resp->www_auth == NULL)
            return 0;
        /* Authenticate as the challenge says, then replay the request. */
        _cleanup_free_ char *challenge = steal_pointer(&resp->www_auth);
        mk_http_resp_clear(resp);
        if (mk_registry_authenticate(r, challenge, false, NULL, err) < 0)
            return -1;
        if (req->body_fd >= 0 && lseek(req->body_fd, start, SEEK_SET) < 0)
            return mk_err_sys(err, "rewind upload");
    }
}

int mk_registry_ping(struct mk_registry *r, struct mk_http_resp *out, mk_err **err)
{
    struct mk_http_req req = {.method = "GET", .url = NULL, .body_fd = -1};
    struct mk_http_resp resp = {0};
    const char *schemes[] = {"https", r->ep.insecure ? "http" : NULL};
    mk_err *first = NULL;
    for (size_t i = 0; i < 2 && schemes[i] != NULL; i++) {
        _cleanup_free_ char *url = xasprintf("%s://%s/v2/", schemes[i], r->ep.host);
        req.url = url;
        mk_err *e = NULL;
        if (perform(r, &req, url, &resp, &e) == 0) {
            mk_err_free(first);
            free(r->base);
            r->base = xasprintf("%s://%s", schemes[i], r->ep.host);
            if (resp.status != 200 && resp.status != 401) {
                int ret = mk_registry_error(&resp, NULL, err);
                mk_err_wrap(err, "Get \"%s\"", url);
                mk_http_resp_clear(&resp);
                return ret;
            }
            if (out != NULL)
                *out = resp;
            else
                mk_http_resp_clear(&resp);
            return 0;
        }
        if (first == NULL)
            first = e;
        else
            mk_err_free(e);
    }
    *err = first; /* the HTTPS failure is the one worth reading */
    return -1;
}

/* "MANIFEST_UNKNOWN" -> "manifest unknown", as docker prints an error code. */
static char *code_words(const char *code)
{
    char *s = xstrdup(code);
    for (char *p = s; *p != '\0'; p++)
        *p = *p == '_' ? ' ' : (char)tolower((unsigned char)*p);
    return s;
}

int mk_registry_error(const struct mk_http_resp *resp, const char *what, mk_err **err)
{
    enum mk_err_kind kind = resp->status == 404   ? MK_ERR_NOT_FOUND
                            : resp->status == 401 ? MK_ERR_UNAUTHORIZED
                            : resp->status == 403 ? MK_ERR_FORBIDDEN
                            : resp->status == 400 ? MK_ERR_INVALID
                                                  : MK_ERR_INTERNAL;
    mk_buf msg = {0};
    if (what != NULL)
        mk_buf_printf(&msg, "%s: ", what);
    _cleanup_json_ json_t *j = resp->body != NULL && resp->len > 0
                                   ? json_loadb(resp->body, resp->len, 0, NULL)
                                   : NULL;
    json_t *errors = json_object_get(j, "errors");
    size_t n = json_array_size(errors);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(errors, i);
        const char *code = mk_json_str(e, "code"), *m = mk_json_str(e, "message");
        _cleanup_free_ char *words = code_words(code != NULL ? code : "unknown");
        mk_buf_printf(&msg, "%s%s: %s", i > 0 ? ", " : "", words, m != NULL ? m : words);
    }
    if (n == 0) {
        if (resp->status == 401)
            mk_buf_puts(&msg, "unauthorized: authentication required");
        else
            mk_buf_printf(&msg, "unexpected status from the registry: %ld", resp->status);
    }
    _cleanup_free_ char *text = mk_buf_steal(&msg);
    return mk_err_set(err, kind, "%s", text);
}
