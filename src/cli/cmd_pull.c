/* cmd_pull.c: docker pull. */
#include "cli/cli.h"
#include "cli/progress.h"
#include "image/image.h"

#include <string.h>

int cmd_pull(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"pull", "pull [OPTIONS] NAME[:TAG|@DIGEST]",
                                      "Download an image from a registry", true};
    bool quiet = false, all_tags = false, no_trust = true;
    char *platform = NULL;
    struct mk_opt opts[] = {
        {"all-tags", 'a', MK_OPT_BOOL, &all_tags, "Download all tagged images in the repository",
         NULL},
        {"disable-content-trust", 0, MK_OPT_BOOL, &no_trust, "Skip image verification (default true)",
         NULL},
        {"platform", 0, MK_OPT_STRING, &platform, "Set platform if server is multi-platform capable",
         NULL},
        {"quiet", 'q', MK_OPT_BOOL, &quiet, "Suppress verbose output", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, 1, &rest);
    _cleanup_free_ char *plat = platform;
    if (r >= 0)
        return r;
    if (!no_trust) {
        fprintf(stderr, "mocker: content trust (Notary) is not supported\n");
        return 125;
    }
    if (all_tags) {
        fprintf(stderr, "mocker: pull --all-tags is not supported yet\n");
        return 125;
    }
    mk_err *err = NULL;
    struct mk_ref *ref = NULL;
    if (mk_ref_parse(rest[0], &ref, &err) < 0)
        return mk_cli_fail(NULL, err, 1);
    /* docker says so when the name had neither tag nor digest */
    const char *last = strrchr(rest[0], '/');
    bool defaulted = ref->digest == NULL && strchr(last != NULL ? last : rest[0], ':') == NULL;
    mk_ref_free(ref);
    if (defaulted && !quiet)
        printf("Using default tag: latest\n");
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    struct mk_cli_progress prog;
    mk_cli_progress_init(&prog, stdout, quiet);
    struct mk_pull_opts o = {.name = rest[0], .platform = plat, .progress = mk_cli_progress_cb,
                             .ctx = &prog};
    struct mk_pull_result res;
    int status = 0;
    if (mk_image_pull(e->store, &o, &res, &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    else
        printf("%s\n", res.reference);
    mk_pull_result_clear(&res);
    mk_cli_progress_free(&prog);
    mk_engine_free(e);
    return status;
}
