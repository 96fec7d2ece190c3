/* cmd_archive.c: docker save and docker load, images to and from tar archives. */
#include "cli/cli.h"
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

struct save_args {
    struct mk_store *store;
    char **names;
};

static int save_to(int fd, void *ctx, mk_err **err)
{
    struct save_args *a = ctx;
    return mk_image_save(a->store, a->names, fd, err);
}

int cmd_save(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"save", "save [OPTIONS] IMAGE [IMAGE...]",
                                      "Save one or more images to a tar archive (streamed to STDOUT by default)", true};
    _cleanup_free_ char *output = NULL;
    const struct mk_opt opts[] = {
        {"output", 'o', MK_OPT_STRING, &output, "Write to a file, instead of STDOUT", NULL},
        {"platform", 0, MK_OPT_REFUSED_VALUE, NULL, "saving one platform of a multi-platform image is not supported: images are stored for one platform", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, (size_t)-1, &rest);
    if (r >= 0)
        return r;
    if (output == NULL && isatty(1)) {
        fprintf(stderr, "cowardly refusing to save to a terminal. Use the -o flag or redirect\n");
        return 1;
    }
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    struct save_args a = {e->store, rest};
    mk_err *err = NULL;
    r = output != NULL ? mk_cli_write_output(output, save_to, &a, &err) : save_to(1, &a, &err);
    mk_engine_free(e);
    return r < 0 ? mk_cli_fail(NULL, err, 1) : 0;
}

/* docker prints a finished progress bar per layer loaded, on a terminal only. */
static void print_layer(void *ctx, const char *diff_id, int64_t size)
{
    _cleanup_free_ char *human = mk_human_size_prec(size, 4);
    printf("%.12s: Loading layer [==================================================>]  %s/%s\n",
           diff_id + 7, human, human);
    fflush(stdout);
}

int cmd_load(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"load", "load [OPTIONS]", "Load an image from a tar archive or STDIN", true};
    _cleanup_free_ char *input = NULL;
    bool quiet = false;
    const struct mk_opt opts[] = {
        {"input", 'i', MK_OPT_STRING, &input, "Read from tar archive file, instead of STDIN", NULL},
        {"quiet", 'q', MK_OPT_BOOL, &quiet, "Suppress the load output", NULL},
        {"platform", 0, MK_OPT_REFUSED_VALUE, NULL, "loading a chosen platform is not supported: the host's platform is loaded", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    if (r >= 0)
        return r;
    _cleanup_close_ int fd = -1;
    if (input != NULL) {
        fd = open(input, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "open %s: %s\n", input, strerror(errno));
            return 1;
        }
    } else if (isatty(0)) {
        fprintf(stderr, "requested load from stdin, but stdin is empty\n");
        return 1;
    }
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    /* docker shows progress on a terminal only, and -q takes that away. */
    struct mk_load_opts lo = {.on_layer = !quiet && isatty(1) ? print_layer : NULL};
    _cleanup_strv_ char **report = NULL;
    mk_err *err = NULL;
    r = mk_image_load(e->store, fd >= 0 ? fd : 0, &lo, &report, &err);
    mk_engine_free(e);
    if (r < 0)
        return mk_cli_fail(NULL, err, 1);
    for (size_t i = 0; report[i] != NULL; i++)
        printf("%s\n", report[i]);
    return 0;
}
