/* trace.c: phase timestamps for measuring the start path.
 *
 * MOCKER_TRACE=FILE appends "PID LABEL MICROSECONDS" lines (CLOCK_MONOTONIC)
 * from every mocker process on the path (CLI, monitor, container child), so
 * bench/trace can show where the milliseconds of `run` go.  Unset, a trace
 * point costs one branch: the environment is read once per process. */
#include "util/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int trace_fd = -2;

void mk_trace(const char *label)
{
    if (trace_fd == -1)
        return;
    if (trace_fd == -2) {
        const char *path = getenv("MOCKER_TRACE");
        trace_fd = path != NULL && *path != '\0'
                       ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)
                       : -1;
        if (trace_fd < 0)
            return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    dprintf(trace_fd, "%d %s %lld\n", (int)getpid(), label,
            (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* A forked child that closed its inherited fds opens the file again on its
 * next trace point (the number may belong to another file by then). */
void mk_trace_forked(void)
{
    trace_fd = -2;
}
