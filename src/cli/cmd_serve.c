/* cmd_serve.c: mocker serve, the Docker Engine API on a Unix socket (api/). */
#include "api/api.h"
#include "cli/cli.h"

#include <string.h>

#define DEFAULT_HOST "unix:///run/mocker/mocker.sock"

int cmd_serve(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"serve", "serve [OPTIONS]",
                                      "Serve the Docker Engine API on a Unix socket", true};
    char *host = NULL;
    struct mk_opt opts[] = {
        {"host", 'H', MK_OPT_STRING, &host,
         "Socket to listen on: unix:///path, or fd:// for systemd socket activation (default " DEFAULT_HOST ")",
         NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    _cleanup_free_ char *h = host;
    if (r >= 0)
        return r;
    mk_err *err = NULL;
    if (mk_api_serve(h ? h : DEFAULT_HOST, &err) < 0)
        return mk_cli_fail(NULL, err, 125);
    /* Connections still streaming (logs -f, wait) are cut: exit() would run
     * destructors under their threads' feet. */
    fflush(NULL);
    _exit(0);
}
