/* container_rundir.c: a container's run directory, <runroot>/containers/<id>,
 * which holds its attach socket (and, on a bridge, network.json) while its
 * monitor runs.
 *
 * Made at every start and removed after every exit.  On this project's VMs
 * the run root is on the root filesystem, ext4 without a journal mounted with
 * -o discard: the rmdir freed the directory's block and waited for its
 * discard (~0.2 ms, holding the parent directory's lock that the next start's
 * mkdir needs), and the mkdir allocated an inode and a block again.  So an
 * empty run directory is kept in <runroot>/pool (a few slots) and the next
 * start renames it into place; a rename neither allocates nor frees.  Only an
 * empty directory owned by us with mode 0700 is kept: that is all a start
 * needs, and nothing of the container that had it remains. */
#include "engine/engine.h"
#include "engine/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Enough for a loop of runs and a few stopped together; more are deleted. */
#define RUNDIR_POOL_SLOTS 4

int mk_engine_rundir_make(struct mk_engine *e, const char *id, mk_err **err)
{
    _cleanup_free_ char *rundir = mk_store_container_rundir(e->store, id);
    _cleanup_free_ char *pool = xasprintf("%s/pool", e->store->runroot);
    /* Or made (EEXIST: a run directory is there already, a restart's). */
    if (mk_pool_take_at(AT_FDCWD, pool, RUNDIR_POOL_SLOTS, rundir) == 0)
        return 0;
    return mk_mkdir_p(rundir, 0700, err);
}

/* Whether dir is as mk_mkdir_p made it: a directory of ours, mode 0700, empty. */
static bool keepable(const char *dir)
{
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0700 &&
           st.st_uid == geteuid() && mk_dir_is_empty_at(fd, ".");
}

int mk_engine_remove_rundir(struct mk_engine *e, const char *id, mk_err **err)
{
    _cleanup_free_ char *rundir = mk_store_container_rundir(e->store, id);
    _cleanup_free_ char *pool = xasprintf("%s/pool", e->store->runroot);
    if (keepable(rundir) && mk_pool_put_at(AT_FDCWD, rundir, pool, RUNDIR_POOL_SLOTS) == 0)
        return 0;
    return mk_rm_rf(rundir, err);
}
