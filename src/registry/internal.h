/* internal.h: what the registry client's files share. */
#ifndef MK_REGISTRY_INTERNAL_H
#define MK_REGISTRY_INTERNAL_H

#include "registry/credentials.h"
#include "registry/registry.h"

#include <curl/curl.h>
#include <pthread.h>

/* How to reach a registry host (endpoint.c). */
struct mk_endpoint {
    char *host;      /* host[:port] to connect to: registry-1.docker.io for docker.io */
    bool insecure;   /* may fall back to plain HTTP, and TLS is not verified */
    bool secure_tls; /* certs.d has a CA for it: verify even a loopback host */
    char *ca_pem;    /* system bundle and the CAs of certs.d/<host>, NULL: libcurl's default */
    size_t ca_len;
    char *client_cert, *client_key; /* certs.d/<host>/<name>.cert and .key */
};
int mk_endpoint_resolve(const char *domain, struct mk_endpoint *out, mk_err **err);
void mk_endpoint_clear(struct mk_endpoint *e);

struct mk_registry {
    struct mk_endpoint ep;
    char *domain, *repo;
    char *base;     /* "https://host" or "http://host", once known */
    char **scopes;  /* what tokens are asked for: "repository:<repo>:pull[,push]",
                     * then "repository:<from>:pull" of each repository a push
                     * mounts from (under lock) */
    struct mk_auth creds;
    pthread_mutex_t lock; /* token state and the handle pool: layers download in parallel */
    char *bearer;         /* cached token and when it stops being good */
    int64_t bearer_expiry_ns;
    bool basic;           /* the registry asked for Basic: send creds with every request */
    CURL *pool[8];
    int pooled;
};

/* One HTTP exchange (http.c).  A 401 is answered once by authenticating
 * (Bearer token or Basic, as the challenge says) and retrying. */
struct mk_http_req {
    const char *method; /* GET, HEAD, PUT, POST, PATCH */
    const char *url;    /* absolute, or a path appended to r->base */
    const char *accept;
    const char *content_type;
    const void *body; /* request body in memory ... */
    size_t body_len;
    int body_fd; /* ... or streamed from this fd (>= 0) with body_size bytes */
    int64_t body_size;
    mk_registry_progress progress;
    void *progress_ctx;
    int64_t range_from; /* > 0: ask for bytes from here */
    mk_registry_sink sink; /* 2xx bodies go here when set; else into resp->body */
    void *sink_ctx;
};
struct mk_http_resp {
    long status;
    char *body; /* error bodies and small responses, NUL-terminated, capped */
    size_t len;
    char *content_type, *location, *digest, *www_auth, *link;
    int64_t content_length;
};
void mk_http_resp_clear(struct mk_http_resp *resp);
int mk_registry_request(struct mk_registry *r, const struct mk_http_req *req,
                        struct mk_http_resp *resp, mk_err **err);
/* Ping /v2/ and pick the scheme (HTTPS, or HTTP for an insecure registry that
 * does not speak TLS).  Leaves the ping's response in *resp (may be NULL). */
int mk_registry_ping(struct mk_registry *r, struct mk_http_resp *resp, mk_err **err);
/* The error a registry response means, with the registry's own message
 * ({"errors":[{"code","message","detail"}]}) when it sent one. */
int mk_registry_error(const struct mk_http_resp *resp, const char *what, mk_err **err);
/* curl_easy_perform; on failure *reason (owned) says why, as docker would. */
CURLcode mk_registry_curl_perform(CURL *h, char **reason);
/* The options every request to a registry or its token server gets. */
void mk_registry_curl_setup(struct mk_registry *r, CURL *h, const char *url);
/* Authenticate after a 401 carrying challenge (auth.c); offline asks the
 * token server for a refresh token, which *identity_token gets (login). */
int mk_registry_authenticate(struct mk_registry *r, const char *challenge, bool offline,
                             char **identity_token, mk_err **err);

#endif
