/* restart.c: restart policies (docker's --restart) as data: parsing the
 * flag, validating HostConfig.RestartPolicy, and docker's restart manager
 * decision with its back-off.  Pure code: the monitor's hooks
 * (container_start.c) and the boot pass (boot.c) apply it. */
#include "engine/engine.h"

#include <errno.h>
#include <string.h>

#define BACKOFF_FIRST_NS (100LL * 1000000)
#define BACKOFF_MAX_NS   (60LL * 1000000000)
/* A run at least this long counts as healthy: the back-off starts over. */
#define BACKOFF_RESET_NS (10LL * 1000000000)

int mk_restart_policy_parse(const char *s, json_t **out, mk_err **err)
{
    const char *colon = strchr(s, ':');
    _cleanup_free_ char *name = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
    long max = 0;
    /* docker's CLI: an empty count ("on-failure:") means none. */
    if (colon != NULL && colon[1] != '\0') {
        char *end;
        errno = 0;
        max = strtol(colon + 1, &end, 10);
        if (*end != '\0' || errno != 0 || max != (int)max)
            return mk_err_set(err, MK_ERR_INVALID,
                              "invalid restart policy format: maximum retry count must be an "
                              "integer");
    }
    *out = json_pack("{s:s,s:i}", "Name", name, "MaximumRetryCount", (int)max);
    return 0;
}

int mk_restart_policy_validate(const json_t *hc, mk_err **err)
{
    const json_t *rp = json_object_get(hc, "RestartPolicy");
    const char *name = mk_json_str(rp, "Name");
    int64_t max = mk_json_int(rp, "MaximumRetryCount", 0);
    if (name == NULL)
        name = "";
    bool is_none = *name == '\0' || strcmp(name, "no") == 0;
    if (mk_json_bool(hc, "AutoRemove", false) && !is_none)
        return mk_err_set(err, MK_ERR_INVALID,
                          "can't create 'AutoRemove' container with restart policy");
    if (strcmp(name, "on-failure") == 0) {
        if (max < 0)
            return mk_err_set(err, MK_ERR_INVALID, "maximum retry count cannot be negative");
        return 0;
    }
    if (*name != '\0' && strcmp(name, "no") != 0 && strcmp(name, "always") != 0 &&
        strcmp(name, "unless-stopped") != 0)
        return mk_err_set(err, MK_ERR_INVALID, "invalid restart policy '%s'", name);
    if (max < 0)
        return mk_err_set(err, MK_ERR_INVALID, "maximum retry count cannot be negative");
    if (max > 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "maximum retry count cannot be used with restart policy '%s'", name);
    return 0;
}

/* docker's RestartManager.ShouldRestart: the back-off grows on every exit
 * (reset by a long run) whether or not the policy restarts. */
int64_t mk_restart_decide(const json_t *hc, struct mk_restart_state *st, int exit_code,
                          int64_t ran_ns)
{
    const json_t *rp = json_object_get(hc, "RestartPolicy");
    const char *name = mk_json_str(rp, "Name");
    if (name == NULL || *name == '\0' || strcmp(name, "no") == 0)
        return -1;
    if (ran_ns >= BACKOFF_RESET_NS)
        st->delay_ns = 0;
    if (st->delay_ns == 0)
        st->delay_ns = BACKOFF_FIRST_NS;
    else if (st->delay_ns < BACKOFF_MAX_NS)
        st->delay_ns *= 2;
    if (st->delay_ns > BACKOFF_MAX_NS)
        st->delay_ns = BACKOFF_MAX_NS;
    bool restart = false;
    if (strcmp(name, "always") == 0 || strcmp(name, "unless-stopped") == 0) {
        restart = true;
    } else if (strcmp(name, "on-failure") == 0) {
        int64_t max = mk_json_int(rp, "MaximumRetryCount", 0);
        restart = exit_code != 0 && (max == 0 || st->restarts < max);
    }
    if (!restart)
        return -1;
    st->restarts++;
    return st->delay_ns;
}

bool mk_restart_on_boot(const json_t *hc)
{
    const char *name = mk_json_str(json_object_get(hc, "RestartPolicy"), "Name");
    return name != NULL && (strcmp(name, "always") == 0 || strcmp(name, "unless-stopped") == 0);
}
