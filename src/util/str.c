/* str.c: string vectors, prefixes and a growable buffer. */
#include "util.h"

#include <string.h>

size_t mk_strv_len(char *const *v)
{
    size_t n = 0;
    while (v != NULL && v[n] != NULL)
        n++;
    return n;
}

void mk_strv_free(char **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

void mk_strv_push_owned(char ***v, char *s)
{
    size_t n = mk_strv_len(*v);
    *v = xrealloc(*v, (n + 2) * sizeof(char *));
    (*v)[n] = s;
    (*v)[n + 1] = NULL;
}

void mk_strv_push(char ***v, const char *s)
{
    mk_strv_push_owned(v, xstrdup(s));
}

char **mk_strv_dup(char *const *v)
{
    size_t n = mk_strv_len(v);
    char **r = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        r[i] = xstrdup(v[i]);
    return r;
}

bool mk_strv_contains(char *const *v, const char *s)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

char *mk_strv_join(char *const *v, const char *sep)
{
    mk_buf b = {0};
    for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
        if (i > 0)
            mk_buf_puts(&b, sep);
        mk_buf_puts(&b, v[i]);
    }
    return mk_buf_steal(&b);
}

bool mk_str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool mk_str_has_suffix(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lf = strlen(suffix);
    return ls >= lf && strcmp(s + ls - lf, suffix) == 0;
}

bool mk_str_is_hex(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

void mk_buf_append(mk_buf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void mk_buf_puts(mk_buf *b, const char *s)
{
    mk_buf_append(b, s, strlen(s));
}

void mk_buf_printf(mk_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    mk_buf_puts(b, s);
    free(s);
}

char *mk_buf_steal(mk_buf *b)
{
    char *r = b->data ? b->data : xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return r;
}

void mk_buf_free(mk_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *mk_str_ellipsis(const char *s, size_t max)
{
    size_t chars = 0, cut = 0;
    for (const char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xC0) == 0x80)
            continue;
        if (++chars == max)
            cut = (size_t)(p - s); /* where the (max)th character starts */
    }
    if (chars <= max || max == 0)
        return max == 0 ? xstrdup("") : xstrdup(s);
    if (max == 1) {
        size_t len = 1;
        while (((unsigned char)s[len] & 0xC0) == 0x80)
            len++;
        return xstrndup(s, len);
    }
    return xasprintf("%.*s…", (int)cut, s);
}
