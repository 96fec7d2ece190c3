/* cmd_events.c: docker events: the event log, filtered and formatted as docker
 * prints it, followed as it grows until --until or an interrupt. */
#include "cli/cli.h"
#include "cli/format.h"

#include <poll.h>
#include <string.h>
#include <sys/inotify.h>

#define FOLLOW_POLL_MS 250

struct events_ctx {
    json_t *filters; /* key -> array of values (OR within a key, AND across keys) */
    struct mk_template *tmpl;
    bool json_lines;
    int status;
};

static bool any_value(const json_t *values, bool (*match)(const char *want, const char *have),
                      const char *have)
{
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
        if (have != NULL && match(json_string_value(v), have))
            return true;
    return false;
}

static bool exact(const char *want, const char *have)
{
    return strcmp(want, have) == 0;
}

/* docker's FuzzyMatch: the value, or a prefix of it (short ids). */
static bool fuzzy(const char *want, const char *have)
{
    return mk_str_has_prefix(have, want);
}

/* docker compares image names with and without their tag. */
static bool image_name(const char *want, const char *have)
{
    if (strcmp(want, have) == 0)
        return true;
    const char *colon = strrchr(have, ':');
    if (colon == NULL || strchr(colon, '/') != NULL)
        return false;
    return strlen(want) == (size_t)(colon - have) && strncmp(want, have, strlen(want)) == 0;
}

static bool labels_match(const json_t *values, const json_t *attrs)
{
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v) {
        const char *want = json_string_value(v);
        const char *eq = strchr(want, '=');
        _cleanup_free_ char *key = eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
        const char *have = json_string_value(json_object_get(attrs, key));
        if (have == NULL || (eq != NULL && strcmp(have, eq + 1) != 0))
            return false;
    }
    return true;
}

static bool event_matches(const json_t *filters, const struct mk_event *ev)
{
    const char *key;
    json_t *values;
    const char *name = json_string_value(json_object_get(ev->attrs, "name"));
    json_object_foreach((json_t *)filters, key, values) {
        bool ok;
        if (strcmp(key, "event") == 0)
            ok = any_value(values, exact, ev->action);
        else if (strcmp(key, "type") == 0)
            ok = any_value(values, exact, ev->type);
        else if (strcmp(key, "label") == 0)
            ok = labels_match(values, ev->attrs);
        else if (strcmp(key, "image") == 0)
            ok = strcmp(ev->type, "image") == 0
                     ? any_value(values, image_name, ev->actor_id) || any_value(values, image_name, name)
                     : any_value(values, image_name,
                                 json_string_value(json_object_get(ev->attrs, "image")));
        else /* container, network, volume...: docker matches the actor's id or name */
            ok = strcmp(ev->type, key) == 0 &&
                 (any_value(values, fuzzy, ev->actor_id) || any_value(values, exact, name));
        if (!ok)
            return false;
    }
    return true;
}

/* events.Message as docker's {{json .}} prints it (the deprecated status, id
 * and from exist for container and image events only). */
static json_t *message_json(const struct mk_event *ev)
{
    json_t *m = json_object();
    if (strcmp(ev->type, "container") == 0 || strcmp(ev->type, "image") == 0) {
        json_object_set_new(m, "status", json_string(ev->action));
        json_object_set_new(m, "id", json_string(ev->actor_id));
        const char *from = json_string_value(json_object_get(ev->attrs, "image"));
        if (strcmp(ev->type, "container") == 0 && from != NULL)
            json_object_set_new(m, "from", json_string(from));
    }
    json_object_set_new(m, "Type", json_string(ev->type));
    json_object_set_new(m, "Action", json_string(ev->action));
    json_object_set_new(m, "Actor", json_pack("{s:s,s:O}", "ID", ev->actor_id, "Attributes", ev->attrs));
    json_object_set_new(m, "scope", json_string("local"));
    json_object_set_new(m, "time", json_integer(ev->time_ns / 1000000000));
    json_object_set_new(m, "timeNano", json_integer(ev->time_ns));
    return m;
}

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
    if (!event_matches(ctx->filters, ev))
        return 0;
    if (ctx->tmpl == NULL && !ctx->json_lines) {
        print_text(ev);
    } else {
        _cleanup_json_ json_t *m = message_json(ev);
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

static const char *const filter_keys[] = {"container", "event", "type", "image", "label",
                                          "network", "volume", "daemon", "plugin", NULL};

static int parse_filters(char **args, json_t *out)
{
    for (size_t i = 0; args && args[i]; i++) {
        const char *eq = strchr(args[i], '=');
        if (eq == NULL) {
            fprintf(stderr, "invalid argument \"%s\" for \"-f, --filter\" flag: bad format of filter (expected name=value)\n", args[i]);
            return -1;
        }
        _cleanup_free_ char *key = xstrndup(args[i], (size_t)(eq - args[i]));
        bool known = false;
        for (size_t k = 0; filter_keys[k]; k++)
            known |= strcmp(filter_keys[k], key) == 0;
        if (!known) {
            fprintf(stderr, "Error response from daemon: Invalid filter '%s'\n", key);
            return -1;
        }
        json_t *values = json_object_get(out, key);
        if (values == NULL) {
            values = json_array();
            json_object_set_new(out, key, values);
        }
        json_array_append_new(values, json_string(eq + 1));
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

/* Wait for the next write to the database (or FOLLOW_POLL_MS, in case the
 * WAL file is replaced or inotify is unavailable). */
static void wait_for_write(int ino, int timeout_ms)
{
    struct pollfd p = {.fd = ino, .events = POLLIN};
    if (poll(&p, ino >= 0 ? 1 : 0, timeout_ms) > 0) {
        char buf[4096];
        while (read(ino, buf, sizeof(buf)) > 0)
            ;
    }
}

static int follow(struct mk_engine *e, struct events_ctx *ctx, int64_t seq, int64_t since,
                  int64_t until)
{
    _cleanup_free_ char *wal = mk_events_wal_path(e);
    _cleanup_close_ int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ino >= 0)
        inotify_add_watch(ino, wal, IN_MODIFY);
    for (;;) {
        int64_t now = mk_now_ns();
        mk_err *err = NULL;
        if (mk_events_list(e, seq, since, until, on_event, ctx, &seq, &err) < 0)
            return mk_cli_fail(NULL, err, 1);
        if (ctx->status != 0 || (until != INT64_MAX && now > until))
            return ctx->status;
        int64_t left_ms = until == INT64_MAX ? FOLLOW_POLL_MS : (until - now) / 1000000 + 1;
        wait_for_write(ino, left_ms < FOLLOW_POLL_MS ? (int)left_ms : FOLLOW_POLL_MS);
    }
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
    struct events_ctx ctx = {.filters = json_object()};
    _cleanup_json_ json_t *filters = ctx.filters;
    int64_t now = mk_now_ns();
    /* Without --since only new events; without --until, follow. */
    int64_t since = now, until = INT64_MAX;
    if (parse_filters(filter_args, filters) < 0 ||
        (since_s != NULL && parse_time(since_s, now, &since) < 0) ||
        (until_s != NULL && parse_time(until_s, now, &until) < 0))
        return 1;
    if (since_s == NULL && until_s != NULL)
        since = 0;
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
        /* New events only: those after the newest now, by sequence (an event
         * stamped just before we started but committed after is still new). */
        int64_t after = 0;
        if (since_s == NULL && until_s == NULL) {
            after = mk_store_event_last_seq(e->store);
            since = 0;
        }
        status = follow(e, &ctx, after, since, until);
        mk_engine_free(e);
    }
    mk_template_free(ctx.tmpl);
    return status;
}
