/* test_ref.c: image reference parsing and normalisation (image/reference.c). */
#include "image/image.h"
#include "tap.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Parse s and compare the normalised string and familiar form. */
static int check_ref(const char *s, const char *full, const char *familiar)
{
    struct mk_ref *r = NULL;
    mk_err *err = NULL;
    if (mk_ref_parse(s, &r, &err) < 0) {
        printf("# parse %s: %s\n", s, err->msg);
        mk_err_free(err);
        return 0;
    }
    char *f = mk_ref_string(r), *fam = mk_ref_familiar(r);
    int ok = strcmp(f, full) == 0 && strcmp(fam, familiar) == 0;
    if (!ok)
        printf("# %s: got %s / %s, want %s / %s\n", s, f, fam, full, familiar);
    free(f);
    free(fam);
    mk_ref_free(r);
    return ok;
}

/* Parse s expecting failure with message msg. */
static int check_bad(const char *s, const char *msg)
{
    struct mk_ref *r = NULL;
    mk_err *err = NULL;
    if (mk_ref_parse(s, &r, &err) == 0) {
        printf("# %s: parsed, want error %s\n", s, msg);
        mk_ref_free(r);
        return 0;
    }
    int ok = strcmp(err->msg, msg) == 0 && err->kind == MK_ERR_INVALID;
    if (!ok)
        printf("# %s: got error \"%s\", want \"%s\"\n", s, err->msg, msg);
    mk_err_free(err);
    return ok;
}

static void test_official(void)
{
    struct mk_ref *r = NULL;
    CHECK(mk_ref_parse("busybox", &r, NULL) == 0);
    CHECK_STR(r->domain, "docker.io");
    CHECK_STR(r->path, "library/busybox");
    CHECK_STR(r->tag, "latest");
    CHECK(r->digest == NULL);
    char *repo = mk_ref_familiar_repo(r);
    CHECK_STR(repo, "busybox");
    free(repo);
    mk_ref_free(r);
    CHECK(check_ref("busybox", "docker.io/library/busybox:latest", "busybox:latest"));
    CHECK(check_ref("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"));
    CHECK(check_ref("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"));
    CHECK(check_ref("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"));
    CHECK(check_ref("index.docker.io/busybox:x", "docker.io/library/busybox:x", "busybox:x"));
    CHECK(check_ref("docker.io/library/busybox:latest", "docker.io/library/busybox:latest",
                    "busybox:latest"));
}

static void test_user_repos(void)
{
    CHECK(check_ref("user/repo:tag", "docker.io/user/repo:tag", "user/repo:tag"));
    CHECK(check_ref("a/b/c", "docker.io/a/b/c:latest", "a/b/c:latest"));
    /* library/ with nested components is not an official image. */
    CHECK(check_ref("library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"));
    CHECK(check_ref("my-repo_x.y__z", "docker.io/library/my-repo_x.y__z:latest",
                    "my-repo_x.y__z:latest"));
    CHECK(check_ref("a--b:T_ag.1-2", "docker.io/library/a--b:T_ag.1-2", "a--b:T_ag.1-2"));
}

static void test_domains(void)
{
    struct mk_ref *r = NULL;
    CHECK(mk_ref_parse("localhost:5000/a/b:t", &r, NULL) == 0);
    CHECK_STR(r->domain, "localhost:5000");
    CHECK_STR(r->path, "a/b");
    CHECK_STR(r->tag, "t");
    mk_ref_free(r);
    CHECK(check_ref("localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000/a/b:t"));
    CHECK(check_ref("localhost/foo", "localhost/foo:latest", "localhost/foo:latest"));
    CHECK(check_ref("example.com/foo", "example.com/foo:latest", "example.com/foo:latest"));
    CHECK(check_ref("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest", "127.0.0.1:5000/x:latest"));
    CHECK(check_ref("[::1]:5000/x:1", "[::1]:5000/x:1", "[::1]:5000/x:1"));
    CHECK(check_ref("quay.io/library/x", "quay.io/library/x:latest", "quay.io/library/x:latest"));
    /* No '.' or ':' and not localhost: a user name on Docker Hub. */
    CHECK(check_ref("myhost/x", "docker.io/myhost/x:latest", "myhost/x:latest"));
    /* Uppercase first component: docker takes it for a registry host. */
    CHECK(check_ref("Foo/bar", "Foo/bar:latest", "Foo/bar:latest"));
    /* Without a path, "localhost:5000" is the repository localhost with tag 5000. */
    CHECK(check_ref("localhost:5000", "docker.io/library/localhost:5000", "localhost:5000"));
}

static void test_digests(void)
{
    struct mk_ref *r = NULL;
    CHECK(mk_ref_parse("busybox@sha256:" HEX64, &r, NULL) == 0);
    CHECK(r->tag == NULL);
    CHECK_STR(r->digest, "sha256:" HEX64);
    mk_ref_free(r);
    CHECK(check_ref("busybox@sha256:" HEX64, "docker.io/library/busybox@sha256:" HEX64,
                    "busybox@sha256:" HEX64));
    CHECK(check_ref("a/b:t@sha256:" HEX64, "docker.io/a/b:t@sha256:" HEX64, "a/b:t@sha256:" HEX64));
    CHECK(check_ref("localhost:5000/x@sha256:" HEX64, "localhost:5000/x@sha256:" HEX64,
                    "localhost:5000/x@sha256:" HEX64));
    CHECK(check_bad("a@sha256:abc", "invalid reference format"));
    CHECK(check_bad("a@sha256:" HEX64 "0", "invalid checksum digest length"));
    CHECK(check_bad("a@md5:0123456789abcdef0123456789abcdef", "unsupported digest algorithm"));
    CHECK(check_bad("a@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
                    "invalid checksum digest format"));
    CHECK(check_bad("a@sha256:" HEX64 "@x", "invalid reference format"));
    CHECK(check_bad("a@", "invalid reference format"));
}

static void test_malformed(void)
{
    CHECK(check_bad("Busybox",
                    "invalid reference format: repository name (library/Busybox) must be "
                    "lowercase"));
    CHECK(check_bad("foo/Bar:tag",
                    "invalid reference format: repository name (foo/Bar) must be lowercase"));
    CHECK(check_bad(HEX64, "invalid repository name (" HEX64
                           "), cannot specify 64-byte hexadecimal strings"));
    static const char *const bad[] = {
        "",
        ":tag",
        "a:",
        "a::b",
        "-a",
        "a-",
        "a___b",
        "a..b",
        "a/",
        "/a",
        "a//b",
        "a b",
        "a:tag!",
        ".a",
        "a.",
        "a:-t",
        "a:.t",
        "a/_b",
        "exa mple.com/x",
        "ex_ample.com/x",
        "example.com:/x",
        "example.com:50a/x",
        "-bad.com/x",
        "[::1/x",
        "a@b",
        "a\nb",
        "a:t\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (!check_bad(bad[i], "invalid reference format"))
            FAIL_AT("bad reference %zu accepted or wrong message", i);
    }
}

static void test_tag_length(void)
{
    char tag[200];
    memset(tag, 't', 128);
    tag[128] = '\0';
    char *ok = xasprintf("a:%s", tag);
    struct mk_ref *r = NULL;
    CHECK(mk_ref_parse(ok, &r, NULL) == 0);
    mk_ref_free(r);
    free(ok);
    tag[128] = 't';
    tag[129] = '\0';
    char *bad = xasprintf("a:%s", tag);
    CHECK(check_bad(bad, "invalid reference format"));
    free(bad);
}

static void test_length_limit(void)
{
    char name[300];
    memset(name, 'a', 280);
    name[280] = '\0';
    CHECK(check_bad(name, "invalid reference format: repository name must not be more than 255 "
                          "characters"));
    /* 255 exactly is fine: "docker.io/library/" is 18 characters. */
    memset(name, 'b', 237);
    name[237] = '\0';
    struct mk_ref *r = NULL;
    CHECK(mk_ref_parse(name, &r, NULL) == 0);
    mk_ref_free(r);
    name[237] = 'b';
    name[238] = '\0';
    CHECK(check_bad(name, "invalid reference format: repository name must not be more than 255 "
                          "characters"));
}

static void test_familiarize(void)
{
    char *s = mk_ref_familiarize("docker.io/library/busybox:latest");
    CHECK_STR(s, "busybox:latest");
    free(s);
    s = mk_ref_familiarize("docker.io/user/x:1");
    CHECK_STR(s, "user/x:1");
    free(s);
    s = mk_ref_familiarize("quay.io/a/b:c");
    CHECK_STR(s, "quay.io/a/b:c");
    free(s);
    s = mk_ref_familiarize("docker.io/library/busybox@sha256:" HEX64);
    CHECK_STR(s, "busybox@sha256:" HEX64);
    free(s);
    s = mk_ref_familiarize("not a ref");
    CHECK_STR(s, "not a ref");
    free(s);
}

/* Go's path.Match, as docker's reference= filter uses it. */
static int pm(const char *pattern, const char *name)
{
    mk_err *err = NULL;
    int r = mk_path_match(pattern, name, &err);
    if (r < 0) {
        if (strcmp(err->msg, "syntax error in pattern") != 0)
            printf("# %s: %s\n", pattern, err->msg);
        mk_err_free(err);
    }
    return r;
}

static void test_path_match(void)
{
    CHECK(pm("bb", "bb") == 1);
    CHECK(pm("bb", "bbb") == 0);
    CHECK(pm("b*", "busybox") == 1);
    CHECK(pm("*", "a/b") == 0); /* a star stays within one path element */
    CHECK(pm("*/*", "a/b") == 1);
    CHECK(pm("*/x/*", "example.com/x/y") == 1);
    CHECK(pm("a*b*c", "aXXbYYc") == 1);
    CHECK(pm("a*b*c", "aXXbYY") == 0);
    CHECK(pm("a*", "a") == 1);
    CHECK(pm("?b", "bb") == 1);
    CHECK(pm("?", "/") == 0);
    CHECK(pm("b?:[12]", "bb:2") == 1);
    CHECK(pm("bb:[12]", "bb:3") == 0);
    CHECK(pm("bb:[^12]", "bb:3") == 1);
    CHECK(pm("bb:[!12]", "bb:3") == 0); /* "!" is no negation in Go */
    CHECK(pm("[!a]", "!") == 1);
    CHECK(pm("[a-c]x", "bx") == 1);
    CHECK(pm("[\\]]", "]") == 1);
    CHECK(pm("\\*", "*") == 1);
    CHECK(pm("\\*", "a") == 0);
    /* malformed patterns are errors, matched or not */
    CHECK(pm("[", "a") == -1);
    CHECK(pm("bb[", "x") == -1);
    CHECK(pm("[]a]", "a") == -1);
    CHECK(pm("[-a]", "a") == -1);
    CHECK(pm("[a-]", "a") == -1);
    CHECK(pm("a\\", "a") == -1);
    CHECK(pm("x*[", "y") == -1);
}

static void test_ref_matches(void)
{
    char *p1[] = {"bb", NULL}, *p2[] = {"bb:1", NULL}, *p3[] = {"*", NULL};
    char *p4[] = {"docker.io/library/bb", NULL}, *p5[] = {"no", "quay.io/*/*", NULL};
    CHECK(mk_image_ref_matches(p1, "docker.io/library/bb:1", NULL) == 1);
    CHECK(mk_image_ref_matches(p2, "docker.io/library/bb:1", NULL) == 1);
    CHECK(mk_image_ref_matches(p2, "docker.io/library/bb:2", NULL) == 0);
    CHECK(mk_image_ref_matches(p3, "docker.io/library/bb:2", NULL) == 1);
    CHECK(mk_image_ref_matches(p3, "docker.io/user/bb:2", NULL) == 0);
    /* familiar names only, as docker */
    CHECK(mk_image_ref_matches(p4, "docker.io/library/bb:1", NULL) == 0);
    CHECK(mk_image_ref_matches(p5, "quay.io/a/b:c", NULL) == 1);
    CHECK(mk_image_ref_matches(p1, "docker.io/library/bb@sha256:" HEX64, NULL) == 1);
    CHECK(mk_image_ref_matches(p2, "docker.io/library/bb@sha256:" HEX64, NULL) == 0);
}

int main(void)
{
    RUN(test_official);
    RUN(test_user_repos);
    RUN(test_domains);
    RUN(test_digests);
    RUN(test_malformed);
    RUN(test_tag_length);
    RUN(test_length_limit);
    RUN(test_familiarize);
    RUN(test_path_match);
    RUN(test_ref_matches);
    return tap_done();
}
