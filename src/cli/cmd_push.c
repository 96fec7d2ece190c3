/* cmd_push.c: docker push. */
#include "cli/cli.h"
#include "cli/progress.h"
#include "image/image.h"

int cmd_push(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"push", "push [OPTIONS] NAME[:TAG]",
                                      "Upload an image to a registry", true};
    bool quiet = false, all_tags = false, no_trust = true;
    struct mk_opt opts[] = {
        {"all-tags", 'a', MK_OPT_BOOL, &all_tags, "Push all tags of an image to the repository",
         NULL},
        {"disable-content-trust", 0, MK_OPT_BOOL, &no_trust, "Skip image signing (default true)",
         NULL},
        {"platform", 0, MK_OPT_REFUSED_VALUE, NULL,
         "pushing one platform of a multi-platform image is not supported yet", NULL},
        {"quiet", 'q', MK_OPT_BOOL, &quiet, "Suppress verbose output", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, 1, &rest);
    if (r >= 0)
        return r;
    if (!no_trust) {
        fprintf(stderr, "mocker: content trust (Notary) is not supported\n");
        return 125;
    }
    if (all_tags) {
        fprintf(stderr, "mocker: push --all-tags is not supported yet\n");
        return 125;
    }
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    struct mk_cli_progress prog;
    mk_cli_progress_init(&prog, stdout, quiet);
    struct mk_push_opts o = {.name = rest[0], .progress = mk_cli_progress_cb, .ctx = &prog};
    _cleanup_free_ char *digest = NULL;
    mk_err *err = NULL;
    int status = 0;
    if (mk_image_push(e->store, &o, &digest, &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    else if (quiet)
        printf("%s\n", rest[0]);
    mk_cli_progress_free(&prog);
    mk_engine_free(e);
    return status;
}
