/* cmd_events.c: docker events: the event log, filtered and formatted as docker
 * prints it, followed as it grows until --until or an interrupt.  The reading,
 * filtering and following are the engine's (mk_events_follow), as for the
 * API's GET /events. */
#include "cli/cli.h"
#include "cli/format.h"

#include <string.h>

struct events_ctx {
    struct mk_template *tmpl;
    bool json_lines;
    int status;
};

/* The same message with Go's field names, which is what templates see. */
static json_t *message_fields(const json_t *m)
{
    static const char *const names[][2] = {
        {"status", "Status"}, {"id", "ID"},      {"from", "From"},       {"Type", "Type"},
        {"Action", "Action"}, {"Actor", "Actor"}, {"scope", "Scope"},     {"time", "Time"},
        {"timeNano", "TimeNano"},
    };
    json_t *f = json_object();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *v = json_object_get(m, names[i][0]);
        json_object_set(f, names[i][1], v != NULL ? v : json_string(""));
    }
    return f;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_text(const struct mk_event *ev)
{
    _cleanup_free_ char *when = mk_time_rfc3339_fixed(ev->time_ns);
    printf("%s %s %s %s", when, ev->type, ev->action, ev->actor_id);
    /* docker sorts the attributes by key. */
    _cleanup_free_ const char **keys = xcalloc(json_object_size(ev->attrs) + 1, sizeof(char *));
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(ev->attrs, k, v)
        keys[n++] = k;
    qsort(keys, n, sizeof(keys[0]), by_key);
    for (size_t i = 0; i < n; i++)
        printf("%s%s=%s", i == 0 ? " (" : ", ", keys[i],
               json_string_value(json_object_get(ev->attrs, keys[i])));
    printf("%s\n", n > 0 ? ")" : "");
}

static int on_event(void *vctx, const struct mk_event *ev)
{
    struct events_ctx *ctx = vctx;
    if (ev == NULL)
        return 0;
    if (ctx->tmpl == NULL && !ctx->json_lines) {
        print_text(ev);
    } else {
        _cleanup_json_ json_t *m = mk_event_message(ev);
        mk_buf b = {0};
        if (ctx->json_lines) {
            mk_format_json_go(&b, m);
        } else {
            _cleanup_json_ json_t *fields = message_fields(m);
            mk_err *err = NULL;
            if (mk_template_render(ctx->tmpl, fields, &b, &err) < 0) {
                fprintf(stderr, "Error parsing format: %s\n", err->msg);
                mk_err_free(err);
                mk_buf_free(&b);
                ctx->status = 1;
                return -1;
            }
        }
        printf("%.*s\n", (int)b.len, b.data ? b.data : "");
        mk_buf_free(&b);
    }
    fflush(stdout);
    return 0;
}

/* The flag's syntax is the CLI's to check; the keys are the engine's. */
static int parse_filters(char **args, json_t **out)
{
    for (size_t i = 0; args && args[i]; i++)
        if (strchr(args[i], '=') == NULL) {
            fprintf(stderr, "invalid argument \"%s\" for \"-f, --filter\" flag: bad format of filter (expected name=value)\n", args[i]);
            return -1;
        }
    mk_err *err = NULL;
    if (mk_events_filters(args, out, &err) < 0) {
        mk_cli_fail(NULL, err, 1);
        return -1;
    }
    return 0;
}

static int parse_time(const char *s, int64_t now, int64_t *out)
{
    mk_err *err = NULL;
    if (mk_time_parse(s, now, out, &err) < 0) {
        fprintf(stderr, "failed to parse value as time or duration: \"%s\"\n", s);
        mk_err_free(err);
        return -1;
    }
    return 0;
}

/* "json" and "{{json .}}" print docker's JSON message, whose keys differ from
 * the Go field names that other templates use. */
static bool is_json_format(const char *f)
{
    while (*f == ' ')
        f++;
    size_t n = strlen(f);
    while (n > 0 && f[n - 1] == ' ')
        n--;
    return (n == 4 && strncmp(f, "json", 4) == 0) || (n == 10 && strncmp(f, "{{json .}}", 10) == 0);
}

int cmd_events(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"events", "events [OPTIONS]", "Get real time events from the server", true};
    char *since_s = NULL, *until_s = NULL, *format = NULL;
    _cleanup_strv_ char **filter_args = NULL;
    struct mk_opt opts[] = {
        {"filter", 'f', MK_OPT_LIST, &filter_args, "Filter output based on conditions provided", NULL},
        {"format", 0, MK_OPT_STRING, &format, "Format output using a custom template", NULL},
        {"since", 0, MK_OPT_STRING, &since_s, "Show all events created since timestamp", NULL},
        {"until", 0, MK_OPT_STRING, &until_s, "Stream events until this timestamp", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    _cleanup_free_ char *since_f = since_s, *until_f = until_s, *format_f = format;
    if (r >= 0)
        return r;
    struct events_ctx ctx = {0};
    _cleanup_json_ json_t *filters = NULL;
    int64_t now = mk_now_ns();
    /* Without --since only new events; without --until, follow. */
    struct mk_events_query q = {.since_set = since_s != NULL, .until_set = until_s != NULL};
    if (parse_filters(filter_args, &filters) < 0 ||
        (since_s != NULL && parse_time(since_s, now, &q.since_ns) < 0) ||
        (until_s != NULL && parse_time(until_s, now, &q.until_ns) < 0))
        return 1;
    q.filters = filters;
    if (format != NULL) {
        if (is_json_format(format)) {
            ctx.json_lines = true;
        } else if (*format != '\0' && mk_template_parse(format, &ctx.tmpl, &err) < 0) {
            fprintf(stderr, "Error parsing format: %s\n", err->msg);
            mk_err_free(err);
            return 1;
        }
    }
    struct mk_engine *e = mk_cli_engine();
    int status = 1;
    if (e != NULL) {
        status = mk_events_follow(e, &q, on_event, &ctx, &err) < 0 ? mk_cli_fail(NULL, err, 1)
                                                                   : ctx.status;
        mk_engine_free(e);
    }
    mk_template_free(ctx.tmpl);
    return status;
}
