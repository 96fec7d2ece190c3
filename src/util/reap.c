/* reap.c: waiting for detached children in a long-lived process (reap.h). */
#include "util/reap.h"
#include "util/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

static atomic_bool enabled;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t *pids;
static size_t n_pids, cap_pids;

void mk_reap_enable(void)
{
    atomic_store(&enabled, true);
}

void mk_reap_register(pid_t pid)
{
    if (!atomic_load(&enabled) || pid <= 0)
        return;
    pthread_mutex_lock(&lock);
    if (n_pids == cap_pids) {
        cap_pids = cap_pids ? cap_pids * 2 : 16;
        pids = xrealloc(pids, cap_pids * sizeof(*pids));
    }
    pids[n_pids++] = pid;
    pthread_mutex_unlock(&lock);
}

size_t mk_reap_poll(void)
{
    pthread_mutex_lock(&lock);
    size_t kept = 0;
    for (size_t i = 0; i < n_pids; i++) {
        pid_t r;
        do
            r = waitpid(pids[i], NULL, WNOHANG);
        while (r < 0 && errno == EINTR);
        if (r == 0) /* still running */
            pids[kept++] = pids[i];
    }
    n_pids = kept;
    pthread_mutex_unlock(&lock);
    return kept;
}
