/* monitor.h: the per-container monitor (conmon's job, built in) and the attach
 * protocol spoken between it and its clients.
 *
 * The monitor is `mocker` re-executed in monitor mode (or, for `run`, forked
 * from the CLI before it opens its store), detached (setsid, its own stdio)
 * so the container outlives the CLI.  It starts the container through
 * the runtime, holds its stdio or pty, writes docker's json-file log, serves
 * attach clients on <rundir>/attach.sock, and reports the exit through hooks the
 * engine provides (state in the store, --rm). */
#ifndef MK_MONITOR_H
#define MK_MONITOR_H

#include "util/util.h"

/* ---- attach protocol ----
 * Frames use docker's multiplexed-stream header, so the API server can pass
 * stdout/stderr frames through unchanged: 8 bytes [type, 0, 0, 0, len (u32 BE)]
 * then len bytes.  Types 0-2 are docker's; the rest are mocker's control frames. */
enum mk_frame_type {
    MK_FRAME_STDIN = 0,       /* client -> monitor: data for the container's stdin */
    MK_FRAME_STDOUT = 1,      /* monitor -> client (with a tty, all output is STDOUT) */
    MK_FRAME_STDERR = 2,      /* monitor -> client */
    MK_FRAME_RESIZE = 3,      /* client -> monitor: payload "ROWS COLS" (decimal text) */
    MK_FRAME_CLOSE_STDIN = 4, /* client -> monitor: the client's stdin reached EOF */
    MK_FRAME_STARTED = 5,     /* monitor -> client: container runs; payload pid (text) */
    MK_FRAME_ERROR = 6,       /* monitor -> client: start failed; payload "CODE message" */
    MK_FRAME_EXIT = 7,        /* monitor -> client: container exited; payload code (text) */
    /* client -> monitor: stopped on purpose (stop, kill, rm -f), so the restart
     * policy must not bring it back; payload the signal to send the init
     * (decimal text, "0" for none), then " keep" for `restart` (a --rm
     * container is kept).  Ends a restart back-off at once. */
    MK_FRAME_STOP = 8,
    /* client -> monitor forked ahead of time (mk_engine_monitor_fork): start
     * the container it created (payload: its id). */
    MK_FRAME_START = 9,
    /* client -> monitor: the running container was connected to a network
     * (docker network connect); it may need the embedded DNS server now.  The
     * monitor answers with the same frame once it has done what it needed. */
    MK_FRAME_NET_CHANGED = 10,
    /* client -> monitor forked ahead of time: create the container; payload
     * JSON {"Name", "Platform", "Config" (docker's create body), "Attach"}. */
    MK_FRAME_CREATE = 11,
    /* monitor -> client: payload JSON {"Id", "Warnings"}, or {"Error", "Kind"
     * (enum mk_err_kind), "Code" (the CLI's exit code)} when it failed. */
    MK_FRAME_CREATED = 12,
    MK_FRAME_LAST = MK_FRAME_CREATED, /* the highest type a header may carry */
};
#define MK_FRAME_MAX (1u << 20)
int mk_frame_write(int fd, enum mk_frame_type type, const void *data, size_t len);
/* Blocking read of one frame; returns 1 on a frame, 0 on clean EOF, -1 on error.
 * *data is NUL-terminated and owned by the caller. */
int mk_frame_read(int fd, enum mk_frame_type *type, char **data, size_t *len);
/* The 8-byte header alone, for callers that queue frames in their own buffers. */
#define MK_FRAME_HEADER_LEN 8
void mk_frame_header(uint8_t hdr[MK_FRAME_HEADER_LEN], enum mk_frame_type type, uint32_t len);
/* -1 (errno EPROTO) if hdr is not a frame header of ours or len exceeds MK_FRAME_MAX. */
int mk_frame_header_parse(const uint8_t hdr[MK_FRAME_HEADER_LEN], enum mk_frame_type *type,
                          uint32_t *len);
/* Incremental decoding for non-blocking sockets: fill from the fd, then take
 * whole frames.  Zero-initialise; free with mk_frame_reader_free. */
struct mk_frame_reader {
    mk_buf buf;
    size_t off; /* start of the first undecoded byte in buf */
};
/* One read(2) into r: bytes read, 0 at EOF, -1 with errno (EAGAIN: nothing yet). */
ssize_t mk_frame_reader_fill(struct mk_frame_reader *r, int fd);
/* 1 with the next whole frame (*data points into r, valid until the next fill,
 * not NUL-terminated), 0 if none is complete, -1 (errno EPROTO) on a corrupt stream. */
int mk_frame_reader_next(struct mk_frame_reader *r, enum mk_frame_type *type, const char **data,
                         size_t *len);
void mk_frame_reader_free(struct mk_frame_reader *r);

/* ---- the monitor ---- */

/* Tell a client that the start failed: an ERROR frame "CODE message". */
void mk_monitor_send_error(int client_fd, const mk_err *err);

/* A healthcheck as the monitor runs it: argv is exec'd in the container with
 * the init's user, env and cwd, every interval after the previous probe ended
 * (the first one interval after the start), and killed after timeout. */
struct mk_health_probe {
    char **argv;
    int64_t interval_ns, timeout_ns, start_period_ns, start_interval_ns;
};
/* One probe's result, docker's HealthcheckResult: exit code -1 when it could
 * not run or timed out; output is stdout and stderr together, cut at 4096
 * bytes with "..." appended. */
struct mk_health_result {
    int64_t start_ns, end_ns; /* realtime */
    int exit_code;
    const char *output;
};
#define MK_HEALTH_OUTPUT_MAX 4096

struct mk_monitor_hooks {
    void *ctx;
    /* The container's init sets itself up (mocker's runtime only): what must
     * be ready when it runs, done meanwhile.  May be NULL. */
    void (*starting)(void *ctx);
    /* Before that (mocker's runtime only), with the init in its cgroup: what
     * its process must find in place when it runs; the init waits for it
     * before its execve, and the start fails when it does.  May be NULL. */
    int (*before_exec)(void *ctx, mk_err **err);
    /* The container's process runs (pid in the host namespace). */
    void (*started)(void *ctx, pid_t pid);
    /* Start failed: the error (with exit_code) is also sent to the client. */
    void (*start_failed)(void *ctx, const mk_err *err);
    /* The init exited; wait_status as from waitpid, oom from the cgroup.
     * Returns the exit code to report to clients (docker's 128+signal rule). */
    int (*exited)(void *ctx, int wait_status, bool oom_killed);
    /* Last step before the monitor exits (--rm removes the container here). */
    void (*finished)(void *ctx);
    /* A STOP frame said " keep" (`restart`): a --rm container is not removed
     * at this exit.  May be NULL. */
    void (*keep)(void *ctx);
    /* Healthchecks (params.health set): a probe is due.  True skips it (the
     * container is paused: docker stops probing, the hook records why). */
    bool (*health_paused)(void *ctx);
    /* A probe ended.  Returns true while the health status is still "starting"
     * (the next probe then comes after start_interval_ns, within the start period). */
    bool (*health_result)(void *ctx, const struct mk_health_result *r);
    /* Restart policy, asked before exited() unless a STOP frame came: the
     * delay in ns before the container is started again, or -1.  ran_ns: how
     * long this run lasted.  NULL: never restart. */
    int64_t (*restart_delay)(void *ctx, int wait_status, int64_t ran_ns);
    /* A STOP frame ended the back-off: the container stays stopped. */
    void (*restart_cancelled)(void *ctx);
};

struct mk_monitor_params {
    const char *id;
    const char *rundir;  /* attach.sock is created here */
    const char *bundle;  /* holds config.json */
    const json_t *spec;  /* parsed config.json */
    const char *runtime; /* NULL: built-in; else the external runtime's path */
    const char *runtime_root;
    bool tty;
    bool open_stdin; /* -i */
    bool stdin_once; /* close the container's stdin when the first attached client detaches */
    const char *log_driver; /* "json-file" or "none" */
    const char *log_path;
    int64_t log_max_size; /* bytes, 0 = unlimited */
    int log_max_file;     /* >= 1 */
    int client_fd;        /* an already-connected attach client (the CLI that started us), or -1 */
    const struct mk_health_probe *health; /* NULL: no healthcheck */
    /* Another event source the loop serves (the embedded DNS server of a
     * container on a user-defined network), when source_process is set:
     * source_fd is watched for EPOLLIN, and source_process called when it is
     * readable or when source_timeout_ms (-1: no timeout) has passed. */
    int source_fd; /* -1 until the source exists (see net_changed) */
    int (*source_timeout_ms)(void *ctx);
    void (*source_process)(void *ctx);
    void *source_ctx;
    /* On MK_FRAME_NET_CHANGED (may be NULL): the source's fd when the change
     * just created it, else -1; the loop then watches it. */
    int (*net_changed)(void *ctx);
    /* The container's rootfs is unmounted after its exit is reported instead
     * of before hooks.exited (it then sees the rootfs still mounted
     * somewhere): for --rm, whose exit hook removes everything else. */
    bool unmount_late;
    /* The first start's rootfs, being mounted ahead (mk_runtime_rootfs_begin),
     * or NULL; the caller ends it after mk_monitor_main. */
    struct mk_rootfs_job *rootfs;
    struct mk_monitor_hooks hooks;
};

/* Run the container to its end, starting it again as long as
 * hooks.restart_delay says so (clients see EXIT at every exit and are then
 * closed; new ones may attach during the back-off).  Returns 0 after the
 * container exited for good and the hooks ran, -1 if it could not be started
 * (hooks.start_failed was called).
 * client_fd stays the caller's (the monitor uses a dup and shuts it down at the
 * end).  The process becomes a child subreaper; SIGTERM, SIGINT, SIGHUP, SIGQUIT
 * and SIGPIPE are swallowed (by a handler while the runtime starts the
 * container, so it inherits none of this; blocked and read from a signalfd
 * after), and stay so on return.  The caller starts it with every other
 * signal at its default and none blocked (mk_signals_default): the container
 * inherits what is ignored.  Clients receive EXIT, then EOF once
 * hooks.finished returned (so `run --rm` can wait for the removal). */
int mk_monitor_main(const struct mk_monitor_params *p, mk_err **err);

/* ---- json-file logs ---- */
struct mk_log_writer;
int mk_log_writer_open(const char *path, int64_t max_size, int max_file, struct mk_log_writer **out,
                       mk_err **err);
/* One line per call (data may hold several lines or a partial one: docker
 * splits on '\n' and keeps the newline in "log"). stream: "stdout"/"stderr". */
int mk_log_writer_write(struct mk_log_writer *w, const char *stream, const char *data, size_t len,
                        mk_err **err);
/* Write out a partial line left in stream's buffer (the stream reached EOF). */
int mk_log_writer_flush(struct mk_log_writer *w, const char *stream, mk_err **err);
/* Flushes partial lines (errors ignored) and closes the file. */
void mk_log_writer_free(struct mk_log_writer *w);

struct mk_log_read_opts {
    int64_t tail;  /* -1: all */
    int64_t since; /* ns, 0: none */
    int64_t until; /* ns, 0: none */
    bool follow;
    /* With follow: returns true while the writer may still write (container runs). */
    bool (*still_running)(void *ctx);
    void *ctx;
};
/* Call fn for each entry (across rotated files, oldest first). fn returns <0 to
 * stop (mk_log_read then returns 0).  Entries after `until` end the read, as in
 * docker.  A missing log file is an empty log. */
int mk_log_read(const char *path, const struct mk_log_read_opts *opts,
                int (*fn)(void *ctx, const char *stream, int64_t time_ns, const char *data,
                          size_t len),
                void *fn_ctx, mk_err **err);

/* ---- the client side of attach (the CLI) ---- */
struct mk_attach_opts {
    bool stdin_;             /* forward our stdin */
    bool tty;                /* put our terminal in raw mode, forward resizes */
    const char *detach_keys; /* docker's format, "ctrl-p,ctrl-q" by default */
    bool sig_proxy;          /* forward SIGINT/SIGTERM... to the container (non-tty) */
    pid_t container_pid;     /* for sig_proxy */
    bool drop_stdout, drop_stderr; /* run -a: streams not asked for are not shown */
};
/* docker's detach keys ("ctrl-p,ctrl-q", "a", "ctrl-\\"...) as bytes; NULL or ""
 * gives the default.  INVALID "Invalid detach keys (X) provided" otherwise. */
#define MK_DETACH_KEYS_MAX 16
int mk_detach_keys_parse(const char *s, uint8_t out[MK_DETACH_KEYS_MAX], size_t *n, mk_err **err);

/* Relay between our stdio and an attach connection until EXIT (then *exit_code
 * is the container's) or a detach (then *detached is set).  After EXIT it waits
 * for the monitor to close the connection (hooks.finished ran: --rm is done).
 * Detach keys only apply with a tty and stdin, as in docker; docker's `run` then
 * prints nothing, its `attach` prints "read escape sequence" (the caller's job). */
int mk_attach_client(int fd, const struct mk_attach_opts *o, int *exit_code, bool *detached,
                     mk_err **err);

#endif
