/* rootfs_job.c: the container's overlay rootfs, mounted ahead on a thread.
 *
 * Making the overlay (fsopen, the layers, fsmount) is the longest single step
 * of the init's set-up (~0.6 ms of kernel time here: overlay checks its work
 * dir on every mount), and it needs nothing of the container's namespaces: a
 * detached mount made in the monitor's namespace is moved into the init's.
 * Nor does it need the spec: only the container's directories.  So the
 * monitor starts it as soon as it knows the container's image and builds the
 * spec meanwhile (started after the spec, it made the clone wait); then
 * mk_runtime_run joins the thread before it clones the init (the init is
 * cloned from a single-threaded process) and, when the mount is the one the
 * spec's annotations describe, hands it to the init, which only moves it
 * into place. */
#include "runtime/internal.h"
#include "runtime/runtime.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mk_rootfs_job {
    pthread_t thread;
    bool threaded;
    json_t *annotations; /* a copy: the caller goes on changing its spec */
    int mnt;             /* the detached mount; -1: none, the init mounts it */
    mk_err *err;
};

static void *job_run(void *arg)
{
    struct mk_rootfs_job *j = arg;
    rt_overlay_open(j->annotations, &j->mnt, &j->err);
    return NULL;
}

struct mk_rootfs_job *mk_runtime_rootfs_begin(const json_t *annotations)
{
    struct mk_rootfs_job *j = xcalloc(1, sizeof(*j));
    j->mnt = -1;
    j->annotations = json_deep_copy(annotations);
    j->threaded = pthread_create(&j->thread, NULL, job_run, j) == 0;
    if (!j->threaded)
        job_run(j);
    return j;
}

static void job_join(struct mk_rootfs_job *j)
{
    if (j->threaded)
        pthread_join(j->thread, NULL);
    j->threaded = false;
}

/* Whether the job's overlay is the one the spec's annotations describe. */
static bool same_rootfs(const json_t *job, const json_t *spec)
{
    static const char *const keys[] = {"org.mocker.rootfs.lowerdirs", "org.mocker.rootfs.upperdir",
                                       "org.mocker.rootfs.workdir", "org.mocker.rootfs.volatile"};
    const json_t *ann = json_object_get(spec, "annotations");
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *a = mk_json_str(job, keys[i]), *b = mk_json_str(ann, keys[i]);
        if (a != b && (a == NULL || b == NULL || strcmp(a, b) != 0))
            return false;
    }
    return true;
}

int rt_rootfs_job_take(struct mk_rootfs_job *j, const json_t *spec, int *mnt, mk_err **err)
{
    *mnt = -1;
    if (j == NULL)
        return 0;
    job_join(j);
    /* Not this spec's rootfs: the init mounts its own, as without a job. */
    if (!same_rootfs(j->annotations, spec))
        return 0;
    if (j->err != NULL) {
        *err = j->err;
        j->err = NULL;
        return -1;
    }
    *mnt = j->mnt;
    j->mnt = -1;
    return 0;
}

void mk_runtime_rootfs_end(struct mk_rootfs_job *j)
{
    if (j == NULL)
        return;
    job_join(j);
    if (j->mnt >= 0)
        close(j->mnt);
    mk_err_free(j->err);
    json_decref(j->annotations);
    free(j);
}
