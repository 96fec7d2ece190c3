/* err.h: the one error type of mocker.
 *
 * Every fallible function takes `mk_err **err` as its last argument and returns
 * a negative int (or NULL) on failure, after filling *err.  Callers add context
 * on the way up with mk_err_wrap(); only the top level (main, the API handler)
 * prints it.  The kind maps onto docker's HTTP status codes and CLI exit codes. */
#ifndef MK_UTIL_ERR_H
#define MK_UTIL_ERR_H

#include <stdarg.h>

enum mk_err_kind {
    MK_ERR_INTERNAL = 0, /* 500 */
    MK_ERR_NOT_FOUND,    /* 404 */
    MK_ERR_CONFLICT,     /* 409 */
    MK_ERR_INVALID,      /* 400 */
    MK_ERR_FORBIDDEN,    /* 403 */
    MK_ERR_NOT_MODIFIED, /* 304: start of a running container, stop of a stopped one */
    MK_ERR_UNSUPPORTED,  /* a docker feature mocker does not do (yet): 501, CLI exit 125 */
    MK_ERR_UNAUTHORIZED, /* 401: a registry refused the credentials */
};

typedef struct mk_err {
    enum mk_err_kind kind;
    int errnum;    /* errno, 0 if none */
    int exit_code; /* for the CLI: 125 by default; 126/127 when a container command cannot run */
    char *msg;     /* full message, context first: "start foo: mount overlay: No such file" */
} mk_err;

/* Set *err (if err is not NULL) and return -1.  The message is printf-style. */
int mk_err_set(mk_err **err, enum mk_err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like mk_err_set with kind INTERNAL, appending ": strerror(errno)" and keeping errno.
 * ENOENT becomes NOT_FOUND, EEXIST CONFLICT, EINVAL INVALID, EPERM/EACCES FORBIDDEN. */
int mk_err_sys(mk_err **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same as mk_err_sys with an explicit errno value. */
int mk_err_errno(mk_err **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix context: "ctx: old message".  Returns -1.  No-op on a NULL *err. */
int mk_err_wrap(mk_err **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mk_err_free(mk_err *err);
/* Free *err and set it to NULL (for tolerated failures). */
void mk_err_clear(mk_err **err);
/* HTTP status docker uses for the kind. */
int mk_err_http_status(const mk_err *err);

#define _cleanup_err_ __attribute__((cleanup(mk_err_clear)))

#endif
