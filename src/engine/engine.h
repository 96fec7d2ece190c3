/* engine.h: the operations behind every front end.
 *
 * cli/ (argv) and, later, api/ (HTTP) call these and nothing below them, so
 * `mocker rm x` and `DELETE /containers/x` are the same code.  Inputs use the
 * Engine API's JSON shapes (the create body is docker's ContainerConfig with a
 * HostConfig inside), so the API can hand its request bodies straight in. */
#ifndef MK_ENGINE_H
#define MK_ENGINE_H

#include "store/store.h"

struct mk_engine {
    struct mk_store *store;
    char *self_exe;  /* re-executed as the monitor */
    char *init_path; /* the static init for --init */
};

int mk_engine_open(struct mk_engine **out, mk_err **err);
void mk_engine_free(struct mk_engine *e);

/* ---- containers (engine/container_*.c) ---- */
/* Create from a docker create body; name may be NULL (a random one is picked).
 * *out_id gets the full id. Warnings (may be NULL) receives an array of strings. */
int mk_container_create(struct mk_engine *e, const char *name, const json_t *body, char **out_id,
                        json_t **warnings, mk_err **err);

/* Start: spawn the monitor and wait until the process runs.  When attach_fd is
 * not NULL, the connection to the monitor is kept and returned there (the CLI
 * relays the container's stdio over it with mk_attach_client); the monitor
 * then treats it as the container's first attached client.  Starting a running
 * container is NOT_MODIFIED. */
int mk_container_start(struct mk_engine *e, const char *ref, int *attach_fd, mk_err **err);
/* Stop: the stop signal, then SIGKILL after timeout seconds (-1: the
 * container's StopTimeout or 10).  A container that is not running is NOT_MODIFIED. */
int mk_container_stop(struct mk_engine *e, const char *ref, int timeout, const char *signal,
                      mk_err **err);
int mk_container_kill(struct mk_engine *e, const char *ref, const char *signal, mk_err **err);
/* Remove; a running container needs force (killed first).  remove_volumes is
 * accepted for -v (anonymous volumes come with the volumes issue). */
int mk_container_remove(struct mk_engine *e, const char *ref, bool force, bool remove_volumes,
                        mk_err **err);
/* Block until the container is not running; *exit_code is its exit code. */
int mk_container_wait(struct mk_engine *e, const char *ref, int *exit_code, mk_err **err);
/* Look up a container, reconciling a state whose monitor died. */
int mk_container_get(struct mk_engine *e, const char *ref, struct mk_container **out,
                     mk_err **err);
int mk_container_list(struct mk_engine *e, struct mk_container ***out, size_t *n, mk_err **err);
/* docker inspect's JSON for a container. */
json_t *mk_container_inspect_json(struct mk_engine *e, const struct mk_container *c);
/* Path of the container's json-file log. */
char *mk_container_log_path(struct mk_engine *e, const struct mk_container *c);
bool mk_container_is_running(const struct mk_container *c);

/* exec: run a process in a running container.  opts is docker's exec create body
 * (Cmd, Env, WorkingDir, User, Tty, AttachStdin, Privileged, Detach).
 * Without a tty, the process gets stdin_fd/stdout_fd/stderr_fd directly; with a
 * tty, *pty_master receives the pty.  *pid is our child to wait for. */
int mk_container_exec(struct mk_engine *e, const char *ref, const json_t *opts, int stdin_fd,
                      int stdout_fd, int stderr_fd, int *pty_master, pid_t *pid, mk_err **err);

/* The monitor process's entry point (`mocker __monitor ID`, fd 3 = first client). */
int mk_engine_monitor_main(const char *id, int client_fd, mk_err **err);

/* ---- restart policies (engine/restart.c, engine/boot.c) ---- */
/* docker's --restart value ("no", "always", "on-failure:3"...) as a
 * RestartPolicy object {Name, MaximumRetryCount}; INVALID when the count is not
 * a number.  The name is checked by mk_restart_policy_validate. */
int mk_restart_policy_parse(const char *s, json_t **out, mk_err **err);
/* HostConfig.RestartPolicy (and its clash with AutoRemove), as dockerd checks it. */
int mk_restart_policy_validate(const json_t *host_config, mk_err **err);
/* What a container's monitor keeps between exits. */
struct mk_restart_state {
    int64_t delay_ns; /* the last back-off, 0 before the first */
    int restarts;     /* restarts since the container was started by hand */
};
/* After an exit: the delay (ns) before starting again, or -1 to stay stopped. */
int64_t mk_restart_decide(const json_t *host_config, struct mk_restart_state *st, int exit_code,
                          int64_t ran_ns);
/* Whether a container that was running when the host went down comes back. */
bool mk_restart_on_boot(const json_t *host_config);
/* The first command after a boot starts what the policies bring back: one
 * stat when there is nothing to do.  mk_engine_open calls it. */
int mk_engine_boot_check(struct mk_engine *e, mk_err **err);
/* Unconditionally: reconcile containers whose monitors died with the host and
 * start the ones whose policy says so (`mocker __boot`, the systemd unit). */
int mk_engine_boot(struct mk_engine *e, mk_err **err);
/* docker restart: stop (timeout/signal as mk_container_stop) if running, then start. */
int mk_container_restart(struct mk_engine *e, const char *ref, int timeout, const char *signal,
                         mk_err **err);

/* Names and signals. */
char *mk_container_random_name(void);
/* "SIGTERM", "TERM", "15" -> 15; INVALID for others. */
int mk_signal_parse(const char *s, int *out, mk_err **err);

#endif
