/* cmd_export.c: docker export, a container's filesystem as a tar. */
#include "cli/cli.h"

#include <fcntl.h>
#include <string.h>

/* -o FILE: written to a temp file beside it and renamed, so a failed export
 * never leaves a truncated FILE (docker's CopyToFile does the same, and its
 * temp file's mode 0600 is what FILE ends up with). */
static int export_to_file(const char *ref, const char *path, mk_err **err)
{
    _cleanup_free_ char *tmp = xasprintf("%s.mocker-tmp-%d", path, (int)getpid());
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return mk_err_sys(err, "open %s", tmp);
    if (mk_container_export(mk_cli_engine(), ref, fd, err) < 0) {
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
    r = output != NULL ? export_to_file(rest[0], output, &err)
                       : mk_container_export(mk_cli_engine(), rest[0], 1, &err);
    return r < 0 ? mk_cli_fail(NULL, err, 1) : 0;
}
