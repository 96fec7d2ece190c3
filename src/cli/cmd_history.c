/* cmd_history.c: docker history / docker image history: an image's history
 * entries, newest first, in docker's columns (its formatter_history.go). */
#include "cli/cli.h"
#include "cli/format.h"
#include "image/image.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HISTORY_HUMAN "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
#define HISTORY_RAW   "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"

/* Go's time.Unix(secs, 0).Format(time.RFC3339): local time, "Z" for UTC. */
static char *rfc3339_seconds(int64_t secs)
{
    time_t t = (time_t)secs;
    struct tm tm;
    char buf[64], zone[16] = "Z";
    localtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    int off = (int)(tm.tm_gmtoff / 60); /* minutes; zones are within a day */
    if (off != 0)
        snprintf(zone, sizeof(zone), "%c%02d:%02d", off < 0 ? '-' : '+', abs(off) / 60 % 100,
                 abs(off) % 60);
    return xasprintf("%s%s", buf, zone);
}

/* One row as docker's historyContext renders its fields. */
static json_t *history_row(const json_t *h, bool human, bool trunc, int64_t now)
{
    const char *id = mk_json_str(h, "Id") ?: "";
    _cleanup_free_ char *short_id = NULL;
    if (trunc) {
        const char *colon = strchr(id, ':');
        short_id = xstrndup(colon != NULL ? colon + 1 : id, 12);
        id = short_id;
    }
    int64_t created = (int64_t)json_integer_value(json_object_get(h, "Created"));
    _cleanup_free_ char *created_at = rfc3339_seconds(created);
    _cleanup_free_ char *since = NULL;
    if (human) {
        _cleanup_free_ char *d = mk_human_duration(now - created * 1000000000);
        since = xasprintf("%s ago", d);
    } else {
        since = xstrdup(created_at);
    }
    /* docker shows the command on one line: tabs become spaces */
    _cleanup_free_ char *by = xstrdup(mk_json_str(h, "CreatedBy") ?: "");
    for (char *p = by; *p; p++)
        if (*p == '\t')
            *p = ' ';
    _cleanup_free_ char *by_shown = trunc ? mk_str_ellipsis(by, 45) : xstrdup(by);
    int64_t bytes = (int64_t)json_integer_value(json_object_get(h, "Size"));
    _cleanup_free_ char *size = human ? mk_human_size(bytes) : xasprintf("%lld", (long long)bytes);
    /* docker's {{json .}} key order */
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "Comment", mk_json_str(h, "Comment") ?: "",
                     "CreatedAt", created_at, "CreatedBy", by_shown, "CreatedSince", since, "ID",
                     id, "Size", size);
}

static int show_history(struct mk_engine *e, const char *name, bool human, bool no_trunc,
                        bool quiet, const char *format, mk_err **err)
{
    struct mk_image *img = NULL;
    if (mk_image_lookup(e->store, name, &img, err) < 0)
        return -1;
    _cleanup_json_ json_t *history = NULL;
    int r = mk_image_history(e->store, img, &history, err);
    mk_image_free(img);
    if (r < 0)
        return -1;
    int64_t now = mk_now_ns();
    _cleanup_json_ json_t *rows = json_array();
    size_t i;
    json_t *h;
    json_array_foreach(history, i, h)
    {
        json_array_append_new(rows, history_row(h, human, !no_trunc, now));
    }
    _cleanup_json_ json_t *headers = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s}", "ID", "IMAGE", "CreatedSince", "CREATED", "CreatedAt",
        "CREATED AT", "CreatedBy", "CREATED BY", "Size", "SIZE", "Comment", "COMMENT");
    /* -q replaces the default table only; an explicit --format wins, as in docker */
    bool table = format == NULL || *format == '\0' || strcmp(format, "table") == 0;
    const char *def = quiet ? "{{.ID}}" : human ? HISTORY_HUMAN : HISTORY_RAW;
    return mk_format_rows(table ? def : format, def, headers, rows, stdout, err);
}

int cmd_history(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"history", "history [OPTIONS] IMAGE",
                                      "Show the history of an image", true};
    bool human = true, no_trunc = false, quiet = false;
    char *format = NULL;
    struct mk_opt opts[] = {
        {"format", 0, MK_OPT_STRING, &format, "Format output using a custom template", NULL},
        {"human", 'H', MK_OPT_BOOL, &human,
         "Print sizes and dates in human readable format (default true)", NULL},
        {"no-trunc", 0, MK_OPT_BOOL, &no_trunc, "Don't truncate output", NULL},
        {"platform", 0, MK_OPT_REFUSED_VALUE, NULL, "platforms come with the images issue", NULL},
        {"quiet", 'q', MK_OPT_BOOL, &quiet, "Only show image IDs", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_args_parse(&cmd, argc, argv, opts, &rest, &err);
    _cleanup_free_ char *fmt = format;
    if (r != 0)
        return r > 0 ? 0 : mk_cli_usage_error(&cmd, err);
    if (mk_cli_check_args(&cmd, rest, 1, 1) != 0)
        return 1;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    int status = 0;
    if (show_history(e, rest[0], human, no_trunc, quiet, fmt, &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    mk_engine_free(e);
    return status;
}
