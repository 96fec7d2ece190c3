/* reference.c: image references parsed and normalised the way docker does
 * (distribution/reference's ParseNormalizedNamed): "busybox" is
 * docker.io/library/busybox:latest, the first path component is a registry
 * only if it looks like a host, and the repository path must be lowercase.
 * Written as a hand parser of the same grammar:
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [domain "/"] component ("/" component)*
 *   domain    := host [":" port] ; host is a DNS name or "[" ipv6 "]"
 *   component := [a-z0-9]+ (separator [a-z0-9]+)* ; separator := "." | "_" | "__" | "-"+
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest    := algorithm ":" hex */
#include "image/image.h"

#include <ctype.h>
#include <string.h>

#define DEFAULT_DOMAIN        "docker.io"
#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_PREFIX       "library/"
#define NAME_MAX_LEN          255
#define TAG_MAX_LEN           128

static const char invalid_format[] = "invalid reference format";

void mk_ref_free(struct mk_ref *r)
{
    if (r == NULL)
        return;
    free(r->domain);
    free(r->path);
    free(r->tag);
    free(r->digest);
    free(r);
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* One path component: [a-z0-9]+ (separator [a-z0-9]+)*. */
static bool component_valid(const char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        if (i >= n || !is_lower_alnum(s[i]))
            return false;
        while (i < n && is_lower_alnum(s[i]))
            i++;
        if (i == n)
            return true;
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i++;
            if (i < n && s[i] == '_')
                i++;
        } else if (s[i] == '-') {
            while (i < n && s[i] == '-')
                i++;
        } else {
            return false;
        }
    }
}

static bool path_valid(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '/') {
            if (!component_valid(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

/* A DNS label: [A-Za-z0-9] ([A-Za-z0-9-]* [A-Za-z0-9])?. */
static bool label_valid(const char *s, size_t n)
{
    if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    return true;
}

static bool domain_valid(const char *s, size_t n)
{
    size_t i = 0;
    if (n > 0 && s[0] == '[') {
        /* "[" ipv6 "]" */
        i = 1;
        while (i < n && (isxdigit((unsigned char)s[i]) || s[i] == ':'))
            i++;
        if (i == 1 || i >= n || s[i] != ']')
            return false;
        i++;
    } else {
        size_t start = 0;
        while (i < n && s[i] != ':') {
            if (s[i] == '.') {
                if (!label_valid(s + start, i - start))
                    return false;
                start = i + 1;
            }
            i++;
        }
        if (!label_valid(s + start, i - start))
            return false;
    }
    if (i == n)
        return true;
    if (s[i] != ':' || i + 1 == n)
        return false;
    for (i++; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static bool tag_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TAG_MAX_LEN || !is_word_char(s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_word_char(s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

/* The reference grammar's digest: [A-Za-z][A-Za-z0-9]* ([-_+.][A-Za-z][A-Za-z0-9]*)* ":"
 * [0-9a-fA-F]{32,}, then go-digest's checks of the algorithm and the encoding. */
static int digest_check(const char *d, mk_err **err)
{
    const char *colon = strchr(d, ':');
    if (colon == NULL || colon == d)
        return mk_err_set(err, MK_ERR_INVALID, "%s", invalid_format);
    size_t i = 0, alen = (size_t)(colon - d);
    for (;;) {
        if (i >= alen || !isalpha((unsigned char)d[i]))
            return mk_err_set(err, MK_ERR_INVALID, "%s", invalid_format);
        while (i < alen && isalnum((unsigned char)d[i]))
            i++;
        if (i == alen)
            break;
        if (strchr("-_+.", d[i]) == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "%s", invalid_format);
        i++;
    }
    const char *hex = colon + 1;
    size_t hlen = strlen(hex);
    if (hlen < 32)
        return mk_err_set(err, MK_ERR_INVALID, "%s", invalid_format);
    for (i = 0; i < hlen; i++)
        if (!isxdigit((unsigned char)hex[i]))
            return mk_err_set(err, MK_ERR_INVALID, "%s", invalid_format);
    size_t want;
    if (alen == 6 && strncmp(d, "sha256", 6) == 0)
        want = 64;
    else if (alen == 6 && strncmp(d, "sha384", 6) == 0)
        want = 96;
    else if (alen == 6 && strncmp(d, "sha512", 6) == 0)
        want = 128;
    else
        return mk_err_set(err, MK_ERR_INVALID, "unsupported digest algorithm");
    if (hlen != want)
        return mk_err_set(err, MK_ERR_INVALID, "invalid checksum digest length");
    if (!mk_str_is_hex(hex))
        return mk_err_set(err, MK_ERR_INVALID, "invalid checksum digest format");
    return 0;
}

static bool is_identifier(const char *s)
{
    return strlen(s) == 64 && mk_str_is_hex(s);
}

int mk_ref_parse(const char *s, struct mk_ref **out, mk_err **err)
{
    if (is_identifier(s))
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid repository name (%s), cannot specify 64-byte hexadecimal "
                          "strings",
                          s);

    /* Split off the domain as docker does, before validating anything. */
    _cleanup_free_ char *domain = NULL;
    _cleanup_free_ char *rest = NULL;
    const char *slash = strchr(s, '/');
    bool has_domain = false;
    if (slash != NULL) {
        size_t n = (size_t)(slash - s);
        bool upper = false;
        for (size_t i = 0; i < n; i++)
            upper = upper || isupper((unsigned char)s[i]);
        has_domain = memchr(s, '.', n) != NULL || memchr(s, ':', n) != NULL ||
                     (n == 9 && strncmp(s, "localhost", 9) == 0) || upper;
    }
    if (has_domain) {
        domain = xstrndup(s, (size_t)(slash - s));
        rest = xstrdup(slash + 1);
    } else {
        domain = xstrdup(DEFAULT_DOMAIN);
        rest = xstrdup(s);
    }
    if (strcmp(domain, LEGACY_DEFAULT_DOMAIN) == 0) {
        free(domain);
        domain = xstrdup(DEFAULT_DOMAIN);
    }
    if (strcmp(domain, DEFAULT_DOMAIN) == 0 && strchr(rest, '/') == NULL) {
        char *r = xasprintf(OFFICIAL_PREFIX "%s", rest);
        free(rest);
        rest = r;
    }

    size_t remote_len = strcspn(rest, ":");
    for (size_t i = 0; i < remote_len; i++) {
        if (isupper((unsigned char)rest[i]))
            return mk_err_set(err, MK_ERR_INVALID,
                              "invalid reference format: repository name (%.*s) must be "
                              "lowercase",
                              (int)remote_len, rest);
    }

    /* rest = path [":" tag] ["@" digest] */
    _cleanup_free_ char *digest = NULL;
    _cleanup_free_ char *tag = NULL;
    char *at = strchr(rest, '@');
    if (at != NULL) {
        *at = '\0';
        digest = xstrdup(at + 1);
    }
    char *last_slash = strrchr(rest, '/');
    char *colon = strrchr(rest, ':');
    if (colon != NULL && (last_slash == NULL || colon > last_slash)) {
        *colon = '\0';
        tag = xstrdup(colon + 1);
    }
    if (!domain_valid(domain, strlen(domain)) || !path_valid(rest, strlen(rest)) ||
        (tag != NULL && !tag_valid(tag)))
        return mk_err_set(err, MK_ERR_INVALID, "%s", invalid_format);
    if (strlen(domain) + 1 + strlen(rest) > NAME_MAX_LEN)
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid reference format: repository name must not be more than %d "
                          "characters",
                          NAME_MAX_LEN);
    if (digest != NULL && digest_check(digest, err) < 0)
        return -1;

    struct mk_ref *r = xcalloc(1, sizeof(*r));
    r->domain = steal_pointer(&domain);
    r->path = steal_pointer(&rest);
    r->tag = tag != NULL ? steal_pointer(&tag) : (digest == NULL ? xstrdup("latest") : NULL);
    r->digest = steal_pointer(&digest);
    *out = r;
    return 0;
}

static void append_tag_digest(mk_buf *b, const struct mk_ref *r)
{
    if (r->tag != NULL)
        mk_buf_printf(b, ":%s", r->tag);
    if (r->digest != NULL)
        mk_buf_printf(b, "@%s", r->digest);
}

char *mk_ref_string(const struct mk_ref *r)
{
    mk_buf b = {0};
    mk_buf_printf(&b, "%s/%s", r->domain, r->path);
    append_tag_digest(&b, r);
    return mk_buf_steal(&b);
}

char *mk_ref_familiar_repo(const struct mk_ref *r)
{
    if (strcmp(r->domain, DEFAULT_DOMAIN) != 0)
        return xasprintf("%s/%s", r->domain, r->path);
    /* Official images live in "library/"; only strip it when nothing nests below. */
    if (mk_str_has_prefix(r->path, OFFICIAL_PREFIX) &&
        strchr(r->path + strlen(OFFICIAL_PREFIX), '/') == NULL)
        return xstrdup(r->path + strlen(OFFICIAL_PREFIX));
    return xstrdup(r->path);
}

char *mk_ref_familiar(const struct mk_ref *r)
{
    mk_buf b = {0};
    _cleanup_free_ char *repo = mk_ref_familiar_repo(r);
    mk_buf_puts(&b, repo);
    append_tag_digest(&b, r);
    return mk_buf_steal(&b);
}

char *mk_ref_familiarize(const char *full)
{
    struct mk_ref *r = NULL;
    if (mk_ref_parse(full, &r, NULL) < 0)
        return xstrdup(full);
    char *s = mk_ref_familiar(r);
    mk_ref_free(r);
    return s;
}

bool mk_ref_has_tag(const char *name)
{
    const char *slash = strrchr(name, '/');
    return strchr(slash != NULL ? slash : name, ':') != NULL;
}
