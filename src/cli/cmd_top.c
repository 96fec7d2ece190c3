/* cmd_top.c: docker top CONTAINER [ps OPTIONS]. */
#include "cli/cli.h"
#include "cli/format.h"

static void print_top(const json_t *top)
{
    /* the docker CLI's tabwriter: minwidth 20, padding 3 */
    struct mk_table *t = mk_table_new_with(20, 3);
    mk_buf line = {0};
    size_t i, j;
    json_t *v, *row;
    json_array_foreach(json_object_get(top, "Titles"), i, v)
    {
        mk_buf_puts(&line, i > 0 ? "\t" : "");
        mk_buf_puts(&line, json_string_value(v));
    }
    mk_buf_puts(&line, "\n");
    json_array_foreach(json_object_get(top, "Processes"), i, row)
    {
        json_array_foreach(row, j, v)
        {
            mk_buf_puts(&line, j > 0 ? "\t" : "");
            mk_buf_puts(&line, json_string_value(v));
        }
        mk_buf_puts(&line, "\n");
    }
    mk_table_write(t, line.data, line.len);
    mk_table_print(t, stdout);
    mk_table_free(t);
    mk_buf_free(&line);
}

int cmd_top(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"top", "top CONTAINER [ps OPTIONS]",
                                      "Display the running processes of a container", false};
    struct mk_opt opts[] = {{NULL, 0, 0, NULL, NULL, NULL}};
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, (size_t)-1, &rest);
    if (r >= 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    json_t *top = NULL;
    int status = 0;
    if (mk_container_top(e, rest[0], rest + 1, &top, &err) < 0) {
        status = mk_cli_fail(NULL, err, 1);
    } else {
        print_top(top);
        json_decref(top);
    }
    mk_engine_free(e);
    return status;
}
