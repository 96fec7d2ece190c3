/* cmd_serve.c: mocker serve, the Docker Engine API on a Unix socket (api/). */
#include "api/api.h"
#include "cli/cli.h"

#include <string.h>

#define DEFAULT_SOCKET "/run/mocker/mocker.sock"

int cmd_serve(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"serve", "serve [OPTIONS]",
                                      "Serve the Docker Engine API on a Unix socket", true};
    char *host = NULL;
    struct mk_opt opts[] = {
        {"host", 'H', MK_OPT_STRING, &host,
         "Socket to listen on, unix:///path (default unix://" DEFAULT_SOCKET ")", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    _cleanup_free_ char *h = host;
    if (r >= 0)
        return r;
    const char *path = DEFAULT_SOCKET;
    if (h != NULL) {
        if (!mk_str_has_prefix(h, "unix://") || h[7] != '/') {
            fprintf(stderr, "mocker serve: unsupported host %s: only unix:///absolute/path is served\n", h);
            return 125;
        }
        path = h + 7;
    }
    mk_err *err = NULL;
    if (mk_api_serve(path, &err) < 0)
        return mk_cli_fail(NULL, err, 125);
    return 0;
}
