/* cmd_image.c: docker import, rmi and tag over the local store. */
#include "cli/cli.h"
#include "cli/format.h"
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

int cmd_import(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"import", "import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
                                      "Import the contents from a tarball to create a filesystem image", true};
    _cleanup_strv_ char **changes = NULL;
    char *message = NULL;
    _cleanup_free_ char *platform = NULL;
    struct mk_opt opts[] = {
        {"change", 'c', MK_OPT_LIST, &changes, "Apply Dockerfile instruction to the created image", NULL},
        {"message", 'm', MK_OPT_STRING, &message, "Set commit message for imported image", NULL},
        {"platform", 0, MK_OPT_STRING, &platform, "Set platform if server is multi-platform capable", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    _cleanup_free_ char *msg = NULL;
    mk_err *err = NULL;
    int r = mk_args_parse(&cmd, argc, argv, opts, &rest, &err);
    msg = message;
    if (r != 0)
        return r > 0 ? 0 : mk_cli_usage_error(&cmd, err);
    if (mk_cli_check_args(&cmd, rest, 1, 2) != 0)
        return 1;
    struct mk_platform plat;
    if (platform != NULL && *platform != '\0' && mk_platform_parse(platform, &plat, &err) < 0)
        return mk_cli_fail(NULL, err, 1);
    const char *src = rest[0];
    if (strstr(src, "://") != NULL) {
        fprintf(stderr, "mocker: importing from a URL is not supported (no network access to fetch it); download it and import the file\n");
        return 1;
    }
    int fd = 0;
    if (strcmp(src, "-") != 0) {
        fd = open(src, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "open %s: %s\n", src, strerror(errno));
            return 1;
        }
    }
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    struct mk_import_opts io = {.ref = rest[1],
                                .changes = changes,
                                .message = msg,
                                .platform = platform != NULL && *platform ? &plat : NULL};
    _cleanup_free_ char *id = NULL;
    int status = 0;
    if (mk_image_import(e->store, fd, &io, &id, &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    else
        printf("%s\n", id);
    if (fd > 0)
        close(fd);
    mk_engine_free(e);
    return status;
}

int cmd_rmi(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"rmi", "rmi [OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", true};
    bool force = false, no_prune = false;
    struct mk_opt opts[] = {
        {"force", 'f', MK_OPT_BOOL, &force, "Force removal of the image", NULL},
        {"no-prune", 0, MK_OPT_BOOL, &no_prune, "Do not delete untagged parents", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_args_parse(&cmd, argc, argv, opts, &rest, &err);
    if (r != 0)
        return r > 0 ? 0 : mk_cli_usage_error(&cmd, err);
    if (mk_cli_check_args(&cmd, rest, 1, (size_t)-1) != 0)
        return 1;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    int status = 0;
    for (size_t i = 0; rest[i]; i++) {
        _cleanup_strv_ char **report = NULL;
        struct mk_image_rm o = {.force = force, .no_prune = no_prune};
        r = mk_image_remove_with(e->store, rest[i], &o, &report, &err);
        /* what was done is reported even when a later step failed */
        for (size_t k = 0; report && report[k]; k++)
            printf("%s\n", report[k]);
        if (r < 0) {
            fflush(stdout);
            status = mk_cli_fail(NULL, err, 1);
            err = NULL;
        }
    }
    mk_engine_free(e);
    return status;
}

int cmd_tag(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"tag", "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                                      "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", true};
    struct mk_opt opts[] = {{NULL, 0, 0, NULL, NULL, NULL}};
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_args_parse(&cmd, argc, argv, opts, &rest, &err);
    if (r != 0)
        return r > 0 ? 0 : mk_cli_usage_error(&cmd, err);
    if (mk_cli_check_args(&cmd, rest, 2, 2) != 0)
        return 1;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    int status = 0;
    if (mk_image_tag(e->store, rest[0], rest[1], &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    mk_engine_free(e);
    return status;
}
