/* cmd_container.c: docker rename, docker port and docker container prune. */
#include "cli/cli.h"

#include <errno.h>
#include <string.h>

int cmd_rename(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"rename", "rename CONTAINER NEW_NAME", "Rename a container", true};
    struct mk_opt opts[] = {{NULL, 0, 0, NULL, NULL, NULL}};
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 2, 2, &rest);
    if (r >= 0)
        return r;
    if (*rest[0] == '\0' || *rest[1] == '\0') {
        fprintf(stderr, "Error: Neither old nor new names may be empty\n");
        return 1;
    }
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    int status = 0;
    if (mk_container_rename(e, rest[0], rest[1], &err) < 0) {
        /* docker's daemon words the name checks as an allocation failure. */
        if (err->kind == MK_ERR_CONFLICT ||
            (err->kind == MK_ERR_INVALID && mk_str_has_prefix(err->msg, "Invalid container name")))
            mk_err_wrap(&err, "Error when allocating new name");
        mk_cli_fail(NULL, err, 1);
        fprintf(stderr, "Error: failed to rename container named %s\n", rest[0]);
        status = 1;
    }
    mk_engine_free(e);
    return status;
}

/* PRIVATE_PORT[/PROTO]: docker checks the number before it looks for a mapping. */
static int check_port_arg(const char *arg)
{
    _cleanup_free_ char *port = xstrdup(arg);
    char *slash = strchr(port, '/');
    if (slash != NULL)
        *slash = '\0';
    char *end;
    errno = 0;
    unsigned long v = strtoul(port, &end, 10);
    if (*port == '\0' || *end != '\0' || port[0] == '-' || errno != 0 || v > 65535) {
        fprintf(stderr, "Error: invalid port (%s): strconv.ParseUint: parsing \"%s\": %s\n", port,
                port, errno == ERANGE || (*end == '\0' && *port) ? "value out of range" : "invalid syntax");
        return -1;
    }
    return 0;
}

int cmd_port(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"port", "port CONTAINER [PRIVATE_PORT[/PROTO]]",
                                      "List port mappings or a specific mapping for the container", true};
    struct mk_opt opts[] = {{NULL, 0, 0, NULL, NULL, NULL}};
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, 2, &rest);
    if (r >= 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    int status = 0;
    _cleanup_strv_ char **lines = NULL;
    if (rest[1] != NULL && check_port_arg(rest[1]) < 0) {
        status = 1;
    } else if (mk_container_port_lines(e, rest[0], rest[1], &lines, &err) < 0) {
        /* docker prints the missing mapping as a CLI error, the rest as the daemon's. */
        if (err->kind == MK_ERR_NOT_FOUND && rest[1] != NULL &&
            mk_str_has_prefix(err->msg, "No public port")) {
            fprintf(stderr, "Error: %s\n", err->msg);
            mk_err_free(err);
            status = 1;
        } else {
            status = mk_cli_fail(NULL, err, 1);
        }
    } else {
        for (size_t i = 0; lines[i] != NULL; i++)
            printf("%s\n", lines[i]);
    }
    mk_engine_free(e);
    return status;
}

int cmd_container_prune(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"prune", "container prune [OPTIONS]", "Remove all stopped containers", true};
    bool force = false;
    _cleanup_strv_ char **filters = NULL;
    struct mk_opt opts[] = {
        {"force", 'f', MK_OPT_BOOL, &force, "Do not prompt for confirmation", NULL},
        {"filter", 0, MK_OPT_LIST, &filters, "Provide filter values (e.g. \"until=<timestamp>\")", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    if (r >= 0)
        return r;
    struct mk_prune_filter f;
    if (mk_prune_filter_parse(&f, filters, &err) < 0) {
        mk_prune_filter_clear(&f);
        return mk_cli_fail(NULL, err, 1);
    }
    if (!force && !mk_cli_confirm("WARNING! This will remove all stopped containers.")) {
        mk_prune_filter_clear(&f);
        return 0;
    }
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL) {
        mk_prune_filter_clear(&f);
        return 1;
    }
    _cleanup_strv_ char **ids = NULL;
    int64_t reclaimed = 0;
    int status = 0;
    r = mk_container_prune(e, &f, &ids, &reclaimed, &err);
    mk_prune_filter_clear(&f);
    if (ids != NULL && ids[0] != NULL) {
        printf("Deleted Containers:\n");
        for (size_t i = 0; ids[i]; i++)
            printf("%s\n", ids[i]);
        printf("\n");
    }
    if (r < 0) {
        status = mk_cli_fail(NULL, err, 1);
    } else {
        _cleanup_free_ char *size = mk_human_size(reclaimed);
        printf("Total reclaimed space: %s\n", size);
    }
    mk_engine_free(e);
    return status;
}
