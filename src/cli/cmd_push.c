/* cmd_push.c: docker push. */
#include "cli/cli.h"
#include "cli/progress.h"
#include "image/image.h"

#include <string.h>

/* push -a: every local tag of repo ("host/path"), as full references. */
static char **local_tags(struct mk_engine *e, const char *repo)
{
    struct mk_image **imgs = NULL;
    size_t n = 0;
    if (mk_store_image_list(e->store, &imgs, &n, NULL) < 0)
        return NULL;
    char **out = xcalloc(1, sizeof(char *));
    size_t len = strlen(repo);
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; imgs[i]->tags != NULL && imgs[i]->tags[t] != NULL; t++)
            if (strncmp(imgs[i]->tags[t], repo, len) == 0 && imgs[i]->tags[t][len] == ':')
                mk_strv_push(&out, imgs[i]->tags[t]);
    mk_image_list_free(imgs, n);
    return out;
}

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
    if (!no_trust)
        return mk_cli_no_content_trust();
    mk_err *err = NULL;
    struct mk_ref *ref = NULL;
    if ((r = mk_cli_registry_name(rest[0], all_tags, &ref)) >= 0)
        return r;
    _cleanup_free_ char *repo = xasprintf("%s/%s", ref->domain, ref->path);
    mk_ref_free(ref);
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    _cleanup_strv_ char **names = NULL;
    if (all_tags)
        names = local_tags(e, repo);
    else
        mk_strv_push(&names, rest[0]);
    int status = 0;
    if (names == NULL || names[0] == NULL) {
        fprintf(stderr, "An image does not exist locally with the tag: %s\n", rest[0]);
        status = 1;
    }
    for (size_t i = 0; status == 0 && names[i] != NULL; i++) {
        struct mk_cli_progress prog;
        mk_cli_progress_init(&prog, stdout, quiet);
        /* docker names the repository once for all its tags */
        struct mk_push_opts o = {.name = names[i], .progress = mk_cli_progress_cb, .ctx = &prog,
                                 .no_header = i > 0};
        _cleanup_free_ char *digest = NULL;
        if (mk_image_push(e->store, &o, &digest, &err) < 0)
            status = mk_cli_fail(NULL, err, 1);
        else if (quiet)
            printf("%s\n", names[i]);
        mk_cli_progress_free(&prog);
    }
    mk_engine_free(e);
    return status;
}
