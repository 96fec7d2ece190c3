/* test_image.c: --change parsing, layer extraction (whiteouts, escapes), finding
 * files through layers, import, lookup, tag and rmi (image/). Runs as root. */
#include "image/image.h"
#include "tap.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

static char tmpl[] = "/tmp/mocker-test-image-XXXXXX";
static char *base;

/* ---- building tars ---- */

struct tar_entry {
    const char *name;
    char type;        /* 'f' file, 'd' dir, 'l' symlink, 'h' hard link */
    const char *data; /* file content or link target */
    int mode;
};

/* Write a tar (optionally gzip) of entries to path. */
static int make_tar(const char *path, const struct tar_entry *e, size_t n, bool gzip)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (gzip)
        archive_write_add_filter_gzip(a);
    if (archive_write_open_filename(a, path) != ARCHIVE_OK)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, e[i].name);
        archive_entry_set_mtime(ae, 1600000000, 0);
        archive_entry_set_uid(ae, 1000);
        archive_entry_set_gid(ae, 1000);
        switch (e[i].type) {
        case 'd':
            archive_entry_set_filetype(ae, AE_IFDIR);
            archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0755);
            break;
        case 'l':
            archive_entry_set_filetype(ae, AE_IFLNK);
            archive_entry_set_symlink(ae, e[i].data);
            archive_entry_set_perm(ae, 0777);
            break;
        case 'h':
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_hardlink(ae, e[i].data);
            archive_entry_set_perm(ae, 0644);
            break;
        default:
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0644);
            archive_entry_set_size(ae, (la_int64_t)strlen(e[i].data));
            break;
        }
        archive_write_header(a, ae);
        if (e[i].type == 'f')
            archive_write_data(a, e[i].data, strlen(e[i].data));
        archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
    return 0;
}

static char *tpath(const char *name)
{
    return mk_path_join(base, name);
}

static char *read_text(const char *path)
{
    char *s = NULL;
    if (mk_read_file(path, &s, NULL, NULL) < 0)
        return NULL;
    return s;
}

/* ---- --change ---- */

static json_t *apply(const char *const *changes, mk_err **err)
{
    json_t *cfg = json_pack("{s:s, s:{s:[s]}}", "os", "linux", "config", "Env", "PATH=/bin");
    if (mk_image_apply_changes(cfg, (char *const *)changes, err) < 0) {
        json_decref(cfg);
        return NULL;
    }
    return cfg;
}

static char *dump_key(const json_t *cfg, const char *key)
{
    return mk_json_dump(json_object_get(json_object_get(cfg, "config"), key));
}

static void test_changes(void)
{
    mk_err *err = NULL;
    const char *const c1[] = {"CMD [\"a\",\"b\"]",
                              "ENV K=V K2=\"v 2\" K3=$K-x",
                              "env LEGACY some value",
                              "ENV PATH=$PATH:/usr/local/bin",
                              "WORKDIR /app",
                              "WORKDIR sub/../dir",
                              "USER nobody:nogroup",
                              "EXPOSE 80 53/udp 8000-8002",
                              "LABEL a=b \"c d\"=e",
                              "VOLUME /data",
                              "VOLUME [\"/x\", \"/y\"]",
                              "STOPSIGNAL SIGINT",
                              "ONBUILD run echo hi",
                              NULL};
    json_t *cfg = apply(c1, &err);
    if (cfg == NULL)
        FAIL_AT("apply: %s", err->msg);
    char *s = dump_key(cfg, "Cmd");
    CHECK_STR(s, "[\"a\",\"b\"]");
    free(s);
    s = dump_key(cfg, "Env");
    CHECK_STR(s, "[\"PATH=/bin:/usr/local/bin\",\"K=V\",\"K2=v 2\",\"K3=-x\",\"LEGACY=some "
                 "value\"]");
    free(s);
    s = dump_key(cfg, "WorkingDir");
    CHECK_STR(s, "\"/app/dir\"");
    free(s);
    s = dump_key(cfg, "User");
    CHECK_STR(s, "\"nobody:nogroup\"");
    free(s);
    s = dump_key(cfg, "ExposedPorts");
    CHECK_STR(s, "{\"80/tcp\":{},\"53/udp\":{},\"8000/tcp\":{},\"8001/tcp\":{},\"8002/tcp\":{}}");
    free(s);
    s = dump_key(cfg, "Labels");
    CHECK_STR(s, "{\"a\":\"b\",\"c d\":\"e\"}");
    free(s);
    s = dump_key(cfg, "Volumes");
    CHECK_STR(s, "{\"/data\":{},\"/x\":{},\"/y\":{}}");
    free(s);
    s = dump_key(cfg, "StopSignal");
    CHECK_STR(s, "\"SIGINT\"");
    free(s);
    s = dump_key(cfg, "OnBuild");
    CHECK_STR(s, "[\"RUN echo hi\"]");
    free(s);
    CHECK_STR(mk_json_str(cfg, "os"), "linux");
    json_decref(cfg);

    /* Shell forms; ENTRYPOINT alone drops CMD; ENTRYPOINT after CMD keeps it. */
    const char *const c2[] = {"CMD echo hi", NULL};
    cfg = apply(c2, &err);
    CHECK(cfg != NULL);
    s = dump_key(cfg, "Cmd");
    CHECK_STR(s, "[\"/bin/sh\",\"-c\",\"echo hi\"]");
    free(s);
    const char *const c3[] = {"ENTRYPOINT [\"/bin/app\"]", NULL};
    CHECK(mk_image_apply_changes(cfg, (char *const *)c3, &err) == 0);
    CHECK(json_object_get(json_object_get(cfg, "config"), "Cmd") == NULL);
    json_decref(cfg);
    const char *const c4[] = {"CMD [\"x\"]", "ENTRYPOINT top -b", NULL};
    cfg = apply(c4, &err);
    CHECK(cfg != NULL);
    s = dump_key(cfg, "Entrypoint");
    CHECK_STR(s, "[\"/bin/sh\",\"-c\",\"top -b\"]");
    free(s);
    s = dump_key(cfg, "Cmd");
    CHECK_STR(s, "[\"x\"]");
    free(s);
    json_decref(cfg);

    /* Several instructions in one change, with a continuation and a comment. */
    const char *const c5[] = {"ENV A=1\n# comment\nLABEL x=\\\n  y", NULL};
    cfg = apply(c5, &err);
    CHECK(cfg != NULL);
    s = dump_key(cfg, "Labels");
    CHECK_STR(s, "{\"x\":\"y\"}");
    free(s);
    json_decref(cfg);

    const char *const c6[] = {"HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://x/", NULL};
    cfg = apply(c6, &err);
    if (cfg == NULL)
        FAIL_AT("healthcheck: %s", err->msg);
    s = dump_key(cfg, "Healthcheck");
    CHECK_STR(s, "{\"Interval\":5000000000,\"Retries\":3,\"Test\":[\"CMD-SHELL\",\"curl -f "
                 "http://x/\"]}");
    free(s);
    json_decref(cfg);
}

static void check_change_error(const char *change, const char *msg)
{
    const char *const c[] = {change, NULL};
    mk_err *err = NULL;
    json_t *cfg = json_object();
    int r = mk_image_apply_changes(cfg, (char *const *)c, &err);
    bool untouched = json_object_size(cfg) == 0;
    json_decref(cfg);
    if (r == 0)
        FAIL_AT("%s: accepted", change);
    if (strcmp(err->msg, msg) != 0 || err->kind != MK_ERR_INVALID || !untouched)
        FAIL_AT("%s: got \"%s\", want \"%s\"", change, err->msg, msg);
    mk_err_free(err);
}

static void test_change_errors(void)
{
    check_change_error("RUN echo", "run is not a valid change command");
    check_change_error("FROM x", "from is not a valid change command");
    check_change_error("ADD a b", "add is not a valid change command");
    check_change_error("CMD", "CMD requires at least one argument");
    check_change_error("ENV", "ENV requires at least one argument");
    check_change_error("ENV A", "ENV must have two arguments");
    check_change_error("ENV A=1 B", "Syntax error - can't find = in \"B\". Must be of the form: "
                                    "name=value");
    check_change_error("ENV =x", "ENV names can not be blank");
    check_change_error("EXPOSE abc", "invalid containerPort: abc");
    check_change_error("EXPOSE 80/xyz", "invalid proto: xyz");
    check_change_error("EXPOSE 70000", "invalid containerPort: 70000");
    check_change_error("WORKDIR", "WORKDIR requires exactly one argument");
    check_change_error("CMD [\"a\", 1]",
                       "when using JSON array syntax, arrays must be comprised of strings only");
    check_change_error("ENV A=\"unterminated", "unexpected end of statement while looking for "
                                               "matching double-quote");
    check_change_error("ONBUILD FROM x", "FROM isn't allowed as an ONBUILD trigger");
    check_change_error("HEALTHCHECK FOO", "Unknown type \"FOO\" in HEALTHCHECK (try CMD)");
    check_change_error("HEALTHCHECK --bogus=1 CMD x", "Unknown flag: bogus");
    check_change_error("VOLUME [\"\"]", "VOLUME specified can not be an empty string");
    /* A later invalid instruction stops the whole set. */
    const char *const c[] = {"ENV A=1", "RUN x", NULL};
    json_t *cfg = json_object();
    CHECK(mk_image_apply_changes(cfg, (char *const *)c, NULL) < 0);
    CHECK(json_object_size(cfg) == 0);
    json_decref(cfg);
}

/* ---- layers ---- */

static void test_extract(void)
{
    const struct tar_entry entries[] = {
        {"./", 'd', NULL, 0755},
        {"etc/", 'd', NULL, 0750},
        {"etc/passwd", 'f', "root:x:0:0::/root:/bin/sh\n", 0600},
        {"etc/link", 'l', "/etc/passwd", 0},
        {"etc/hard", 'h', "etc/passwd", 0},
        {"/abs/file", 'f', "abs", 0},
        {"./dotted/./f", 'f', "dot", 0},
        {"etc/.wh.gone", 'f', "", 0},
        {"opq/.wh..wh..opq", 'f', "", 0},
        {"opq/keep", 'f', "k", 0},
        {"a/b/../c", 'f', "c", 0},
    };
    char *tar = tpath("layer.tar");
    CHECK(make_tar(tar, entries, sizeof(entries) / sizeof(entries[0]), false) == 0);
    char *dir = tpath("x1");
    CHECK(mkdir(dir, 0755) == 0);
    int fd = open(tar, O_RDONLY | O_CLOEXEC);
    int64_t size = -1;
    mk_err *err = NULL;
    int r = mk_layer_extract(fd, dir, &size, &err);
    close(fd);
    if (r < 0)
        FAIL_AT("extract: %s", err->msg);
    /* docker's measure: file contents, the hard link once, the symlink's target */
    CHECK_INT(size, strlen("root:x:0:0::/root:/bin/sh\n") + 3 + 3 + 1 + 1 + strlen("/etc/passwd"));

    char *p = mk_path_join(dir, "etc/passwd");
    struct stat st;
    CHECK(lstat(p, &st) == 0);
    CHECK_INT(st.st_mode & 07777, 0600);
    CHECK_INT(st.st_uid, 1000);
    CHECK_INT(st.st_mtime, 1600000000);
    CHECK(st.st_nlink == 2);
    free(p);
    p = mk_path_join(dir, "etc");
    CHECK(lstat(p, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_INT(st.st_mode & 07777, 0750);
    free(p);
    p = mk_path_join(dir, "etc/link");
    char target[64] = {0};
    CHECK(readlink(p, target, sizeof(target) - 1) > 0);
    CHECK_STR(target, "/etc/passwd");
    free(p);
    p = mk_path_join(dir, "abs/file");
    CHECK(access(p, F_OK) == 0);
    free(p);
    p = mk_path_join(dir, "dotted/f");
    CHECK(access(p, F_OK) == 0);
    free(p);
    p = mk_path_join(dir, "a/c");
    CHECK(access(p, F_OK) == 0);
    free(p);
    /* Whiteouts: char 0/0 and an opaque directory; the markers themselves are gone. */
    p = mk_path_join(dir, "etc/gone");
    CHECK(lstat(p, &st) == 0);
    CHECK(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
    free(p);
    p = mk_path_join(dir, "etc/.wh.gone");
    CHECK(access(p, F_OK) < 0);
    free(p);
    p = mk_path_join(dir, "opq");
    char v[4] = {0};
    CHECK(lgetxattr(p, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y');
    free(p);
    p = mk_path_join(dir, "opq/.wh..wh..opq");
    CHECK(access(p, F_OK) < 0);
    free(p);
    free(dir);
    free(tar);
}

/* Extract entries into a fresh <name>.d: `outside` (a sibling of the layer
 * dir) must never appear, whatever the outcome; `inside` (NULL: none) is
 * where dockerd's chrooted reading puts the member (".." stops at the layer
 * root, a symlinked directory resolves inside it).  Returns the result. */
static int extract_contained(const char *name, const struct tar_entry *entries, size_t n,
                             const char *outside, const char *inside)
{
    char *tar = tpath(name);
    char *sub = xasprintf("%s.d", name);
    char *dir = tpath(sub);
    int r = -2;
    if (make_tar(tar, entries, n, false) == 0 && mkdir(dir, 0755) == 0) {
        int fd = open(tar, O_RDONLY | O_CLOEXEC);
        mk_err *err = NULL;
        r = mk_layer_extract(fd, dir, NULL, &err);
        mk_err_free(err);
        close(fd);
    }
    char *o = tpath(outside);
    bool escaped = access(o, F_OK) == 0;
    char *in = inside != NULL ? mk_path_join(dir, inside) : NULL;
    bool landed = in == NULL || access(in, F_OK) == 0;
    free(in);
    free(o);
    free(dir);
    free(sub);
    free(tar);
    return escaped ? -3 : !landed ? -4 : r;
}

static void test_extract_escapes(void)
{
    const struct tar_entry dotdot[] = {{"ok", 'f', "1", 0}, {"../escape", 'f', "bad", 0}};
    CHECK_INT(extract_contained("esc1.tar", dotdot, 2, "escape", "escape"), 0);
    const struct tar_entry deep[] = {{"a/../../escape2", 'f', "bad", 0}};
    CHECK_INT(extract_contained("esc2.tar", deep, 1, "escape2", "escape2"), 0);
    const struct tar_entry abs[] = {{"/escape5", 'f', "bad", 0}};
    CHECK_INT(extract_contained("esc5.tar", abs, 1, "escape5", "escape5"), 0);
    /* A hard link names a file of the layer: /etc/passwd is not one here. */
    const struct tar_entry hard[] = {{"h", 'h', "../../etc/passwd", 0}};
    CHECK(extract_contained("esc3.tar", hard, 1, "h", NULL) < 0);
    /* Through a symlink to "..": the layer root, as in a chroot. */
    const struct tar_entry viasym[] = {{"lnk", 'l', "..", 0}, {"lnk/escape4", 'f', "bad", 0}};
    CHECK_INT(extract_contained("esc4.tar", viasym, 2, "escape4", "escape4"), 0);
    const struct tar_entry viaabs[] = {{"root", 'l', "/", 0}, {"root/tmp/escape6", 'f', "x", 0}};
    CHECK_INT(extract_contained("esc6.tar", viaabs, 2, "tmp/escape6", "tmp/escape6"), 0);
}

static void write_file(const char *dir, const char *rel, const char *data)
{
    char *p = mk_path_join(dir, rel);
    char *d = xstrdup(p);
    *strrchr(d, '/') = '\0';
    mk_mkdir_p(d, 0755, NULL);
    mk_write_file_atomic(p, data, strlen(data), 0644, NULL);
    free(d);
    free(p);
}

static void test_find_file(void)
{
    char *lower = tpath("ff-lower"), *upper = tpath("ff-upper");
    write_file(lower, "etc/passwd", "lower");
    write_file(lower, "etc/group", "lowergroup");
    write_file(lower, "opq/a", "a");
    write_file(lower, "gone/x", "x");
    write_file(upper, "etc/passwd", "upper");
    mkdir(upper, 0755);
    char *opq = mk_path_join(upper, "opq");
    mkdir(opq, 0755);
    setxattr(opq, "trusted.overlay.opaque", "y", 1, 0);
    char *wh = mk_path_join(upper, "gone");
    mknod(wh, S_IFCHR, makedev(0, 0));
    char *lnk = mk_path_join(upper, "link");
    symlink("/etc/shadow", lnk);

    char *dirs[] = {upper, lower, NULL};
    char *f = mk_layers_find_file(dirs, "/etc/passwd");
    char *txt = f ? read_text(f) : NULL;
    CHECK_STR(txt, "upper");
    free(txt);
    free(f);
    f = mk_layers_find_file(dirs, "etc/group");
    txt = f ? read_text(f) : NULL;
    CHECK_STR(txt, "lowergroup");
    free(txt);
    free(f);
    CHECK(mk_layers_find_file(dirs, "opq/a") == NULL);
    CHECK(mk_layers_find_file(dirs, "gone/x") == NULL);
    CHECK(mk_layers_find_file(dirs, "link") == NULL);
    CHECK(mk_layers_find_file(dirs, "nothing") == NULL);
    CHECK(mk_layers_find_file(dirs, "../etc/passwd") == NULL);
    free(opq);
    free(wh);
    free(lnk);
    free(lower);
    free(upper);
}

/* ---- import, lookup, tag, rmi ---- */

static struct mk_store *open_store(void)
{
    char *root = tpath("root"), *run = tpath("run");
    struct mk_store *s = NULL;
    mk_err *err = NULL;
    if (mk_store_open(root, run, &s, &err) < 0) {
        printf("# open: %s\n", err->msg);
        mk_err_free(err);
    }
    free(root);
    free(run);
    return s;
}

static int count_dir(struct mk_store *s, const char *sub)
{
    char *p = mk_path_join(s->root, sub);
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

static char *import_tar(struct mk_store *s, const char *tar, const char *ref,
                        const char *const *changes, mk_err **err)
{
    int fd = open(tar, O_RDONLY | O_CLOEXEC);
    struct mk_import_opts opts = {.ref = ref, .changes = (char **)changes};
    char *id = NULL;
    int r = mk_image_import(s, fd, &opts, &id, err);
    close(fd);
    return r == 0 ? id : NULL;
}

static void test_import_lookup(void)
{
    struct mk_store *s = open_store();
    CHECK(s != NULL);
    const struct tar_entry entries[] = {{"bin/", 'd', NULL, 0},
                                        {"bin/sh", 'f', "#!x", 0755},
                                        {"etc/passwd", 'f', "root:x:0:0:root:/root:/bin/sh\n", 0}};
    char *tar = tpath("img.tar.gz");
    CHECK(make_tar(tar, entries, 3, true) == 0);
    mk_err *err = NULL;
    const char *const changes[] = {"CMD [\"/bin/sh\"]", "ENV A=1", NULL};
    char *id = import_tar(s, tar, "myimg:1", changes, &err);
    if (id == NULL)
        FAIL_AT("import: %s", err->msg);
    CHECK(mk_store_digest_valid(id));

    struct mk_image *img = NULL;
    CHECK(mk_image_lookup(s, "myimg:1", &img, &err) == 0);
    CHECK_STR(img->id, id);
    CHECK_INT(img->size, 3 + strlen("root:x:0:0:root:/root:/bin/sh\n"));
    CHECK_INT(mk_strv_len(img->tags), 1);
    CHECK_STR(img->tags[0], "docker.io/library/myimg:1");
    json_t *cfg = img->config;
    CHECK_STR(mk_json_str(cfg, "os"), "linux");
    CHECK(mk_json_str(cfg, "architecture") != NULL);
    CHECK_STR(mk_json_str(json_array_get(json_object_get(cfg, "history"), 0), "comment"),
              "Imported from -");
    CHECK_STR(json_string_value(
                  json_array_get(json_object_get(json_object_get(cfg, "config"), "Cmd"), 0)),
              "/bin/sh");
    json_t *diff_ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
    CHECK_INT(json_array_size(diff_ids), 1);
    const char *diff_id = json_string_value(json_array_get(diff_ids, 0));
    /* The layer blob is the uncompressed tar. */
    CHECK(mk_store_blob_exists(s, diff_id));
    CHECK(mk_store_blob_exists(s, img->manifest_digest));
    char *mtext = NULL;
    size_t mlen = 0;
    CHECK(mk_store_blob_read(s, img->manifest_digest, &mtext, &mlen, &err) == 0);
    json_t *m = json_loadb(mtext, mlen, 0, NULL);
    free(mtext);
    CHECK_STR(mk_json_str(m, "mediaType"), "application/vnd.oci.image.manifest.v1+json");
    CHECK_STR(mk_json_str(json_object_get(m, "config"), "digest"), id);
    CHECK_STR(mk_json_str(json_array_get(json_object_get(m, "layers"), 0), "mediaType"),
              "application/vnd.oci.image.layer.v1.tar");
    CHECK_STR(mk_json_str(json_array_get(json_object_get(m, "layers"), 0), "digest"), diff_id);
    json_decref(m);

    /* Lower dirs, and finding a file through them. */
    char **dirs = NULL;
    CHECK(mk_image_lower_dirs(s, img, &dirs, &err) == 0);
    CHECK_INT(mk_strv_len(dirs), 1);
    char *want = xasprintf("%s/layers/%s/diff", s->root, diff_id + 7);
    CHECK_STR(dirs[0], want);
    free(want);
    char *pw = mk_layers_find_file(dirs, "/etc/passwd");
    CHECK(pw != NULL);
    free(pw);
    mk_strv_free(dirs);
    mk_image_free(img);
    img = NULL;

    /* Other names for it. */
    static const char *const names[] = {"docker.io/library/myimg:1", "library/myimg:1"};
    for (size_t i = 0; i < 2; i++) {
        CHECK(mk_image_lookup(s, names[i], &img, &err) == 0);
        mk_image_free(img);
        img = NULL;
    }
    char *short_hex = xstrndup(id + 7, 12);
    char *short_sha = xstrndup(id, 7 + 12);
    const char *ids[] = {id, id + 7, short_hex, short_sha};
    for (size_t i = 0; i < 4; i++) {
        if (mk_image_lookup(s, ids[i], &img, &err) < 0)
            FAIL_AT("lookup %s: %s", ids[i], err->msg);
        CHECK_STR(img->id, id);
        mk_image_free(img);
        img = NULL;
    }
    free(short_hex);
    free(short_sha);

    CHECK(mk_image_lookup(s, "myimg", &img, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_NOT_FOUND);
    CHECK_STR(err->msg, "No such image: myimg:latest");
    mk_err_clear(&err);
    CHECK(mk_image_lookup(s, "Bad", &img, &err) < 0);
    CHECK_INT(err->kind, MK_ERR_INVALID);
    mk_err_clear(&err);

    /* Same content again: same layer, new config (new created time). */
    char *id2 = import_tar(s, tar, NULL, NULL, &err);
    CHECK(id2 != NULL);
    CHECK_INT(count_dir(s, "layers"), 1);
    free(id2);
    free(id);
    free(tar);
    mk_store_free(s);
}

static void test_import_bad_input(void)
{
    struct mk_store *s = open_store();
    struct mk_image **all = NULL;
    size_t before = 0, after = 0;
    CHECK(mk_store_image_list(s, &all, &before, NULL) == 0);
    mk_image_list_free(all, before);
    int blobs = count_dir(s, "blobs/sha256"), layers = count_dir(s, "layers");

    char *junk = tpath("junk.txt");
    mk_write_file_atomic(junk, "this is not a tar archive\n", 26, 0644, NULL);
    mk_err *err = NULL;
    char *id = import_tar(s, junk, "junk:1", NULL, &err);
    CHECK(id == NULL);
    if (id == NULL) {
        printf("# %s\n", err->msg);
        CHECK(mk_str_has_prefix(err->msg, "import: "));
        mk_err_clear(&err);
    }
    char *empty = tpath("empty");
    mk_write_file_atomic(empty, "", 0, 0644, NULL);
    id = import_tar(s, empty, NULL, NULL, &err);
    CHECK(id == NULL);
    mk_err_clear(&err);

    /* A bad --change fails before anything is read or stored. */
    const char *const bad[] = {"RUN x", NULL};
    char *tar = tpath("img.tar.gz");
    id = import_tar(s, tar, NULL, bad, &err);
    CHECK(id == NULL);
    CHECK_STR(err ? err->msg : NULL, "run is not a valid change command");
    mk_err_clear(&err);
    id = import_tar(s, tar,
                    "x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                    NULL, &err);
    CHECK(id == NULL);
    mk_err_clear(&err);

    CHECK(mk_store_image_list(s, &all, &after, NULL) == 0);
    mk_image_list_free(all, after);
    CHECK_INT(after, before);
    CHECK_INT(count_dir(s, "blobs/sha256"), blobs);
    CHECK_INT(count_dir(s, "layers"), layers);
    CHECK_INT(count_dir(s, "blobs/tmp"), 0);
    struct mk_image *img = NULL;
    CHECK(mk_image_lookup(s, "junk:1", &img, NULL) < 0);
    free(junk);
    free(empty);
    free(tar);
    mk_store_free(s);
}

static int add_container(struct mk_store *s, const char *image_id, const char *name,
                         const char *status, char **out_id)
{
    struct mk_container c = {0};
    c.id = mk_random_hex(64);
    c.name = (char *)name;
    c.image = (char *)"x";
    c.image_id = (char *)image_id;
    c.status = (char *)status;
    c.created = 1;
    int r = mk_store_container_insert(s, &c, NULL);
    *out_id = c.id;
    return r;
}

static void check_report(char **report, const char *const *want)
{
    size_t n = 0;
    while (want[n] != NULL)
        n++;
    CHECK_INT(mk_strv_len(report), n);
    for (size_t i = 0; i < n; i++)
        CHECK_STR(report[i], want[i]);
}

static void test_tag_and_remove(void)
{
    struct mk_store *s = open_store();
    mk_err *err = NULL;
    const struct tar_entry entries[] = {{"hello", 'f', "world", 0}};
    char *tar = tpath("rmi.tar");
    CHECK(make_tar(tar, entries, 1, false) == 0);
    char *id = import_tar(s, tar, "rmi-test", NULL, &err);
    if (id == NULL)
        FAIL_AT("import: %s", err->msg);
    struct mk_image *img = NULL;
    CHECK(mk_image_lookup(s, id, &img, &err) == 0);
    char **chains = NULL;
    CHECK(mk_image_chain_ids(img->config, &chains, &err) == 0);
    char *layer = mk_store_layer_dir(s, chains[0]);
    char *manifest = xstrdup(img->manifest_digest);
    mk_image_free(img);
    img = NULL;

    CHECK(mk_image_tag(s, "rmi-test", "alias:2", &err) == 0);
    CHECK(mk_image_tag(s, "rmi-test",
                       "x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                       &err) < 0);
    mk_err_clear(&err);
    CHECK(mk_image_tag(s, "nosuch", "y", &err) < 0);
    CHECK_STR(err->msg, "No such image: nosuch:latest");
    mk_err_clear(&err);

    /* Untag one of two names: the image stays. */
    char **report = NULL;
    CHECK(mk_image_remove(s, "alias:2", false, &report, &err) == 0);
    const char *const r1[] = {"Untagged: alias:2", NULL};
    check_report(report, r1);
    mk_strv_free(report);
    report = NULL;
    CHECK(mk_image_lookup(s, id, &img, &err) == 0);
    mk_image_free(img);
    img = NULL;

    /* A stopped container uses it. */
    char *cid = NULL;
    CHECK(add_container(s, id, "user1", "exited", &cid) == 0);
    char *sid = xstrndup(id + 7, 12), *scid = xstrndup(cid, 12);
    CHECK(mk_image_remove(s, "rmi-test", false, &report, &err) < 0);
    char *want = xasprintf("conflict: unable to remove repository reference \"rmi-test\" (must "
                           "force) - container %s is using its referenced image %s",
                           scid, sid);
    CHECK_INT(err->kind, MK_ERR_CONFLICT);
    CHECK_STR(err->msg, want);
    free(want);
    mk_err_clear(&err);
    CHECK(mk_image_remove(s, sid, false, &report, &err) < 0);
    want = xasprintf("conflict: unable to delete %s (must be forced) - image is being used by "
                     "stopped container %s",
                     sid, scid);
    CHECK_STR(err->msg, want);
    free(want);
    mk_err_clear(&err);
    CHECK(report == NULL);

    /* Running: cannot be forced. */
    struct mk_container *c = NULL;
    CHECK(mk_store_container_get(s, cid, &c, &err) == 0);
    free(c->status);
    c->status = xstrdup("running");
    CHECK(mk_store_container_save_state(s, c, &err) == 0);
    CHECK(mk_image_remove(s, sid, true, &report, &err) < 0);
    want = xasprintf("conflict: unable to delete %s (cannot be forced) - image is being used by "
                     "running container %s",
                     sid, scid);
    CHECK_STR(err->msg, want);
    free(want);
    mk_err_clear(&err);
    CHECK(mk_store_container_delete(s, cid, &err) == 0);
    mk_container_free(c);

    /* Nobody uses it now: rmi by name deletes image, layer and blobs. */
    CHECK(mk_image_remove(s, "rmi-test:latest", false, &report, &err) == 0);
    char *del_img = xasprintf("Deleted: %s", id);
    char *del_layer = xasprintf("Deleted: %s", chains[0]);
    const char *const r2[] = {"Untagged: rmi-test:latest", del_img, del_layer, NULL};
    check_report(report, r2);
    mk_strv_free(report);
    report = NULL;
    CHECK(mk_image_lookup(s, id, &img, &err) < 0);
    mk_err_clear(&err);
    CHECK(access(layer, F_OK) < 0);
    CHECK(!mk_store_blob_exists(s, id));
    CHECK(!mk_store_blob_exists(s, manifest));
    CHECK(!mk_store_blob_exists(s, chains[0]));

    /* An image with no tag, removed by id with force while a stopped container uses it. */
    char *id2 = import_tar(s, tar, NULL, NULL, &err);
    CHECK(id2 != NULL);
    char *cid2 = NULL;
    CHECK(add_container(s, id2, "user2", "exited", &cid2) == 0);
    CHECK(mk_image_remove(s, id2, true, &report, &err) == 0);
    char *del2 = xasprintf("Deleted: %s", id2);
    const char *const r3[] = {del2, NULL};
    check_report(report, r3);
    /* The container still runs on the layer: it stays. */
    CHECK(access(layer, F_OK) == 0);
    mk_strv_free(report);

    free(del2);
    free(cid2);
    free(id2);
    free(del_img);
    free(del_layer);
    free(sid);
    free(scid);
    free(cid);
    free(manifest);
    free(layer);
    mk_strv_free(chains);
    free(id);
    free(tar);
    mk_store_free(s);
}

static void test_empty_image_lower_dirs(void)
{
    struct mk_store *s = open_store();
    struct mk_image img = {
        .id = (char *)"sha256:x",
        .config = json_pack("{s:{s:s, s:[]}}", "rootfs", "type", "layers", "diff_ids")};
    char **dirs = NULL;
    mk_err *err = NULL;
    CHECK(mk_image_lower_dirs(s, &img, &dirs, &err) == 0);
    CHECK_INT(mk_strv_len(dirs), 1);
    char *want = xasprintf("%s/layers/empty/diff", s->root);
    CHECK_STR(dirs[0], want);
    struct stat st;
    CHECK(stat(dirs[0], &st) == 0 && S_ISDIR(st.st_mode));
    free(want);
    mk_strv_free(dirs);
    json_decref(img.config);

    char *chain = mk_layer_chain_id("sha256:aa", "sha256:bb");
    char *direct = mk_sha256_digest("sha256:aa sha256:bb", strlen("sha256:aa sha256:bb"));
    CHECK_STR(chain, direct);
    free(chain);
    free(direct);
    mk_store_free(s);
}

int main(void)
{
    if (mkdtemp(tmpl) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    base = tmpl;
    RUN(test_changes);
    RUN(test_change_errors);
    RUN(test_extract);
    RUN(test_extract_escapes);
    RUN(test_find_file);
    RUN(test_import_lookup);
    RUN(test_import_bad_input);
    RUN(test_tag_and_remove);
    RUN(test_empty_image_lower_dirs);
    mk_rm_rf(tmpl, NULL);
    return tap_done();
}
