/* cli.h: the command-line front end.  One cmd_<verb>.c per docker command;
 * each parses argv with mk_args_parse and calls the engine, nothing lower. */
#ifndef MK_CLI_H
#define MK_CLI_H

#include "engine/engine.h"

/* ---- flags, as docker's (pflag) parser takes them ----
 * --name=value, --name value, -n value, -nvalue, combined short booleans (-it),
 * --flag=false for booleans, "--" ends flags. */
enum mk_opt_kind {
    MK_OPT_BOOL,   /* bool *dest */
    MK_OPT_STRING, /* char **dest (last one wins) */
    MK_OPT_LIST,   /* char ***dest (repeatable) */
    MK_OPT_INT,    /* long *dest */
    /* Known docker flags that mocker does not do yet: taking one fails with exit
     * 125 and `help` as the reason, never silently. */
    MK_OPT_REFUSED_VALUE,
    MK_OPT_REFUSED_BOOL,
};
struct mk_opt {
    const char *name;
    char short_name;
    enum mk_opt_kind kind;
    void *dest;
    const char *help; /* for REFUSED kinds: why it is refused */
    bool *seen;       /* optional: set when the flag was given */
};
struct mk_cmd {
    const char *name;
    const char *usage;   /* "docker run [OPTIONS] IMAGE [COMMAND] [ARG...]" without the program */
    const char *summary;
    bool interspersed;   /* false: flags end at the first positional (run, exec) */
};
/* Returns 0 with positional args in *rest, 1 if help was printed, -1 on a bad flag. */
int mk_args_parse(const struct mk_cmd *cmd, int argc, char **argv, const struct mk_opt *opts,
                  char ***rest, mk_err **err);
/* docker's flag error output: "unknown flag: --x\nSee 'mocker run --help'." exit 125. */
int mk_cli_usage_error(const struct mk_cmd *cmd, mk_err *err);
/* Print an engine error as docker does and return the exit status to use. */
int mk_cli_fail(const char *prefix, mk_err *err, int status);
int mk_cli_check_args(const struct mk_cmd *cmd, char **rest, size_t min, size_t max);
/* The start of every command: parse argv and check that it has min..max
 * positional arguments ((size_t)-1: no maximum).  -1: go on with *rest;
 * otherwise the exit status to end with (0 after --help, 125 for a bad flag,
 * 1 for a wrong count, as docker). */
int mk_cli_args(const struct mk_cmd *cmd, int argc, char **argv, const struct mk_opt *opts,
                size_t min, size_t max, char ***rest);

/* --filter values must be name=value, as the docker CLI's flag checks them:
 * 0 if all are, else docker's usage error (exit 125) naming flag ("-f, --filter"). */
int mk_cli_check_filters(const struct mk_cmd *cmd, const char *flag, char *const *filters);

/* docker's prompt: the warning, "Are you sure you want to continue? [y/N] ",
 * and true only for y or Y. */
bool mk_cli_confirm(const char *warning);

/* Parse flags, then run op on each CONTAINER argument, printing each failure
 * (NOT_MODIFIED is no failure) and, with print_name, each argument done. */
int mk_cli_each_container(const struct mk_cmd *cmd, int argc, char **argv, struct mk_opt *opts,
                          int (*op)(struct mk_engine *, const char *, void *, mk_err **),
                          void *ctx, bool print_name);

/* The loop of mk_cli_each_container, for commands that parse their own flags. */
int mk_cli_for_each(char **refs, int (*op)(struct mk_engine *, const char *, void *, mk_err **),
                    void *ctx, bool print_name);

/* -o FILE for export and save: fn writes to a temp file beside FILE, which is
 * renamed to FILE when it succeeded (docker's CopyToFile: a failure never
 * leaves a truncated FILE; FILE gets the temp file's mode 0600). */
int mk_cli_write_output(const char *path, int (*fn)(int fd, void *ctx, mk_err **err), void *ctx,
                        mk_err **err);

/* A --mount value (docker's CSV of key=value) as a HostConfig.Mounts entry. */
int mk_cli_mount_parse(const char *value, json_t **out, mk_err **err);

/* volume/network inspect: get(ref) for each ref (NULL and *err when not
 * found), printed as docker prints them with fmt (NULL: indented JSON). */
int mk_cli_inspect_each(char **refs, const char *fmt,
                        json_t *(*get)(struct mk_engine *e, const char *ref, mk_err **err));

/* "k=v" into obj; a bare "k" is "k" = "" (docker's opts.ConvertKVStringsToMap). */
void mk_cli_kv_set(json_t *obj, const char *kv);

/* Opening the engine once per command. */
struct mk_engine *mk_cli_engine(void);

/* commands: argv[0] is the command name */
int cmd_run(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_restart(int argc, char **argv);
int cmd_boot(void);
int cmd_rm(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_container_inspect(int argc, char **argv);
int cmd_image_inspect(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_commit(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_update(int argc, char **argv);
int cmd_cp(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_port(int argc, char **argv);
int cmd_container_prune(int argc, char **argv);
int cmd_image_prune(int argc, char **argv);
int cmd_volume_create(int argc, char **argv);
int cmd_volume_inspect(int argc, char **argv);
int cmd_volume_ls(int argc, char **argv);
int cmd_volume_rm(int argc, char **argv);
int cmd_volume_prune(int argc, char **argv);
int cmd_network_create(int argc, char **argv);
int cmd_network_inspect(int argc, char **argv);
int cmd_network_ls(int argc, char **argv);
int cmd_network_rm(int argc, char **argv);
int cmd_network_prune(int argc, char **argv);
int cmd_network_connect(int argc, char **argv);
int cmd_network_disconnect(int argc, char **argv);
int cmd_network_ensure(int argc, char **argv);
int cmd_network_reconcile(int argc, char **argv);
int cmd_network_teardown(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_save(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_system_df(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);

/* shared by ps and inspect: ps's "Up 3 minutes" / "Exited (0) 2 seconds ago" */
char *mk_cli_status_text(const struct mk_container *c, const char *health, int64_t now);

#endif
