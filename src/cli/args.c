/* args.c: docker-compatible flag parsing and error output. */
#include "cli/cli.h"

#include <errno.h>
#include <string.h>

static const struct mk_opt *find_long(const struct mk_opt *opts, const char *name, size_t len)
{
    for (; opts->name != NULL; opts++)
        if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0)
            return opts;
    return NULL;
}

static const struct mk_opt *find_short(const struct mk_opt *opts, char c)
{
    for (; opts->name != NULL; opts++)
        if (opts->short_name == c)
            return opts;
    return NULL;
}

static bool takes_value(const struct mk_opt *o)
{
    return o->kind != MK_OPT_BOOL && o->kind != MK_OPT_REFUSED_BOOL;
}

static int parse_bool(const char *v, bool *out)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "t") == 0 ||
        strcmp(v, "TRUE") == 0 || strcmp(v, "True") == 0) {
        *out = true;
        return 0;
    }
    if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "f") == 0 ||
        strcmp(v, "FALSE") == 0 || strcmp(v, "False") == 0) {
        *out = false;
        return 0;
    }
    return -1;
}

static int apply(const struct mk_opt *o, const char *shown, const char *value, mk_err **err)
{
    if (o->seen != NULL)
        *o->seen = true;
    switch (o->kind) {
    case MK_OPT_BOOL: {
        bool b = true;
        if (value != NULL && parse_bool(value, &b) < 0)
            return mk_err_set(err, MK_ERR_INVALID,
                              "invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: parsing "
                              "\"%s\": invalid syntax",
                              value, shown, value);
        *(bool *)o->dest = b;
        return 0;
    }
    case MK_OPT_STRING:
        free(*(char **)o->dest);
        *(char **)o->dest = xstrdup(value);
        return 0;
    case MK_OPT_LIST:
        mk_strv_push((char ***)o->dest, value);
        return 0;
    case MK_OPT_INT: {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (*value == '\0' || *end != '\0' || errno != 0)
            return mk_err_set(err, MK_ERR_INVALID,
                              "invalid argument \"%s\" for \"%s\" flag: strconv.ParseInt: parsing "
                              "\"%s\": invalid syntax",
                              value, shown, value);
        *(long *)o->dest = v;
        return 0;
    }
    case MK_OPT_REFUSED_VALUE:
    case MK_OPT_REFUSED_BOOL:
    default:
        return mk_err_set(err, MK_ERR_UNSUPPORTED, "%s is not supported by mocker yet%s%s", shown,
                          o->help ? ": " : "", o->help ? o->help : "");
    }
}

static void print_help(const struct mk_cmd *cmd, const struct mk_opt *opts)
{
    printf("\nUsage:  mocker %s\n\n%s\n", cmd->usage, cmd->summary);
    if (opts->name == NULL)
        return;
    printf("\nOptions:\n");
    for (const struct mk_opt *o = opts; o->name != NULL; o++) {
        if (o->kind == MK_OPT_REFUSED_BOOL || o->kind == MK_OPT_REFUSED_VALUE)
            continue;
        char left[64];
        const char *type = o->kind == MK_OPT_BOOL    ? ""
                           : o->kind == MK_OPT_LIST  ? " list"
                           : o->kind == MK_OPT_INT   ? " int"
                                                     : " string";
        if (o->short_name)
            snprintf(left, sizeof(left), "  -%c, --%s%s", o->short_name, o->name, type);
        else
            snprintf(left, sizeof(left), "      --%s%s", o->name, type);
        printf("%-34s %s\n", left, o->help ? o->help : "");
    }
}

int mk_args_parse(const struct mk_cmd *cmd, int argc, char **argv, const struct mk_opt *opts,
                  char ***rest, mk_err **err)
{
    char **pos = xcalloc(1, sizeof(char *));
    bool flags_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (flags_done || a[0] != '-' || a[1] == '\0') {
            mk_strv_push(&pos, a);
            if (!cmd->interspersed)
                flags_done = true;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            /* docker run's -h is --hostname; only --help is universal there. */
            if (strcmp(a, "-h") != 0 || find_short(opts, 'h') == NULL) {
                print_help(cmd, opts);
                mk_strv_free(pos);
                return 1;
            }
        }
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const struct mk_opt *o = find_long(opts, name, len);
            _cleanup_free_ char *shown = xasprintf("--%.*s", (int)len, name);
            if (o == NULL) {
                mk_strv_free(pos);
                return mk_err_set(err, MK_ERR_INVALID, "unknown flag: %s", shown);
            }
            const char *value = eq ? eq + 1 : NULL;
            if (takes_value(o) && value == NULL) {
                if (i + 1 >= argc) {
                    mk_strv_free(pos);
                    return mk_err_set(err, MK_ERR_INVALID, "flag needs an argument: %s", shown);
                }
                value = argv[++i];
            }
            if (apply(o, shown, value, err) < 0) {
                mk_strv_free(pos);
                return -1;
            }
            continue;
        }
        /* a run of short flags: -it, -e K=V, -eK=V */
        for (const char *p = a + 1; *p; p++) {
            const struct mk_opt *o = find_short(opts, *p);
            char shown[8];
            snprintf(shown, sizeof(shown), "-%c", *p);
            if (o == NULL) {
                mk_strv_free(pos);
                return mk_err_set(err, MK_ERR_INVALID, "unknown shorthand flag: '%c' in %s", *p, a);
            }
            if (!takes_value(o)) {
                const char *value = NULL;
                if (p[1] == '=') {
                    value = p + 2;
                    p += strlen(p) - 1;
                }
                if (apply(o, shown, value, err) < 0) {
                    mk_strv_free(pos);
                    return -1;
                }
                continue;
            }
            const char *value = p[1] ? p + 1 : NULL;
            if (value != NULL && *value == '=')
                value++;
            if (value == NULL) {
                if (i + 1 >= argc) {
                    mk_strv_free(pos);
                    return mk_err_set(err, MK_ERR_INVALID, "flag needs an argument: '%c' in %s",
                                      *p, a);
                }
                value = argv[++i];
            }
            if (apply(o, shown, value, err) < 0) {
                mk_strv_free(pos);
                return -1;
            }
            break;
        }
    }
    *rest = pos;
    return 0;
}

int mk_cli_usage_error(const struct mk_cmd *cmd, mk_err *err)
{
    fprintf(stderr, "%s%s\n\nUsage:  mocker %s\n\nRun 'mocker %s --help' for more information\n",
            err->kind == MK_ERR_UNSUPPORTED ? "mocker: " : "", err->msg, cmd->usage, cmd->name);
    mk_err_free(err);
    return 125;
}

int mk_cli_fail(const char *prefix, mk_err *err, int status)
{
    if (err->kind == MK_ERR_UNSUPPORTED)
        fprintf(stderr, "%smocker: %s\n", prefix ? prefix : "", err->msg);
    else
        fprintf(stderr, "%sError response from daemon: %s\n", prefix ? prefix : "", err->msg);
    mk_err_free(err);
    return status;
}

int mk_cli_check_filters(const struct mk_cmd *cmd, const char *flag, char *const *filters)
{
    for (size_t i = 0; filters != NULL && filters[i] != NULL; i++) {
        if (strchr(filters[i], '=') != NULL)
            continue;
        mk_err *err = NULL;
        mk_err_set(&err, MK_ERR_INVALID,
                   "invalid argument \"%s\" for \"%s\" flag: bad format of filter "
                   "(expected name=value)",
                   filters[i], flag);
        return mk_cli_usage_error(cmd, err);
    }
    return 0;
}

int mk_cli_check_args(const struct mk_cmd *cmd, char **rest, size_t min, size_t max)
{
    size_t n = mk_strv_len(rest);
    if (n >= min && n <= max)
        return 0;
    /* docker 28's cobra validators: only RequiresMinArgs says "See". */
    char what[96];
    const char *lead = "Run";
    if (max == 0) {
        snprintf(what, sizeof(what), "accepts no arguments");
    } else if (max == (size_t)-1) {
        snprintf(what, sizeof(what), "requires at least %zu argument%s", min, min == 1 ? "" : "s");
        lead = "See";
    } else if (min == 0) {
        snprintf(what, sizeof(what), "requires at most %zu argument%s", max, max == 1 ? "" : "s");
    } else if (min == max) {
        snprintf(what, sizeof(what), "requires %zu argument%s", min, min == 1 ? "" : "s");
    } else {
        snprintf(what, sizeof(what), "requires at least %zu and at most %zu arguments", min, max);
    }
    fprintf(stderr, "mocker: 'mocker %s' %s\n\nUsage:  mocker %s\n\n%s 'mocker %s --help' for more information\n",
            cmd->name, what, cmd->usage, lead, cmd->name);
    return 1;
}

int mk_cli_args(const struct mk_cmd *cmd, int argc, char **argv, const struct mk_opt *opts,
                size_t min, size_t max, char ***rest)
{
    mk_err *err = NULL;
    int r = mk_args_parse(cmd, argc, argv, opts, rest, &err);
    if (r != 0)
        return r > 0 ? 0 : mk_cli_usage_error(cmd, err);
    if (mk_cli_check_args(cmd, *rest, min, max) != 0)
        return 1;
    return -1;
}

/* docker's prompt: anything but y/Y (after trimming) is a no. */
bool mk_cli_confirm(const char *warning)
{
    printf("%s\nAre you sure you want to continue? [y/N] ", warning);
    fflush(stdout);
    char line[64];
    if (fgets(line, sizeof(line), stdin) == NULL)
        return false;
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    return (p[0] == 'y' || p[0] == 'Y') && (p[1] == '\n' || p[1] == '\0' || p[1] == ' ' || p[1] == '\r');
}
