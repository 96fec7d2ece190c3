/* format.c: docker's --format conventions for list commands (docker/cli's
 * formatter.Context): "table", "table TEMPLATE", "json" and raw templates. */
#include <string.h>

#include "cli/format.h"

/* formatter.Context.preFormat: drop the "table" prefix, trim spaces, and turn the
 * two-character sequences \t and \n into a tab and a newline. */
static char *preformat(const char *body)
{
    size_t n = strlen(body);
    while (n > 0 && *body == ' ')
        body++, n--;
    while (n > 0 && body[n - 1] == ' ')
        n--;
    mk_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (body[i] == '\\' && i + 1 < n && (body[i + 1] == 't' || body[i + 1] == 'n')) {
            mk_buf_append(&b, body[i + 1] == 't' ? "\t" : "\n", 1);
            i++;
        } else {
            mk_buf_append(&b, body + i, 1);
        }
    }
    return mk_buf_steal(&b);
}

int mk_format_rows(const char *format, const char *default_tmpl, const json_t *headers,
                   const json_t *rows, FILE *f, mk_err **err)
{
    const char *fmt = format;
    bool is_table;
    if (fmt == NULL || *fmt == '\0' || strcmp(fmt, "table") == 0) {
        /* the default is a table whether or not it is spelled with the prefix */
        fmt = default_tmpl ? default_tmpl : "";
        is_table = true;
        if (mk_str_has_prefix(fmt, "table"))
            fmt += strlen("table");
    } else {
        is_table = mk_str_has_prefix(fmt, "table");
        if (is_table)
            fmt += strlen("table");
        else if (strcmp(fmt, "json") == 0)
            fmt = "{{json .}}";
    }
    _cleanup_free_ char *text = preformat(fmt);
    struct mk_template *tmpl = NULL;
    if (mk_template_parse(text, &tmpl, err) < 0)
        return -1;

    mk_buf out = {0};
    int rc = 0;
    for (size_t i = 0; json_is_array(rows) && i < json_array_size(rows); i++) {
        if (mk_template_render(tmpl, json_array_get(rows, i), &out, err) < 0) {
            rc = mk_err_wrap(err, "template parsing error");
            goto done;
        }
        mk_buf_append(&out, "\n", 1);
    }
    if (is_table) {
        mk_buf head = {0};
        _cleanup_json_ json_t *empty = json_object();
        _cleanup_err_ mk_err *herr = NULL;
        /* docker ignores header errors and keeps the header rendered so far */
        mk_template_render_header(tmpl, headers ? headers : empty, &head, &herr);
        struct mk_table *t = mk_table_new();
        mk_table_write(t, head.data ? head.data : "", head.len);
        mk_table_write(t, "\n", 1);
        mk_table_write(t, out.data ? out.data : "", out.len);
        mk_table_print(t, f);
        mk_table_free(t);
        mk_buf_free(&head);
    } else if (out.len > 0) {
        fwrite(out.data, 1, out.len, f);
    }
done:
    mk_buf_free(&out);
    mk_template_free(tmpl);
    return rc;
}
