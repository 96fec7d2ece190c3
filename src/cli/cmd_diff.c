/* cmd_diff.c: docker diff: "C /etc", "A /etc/new", "D /gone" for a container. */
#include "cli/cli.h"

int cmd_diff(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"diff", "diff CONTAINER",
                                      "Inspect changes to files or directories on a container's filesystem",
                                      true};
    struct mk_opt opts[] = {{NULL, 0, 0, NULL, NULL, NULL}};
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, 1, &rest);
    if (r >= 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    json_t *changes = NULL;
    int status = 0;
    if (mk_container_changes(e, rest[0], &changes, &err) < 0) {
        status = mk_cli_fail(NULL, err, 1);
    } else {
        static const char kinds[] = {'C', 'A', 'D'};
        size_t i;
        json_t *c;
        json_array_foreach(changes, i, c)
        {
            long kind = (long)mk_json_int(c, "Kind", 0);
            printf("%c %s\n", kinds[kind >= 0 && kind <= 2 ? kind : 0], mk_json_str(c, "Path"));
        }
        json_decref(changes);
    }
    mk_engine_free(e);
    return status;
}
