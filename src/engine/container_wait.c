/* container_wait.c: docker wait's conditions beyond "not running" (the API's
 * ?condition=next-exit|removed), on top of mk_container_wait.
 *
 * A stopped container gives no monitor to wait on until it is started, and a
 * removal leaves nothing to wait on at all, so those two phases poll the
 * store: a short read every POLL_MS, cheap next to a container's life. */
#include "engine/engine.h"
#include "engine/internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_MS 50

int mk_wait_condition_parse(const char *s, enum mk_wait_condition *out, mk_err **err)
{
    if (s == NULL || *s == '\0' || strcmp(s, "not-running") == 0)
        *out = MK_WAIT_NOT_RUNNING;
    else if (strcmp(s, "next-exit") == 0)
        *out = MK_WAIT_NEXT_EXIT;
    else if (strcmp(s, "removed") == 0)
        *out = MK_WAIT_REMOVED;
    else
        return mk_err_set(err, MK_ERR_INVALID, "invalid condition: \"%s\"", s);
    return 0;
}

/* Hand e on to the caller's err (or drop it); -1. */
static int pass_err(mk_err **err, mk_err *e)
{
    if (err != NULL)
        *err = e;
    else
        mk_err_free(e);
    return -1;
}

/* Sleep *ms, then double it up to POLL_MS: a start or removal that follows
 * at once (docker run's wait, then start) is seen within a millisecond or two. */
static void nap(long *ms)
{
    struct timespec ts = {0, *ms * 1000000L};
    nanosleep(&ts, NULL);
    if ((*ms *= 2) > POLL_MS)
        *ms = POLL_MS;
}

struct die_scan {
    const char *id;
    int code;
    bool found;
};

static int die_event(void *p, const struct mk_event *ev)
{
    struct die_scan *d = p;
    if (strcmp(ev->type, "container") == 0 && strcmp(ev->action, "die") == 0 &&
        strcmp(ev->actor_id, d->id) == 0) {
        const char *code = json_string_value(json_object_get(ev->attrs, "exitCode"));
        if (code != NULL) {
            d->code = atoi(code);
            d->found = true;
        }
    }
    return 0;
}

/* A container that ran and was removed between two polls (a short --rm
 * run) has only its die event left: its exit code, if one came after
 * from_seq. */
static void code_from_die_event(struct mk_engine *e, const char *id, int64_t from_seq,
                                int *exit_code)
{
    struct die_scan d = {.id = id};
    int64_t last = from_seq;
    if (mk_store_event_list(e->store, from_seq, 0, INT64_MAX, die_event, &d, &last, NULL) == 0 &&
        d.found)
        *exit_code = d.code;
}

/* A stopped container: wait until it has been started again (a new StartedAt)
 * and has stopped, or is gone (NOT_FOUND, which removed turns into an end). */
static int wait_next_run(struct mk_engine *e, const char *id, int64_t started, int64_t from_seq,
                         int *exit_code, mk_err **err)
{
    struct mk_container *c = NULL;
    long delay = 1;
    for (;;) {
        if (mk_container_get(e, id, &c, err) < 0) {
            if (err != NULL && *err != NULL && (*err)->kind == MK_ERR_NOT_FOUND)
                code_from_die_event(e, id, from_seq, exit_code);
            return -1;
        }
        bool ran = c->started_at != started;
        bool running = mk_container_is_running(c);
        *exit_code = c->exit_code;
        mk_container_free(c);
        if (running)
            return mk_container_wait(e, id, exit_code, err);
        if (ran)
            return 0;
        nap(&delay);
    }
}

int mk_container_wait_condition(struct mk_engine *e, const char *ref, enum mk_wait_condition cond,
                                void (*ready)(void *arg), void *arg, int *exit_code,
                                mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    /* the id from here on: a rename must not lose the container */
    _cleanup_free_ char *id = xstrdup(c->id);
    bool running = mk_container_is_running(c);
    /* the run this wait starts from: a start after this point is "next" */
    int64_t started = c->started_at;
    int64_t from_seq = mk_store_event_last_seq(e->store);
    *exit_code = c->exit_code;
    mk_container_free(c);
    if (ready != NULL)
        ready(arg);
    if (cond == MK_WAIT_NOT_RUNNING || (cond == MK_WAIT_NEXT_EXIT && running))
        return mk_container_wait(e, id, exit_code, err);
    if (cond == MK_WAIT_NEXT_EXIT)
        return wait_next_run(e, id, started, from_seq, exit_code, err);
    /* removed: the exit first (its code is the answer), then the removal */
    mk_err *gone = NULL;
    if (running && mk_container_wait(e, id, exit_code, &gone) < 0) {
        if (gone->kind != MK_ERR_NOT_FOUND)
            return pass_err(err, gone);
        mk_err_free(gone);
        return 0;
    }
    long delay = 1;
    for (;;) {
        if (mk_container_get(e, id, &c, &gone) < 0) {
            if (gone->kind != MK_ERR_NOT_FOUND)
                return pass_err(err, gone);
            mk_err_free(gone);
            code_from_die_event(e, id, from_seq, exit_code);
            return 0;
        }
        /* started meanwhile: its exit, then its removal, follow soon */
        bool now_running = mk_container_is_running(c);
        *exit_code = c->exit_code;
        mk_container_free(c);
        if (now_running) {
            if (mk_container_wait(e, id, exit_code, &gone) < 0)
                mk_err_free(gone);
            gone = NULL;
            delay = 1;
            continue;
        }
        nap(&delay);
    }
}
