/* events.c: docker's container events with docker's attributes, and reading
 * the event log back for `docker events` (and later the API's /events). */
#include "engine/engine.h"

#include <string.h>

/* docker puts the container's labels beside image and name in every event. */
static json_t *container_attrs(const struct mk_container *c, const json_t *extra)
{
    json_t *attrs = json_object();
    const json_t *labels = json_object_get(json_object_get(c->config, "Config"), "Labels");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)labels, k, v)
        if (json_is_string(v))
            json_object_set(attrs, k, v);
    json_object_set_new(attrs, "image", json_string(c->image ? c->image : ""));
    json_object_set_new(attrs, "name", json_string(c->name ? c->name : ""));
    json_object_foreach((json_t *)extra, k, v)
        json_object_set(attrs, k, v);
    return attrs;
}

void mk_container_event(struct mk_engine *e, const struct mk_container *c, const char *action,
                        const json_t *extra)
{
    _cleanup_json_ json_t *attrs = container_attrs(c, extra);
    _cleanup_err_ mk_err *ignored = NULL;
    /* An event that cannot be written must not undo the operation it reports. */
    mk_store_event_add(e->store, "container", action, c->id, attrs, &ignored);
}

int mk_events_list(struct mk_engine *e, int64_t after_seq, int64_t since_ns, int64_t until_ns,
                   int (*fn)(void *ctx, const struct mk_event *ev), void *ctx, int64_t *last_seq,
                   mk_err **err)
{
    return mk_store_event_list(e->store, after_seq, since_ns, until_ns, fn, ctx, last_seq, err);
}

char *mk_events_wal_path(struct mk_engine *e)
{
    return mk_path_join(e->store->root, "mocker.db-wal");
}
