/* test_credentials.c: registry credentials in docker's config.json and through
 * docker-credential-* helpers (registry/credentials.c), base64 (util/base64.c)
 * and the limits of mk_run_limited (util/run.c).  Each test works in a
 * DOCKER_CONFIG of its own under a temp dir; the helper is a small python
 * script the test writes onto PATH. */
#include "registry/credentials.h"
#include "tap.h"

#include <fcntl.h>
#include <sys/stat.h>

static char tmpl[] = "/tmp/mocker-test-creds-XXXXXX";
static char *tmp;
static int seq;

/* A fresh, not yet existing DOCKER_CONFIG directory; returns its config.json. */
static char *fresh_config(void)
{
    char *dir = xasprintf("%s/cfg%d/docker", tmp, ++seq);
    setenv("DOCKER_CONFIG", dir, 1);
    char *path = mk_path_join(dir, "config.json");
    free(dir);
    return path;
}

static void write_file(const char *path, const char *data)
{
    _cleanup_free_ char *dir = xstrdup(path);
    *strrchr(dir, '/') = '\0';
    mk_mkdir_p(dir, 0700, NULL);
    FILE *f = fopen(path, "w");
    fputs(data, f);
    fclose(f);
}

static char *read_file(const char *path)
{
    char *s = NULL;
    if (mk_read_file(path, &s, NULL, NULL) < 0)
        return NULL;
    return s;
}

static json_t *load(const char *path)
{
    return mk_json_load_file(path, NULL);
}

static void test_base64(void)
{
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        _cleanup_free_ char *e = mk_base64_encode(plain[i], strlen(plain[i]));
        CHECK_STR(e, enc[i]);
        _cleanup_free_ char *d = NULL;
        size_t n = 99;
        CHECK(mk_base64_decode(enc[i], &d, &n, NULL) == 0);
        CHECK_INT(n, strlen(plain[i]));
        CHECK_STR(d, plain[i]);
    }
    /* Every byte value survives, and Go's decoder skips line breaks. */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    _cleanup_free_ char *e = mk_base64_encode(all, sizeof(all));
    _cleanup_free_ char *d = NULL;
    size_t n = 0;
    CHECK(mk_base64_decode(e, &d, &n, NULL) == 0);
    CHECK_INT(n, 256);
    CHECK(memcmp(d, all, 256) == 0);
    _cleanup_free_ char *d2 = NULL;
    CHECK(mk_base64_decode("Zm9v\r\nYmFy", &d2, NULL, NULL) == 0);
    CHECK_STR(d2, "foobar");
    static const char *bad[] = {"Zm9", "Zm9v!A==", "Z===", "=Zm9", "Zg=a", "Zm 9v"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *x = NULL;
        mk_err *err = NULL;
        if (mk_base64_decode(bad[i], &x, NULL, &err) == 0)
            FAIL_AT("decoded invalid base64 \"%s\"", bad[i]);
        CHECK_INT(err->kind, MK_ERR_INVALID);
        mk_err_free(err);
    }
}

static void test_key(void)
{
    static const char *cases[][2] = {
        {"docker.io", "https://index.docker.io/v1/"},
        {"index.docker.io", "https://index.docker.io/v1/"},
        {"registry-1.docker.io", "https://index.docker.io/v1/"},
        {"https://index.docker.io/v1/", "https://index.docker.io/v1/"},
        {"localhost:5000", "localhost:5000"},
        {"https://localhost:5000", "localhost:5000"},
        {"https://localhost:5000/v2/", "localhost:5000"},
        {"http://reg.example.com/", "reg.example.com"},
        {"reg.example.com/some/repo", "reg.example.com"},
        {"https://user@reg.example.com:443/x", "reg.example.com:443"},
        {"[::1]:5000", "[::1]:5000"},
        {"docker.io.example.com", "docker.io.example.com"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        _cleanup_free_ char *k = mk_creds_key(cases[i][0]);
        CHECK_STR(k, cases[i][1]);
    }
}

static void test_config_path(void)
{
    _cleanup_free_ char *saved = xstrdup(getenv("DOCKER_CONFIG") ? getenv("DOCKER_CONFIG") : "");
    setenv("DOCKER_CONFIG", "/some/dir", 1);
    _cleanup_free_ char *a = mk_creds_config_path();
    CHECK_STR(a, "/some/dir/config.json");
    unsetenv("DOCKER_CONFIG");
    _cleanup_free_ char *home = xstrdup(getenv("HOME") ? getenv("HOME") : "");
    setenv("HOME", "/home/someone", 1);
    _cleanup_free_ char *b = mk_creds_config_path();
    CHECK_STR(b, "/home/someone/.docker/config.json");
    /* No HOME: the passwd entry's home directory. */
    unsetenv("HOME");
    _cleanup_free_ char *c = mk_creds_config_path();
    setenv("HOME", home, 1);
    setenv("DOCKER_CONFIG", saved, 1);
    CHECK(c != NULL && mk_str_has_suffix(c, "/.docker/config.json"));
}

static void test_store_creates_private_file(void)
{
    _cleanup_free_ char *path = fresh_config();
    struct mk_auth a = {.username = "alice", .password = "s3cr:et"};
    _cleanup_free_ char *plain = NULL;
    mk_err *err = NULL;
    CHECK(mk_creds_save("localhost:5000", &a, &plain, &err) == 0);
    CHECK_STR(plain, path);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_INT(st.st_mode & 07777, 0600);
    _cleanup_free_ char *dir = xstrdup(path);
    *strrchr(dir, '/') = '\0';
    CHECK(stat(dir, &st) == 0);
    CHECK_INT(st.st_mode & 07777, 0700);
    _cleanup_json_ json_t *j = load(path);
    /* base64("alice:s3cr:et"), as docker files it, and nothing else. */
    CHECK_STR(mk_json_str(json_object_get(json_object_get(j, "auths"), "localhost:5000"), "auth"),
              "YWxpY2U6czNjcjpldA==");
    CHECK_INT(json_object_size(json_object_get(json_object_get(j, "auths"), "localhost:5000")), 1);
    /* docker's layout: tab indentation. */
    _cleanup_free_ char *text = read_file(path);
    CHECK(strstr(text, "\n\t\"auths\": {\n\t\t\"localhost:5000\": {\n\t\t\t\"auth\"") != NULL);

    struct mk_auth got = {0};
    CHECK(mk_creds_get("https://localhost:5000/", &got, &err) == 0);
    CHECK_STR(got.username, "alice");
    CHECK_STR(got.password, "s3cr:et");
    CHECK(got.identity_token == NULL);
    mk_auth_clear(&got);

    /* The same credentials again: the file is not rewritten, no warning. */
    CHECK(stat(path, &st) == 0);
    ino_t ino = st.st_ino;
    _cleanup_free_ char *plain2 = NULL;
    CHECK(mk_creds_save("localhost:5000", &a, &plain2, &err) == 0);
    CHECK(plain2 == NULL);
    CHECK(stat(path, &st) == 0);
    CHECK_INT(st.st_ino, ino);
}

static void test_store_keeps_unknown_fields(void)
{
    _cleanup_free_ char *path = fresh_config();
    write_file(path, "{\n"
                     "  \"auths\": {\"other:1\": {\"auth\": \"dTpw\", \"email\": \"u@x\"},\n"
                     "            \"localhost:5000\": {\"auth\": \"b2xkOm9sZA==\", \"x\": 1}},\n"
                     "  \"psFormat\": \"table {{.ID}}\",\n"
                     "  \"proxies\": {\"default\": {\"httpProxy\": \"http://p:3128\"}},\n"
                     "  \"aliases\": {\"builder\": \"buildx\"},\n"
                     "  \"futureThing\": [1, 2.5, null, true, {\"deep\": \"é/<>\"}]\n"
                     "}\n");
    chmod(path, 0644);
    _cleanup_json_ json_t *before = load(path);
    struct mk_auth a = {.username = "bob", .password = "pw"};
    mk_err *err = NULL;
    CHECK(mk_creds_store("localhost:5000", &a, &err) == 0);
    _cleanup_json_ json_t *after = load(path);
    CHECK(after != NULL);
    /* Everything but auths["localhost:5000"] is as it was. */
    json_t *auths_after = json_object_get(after, "auths");
    CHECK_STR(mk_json_str(json_object_get(auths_after, "localhost:5000"), "auth"), "Ym9iOnB3");
    json_object_del(auths_after, "localhost:5000");
    json_object_del(json_object_get(before, "auths"), "localhost:5000");
    CHECK(json_equal(before, after));
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_INT(st.st_mode & 07777, 0600);
    /* No temp file left behind. */
    _cleanup_free_ char *dir = xstrdup(path);
    *strrchr(dir, '/') = '\0';
    _cleanup_closedir_ DIR *d = opendir(dir);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d)) != NULL)
        files += de->d_name[0] != '.' || strlen(de->d_name) > 2;
    CHECK_INT(files, 1);
}

static void test_get_entry_shapes(void)
{
    _cleanup_free_ char *path = fresh_config();
    write_file(path, "{\"auths\": {"
                     "\"https://legacy:5000\": {\"auth\": \"bGVnOnB3\"},"
                     "\"http://plainhost/\": {\"username\": \"pu\", \"password\": \"pp\"},"
                     "\"tok:1\": {\"auth\": \"dG9rdXNlcjo=\", \"identitytoken\": \"refresh-1\"},"
                     "\"https://index.docker.io/v1/\": {\"auth\": \"aHViOmh1YnB3AAA=\"},"
                     "\"empty:1\": {},"
                     "\"bad:1\": {\"auth\": \"bm9jb2xvbg==\"},"
                     "\"badb64:1\": {\"auth\": \"!!!\"}"
                     "}}");
    mk_err *err = NULL;
    struct mk_auth a = {0};
    CHECK(mk_creds_get("legacy:5000", &a, &err) == 0);
    CHECK_STR(a.username, "leg");
    CHECK_STR(a.password, "pw");
    mk_auth_clear(&a);
    CHECK(mk_creds_get("plainhost", &a, &err) == 0);
    CHECK_STR(a.username, "pu");
    CHECK_STR(a.password, "pp");
    mk_auth_clear(&a);
    CHECK(mk_creds_get("tok:1", &a, &err) == 0);
    CHECK_STR(a.username, "tokuser");
    CHECK(a.password == NULL);
    CHECK_STR(a.identity_token, "refresh-1");
    mk_auth_clear(&a);
    /* docker.io under its key; NUL padding trimmed off the password as docker does. */
    CHECK(mk_creds_get("docker.io", &a, &err) == 0);
    CHECK_STR(a.username, "hub");
    CHECK_STR(a.password, "hubpw");
    mk_auth_clear(&a);
    CHECK(mk_creds_get("empty:1", &a, &err) == 0);
    CHECK(a.username == NULL && a.password == NULL && a.identity_token == NULL);
    CHECK(mk_creds_get("nowhere:1", &a, &err) == 0);
    CHECK(a.username == NULL && a.password == NULL && a.identity_token == NULL);
    CHECK(mk_creds_get("bad:1", &a, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_INVALID);
    CHECK(strstr(err->msg, "bad:1") != NULL);
    mk_err_clear(&err);
    CHECK(mk_creds_get("badb64:1", &a, &err) < 0);
    CHECK(strstr(err->msg, "badb64:1") != NULL);
    mk_err_clear(&err);
    /* No file at all: no credentials, and no error. */
    _cleanup_free_ char *none = fresh_config();
    CHECK(mk_creds_get("docker.io", &a, &err) == 0);
    CHECK(a.username == NULL);
    /* An empty file is an empty configuration, as for docker. */
    write_file(none, "");
    CHECK(mk_creds_get("docker.io", &a, &err) == 0);
}

static void test_identity_token_stored(void)
{
    _cleanup_free_ char *path = fresh_config();
    struct mk_auth a = {.username = "tu", .identity_token = "rt-123"};
    _cleanup_free_ char *plain = NULL;
    mk_err *err = NULL;
    CHECK(mk_creds_save("reg:1", &a, &plain, &err) == 0);
    CHECK(plain == NULL); /* a token is no password: no warning */
    _cleanup_json_ json_t *j = load(path);
    json_t *e = json_object_get(json_object_get(j, "auths"), "reg:1");
    CHECK_STR(mk_json_str(e, "auth"), "dHU6"); /* "tu:" */
    CHECK_STR(mk_json_str(e, "identitytoken"), "rt-123");
    struct mk_auth got = {0};
    CHECK(mk_creds_get("reg:1", &got, &err) == 0);
    CHECK_STR(got.username, "tu");
    CHECK(got.password == NULL);
    CHECK_STR(got.identity_token, "rt-123");
    mk_auth_clear(&got);
}

static void test_malformed_config_refused(void)
{
    static const char *bad[] = {"{\"auths\": {", "[1, 2]", "{\"auths\": []}", "{\"credsStore\": 5}",
                                "{\"credHelpers\": \"x\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        _cleanup_free_ char *path = fresh_config();
        write_file(path, bad[i]);
        chmod(path, 0644);
        struct mk_auth a = {.username = "u", .password = "p"};
        mk_err *err = NULL;
        if (mk_creds_store("localhost:5000", &a, &err) == 0)
            FAIL_AT("stored into malformed config %s", bad[i]);
        CHECK_INT(err->kind, MK_ERR_INVALID);
        CHECK(strstr(err->msg, path) != NULL);
        mk_err_clear(&err);
        struct mk_auth got = {0};
        CHECK(mk_creds_get("localhost:5000", &got, &err) < 0);
        mk_err_clear(&err);
        CHECK(mk_creds_erase("localhost:5000", &err) < 0);
        mk_err_clear(&err);
        /* Untouched: same bytes, same mode. */
        _cleanup_free_ char *now = read_file(path);
        CHECK_STR(now, bad[i]);
        struct stat st;
        CHECK(stat(path, &st) == 0);
        CHECK_INT(st.st_mode & 07777, 0644);
    }
}

static void test_erase(void)
{
    _cleanup_free_ char *path = fresh_config();
    write_file(path, "{\"auths\": {\"reg:5000\": {\"auth\": \"dTpw\"},"
                     "\"https://reg:5000\": {\"auth\": \"dTpw\"},"
                     "\"http://reg:5000/v1/\": {\"auth\": \"dTpw\"},"
                     "\"keep:1\": {\"auth\": \"dTpw\"}},"
                     "\"psFormat\": \"x\"}");
    mk_err *err = NULL;
    CHECK(mk_creds_erase("reg:5000", &err) == 0);
    _cleanup_json_ json_t *j = load(path);
    json_t *auths = json_object_get(j, "auths");
    CHECK_INT(json_object_size(auths), 1);
    CHECK(json_object_get(auths, "keep:1") != NULL);
    CHECK_STR(mk_json_str(j, "psFormat"), "x");
    struct mk_auth a = {0};
    CHECK(mk_creds_get("reg:5000", &a, &err) == 0);
    CHECK(a.username == NULL);
    /* Again: nothing left to forget. */
    CHECK(mk_creds_erase("reg:5000", &err) < 0);
    CHECK_INT(err->kind, MK_ERR_NOT_FOUND);
    CHECK_STR(err->msg, "Not logged in to reg:5000");
    mk_err_clear(&err);
    CHECK(mk_creds_erase("docker.io", &err) < 0);
    CHECK_STR(err->msg, "Not logged in to https://index.docker.io/v1/");
    mk_err_clear(&err);
    /* Logging out where nothing was ever stored creates nothing. */
    _cleanup_free_ char *none = fresh_config();
    CHECK(mk_creds_erase("reg:5000", &err) < 0);
    mk_err_clear(&err);
    CHECK(access(none, F_OK) < 0);
    _cleanup_free_ char *dir = xstrdup(none);
    *strrchr(dir, '/') = '\0';
    CHECK(access(dir, F_OK) < 0);
}

static void test_symlinked_config(void)
{
    _cleanup_free_ char *path = fresh_config();
    _cleanup_free_ char *real = xasprintf("%s/dotfiles-%d.json", tmp, seq);
    write_file(real, "{\"psFormat\": \"kept\"}");
    _cleanup_free_ char *dir = xstrdup(path);
    *strrchr(dir, '/') = '\0';
    mk_mkdir_p(dir, 0700, NULL);
    CHECK(symlink(real, path) == 0);
    struct mk_auth a = {.username = "u", .password = "p"};
    mk_err *err = NULL;
    CHECK(mk_creds_store("r:1", &a, &err) == 0);
    struct stat st;
    CHECK(lstat(path, &st) == 0 && S_ISLNK(st.st_mode));
    _cleanup_json_ json_t *j = load(real);
    CHECK_STR(mk_json_str(j, "psFormat"), "kept");
    CHECK(json_object_get(json_object_get(j, "auths"), "r:1") != NULL);
}

/* ---- credential helpers ---- */

static const char helper_script[] =
    "#!/usr/bin/env python3\n"
    "# A docker credential helper keeping one file per server URL in $TEST_HELPER_DB.\n"
    "import hashlib, json, os, sys\n"
    "db = os.environ['TEST_HELPER_DB']\n"
    "act, data = sys.argv[1], sys.stdin.read()\n"
    "url = json.loads(data)['ServerURL'] if act == 'store' else data\n"
    "with open(os.path.join(db, 'log'), 'a') as f:\n"
    "    f.write(act + ' ' + url + '\\n')\n"
    "p = os.path.join(db, hashlib.sha256(url.encode()).hexdigest())\n"
    "if os.environ.get('TEST_HELPER_FAIL'):\n"
    "    print('the keychain is locked'); sys.exit(3)\n"
    "if act == 'store':\n"
    "    open(p, 'w').write(data)\n"
    "elif act in ('get', 'erase'):\n"
    "    if not os.path.exists(p):\n"
    "        print('credentials not found in native keychain'); sys.exit(1)\n"
    "    if act == 'get':\n"
    "        print(open(p).read())\n"
    "    else:\n"
    "        os.unlink(p)\n"
    "else:\n"
    "    sys.exit(2)\n";

static char *helper_db;

static void install_helper(void)
{
    _cleanup_free_ char *bin = xasprintf("%s/bin", tmp);
    mk_mkdir_p(bin, 0755, NULL);
    _cleanup_free_ char *prog = xasprintf("%s/docker-credential-test", bin);
    write_file(prog, helper_script);
    chmod(prog, 0755);
    helper_db = xasprintf("%s/helperdb", tmp);
    mk_mkdir_p(helper_db, 0700, NULL);
    setenv("TEST_HELPER_DB", helper_db, 1);
    _cleanup_free_ char *path = xasprintf("%s:%s", bin, getenv("PATH"));
    setenv("PATH", path, 1);
}

static char *helper_log(void)
{
    _cleanup_free_ char *p = mk_path_join(helper_db, "log");
    char *s = read_file(p);
    unlink(p);
    return s != NULL ? s : xstrdup("");
}

static void test_helper_creds_store(void)
{
    _cleanup_free_ char *path = fresh_config();
    write_file(path, "{\"credsStore\": \"test\", \"detachKeys\": \"ctrl-x\"}");
    free(helper_log());
    struct mk_auth a = {.username = "hu", .password = "hp"};
    _cleanup_free_ char *plain = NULL;
    mk_err *err = NULL;
    if (mk_creds_save("docker.io", &a, &plain, &err) < 0)
        FAIL_AT("store: %s", err->msg);
    CHECK(plain == NULL);
    _cleanup_free_ char *log1 = helper_log();
    CHECK_STR(log1, "store https://index.docker.io/v1/\n");
    /* config.json lists the registry with no secret in it. */
    _cleanup_free_ char *text = read_file(path);
    CHECK(strstr(text, "hp") == NULL);
    _cleanup_json_ json_t *j = load(path);
    json_t *e = json_object_get(json_object_get(j, "auths"), "https://index.docker.io/v1/");
    CHECK(json_is_object(e) && json_object_size(e) == 0);
    CHECK_STR(mk_json_str(j, "detachKeys"), "ctrl-x");

    struct mk_auth got = {0};
    CHECK(mk_creds_get("index.docker.io", &got, &err) == 0);
    CHECK_STR(got.username, "hu");
    CHECK_STR(got.password, "hp");
    mk_auth_clear(&got);
    _cleanup_free_ char *log2 = helper_log();
    CHECK_STR(log2, "get https://index.docker.io/v1/\n");

    /* An identity token goes to the helper as docker's "<token>" user. */
    struct mk_auth t = {.username = "ignored", .identity_token = "idt"};
    CHECK(mk_creds_store("other:9", &t, &err) == 0);
    CHECK(mk_creds_get("other:9", &got, &err) == 0);
    CHECK(got.username == NULL);
    CHECK(got.password == NULL);
    CHECK_STR(got.identity_token, "idt");
    mk_auth_clear(&got);

    /* Not in the helper: no credentials, no error. */
    CHECK(mk_creds_get("unknown:1", &got, &err) == 0);
    CHECK(got.username == NULL && got.identity_token == NULL);

    free(helper_log());
    CHECK(mk_creds_erase("docker.io", &err) == 0);
    _cleanup_free_ char *log3 = helper_log();
    CHECK_STR(log3, "erase https://index.docker.io/v1/\n");
    CHECK(mk_creds_get("docker.io", &got, &err) == 0);
    CHECK(got.username == NULL);
    _cleanup_json_ json_t *j2 = load(path);
    CHECK(json_object_get(json_object_get(j2, "auths"), "https://index.docker.io/v1/") == NULL);
}

static void test_helper_per_registry(void)
{
    _cleanup_free_ char *path = fresh_config();
    write_file(path, "{\"credHelpers\": {\"helped:5000\": \"test\"},"
                     " \"auths\": {\"plain:1\": {\"auth\": \"dTpw\"}}}");
    free(helper_log());
    struct mk_auth a = {.username = "x", .password = "y"};
    mk_err *err = NULL;
    CHECK(mk_creds_store("helped:5000", &a, &err) == 0);
    CHECK(mk_creds_store("notHelped:1", &a, &err) == 0);
    _cleanup_free_ char *log = helper_log();
    CHECK_STR(log, "store helped:5000\n");
    _cleanup_json_ json_t *j = load(path);
    json_t *auths = json_object_get(j, "auths");
    CHECK_INT(json_object_size(json_object_get(auths, "helped:5000")), 0);
    CHECK_STR(mk_json_str(json_object_get(auths, "notHelped:1"), "auth"), "eDp5");
    struct mk_auth got = {0};
    CHECK(mk_creds_get("plain:1", &got, &err) == 0);
    CHECK_STR(got.username, "u");
    mk_auth_clear(&got);
    CHECK(mk_creds_get("helped:5000", &got, &err) == 0);
    CHECK_STR(got.password, "y");
    mk_auth_clear(&got);
}

static void test_helper_failures(void)
{
    _cleanup_free_ char *path = fresh_config();
    write_file(path, "{\"credHelpers\": {\"gone:1\": \"nosuchhelper\", \"locked:1\": \"test\"}}");
    struct mk_auth got = {0};
    mk_err *err = NULL;
    CHECK(mk_creds_get("gone:1", &got, &err) < 0);
    CHECK(strstr(err->msg, "docker-credential-nosuchhelper") != NULL);
    CHECK(strstr(err->msg, "not found") != NULL);
    mk_err_clear(&err);
    setenv("TEST_HELPER_FAIL", "1", 1);
    CHECK(mk_creds_get("locked:1", &got, &err) < 0);
    CHECK(strstr(err->msg, "error getting credentials") != NULL);
    CHECK(strstr(err->msg, "the keychain is locked") != NULL);
    mk_err_clear(&err);
    struct mk_auth a = {.username = "x", .password = "y"};
    CHECK(mk_creds_store("locked:1", &a, &err) < 0);
    CHECK(strstr(err->msg, "error storing credentials") != NULL);
    mk_err_clear(&err);
    unsetenv("TEST_HELPER_FAIL");
    /* A failed store leaves config.json as it was. */
    _cleanup_free_ char *text = read_file(path);
    CHECK_STR(text, "{\"credHelpers\": {\"gone:1\": \"nosuchhelper\", \"locked:1\": \"test\"}}");
}

static void test_run_limited(void)
{
    char *cat[] = {"cat", NULL};
    struct mk_run_limits lim = {.input = "hello\nworld", .input_len = 11, .timeout_ms = 5000};
    _cleanup_free_ char *out = NULL, *errs = NULL;
    int status = -1;
    CHECK(mk_run_limited(cat, &lim, &out, &errs, &status, NULL) == 0);
    CHECK_STR(out, "hello\nworld");
    CHECK_INT(status, 0);

    /* A large input is written while the output is read: no deadlock. */
    size_t big = 1 << 20;
    char *data = xmalloc(big);
    memset(data, 'a', big);
    struct mk_run_limits lim2 = {.input = data, .input_len = big, .timeout_ms = 10000};
    char *o2 = NULL, *e2 = NULL;
    CHECK(mk_run_limited(cat, &lim2, &o2, &e2, &status, NULL) == 0);
    CHECK_INT(strlen(o2), big);
    free(o2);
    free(e2);

    /* Over the size limit: killed and refused. */
    struct mk_run_limits lim3 = {.input = data, .input_len = big, .max_output = 1000};
    mk_err *err = NULL;
    char *o3 = NULL, *e3 = NULL;
    CHECK(mk_run_limited(cat, &lim3, &o3, &e3, &status, &err) < 0);
    free(data);
    CHECK(strstr(err->msg, "more than 1000 bytes") != NULL);
    mk_err_clear(&err);

    /* Past the deadline: killed and refused, quickly. */
    char *slow[] = {"sleep", "10", NULL};
    struct mk_run_limits lim4 = {.input = "", .timeout_ms = 200};
    int64_t t0 = mk_monotonic_ns();
    CHECK(mk_run_limited(slow, &lim4, &o3, &e3, &status, &err) < 0);
    CHECK(mk_monotonic_ns() - t0 < 3000000000LL);
    CHECK(strstr(err->msg, "timed out") != NULL);
    mk_err_clear(&err);

    /* A child that ignores its stdin and exits: no SIGPIPE for us. */
    char *tru[] = {"true", NULL};
    char *o5 = NULL, *e5 = NULL;
    struct mk_run_limits lim5 = {.input = "x", .input_len = 1, .timeout_ms = 5000};
    CHECK(mk_run_limited(tru, &lim5, &o5, &e5, &status, NULL) == 0);
    CHECK_INT(status, 0);
    free(o5);
    free(e5);
}

int main(void)
{
    if (mkdtemp(tmpl) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    tmp = tmpl;
    RUN(test_base64);
    RUN(test_key);
    RUN(test_config_path);
    RUN(test_store_creates_private_file);
    RUN(test_store_keeps_unknown_fields);
    RUN(test_get_entry_shapes);
    RUN(test_identity_token_stored);
    RUN(test_malformed_config_refused);
    RUN(test_erase);
    RUN(test_symlinked_config);
    install_helper();
    RUN(test_helper_creds_store);
    RUN(test_helper_per_registry);
    RUN(test_helper_failures);
    RUN(test_run_limited);
    mk_rm_rf(tmp, NULL);
    free(helper_db);
    return tap_done();
}
