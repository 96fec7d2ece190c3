/* test_tarfs.c: docker's path splitting for cp, and a tar round trip of a tree
 * whose symlink points out of it (it must stay a link, never be followed). */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tap.h"
#include "util/tarfs.h"

static void check_split(const char *path, const char *dir, const char *base)
{
    char *d = NULL, *b = NULL;
    mk_path_split_entry(path, &d, &b);
    if (strcmp(d, dir) != 0 || strcmp(b, base) != 0)
        printf("# split %s: got %s + %s, want %s + %s\n", path, d, b, dir, base),
            tap_cur_failed = 1;
    free(d);
    free(b);
}

static void test_split_entry(void)
{
    check_split("/a/b", "/a", "b");
    check_split("/a/b/", "/a", "b");
    check_split("/a/b/.", "/a/b", ".");
    check_split("a//b/../c", "a", "c");
    check_split("b", ".", "b");
    check_split("/b", "/", "b");
    check_split("/", "/", ".");
    CHECK(mk_path_specifies_current_dir("x/."));
    CHECK(!mk_path_specifies_current_dir("x/.a"));
}

static void test_round_trip_keeps_links(void)
{
    char src[] = "/tmp/mk-tarfs-src-XXXXXX", dst[] = "/tmp/mk-tarfs-dst-XXXXXX";
    CHECK(mkdtemp(src) != NULL && mkdtemp(dst) != NULL);
    int sfd = open(src, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int dfd = open(dst, O_PATH | O_DIRECTORY | O_CLOEXEC);
    CHECK(mkdirat(sfd, "t", 0755) == 0);
    CHECK(symlinkat("/etc", sfd, "t/out") == 0);
    int f = openat(sfd, "t/file", O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    CHECK(f >= 0 && write(f, "x", 1) == 1);
    close(f);
    CHECK(linkat(sfd, "t/file", sfd, "t/hard", 0) == 0);
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    mk_err *err = NULL;
    /* Small enough for the pipe's buffer: write fully, then read. */
    CHECK(mk_tar_write_path(sfd, "/t", NULL, p[1], &err) == 0);
    close(p[1]);
    struct mk_tar_extract_opts o = {.no_overwrite_dir_non_dir = true};
    int64_t bytes = 0;
    CHECK(mk_tar_extract(dfd, ".", p[0], &o, &bytes, &err) == 0);
    close(p[0]);
    /* headers of t/, t/file, t/hard, t/out, one data block, the end: docker's size */
    CHECK_INT(bytes, 512 * 5 + 1024);
    char target[64] = {0};
    CHECK(readlinkat(dfd, "t/out", target, sizeof(target) - 1) == 4);
    CHECK_STR(target, "/etc");
    struct stat a, b;
    CHECK(fstatat(dfd, "t/file", &a, 0) == 0 && fstatat(dfd, "t/hard", &b, 0) == 0);
    CHECK(a.st_ino == b.st_ino && (a.st_mode & 07777) == 0640);
    mk_rm_rf(src, NULL);
    mk_rm_rf(dst, NULL);
    close(sfd);
    close(dfd);
}

int main(void)
{
    RUN(test_split_entry);
    RUN(test_round_trip_keeps_links);
    return tap_done();
}
