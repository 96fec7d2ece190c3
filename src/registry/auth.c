/* auth.c: answering a registry's 401.  The WWW-Authenticate challenge names
 * the scheme: Basic means sending the credentials with every request; Bearer
 * names a token server (realm) that trades credentials, a refresh token or
 * nothing (anonymous pull) for a token valid for the repository scope, which
 * is cached until it expires. */
#include "registry/internal.h"

#include <ctype.h>
#include <string.h>

void mk_auth_challenge_clear(struct mk_auth_challenge *c)
{
    free(c->scheme);
    free(c->realm);
    free(c->service);
    free(c->scope);
    free(c->error);
    memset(c, 0, sizeof(*c));
}

/* RFC 7235: scheme, then comma-separated name=value, value a token or a
 * quoted string with backslash escapes. */
int mk_auth_challenge_parse(const char *h, struct mk_auth_challenge *out, mk_err **err)
{
    memset(out, 0, sizeof(*out));
    while (isspace((unsigned char)*h))
        h++;
    size_t n = strcspn(h, " \t");
    if (n == 0)
        return mk_err_set(err, MK_ERR_INVALID, "empty WWW-Authenticate challenge");
    out->scheme = xstrndup(h, n);
    const char *p = h + n;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            return 0;
        size_t klen = strcspn(p, "= \t,");
        _cleanup_free_ char *key = xstrndup(p, klen);
        p += klen;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '=') {
            mk_auth_challenge_clear(out);
            return mk_err_set(err, MK_ERR_INVALID, "malformed WWW-Authenticate challenge: %s", h);
        }
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        mk_buf val = {0};
        if (*p == '"') {
            p++;
            while (*p != '"' && *p != '\0') {
                if (*p == '\\' && p[1] != '\0')
                    p++;
                mk_buf_append(&val, p, 1);
                p++;
            }
            if (*p != '"') {
                mk_buf_free(&val);
                mk_auth_challenge_clear(out);
                return mk_err_set(err, MK_ERR_INVALID, "unterminated quote in challenge: %s", h);
            }
            p++;
        } else {
            size_t vlen = strcspn(p, ", \t");
            mk_buf_append(&val, p, vlen);
            p += vlen;
        }
        mk_buf_append(&val, "", 1);
        char *v = mk_buf_steal(&val);
        char **slot = strcasecmp(key, "realm") == 0     ? &out->realm
                      : strcasecmp(key, "service") == 0 ? &out->service
                      : strcasecmp(key, "scope") == 0   ? &out->scope
                      : strcasecmp(key, "error") == 0   ? &out->error
                                                        : NULL;
        if (slot != NULL) {
            free(*slot);
            *slot = v;
        } else {
            free(v);
        }
    }
}

struct token_buf {
    mk_buf b;
};
static size_t token_write(char *data, size_t size, size_t n, void *userp)
{
    struct token_buf *t = userp;
    if (t->b.len + size * n > (1u << 20))
        return 0;
    mk_buf_append(&t->b, data, size * n);
    return size * n;
}

static void form_add(mk_buf *b, CURL *h, const char *key, const char *value)
{
    if (value == NULL)
        return;
    char *esc = curl_easy_escape(h, value, 0);
    mk_buf_printf(b, "%s%s=%s", b->len > 0 ? "&" : "", key, esc != NULL ? esc : "");
    curl_free(esc);
}

/* Ask the token server.  With a refresh token: POST grant_type=refresh_token
 * (OAuth2, as docker does); otherwise GET, with Basic credentials if we have
 * them, anonymously if not. */
static int fetch_token(struct mk_registry *r, const struct mk_auth_challenge *c, bool offline,
                       char **identity_token, mk_err **err)
{
    if (c->realm == NULL || !(mk_str_has_prefix(c->realm, "https://") ||
                              mk_str_has_prefix(c->realm, "http://")))
        return mk_err_set(err, MK_ERR_INVALID, "registry sent a bearer challenge without a usable realm");
    CURL *h = curl_easy_init();
    if (h == NULL)
        return mk_err_set(err, MK_ERR_INTERNAL, "cannot create an HTTP handle");
    mk_buf form = {0};
    form_add(&form, h, "service", c->service);
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; r->scopes[i] != NULL; i++)
        form_add(&form, h, "scope", r->scopes[i]); /* one parameter each, as docker */
    pthread_mutex_unlock(&r->lock);
    form_add(&form, h, "client_id", "mocker");
    bool refresh = r->creds.identity_token != NULL;
    if (refresh) {
        form_add(&form, h, "grant_type", "refresh_token");
        form_add(&form, h, "refresh_token", r->creds.identity_token);
    } else if (offline) {
        form_add(&form, h, "offline_token", "true");
    }
    mk_buf_append(&form, "", 1);
    _cleanup_free_ char *body = mk_buf_steal(&form);
    _cleanup_free_ char *url = refresh ? xstrdup(c->realm)
                                       : xasprintf("%s%c%s", c->realm,
                                                   strchr(c->realm, '?') != NULL ? '&' : '?', body);
    mk_registry_curl_setup(r, h, url);
    struct token_buf tb = {0};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, token_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &tb);
    if (refresh) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    } else if (r->creds.username != NULL) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, r->creds.username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, r->creds.password != NULL ? r->creds.password : "");
    }
    _cleanup_free_ char *reason = NULL;
    CURLcode rc = mk_registry_curl_perform(h, &reason);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    mk_buf_append(&tb.b, "", 1);
    _cleanup_free_ char *resp = mk_buf_steal(&tb.b);
    if (rc != CURLE_OK)
        return mk_err_set(err, MK_ERR_INTERNAL, "%s \"%s\": %s", refresh ? "Post" : "Get",
                          c->realm, reason);
    if (status != 200) {
        /* the token server's complaint, as docker relays it */
        struct mk_http_resp fake = {.status = status, .body = resp, .len = strlen(resp)};
        mk_registry_error(&fake, NULL, err);
        return mk_err_wrap(err, "%s \"%s\"", refresh ? "Post" : "Get", c->realm);
    }
    _cleanup_json_ json_t *j = json_loads(resp, 0, NULL);
    const char *token = mk_json_str(j, "token");
    if (token == NULL || *token == '\0')
        token = mk_json_str(j, "access_token");
    if (token == NULL || *token == '\0')
        return mk_err_set(err, MK_ERR_INTERNAL, "token server %s sent no token", c->realm);
    int64_t expires = mk_json_int(j, "expires_in", 60);
    if (expires < 60)
        expires = 60; /* the spec's floor */
    pthread_mutex_lock(&r->lock);
    free(r->bearer);
    r->bearer = xstrdup(token);
    /* renew a little early rather than send a token on its last second */
    r->bearer_expiry_ns = mk_now_ns() + (expires - 5) * 1000000000LL;
    pthread_mutex_unlock(&r->lock);
    const char *refresh_token = mk_json_str(j, "refresh_token");
    if (identity_token != NULL)
        *identity_token = refresh_token != NULL ? xstrdup(refresh_token) : NULL;
    return 0;
}

int mk_registry_authenticate(struct mk_registry *r, const char *challenge, bool offline,
                             char **identity_token, mk_err **err)
{
    struct mk_auth_challenge c;
    if (mk_auth_challenge_parse(challenge, &c, err) < 0)
        return -1;
    int ret;
    if (strcasecmp(c.scheme, "Basic") == 0) {
        if (r->creds.username == NULL)
            ret = mk_err_set(err, MK_ERR_UNAUTHORIZED, "no basic auth credentials");
        else {
            pthread_mutex_lock(&r->lock);
            r->basic = true;
            pthread_mutex_unlock(&r->lock);
            ret = 0;
        }
    } else if (strcasecmp(c.scheme, "Bearer") == 0) {
        ret = fetch_token(r, &c, offline, identity_token, err);
    } else {
        ret = mk_err_set(err, MK_ERR_UNSUPPORTED, "registry asks for %s authentication, which mocker does not speak", c.scheme);
    }
    mk_auth_challenge_clear(&c);
    return ret;
}
