/* test_logfile.c: the json-file log writer and reader: round trips, partial
 * lines, escaping, rotation, tail, since/until and follow. */
#include "monitor/monitor.h"
#include "tap.h"

#include <sys/stat.h>
#include <time.h>

struct entry {
    char stream[8];
    int64_t time;
    char *data;
    size_t len;
};

struct entries {
    struct entry e[512];
    int n;
    int stop_after; /* 0: never */
};

static int collect(void *ctx, const char *stream, int64_t time_ns, const char *data, size_t len)
{
    struct entries *es = ctx;
    if (es->n < 512) {
        struct entry *e = &es->e[es->n++];
        snprintf(e->stream, sizeof(e->stream), "%s", stream);
        e->time = time_ns;
        e->data = xmalloc(len + 1); /* data may hold NULs */
        memcpy(e->data, data, len);
        e->data[len] = '\0';
        e->len = len;
    }
    return es->stop_after > 0 && es->n >= es->stop_after ? -1 : 0;
}

static void entries_clear(struct entries *es)
{
    for (int i = 0; i < es->n; i++)
        free(es->e[i].data);
    es->n = 0;
}

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/mk-test-log-XXXXXX";
    return xstrdup(mkdtemp(tmpl));
}

static const struct mk_log_read_opts all_opts = {.tail = -1};

static int read_all(const char *path, const struct mk_log_read_opts *o, struct entries *es)
{
    entries_clear(es);
    _cleanup_err_ mk_err *err = NULL;
    return mk_log_read(path, o, collect, es, &err);
}

static int write_str(struct mk_log_writer *w, const char *stream, const char *s)
{
    _cleanup_err_ mk_err *err = NULL;
    return mk_log_writer_write(w, stream, s, strlen(s), &err);
}

static struct entries es;

static void test_round_trip(void)
{
    _cleanup_free_ char *dir = tmpdir();
    _cleanup_free_ char *path = mk_path_join(dir, "c-json.log");
    struct mk_log_writer *w = NULL;
    mk_err *err = NULL;
    int64_t before = clock_ns(CLOCK_REALTIME);
    CHECK(mk_log_writer_open(path, 0, 1, &w, &err) == 0);
    CHECK(write_str(w, "stdout", "one\ntwo\n") == 0);
    CHECK(write_str(w, "stderr", "err\n") == 0);
    CHECK(write_str(w, "stdout", "") == 0);
    CHECK(mk_log_writer_write(w, "bogus", "x", 1, &err) < 0 && err->kind == MK_ERR_INVALID);
    mk_err_clear(&err);
    mk_log_writer_free(w);
    int64_t after = clock_ns(CLOCK_REALTIME);

    CHECK(read_all(path, &all_opts, &es) == 0);
    CHECK_INT(es.n, 3);
    CHECK_STR(es.e[0].data, "one\n");
    CHECK_STR(es.e[0].stream, "stdout");
    CHECK_STR(es.e[1].data, "two\n");
    CHECK_STR(es.e[2].data, "err\n");
    CHECK_STR(es.e[2].stream, "stderr");
    CHECK(es.e[0].time >= before && es.e[2].time <= after);
    CHECK(es.e[0].time <= es.e[1].time && es.e[1].time <= es.e[2].time);

    /* docker's exact line shape */
    _cleanup_free_ char *raw = NULL;
    CHECK(mk_read_file(path, &raw, NULL, &err) == 0);
    CHECK(mk_str_has_prefix(raw, "{\"log\":\"one\\n\",\"stream\":\"stdout\",\"time\":\"20"));
    char *nl = strchr(raw, '\n');
    CHECK(nl != NULL && nl[-1] == '}' && nl[-2] == '"' && nl[-3] == 'Z');

    /* a missing log is empty */
    _cleanup_free_ char *missing = mk_path_join(dir, "nope.log");
    CHECK(read_all(missing, &all_opts, &es) == 0);
    CHECK_INT(es.n, 0);
    mk_rm_rf(dir, NULL);
}

static void test_partial_lines(void)
{
    _cleanup_free_ char *dir = tmpdir();
    _cleanup_free_ char *path = mk_path_join(dir, "c-json.log");
    struct mk_log_writer *w = NULL;
    _cleanup_err_ mk_err *err = NULL;
    CHECK(mk_log_writer_open(path, 0, 1, &w, &err) == 0);
    CHECK(write_str(w, "stdout", "par") == 0);
    CHECK(write_str(w, "stderr", "e1") == 0);
    CHECK(write_str(w, "stdout", "tial\nnext") == 0);
    CHECK(mk_log_writer_flush(w, "stdout", &err) == 0);
    /* a line longer than docker's 16 KiB buffer comes out in pieces */
    char *big = xmalloc(20001);
    memset(big, 'x', 20000);
    big[20000] = '\0';
    CHECK(write_str(w, "stdout", big) == 0);
    CHECK(write_str(w, "stdout", "\n") == 0);
    free(big);
    mk_log_writer_free(w); /* flushes stderr's "e1" */

    CHECK(read_all(path, &all_opts, &es) == 0);
    CHECK_INT(es.n, 5);
    CHECK_STR(es.e[0].data, "partial\n");
    CHECK_STR(es.e[1].data, "next");
    CHECK_INT(es.e[2].len, 16384);
    CHECK_INT(es.e[3].len, 20000 - 16384 + 1);
    CHECK(es.e[3].data[es.e[3].len - 1] == '\n');
    CHECK_STR(es.e[4].data, "e1");
    CHECK_STR(es.e[4].stream, "stderr");
    mk_rm_rf(dir, NULL);
}

static void test_escaping(void)
{
    _cleanup_free_ char *dir = tmpdir();
    _cleanup_free_ char *path = mk_path_join(dir, "c-json.log");
    struct mk_log_writer *w = NULL;
    _cleanup_err_ mk_err *err = NULL;
    CHECK(mk_log_writer_open(path, 0, 1, &w, &err) == 0);
    const char odd[] = "q\"b\\t\t<&>\x01 caf\xc3\xa9 \xff\x00z\n";
    CHECK(mk_log_writer_write(w, "stdout", odd, sizeof(odd) - 1, &err) == 0);
    mk_log_writer_free(w);
    _cleanup_free_ char *raw = NULL;
    CHECK(mk_read_file(path, &raw, NULL, &err) == 0);
    CHECK(strstr(raw, "\\u003c\\u0026\\u003e\\u0001") != NULL);
    CHECK(strstr(raw, "\\ufffd\\u0000z\\n") != NULL);
    CHECK(read_all(path, &all_opts, &es) == 0);
    CHECK_INT(es.n, 1);
    const char want[] = "q\"b\\t\t<&>\x01 caf\xc3\xa9 \xef\xbf\xbd\x00z\n";
    CHECK_INT(es.e[0].len, sizeof(want) - 1);
    CHECK(memcmp(es.e[0].data, want, sizeof(want) - 1) == 0);
    mk_rm_rf(dir, NULL);
}

static void write_numbered(struct mk_log_writer *w, int from, int to)
{
    for (int i = from; i < to; i++) {
        char line[64];
        snprintf(line, sizeof(line), "line %04d\n", i);
        write_str(w, "stdout", line);
    }
}

static void check_sequence(int first, int count)
{
    CHECK_INT(es.n, count);
    for (int i = 0; i < count; i++) {
        char want[64];
        snprintf(want, sizeof(want), "line %04d\n", first + i);
        CHECK_STR(es.e[i].data, want);
    }
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_rotation(void)
{
    _cleanup_free_ char *dir = tmpdir();
    _cleanup_free_ char *path = mk_path_join(dir, "c-json.log");
    _cleanup_free_ char *p1 = xasprintf("%s.1", path);
    _cleanup_free_ char *p2 = xasprintf("%s.2", path);
    _cleanup_free_ char *p3 = xasprintf("%s.3", path);
    struct mk_log_writer *w = NULL;
    _cleanup_err_ mk_err *err = NULL;
    /* each entry is about 80 bytes: 3 per file */
    CHECK(mk_log_writer_open(path, 250, 3, &w, &err) == 0);
    write_numbered(w, 0, 40);
    mk_log_writer_free(w);
    CHECK(file_size(path) > 0 && file_size(path) <= 250);
    CHECK(file_size(p1) > 0 && file_size(p1) <= 250);
    CHECK(file_size(p2) > 0 && file_size(p2) <= 250);
    CHECK_INT(file_size(p3), -1);

    CHECK(read_all(path, &all_opts, &es) == 0);
    CHECK(es.n >= 7 && es.n <= 9);
    int first = 40 - es.n;
    check_sequence(first, es.n);

    /* tail reaches into the rotated files */
    struct mk_log_read_opts t = {.tail = 5};
    CHECK(read_all(path, &t, &es) == 0);
    check_sequence(35, 5);
    t.tail = 1000;
    CHECK(read_all(path, &t, &es) == 0);
    check_sequence(first, 40 - first);

    /* max-file 1: the file starts over */
    _cleanup_free_ char *single = mk_path_join(dir, "one.log");
    _cleanup_free_ char *single1 = xasprintf("%s.1", single);
    CHECK(mk_log_writer_open(single, 250, 1, &w, &err) == 0);
    write_numbered(w, 0, 10);
    mk_log_writer_free(w);
    CHECK(file_size(single) <= 250);
    CHECK_INT(file_size(single1), -1);
    CHECK(read_all(single, &all_opts, &es) == 0);
    CHECK(es.n >= 1 && es.n <= 3);
    check_sequence(10 - es.n, es.n);
    mk_rm_rf(dir, NULL);
}

static void test_tail(void)
{
    _cleanup_free_ char *dir = tmpdir();
    _cleanup_free_ char *path = mk_path_join(dir, "c-json.log");
    struct mk_log_writer *w = NULL;
    _cleanup_err_ mk_err *err = NULL;
    CHECK(mk_log_writer_open(path, 0, 1, &w, &err) == 0);
    write_numbered(w, 0, 3000); /* > 64 KiB: tail reads back over chunks */
    mk_log_writer_free(w);
    struct mk_log_read_opts t = {.tail = 3};
    CHECK(read_all(path, &t, &es) == 0);
    check_sequence(2997, 3);
    t.tail = 0;
    CHECK(read_all(path, &t, &es) == 0);
    CHECK_INT(es.n, 0);
    t.tail = 2000;
    es.stop_after = 512;
    CHECK(read_all(path, &t, &es) == 0);
    es.stop_after = 0;
    check_sequence(1000, 512);
    t.tail = 5000;
    es.stop_after = 10;
    CHECK(read_all(path, &t, &es) == 0);
    es.stop_after = 0;
    check_sequence(0, 10);
    mk_rm_rf(dir, NULL);
}

static void test_since_until(void)
{
    _cleanup_free_ char *dir = tmpdir();
    _cleanup_free_ char *path = mk_path_join(dir, "c-json.log");
    struct mk_log_writer *w = NULL;
    _cleanup_err_ mk_err *err = NULL;
    CHECK(mk_log_writer_open(path, 0, 1, &w, &err) == 0);
    write_numbered(w, 0, 3);
    struct timespec pause = {0, 5000000};
    nanosleep(&pause, NULL);
    int64_t mid = clock_ns(CLOCK_REALTIME);
    nanosleep(&pause, NULL);
    write_numbered(w, 3, 5);
    mk_log_writer_free(w);
    struct mk_log_read_opts o = {.tail = -1, .since = mid};
    CHECK(read_all(path, &o, &es) == 0);
    check_sequence(3, 2);
    o = (struct mk_log_read_opts){.tail = -1, .until = mid};
    CHECK(read_all(path, &o, &es) == 0);
    check_sequence(0, 3);
    mk_rm_rf(dir, NULL);
}

/* follow: still_running writes more (rotating on the way) while it says yes. */
struct follow_ctx {
    struct mk_log_writer *w;
    int calls;
};

static bool follow_running(void *ctx)
{
    struct follow_ctx *f = ctx;
    f->calls++;
    if (f->calls <= 5) {
        write_numbered(f->w, 10 + (f->calls - 1) * 4, 10 + f->calls * 4);
        return true;
    }
    return false;
}

static void test_follow(void)
{
    _cleanup_free_ char *dir = tmpdir();
    _cleanup_free_ char *path = mk_path_join(dir, "c-json.log");
    struct mk_log_writer *w = NULL;
    _cleanup_err_ mk_err *err = NULL;
    /* 400 bytes: about 5 entries per file, so following crosses rotations */
    CHECK(mk_log_writer_open(path, 400, 5, &w, &err) == 0);
    write_numbered(w, 0, 10);
    struct follow_ctx f = {.w = w};
    struct mk_log_read_opts o = {
        .tail = 2, .follow = true, .still_running = follow_running, .ctx = &f};
    int64_t start = clock_ns(CLOCK_MONOTONIC);
    CHECK(read_all(path, &o, &es) == 0);
    mk_log_writer_free(w);
    check_sequence(8, 2 + 20);
    CHECK_INT(f.calls, 6);
    /* inotify wakes the reader: no 200 ms polls on the way */
    CHECK(clock_ns(CLOCK_MONOTONIC) - start < 600 * 1000000LL);
    /* follow of a container that is gone ends at once */
    o = (struct mk_log_read_opts){.tail = -1, .follow = true};
    CHECK(read_all(path, &o, &es) == 0);
    CHECK(es.n > 0);
    mk_rm_rf(dir, NULL);
}

int main(void)
{
    RUN(test_round_trip);
    RUN(test_partial_lines);
    RUN(test_escaping);
    RUN(test_rotation);
    RUN(test_tail);
    RUN(test_since_until);
    RUN(test_follow);
    entries_clear(&es);
    return tap_done();
}
