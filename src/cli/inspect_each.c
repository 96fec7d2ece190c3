/* inspect_each.c: the body of `docker volume|network inspect`: each object
 * found printed (docker's indented array, or -f's template a line each, or
 * -f json compactly), then the errors of those not found. */
#include "cli/cli.h"
#include "cli/format.h"

#include <string.h>

/* -f: the template for each object, a line each. */
static int render_each(const char *fmt, const json_t *all)
{
    size_t i;
    json_t *v;
    if (strcmp(fmt, "json") == 0) {
        json_array_foreach(all, i, v)
        {
            mk_buf out = {0};
            mk_format_json_go(&out, v);
            printf("%.*s\n", (int)out.len, out.data ? out.data : "");
            mk_buf_free(&out);
        }
        return 0;
    }
    struct mk_template *t = NULL;
    mk_err *err = NULL;
    if (mk_template_parse(fmt, &t, &err) < 0)
        return mk_cli_fail("template parsing error", err, 1);
    json_array_foreach(all, i, v)
    {
        mk_buf out = {0};
        if (mk_template_render(t, v, &out, &err) < 0) {
            mk_buf_free(&out);
            mk_template_free(t);
            return mk_cli_fail("template", err, 1);
        }
        printf("%.*s\n", (int)out.len, out.data ? out.data : "");
        mk_buf_free(&out);
    }
    mk_template_free(t);
    return 0;
}

int mk_cli_inspect_each(char **refs, const char *fmt,
                        json_t *(*get)(struct mk_engine *e, const char *ref, mk_err **err))
{
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    _cleanup_json_ json_t *all = json_array();
    int status = 0;
    /* as the docker CLI: what was found is printed first, then the errors */
    mk_err **errs = xcalloc(mk_strv_len(refs) + 1, sizeof(*errs));
    size_t nerrs = 0;
    for (size_t i = 0; refs[i] != NULL; i++) {
        json_t *obj = get(e, refs[i], &errs[nerrs]);
        if (obj == NULL)
            nerrs++;
        else
            json_array_append_new(all, obj);
    }
    mk_engine_free(e);
    if (fmt == NULL || *fmt == '\0') {
        _cleanup_free_ char *out = mk_json_dump_pretty(all);
        printf("%s\n", out);
    } else {
        status = render_each(fmt, all);
    }
    fflush(stdout);
    for (size_t i = 0; i < nerrs; i++)
        status = mk_cli_fail(NULL, errs[i], 1);
    free(errs);
    return status;
}
