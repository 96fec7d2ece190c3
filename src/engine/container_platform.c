/* container_platform.c: a container's image platform against the one asked
 * for (create --platform) and the host's (create's warning, and at start the
 * emulation a foreign architecture needs). */
#include "engine/internal.h"
#include "image/image.h"
#include "runtime/runtime.h"

#include <string.h>

int mk_engine_check_platform(const char *ref, const struct mk_image *img,
                             const struct mk_platform *want, char **warning, mk_err **err)
{
    struct mk_platform have, host;
    *warning = NULL;
    if (!mk_platform_from_config(img->config, &have))
        return 0;
    _cleanup_free_ char *actual = mk_platform_format(&have);
    if (want != NULL) {
        if (mk_platform_match(want, &have) > 0)
            return 0;
        /* NOT_FOUND, as dockerd: a client then pulls the platform it wants. */
        _cleanup_free_ char *wanted = mk_platform_format(want);
        return mk_err_set(err, MK_ERR_NOT_FOUND,
                          "image with reference %s was found but does not match the specified "
                          "platform: wanted %s, actual: %s",
                          ref, wanted, actual);
    }
    mk_platform_host(&host);
    if (!mk_platform_runs_on(&host, &have)) {
        _cleanup_free_ char *detected = mk_platform_format(&host);
        *warning = xasprintf("The requested image's platform (%s) does not match the detected "
                             "host platform (%s) and no specific platform was requested",
                             actual, detected);
    }
    return 0;
}

int mk_engine_ensure_emulation(const struct mk_image *img, mk_err **err)
{
    struct mk_platform have, host;
    if (!mk_platform_from_config(img->config, &have))
        return 0;
    mk_platform_host(&host);
    if (mk_platform_runs_on(&host, &have))
        return 0;
    struct mk_platform arch = have, native = host;
    mk_platform_normalize(&arch);
    mk_platform_normalize(&native);
    /* The host's own architecture in another variant (amd64/v3, arm64/v8.2)
     * runs natively or not at all: an emulator registered for it would take
     * every binary of the host. */
    if (strcmp(arch.os, native.os) == 0 && strcmp(arch.architecture, native.architecture) == 0)
        return 0;
    if (mk_binfmt_ensure(arch.architecture, err) == 0)
        return 0;
    /* What the kernel would have said at execve, then why.  A start that
     * fails is the daemon's error (500), whatever the cause's kind. */
    _cleanup_free_ char *actual = mk_platform_format(&have);
    _cleanup_free_ char *detected = mk_platform_format(&host);
    mk_err_wrap(err, "exec format error: the image's platform (%s) is not this host's (%s) and cannot be emulated", actual, detected);
    if (err != NULL && *err != NULL)
        (*err)->kind = MK_ERR_INTERNAL;
    return -1;
}
