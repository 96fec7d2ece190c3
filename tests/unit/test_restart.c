/* test_restart.c: restart policies (engine/restart.c): the --restart parser,
 * dockerd's validation and the restart manager's decision and back-off. */
#include "engine/engine.h"
#include "tap.h"

#define MS (1000000LL)
#define S  (1000 * MS)

static json_t *hc_with(const char *name, int max)
{
    return json_pack("{s:{s:s,s:i}}", "RestartPolicy", "Name", name, "MaximumRetryCount", max);
}

static const char *validate_msg(json_t *hc)
{
    static char buf[256];
    mk_err *err = NULL;
    buf[0] = '\0';
    if (mk_restart_policy_validate(hc, &err) < 0) {
        snprintf(buf, sizeof(buf), "%s", err->msg);
        mk_err_free(err);
    }
    json_decref(hc);
    return buf;
}

static void test_parse(void)
{
    json_t *rp = NULL;
    CHECK(mk_restart_policy_parse("on-failure:3", &rp, NULL) == 0);
    CHECK_STR(mk_json_str(rp, "Name"), "on-failure");
    CHECK(mk_json_int(rp, "MaximumRetryCount", -1) == 3);
    json_decref(rp);
    CHECK(mk_restart_policy_parse("on-failure:", &rp, NULL) == 0);
    CHECK(mk_json_int(rp, "MaximumRetryCount", -1) == 0);
    json_decref(rp);
    CHECK(mk_restart_policy_parse("always", &rp, NULL) == 0);
    CHECK_STR(mk_json_str(rp, "Name"), "always");
    json_decref(rp);
    mk_err *err = NULL;
    CHECK(mk_restart_policy_parse("on-failure:x", &rp, &err) < 0);
    CHECK_STR(err->msg, "invalid restart policy format: maximum retry count must be an integer");
    mk_err_free(err);
}

static void test_validate(void)
{
    CHECK_STR(validate_msg(hc_with("always", 3)),
              "maximum retry count cannot be used with restart policy 'always'");
    CHECK_STR(validate_msg(hc_with("bogus", 0)), "invalid restart policy 'bogus'");
    CHECK_STR(validate_msg(hc_with("on-failure", -1)), "maximum retry count cannot be negative");
    CHECK_STR(validate_msg(hc_with("on-failure", 5)), "");
    CHECK_STR(validate_msg(hc_with("", 0)), "");
    CHECK_STR(validate_msg(json_object()), "");
    json_t *hc = hc_with("always", 0);
    json_object_set_new(hc, "AutoRemove", json_true());
    CHECK_STR(validate_msg(hc), "can't create 'AutoRemove' container with restart policy");
}

static void test_on_failure(void)
{
    json_t *hc = hc_with("on-failure", 3);
    struct mk_restart_state st = {0};
    CHECK(mk_restart_decide(hc, &st, 0, MS) == -1); /* success: no restart, back-off grows */
    CHECK(st.delay_ns == 100 * MS);
    st = (struct mk_restart_state){0};
    CHECK(mk_restart_decide(hc, &st, 1, MS) == 100 * MS);
    CHECK(mk_restart_decide(hc, &st, 1, MS) == 200 * MS);
    CHECK(mk_restart_decide(hc, &st, 1, MS) == 400 * MS);
    CHECK(mk_restart_decide(hc, &st, 1, MS) == -1); /* three retries used */
    CHECK(st.restarts == 3);
    json_decref(hc);
}

static void test_backoff(void)
{
    json_t *hc = hc_with("always", 0);
    struct mk_restart_state st = {0};
    int64_t d = 0;
    for (int i = 0; i < 20; i++)
        d = mk_restart_decide(hc, &st, 0, MS);
    CHECK(d == 60 * S); /* capped at a minute */
    CHECK(mk_restart_decide(hc, &st, 0, 10 * S) == 100 * MS); /* a 10 s run resets it */
    CHECK(mk_restart_decide(hc, &st, 0, 9 * S) == 200 * MS);
    json_decref(hc);
    hc = hc_with("no", 0);
    CHECK(mk_restart_decide(hc, &st, 1, MS) == -1);
    json_decref(hc);
}

static void test_on_boot(void)
{
    json_t *hc = hc_with("unless-stopped", 0);
    CHECK(mk_restart_on_boot(hc));
    json_decref(hc);
    hc = hc_with("on-failure", 0);
    CHECK(!mk_restart_on_boot(hc));
    json_decref(hc);
    CHECK(!mk_restart_on_boot(NULL));
}

int main(void)
{
    RUN(test_parse);
    RUN(test_validate);
    RUN(test_on_failure);
    RUN(test_backoff);
    RUN(test_on_boot);
    return tap_done();
}
