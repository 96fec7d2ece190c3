/* cmd_search.c: docker search.  Only Docker Hub answers the v1 search API
 * docker uses; registries speaking the distribution API (what mocker pulls
 * from) have none, so mocker says so instead of pretending to find nothing. */
#include "cli/cli.h"

int cmd_search(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"search", "search [OPTIONS] TERM",
                                      "Search Docker Hub for images", true};
    struct mk_opt opts[] = {
        {"filter", 'f', MK_OPT_REFUSED_VALUE, NULL, "search is not supported", NULL},
        {"format", 0, MK_OPT_REFUSED_VALUE, NULL, "search is not supported", NULL},
        {"limit", 0, MK_OPT_REFUSED_VALUE, NULL, "search is not supported", NULL},
        {"no-trunc", 0, MK_OPT_REFUSED_BOOL, NULL, "search is not supported", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, 1, &rest);
    if (r >= 0)
        return r;
    fprintf(stderr, "mocker: search is not supported: it needs Docker Hub's search API, which "
                    "registries speaking the distribution API (the ones mocker pulls from) do "
                    "not have\n");
    return 125;
}
