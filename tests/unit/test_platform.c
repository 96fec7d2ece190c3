/* test_platform.c: platform specifiers, matching and index selection
 * (image/platform.c), against what dockerd 20.10 answers. */
#include "image/image.h"
#include "tap.h"

#include <string.h>

/* CHECK with the case it checks named in the failure. */
#define EXPECT(cond, why)                                                                         \
    do {                                                                                          \
        if (!(cond))                                                                              \
            FAIL_AT("%s: %s", why, #cond);                                                        \
    } while (0)

/* Parse s and compare its format with want. */
static int check_parse(const char *s, const char *want)
{
    struct mk_platform p;
    mk_err *err = NULL;
    if (mk_platform_parse(s, &p, &err) < 0) {
        printf("# parse %s: %s\n", s, err->msg);
        mk_err_free(err);
        return 0;
    }
    char *got = mk_platform_format(&p);
    int ok = strcmp(got, want) == 0;
    if (!ok)
        printf("# %s: got %s, want %s\n", s, got, want);
    free(got);
    return ok;
}

static int check_bad(const char *s, const char *msg)
{
    struct mk_platform p;
    mk_err *err = NULL;
    if (mk_platform_parse(s, &p, &err) == 0) {
        printf("# %s: parsed, want error\n", s);
        return 0;
    }
    int ok = strcmp(err->msg, msg) == 0 && err->kind == MK_ERR_INVALID;
    if (!ok)
        printf("# %s: got \"%s\", want \"%s\"\n", s, err->msg, msg);
    mk_err_free(err);
    return ok;
}

static struct mk_platform plat(const char *s)
{
    struct mk_platform p = {{0}};
    mk_err *err = NULL;
    if (mk_platform_parse(s, &p, &err) < 0) {
        printf("# bad test platform %s\n", s);
        mk_err_free(err);
    }
    return p;
}

/* A platform as an image config or index names it, unnormalised. */
static struct mk_platform raw(const char *os, const char *arch, const char *variant)
{
    struct mk_platform p = {{0}};
    snprintf(p.os, sizeof(p.os), "%s", os);
    snprintf(p.architecture, sizeof(p.architecture), "%s", arch);
    snprintf(p.variant, sizeof(p.variant), "%s", variant);
    return p;
}

static int rank(const char *want, const char *os, const char *arch, const char *variant)
{
    struct mk_platform w = plat(want), c = raw(os, arch, variant);
    return mk_platform_match(&w, &c);
}

static void test_parse(void)
{
    /* Each as dockerd 20.10 formats it in its "wanted ..." message. */
    EXPECT(check_parse("linux/arm64", "linux/arm64"), "linux/arm64");
    EXPECT(check_parse("linux/arm64/v8", "linux/arm64/v8"), "linux/arm64/v8 keeps its v8");
    EXPECT(check_parse("linux/arm64/8", "linux/arm64/v8"), "arm64/8 is v8");
    EXPECT(check_parse("LINUX/AARCH64", "linux/arm64"), "case and aarch64");
    EXPECT(check_parse("linux/x86_64", "linux/amd64"), "x86_64");
    EXPECT(check_parse("linux/x86-64", "linux/amd64"), "x86-64");
    EXPECT(check_parse("linux/amd64/v1", "linux/amd64"), "amd64 v1 is amd64");
    EXPECT(check_parse("linux/amd64/v3", "linux/amd64/v3"), "amd64 v3");
    EXPECT(check_parse("linux/armhf", "linux/arm"), "armhf is arm (v7 left out)");
    EXPECT(check_parse("linux/armel", "linux/arm/v6"), "armel is arm/v6");
    EXPECT(check_parse("linux/arm", "linux/arm"), "arm");
    EXPECT(check_parse("linux/arm/7", "linux/arm/v7"), "arm/7 is arm/v7");
    EXPECT(check_parse("linux/arm/v5", "linux/arm/v5"), "arm/v5");
    EXPECT(check_parse("linux/i386", "linux/386"), "i386");
    EXPECT(check_parse("linux/386", "linux/386"), "386");
    EXPECT(check_parse("arm64", "linux/arm64"), "an architecture alone is linux's");
    EXPECT(check_parse("macos/arm64", "darwin/arm64"), "macos is darwin");
    EXPECT(check_parse("linux/foo", "linux/foo"), "os/arch needs no known arch");
    struct mk_platform host, p;
    mk_platform_host(&host);
    p = plat("linux");
    EXPECT(strcmp(p.architecture, host.architecture) == 0 && strcmp(p.os, "linux") == 0,
       "an os alone takes the host's architecture");

    EXPECT(check_bad("foo", "\"foo\": unknown operating system or architecture: invalid argument"),
       "unknown word");
    EXPECT(check_bad("linux/a b", "\"a b\" is an invalid component of \"linux/a b\": platform "
                              "specifier component must match \"^[A-Za-z0-9_-]+$\": invalid argument"),
       "bad component");
    EXPECT(check_bad("linux/arm64/v8.2", "\"v8.2\" is an invalid component of \"linux/arm64/v8.2\": "
                                     "platform specifier component must match "
                                     "\"^[A-Za-z0-9_-]+$\": invalid argument"),
       "dots are refused, as dockerd 20.10 does");
    EXPECT(check_bad("linux/arm64/v8/x",
                 "\"linux/arm64/v8/x\": cannot parse platform specifier: invalid argument"),
       "four parts");
    EXPECT(check_bad("linux//v8", "\"\" is an invalid component of \"linux//v8\": platform specifier "
                              "component must match \"^[A-Za-z0-9_-]+$\": invalid argument"),
       "empty component");
    EXPECT(check_bad("linux/*", "\"linux/*\": wildcards not yet supported: invalid argument"),
       "wildcards");
    char longer[100];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    memcpy(longer, "linux/", 6);
    struct mk_platform q;
    mk_err *err = NULL;
    EXPECT(mk_platform_parse(longer, &q, &err) < 0 && err->kind == MK_ERR_INVALID,
       "an overlong component is refused, not cut");
    mk_err_free(err);
}

static void test_host_and_format(void)
{
    struct mk_platform h;
    mk_platform_host(&h);
    EXPECT(strcmp(h.os, "linux") == 0 && *h.architecture != '\0', "host: linux/<arch>");
#if defined(__x86_64__)
    char *f = mk_platform_format(&h);
    CHECK_STR(f, "linux/amd64");
    free(f);
#endif
    struct mk_platform none = {{0}};
    char *u = mk_platform_format(&none);
    CHECK_STR(u, "unknown");
    free(u);
    json_t *cfg = json_pack("{s:s,s:s,s:s}", "architecture", "arm64", "os", "linux", "variant", "v8");
    struct mk_platform c;
    EXPECT(mk_platform_from_config(cfg, &c) && strcmp(c.variant, "v8") == 0, "from an image config");
    json_decref(cfg);
    cfg = json_pack("{s:s}", "os", "linux");
    EXPECT(!mk_platform_from_config(cfg, &c), "a config without architecture names no platform");
    json_decref(cfg);
}

static void test_match(void)
{
    EXPECT(rank("linux/arm64", "linux", "arm64", "v8") == 1, "arm64 takes arm64/v8");
    EXPECT(rank("linux/arm64/v8", "linux", "arm64", "") == 1, "arm64/v8 takes arm64");
    EXPECT(rank("linux/arm64", "linux", "aarch64", "") == 1, "aliases on the candidate side");
    EXPECT(rank("linux/arm64", "linux", "arm", "v7") > 1, "arm64 runs arm/v7, ranked lower");
    EXPECT(rank("linux/arm64", "linux", "arm", "v8") < rank("linux/arm64", "linux", "arm", "v7"),
       "arm/v8 before arm/v7");
    EXPECT(rank("linux/arm/v7", "linux", "arm", "v6") == 2, "arm/v7 runs v6");
    EXPECT(rank("linux/arm/v7", "linux", "arm", "v5") == 3, "and v5");
    EXPECT(rank("linux/arm/v7", "linux", "arm", "") == 1, "arm without variant is v7");
    EXPECT(rank("linux/arm/v6", "linux", "arm", "v7") == 0, "v6 does not run v7");
    EXPECT(rank("linux/arm/v5", "linux", "arm", "v6") == 0, "v5 runs nothing newer");
    EXPECT(rank("linux/amd64", "linux", "386", "") == 2, "amd64 runs 386");
    EXPECT(rank("linux/amd64/v3", "linux", "amd64", "v2") == 2, "amd64/v3 runs v2");
    EXPECT(rank("linux/amd64/v3", "linux", "amd64", "") == 3, "and v1");
    EXPECT(rank("linux/amd64", "linux", "amd64", "v3") == 0, "amd64 does not run v3");
    EXPECT(rank("linux/amd64", "linux", "arm64", "") == 0, "amd64 does not run arm64");
    EXPECT(rank("linux/arm64", "windows", "arm64", "") == 0, "the os must match");
    EXPECT(rank("linux/386", "linux", "amd64", "") == 0, "386 does not run amd64");
    EXPECT(rank("linux/riscv64", "linux", "riscv64", "") == 1, "other architectures: themselves");
    EXPECT(rank("linux/arm64/v9", "linux", "arm64", "v8.5") > 1, "arm64 v9 runs v8.5");
    EXPECT(rank("linux/arm64/v8", "linux", "arm64", "v8.1") == 0, "v8 does not run v8.1");

    struct mk_platform host = raw("linux", "amd64", ""), img = raw("linux", "arm64", "v8");
    EXPECT(!mk_platform_runs_on(&host, &img), "arm64 image on an amd64 host: not native");
    img = raw("linux", "amd64", "");
    EXPECT(mk_platform_runs_on(&host, &img), "amd64 image on amd64");
    host = raw("linux", "arm64", "v8");
    img = raw("linux", "arm64", "");
    EXPECT(mk_platform_runs_on(&host, &img), "arm64 image without variant on an arm64/v8 host");
    host = raw("linux", "arm", "v6");
    img = raw("linux", "arm", "");
    EXPECT(mk_platform_runs_on(&host, &img), "dockerd's fallback: arm without a variant on arm/v6");
}

static int choose(const char *index_json, const char *want, size_t *idx, char **msg)
{
    json_t *j = json_loads(index_json, 0, NULL);
    struct mk_platform w = plat(want);
    mk_err *err = NULL;
    int r = mk_platform_choose(json_object_get(j, "manifests"), &w, idx, &err);
    if (r < 0) {
        *msg = xstrdup(err->msg);
        if (err->kind != MK_ERR_NOT_FOUND)
            printf("# wrong kind\n");
        mk_err_free(err);
    }
    json_decref(j);
    return r;
}

static void test_choose(void)
{
    const char *idx_json =
        "{\"manifests\":["
        "{\"digest\":\"a\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
        "{\"digest\":\"b\",\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v6\"}},"
        "{\"digest\":\"c\",\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}},"
        "{\"digest\":\"d\",\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
        "{\"digest\":\"e\",\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"},"
        "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}},"
        "{\"digest\":\"f\",\"platform\":{\"architecture\":\"386\",\"os\":\"linux\"}}]}";
    size_t i = 99;
    char *msg = NULL;
    EXPECT(choose(idx_json, "linux/arm64", &i, &msg) == 0 && i == 3, "arm64 picks arm64/v8");
    EXPECT(choose(idx_json, "linux/arm64/v8", &i, &msg) == 0 && i == 3, "arm64/v8 too");
    EXPECT(choose(idx_json, "linux/amd64", &i, &msg) == 0 && i == 0, "amd64 before 386");
    EXPECT(choose(idx_json, "linux/arm/v7", &i, &msg) == 0 && i == 2, "arm/v7 before arm/v6");
    EXPECT(choose(idx_json, "linux/arm/v6", &i, &msg) == 0 && i == 1, "arm/v6");
    EXPECT(choose(idx_json, "linux/386", &i, &msg) == 0 && i == 5, "386");
    EXPECT(choose(idx_json, "linux/s390x", &i, &msg) < 0, "no s390x");
    CHECK_STR(msg, "no matching manifest for linux/s390x in the manifest list entries");
    free(msg);
    msg = NULL;

    const char *att_only =
        "{\"manifests\":[{\"digest\":\"e\",\"platform\":{\"architecture\":\"unknown\",\"os\":"
        "\"unknown\"}},{\"digest\":\"f\",\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"},"
        "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}}]}";
    EXPECT(choose(att_only, "linux/arm64/v8", &i, &msg) < 0, "attestations are never chosen");
    /* The wanted platform as given, v8 and all. */
    CHECK_STR(msg, "no matching manifest for linux/arm64/v8 in the manifest list entries");
    free(msg);
    msg = NULL;

    const char *old_arm = "{\"manifests\":[{\"digest\":\"x\",\"platform\":{\"architecture\":\"arm\","
                          "\"os\":\"linux\",\"variant\":\"v8\"}}]}";
    EXPECT(choose(old_arm, "linux/arm/v6", &i, &msg) == 0 && i == 0,
       "arm without a variant match falls back to os and architecture");
    const char *no_platform = "{\"manifests\":[{\"digest\":\"x\"}]}";
    EXPECT(choose(no_platform, "linux/amd64", &i, &msg) < 0, "an entry without platform is skipped");
    free(msg);
}

int main(void)
{
    RUN(test_parse);
    RUN(test_host_and_format);
    RUN(test_match);
    RUN(test_choose);
    return tap_done();
}
