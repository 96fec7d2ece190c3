/* container_health.c: docker's healthchecks, the engine's half.
 *
 * Config.Healthcheck is merged over the image's and validated here as the
 * daemon does; the monitor runs the probes (src/monitor/health.c) and hands
 * each result to the hooks below, which keep State.Health the way docker's
 * handleProbeResult does: "healthy" on a success, "unhealthy" after Retries
 * failures in a row (failures within the start period do not count while
 * still "starting"), the last five results, a health_status event on each
 * change.  The state lives in the store, where ps and inspect read it. */
#include "engine/internal.h"
#include "monitor/monitor.h"

#include <string.h>

#define HEALTH_LOG_MAX           5
#define HEALTH_DEFAULT_INTERVAL  (30LL * 1000000000)
#define HEALTH_DEFAULT_TIMEOUT   (30LL * 1000000000)
#define HEALTH_DEFAULT_START_INT (5LL * 1000000000)
#define HEALTH_DEFAULT_RETRIES   3
#define HEALTH_MIN_DURATION      1000000 /* docker's containertypes.MinimumDuration, 1ms */

static const char *const duration_keys[] = {"Interval", "Timeout", "StartPeriod", "StartInterval"};
#define N_DURATIONS (sizeof(duration_keys) / sizeof(duration_keys[0]))

/* ---- configuration ---- */

int mk_health_config_validate(const json_t *hc, mk_err **err)
{
    if (!json_is_object(hc))
        return 0;
    for (size_t i = 0; i < N_DURATIONS; i++) {
        int64_t v = mk_json_int(hc, duration_keys[i], 0);
        if (v != 0 && v < HEALTH_MIN_DURATION)
            return mk_err_set(err, MK_ERR_INVALID, "%s in Healthcheck cannot be less than 1ms",
                              duration_keys[i]);
    }
    if (mk_json_int(hc, "Retries", 0) < 0)
        return mk_err_set(err, MK_ERR_INVALID, "Retries in Healthcheck cannot be negative");
    return 0;
}

/* docker's HealthConfig as it marshals: its fields in struct order, zero ones
 * left out (omitempty). */
static json_t *canonical(const json_t *hc)
{
    json_t *out = json_object();
    const json_t *test = json_object_get(hc, "Test");
    if (json_array_size(test) > 0)
        json_object_set(out, "Test", (json_t *)test);
    for (size_t i = 0; i < N_DURATIONS; i++) {
        int64_t v = mk_json_int(hc, duration_keys[i], 0);
        if (v != 0)
            json_object_set_new(out, duration_keys[i], json_integer(v));
    }
    int64_t retries = mk_json_int(hc, "Retries", 0);
    if (retries != 0)
        json_object_set_new(out, "Retries", json_integer(retries));
    return out;
}

void mk_health_config_merge(json_t *config, const json_t *user, const json_t *image)
{
    if (!json_is_object(user) && !json_is_object(image))
        return;
    _cleanup_json_ json_t *hc = json_deep_copy(json_is_object(user) ? user : image);
    if (json_is_object(user) && json_is_object(image)) {
        /* docker's merge: each field the user left empty comes from the image. */
        if (json_array_size(json_object_get(hc, "Test")) == 0 &&
            json_is_array(json_object_get(image, "Test")))
            json_object_set(hc, "Test", json_object_get(image, "Test"));
        for (size_t i = 0; i < N_DURATIONS; i++)
            if (mk_json_int(hc, duration_keys[i], 0) == 0 &&
                json_object_get(image, duration_keys[i]) != NULL)
                json_object_set(hc, duration_keys[i], json_object_get(image, duration_keys[i]));
        if (mk_json_int(hc, "Retries", 0) == 0 && json_object_get(image, "Retries") != NULL)
            json_object_set(hc, "Retries", json_object_get(image, "Retries"));
    }
    json_object_set_new(config, "Healthcheck", canonical(hc));
}

bool mk_health_configured(const json_t *config)
{
    const json_t *test = json_object_get(json_object_get(config, "Healthcheck"), "Test");
    const char *kind = json_string_value(json_array_get(test, 0));
    return kind != NULL && strcmp(kind, "NONE") != 0;
}

static int64_t duration_or(const json_t *hc, const char *key, int64_t dflt)
{
    int64_t v = mk_json_int(hc, key, 0);
    return v > 0 ? v : dflt;
}

int mk_health_probe_from_config(const json_t *config, struct mk_health_probe *out)
{
    const json_t *hc = json_object_get(config, "Healthcheck");
    const json_t *test = json_object_get(hc, "Test");
    const char *kind = json_string_value(json_array_get(test, 0));
    if (kind == NULL || (strcmp(kind, "CMD") != 0 && strcmp(kind, "CMD-SHELL") != 0))
        return 0;
    char **argv = xcalloc(1, sizeof(char *));
    if (strcmp(kind, "CMD-SHELL") == 0) {
        /* The user's string is one argument of the shell, never spliced into a command line. */
        _cleanup_strv_ char **shell = mk_json_strv(json_object_get(config, "Shell"));
        if (shell == NULL || shell[0] == NULL) {
            mk_strv_push(&argv, "/bin/sh");
            mk_strv_push(&argv, "-c");
        } else {
            for (size_t i = 0; shell[i] != NULL; i++)
                mk_strv_push(&argv, shell[i]);
        }
    }
    for (size_t i = 1; i < json_array_size(test); i++) {
        const char *a = json_string_value(json_array_get(test, i));
        mk_strv_push(&argv, a != NULL ? a : "");
    }
    if (argv[0] == NULL) {
        mk_strv_free(argv);
        return 0;
    }
    *out = (struct mk_health_probe){
        .argv = argv,
        .interval_ns = duration_or(hc, "Interval", HEALTH_DEFAULT_INTERVAL),
        .timeout_ns = duration_or(hc, "Timeout", HEALTH_DEFAULT_TIMEOUT),
        .start_period_ns = duration_or(hc, "StartPeriod", 0),
        .start_interval_ns = duration_or(hc, "StartInterval", HEALTH_DEFAULT_START_INT),
    };
    return 1;
}

/* ---- state ---- */

json_t *mk_health_state_starting(json_t *previous)
{
    /* A new start keeps the log, as docker's initHealthMonitor does. */
    json_t *log = json_object_get(previous, "Log");
    return json_pack("{s:s,s:i,s:o}", "Status", "starting", "FailingStreak", 0, "Log",
                     json_is_array(log) ? json_incref(log) : json_array());
}

bool mk_health_apply(json_t *health, const struct mk_health_result *r, int retries,
                     int64_t start_period_ns, int64_t started_at_ns)
{
    _cleanup_free_ char *old = xstrdup(mk_json_str(health, "Status") ?: "starting");
    json_t *log = json_object_get(health, "Log");
    if (!json_is_array(log)) {
        log = json_array();
        json_object_set_new(health, "Log", log);
    }
    _cleanup_free_ char *start = mk_time_rfc3339(r->start_ns);
    _cleanup_free_ char *end = mk_time_rfc3339(r->end_ns);
    json_array_append_new(log, json_pack("{s:s,s:s,s:i,s:s}", "Start", start, "End", end,
                                         "ExitCode", r->exit_code, "Output",
                                         r->output ? r->output : ""));
    while (json_array_size(log) > HEALTH_LOG_MAX)
        json_array_remove(log, 0);
    int64_t streak = mk_json_int(health, "FailingStreak", 0);
    const char *status = old;
    if (r->exit_code == 0) {
        streak = 0;
        status = "healthy";
    } else if (strcmp(old, "starting") != 0 || r->start_ns - started_at_ns >= start_period_ns) {
        /* Only failures after the start period count against a starting container. */
        streak++;
        if (streak >= (retries > 0 ? retries : HEALTH_DEFAULT_RETRIES))
            status = "unhealthy";
    }
    json_object_set_new(health, "FailingStreak", json_integer(streak));
    json_object_set_new(health, "Status", json_string(status));
    return strcmp(old, status) != 0;
}

/* ---- the monitor's hooks ---- */

static void health_save(struct mk_engine_health *h)
{
    mk_store_health_put(h->e->store, h->c->id, h->state, NULL);
}

static void health_event(struct mk_engine_health *h)
{
    _cleanup_free_ char *action = xasprintf("health_status: %s", mk_json_str(h->state, "Status"));
    mk_container_event(h->e, h->c, action, NULL);
}

bool mk_engine_health_init(struct mk_engine_health *h, struct mk_engine *e,
                           const struct mk_container *c)
{
    *h = (struct mk_engine_health){.e = e, .c = c};
    const json_t *config = json_object_get(c->config, "Config");
    h->configured = mk_health_configured(config);
    return h->configured && mk_health_probe_from_config(config, &h->probe) == 1;
}

void mk_engine_health_started(struct mk_engine_health *h)
{
    if (!h->configured)
        return;
    _cleanup_json_ json_t *previous = NULL;
    mk_store_health_get(h->e->store, h->c->id, &previous, NULL);
    json_decref(h->state);
    h->state = mk_health_state_starting(previous);
    health_save(h);
}

void mk_engine_health_stopped(struct mk_engine_health *h)
{
    if (h->state == NULL)
        return;
    /* docker: "unhealthy when the monitor has stopped", no event. */
    json_object_set_new(h->state, "Status", json_string("unhealthy"));
    health_save(h);
}

bool mk_engine_health_result(struct mk_engine_health *h, const struct mk_health_result *r)
{
    if (h->state == NULL)
        return false;
    const json_t *hc = json_object_get(json_object_get(h->c->config, "Config"), "Healthcheck");
    if (mk_health_apply(h->state, r, (int)mk_json_int(hc, "Retries", 0), h->probe.start_period_ns,
                        h->c->started_at))
        health_event(h);
    health_save(h);
    return strcmp(mk_json_str(h->state, "Status"), "starting") == 0;
}

bool mk_engine_health_paused(struct mk_engine_health *h)
{
    struct mk_container *now = NULL;
    if (h->state == NULL || mk_store_container_get(h->e->store, h->c->id, &now, NULL) < 0)
        return false;
    bool paused = strcmp(now->status, "paused") == 0;
    mk_container_free(now);
    /* docker stops probing a paused container and calls it unhealthy. */
    if (paused && strcmp(mk_json_str(h->state, "Status"), "unhealthy") != 0)
        mk_engine_health_stopped(h);
    return paused;
}

void mk_engine_health_free(struct mk_engine_health *h)
{
    json_decref(h->state);
    h->state = NULL;
    mk_strv_free(h->probe.argv);
    h->probe.argv = NULL;
}
