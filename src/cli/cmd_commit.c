/* cmd_commit.c: docker commit: a new image from a container's changes. */
#include "cli/cli.h"

int cmd_commit(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"commit", "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
                                      "Create a new image from a container's changes", true};
    _cleanup_strv_ char **changes = NULL;
    char *author = NULL, *message = NULL;
    bool pause = true;
    struct mk_opt opts[] = {
        {"author", 'a', MK_OPT_STRING, &author,
         "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")", NULL},
        {"change", 'c', MK_OPT_LIST, &changes, "Apply Dockerfile instruction to the created image",
         NULL},
        {"message", 'm', MK_OPT_STRING, &message, "Commit message", NULL},
        {"pause", 'p', MK_OPT_BOOL, &pause, "Pause container during commit (default true)", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, 2, &rest);
    _cleanup_free_ char *a = author, *m = message;
    if (r >= 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    struct mk_commit_opts o = {
        .ref = rest[1], .author = a, .comment = m, .changes = changes, .pause = pause};
    _cleanup_free_ char *id = NULL;
    int status = 0;
    if (mk_container_commit(e, rest[0], &o, &id, &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    else
        printf("%s\n", id);
    mk_engine_free(e);
    return status;
}
