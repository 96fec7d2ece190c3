/* test_table.c: tabwriter alignment as the docker CLI prints tables, and the
 * --format conventions of list commands (table, table TEMPLATE, json, raw). */
#include <stdlib.h>
#include <string.h>

#include "cli/format.h"
#include "tap.h"

static char *kept[256];
static size_t nkept;

static const char *keep(char *s)
{
    if (nkept < sizeof kept / sizeof kept[0])
        kept[nkept++] = s;
    return s;
}

/* Print raw text through a table with the given settings. */
static const char *tab(int minwidth, int padding, const char *text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct mk_table *t = minwidth < 0 ? mk_table_new() : mk_table_new_with(minwidth, padding);
    mk_table_write(t, text, strlen(text));
    mk_table_print(t, f);
    mk_table_free(t);
    fclose(f);
    return keep(buf);
}

static const char PS_DEFAULT[] =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

static json_t *ps_headers(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "CONTAINER ID", "Image",
                     "IMAGE", "Command", "COMMAND", "RunningFor", "CREATED", "Status", "STATUS",
                     "Ports", "PORTS", "Names", "NAMES", "Labels", "LABELS");
}

static json_t *ps_rows(void)
{
    return json_pack("[{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s}},"
                     " {s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{}}]",
                     "ID", "abc123def456", "Image", "alpine", "Command", "\"sleep 100\"",
                     "RunningFor", "5 seconds ago", "Status", "Up 4 seconds", "Ports", "", "Names",
                     "x", "Labels", "app", "<web>", "ID", "0123456789ab", "Image", "nginx:latest",
                     "Command", "\"/docker-entrypoint.\xe2\x80\xa6\"", "RunningFor", "2 hours ago",
                     "Status", "Exited (0) 1 hour ago", "Ports", "0.0.0.0:80->80/tcp", "Names",
                     "web", "Labels");
}

/* mk_format_rows into a string; "ERR: message" on failure (with any output). */
static const char *fmt_rows(const char *format, const json_t *rows)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    json_t *headers = ps_headers();
    mk_err *err = NULL;
    int rc = mk_format_rows(format, PS_DEFAULT, headers, rows, f, &err);
    fclose(f);
    json_decref(headers);
    if (rc < 0) {
        char *msg = xasprintf("ERR: %s%s%s", err->msg, len ? " OUTPUT: " : "", buf);
        free(buf);
        mk_err_free(err);
        return keep(msg);
    }
    return keep(buf);
}

static void test_go_tabwriter(void)
{
    /* the example of Go's text/tabwriter documentation, padding 1 */
    CHECK_STR(tab(0, 1, "aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n"),
              "aaaa bbb d\naa   b   dd\na    \naa   cccc eee\n");
    /* the last cell is never padded; empty cells are */
    CHECK_STR(tab(0, 3, "a\t\tb\nccc\tdd\te\n"), "a          b\nccc   dd   e\n");
    /* a line without tabs ends the column block */
    CHECK_STR(tab(0, 1, "aaaaaaa\tb\nx\nc\td\n"), "aaaaaaa b\nx\nc d\n");
    /* trailing text without a newline is flushed as is */
    CHECK_STR(tab(0, 2, "ab\tc\nd\te"), "ab  c\nd   e");
    CHECK_STR(tab(0, 2, "ab\tc\nd\t"), "ab  c\nd");
    CHECK_STR(tab(0, 3, ""), "");
    CHECK_STR(tab(0, 3, "\n\n"), "\n\n");
    /* minwidth counts the padding */
    CHECK_STR(tab(10, 3, "A\tB\tC\nlong-name-here\tx\ty\n"),
              "A                B         C\nlong-name-here   x         y\n");
}

static void test_widths(void)
{
    /* runes, not bytes */
    CHECK_STR(tab(0, 3, "h\xc3\xa9llo\tx\nab\ty\n"), "h\xc3\xa9llo   x\nab      y\n");
    /* East Asian wide characters take two columns */
    CHECK_STR(tab(0, 3, "\xe6\x97\xa5\xe6\x9c\xac\tx\nabc\ty\n"),
              "\xe6\x97\xa5\xe6\x9c\xac   x\nabc    y\n");
    /* combining marks take none */
    CHECK_STR(tab(0, 1, "e\xcc\x81\tx\nab\ty\n"), "e\xcc\x81  x\nab y\n");
}

static void test_add_rows(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct mk_table *t = mk_table_new();
    mk_table_add(t, "NAME\tDRIVER\tSCOPE");
    mk_table_add(t, "bridge\tbridge\tlocal");
    mk_table_add(t, "host-network-long\thost\tlocal");
    mk_table_print(t, f);
    mk_table_free(t);
    fclose(f);
    CHECK_STR(buf, "NAME                DRIVER    SCOPE\n"
                   "bridge              bridge    local\n"
                   "host-network-long   host      local\n");
    free(buf);
}

static void test_format_default(void)
{
    json_t *none = json_array(), *rows = ps_rows();
    /* the header of an empty `docker ps` */
    CHECK_STR(fmt_rows(NULL, none),
              "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n");
    CHECK_STR(fmt_rows("", none),
              "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n");
    CHECK_STR(fmt_rows("table", rows),
              "CONTAINER ID   IMAGE          COMMAND                  CREATED         STATUS    "
              "              PORTS                NAMES\n"
              "abc123def456   alpine         \"sleep 100\"              5 seconds ago   Up 4 "
              "seconds                                 x\n"
              "0123456789ab   nginx:latest   \"/docker-entrypoint.\xe2\x80\xa6\"   2 hours ago  "
              "   Exited (0) 1 hour ago   0.0.0.0:80->80/tcp   web\n");
    json_decref(none);
    json_decref(rows);
}

static void test_format_custom(void)
{
    json_t *none = json_array(), *rows = ps_rows();
    /* "table TEMPLATE": a header from the headers map; \t written as two characters */
    CHECK_STR(fmt_rows("table {{.ID}}\\t{{.Names}}", rows),
              "CONTAINER ID   NAMES\nabc123def456   x\n0123456789ab   web\n");
    CHECK_STR(fmt_rows("table {{.Names}}", none), "NAMES\n");
    /* header functions return the title unchanged; unknown fields show their name */
    CHECK_STR(fmt_rows("table {{upper .Names}}\t{{json .Image}}\t{{.Size}}", rows),
              "NAMES     IMAGE            Size\n"
              "X         \"alpine\"         <no value>\n"
              "WEB       \"nginx:latest\"   <no value>\n");
    /* docker's header stops at .Label (a method call on its header map fails),
     * leaving "NAMES\t": so the first column is still aligned */
    CHECK_STR(fmt_rows("table {{.Names}}\t{{.Label \"app\"}}", rows),
              "NAMES     \nx         <web>\nweb       \n");
    /* other templates: one line per row, no header, no alignment */
    CHECK_STR(fmt_rows("{{.Names}}: {{.Status}}", rows),
              "x: Up 4 seconds\nweb: Exited (0) 1 hour ago\n");
    CHECK_STR(fmt_rows("{{.Names}}\\t{{.ID}}\\n", rows),
              "x\tabc123def456\n\nweb\t0123456789ab\n\n");
    CHECK_STR(fmt_rows("  {{.Names}}  ", rows), "x\nweb\n");
    CHECK_STR(fmt_rows("{{.Names}}", none), "");
    /* json: one compact object per line, in the row's key order, HTML unescaped */
    CHECK_STR(fmt_rows("json", rows),
              "{\"ID\":\"abc123def456\",\"Image\":\"alpine\",\"Command\":\"\\\"sleep 100\\\"\","
              "\"RunningFor\":\"5 seconds ago\",\"Status\":\"Up 4 seconds\",\"Ports\":\"\","
              "\"Names\":\"x\",\"Labels\":{\"app\":\"<web>\"}}\n"
              "{\"ID\":\"0123456789ab\",\"Image\":\"nginx:latest\",\"Command\":"
              "\"\\\"/docker-entrypoint.\xe2\x80\xa6\\\"\",\"RunningFor\":\"2 hours ago\","
              "\"Status\":\"Exited (0) 1 hour ago\",\"Ports\":\"0.0.0.0:80->80/tcp\","
              "\"Names\":\"web\",\"Labels\":{}}\n");
    CHECK_STR(fmt_rows("json", none), "");
    json_decref(none);
    json_decref(rows);
}

static void test_format_errors(void)
{
    json_t *rows = ps_rows();
    CHECK_STR(fmt_rows("{{.Names", rows),
              "ERR: template parsing error: template: :1: unclosed action");
    CHECK_STR(fmt_rows("table {{nope .Names}}", rows),
              "ERR: template parsing error: template: :1: function \"nope\" not defined");
    /* an execution error prints nothing at all */
    CHECK_STR(fmt_rows("table {{.Names.X}}", rows),
              "ERR: template parsing error: template: :1:2: executing \"\" at <.Names.X>: can't "
              "evaluate field X in type string");
    json_decref(rows);
}

/* docker's formatter.Ellipsis, as ps (20) and history (45) cut their columns */
static void test_ellipsis(void)
{
    CHECK_STR(keep(mk_str_ellipsis("short", 20)), "short");
    CHECK_STR(keep(mk_str_ellipsis("12345678901234567890", 20)), "12345678901234567890");
    CHECK_STR(keep(mk_str_ellipsis("123456789012345678901", 20)), "1234567890123456789…");
    /* characters, not bytes: 20 two-byte characters fit, 21 do not */
    CHECK_STR(keep(mk_str_ellipsis("éééééééééééééééééééé", 20)), "éééééééééééééééééééé");
    CHECK_STR(keep(mk_str_ellipsis("ééééééééééééééééééééé", 20)), "ééééééééééééééééééé…");
    CHECK_STR(keep(mk_str_ellipsis("abc", 1)), "a");
    CHECK_STR(keep(mk_str_ellipsis("abc", 0)), "");
}

int main(void)
{
    RUN(test_ellipsis);
    RUN(test_go_tabwriter);
    RUN(test_widths);
    RUN(test_add_rows);
    RUN(test_format_default);
    RUN(test_format_custom);
    RUN(test_format_errors);
    for (size_t i = 0; i < nkept; i++)
        free(kept[i]);
    return tap_done();
}
