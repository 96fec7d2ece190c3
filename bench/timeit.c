/* timeit: median wall time of N runs of a command, in milliseconds.
 *
 *     timeit N CMD [ARG...]
 *
 * Each run is posix_spawn + waitpid with stdout/stderr to /dev/null, timed
 * with CLOCK_MONOTONIC, so the figure holds no shell or `date` forks.  "{}"
 * in an argument is replaced by a number unique to the run (for names).
 * PAUSE_MS=M in the environment: M ms of idle before each run (not timed),
 * as between the commands of someone typing them.  Prints the median, or FAIL and exit 1 if any run fails. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: timeit N CMD [ARG...]\n");
        return 2;
    }
    int n = atoi(argv[1]);
    const char *pause = getenv("PAUSE_MS");
    long pause_ms = pause != NULL ? atol(pause) : 0;
    if (n < 1)
        n = 1;
    double *t = calloc((size_t)n, sizeof(*t));
    char **args = calloc((size_t)argc, sizeof(*args));
    char **owned = calloc((size_t)argc, sizeof(*owned));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    for (int i = 0; i < n; i++) {
        for (int k = 2; k < argc; k++) {
            char *mark = strstr(argv[k], "{}");
            args[k - 2] = argv[k];
            if (mark == NULL)
                continue;
            free(owned[k]);
            if (asprintf(&owned[k], "%.*s%d-%d%s", (int)(mark - argv[k]), argv[k], (int)getpid(),
                         i, mark + 2) < 0)
                return 2;
            args[k - 2] = owned[k];
        }
        if (pause_ms > 0) {
            struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        double s = now_ms();
        pid_t pid;
        int status;
        if (posix_spawnp(&pid, args[0], &fa, NULL, args, environ) != 0 ||
            waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            printf("FAIL\n");
            return 1;
        }
        t[i] = now_ms() - s;
    }
    qsort(t, (size_t)n, sizeof(*t), cmp);
    printf("%.1f\n", n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2);
    return 0;
}
