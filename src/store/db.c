/* db.c: opening the store (directories, SQLite database, schema migrations),
 * transactions, path helpers and the prepared-statement cache the other store
 * files use.
 *
 * Several processes (CLI commands, mocker serve, one monitor per container)
 * write to the same database, so it runs in WAL mode with a busy timeout and
 * every change is one short transaction; read-modify-write sequences take
 * BEGIN IMMEDIATE so they never have to be retried.  synchronous=NORMAL keeps
 * committed data across kill -9 (WAL survives a process death; only a power
 * loss can lose the last transactions, never corrupt the database). */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#define STORE_DEFAULT_ROOT    MK_STORE_DEFAULT_ROOT
#define STORE_DEFAULT_RUNROOT "/run/mocker"
#define STORE_BUSY_TIMEOUT_MS 10000

/* Migration i takes the schema from user_version i to i + 1.  Append only:
 * a released migration never changes. */
static const char *const migrations[] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE images ("
    "  id TEXT PRIMARY KEY,"
    "  manifest_digest TEXT,"
    "  config TEXT NOT NULL,"
    "  size INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE tags ("
    "  ref TEXT PRIMARY KEY,"
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
    "CREATE INDEX tags_image ON tags(image_id);"
    "CREATE TABLE digests ("
    "  ref TEXT PRIMARY KEY,"
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
    "CREATE INDEX digests_image ON digests(image_id);"
    "CREATE TABLE containers ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  image TEXT NOT NULL,"
    "  image_id TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  config TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'created',"
    "  pid INTEGER NOT NULL DEFAULT 0,"
    "  pid_start INTEGER NOT NULL DEFAULT 0,"
    "  monitor_pid INTEGER NOT NULL DEFAULT 0,"
    "  monitor_start INTEGER NOT NULL DEFAULT 0,"
    "  exit_code INTEGER NOT NULL DEFAULT 0,"
    "  oom_killed INTEGER NOT NULL DEFAULT 0,"
    "  started_at INTEGER NOT NULL DEFAULT 0,"
    "  finished_at INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  restart_count INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX containers_image ON containers(image_id);"
    "CREATE INDEX containers_created ON containers(created);"
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  time_ns INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  actor_id TEXT NOT NULL,"
    "  attributes TEXT);",
    /* 1 -> 2: State.Health, apart from the containers row so that ps reads
     * the status alone and a probe's write touches nothing else. */
    "CREATE TABLE container_health ("
    "  id TEXT PRIMARY KEY REFERENCES containers(id) ON DELETE CASCADE,"
    "  status TEXT NOT NULL,"
    "  health TEXT NOT NULL);",
    /* 2 -> 3: an image's parent, the image a commit started from (docker
     * keeps it beside the config, not in it; history and inspect show it). */
    "ALTER TABLE images ADD COLUMN parent TEXT;",
    /* 3 -> 4: named and anonymous volumes (their data is volumes/<name>/_data).
     * A volume's users are the containers whose config lists it in
     * MountPoints, counted in the same transaction that removes it. */
    "CREATE TABLE volumes ("
    "  name TEXT PRIMARY KEY,"
    "  driver TEXT NOT NULL,"
    "  labels TEXT NOT NULL,"
    "  options TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  anonymous INTEGER NOT NULL DEFAULT 0);",
    /* 4 -> 5: networks and their endpoints (a container's lease of an
     * address).  A lease goes with its container's row; a network with
     * leases cannot be deleted.  The container reference is deferred so
     * that a start may write the lease and the row in either order.  docker's
     * three predefined networks come with the schema: the subnet of bridge is
     * picked when a container first needs it (the host's routes then are
     * what counts, not the ones at install time). */
    "CREATE TABLE networks ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  driver TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  config TEXT NOT NULL);"
    "CREATE TABLE endpoints ("
    "  network_id TEXT NOT NULL REFERENCES networks(id),"
    "  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE"
    "    DEFERRABLE INITIALLY DEFERRED,"
    "  ip INTEGER NOT NULL,"
    "  mac TEXT NOT NULL,"
    "  aliases TEXT NOT NULL DEFAULT '[]',"
    "  PRIMARY KEY (network_id, container_id),"
    "  UNIQUE (network_id, ip));"
    "CREATE INDEX endpoints_container ON endpoints(container_id);"
    "INSERT INTO networks (id, name, driver, created, config) SELECT"
    "  lower(hex(randomblob(32))), n.name, n.driver,"
    "  CAST((julianday('now') - 2440587.5) * 86400000000000.0 AS INTEGER), n.config"
    "  FROM (SELECT 'bridge' AS name, 'bridge' AS driver,"
    "    '{\"Bridge\":\"mocker0\",\"Internal\":false,\"Attachable\":false,"
    "\"EnableIPv6\":false,\"Labels\":{},\"Options\":{"
    "\"com.docker.network.bridge.default_bridge\":\"true\","
    "\"com.docker.network.bridge.enable_icc\":\"true\","
    "\"com.docker.network.bridge.enable_ip_masquerade\":\"true\","
    "\"com.docker.network.bridge.host_binding_ipv4\":\"0.0.0.0\","
    "\"com.docker.network.bridge.name\":\"mocker0\","
    "\"com.docker.network.driver.mtu\":\"1500\"}}' AS config"
    "    UNION ALL SELECT 'host', 'host', '{\"Labels\":{},\"Options\":{}}'"
    "    UNION ALL SELECT 'none', 'null', '{\"Labels\":{},\"Options\":{}}') n;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define CONTAINER_COLS                                                                             \
    "id, name, image, image_id, created, config, status, pid, pid_start, monitor_pid, "            \
    "monitor_start, exit_code, oom_killed, started_at, finished_at, error, restart_count"
#define IMAGE_COLS "id, manifest_digest, config, size, created, parent"
#define VOLUME_COLS "name, driver, labels, options, created, anonymous"
#define NETWORK_COLS "id, name, driver, created, config"
#define ENDPOINT_COLS "network_id, container_id, ip, mac, aliases"

static const char *const stmt_sql[ST_COUNT] = {
    [ST_CONTAINER_INSERT] = "INSERT INTO containers (" CONTAINER_COLS ") VALUES "
                            "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                            "?16, ?17)",
    [ST_CONTAINER_BY_ID] = "SELECT " CONTAINER_COLS " FROM containers WHERE id = ?1",
    [ST_CONTAINER_BY_NAME] = "SELECT " CONTAINER_COLS " FROM containers WHERE name = ?1",
    /* Ids are lowercase hex, all below char(127): a range scan on the key. */
    [ST_CONTAINER_BY_PREFIX] = "SELECT " CONTAINER_COLS " FROM containers "
                               "WHERE id >= ?1 AND id < ?1 || char(127) LIMIT 2",
    [ST_CONTAINER_ID_BY_NAME] = "SELECT id FROM containers WHERE name = ?1",
    [ST_CONTAINER_LIST] =
        "SELECT " CONTAINER_COLS " FROM containers ORDER BY created DESC, rowid DESC",
    [ST_CONTAINER_LIST_BY_IMAGE] = "SELECT " CONTAINER_COLS " FROM containers WHERE image_id = ?1 "
                                   "ORDER BY created DESC, rowid DESC",
    [ST_CONTAINER_SAVE_STATE] = "UPDATE containers SET status = ?2, pid = ?3, pid_start = ?4, "
                                "monitor_pid = ?5, monitor_start = ?6, exit_code = ?7, "
                                "oom_killed = ?8, started_at = ?9, finished_at = ?10, error = ?11, "
                                "restart_count = ?12 WHERE id = ?1",
    [ST_CONTAINER_SAVE_CONFIG] = "UPDATE containers SET config = ?2 WHERE id = ?1",
    [ST_CONTAINER_RENAME] = "UPDATE containers SET name = ?2 WHERE id = ?1",
    [ST_CONTAINER_DELETE] = "DELETE FROM containers WHERE id = ?1",
    [ST_IMAGE_PUT] = "INSERT INTO images (" IMAGE_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                     "ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest, "
                     "config = excluded.config, size = excluded.size, created = excluded.created, "
                     "parent = excluded.parent",
    [ST_IMAGE_BY_ID] = "SELECT " IMAGE_COLS " FROM images WHERE id = ?1",
    [ST_IMAGE_BY_PREFIX] = "SELECT " IMAGE_COLS " FROM images "
                           "WHERE id >= ?1 AND id < ?1 || char(127) LIMIT 2",
    [ST_IMAGE_BY_TAG] = "SELECT i.id, i.manifest_digest, i.config, i.size, i.created, i.parent "
                        "FROM tags t JOIN images i ON i.id = t.image_id WHERE t.ref = ?1",
    [ST_IMAGE_BY_DIGEST_REF] = "SELECT i.id, i.manifest_digest, i.config, i.size, i.created, i.parent "
                               "FROM digests d JOIN images i ON i.id = d.image_id "
                               "WHERE d.ref = ?1",
    [ST_IMAGE_LIST] = "SELECT " IMAGE_COLS " FROM images ORDER BY created DESC, id",
    [ST_IMAGE_TAGS] = "SELECT ref FROM tags WHERE image_id = ?1 ORDER BY ref",
    [ST_IMAGE_DIGESTS] = "SELECT ref FROM digests WHERE image_id = ?1 ORDER BY ref",
    [ST_IMAGE_DELETE] = "DELETE FROM images WHERE id = ?1",
    [ST_IMAGE_USERS] = "SELECT count(*) FROM containers WHERE image_id = ?1",
    [ST_TAG_SET] = "INSERT INTO tags (ref, image_id) VALUES (?1, ?2) "
                   "ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id",
    [ST_TAG_REMOVE] = "DELETE FROM tags WHERE ref = ?1",
    [ST_TAGS_DELETE_FOR_IMAGE] = "DELETE FROM tags WHERE image_id = ?1",
    [ST_DIGEST_ADD] = "INSERT INTO digests (ref, image_id) VALUES (?1, ?2) "
                      "ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id",
    [ST_DIGEST_REMOVE] = "DELETE FROM digests WHERE ref = ?1",
    [ST_DIGESTS_DELETE_FOR_IMAGE] = "DELETE FROM digests WHERE image_id = ?1",
    [ST_EVENT_ADD] = "INSERT INTO events (time_ns, type, action, actor_id, attributes) "
                     "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_HEALTH_STATUS] = "SELECT status FROM container_health WHERE id = ?1",
    [ST_HEALTH_GET] = "SELECT health FROM container_health WHERE id = ?1",
    [ST_HEALTH_PUT] = "INSERT INTO container_health (id, status, health) VALUES (?1, ?2, ?3) "
                      "ON CONFLICT(id) DO UPDATE SET status = excluded.status, "
                      "health = excluded.health",
    [ST_EVENT_LIST] = "SELECT seq, time_ns, type, action, actor_id, attributes FROM events "
                      "WHERE seq > ?1 AND time_ns >= ?2 AND time_ns <= ?3 ORDER BY seq LIMIT 1000",
    [ST_EVENT_LAST_SEQ] = "SELECT coalesce(max(seq), 0) FROM events",
    [ST_VOLUME_INSERT] = "INSERT INTO volumes (" VOLUME_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_VOLUME_GET] = "SELECT " VOLUME_COLS " FROM volumes WHERE name = ?1",
    [ST_VOLUME_LIST] = "SELECT " VOLUME_COLS " FROM volumes ORDER BY name",
    [ST_VOLUME_DELETE] = "DELETE FROM volumes WHERE name = ?1",
    [ST_VOLUME_USERS] = "SELECT c.id FROM containers c, json_each(c.config, '$.MountPoints') m "
                        "WHERE json_extract(m.value, '$.Name') = ?1 ORDER BY c.created",
    [ST_NETWORK_INSERT] = "INSERT INTO networks (" NETWORK_COLS ") VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_NETWORK_BY_ID] = "SELECT " NETWORK_COLS " FROM networks WHERE id = ?1",
    [ST_NETWORK_BY_NAME] = "SELECT " NETWORK_COLS " FROM networks WHERE name = ?1",
    [ST_NETWORK_BY_PREFIX] = "SELECT " NETWORK_COLS " FROM networks "
                             "WHERE id >= ?1 AND id < ?1 || char(127)",
    [ST_NETWORK_LIST] = "SELECT " NETWORK_COLS " FROM networks ORDER BY name",
    [ST_NETWORK_SAVE_CONFIG] = "UPDATE networks SET config = ?2 WHERE id = ?1",
    [ST_NETWORK_DELETE] = "DELETE FROM networks WHERE id = ?1",
    [ST_ENDPOINT_ADD] = "INSERT INTO endpoints (" ENDPOINT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_ENDPOINT_REMOVE] = "DELETE FROM endpoints WHERE network_id = ?1 AND container_id = ?2",
    [ST_ENDPOINT_REMOVE_CONTAINER] = "DELETE FROM endpoints WHERE container_id = ?1",
    [ST_ENDPOINT_BY_NETWORK] = "SELECT " ENDPOINT_COLS " FROM endpoints WHERE network_id = ?1 "
                               "ORDER BY ip",
    [ST_ENDPOINT_BY_CONTAINER] = "SELECT " ENDPOINT_COLS " FROM endpoints "
                                 "WHERE container_id = ?1 ORDER BY network_id",
};

int store_db_err(struct mk_store *s, mk_err **err, const char *what)
{
    int code = sqlite3_extended_errcode(s->db);
    enum mk_err_kind kind = MK_ERR_INTERNAL;
    if ((code & 0xff) == SQLITE_CONSTRAINT)
        kind = MK_ERR_CONFLICT;
    return mk_err_set(err, kind, "%s: %s", what, sqlite3_errmsg(s->db));
}

sqlite3_stmt *store_stmt(struct mk_store *s, enum store_stmt id, mk_err **err)
{
    struct store_impl *impl = store_impl(s);
    sqlite3_stmt *st = impl->stmts[id];
    if (st != NULL) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
        SQLITE_OK) {
        store_db_err(s, err, "prepare statement");
        return NULL;
    }
    impl->stmts[id] = st;
    return st;
}

void store_stmt_resetp(sqlite3_stmt **st)
{
    if (*st != NULL)
        sqlite3_reset(*st);
}

int store_exec_stmt(struct mk_store *s, sqlite3_stmt *st, int *changes, mk_err **err,
                    const char *what)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        store_db_err(s, err, what);
        sqlite3_reset(st);
        return -1;
    }
    if (changes != NULL)
        *changes = sqlite3_changes(s->db);
    sqlite3_reset(st);
    return 0;
}

void store_bind_text(sqlite3_stmt *st, int idx, const char *v)
{
    if (v == NULL)
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT);
}

char *store_column_strdup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t != NULL ? xstrdup((const char *)t) : NULL;
}

json_t *store_column_json(sqlite3_stmt *st, int col, bool array)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    json_t *j = t != NULL ? json_loads(t, 0, NULL) : NULL;
    if (array ? !json_is_array(j) : !json_is_object(j)) {
        json_decref(j);
        j = array ? json_array() : json_object();
    }
    return j;
}

static int store_exec_sql(struct mk_store *s, const char *sql, mk_err **err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        mk_err_set(err, MK_ERR_INTERNAL, "%s", msg != NULL ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int mk_store_begin(struct mk_store *s, mk_err **err)
{
    if (store_exec_sql(s, "BEGIN IMMEDIATE", err) < 0)
        return mk_err_wrap(err, "begin transaction");
    return 0;
}

int mk_store_commit(struct mk_store *s, mk_err **err)
{
    if (store_exec_sql(s, "COMMIT", err) < 0) {
        mk_store_rollback(s);
        return mk_err_wrap(err, "commit");
    }
    return 0;
}

void mk_store_rollback(struct mk_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_tx_begin(struct mk_store *s, bool *owned, mk_err **err)
{
    *owned = false;
    if (!sqlite3_get_autocommit(s->db))
        return 0;
    if (mk_store_begin(s, err) < 0)
        return -1;
    *owned = true;
    return 0;
}

int store_tx_end(struct mk_store *s, bool owned, bool ok, mk_err **err)
{
    if (!owned)
        return ok ? 0 : -1;
    if (!ok) {
        mk_store_rollback(s);
        return -1;
    }
    return mk_store_commit(s, err);
}

static int store_user_version(struct mk_store *s, int *out, mk_err **err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return store_db_err(s, err, "read schema version");
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return store_db_err(s, err, "read schema version");
    }
    *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int store_migrate(struct mk_store *s, mk_err **err)
{
    /* journal_mode is stored in the database file: set once, when it is created. */
    if (store_exec_sql(s, "PRAGMA journal_mode=WAL", err) < 0)
        return mk_err_wrap(err, "enable WAL");
    if (mk_store_begin(s, err) < 0)
        return -1;
    /* Read again under the write lock: another process may have migrated meanwhile. */
    int version;
    if (store_user_version(s, &version, err) < 0)
        goto fail;
    for (int v = version; v < SCHEMA_VERSION; v++) {
        if (store_exec_sql(s, migrations[v], err) < 0) {
            mk_err_wrap(err, "migrate store schema to version %d", v + 1);
            goto fail;
        }
    }
    if (version < SCHEMA_VERSION) {
        /* PRAGMA takes no bound parameters; the value is our own constant. */
        _cleanup_free_ char *sql = xasprintf("PRAGMA user_version = %d", SCHEMA_VERSION);
        if (store_exec_sql(s, sql, err) < 0)
            goto fail;
    }
    return mk_store_commit(s, err);
fail:
    mk_store_rollback(s);
    return -1;
}

static const char *env_or(const char *given, const char *var, const char *dflt)
{
    if (given != NULL && *given != '\0')
        return given;
    const char *e = getenv(var);
    return e != NULL && *e != '\0' ? e : dflt;
}

static int store_make_dirs(struct mk_store *s, mk_err **err)
{
    static const char *const subdirs[] = {"blobs",   "blobs/sha256", "blobs/tmp", "layers",
                                          "volumes", "containers",   "trash"};
    s->root_fd = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (s->root_fd < 0 || faccessat(s->root_fd, "mocker.db", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
        /* First use of this root: lay it out. */
        if (s->root_fd < 0) {
            if (mk_mkdir_p(s->root, 0700, err) < 0)
                return -1;
            s->root_fd = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
            if (s->root_fd < 0)
                return mk_err_sys(err, "open %s", s->root);
        }
        for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
            if (mkdirat(s->root_fd, subdirs[i], 0700) < 0 && errno != EEXIST)
                return mk_err_sys(err, "mkdir %s/%s", s->root, subdirs[i]);
        }
    }
    /* The run root is on tmpfs: it disappears on reboot while the root stays. */
    _cleanup_free_ char *runc = mk_path_join(s->runroot, "containers");
    if (access(runc, F_OK) < 0 && mk_mkdir_p(runc, 0700, err) < 0)
        return -1;
    return 0;
}

/* Frames in the WAL after a commit, for mk_store_maintain.  Our hook
 * replaces SQLite's autocheckpoint, so it keeps that as the backstop. */
#define STORE_AUTOCHECKPOINT_FRAMES 1000

static int store_wal_hook(void *ctx, sqlite3 *db, const char *name, int frames)
{
    ((struct store_impl *)ctx)->wal_frames = frames;
    if (frames >= STORE_AUTOCHECKPOINT_FRAMES)
        sqlite3_wal_checkpoint(db, name);
    return SQLITE_OK;
}

const char *mk_store_runroot_default(void)
{
    return env_or(NULL, "MOCKER_RUNROOT", STORE_DEFAULT_RUNROOT);
}

int mk_store_open(const char *root, const char *runroot, struct mk_store **out, mk_err **err)
{
    _cleanup_free_ char *dbpath = NULL;
    struct store_impl *impl = xcalloc(1, sizeof(*impl));
    struct mk_store *s = &impl->pub;
    s->root_fd = -1;
    s->root = xstrdup(env_or(root, "MOCKER_ROOT", STORE_DEFAULT_ROOT));
    s->runroot = xstrdup(env_or(runroot, "MOCKER_RUNROOT", STORE_DEFAULT_RUNROOT));
    if (store_make_dirs(s, err) < 0)
        goto fail;

    dbpath = mk_path_join(s->root, "mocker.db");
    if (sqlite3_open_v2(dbpath, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        if (s->db == NULL)
            mk_err_set(err, MK_ERR_INTERNAL, "open %s: out of memory", dbpath);
        else
            store_db_err(s, err, dbpath);
        goto fail;
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    /* Keep the WAL file and its index across closes (recreating them costs every
     * short-lived command ~100 us); journal_size_limit bounds what a restart
     * of the WAL leaves of it. */
    int persist = 1;
    sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    /* No checkpoint when a command closes the store: a checkpoint fsyncs twice
     * and every short command would pay it.  Processes that have finished what
     * a user waits for checkpoint instead (mk_store_maintain), with
     * store_wal_hook's autocheckpoint as the backstop.  Durability against kill -9 is
     * unchanged: committed transactions are in the WAL either way. */
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    sqlite3_wal_hook(s->db, store_wal_hook, impl);
    if (store_exec_sql(s,
                       "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; "
                       "PRAGMA journal_size_limit=1048576",
                       err) < 0)
        goto fail_wrap;
    int version = 0;
    if (store_user_version(s, &version, err) < 0)
        goto fail_wrap;
    if (version > SCHEMA_VERSION) {
        mk_err_set(err, MK_ERR_INTERNAL,
                   "store schema version %d is newer than this mocker understands (%d)", version,
                   SCHEMA_VERSION);
        goto fail_wrap;
    }
    if (version < SCHEMA_VERSION && store_migrate(s, err) < 0)
        goto fail_wrap;
    *out = s;
    return 0;
fail_wrap:
    mk_err_wrap(err, "open %s", dbpath);
fail:
    mk_store_free(s);
    return -1;
}

/* The first connection to open the database rebuilds the WAL index by reading
 * every frame of the WAL whose salt is current, checkpointed or not: about
 * 2.3 us a frame here, paid by the next command on its way (each `run` is
 * such a first connection, and writes about 20 frames).  A checkpoint alone
 * does not shorten that: the frames stay valid until a writer restarts the
 * WAL, and only a writer that knows the WAL is all copied does, which a new
 * process, having rebuilt the index, does not (its index says nothing is
 * copied).  So, once the WAL holds a few runs' worth, the process that has
 * finished what a user waits for copies it into the database (PASSIVE: the
 * next command's writes go on meanwhile instead of waiting out its two
 * fdatasyncs) and, if all of it was copied, restarts it at once with a write
 * of one page.  Measured before: the WAL grew to 500+ frames between the rare
 * restarts (0.2 to 0.8 ms for the next open), and the next `run`'s insert
 * waited up to 1.8 ms for a RESTART checkpoint holding the write lock.  Not
 * TRUNCATE: the WAL is rewritten in place, so its blocks are neither freed (a
 * discard on a disk mounted with -o discard) nor allocated again.  A restart
 * that finds a reader still on the old frames gives up, harmlessly: the next
 * one will do it. */
#define STORE_WAL_RESTART_FRAMES 64

/* docker keeps its last 256 events in memory; the store keeps more, but not
 * all: unbounded, the table grows by about five rows per container run. */
#define STORE_EVENTS_KEEP 10000

void mk_store_maintain(struct mk_store *s)
{
    if (store_impl(s)->wal_frames < STORE_WAL_RESTART_FRAMES)
        return;
    /* The constant is ours, not input. */
    _cleanup_free_ char *trim =
        xasprintf("DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - %d",
                  STORE_EVENTS_KEEP);
    store_exec_sql(s, trim, NULL);
    int in_wal = -1, copied = -2;
    if (sqlite3_wal_checkpoint_v2(s->db, "main", SQLITE_CHECKPOINT_PASSIVE, &in_wal, &copied) !=
            SQLITE_OK ||
        copied != in_wal)
        return;
    /* Any write restarts a WAL this connection knows to be copied; this one
     * rewrites the schema version with its own value. */
    _cleanup_free_ char *restart = xasprintf("PRAGMA user_version = %d", SCHEMA_VERSION);
    store_exec_sql(s, restart, NULL);
}

void mk_store_free(struct mk_store *s)
{
    if (s == NULL)
        return;
    struct store_impl *impl = store_impl(s);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(impl->stmts[i]);
    json_decref(impl->config_cache);
    if (s->db != NULL)
        sqlite3_close_v2(s->db);
    if (s->root_fd >= 0)
        close(s->root_fd);
    free(s->root);
    free(s->runroot);
    free(impl);
}

/* flock on a directory of the root, made if missing. */
static int lock_dir(struct mk_store *s, const char *dir, bool exclusive, mk_err **err)
{
    int fd = openat(s->root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && mkdirat(s->root_fd, dir, 0700) == 0)
        fd = openat(s->root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return mk_err_sys(err, "open %s/%s", s->root, dir);
    int r;
    do
        r = flock(fd, exclusive ? LOCK_EX : LOCK_SH);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        mk_err_sys(err, "lock %s/%s", s->root, dir);
        close(fd);
        return -1;
    }
    return fd;
}

int mk_store_lock_layers(struct mk_store *s, bool exclusive, mk_err **err)
{
    return lock_dir(s, "layers", exclusive, err);
}

int mk_store_lock_volumes(struct mk_store *s, bool exclusive, mk_err **err)
{
    return lock_dir(s, "volumes", exclusive, err);
}

/* ---- paths ---- */

bool mk_store_digest_valid(const char *digest)
{
    return digest != NULL && mk_str_has_prefix(digest, "sha256:") && strlen(digest) == 71 &&
           mk_str_is_hex(digest + 7);
}

char *mk_store_container_dir(const struct mk_store *s, const char *id)
{
    return xasprintf("%s/containers/%s", s->root, id);
}

char *mk_store_container_rundir(const struct mk_store *s, const char *id)
{
    return xasprintf("%s/containers/%s", s->runroot, id);
}

char *mk_store_blob_path(const struct mk_store *s, const char *digest)
{
    if (!mk_store_digest_valid(digest))
        return NULL;
    return xasprintf("%s/blobs/sha256/%s", s->root, digest + 7);
}

char *mk_store_layer_dir(const struct mk_store *s, const char *chain_id)
{
    if (!mk_store_digest_valid(chain_id))
        return NULL;
    return xasprintf("%s/layers/%s", s->root, chain_id + 7);
}
