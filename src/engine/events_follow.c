/* events_follow.c: docker events' reading side, shared by `mocker events` and
 * the API's GET /events: the filters (docker's keys and matching rules), the
 * message as dockerd sends it, and following the log as it grows (inotify on
 * the database's WAL, where every new event is written first). */
#include "engine/engine.h"

#include <poll.h>
#include <string.h>
#include <sys/inotify.h>

#define FOLLOW_POLL_MS 250

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

/* dockerd's accepted event filter keys (the swarm ones match nothing here). */
static const char *const filter_keys[] = {"container", "event",  "type",   "image",   "label",
                                          "network",   "volume", "daemon", "plugin",  "scope",
                                          "service",   "node",   "secret", "config", NULL};

int mk_events_filters(char *const *kv, json_t **out, mk_err **err)
{
    _cleanup_json_ json_t *f = json_object();
    for (size_t i = 0; kv != NULL && kv[i] != NULL; i++) {
        const char *eq = strchr(kv[i], '=');
        if (eq == NULL)
            return mk_err_set(err, MK_ERR_INVALID,
                              "bad format of filter (expected name=value)");
        _cleanup_free_ char *key = xstrndup(kv[i], (size_t)(eq - kv[i]));
        bool known = false;
        for (size_t k = 0; filter_keys[k]; k++)
            known |= strcmp(filter_keys[k], key) == 0;
        if (!known)
            return mk_err_set(err, MK_ERR_INVALID, "Invalid filter '%s'", key);
        json_t *values = json_object_get(f, key);
        if (values == NULL) {
            values = json_array();
            json_object_set_new(f, key, values);
        }
        json_array_append_new(values, json_string(eq + 1));
    }
    *out = json_incref(f);
    return 0;
}

bool mk_event_matches(const json_t *filters, const struct mk_event *ev)
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
        else if (strcmp(key, "scope") == 0)
            ok = any_value(values, exact, "local"); /* no swarm: every event is local */
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

/* The deprecated status, id and from exist for container and image events only. */
json_t *mk_event_message(const struct mk_event *ev)
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

struct match_ctx {
    const struct mk_events_query *q;
    int (*fn)(void *ctx, const struct mk_event *ev);
    void *ctx;
    bool stop;
};

static int on_event(void *p, const struct mk_event *ev)
{
    struct match_ctx *m = p;
    if (!mk_event_matches(m->q->filters, ev))
        return 0;
    if (m->fn(m->ctx, ev) != 0) {
        m->stop = true;
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

int mk_events_follow(struct mk_engine *e, const struct mk_events_query *q,
                     int (*fn)(void *ctx, const struct mk_event *ev), void *ctx, mk_err **err)
{
    int64_t since = q->since_set ? q->since_ns : 0;
    int64_t until = q->until_set ? q->until_ns : INT64_MAX;
    /* Without since or until: new events only, those after the newest now by
     * sequence (an event stamped just before we started but committed after
     * is still new).  With until alone: from the start of the log. */
    int64_t seq = !q->since_set && !q->until_set ? mk_store_event_last_seq(e->store) : 0;
    struct match_ctx m = {.q = q, .fn = fn, .ctx = ctx};
    _cleanup_free_ char *wal = mk_events_wal_path(e);
    _cleanup_close_ int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ino >= 0)
        inotify_add_watch(ino, wal, IN_MODIFY);
    for (;;) {
        int64_t now = mk_now_ns();
        if (mk_events_list(e, seq, since, until, on_event, &m, &seq, err) < 0)
            return -1;
        if (m.stop || (until != INT64_MAX && now > until))
            return 0;
        /* idle: the caller may stop here (its client went away) */
        if (fn(ctx, NULL) != 0)
            return 0;
        int64_t left_ms = until == INT64_MAX ? FOLLOW_POLL_MS : (until - now) / 1000000 + 1;
        wait_for_write(ino, left_ms < FOLLOW_POLL_MS ? (int)left_ms : FOLLOW_POLL_MS);
    }
}
