/* changes.c: Dockerfile instructions applied to an image config, for
 * `import --change` and (later) `commit --change`.  Docker parses the changes
 * as a small Dockerfile and runs the builder's dispatchers on the config; this
 * is the same subset: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD,
 * STOPSIGNAL, USER, VOLUME, WORKDIR, with docker's quoting and $VAR expansion
 * from the config's own Env. */
#include "image/image.h"

#include <ctype.h>
#include <string.h>

struct change_state {
    json_t *cfg; /* the image config's "config" object */
    bool cmd_set;
};

struct change_line {
    char *instr; /* lowercase keyword */
    char *rest;  /* arguments, trimmed */
};

/* ---- words, quotes and variables ---- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char *trim(const char *s, size_t n)
{
    while (n > 0 && is_space(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    return xstrndup(s, n);
}

/* Split at unquoted whitespace, keeping quotes and escapes in the words (docker's
 * parseWords); process_word removes them later. */
static char **split_raw_words(const char *s)
{
    char **words = xcalloc(1, sizeof(char *));
    size_t i = 0, n = strlen(s);
    while (i < n) {
        while (i < n && is_space(s[i]))
            i++;
        if (i == n)
            break;
        size_t start = i;
        char quote = 0;
        while (i < n && (quote != 0 || !is_space(s[i]))) {
            if (s[i] == '\\' && quote != '\'' && i + 1 < n) {
                i += 2;
                continue;
            }
            if (quote == 0 && (s[i] == '"' || s[i] == '\''))
                quote = s[i];
            else if (s[i] == quote)
                quote = 0;
            i++;
        }
        mk_strv_push_owned(&words, xstrndup(s + start, i - start));
    }
    return words;
}

static const char *env_lookup(const json_t *env, const char *name, size_t len)
{
    size_t i;
    json_t *e;
    json_array_foreach(env, i, e)
    {
        const char *kv = json_string_value(e);
        if (kv != NULL && strncmp(kv, name, len) == 0 && kv[len] == '=')
            return kv + len + 1;
    }
    return NULL;
}

static int process_word(const char *w, const json_t *env, char **out, mk_err **err);

/* Expand the variable reference after a '$' at w[*i]; advances *i past it. */
static int expand_var(const char *w, size_t *i, const json_t *env, mk_buf *b, mk_err **err)
{
    size_t p = *i;
    if (w[p] == '{') {
        size_t name_start = ++p;
        while (isalnum((unsigned char)w[p]) || w[p] == '_')
            p++;
        size_t name_len = p - name_start;
        if (name_len == 0)
            return mk_err_set(err, MK_ERR_INVALID, "bad substitution in \"%s\"", w);
        const char *val = env_lookup(env, w + name_start, name_len);
        if (w[p] == '}') {
            mk_buf_puts(b, val != NULL ? val : "");
            *i = p + 1;
            return 0;
        }
        if (w[p] != ':' || (w[p + 1] != '-' && w[p + 1] != '+'))
            return mk_err_set(err, MK_ERR_INVALID, "unsupported modifier in substitution \"%s\"",
                              w);
        char mod = w[p + 1];
        p += 2;
        size_t word_start = p;
        int depth = 1;
        for (; w[p] != '\0'; p++) {
            if (w[p] == '{')
                depth++;
            else if (w[p] == '}' && --depth == 0)
                break;
        }
        if (w[p] != '}')
            return mk_err_set(err, MK_ERR_INVALID, "missing '}' in \"%s\"", w);
        bool set = val != NULL && *val != '\0';
        if ((mod == '-' && !set) || (mod == '+' && set)) {
            _cleanup_free_ char *raw = xstrndup(w + word_start, p - word_start);
            _cleanup_free_ char *alt = NULL;
            if (process_word(raw, env, &alt, err) < 0)
                return -1;
            mk_buf_puts(b, alt);
        } else if (mod == '-') {
            mk_buf_puts(b, val);
        }
        *i = p + 1;
        return 0;
    }
    if (isalpha((unsigned char)w[p]) || w[p] == '_') {
        size_t start = p;
        while (isalnum((unsigned char)w[p]) || w[p] == '_')
            p++;
        const char *val = env_lookup(env, w + start, p - start);
        mk_buf_puts(b, val != NULL ? val : "");
        *i = p;
        return 0;
    }
    mk_buf_puts(b, "$");
    return 0;
}

/* Quote removal, escapes and $VAR / ${VAR} / ${VAR:-x} / ${VAR:+x} expansion of
 * one word, without splitting it (docker's ProcessWord). */
static int process_word(const char *w, const json_t *env, char **out, mk_err **err)
{
    mk_buf b = {0};
    mk_buf_puts(&b, "");
    size_t i = 0;
    while (w[i] != '\0') {
        char c = w[i];
        if (c == '\'') {
            const char *end = strchr(w + i + 1, '\'');
            if (end == NULL) {
                mk_buf_free(&b);
                return mk_err_set(err, MK_ERR_INVALID,
                                  "unexpected end of statement while looking for matching "
                                  "single-quote");
            }
            mk_buf_append(&b, w + i + 1, (size_t)(end - (w + i + 1)));
            i = (size_t)(end - w) + 1;
        } else if (c == '"') {
            i++;
            while (w[i] != '\0' && w[i] != '"') {
                if (w[i] == '\\' && w[i + 1] != '\0' && strchr("\"\\$", w[i + 1]) != NULL) {
                    mk_buf_append(&b, w + i + 1, 1);
                    i += 2;
                } else if (w[i] == '$') {
                    i++;
                    if (expand_var(w, &i, env, &b, err) < 0) {
                        mk_buf_free(&b);
                        return -1;
                    }
                } else {
                    mk_buf_append(&b, w + i, 1);
                    i++;
                }
            }
            if (w[i] != '"') {
                mk_buf_free(&b);
                return mk_err_set(err, MK_ERR_INVALID,
                                  "unexpected end of statement while looking for matching "
                                  "double-quote");
            }
            i++;
        } else if (c == '\\') {
            if (w[i + 1] != '\0')
                mk_buf_append(&b, w + i + 1, 1);
            i += w[i + 1] != '\0' ? 2 : 1;
        } else if (c == '$') {
            i++;
            if (expand_var(w, &i, env, &b, err) < 0) {
                mk_buf_free(&b);
                return -1;
            }
        } else {
            mk_buf_append(&b, &c, 1);
            i++;
        }
    }
    *out = mk_buf_steal(&b);
    return 0;
}

static const json_t *state_env(const struct change_state *st)
{
    return json_object_get(st->cfg, "Env");
}

/* "[...]" as a JSON array of strings: 1 and *out; 0 if rest is not JSON; -1 if
 * it is JSON but not all strings (docker refuses that). */
static int parse_json_array(const char *rest, char ***out, mk_err **err)
{
    if (rest[0] != '[')
        return 0;
    _cleanup_json_ json_t *arr = json_loads(rest, 0, NULL);
    if (!json_is_array(arr))
        return 0;
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (!json_is_string(e))
            return mk_err_set(err, MK_ERR_INVALID,
                              "when using JSON array syntax, arrays must be comprised of "
                              "strings only");
    }
    *out = mk_json_strv(arr);
    return 1;
}

/* ---- the instructions ---- */

static int require_args(const char *rest, const char *instr, mk_err **err)
{
    if (*rest == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "%s requires at least one argument", instr);
    return 0;
}

/* CMD, ENTRYPOINT and HEALTHCHECK CMD: exec form or ["/bin/sh","-c",rest]. */
static int command_form(const char *rest, bool *shell, char ***out, mk_err **err)
{
    int r = parse_json_array(rest, out, err);
    if (r < 0)
        return -1;
    *shell = r == 0;
    if (r == 0) {
        char **v = NULL;
        mk_strv_push(&v, "/bin/sh");
        mk_strv_push(&v, "-c");
        mk_strv_push(&v, rest);
        *out = v;
    }
    return 0;
}

static int do_cmd(struct change_state *st, const char *key, const char *instr, const char *rest,
                  mk_err **err)
{
    if (require_args(rest, instr, err) < 0)
        return -1;
    _cleanup_strv_ char **argv = NULL;
    bool shell;
    if (command_form(rest, &shell, &argv, err) < 0)
        return -1;
    json_t *v = json_array();
    for (size_t i = 0; argv[i] != NULL; i++)
        json_array_append_new(v, json_string(argv[i]));
    json_object_set_new(st->cfg, key, v);
    if (strcmp(key, "Cmd") == 0)
        st->cmd_set = true;
    else if (!st->cmd_set)
        /* A new ENTRYPOINT drops an inherited CMD, as in a Dockerfile. */
        json_object_del(st->cfg, "Cmd");
    return 0;
}

/* ENV and LABEL: "k=v k2=v2" or the legacy "k v with spaces".  Calls set for
 * each processed pair. */
static int name_values(struct change_state *st, const char *instr, const char *rest,
                       int (*set)(struct change_state *, const char *, const char *, mk_err **),
                       mk_err **err)
{
    if (require_args(rest, instr, err) < 0)
        return -1;
    _cleanup_strv_ char **words = split_raw_words(rest);
    if (strchr(words[0], '=') == NULL) {
        size_t klen = strcspn(rest, " \t");
        _cleanup_free_ char *rawk = xstrndup(rest, klen);
        _cleanup_free_ char *rawv = trim(rest + klen, strlen(rest + klen));
        if (*rawv == '\0')
            return mk_err_set(err, MK_ERR_INVALID, "%s must have two arguments", instr);
        _cleanup_free_ char *k = NULL;
        _cleanup_free_ char *v = NULL;
        if (process_word(rawk, state_env(st), &k, err) < 0 ||
            process_word(rawv, state_env(st), &v, err) < 0)
            return -1;
        return set(st, k, v, err);
    }
    /* All words are checked before any is applied, and expansion uses the
     * environment from before the instruction, as docker does. */
    _cleanup_json_ json_t *env = json_deep_copy(state_env(st));
    _cleanup_strv_ char **keys = NULL;
    _cleanup_strv_ char **vals = NULL;
    for (size_t i = 0; words[i] != NULL; i++) {
        char *eq = strchr(words[i], '=');
        if (eq == NULL)
            return mk_err_set(err, MK_ERR_INVALID,
                              "Syntax error - can't find = in \"%s\". Must be of the form: "
                              "name=value",
                              words[i]);
        *eq = '\0';
        char *k = NULL, *v = NULL;
        if (process_word(words[i], env, &k, err) < 0)
            return -1;
        mk_strv_push_owned(&keys, k);
        if (process_word(eq + 1, env, &v, err) < 0)
            return -1;
        mk_strv_push_owned(&vals, v);
    }
    for (size_t i = 0; keys[i] != NULL; i++)
        if (set(st, keys[i], vals[i], err) < 0)
            return -1;
    return 0;
}

static int set_env(struct change_state *st, const char *k, const char *v, mk_err **err)
{
    if (*k == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "ENV names can not be blank");
    json_t *env = json_object_get(st->cfg, "Env");
    if (!json_is_array(env)) {
        env = json_array();
        json_object_set_new(st->cfg, "Env", env);
    }
    json_t *kv = json_sprintf("%s=%s", k, v);
    size_t klen = strlen(k), i;
    json_t *e;
    json_array_foreach(env, i, e)
    {
        const char *s = json_string_value(e);
        if (s != NULL && strncmp(s, k, klen) == 0 && (s[klen] == '=' || s[klen] == '\0')) {
            json_array_set_new(env, i, kv);
            return 0;
        }
    }
    json_array_append_new(env, kv);
    return 0;
}

static int set_label(struct change_state *st, const char *k, const char *v, mk_err **err)
{
    if (*k == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "LABEL names can not be blank");
    json_t *labels = json_object_get(st->cfg, "Labels");
    if (!json_is_object(labels)) {
        labels = json_object();
        json_object_set_new(st->cfg, "Labels", labels);
    }
    json_object_set_new(labels, k, json_string(v));
    return 0;
}

static json_t *cfg_object(struct change_state *st, const char *key)
{
    json_t *o = json_object_get(st->cfg, key);
    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(st->cfg, key, o);
    }
    return o;
}

static bool parse_port(const char *s, size_t n, unsigned *out)
{
    if (n == 0 || n > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return v <= 65535;
}

/* "80", "80/udp", "8000-8002/tcp" into ExposedPorts keys. */
static int expose_one(json_t *ports, const char *spec, mk_err **err)
{
    const char *slash = strchr(spec, '/');
    size_t plen = slash != NULL ? (size_t)(slash - spec) : strlen(spec);
    _cleanup_free_ char *proto = xstrdup(slash != NULL ? slash + 1 : "tcp");
    for (char *p = proto; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "sctp") != 0)
        return mk_err_set(err, MK_ERR_INVALID, "invalid proto: %s", proto);
    const char *dash = memchr(spec, '-', plen);
    unsigned lo, hi;
    bool ok = dash != NULL
                  ? parse_port(spec, (size_t)(dash - spec), &lo) &&
                        parse_port(dash + 1, plen - (size_t)(dash - spec) - 1, &hi) && lo <= hi
                  : parse_port(spec, plen, &lo);
    if (!ok)
        return mk_err_set(err, MK_ERR_INVALID, "invalid containerPort: %.*s", (int)plen, spec);
    if (dash == NULL)
        hi = lo;
    for (unsigned p = lo; p <= hi; p++) {
        char key[32];
        snprintf(key, sizeof(key), "%u/%s", p, proto);
        json_object_set_new(ports, key, json_object());
    }
    return 0;
}

static int do_expose(struct change_state *st, const char *rest, mk_err **err)
{
    if (require_args(rest, "EXPOSE", err) < 0)
        return -1;
    _cleanup_strv_ char **words = split_raw_words(rest);
    json_t *ports = cfg_object(st, "ExposedPorts");
    for (size_t i = 0; words[i] != NULL; i++) {
        _cleanup_free_ char *w = NULL;
        if (process_word(words[i], state_env(st), &w, err) < 0 || expose_one(ports, w, err) < 0)
            return -1;
    }
    return 0;
}

static int do_volume(struct change_state *st, const char *rest, mk_err **err)
{
    if (require_args(rest, "VOLUME", err) < 0)
        return -1;
    _cleanup_strv_ char **list = NULL;
    int r = parse_json_array(rest, &list, err);
    if (r < 0)
        return -1;
    if (r == 0) {
        /* Not JSON: whitespace-separated, with no quote handling (docker's parser). */
        list = xcalloc(1, sizeof(char *));
        const char *p = rest;
        while (*p != '\0') {
            while (is_space(*p))
                p++;
            size_t n = 0;
            while (p[n] != '\0' && !is_space(p[n]))
                n++;
            if (n > 0)
                mk_strv_push_owned(&list, xstrndup(p, n));
            p += n;
        }
    }
    json_t *vols = cfg_object(st, "Volumes");
    for (size_t i = 0; list[i] != NULL; i++) {
        _cleanup_free_ char *v = NULL;
        if (process_word(list[i], state_env(st), &v, err) < 0)
            return -1;
        _cleanup_free_ char *t = trim(v, strlen(v));
        if (*t == '\0')
            return mk_err_set(err, MK_ERR_INVALID, "VOLUME specified can not be an empty string");
        json_object_set_new(vols, t, json_object());
    }
    return 0;
}

/* Lexically clean an absolute path: no "", "." or ".." components. */
static char *clean_abs_path(const char *p)
{
    _cleanup_strv_ char **parts = xcalloc(1, sizeof(char *));
    const char *s = p;
    while (*s != '\0') {
        while (*s == '/')
            s++;
        size_t n = strcspn(s, "/");
        if (n == 0)
            break;
        if (n == 1 && s[0] == '.') {
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            size_t len = mk_strv_len(parts);
            if (len > 0) {
                free(parts[len - 1]);
                parts[len - 1] = NULL;
            }
        } else {
            mk_strv_push_owned(&parts, xstrndup(s, n));
        }
        s += n;
    }
    _cleanup_free_ char *joined = mk_strv_join(parts, "/");
    return xasprintf("/%s", joined);
}

static int do_workdir(struct change_state *st, const char *rest, mk_err **err)
{
    if (*rest == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "WORKDIR requires exactly one argument");
    _cleanup_free_ char *w = NULL;
    if (process_word(rest, state_env(st), &w, err) < 0)
        return -1;
    const char *cur = mk_json_str(st->cfg, "WorkingDir");
    _cleanup_free_ char *joined =
        w[0] == '/' ? xstrdup(w) : xasprintf("%s/%s", cur != NULL && *cur ? cur : "/", w);
    _cleanup_free_ char *clean = clean_abs_path(joined);
    json_object_set_new(st->cfg, "WorkingDir", json_string(clean));
    return 0;
}

/* USER and STOPSIGNAL: one processed string. */
static int do_string(struct change_state *st, const char *key, const char *instr, const char *rest,
                     mk_err **err)
{
    if (*rest == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "%s requires exactly one argument", instr);
    _cleanup_free_ char *v = NULL;
    if (process_word(rest, state_env(st), &v, err) < 0)
        return -1;
    json_object_set_new(st->cfg, key, json_string(v));
    return 0;
}

static int do_onbuild(struct change_state *st, const char *rest, mk_err **err)
{
    if (require_args(rest, "ONBUILD", err) < 0)
        return -1;
    size_t n = strcspn(rest, " \t");
    _cleanup_free_ char *trigger = xstrndup(rest, n);
    for (char *p = trigger; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    if (strcmp(trigger, "ONBUILD") == 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    if (strcmp(trigger, "FROM") == 0 || strcmp(trigger, "MAINTAINER") == 0)
        return mk_err_set(err, MK_ERR_INVALID, "%s isn't allowed as an ONBUILD trigger", trigger);
    json_t *ob = json_object_get(st->cfg, "OnBuild");
    if (!json_is_array(ob)) {
        ob = json_array();
        json_object_set_new(st->cfg, "OnBuild", ob);
    }
    json_array_append_new(ob, json_sprintf("%s%s", trigger, rest + n));
    return 0;
}

/* HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D] [--start-interval=D]
 * [--retries=N] CMD ... | NONE */
static int do_healthcheck(struct change_state *st, const char *rest, mk_err **err)
{
    if (require_args(rest, "HEALTHCHECK", err) < 0)
        return -1;
    static const struct {
        const char *flag, *key;
    } durations[] = {{"interval", "Interval"},
                     {"timeout", "Timeout"},
                     {"start-period", "StartPeriod"},
                     {"start-interval", "StartInterval"}};
    _cleanup_json_ json_t *hc = json_object();
    const char *p = rest;
    while (p[0] == '-' && p[1] == '-') {
        size_t n = strcspn(p, " \t");
        _cleanup_free_ char *flag = xstrndup(p + 2, n - 2);
        char *eq = strchr(flag, '=');
        if (eq == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "missing a value on flag: --%s", flag);
        *eq = '\0';
        const char *val = eq + 1;
        bool known = false;
        for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
            if (strcmp(flag, durations[i].flag) != 0)
                continue;
            int64_t ns = 0;
            if (mk_duration_parse(val, &ns, err) < 0)
                return mk_err_wrap(err, "HEALTHCHECK --%s", flag);
            if (ns != 0 && ns < 1000000)
                return mk_err_set(err, MK_ERR_INVALID, "Interval \"%s\" cannot be less than 1ms",
                                  flag);
            if (ns != 0)
                json_object_set_new(hc, durations[i].key, json_integer(ns));
            known = true;
        }
        if (strcmp(flag, "retries") == 0) {
            char *end;
            long r = strtol(val, &end, 10);
            if (*val == '\0' || *end != '\0')
                return mk_err_set(err, MK_ERR_INVALID, "invalid --retries value: %s", val);
            if (r < 0)
                return mk_err_set(err, MK_ERR_INVALID, "--retries cannot be negative (%ld)", r);
            if (r != 0)
                json_object_set_new(hc, "Retries", json_integer(r));
            known = true;
        }
        if (!known)
            return mk_err_set(err, MK_ERR_INVALID, "Unknown flag: %s", flag);
        p += n;
        while (is_space(*p))
            p++;
    }
    size_t tn = strcspn(p, " \t");
    _cleanup_free_ char *type = xstrndup(p, tn);
    for (char *c = type; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    const char *args = p + tn;
    while (is_space(*args))
        args++;
    json_t *test = json_array();
    json_object_set_new(hc, "Test", test);
    if (strcmp(type, "NONE") == 0) {
        if (*args != '\0')
            return mk_err_set(err, MK_ERR_INVALID, "HEALTHCHECK NONE takes no arguments");
        json_array_append_new(test, json_string("NONE"));
    } else if (strcmp(type, "CMD") == 0) {
        if (require_args(args, "HEALTHCHECK CMD", err) < 0)
            return -1;
        _cleanup_strv_ char **argv = NULL;
        int r = parse_json_array(args, &argv, err);
        if (r < 0)
            return -1;
        json_array_append_new(test, json_string(r == 0 ? "CMD-SHELL" : "CMD"));
        if (r == 0) {
            json_array_append_new(test, json_string(args));
        } else {
            for (size_t i = 0; argv[i] != NULL; i++)
                json_array_append_new(test, json_string(argv[i]));
        }
    } else {
        return mk_err_set(err, MK_ERR_INVALID, "Unknown type \"%s\" in HEALTHCHECK (try CMD)",
                          type);
    }
    json_object_set(st->cfg, "Healthcheck", hc);
    return 0;
}

static const char *const valid_commands[] = {"cmd",         "entrypoint", "env",     "expose",
                                             "healthcheck", "label",      "onbuild", "stopsignal",
                                             "user",        "volume",     "workdir", NULL};

static int dispatch(struct change_state *st, const struct change_line *l, mk_err **err)
{
    const char *i = l->instr, *rest = l->rest;
    if (strcmp(i, "cmd") == 0)
        return do_cmd(st, "Cmd", "CMD", rest, err);
    if (strcmp(i, "entrypoint") == 0)
        return do_cmd(st, "Entrypoint", "ENTRYPOINT", rest, err);
    if (strcmp(i, "env") == 0)
        return name_values(st, "ENV", rest, set_env, err);
    if (strcmp(i, "label") == 0)
        return name_values(st, "LABEL", rest, set_label, err);
    if (strcmp(i, "expose") == 0)
        return do_expose(st, rest, err);
    if (strcmp(i, "volume") == 0)
        return do_volume(st, rest, err);
    if (strcmp(i, "workdir") == 0)
        return do_workdir(st, rest, err);
    if (strcmp(i, "user") == 0)
        return do_string(st, "User", "USER", rest, err);
    if (strcmp(i, "stopsignal") == 0)
        return do_string(st, "StopSignal", "STOPSIGNAL", rest, err);
    if (strcmp(i, "onbuild") == 0)
        return do_onbuild(st, rest, err);
    if (strcmp(i, "healthcheck") == 0)
        return do_healthcheck(st, rest, err);
    return mk_err_set(err, MK_ERR_INVALID, "%s is not a valid change command", i);
}

static void lines_free(struct change_line *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].instr);
        free(v[i].rest);
    }
    free(v);
}

/* The changes as Dockerfile lines: joined with newlines, '\' continues a line,
 * '#' starts a comment line, blank lines are skipped. */
static struct change_line *split_lines(char *const *changes, size_t *out_n)
{
    _cleanup_free_ char *text = mk_strv_join(changes, "\n");
    struct change_line *v = NULL;
    size_t n = 0;
    mk_buf cur = {0};
    const char *p = text;
    while (*p != '\0' || cur.len > 0) {
        size_t len = strcspn(p, "\n");
        _cleanup_free_ char *line = trim(p, len);
        p += len;
        if (*p == '\n')
            p++;
        bool more = *p != '\0';
        if (line[0] == '#')
            continue;
        size_t ll = strlen(line);
        if (ll > 0 && line[ll - 1] == '\\' && more) {
            mk_buf_append(&cur, line, ll - 1);
            continue;
        }
        mk_buf_puts(&cur, line);
        _cleanup_free_ char *full = mk_buf_steal(&cur);
        _cleanup_free_ char *t = trim(full, strlen(full));
        if (*t == '\0')
            continue;
        size_t kn = strcspn(t, " \t");
        v = xrealloc(v, (n + 1) * sizeof(*v));
        v[n].instr = xstrndup(t, kn);
        for (char *c = v[n].instr; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        v[n].rest = trim(t + kn, strlen(t + kn));
        n++;
    }
    *out_n = n;
    return v;
}

int mk_image_apply_changes(json_t *config, char *const *changes, mk_err **err)
{
    if (changes == NULL || changes[0] == NULL)
        return 0;
    size_t n = 0;
    struct change_line *lines = split_lines(changes, &n);
    for (size_t i = 0; i < n; i++) {
        if (!mk_strv_contains((char *const *)valid_commands, lines[i].instr)) {
            mk_err_set(err, MK_ERR_INVALID, "%s is not a valid change command", lines[i].instr);
            lines_free(lines, n);
            return -1;
        }
    }
    /* Work on a copy so a failing change leaves the config untouched. */
    _cleanup_json_ json_t *copy = json_deep_copy(config);
    struct change_state st = {.cfg = json_object_get(copy, "config")};
    if (!json_is_object(st.cfg)) {
        st.cfg = json_object();
        json_object_set_new(copy, "config", st.cfg);
    }
    for (size_t i = 0; i < n; i++) {
        if (dispatch(&st, &lines[i], err) < 0) {
            lines_free(lines, n);
            return -1;
        }
    }
    lines_free(lines, n);
    json_object_update(config, copy);
    return 0;
}
