/* cmd_pull.c: docker pull. */
#include "cli/cli.h"
#include "cli/progress.h"
#include "image/image.h"

#include <string.h>

static int pull_one(struct mk_engine *e, const char *name, const char *platform, bool quiet,
                    bool all_tags, struct mk_pull_result *res, mk_err **err)
{
    struct mk_cli_progress prog;
    mk_cli_progress_init(&prog, stdout, quiet);
    struct mk_pull_opts o = {.name = name, .platform = platform, .progress = mk_cli_progress_cb,
                             .ctx = &prog, .no_status = all_tags};
    int r = mk_image_pull(e->store, &o, res, err);
    mk_cli_progress_free(&prog);
    return r;
}

/* -a: every tag of the repository, then one Status line for them all and
 * the repository's name, as docker. */
static int pull_all(const char *repo, const char *platform, bool quiet)
{
    mk_err *err = NULL;
    _cleanup_strv_ char **tags = NULL;
    if (mk_image_remote_tags(repo, &tags, &err) < 0)
        return mk_cli_fail(NULL, err, 1);
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    int status = 0;
    bool updated = false;
    for (size_t i = 0; tags[i] != NULL && status == 0; i++) {
        _cleanup_free_ char *name = xasprintf("%s:%s", repo, tags[i]);
        struct mk_pull_result res;
        if (pull_one(e, name, platform, quiet, true, &res, &err) < 0)
            status = mk_cli_fail(NULL, err, 1);
        else
            updated = updated || res.updated;
        mk_pull_result_clear(&res);
    }
    struct mk_ref *ref = NULL;
    if (status == 0 && mk_ref_parse(repo, &ref, NULL) == 0) {
        _cleanup_free_ char *familiar = mk_ref_familiar_repo(ref);
        if (!quiet)
            printf("Status: %s for %s\n",
                   updated ? "Downloaded newer image" : "Image is up to date", familiar);
        printf("%s/%s\n", ref->domain, ref->path);
        mk_ref_free(ref);
    }
    mk_engine_free(e);
    return status;
}

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
    if (!no_trust)
        return mk_cli_no_content_trust();
    mk_err *err = NULL;
    struct mk_ref *ref = NULL;
    if ((r = mk_cli_registry_name(rest[0], all_tags, &ref)) >= 0)
        return r;
    if (all_tags) {
        mk_ref_free(ref);
        return pull_all(rest[0], plat, quiet);
    }
    /* docker says so when the name had neither tag nor digest */
    bool defaulted = ref->digest == NULL && !mk_ref_has_tag(rest[0]);
    mk_ref_free(ref);
    if (defaulted && !quiet)
        printf("Using default tag: latest\n");
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    struct mk_pull_result res;
    int status = 0;
    if (pull_one(e, rest[0], plat, quiet, false, &res, &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    else
        printf("%s\n", res.reference);
    mk_pull_result_clear(&res);
    mk_engine_free(e);
    return status;
}
