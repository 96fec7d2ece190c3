/* test_health.c: docker's healthcheck rules without a container: the merge of
 * the user's Healthcheck over the image's, the daemon's validation, the probe
 * argv and defaults, and the state machine of handleProbeResult. */
#include <stdlib.h>

#include "engine/internal.h"
#include "tap.h"

#define MS  1000000LL
#define SEC 1000000000LL

static char *merged(const char *user, const char *image)
{
    json_t *u = user ? json_loads(user, 0, NULL) : NULL;
    json_t *i = image ? json_loads(image, 0, NULL) : NULL;
    json_t *config = json_object();
    mk_health_config_merge(config, u, i);
    char *s = mk_json_dump(json_object_get(config, "Healthcheck") ?: json_null());
    json_decref(u);
    json_decref(i);
    json_decref(config);
    return s;
}

static void check_merge(const char *user, const char *image, const char *want, int *failed)
{
    char *got = merged(user, image);
    if (strcmp(got, want) != 0) {
        printf("# merge %s over %s: got %s, want %s\n", user, image, got, want);
        *failed = 1;
    }
    free(got);
}

static void test_merge(void)
{
    int failed = 0;
    const char *img = "{\"Test\":[\"CMD\",\"true\"],\"Interval\":200000000,\"Retries\":1}";
    check_merge(NULL, NULL, "null", &failed);
    check_merge(NULL, img, img, &failed);
    check_merge("{\"Test\":[\"CMD-SHELL\",\"x\"],\"Interval\":0,\"Timeout\":0,\"Retries\":0}", NULL,
                "{\"Test\":[\"CMD-SHELL\",\"x\"]}", &failed);
    check_merge("{\"Test\":[\"CMD-SHELL\",\"x\"]}", img,
                "{\"Test\":[\"CMD-SHELL\",\"x\"],\"Interval\":200000000,\"Retries\":1}", &failed);
    check_merge("{\"Timeout\":1000000000}", img,
                "{\"Test\":[\"CMD\",\"true\"],\"Interval\":200000000,\"Timeout\":1000000000,"
                "\"Retries\":1}",
                &failed);
    /* docker fills the other fields even under NONE */
    check_merge("{\"Test\":[\"NONE\"]}", img,
                "{\"Test\":[\"NONE\"],\"Interval\":200000000,\"Retries\":1}", &failed);
    CHECK(!failed);
}

static void test_validate(void)
{
    mk_err *err = NULL;
    json_t *hc = json_pack("{s:I}", "Interval", (json_int_t)999999);
    CHECK(mk_health_config_validate(hc, &err) < 0);
    CHECK_STR(err->msg, "Interval in Healthcheck cannot be less than 1ms");
    mk_err_free(err);
    err = NULL;
    json_decref(hc);
    hc = json_pack("{s:i}", "Retries", -1);
    CHECK(mk_health_config_validate(hc, &err) < 0);
    CHECK_STR(err->msg, "Retries in Healthcheck cannot be negative");
    mk_err_free(err);
    err = NULL;
    json_decref(hc);
    hc = json_pack("{s:I,s:i}", "StartPeriod", (json_int_t)MS, "Timeout", 0);
    CHECK(mk_health_config_validate(hc, &err) == 0);
    json_decref(hc);
    CHECK(mk_health_config_validate(NULL, &err) == 0);
}

static void test_probe(void)
{
    struct mk_health_probe p;
    json_t *c = json_loads("{\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"echo $HOME; exit 1\"]}}", 0,
                           NULL);
    CHECK(mk_health_configured(c));
    CHECK(mk_health_probe_from_config(c, &p) == 1);
    CHECK_STR(p.argv[0], "/bin/sh");
    CHECK_STR(p.argv[1], "-c");
    /* the user's string stays one argument */
    CHECK_STR(p.argv[2], "echo $HOME; exit 1");
    CHECK(p.argv[3] == NULL);
    CHECK_INT(p.interval_ns, 30 * SEC);
    CHECK_INT(p.timeout_ns, 30 * SEC);
    CHECK_INT(p.start_period_ns, 0);
    CHECK_INT(p.start_interval_ns, 5 * SEC);
    mk_strv_free(p.argv);
    json_decref(c);

    c = json_loads("{\"Shell\":[\"/bin/bash\",\"-ec\"],\"Healthcheck\":{\"Test\":[\"CMD-SHELL\","
                   "\"x\"],\"Interval\":200000000}}",
                   0, NULL);
    CHECK(mk_health_probe_from_config(c, &p) == 1);
    CHECK_STR(p.argv[0], "/bin/bash");
    CHECK_STR(p.argv[1], "-ec");
    CHECK_INT(p.interval_ns, 200 * MS);
    mk_strv_free(p.argv);
    json_decref(c);

    c = json_loads("{\"Healthcheck\":{\"Test\":[\"CMD\",\"/bin/check\",\"a b\"]}}", 0, NULL);
    CHECK(mk_health_probe_from_config(c, &p) == 1);
    CHECK_STR(p.argv[0], "/bin/check");
    CHECK_STR(p.argv[1], "a b");
    CHECK(p.argv[2] == NULL);
    mk_strv_free(p.argv);
    json_decref(c);

    c = json_loads("{\"Healthcheck\":{\"Test\":[\"NONE\"]}}", 0, NULL);
    CHECK(!mk_health_configured(c));
    CHECK(mk_health_probe_from_config(c, &p) == 0);
    json_decref(c);
    c = json_loads("{}", 0, NULL);
    CHECK(!mk_health_configured(c));
    json_decref(c);
}

static bool apply(json_t *h, int code, int64_t start, int retries, int64_t start_period)
{
    struct mk_health_result r = {.start_ns = start, .end_ns = start + MS, .exit_code = code,
                                 .output = "out"};
    return mk_health_apply(h, &r, retries, start_period, 1000 * SEC);
}

static void test_apply(void)
{
    json_t *h = mk_health_state_starting(NULL);
    int64_t t = 1001 * SEC;
    CHECK_STR(mk_json_str(h, "Status"), "starting");
    /* default retries: 3 failures in a row */
    CHECK(!apply(h, 1, t, 0, 0));
    CHECK(!apply(h, 1, t, 0, 0));
    CHECK_STR(mk_json_str(h, "Status"), "starting");
    CHECK(apply(h, 1, t, 0, 0));
    CHECK_STR(mk_json_str(h, "Status"), "unhealthy");
    CHECK_INT(mk_json_int(h, "FailingStreak", -1), 3);
    CHECK(!apply(h, -1, t, 0, 0));
    CHECK_INT(mk_json_int(h, "FailingStreak", -1), 4);
    CHECK(apply(h, 0, t, 0, 0));
    CHECK_STR(mk_json_str(h, "Status"), "healthy");
    CHECK_INT(mk_json_int(h, "FailingStreak", -1), 0);
    /* the log keeps the last five, oldest first */
    CHECK_INT(json_array_size(json_object_get(h, "Log")), 5);
    json_t *last = json_array_get(json_object_get(h, "Log"), 4);
    CHECK_INT(mk_json_int(last, "ExitCode", -2), 0);
    CHECK_STR(mk_json_str(last, "Output"), "out");
    CHECK_STR(mk_json_str(last, "Start"), "1970-01-01T00:16:41Z");
    CHECK_STR(mk_json_str(last, "End"), "1970-01-01T00:16:41.001Z");
    /* a healthy container fails after its own retries */
    CHECK(apply(h, 1, t, 1, 0));
    CHECK_STR(mk_json_str(h, "Status"), "unhealthy");

    /* a restart: starting again, the log kept */
    json_t *again = mk_health_state_starting(h);
    CHECK_INT(json_array_size(json_object_get(again, "Log")), 5);
    CHECK_INT(mk_json_int(again, "FailingStreak", -1), 0);
    /* failures within the start period do not count while starting... */
    CHECK(!apply(again, 1, 1005 * SEC, 1, 10 * SEC));
    CHECK_INT(mk_json_int(again, "FailingStreak", -1), 0);
    /* ...but after it they do */
    CHECK(apply(again, 1, 1010 * SEC, 1, 10 * SEC));
    CHECK_STR(mk_json_str(again, "Status"), "unhealthy");
    json_decref(again);
    json_decref(h);

    /* once healthy, the start period no longer shields failures */
    h = mk_health_state_starting(NULL);
    CHECK(apply(h, 0, 1001 * SEC, 1, 10 * SEC));
    CHECK(apply(h, 1, 1002 * SEC, 1, 10 * SEC));
    CHECK_STR(mk_json_str(h, "Status"), "unhealthy");
    json_decref(h);
}

int main(void)
{
    RUN(test_merge);
    RUN(test_validate);
    RUN(test_probe);
    RUN(test_apply);
    return tap_done();
}
