/* user.c: resolve docker's --user and --group-add against an image's
 * /etc/passwd and /etc/group, with runc's semantics (moby/sys/user):
 * names must exist, numeric ids need not, the first matching entry wins. */
#include "engine/spec.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#define ID_MAX 2147483647L

struct db_entry {
    char *fields[7]; /* passwd: name pass uid gid gecos home shell; group: name pass gid list */
};

struct db {
    struct db_entry *ents;
    size_t n;
    char *data;
};

static void db_free(struct db *db)
{
    free(db->ents);
    free(db->data);
    db->ents = NULL;
    db->data = NULL;
    db->n = 0;
}

/* Split a colon-separated file in place.  Absent or unreadable files give
 * no entries and false, as Go's os.Open failing does in GetExecUserPath. */
static bool db_load(const char *path, struct db *db)
{
    memset(db, 0, sizeof(*db));
    if (path == NULL || mk_read_file(path, &db->data, NULL, NULL) < 0)
        return false;
    size_t cap = 0;
    char *save = NULL;
    for (char *line = strtok_r(db->data, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t' || *line == '\r' || *line == '\v' || *line == '\f')
            line++;
        size_t len = strlen(line);
        while (len > 0 && strchr(" \t\r\v\f", line[len - 1]) != NULL)
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (db->n == cap) {
            cap = cap ? cap * 2 : 32;
            db->ents = xrealloc(db->ents, cap * sizeof(*db->ents));
        }
        struct db_entry *e = &db->ents[db->n++];
        memset(e, 0, sizeof(*e));
        for (int f = 0; f < 7 && line != NULL; f++) {
            e->fields[f] = line;
            line = strchr(line, ':');
            if (line != NULL)
                *line++ = '\0';
        }
    }
    return true;
}

static const char *field(const struct db_entry *e, int f)
{
    return e->fields[f] ? e->fields[f] : "";
}

/* Go's strconv.Atoi with errors ignored: files' numbers that do not parse are 0. */
static long field_num(const struct db_entry *e, int f)
{
    const char *s = field(e, f);
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0)
        return 0;
    return v;
}

/* moby/sys/user's parseNumeric: *numeric tells whether s is a number at all;
 * numbers out of [0, 2^31-1] are an error. */
static int parse_id(const char *s, long *out, bool *numeric, mk_err **err)
{
    *numeric = false;
    *out = 0;
    if (*s == '\0')
        return 0;
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (*p == '\0' || strspn(p, "0123456789") != strlen(p))
        return 0;
    *numeric = true;
    errno = 0;
    long v = strtol(s, NULL, 10);
    if (errno == ERANGE || v < 0 || v > ID_MAX)
        return mk_err_set(err, MK_ERR_INVALID, "uids and gids must be in range 0-%ld", ID_MAX);
    *out = v;
    return 0;
}

static bool is_member(const struct db_entry *g, const char *user)
{
    const char *list = field(g, 3);
    size_t ulen = strlen(user);
    while (*list != '\0') {
        size_t len = strcspn(list, ",");
        if (len == ulen && strncmp(list, user, len) == 0)
            return true;
        list += len;
        if (*list == ',')
            list++;
    }
    return false;
}

static void gid_push(gid_t **v, size_t *n, gid_t g)
{
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i] == g)
            return;
    *v = xrealloc(*v, (*n + 1) * sizeof(gid_t));
    (*v)[(*n)++] = g;
}

int mk_spec_resolve_user(const char *user, const char *passwd_path, const char *group_path,
                         uid_t *uid, gid_t *gid, gid_t **additional, size_t *n_additional,
                         char **home, mk_err **err)
{
    if (user == NULL)
        user = "";
    _cleanup_free_ char *spec = xstrdup(user);
    char *user_arg = spec, *group_arg = strchr(spec, ':');
    if (group_arg != NULL) {
        *group_arg++ = '\0';
        char *rest = strchr(group_arg, ':');
        if (rest != NULL)
            *rest = '\0';
    } else {
        group_arg = "";
    }
    long uid_arg, gid_arg;
    bool is_uid, is_gid;
    if (parse_id(user_arg, &uid_arg, &is_uid, err) < 0 ||
        parse_id(group_arg, &gid_arg, &is_gid, err) < 0)
        return -1;

    long r_uid = 0, r_gid = 0;
    const char *r_home = "/";
    const char *matched = NULL;
    struct db pw, gr;
    db_load(passwd_path, &pw);
    for (size_t i = 0; i < pw.n; i++) {
        const struct db_entry *e = &pw.ents[i];
        bool hit;
        if (*user_arg == '\0')
            hit = field_num(e, 2) == r_uid;
        else if (is_uid)
            hit = field_num(e, 2) == uid_arg;
        else
            hit = strcmp(field(e, 0), user_arg) == 0;
        if (hit) {
            matched = field(e, 0);
            r_uid = field_num(e, 2);
            r_gid = field_num(e, 3);
            r_home = field(e, 5);
            break;
        }
    }
    if (matched == NULL && *user_arg != '\0') {
        if (!is_uid) {
            db_free(&pw);
            return mk_err_set(err, MK_ERR_INVALID,
                              "unable to find user %s: no matching entries in passwd file",
                              user_arg);
        }
        r_uid = uid_arg;
    }

    _cleanup_free_ gid_t *sgids = NULL;
    size_t n_sgids = 0;
    if (*group_arg != '\0' || matched != NULL) {
        db_load(group_path, &gr);
        bool found = false;
        for (size_t i = 0; i < gr.n; i++) {
            const struct db_entry *g = &gr.ents[i];
            if (*group_arg == '\0') {
                if (is_member(g, matched))
                    gid_push(&sgids, &n_sgids, (gid_t)field_num(g, 2));
            } else if (!found && (is_gid ? field_num(g, 2) == gid_arg
                                         : strcmp(field(g, 0), group_arg) == 0)) {
                r_gid = field_num(g, 2);
                found = true;
            }
        }
        db_free(&gr);
        if (*group_arg != '\0' && !found) {
            if (!is_gid) {
                db_free(&pw);
                return mk_err_set(err, MK_ERR_INVALID,
                                  "unable to find group %s: no matching entries in group file",
                                  group_arg);
            }
            r_gid = gid_arg;
        }
    }

    /* docker's additionalGids: the primary group first, then memberships. */
    _cleanup_free_ gid_t *extra = NULL;
    size_t n_extra = 0;
    gid_push(&extra, &n_extra, (gid_t)r_gid);
    for (size_t i = 0; i < n_sgids; i++)
        gid_push(&extra, &n_extra, sgids[i]);

    *uid = (uid_t)r_uid;
    *gid = (gid_t)r_gid;
    *additional = steal_pointer(&extra);
    *n_additional = n_extra;
    *home = xstrdup(*r_home != '\0' ? r_home : "/");
    db_free(&pw);
    return 0;
}

int mk_spec_additional_groups(const json_t *groups, const char *group_path, gid_t **out,
                              size_t *n_out, mk_err **err)
{
    _cleanup_free_ gid_t *res = NULL;
    size_t n = 0;
    if (json_array_size(groups) == 0) {
        *out = NULL;
        *n_out = 0;
        return 0;
    }
    struct db gr;
    db_load(group_path, &gr);
    size_t i;
    json_t *v;
    json_array_foreach(groups, i, v)
    {
        const char *name = json_string_value(v);
        long id;
        bool numeric;
        if (name == NULL || parse_id(name, &id, &numeric, err) < 0) {
            db_free(&gr);
            if (name == NULL)
                return mk_err_set(err, MK_ERR_INVALID, "GroupAdd entries must be strings");
            return -1;
        }
        bool found = false;
        for (size_t k = 0; k < gr.n && !found; k++) {
            const struct db_entry *g = &gr.ents[k];
            if (numeric ? field_num(g, 2) == id : strcmp(field(g, 0), name) == 0) {
                long g_id = field_num(g, 2);
                if (g_id < 0 || g_id > ID_MAX) {
                    db_free(&gr);
                    return mk_err_set(err, MK_ERR_INVALID, "uids and gids must be in range 0-%ld",
                                      ID_MAX);
                }
                gid_push(&res, &n, (gid_t)g_id);
                found = true;
            }
        }
        if (!found) {
            if (!numeric) {
                db_free(&gr);
                return mk_err_set(err, MK_ERR_INVALID,
                                  "unable to find group %s: no matching entries in group file",
                                  name);
            }
            gid_push(&res, &n, (gid_t)id);
        }
    }
    db_free(&gr);
    *out = steal_pointer(&res);
    *n_out = n;
    return 0;
}
