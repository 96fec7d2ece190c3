/* test_fs.c: util/fs.c's directory peeking (mk_dir_peek_at), which decides
 * whether a removed container's directory is kept (container_dir.c), and the
 * pools such directories are kept in (mk_pool_*_at). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "util/util.h"

static void test_dir_peek(void)
{
    char dir[] = "/tmp/mocker-test-fs.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(dfd >= 0);
    CHECK(mkdirat(dfd, "d", 0755) == 0);
    struct mk_dir_entry e[2];
    CHECK_INT(mk_dir_peek_at(dfd, "d", e, 2), 0);
    CHECK(mk_dir_is_empty_at(dfd, "d"));
    CHECK(close(openat(dfd, "d/f", O_WRONLY | O_CREAT, 0644)) == 0);
    CHECK_INT(mk_dir_peek_at(dfd, "d", e, 2), 1);
    CHECK_STR(e[0].name, "f");
    CHECK_INT(e[0].type, DT_REG);
    CHECK(!mk_dir_is_empty_at(dfd, "d"));
    CHECK(mkdirat(dfd, "d/sub", 0755) == 0);
    /* More than asked for: -1, not a partial answer. */
    CHECK_INT(mk_dir_peek_at(dfd, "d", e, 1), -1);
    CHECK_INT(mk_dir_peek_at(dfd, "d", e, 2), 2);
    /* A symlink to a directory is not followed; a missing name is -1. */
    CHECK(symlinkat("d/sub", dfd, "link") == 0);
    CHECK_INT(mk_dir_peek_at(dfd, "link", e, 2), -1);
    CHECK(!mk_dir_is_empty_at(dfd, "link"));
    CHECK_INT(mk_dir_peek_at(dfd, "missing", e, 2), -1);
    close(dfd);
    mk_rm_rf(dir, NULL);
}

/* Two slots: taken in order, put into the first free one, none to take or
 * put when the pool is empty or full, and a take never replaces dest. */
static void test_pool(void)
{
    char dir[] = "/tmp/mocker-test-pool.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(dfd >= 0);
    CHECK_INT(mk_pool_take_at(dfd, "pool", 2, "a"), -1);
    CHECK(mkdirat(dfd, "a", 0700) == 0 && mkdirat(dfd, "b", 0700) == 0 &&
          mkdirat(dfd, "c", 0700) == 0);
    CHECK_INT(mk_pool_put_at(dfd, "a", "pool", 2), 0);
    CHECK_INT(mk_pool_put_at(dfd, "b", "pool", 2), 0);
    CHECK_INT(mk_pool_put_at(dfd, "c", "pool", 2), -1);
    CHECK(faccessat(dfd, "c", F_OK, 0) == 0);
    CHECK(faccessat(dfd, "pool/0", F_OK, 0) == 0 && faccessat(dfd, "pool/1", F_OK, 0) == 0);
    /* dest exists: nothing taken, EEXIST. */
    int r = mk_pool_take_at(dfd, "pool", 2, "c"), saved = errno;
    CHECK_INT(r, -1);
    CHECK_INT(saved, EEXIST);
    CHECK(faccessat(dfd, "pool/0", F_OK, 0) == 0);
    CHECK_INT(mk_pool_take_at(dfd, "pool", 2, "x"), 0);
    CHECK_INT(mk_pool_take_at(dfd, "pool", 2, "y"), 0);
    CHECK_INT(mk_pool_take_at(dfd, "pool", 2, "z"), -1);
    CHECK(faccessat(dfd, "x", F_OK, 0) == 0 && faccessat(dfd, "y", F_OK, 0) == 0);
    CHECK_INT(mk_dir_peek_at(dfd, "pool", NULL, 0), 0);
    close(dfd);
    mk_rm_rf(dir, NULL);
}

int main(void)
{
    RUN(test_dir_peek);
    RUN(test_pool);
    return tap_done();
}
