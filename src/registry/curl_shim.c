/* curl_shim.c: the libcurl functions mocker calls, loaded on first use (see
 * util/lazylib.c): libcurl and the TLS stack behind it cost several ms per
 * exec, and only pull, push and login talk to registries.
 *
 * curl_easy_setopt and curl_easy_getinfo are variadic.  libcurl encodes the
 * argument's type in the option number (CURLOPTTYPE_* ranges, CURLINFO_* type
 * masks), so the shims read exactly that one argument and pass it on. */
#define CURL_DISABLE_TYPECHECK 1
#include "util/lazylib.h"

#include <curl/curl.h>
#include <stdarg.h>

struct mk_lazylib mk_lazy_libcurl = {"libcurl.so.4", "libcurl4", NULL};

MK_LAZY_FN(mk_lazy_libcurl, CURLcode, curl_global_init, (long flags), (flags))
MK_LAZY_FN(mk_lazy_libcurl, CURL *, curl_easy_init, (void), ())
MK_LAZY_VOID(mk_lazy_libcurl, curl_easy_cleanup, (CURL * h), (h))
MK_LAZY_VOID(mk_lazy_libcurl, curl_easy_reset, (CURL * h), (h))
MK_LAZY_FN(mk_lazy_libcurl, CURLcode, curl_easy_perform, (CURL * h), (h))
MK_LAZY_FN(mk_lazy_libcurl, const char *, curl_easy_strerror, (CURLcode c), (c))
MK_LAZY_FN(mk_lazy_libcurl, struct curl_slist *, curl_slist_append,
           (struct curl_slist * l, const char *s), (l, s))
MK_LAZY_VOID(mk_lazy_libcurl, curl_slist_free_all, (struct curl_slist * l), (l))
MK_LAZY_FN(mk_lazy_libcurl, CURLHcode, curl_easy_header,
           (CURL * h, const char *name, size_t index, unsigned int origin, int request,
            struct curl_header **hout),
           (h, name, index, origin, request, hout))
MK_LAZY_FN(mk_lazy_libcurl, char *, curl_easy_escape, (CURL * h, const char *s, int len), (h, s, len))
MK_LAZY_VOID(mk_lazy_libcurl, curl_free, (void *p), (p))

CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
    MK_LAZY_RESOLVE(mk_lazy_libcurl, curl_easy_setopt)
    va_list ap;
    va_start(ap, opt);
    CURLcode r;
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        r = f_(h, opt, va_arg(ap, long));
    else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
        r = f_(h, opt, va_arg(ap, void *));
    else if (opt < CURLOPTTYPE_OFF_T)
        r = f_(h, opt, va_arg(ap, void (*)(void)));
    else if (opt < CURLOPTTYPE_BLOB)
        r = f_(h, opt, va_arg(ap, curl_off_t));
    else
        r = f_(h, opt, va_arg(ap, void *));
    va_end(ap);
    return r;
}

CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
    MK_LAZY_RESOLVE(mk_lazy_libcurl, curl_easy_getinfo)
    va_list ap;
    va_start(ap, info);
    CURLcode r = f_(h, info, va_arg(ap, void *)); /* every CURLINFO_* takes a pointer */
    va_end(ap);
    return r;
}
