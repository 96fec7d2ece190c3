/* mem.c: allocation that aborts on failure, and the cleanup helpers. */
#include "util.h"

#include <errno.h>
#include <string.h>

static void __attribute__((noreturn)) oom(void)
{
    static const char msg[] = "mocker: out of memory\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (p == NULL)
        oom();
    return p;
}

char *xstrdup(const char *s)
{
    if (s == NULL)
        return NULL;
    char *r = strdup(s);
    if (r == NULL)
        oom();
    return r;
}

char *xstrndup(const char *s, size_t n)
{
    char *r = strndup(s, n);
    if (r == NULL)
        oom();
    return r;
}

char *xvasprintf(const char *fmt, va_list ap)
{
    char *r = NULL;
    if (vasprintf(&r, fmt, ap) < 0)
        oom();
    return r;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *r = xvasprintf(fmt, ap);
    va_end(ap);
    return r;
}

void mk_freep(void *p)
{
    free(*(void **)p);
}

void mk_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
        *fd = -1;
    }
}

void mk_fclosep(FILE **f)
{
    if (*f != NULL)
        fclose(*f);
}

void mk_closedirp(DIR **d)
{
    if (*d != NULL)
        closedir(*d);
}

void mk_json_decrefp(json_t **j)
{
    json_decref(*j);
}

void mk_strv_freep(char ***v)
{
    mk_strv_free(*v);
}
