/* test_auth.c: parsing a registry's WWW-Authenticate challenge. */
#include "registry/registry.h"
#include "tap.h"

static void test_bearer(void)
{
    struct mk_auth_challenge c;
    CHECK(mk_auth_challenge_parse("Bearer realm=\"https://auth.docker.io/token\","
                                  "service=\"registry.docker.io\","
                                  "scope=\"repository:library/busybox:pull\"",
                                  &c, NULL) == 0);
    CHECK_STR(c.scheme, "Bearer");
    CHECK_STR(c.realm, "https://auth.docker.io/token");
    CHECK_STR(c.service, "registry.docker.io");
    CHECK_STR(c.scope, "repository:library/busybox:pull");
    mk_auth_challenge_clear(&c);
}

static void test_basic(void)
{
    struct mk_auth_challenge c;
    CHECK(mk_auth_challenge_parse("Basic realm=\"Registry Realm\"", &c, NULL) == 0);
    CHECK_STR(c.scheme, "Basic");
    CHECK_STR(c.realm, "Registry Realm");
    CHECK(c.service == NULL && c.scope == NULL);
    mk_auth_challenge_clear(&c);
}

/* spaces around '=', a comma and an escaped quote inside quotes, unknown keys */
static void test_quoting(void)
{
    struct mk_auth_challenge c;
    CHECK(mk_auth_challenge_parse("Bearer  realm = \"http://h/t?a=1,b\" , x=y, service=\"s\\\"q\","
                                  "error=insufficient_scope",
                                  &c, NULL) == 0);
    CHECK_STR(c.realm, "http://h/t?a=1,b");
    CHECK_STR(c.service, "s\"q");
    CHECK_STR(c.error, "insufficient_scope");
    CHECK(c.scope == NULL);
    mk_auth_challenge_clear(&c);
}

static void test_malformed(void)
{
    const char *bad[] = {"", "   ", "Bearer realm=\"open", "Bearer realm"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct mk_auth_challenge c;
        mk_err *err = NULL;
        if (mk_auth_challenge_parse(bad[i], &c, &err) == 0)
            FAIL_AT("accepted [%s]", bad[i]);
        CHECK(err != NULL && err->kind == MK_ERR_INVALID);
        mk_err_free(err);
    }
}

int main(void)
{
    RUN(test_bearer);
    RUN(test_basic);
    RUN(test_quoting);
    RUN(test_malformed);
    return tap_done();
}
