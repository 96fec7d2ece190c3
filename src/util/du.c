/* du.c: the size of a directory tree as docker counts it (apparent sizes of
 * everything but directories, each inode once), for ps -s and system df. */
#include "util/util.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

/* nftw has no context argument: one walk at a time per process is enough for
 * the CLI, and the walk never calls back into anything that walks. */
static __thread int64_t walk_total;
static __thread struct {
    dev_t dev;
    ino_t ino;
} *walk_seen;
static __thread size_t walk_nseen, walk_cap;

static bool seen_before(const struct stat *st)
{
    for (size_t i = 0; i < walk_nseen; i++)
        if (walk_seen[i].ino == st->st_ino && walk_seen[i].dev == st->st_dev)
            return true;
    if (walk_nseen == walk_cap) {
        walk_cap = walk_cap ? walk_cap * 2 : 16;
        walk_seen = xrealloc(walk_seen, walk_cap * sizeof(*walk_seen));
    }
    walk_seen[walk_nseen].dev = st->st_dev;
    walk_seen[walk_nseen].ino = st->st_ino;
    walk_nseen++;
    return false;
}

static int add_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (type == FTW_D || type == FTW_DP || type == FTW_DNR || type == FTW_NS)
        return 0;
    /* Only hard links can repeat an inode: keep the list short. */
    if (st->st_nlink > 1 && seen_before(st))
        return 0;
    walk_total += st->st_size;
    return 0;
}

int64_t mk_dir_size(const char *path)
{
    walk_total = 0;
    walk_nseen = 0;
    nftw(path, add_entry, 32, FTW_PHYS | FTW_MOUNT);
    free(walk_seen);
    walk_seen = NULL;
    walk_cap = 0;
    return walk_total;
}
