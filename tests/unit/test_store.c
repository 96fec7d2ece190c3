/* test_store.c: the SQLite store and the blob store (store/). Runs as root in a
 * temp dir. */
#include "store/store.h"
#include "tap.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static char tmpl[] = "/tmp/mocker-test-store-XXXXXX";
static char *root, *runroot;

static struct mk_store *open_store(void)
{
    struct mk_store *s = NULL;
    mk_err *err = NULL;
    if (mk_store_open(root, runroot, &s, &err) < 0) {
        printf("# open: %s\n", err->msg);
        mk_err_free(err);
        return NULL;
    }
    return s;
}

static int64_t test_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *make_id(int n)
{
    /* Distinct ids sharing the prefix "abc0", so prefixes can be ambiguous. */
    char *r = mk_random_hex(56);
    char *id = xasprintf("abc0%04x%s", n, r);
    free(r);
    return id;
}

static int insert(struct mk_store *s, const char *id, const char *name, int64_t created,
                  mk_err **err)
{
    struct mk_container c = {0};
    c.id = (char *)id;
    c.name = (char *)name;
    c.image = (char *)"busybox";
    c.image_id = (char *)"sha256:0000000000000000000000000000000000000000000000000000000000000000";
    c.created = created;
    c.config = json_pack("{s:{s:[s]}}", "Config", "Cmd", "sh");
    c.status = (char *)"created";
    int r = mk_store_container_insert(s, &c, err);
    json_decref(c.config);
    return r;
}

static void test_open_layout(void)
{
    struct mk_store *s = open_store();
    CHECK(s != NULL);
    static const char *const dirs[] = {"blobs/sha256", "blobs/tmp", "layers", "containers"};
    for (size_t i = 0; i < 4; i++) {
        char *p = mk_path_join(root, dirs[i]);
        struct stat st;
        int ok = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
        free(p);
        CHECK(ok);
    }
    char *p = mk_path_join(runroot, "containers");
    struct stat st;
    int ok = stat(p, &st) == 0;
    free(p);
    CHECK(ok);
    mk_store_free(s);

    /* Reopening an existing store is cheap (no schema work). */
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 20; i++)
        mk_store_free(open_store());
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3 / 20;
    printf("# mk_store_open on an existing store: %.0f us\n", us);
    CHECK(us < 5000);
}

static void test_env_root(void)
{
    char *alt = xasprintf("%s/envroot", root);
    char *altrun = xasprintf("%s/envrun", root);
    setenv("MOCKER_ROOT", alt, 1);
    setenv("MOCKER_RUNROOT", altrun, 1);
    struct mk_store *s = NULL;
    int r = mk_store_open(NULL, NULL, &s, NULL);
    unsetenv("MOCKER_ROOT");
    unsetenv("MOCKER_RUNROOT");
    CHECK(r == 0);
    CHECK_STR(s->root, alt);
    CHECK_STR(s->runroot, altrun);
    char *blob = mk_store_blob_path(s, "sha256:"
                                       "0123456789abcdef0123456789abcdef"
                                       "0123456789abcdef0123456789abcdef");
    char *want = xasprintf("%s/blobs/sha256/0123456789abcdef0123456789abcdef"
                           "0123456789abcdef0123456789abcdef",
                           alt);
    CHECK_STR(blob, want);
    CHECK(mk_store_blob_path(s, "sha256:../../etc/passwd") == NULL);
    CHECK(mk_store_layer_dir(s, "nope") == NULL);
    free(blob);
    free(want);
    mk_store_free(s);
    free(alt);
    free(altrun);
}

static void test_container_lookup(void)
{
    struct mk_store *s = open_store();
    mk_err *err = NULL;
    char *id1 = make_id(1), *id2 = make_id(2);
    CHECK(insert(s, id1, "web", 100, &err) == 0);
    CHECK(insert(s, id2, "/db", 200, &err) == 0);

    struct mk_container *c = NULL;
    CHECK(mk_store_container_get(s, id1, &c, &err) == 0);
    CHECK_STR(c->name, "web");
    CHECK(json_is_array(json_object_get(json_object_get(c->config, "Config"), "Cmd")));
    mk_container_free(c);
    c = NULL;
    CHECK(mk_store_container_get(s, "db", &c, &err) == 0);
    CHECK_STR(c->id, id2);
    mk_container_free(c);
    c = NULL;
    CHECK(mk_store_container_get(s, "/web", &c, &err) == 0);
    CHECK_STR(c->id, id1);
    mk_container_free(c);
    c = NULL;

    /* Unique prefix. */
    char prefix[12];
    snprintf(prefix, sizeof(prefix), "%.8s", id2);
    CHECK(mk_store_container_get(s, prefix, &c, &err) == 0);
    CHECK_STR(c->id, id2);
    mk_container_free(c);
    c = NULL;

    /* Ambiguous prefix. */
    CHECK(mk_store_container_get(s, "abc0", &c, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_INVALID);
    CHECK_STR(err->msg, "multiple IDs found with provided prefix: abc0");
    mk_err_clear(&err);

    CHECK(mk_store_container_get(s, "nosuch", &c, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_NOT_FOUND);
    CHECK_STR(err->msg, "No such container: nosuch");
    mk_err_clear(&err);

    /* Name conflict, docker's wording. */
    char *id3 = make_id(3);
    CHECK(insert(s, id3, "web", 300, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_CONFLICT);
    char *want = xasprintf("Conflict. The container name \"/web\" is already in use by container "
                           "\"%s\". You have to remove (or rename) that container to be able to "
                           "reuse that name.",
                           id1);
    CHECK_STR(err->msg, want);
    free(want);
    mk_err_clear(&err);

    /* List: newest first. */
    struct mk_container **v = NULL;
    size_t n = 0;
    CHECK(mk_store_container_list(s, &v, &n, &err) == 0);
    CHECK_INT(n, 2);
    CHECK_STR(v[0]->id, id2);
    CHECK_STR(v[1]->id, id1);
    mk_container_list_free(v, n);

    /* Rename: conflict, then success. */
    CHECK(mk_store_container_rename(s, id2, "web", &err) < 0);
    CHECK_INT(err->kind, MK_ERR_CONFLICT);
    mk_err_clear(&err);
    CHECK(mk_store_container_rename(s, id2, "/db2", &err) == 0);
    CHECK(mk_store_container_get(s, "db2", &c, &err) == 0);
    mk_container_free(c);
    c = NULL;

    /* State round trip. */
    CHECK(mk_store_container_get(s, id1, &c, &err) == 0);
    free(c->status);
    c->status = xstrdup("exited");
    c->pid = 1234;
    c->pid_start = 99999999999ULL;
    c->monitor_pid = 55;
    c->monitor_start = 66;
    c->exit_code = 137;
    c->oom_killed = true;
    c->started_at = 1700000000123456789LL;
    c->finished_at = 1700000001123456789LL;
    c->error = xstrdup("boom");
    c->restart_count = 3;
    CHECK(mk_store_container_save_state(s, c, &err) == 0);
    mk_container_free(c);
    c = NULL;
    CHECK(mk_store_container_get(s, id1, &c, &err) == 0);
    CHECK_STR(c->status, "exited");
    CHECK_INT(c->pid, 1234);
    CHECK(c->pid_start == 99999999999ULL);
    CHECK_INT(c->monitor_pid, 55);
    CHECK_INT(c->exit_code, 137);
    CHECK(c->oom_killed);
    CHECK(c->started_at == 1700000000123456789LL);
    CHECK(c->finished_at == 1700000001123456789LL);
    CHECK_STR(c->error, "boom");
    CHECK_INT(c->restart_count, 3);
    mk_container_free(c);
    c = NULL;

    json_t *cfg = json_pack("{s:{s:s}}", "Config", "Image", "alpine");
    CHECK(mk_store_container_save_config(s, id1, cfg, &err) == 0);
    json_decref(cfg);
    CHECK(mk_store_container_get(s, id1, &c, &err) == 0);
    CHECK_STR(mk_json_str(json_object_get(c->config, "Config"), "Image"), "alpine");
    mk_container_free(c);
    c = NULL;

    CHECK(mk_store_container_delete(s, id1, &err) == 0);
    CHECK(mk_store_container_delete(s, id1, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_NOT_FOUND);
    mk_err_clear(&err);
    CHECK(mk_store_container_delete(s, id2, &err) == 0);
    free(id1);
    free(id2);
    free(id3);
    mk_store_free(s);
}

/* The connection's parsed-config cache: a changed config is read anew, and a
 * caller changing its copy does not change the next reader's. */
static void test_config_cache(void)
{
    struct mk_store *s = open_store();
    mk_err *err = NULL;
    char *id = make_id(7);
    mk_store_keep_configs(s);
    CHECK(insert(s, id, "cached", 100, &err) == 0);
    struct mk_container *c = NULL;
    CHECK(mk_store_container_get(s, id, &c, &err) == 0);
    json_object_set_new(c->config, "Scribble", json_true());
    mk_container_free(c);
    c = NULL;
    CHECK(mk_store_container_get(s, id, &c, &err) == 0);
    CHECK(json_object_get(c->config, "Scribble") == NULL);
    json_object_set_new(c->config, "Saved", json_integer(5));
    CHECK(mk_store_container_save_config(s, id, c->config, &err) == 0);
    mk_container_free(c);
    c = NULL;
    CHECK(mk_store_container_get(s, id, &c, &err) == 0);
    CHECK_INT((int)json_integer_value(json_object_get(c->config, "Saved")), 5);
    mk_container_free(c);
    CHECK(mk_store_container_delete(s, id, &err) == 0);
    free(id);
    mk_store_free(s);
}

static void test_transaction(void)
{
    struct mk_store *s = open_store();
    mk_err *err = NULL;
    char *id = make_id(50);
    CHECK(mk_store_begin(s, &err) == 0);
    CHECK(insert(s, id, "tx", 1, &err) == 0);
    mk_store_rollback(s);
    struct mk_container *c = NULL;
    CHECK(mk_store_container_get(s, id, &c, &err) < 0);
    mk_err_clear(&err);
    CHECK(mk_store_begin(s, &err) == 0);
    CHECK(insert(s, id, "tx", 1, &err) == 0);
    CHECK(mk_store_commit(s, &err) == 0);
    CHECK(mk_store_container_get(s, "tx", &c, &err) == 0);
    mk_container_free(c);
    CHECK(mk_store_container_delete(s, id, &err) == 0);
    free(id);
    mk_store_free(s);
}

static int count_event(void *ctx, const struct mk_event *ev)
{
    (void)ev;
    (*(int *)ctx)++;
    return 0;
}

static int count_events(struct mk_store *s)
{
    int n = 0;
    mk_err *err = NULL;
    int64_t last = 0;
    if (mk_store_event_list(s, 0, 0, INT64_MAX, count_event, &n, &last, &err) < 0) {
        mk_err_free(err);
        return -1;
    }
    return n;
}

/* Maintenance keeps the newest 10000 events once the WAL is long, and does
 * nothing while it is short. */
static void test_events_trimmed(void)
{
    struct mk_store *s = open_store();
    mk_err *err = NULL;
    int before = count_events(s);
    CHECK(before >= 0);
    CHECK(mk_store_begin(s, &err) == 0);
    for (int i = 0; i < 10050 - before; i++)
        CHECK(mk_store_event_add(s, "container", "create", "x", NULL, &err) == 0);
    CHECK(mk_store_commit(s, &err) == 0);
    CHECK_INT(count_events(s), 10050);
    mk_store_maintain(s);
    CHECK_INT(count_events(s), 10000);
    /* One short commit: the WAL holds a few frames, nothing is trimmed. */
    CHECK(mk_store_event_add(s, "container", "start", "x", NULL, &err) == 0);
    mk_store_maintain(s);
    CHECK_INT(count_events(s), 10001);
    mk_store_free(s);
}

/* Frames in the WAL as a new process finds them (the store's first
 * connection rebuilds its index from them): counted by a child of its own,
 * as each mocker command is, after the store's user has exited.  -1: not
 * counted. */
static int wal_frames_found(void)
{
    int pfd[2];
    if (pipe(pfd) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        _cleanup_free_ char *path = xasprintf("%s/mocker.db", root);
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        int frames = -1;
        /* A read-only statement that reports the WAL's length. */
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
            sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(PASSIVE)", -1, &st, NULL) ==
                SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            frames = sqlite3_column_int(st, 1);
        _exit(write(pfd[1], &frames, sizeof(frames)) == sizeof(frames) ? 0 : 1);
    }
    close(pfd[1]);
    int frames = -1;
    if (pid < 0 || read(pfd[0], &frames, sizeof(frames)) != sizeof(frames))
        frames = -1;
    close(pfd[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    return frames;
}

/* What a monitor does to the store, in a process of its own: n events
 * committed one by one, then its maintenance if asked. */
static bool store_user(int n, bool maintain)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct mk_store *s = open_store();
        mk_err *err = NULL;
        for (int i = 0; s != NULL && i < n; i++)
            if (mk_store_event_add(s, "container", "create", "x", NULL, &err) < 0)
                _exit(1);
        if (s != NULL && maintain)
            mk_store_maintain(s);
        _exit(s != NULL ? 0 : 1);
    }
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

/* Maintenance leaves the next process a short WAL: copied into the database
 * and restarted, not just copied (a new process's index would count every
 * frame again, at about 2 us each, on each `run`'s way). */
static void test_wal_restarted(void)
{
    CHECK(store_user(100, false));
    int before = wal_frames_found();
    CHECK(store_user(1, true));
    int after = wal_frames_found();
    printf("# WAL frames found by a new process: %d before maintenance, %d after\n", before,
           after);
    CHECK(before >= 100);
    CHECK(after >= 0 && after <= 4);
}

#define CHILDREN  10
#define PER_CHILD 20

static void test_concurrent_inserts(void)
{
    pid_t pids[CHILDREN];
    for (int i = 0; i < CHILDREN; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            struct mk_store *s = open_store();
            if (s == NULL)
                _exit(2);
            for (int j = 0; j < PER_CHILD; j++) {
                char *id = make_id(1000 + i * PER_CHILD + j);
                char *name = xasprintf("c-%d-%d", i, j);
                mk_err *err = NULL;
                int r = insert(s, id, name, test_now_ns(), &err);
                if (r < 0) {
                    printf("# child %d: %s\n", i, err->msg);
                    fflush(stdout);
                    _exit(1);
                }
                /* A read-modify-write too: a state update right after. */
                struct mk_container *c = NULL;
                if (mk_store_container_get(s, name, &c, &err) < 0)
                    _exit(3);
                free(c->status);
                c->status = xstrdup("running");
                if (mk_store_container_save_state(s, c, &err) < 0)
                    _exit(4);
                if (mk_store_event_add(s, "container", "create", id, NULL, &err) < 0)
                    _exit(5);
                mk_container_free(c);
                free(id);
                free(name);
            }
            mk_store_free(s);
            _exit(0);
        }
    }
    int failed = 0;
    for (int i = 0; i < CHILDREN; i++) {
        int st;
        waitpid(pids[i], &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed++;
    }
    CHECK_INT(failed, 0);
    struct mk_store *s = open_store();
    struct mk_container **v = NULL;
    size_t n = 0;
    CHECK(mk_store_container_list(s, &v, &n, NULL) == 0);
    CHECK_INT(n, CHILDREN * PER_CHILD);
    size_t running = 0;
    for (size_t i = 0; i < n; i++)
        running += strcmp(v[i]->status, "running") == 0;
    CHECK_INT(running, CHILDREN * PER_CHILD);
    for (size_t i = 0; i < n; i++)
        mk_store_container_delete(s, v[i]->id, NULL);
    mk_container_list_free(v, n);
    mk_store_free(s);
}

static int count_files(const char *sub)
{
    char *p = mk_path_join(root, sub);
    DIR *d = opendir(p);
    free(p);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_blobs(void)
{
    struct mk_store *s = open_store();
    mk_err *err = NULL;
    char *digest = NULL;
    CHECK(mk_store_blob_put(s, "hello", 5, &digest, &err) == 0);
    CHECK_STR(digest, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    CHECK(mk_store_blob_exists(s, digest));
    char *data = NULL;
    size_t len = 0;
    CHECK(mk_store_blob_read(s, digest, &data, &len, &err) == 0);
    CHECK_INT(len, 5);
    CHECK(memcmp(data, "hello", 5) == 0);
    free(data);
    /* Storing the same content again is fine. */
    char *again = NULL;
    CHECK(mk_store_blob_put(s, "hello", 5, &again, &err) == 0);
    CHECK_STR(again, digest);
    free(again);

    /* A mismatching digest stores nothing and leaves no temp file. */
    int before = count_files("blobs/sha256");
    struct mk_blob_writer *w = NULL;
    CHECK(mk_blob_writer_new(s, &w, &err) == 0);
    CHECK(mk_blob_writer_write(w, "world", 5, &err) == 0);
    CHECK_INT(mk_blob_writer_size(w), 5);
    CHECK(mk_blob_writer_commit(w, digest, NULL, &err) < 0);
    CHECK(strstr(err->msg, "digest mismatch") != NULL);
    mk_err_clear(&err);
    mk_blob_writer_free(w);
    CHECK_INT(count_files("blobs/sha256"), before);
    CHECK_INT(count_files("blobs/tmp"), 0);

    /* An abandoned writer leaves nothing either. */
    CHECK(mk_blob_writer_new(s, &w, &err) == 0);
    CHECK(mk_blob_writer_write(w, "x", 1, &err) == 0);
    mk_blob_writer_free(w);
    CHECK_INT(count_files("blobs/tmp"), 0);

    /* Corruption is detected on read. */
    char *path = mk_store_blob_path(s, digest);
    CHECK(mk_write_file_atomic(path, "jello", 5, 0600, NULL) == 0);
    free(path);
    CHECK(mk_store_blob_read(s, digest, &data, &len, &err) < 0);
    CHECK(strstr(err->msg, "corrupt") != NULL);
    mk_err_clear(&err);
    CHECK(mk_store_blob_remove(s, digest, &err) == 0);
    CHECK(!mk_store_blob_exists(s, digest));
    CHECK(mk_store_blob_read(s, digest, &data, &len, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_NOT_FOUND);
    mk_err_clear(&err);
    free(digest);
    mk_store_free(s);
}

static void test_gc_tmp(void)
{
    struct mk_store *s = open_store();
    char *old = xasprintf("%s/blobs/tmp/old", root);
    char *fresh = xasprintf("%s/blobs/tmp/fresh", root);
    char *oldlayer = xasprintf("%s/layers/tmp-old", root);
    char *layer = xasprintf("%s/layers/%s", root, "keepme");
    CHECK(mk_write_file_atomic(old, "x", 1, 0600, NULL) == 0);
    CHECK(mk_write_file_atomic(fresh, "x", 1, 0600, NULL) == 0);
    CHECK(mkdir(oldlayer, 0700) == 0);
    CHECK(mkdir(layer, 0700) == 0);
    struct timespec times[2] = {{.tv_sec = time(NULL) - 7200}, {.tv_sec = time(NULL) - 7200}};
    CHECK(utimensat(AT_FDCWD, old, times, 0) == 0);
    CHECK(utimensat(AT_FDCWD, oldlayer, times, 0) == 0);
    CHECK(utimensat(AT_FDCWD, layer, times, 0) == 0);
    CHECK(mk_store_gc_tmp(s, NULL) == 0);
    CHECK(access(old, F_OK) < 0);
    CHECK(access(fresh, F_OK) == 0);
    CHECK(access(oldlayer, F_OK) < 0);
    CHECK(access(layer, F_OK) == 0);
    unlink(fresh);
    rmdir(layer);
    free(old);
    free(fresh);
    free(oldlayer);
    free(layer);
    mk_store_free(s);
}

static void test_images(void)
{
    struct mk_store *s = open_store();
    mk_err *err = NULL;
    const char *id = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const char *id2 = "sha256:1112222222222222222222222222222222222222222222222222222222222222";
    struct mk_image img = {.id = (char *)id,
                           .manifest_digest = (char *)id2,
                           .config = json_pack("{s:s}", "os", "linux"),
                           .size = 42,
                           .created = 7};
    CHECK(mk_store_image_put(s, &img, &err) == 0);
    /* Put again (replace) keeps tags. */
    CHECK(mk_store_tag_set(s, "docker.io/library/a:latest", id, &err) == 0);
    CHECK(mk_store_image_put(s, &img, &err) == 0);
    json_decref(img.config);
    img.id = (char *)id2;
    img.config = json_object();
    CHECK(mk_store_image_put(s, &img, &err) == 0);
    json_decref(img.config);

    struct mk_image *got = NULL;
    CHECK(mk_store_image_get_by_tag(s, "docker.io/library/a:latest", &got, &err) == 0);
    CHECK_STR(got->id, id);
    CHECK_INT(got->size, 42);
    CHECK_STR(mk_json_str(got->config, "os"), "linux");
    CHECK_INT(mk_strv_len(got->tags), 1);
    CHECK_INT(mk_strv_len(got->digests), 0);
    mk_image_free(got);
    got = NULL;

    CHECK(mk_store_image_get_by_id(s, id, &got, &err) == 0);
    mk_image_free(got);
    got = NULL;
    CHECK(mk_store_image_get_by_id(s, "1111", &got, &err) == 0);
    CHECK_STR(got->id, id);
    mk_image_free(got);
    got = NULL;
    CHECK(mk_store_image_get_by_id(s, "sha256:1112", &got, &err) == 0);
    CHECK_STR(got->id, id2);
    mk_image_free(got);
    got = NULL;
    CHECK(mk_store_image_get_by_id(s, "11", &got, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_INVALID);
    mk_err_clear(&err);
    CHECK(mk_store_image_get_by_id(s, "zz", &got, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_NOT_FOUND);
    mk_err_clear(&err);

    /* Moving a tag. */
    CHECK(mk_store_tag_set(s, "docker.io/library/a:latest", id2, &err) == 0);
    CHECK(mk_store_image_get_by_tag(s, "docker.io/library/a:latest", &got, &err) == 0);
    CHECK_STR(got->id, id2);
    mk_image_free(got);
    got = NULL;
    CHECK(mk_store_tag_set(s, "docker.io/library/b:1", "sha256:nope", &err) < 0);
    CHECK_INT(err->kind, MK_ERR_NOT_FOUND);
    mk_err_clear(&err);

    CHECK(mk_store_digest_add(s, "docker.io/library/a@sha256:aa", id2, &err) == 0);
    CHECK(mk_store_image_get_by_digest_ref(s, "docker.io/library/a@sha256:aa", &got, &err) == 0);
    CHECK_INT(mk_strv_len(got->digests), 1);
    mk_image_free(got);
    got = NULL;

    struct mk_image **all = NULL;
    size_t n = 0;
    CHECK(mk_store_image_list(s, &all, &n, &err) == 0);
    CHECK_INT(n, 2);
    mk_image_list_free(all, n);

    int users = -1;
    CHECK(mk_store_image_users(s, id2, &users, &err) == 0);
    CHECK_INT(users, 0);

    CHECK(mk_store_image_delete(s, id2, &err) == 0);
    CHECK(mk_store_image_get_by_tag(s, "docker.io/library/a:latest", &got, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_NOT_FOUND);
    mk_err_clear(&err);
    CHECK(mk_store_image_get_by_digest_ref(s, "docker.io/library/a@sha256:aa", &got, &err) < 0);
    mk_err_clear(&err);
    CHECK(mk_store_image_delete(s, id2, &err) < 0);
    mk_err_clear(&err);
    CHECK(mk_store_tag_remove(s, "docker.io/library/a:latest", &err) < 0);
    mk_err_clear(&err);
    CHECK(mk_store_image_delete(s, id, &err) == 0);
    mk_store_free(s);
}

/* A volume's users are the containers whose config's MountPoints name it. */
static void test_volumes(void)
{
    struct mk_store *s = open_store();
    mk_err *err = NULL;
    _cleanup_json_ json_t *labels = json_pack("{s:s}", "k", "v");
    struct mk_volume v = {.name = "vol1", .driver = "local", .labels = labels, .created = 5};
    CHECK(mk_store_volume_insert(s, &v, &err) == 0);
    CHECK(mk_store_volume_insert(s, &v, &err) < 0 && err->kind == MK_ERR_CONFLICT);
    mk_err_clear(&err);
    struct mk_volume *got = NULL;
    CHECK(mk_store_volume_get(s, "vol1", &got, &err) == 0);
    CHECK_STR(mk_json_str(got->labels, "k"), "v");
    CHECK(got->created == 5 && !got->anonymous && json_object_size(got->options) == 0);
    mk_volume_free(got);
    CHECK(mk_store_volume_get(s, "nope", &got, &err) < 0);
    CHECK_STR(err->msg, "get nope: no such volume");
    mk_err_clear(&err);

    char **users = NULL;
    CHECK(mk_store_volume_users(s, "vol1", &users, &err) == 0 && users[0] == NULL);
    mk_strv_free(users);
    char *id = make_id(77);
    struct mk_container c = {.id = id, .name = "voluser", .image = "img", .image_id = "sha256:x",
                             .created = 1, .status = "created"};
    c.config = json_pack("{s:{},s:{},s:[{s:s,s:s},{s:s,s:s}]}", "Config", "HostConfig",
                         "MountPoints", "Type", "volume", "Name", "vol1", "Type", "volume", "Name",
                         "vol1");
    CHECK(mk_store_container_insert(s, &c, &err) == 0);
    CHECK(mk_store_volume_users(s, "vol1", &users, &err) == 0);
    CHECK(users[0] != NULL && strcmp(users[0], id) == 0 && users[1] == NULL);
    mk_strv_free(users);
    CHECK(mk_store_container_delete(s, id, &err) == 0);
    CHECK(mk_store_volume_delete(s, "vol1", &err) == 0);
    struct mk_volume **all = NULL;
    size_t n = 9;
    CHECK(mk_store_volume_list(s, &all, &n, &err) == 0 && n == 0);
    mk_volume_list_free(all, n);
    json_decref(c.config);
    free(id);
    mk_store_free(s);
}

int main(void)
{
    if (mkdtemp(tmpl) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    root = xasprintf("%s/root", tmpl);
    runroot = xasprintf("%s/run", tmpl);
    RUN(test_open_layout);
    RUN(test_env_root);
    RUN(test_container_lookup);
    RUN(test_config_cache);
    RUN(test_transaction);
    RUN(test_events_trimmed);
    RUN(test_wal_restarted);
    RUN(test_concurrent_inserts);
    RUN(test_blobs);
    RUN(test_gc_tmp);
    RUN(test_images);
    RUN(test_volumes);
    mk_err *err = NULL;
    if (mk_rm_rf(tmpl, &err) < 0) {
        printf("# cleanup: %s\n", err->msg);
        mk_err_free(err);
    }
    free(root);
    free(runroot);
    return tap_done();
}
