/* err.c: construction and wrapping of mk_err. */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int err_vset(mk_err **err, enum mk_err_kind kind, int errnum, const char *fmt, va_list ap)
{
    if (err == NULL)
        return -1;
    char *msg = xvasprintf(fmt, ap);
    if (errnum != 0) {
        char *full = xasprintf("%s: %s", msg, strerror(errnum));
        free(msg);
        msg = full;
    }
    if (*err != NULL)
        mk_err_free(*err);
    mk_err *e = xcalloc(1, sizeof(*e));
    e->kind = kind;
    e->errnum = errnum;
    e->exit_code = 125;
    e->msg = msg;
    *err = e;
    return -1;
}

int mk_err_set(mk_err **err, enum mk_err_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, kind, 0, fmt, ap);
    va_end(ap);
    return -1;
}

static enum mk_err_kind kind_for_errno(int errnum)
{
    switch (errnum) {
    case ENOENT:
        return MK_ERR_NOT_FOUND;
    case EEXIST:
        return MK_ERR_CONFLICT;
    case EINVAL:
        return MK_ERR_INVALID;
    case EPERM:
    case EACCES:
        return MK_ERR_FORBIDDEN;
    default:
        return MK_ERR_INTERNAL;
    }
}

int mk_err_errno(mk_err **err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, kind_for_errno(errnum), errnum, fmt, ap);
    va_end(ap);
    errno = errnum;
    return -1;
}

int mk_err_sys(mk_err **err, const char *fmt, ...)
{
    int errnum = errno;
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, kind_for_errno(errnum), errnum, fmt, ap);
    va_end(ap);
    errno = errnum;
    return -1;
}

int mk_err_wrap(mk_err **err, const char *fmt, ...)
{
    if (err == NULL || *err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *ctx = xvasprintf(fmt, ap);
    va_end(ap);
    char *full = xasprintf("%s: %s", ctx, (*err)->msg);
    free(ctx);
    free((*err)->msg);
    (*err)->msg = full;
    return -1;
}

void mk_err_free(mk_err *err)
{
    if (err == NULL)
        return;
    free(err->msg);
    free(err);
}

void mk_err_clear(mk_err **err)
{
    if (err == NULL)
        return;
    mk_err_free(*err);
    *err = NULL;
}

int mk_err_http_status(const mk_err *err)
{
    switch (err->kind) {
    case MK_ERR_NOT_FOUND:
        return 404;
    case MK_ERR_CONFLICT:
        return 409;
    case MK_ERR_INVALID:
        return 400;
    case MK_ERR_FORBIDDEN:
        return 403;
    case MK_ERR_NOT_MODIFIED:
        return 304;
    case MK_ERR_UNSUPPORTED:
        return 501;
    case MK_ERR_UNAUTHORIZED:
        return 401;
    case MK_ERR_INTERNAL:
    default:
        return 500;
    }
}
