/* cmd_image_prune.c: docker image prune [-a] [-f] [--filter until=|label=|label!=]. */
#include "cli/cli.h"
#include "image/image.h"

#include <string.h>

static const char *const prune_filters[] = {"dangling", "label", "label!", "until", NULL};

int cmd_image_prune(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"image prune", "image prune [OPTIONS]", "Remove unused images", true};
    bool all = false, force = false;
    _cleanup_strv_ char **filters = NULL;
    struct mk_opt opts[] = {
        {"all", 'a', MK_OPT_BOOL, &all, "Remove all unused images, not just dangling ones", NULL},
        {"filter", 0, MK_OPT_LIST, &filters, "Provide filter values (e.g. \"until=<timestamp>\")", NULL},
        {"force", 'f', MK_OPT_BOOL, &force, "Do not prompt for confirmation", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    if (r >= 0)
        return r;
    if ((r = mk_cli_check_filters(&cmd, "--filter", filters)) != 0)
        return r;
    /* as the docker CLI, -a is sent as dangling=false, its absence as dangling=true */
    mk_strv_push(&filters, all ? "dangling=false" : "dangling=true");
    if (!force && !mk_cli_confirm(all ? "WARNING! This will remove all images without at least one "
                                        "container associated to them."
                                      : "WARNING! This will remove all dangling images."))
        return 0;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    mk_err *err = NULL;
    struct mk_image_filters f;
    _cleanup_strv_ char **report = NULL;
    int64_t reclaimed = 0;
    r = mk_image_filters_parse(e->store, filters, prune_filters, true, &f, &err);
    if (r == 0)
        r = mk_image_prune(e->store, &f, &report, &reclaimed, &err);
    mk_image_filters_clear(&f);
    mk_engine_free(e);
    if (report != NULL && report[0] != NULL) {
        /* the prune report spells rmi's lines in lower case */
        printf("Deleted Images:\n");
        for (size_t i = 0; report[i] != NULL; i++)
            printf("%c%s\n", report[i][0] == 'U' ? 'u' : report[i][0] == 'D' ? 'd' : report[i][0],
                   report[i] + 1);
        printf("\n");
    }
    if (r < 0) {
        fflush(stdout);
        return mk_cli_fail(NULL, err, 1);
    }
    _cleanup_free_ char *size = mk_human_size_prec(reclaimed, 4);
    printf("Total reclaimed space: %s\n", size);
    return 0;
}
