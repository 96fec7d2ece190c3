/* cmd_pause.c: docker pause and unpause. */
#include "cli/cli.h"

static int do_pause(struct mk_engine *e, const char *ref, void *ctx, mk_err **err)
{
    return mk_container_pause(e, ref, err);
}

static int do_unpause(struct mk_engine *e, const char *ref, void *ctx, mk_err **err)
{
    return mk_container_unpause(e, ref, err);
}

int cmd_pause(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"pause", "pause CONTAINER [CONTAINER...]",
                                      "Pause all processes within one or more containers", true};
    struct mk_opt opts[] = {{NULL, 0, 0, NULL, NULL, NULL}};
    return mk_cli_each_container(&cmd, argc, argv, opts, do_pause, NULL, true);
}

int cmd_unpause(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"unpause", "unpause CONTAINER [CONTAINER...]",
                                      "Unpause all processes within one or more containers", true};
    struct mk_opt opts[] = {{NULL, 0, 0, NULL, NULL, NULL}};
    return mk_cli_each_container(&cmd, argc, argv, opts, do_unpause, NULL, true);
}
