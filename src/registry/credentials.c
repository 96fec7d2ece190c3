/* credentials.c: registry credentials kept where the docker CLI keeps them, so
 * that `mocker login` and `docker login` see each other's logins.
 *
 * config.json is the user's own docker configuration: only auths[<key>] is
 * ever changed, every other field is written back as it was read, and a file
 * that does not parse is refused, never overwritten.  Writes are atomic (temp
 * file, fsync, rename) and serialised among mocker processes by a lock on the
 * directory.  Credential helpers (docker-credential-<name>) run with an argv,
 * a time limit and a bound on what they may print. */
#include "registry/credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <limits.h>
#include <pwd.h>
#include <string.h>
#include <sys/file.h>

#define INDEX_SERVER "https://index.docker.io/v1/"
/* The username a helper stores an identity token under (docker's convention). */
#define TOKEN_USERNAME "<token>"
/* A helper may ask for a passphrase (pass, gpg): generous, but not forever. */
#define HELPER_TIMEOUT_MS (120 * 1000)
#define HELPER_MAX_OUTPUT (1024 * 1024)

void mk_auth_clear(struct mk_auth *a)
{
    if (a == NULL)
        return;
    free(a->username);
    free(a->password);
    free(a->identity_token);
    a->username = a->password = a->identity_token = NULL;
}

/* docker's ConvertToHostname: "https://host:5000/v2/" and "host:5000/x" are
 * both "host:5000". */
static char *to_hostname(const char *s)
{
    const char *sep = strstr(s, "://");
    if (sep != NULL) {
        const char *host = sep + 3;
        size_t n = strcspn(host, "/?#");
        const char *at = memchr(host, '@', n);
        if (at != NULL) {
            n -= (size_t)(at + 1 - host);
            host = at + 1;
        }
        if (n > 0)
            return xstrndup(host, n);
    }
    return xstrndup(s, strcspn(s, "/"));
}

char *mk_creds_key(const char *domain)
{
    _cleanup_free_ char *host = to_hostname(domain);
    if (strcmp(host, "docker.io") == 0 || strcmp(host, "index.docker.io") == 0 ||
        strcmp(host, "registry-1.docker.io") == 0)
        return xstrdup(INDEX_SERVER);
    return steal_pointer(&host);
}

char *mk_creds_config_path(void)
{
    const char *dir = getenv("DOCKER_CONFIG");
    if (dir != NULL && *dir != '\0')
        return mk_path_join(dir, "config.json");
    const char *home = getenv("HOME");
    if (home == NULL || *home == '\0') {
        struct passwd *pw = getpwuid(getuid());
        home = pw != NULL && pw->pw_dir != NULL ? pw->pw_dir : "/";
    }
    return xasprintf("%s/.docker/config.json", home);
}

/* ---- config.json ---- */

static int config_parse(const char *path, const char *data, size_t len, json_t **out, mk_err **err)
{
    /* docker reads an empty file as an empty configuration. */
    if (len == strspn(data, " \t\r\n")) {
        *out = json_object();
        return 0;
    }
    json_t *root = mk_json_parse(data, len, err);
    if (root == NULL)
        return mk_err_wrap(err, "docker config %s is not valid JSON", path);
    const char *bad = NULL;
    if (!json_is_object(root))
        bad = "it is not a JSON object";
    else if (json_object_get(root, "auths") != NULL &&
             !json_is_object(json_object_get(root, "auths")))
        bad = "\"auths\" is not an object";
    else if (json_object_get(root, "credHelpers") != NULL &&
             !json_is_object(json_object_get(root, "credHelpers")))
        bad = "\"credHelpers\" is not an object";
    else if (json_object_get(root, "credsStore") != NULL &&
             !json_is_string(json_object_get(root, "credsStore")))
        bad = "\"credsStore\" is not a string";
    if (bad != NULL) {
        json_decref(root);
        return mk_err_set(err, MK_ERR_INVALID, "docker config %s: %s", path, bad);
    }
    *out = root;
    return 0;
}

/* The configuration at dirfd/name, or an empty one if there is none. */
#define CONFIG_SIZE_MAX (16 << 20)

static int config_load_at(int dirfd, const char *name, const char *path, json_t **out, mk_err **err)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    mk_err *rerr = NULL;
    /* Only a regular file of a sane size: a config.json that is a FIFO or
     * a link to /dev/zero must not hang or exhaust us. */
    struct stat st;
    if (fstatat(dirfd, name, &st, 0) == 0 &&
        (!S_ISREG(st.st_mode) || st.st_size > CONFIG_SIZE_MAX))
        return mk_err_set(err, MK_ERR_INVALID, "read docker config %s: %s", path,
                          S_ISREG(st.st_mode) ? "larger than 16 MiB" : "not a regular file");
    if (mk_read_file_at(dirfd, name, &data, &len, &rerr) < 0) {
        if (rerr->kind == MK_ERR_NOT_FOUND) {
            mk_err_free(rerr);
            *out = json_object();
            return 0;
        }
        *err = rerr;
        return mk_err_wrap(err, "read docker config %s", path);
    }
    return config_parse(path, data, len, out, err);
}

static int config_load(json_t **out, mk_err **err)
{
    _cleanup_free_ char *path = mk_creds_config_path();
    return config_load_at(AT_FDCWD, path, path, out, err);
}

/* The helper credHelpers names for key, else credsStore's; NULL for none. */
static const char *helper_for(const json_t *root, const char *key)
{
    const char *h = mk_json_str(json_object_get(root, "credHelpers"), key);
    if (h == NULL)
        h = mk_json_str(root, "credsStore");
    return h != NULL && *h != '\0' ? h : NULL;
}

/* config.json, tab-indented as docker writes it.  jansson indents with spaces
 * only; strings never hold a raw newline, so every run of spaces that starts
 * a line is indentation. */
static char *config_dump(const json_t *root)
{
    _cleanup_free_ char *s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    if (s == NULL)
        return xstrdup("{}");
    mk_buf b = {0};
    bool line_start = true;
    for (const char *p = s; *p; p++) {
        if (line_start && *p == ' ') {
            mk_buf_append(&b, "\t", 1);
            continue;
        }
        line_start = *p == '\n';
        mk_buf_append(&b, p, 1);
    }
    mk_buf_append(&b, "", 1);
    return mk_buf_steal(&b);
}

/* Where the configuration really lives: docker writes through a symlinked
 * config.json (dotfile managers link it) rather than replacing the link. */
static char *config_target(const char *path)
{
    char buf[PATH_MAX];
    ssize_t n = readlink(path, buf, sizeof(buf) - 1);
    if (n <= 0)
        return xstrdup(path);
    buf[n] = '\0';
    char *real = realpath(path, NULL);
    if (real != NULL)
        return real;
    /* A dangling link: create the file it names. */
    if (buf[0] == '/')
        return xstrdup(buf);
    _cleanup_free_ char *dir = mk_path_dir(path, NULL);
    return mk_path_join(dir, buf);
}

/* Apply edit to config.json under the directory lock; written only if edit
 * says it changed something.  *written (may be NULL) tells whether it was. */
typedef int (*config_edit_fn)(json_t *root, void *ctx, bool *changed, mk_err **err);
static int config_update(config_edit_fn edit, void *ctx, bool *written, mk_err **err)
{
    _cleanup_free_ char *given = mk_creds_config_path();
    _cleanup_free_ char *path = config_target(given);
    const char *name;
    _cleanup_free_ char *dir = mk_path_dir(path, &name);
    if (mk_mkdir_p(dir, 0700, err) < 0)
        return mk_err_wrap(err, "docker config directory");
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return mk_err_sys(err, "open %s", dir);
    /* Two logins at once must not lose one: read-modify-write under a lock. */
    while (flock(dfd, LOCK_EX) < 0)
        if (errno != EINTR)
            return mk_err_sys(err, "lock %s", dir);
    _cleanup_json_ json_t *root = NULL;
    if (config_load_at(dfd, name, path, &root, err) < 0)
        return -1;
    bool changed = false;
    if (edit(root, ctx, &changed, err) < 0)
        return -1;
    if (written != NULL)
        *written = changed;
    if (!changed)
        return 0;
    _cleanup_free_ char *data = config_dump(root);
    /* The file stays its owner's (root logging in with a user's config), at
     * most 0600, as docker keeps it. */
    struct stat old;
    bool had = fstatat(dfd, name, &old, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(old.st_mode);
    if (mk_write_file_atomic_at(dfd, name, data, strlen(data), 0600, err) < 0)
        return mk_err_wrap(err, "write docker config %s", path);
    if (had && (old.st_uid != geteuid() || old.st_gid != getegid()))
        fchownat(dfd, name, old.st_uid, old.st_gid, AT_SYMLINK_NOFOLLOW);
    return 0;
}

/* ---- credential helpers: docker-credential-<name> get|store|erase ---- */

static int helper_run(const char *helper, const char *action, const char *input, char **out,
                      mk_err **err)
{
    _cleanup_free_ char *prog = xasprintf("docker-credential-%s", helper);
    char *argv[] = {prog, (char *)action, NULL};
    struct mk_run_limits lim = {.input = input,
                                .input_len = strlen(input),
                                .timeout_ms = HELPER_TIMEOUT_MS,
                                .max_output = HELPER_MAX_OUTPUT};
    _cleanup_free_ char *stdout_s = NULL, *stderr_s = NULL;
    int status = 0;
    mk_err *rerr = NULL;
    if (mk_run_limited(argv, &lim, &stdout_s, &stderr_s, &status, &rerr) < 0) {
        if (rerr->kind == MK_ERR_NOT_FOUND) {
            mk_err_free(rerr);
            return mk_err_set(err, MK_ERR_NOT_FOUND,
                              "credential helper %s: executable file not found in $PATH", prog);
        }
        *err = rerr;
        return mk_err_wrap(err, "credential helper");
    }
    /* Helpers report failures on stdout; stderr is only a fallback. */
    _cleanup_free_ char *said = NULL;
    const char *msg = *stdout_s != '\0' ? stdout_s : stderr_s;
    size_t start = strspn(msg, " \t\r\n"), end = strlen(msg);
    while (end > start && strchr(" \t\r\n", msg[end - 1]) != NULL)
        end--;
    said = xstrndup(msg + start, end - start);
    if (status != 0) {
        if (strcmp(said, "credentials not found in native keychain") == 0)
            return mk_err_set(err, MK_ERR_NOT_FOUND, "%s", said);
        return mk_err_set(err, MK_ERR_INTERNAL, "%s %s: exit status %d: %s", prog, action, status,
                          said);
    }
    *out = steal_pointer(&stdout_s);
    return 0;
}

static int helper_get(const char *helper, const char *key, struct mk_auth *out, mk_err **err)
{
    _cleanup_free_ char *resp = NULL;
    mk_err *herr = NULL;
    if (helper_run(helper, "get", key, &resp, &herr) < 0) {
        if (herr->kind == MK_ERR_NOT_FOUND && strstr(herr->msg, "native keychain") != NULL) {
            mk_err_free(herr);
            return 0;
        }
        *err = herr;
        return mk_err_wrap(err, "error getting credentials");
    }
    _cleanup_json_ json_t *j = mk_json_parse(resp, strlen(resp), err);
    if (j == NULL)
        return mk_err_wrap(err, "error getting credentials: docker-credential-%s get", helper);
    const char *user = mk_json_str(j, "Username"), *secret = mk_json_str(j, "Secret");
    if (secret == NULL || *secret == '\0')
        return 0;
    if (user != NULL && strcmp(user, TOKEN_USERNAME) == 0) {
        out->identity_token = xstrdup(secret);
    } else {
        out->username = xstrdup(user != NULL ? user : "");
        out->password = xstrdup(secret);
    }
    return 0;
}

static int helper_store(const char *helper, const char *key, const struct mk_auth *a, mk_err **err)
{
    _cleanup_json_ json_t *j = json_object();
    json_object_set_new(j, "ServerURL", json_string(key));
    if (a->identity_token != NULL) {
        json_object_set_new(j, "Username", json_string(TOKEN_USERNAME));
        json_object_set_new(j, "Secret", json_string(a->identity_token));
    } else {
        json_object_set_new(j, "Username", json_string(a->username ? a->username : ""));
        json_object_set_new(j, "Secret", json_string(a->password ? a->password : ""));
    }
    _cleanup_free_ char *input = mk_json_dump(j);
    _cleanup_free_ char *resp = NULL;
    if (helper_run(helper, "store", input, &resp, err) < 0)
        return mk_err_wrap(err, "error storing credentials");
    return 0;
}

/* ---- auths entries ---- */

static int entry_read(const json_t *entry, const char *key, struct mk_auth *out, mk_err **err)
{
    const char *auth = mk_json_str(entry, "auth");
    if (auth != NULL && *auth != '\0') {
        _cleanup_free_ char *raw = NULL;
        size_t len = 0;
        if (mk_base64_decode(auth, &raw, &len, err) < 0)
            return mk_err_wrap(err, "docker config: auths[\"%s\"].auth", key);
        char *colon = memchr(raw, ':', len);
        if (colon == NULL || colon == raw)
            return mk_err_set(err, MK_ERR_INVALID,
                              "docker config: auths[\"%s\"].auth is not base64 of user:password",
                              key);
        /* docker trims NUL padding off the password. */
        char *pw = colon + 1, *end = raw + len;
        while (pw < end && *pw == '\0')
            pw++;
        while (end > pw && end[-1] == '\0')
            end--;
        out->username = xstrndup(raw, (size_t)(colon - raw));
        out->password = xstrndup(pw, (size_t)(end - pw));
    } else {
        const char *u = mk_json_str(entry, "username"), *p = mk_json_str(entry, "password");
        if (u != NULL && *u != '\0')
            out->username = xstrdup(u);
        if (p != NULL && *p != '\0')
            out->password = xstrdup(p);
    }
    const char *tok = mk_json_str(entry, "identitytoken");
    if (tok != NULL && *tok != '\0') {
        out->identity_token = xstrdup(tok);
        free(steal_pointer(&out->password));
    } else if (out->password != NULL && *out->password == '\0') {
        free(steal_pointer(&out->password));
    }
    if (out->password == NULL && out->identity_token == NULL)
        mk_auth_clear(out);
    return 0;
}

/* Is auths key k (as a user or an older docker spelled it) the registry key? */
static bool same_registry(const char *k, const char *key)
{
    _cleanup_free_ char *norm = mk_creds_key(k);
    return strcmp(norm, key) == 0;
}

/* auths[key], else an entry filed under another spelling of the same
 * registry ("https://host:5000", "http://host/", "index.docker.io"). */
static const json_t *entry_find(const json_t *auths, const char *key, const char **found)
{
    const json_t *e = json_object_get(auths, key);
    if (e != NULL) {
        *found = key;
        return e;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)auths, k, v)
    {
        if (same_registry(k, key)) {
            *found = k;
            return v;
        }
    }
    return NULL;
}

int mk_creds_get(const char *domain, struct mk_auth *out, mk_err **err)
{
    struct mk_auth got = {0};
    _cleanup_free_ char *key = mk_creds_key(domain);
    _cleanup_json_ json_t *root = NULL;
    if (config_load(&root, err) < 0)
        return -1;
    const char *helper = helper_for(root, key);
    if (helper != NULL) {
        if (helper_get(helper, key, &got, err) < 0)
            return -1;
    } else {
        const char *found = NULL;
        const json_t *e = entry_find(json_object_get(root, "auths"), key, &found);
        if (e != NULL && json_is_object(e) && entry_read(e, found, &got, err) < 0) {
            mk_auth_clear(&got);
            return -1;
        }
    }
    *out = got;
    return 0;
}

struct set_entry {
    const char *key;
    json_t *entry; /* borrowed */
};

static int set_entry_edit(json_t *root, void *ctx, bool *changed, mk_err **err)
{
    struct set_entry *s = ctx;
    json_t *auths = json_object_get(root, "auths");
    if (auths == NULL) {
        auths = json_object();
        json_object_set_new(root, "auths", auths);
    }
    if (json_equal(json_object_get(auths, s->key), s->entry))
        return 0;
    json_object_set(auths, s->key, s->entry);
    *changed = true;
    return 0;
}

int mk_creds_save(const char *domain, const struct mk_auth *a, char **plaintext_path, mk_err **err)
{
    if (domain == NULL || *domain == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "no registry to store credentials for");
    _cleanup_free_ char *key = mk_creds_key(domain);
    _cleanup_json_ json_t *root = NULL;
    if (config_load(&root, err) < 0)
        return -1;
    const char *helper = helper_for(root, key);
    _cleanup_json_ json_t *entry = json_object();
    if (helper != NULL) {
        if (helper_store(helper, key, a, err) < 0)
            return -1;
        /* docker leaves an empty entry behind, so the registry is listed. */
    } else {
        const char *user = a->username ? a->username : "";
        const char *pass = a->identity_token == NULL && a->password ? a->password : "";
        if (*user != '\0' || *pass != '\0') {
            _cleanup_free_ char *plain = xasprintf("%s:%s", user, pass);
            _cleanup_free_ char *b64 = mk_base64_encode(plain, strlen(plain));
            json_object_set_new(entry, "auth", json_string(b64));
        }
        if (a->identity_token != NULL)
            json_object_set_new(entry, "identitytoken", json_string(a->identity_token));
    }
    struct set_entry s = {key, entry};
    bool written = false;
    if (config_update(set_entry_edit, &s, &written, err) < 0)
        return -1;
    if (plaintext_path != NULL) {
        *plaintext_path = NULL;
        /* docker warns once a password (not a token) lands in the file. */
        if (written && helper == NULL && a->identity_token == NULL && a->password != NULL &&
            *a->password != '\0') {
            _cleanup_free_ char *given = mk_creds_config_path();
            *plaintext_path = config_target(given);
        }
    }
    return 0;
}

int mk_creds_store(const char *domain, const struct mk_auth *a, mk_err **err)
{
    return mk_creds_save(domain, a, NULL, err);
}

struct erase_entries {
    const char *key;
    bool found;
};

static int erase_edit(json_t *root, void *ctx, bool *changed, mk_err **err)
{
    struct erase_entries *e = ctx;
    json_t *auths = json_object_get(root, "auths");
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(auths, tmp, k, v)
    {
        if (!same_registry(k, e->key))
            continue;
        json_object_del(auths, k);
        *changed = e->found = true;
    }
    return 0;
}

int mk_creds_erase(const char *domain, mk_err **err)
{
    _cleanup_free_ char *key = mk_creds_key(domain);
    _cleanup_json_ json_t *root = NULL;
    if (config_load(&root, err) < 0)
        return -1;
    /* The spellings docker's logout erases from helpers: a helper may have been
     * given any of them by an older docker. */
    _cleanup_free_ char *http = xasprintf("http://%s", key), *https = xasprintf("https://%s", key);
    const char *names[] = {key, http, https};
    size_t n = strcmp(key, INDEX_SERVER) == 0 ? 1 : 3;
    bool found = false;
    mk_err *first = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *helper = helper_for(root, names[i]);
        if (helper == NULL)
            continue;
        _cleanup_free_ char *resp = NULL;
        mk_err *herr = NULL;
        if (helper_run(helper, "erase", names[i], &resp, &herr) == 0) {
            found = true;
        } else if (herr->kind == MK_ERR_NOT_FOUND && strstr(herr->msg, "native keychain")) {
            mk_err_free(herr);
        } else if (first == NULL) {
            mk_err_wrap(&herr, "error erasing credentials");
            first = herr;
        } else {
            mk_err_free(herr);
        }
    }
    struct erase_entries e = {key, false};
    /* Nothing to remove: leave the file (and a missing directory) alone. */
    const char *k;
    const json_t *v;
    bool listed = false;
    json_object_foreach(json_object_get(root, "auths"), k, v) listed |= same_registry(k, key);
    if (listed && config_update(erase_edit, &e, NULL, err) < 0) {
        mk_err_free(first);
        return -1;
    }
    if (found || e.found) {
        mk_err_free(first);
        return 0;
    }
    if (first != NULL) {
        *err = first;
        return -1;
    }
    return mk_err_set(err, MK_ERR_NOT_FOUND, "Not logged in to %s", key);
}
