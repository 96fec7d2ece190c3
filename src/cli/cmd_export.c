/* cmd_export.c: docker export, a container's filesystem as a tar. */
#include "cli/cli.h"

#include <fcntl.h>
#include <string.h>

int mk_cli_write_output(const char *path, int (*write_fn)(int fd, void *ctx, mk_err **err),
                        void *ctx, mk_err **err)
{
    _cleanup_free_ char *tmp = xasprintf("%s.mocker-tmp-%d", path, (int)getpid());
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return mk_err_sys(err, "open %s", tmp);
    if (write_fn(fd, ctx, err) < 0) {
        unlink(tmp);
        return -1;
    }
    if (fsync(fd) < 0 || rename(tmp, path) < 0) {
        mk_err_sys(err, "write %s", path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int export_to(int fd, void *ref, mk_err **err)
{
    return mk_container_export(mk_cli_engine(), ref, fd, err);
}

int cmd_export(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"export", "export [OPTIONS] CONTAINER",
                                      "Export a container's filesystem as a tar archive", true};
    _cleanup_free_ char *output = NULL;
    const struct mk_opt opts[] = {
        {"output", 'o', MK_OPT_STRING, &output, "Write to a file, instead of STDOUT", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, 1, &rest);
    if (r >= 0)
        return r;
    if (output == NULL && isatty(1)) {
        fprintf(stderr, "cowardly refusing to save to a terminal. Use the -o flag or redirect\n");
        return 1;
    }
    r = output != NULL ? mk_cli_write_output(output, export_to, rest[0], &err)
                       : export_to(1, rest[0], &err);
    return r < 0 ? mk_cli_fail(NULL, err, 1) : 0;
}
