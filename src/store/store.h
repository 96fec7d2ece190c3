/* store.h: mocker's persistent state.
 *
 * Layout under the root (default /var/lib/mocker, MOCKER_ROOT):
 *   mocker.db                 SQLite, WAL: images, tags, containers, volumes, networks,
 *                             endpoints, events
 *   blobs/sha256/<hex>        content-addressed blobs (OCI image-layout style)
 *   blobs/tmp/                blobs being written (removed if a writer dies)
 *   layers/<chain-hex>/diff   unpacked layers, used as overlay lower dirs
 *   containers/<id>/          per container: config.json (OCI), upper/, work/,
 *                             hosts, hostname, resolv.conf, <id>-json.log
 *   volumes/<name>/_data      a volume's data
 * and under the run root (default /run/mocker, MOCKER_RUNROOT):
 *   containers/<id>/          attach.sock, monitor state; gone after reboot
 *
 * Every metadata change is one SQLite transaction; every file is written to a
 * temp name, fsynced and renamed, so kill -9 at any moment leaves a store that
 * the next command reads. */
#ifndef MK_STORE_H
#define MK_STORE_H

#include "util/util.h"

/* The root when MOCKER_ROOT does not say otherwise. */
#define MK_STORE_DEFAULT_ROOT "/var/lib/mocker"

#include <sqlite3.h>

struct mk_store {
    char *root;
    char *runroot;
    int root_fd; /* O_PATH|O_DIRECTORY fd of root */
    sqlite3 *db;
};

/* Open (creating and migrating as needed) the store.  NULL root/runroot mean
 * $MOCKER_ROOT / $MOCKER_RUNROOT or the defaults. */
int mk_store_open(const char *root, const char *runroot, struct mk_store **out, mk_err **err);
void mk_store_free(struct mk_store *s);
/* The run root mk_store_open(NULL, NULL) uses. */
const char *mk_store_runroot_default(void);
/* For a process that has done what a user waits for: once the WAL is long
 * (see db.c), drop all but the newest 10000 events and copy the WAL into the
 * database, for the next writer to restart it. */
void mk_store_maintain(struct mk_store *s);

/* BEGIN IMMEDIATE ... COMMIT, for changes that span several calls.  The store's
 * own read-modify-write functions join an open transaction instead of nesting. */
int mk_store_begin(struct mk_store *s, mk_err **err);
int mk_store_commit(struct mk_store *s, mk_err **err);
void mk_store_rollback(struct mk_store *s);

/* Hold the layer lock: shared while making a layer or blob that an image row is
 * about to reference (pull, import), exclusive while removing unused layers and
 * blobs (rmi), so one never deletes what the other is about to use.  Returns an
 * fd to close to release it. */
int mk_store_lock_layers(struct mk_store *s, bool exclusive, mk_err **err);
/* The same for volumes: shared from making a container's volumes until its
 * row names them (create), exclusive while removing one (volume rm, prune),
 * so a volume is never removed between the two. */
int mk_store_lock_volumes(struct mk_store *s, bool exclusive, mk_err **err);

/* ---- paths (new strings) ---- */
char *mk_store_container_dir(const struct mk_store *s, const char *id);
char *mk_store_container_rundir(const struct mk_store *s, const char *id);
/* Blob and layer paths are NULL when the digest is not "sha256:<64 hex>". */
char *mk_store_blob_path(const struct mk_store *s, const char *digest);   /* "sha256:<hex>" */
char *mk_store_layer_dir(const struct mk_store *s, const char *chain_id); /* layers/<hex> */
/* True for "sha256:" followed by 64 lowercase hex digits. */
bool mk_store_digest_valid(const char *digest);

/* ---- containers ---- */
struct mk_container {
    char *id;        /* 64 hex */
    char *name;      /* without the leading '/' */
    char *image;     /* as the user named it, docker's Config.Image */
    char *image_id;  /* "sha256:<hex>" */
    int64_t created; /* ns since the epoch */
    /* The docker create body, normalised: {"Config":{...},"HostConfig":{...}}. */
    json_t *config;
    /* state */
    char *status; /* created|running|paused|restarting|removing|exited|dead */
    pid_t pid;    /* container init in the host pid namespace */
    uint64_t pid_start;
    pid_t monitor_pid;
    uint64_t monitor_start;
    int exit_code;
    bool oom_killed;
    int64_t started_at;  /* ns, 0 if never */
    int64_t finished_at; /* ns, 0 if never */
    char *error;         /* State.Error, NULL if none */
    int restart_count;
};
void mk_container_free(struct mk_container *c);
/* Insert a new container.  A taken name is a CONFLICT with docker's wording. */
/* For a long-lived connection (mocker serve's): keep the container configs
 * parsed, and copy one whose stored text is unchanged instead of parsing it
 * again.  A short-lived command does not pay for the copies. */
void mk_store_keep_configs(struct mk_store *s);
int mk_store_container_insert(struct mk_store *s, const struct mk_container *c, mk_err **err);
/* Find by full id, unique id prefix or name ("/name" too).  NOT_FOUND says
 * "No such container: <ref>"; an ambiguous prefix is INVALID. */
int mk_store_container_get(struct mk_store *s, const char *ref, struct mk_container **out,
                           mk_err **err);
/* All containers, newest first. */
int mk_store_container_list(struct mk_store *s, struct mk_container ***out, size_t *n,
                            mk_err **err);
void mk_container_list_free(struct mk_container **v, size_t n);
/* Containers whose image_id is image_id, newest first. */
int mk_store_container_list_by_image(struct mk_store *s, const char *image_id,
                                     struct mk_container ***out, size_t *n, mk_err **err);
/* Write the state fields (status .. restart_count) of c->id. */
int mk_store_container_save_state(struct mk_store *s, const struct mk_container *c, mk_err **err);
/* Replace the stored config (docker update, rename of labels...). */
int mk_store_container_save_config(struct mk_store *s, const char *id, const json_t *config,
                                   mk_err **err);
int mk_store_container_rename(struct mk_store *s, const char *id, const char *name, mk_err **err);
int mk_store_container_delete(struct mk_store *s, const char *id, mk_err **err);
/* Compile now the statements a started container's monitor runs next (its
 * state, its events, its removal): a process compiles each on first use, and
 * the monitor has time to spare while the init sets up, not once it runs. */
void mk_store_container_prepare(struct mk_store *s);

/* ---- images ---- */
struct mk_image {
    char *id;              /* "sha256:<hex>", digest of the config blob */
    char *manifest_digest; /* "sha256:<hex>" of the manifest blob */
    json_t *config;        /* OCI image config */
    int64_t size;          /* bytes of the unpacked layers */
    int64_t created;       /* ns, from config "created" */
    char *parent;          /* "sha256:<hex>" of the image it was committed from, or NULL */
    char **tags;           /* full references: "docker.io/library/busybox:latest" */
    char **digests;        /* "docker.io/library/busybox@sha256:..." (registry pulls) */
};
void mk_image_free(struct mk_image *img);
void mk_image_list_free(struct mk_image **v, size_t n);
/* Insert or replace the image row (not its tags). */
int mk_store_image_put(struct mk_store *s, const struct mk_image *img, mk_err **err);
/* Exact id "sha256:<hex>", or a unique prefix of the hex (with or without "sha256:"). */
int mk_store_image_get_by_id(struct mk_store *s, const char *id_or_prefix, struct mk_image **out,
                             mk_err **err);
/* Exact full reference ("docker.io/library/busybox:latest"). NOT_FOUND if absent. */
int mk_store_image_get_by_tag(struct mk_store *s, const char *ref, struct mk_image **out,
                              mk_err **err);
int mk_store_image_list(struct mk_store *s, struct mk_image ***out, size_t *n, mk_err **err);
/* Point ref at image_id (moving it from any other image). */
int mk_store_tag_set(struct mk_store *s, const char *ref, const char *image_id, mk_err **err);
int mk_store_tag_remove(struct mk_store *s, const char *ref, mk_err **err);
int mk_store_digest_add(struct mk_store *s, const char *ref_at_digest, const char *image_id,
                        mk_err **err);
int mk_store_digest_remove(struct mk_store *s, const char *ref_at_digest, mk_err **err);
/* Image pointed at by a digest reference ("docker.io/library/x@sha256:..."). */
int mk_store_image_get_by_digest_ref(struct mk_store *s, const char *ref_at_digest,
                                     struct mk_image **out, mk_err **err);
/* Remove the image row and its tags/digests (blobs and layers are collected separately). */
int mk_store_image_delete(struct mk_store *s, const char *id, mk_err **err);
/* Number of containers whose image_id is id. */
int mk_store_image_users(struct mk_store *s, const char *id, int *out, mk_err **err);

/* ---- blobs ---- */
struct mk_blob_writer;
int mk_blob_writer_new(struct mk_store *s, struct mk_blob_writer **out, mk_err **err);
int mk_blob_writer_write(struct mk_blob_writer *w, const void *data, size_t len, mk_err **err);
/* Verify against expected (NULL: accept), fsync, rename into place.  *out_digest
 * (may be NULL) receives "sha256:<hex>".  The writer must still be freed. */
int mk_blob_writer_commit(struct mk_blob_writer *w, const char *expected, char **out_digest,
                          mk_err **err);
/* Size written so far. */
int64_t mk_blob_writer_size(const struct mk_blob_writer *w);
/* "sha256:<hex>" of the data written so far (new string). */
char *mk_blob_writer_digest(const struct mk_blob_writer *w);
/* A new read-only fd on the data written so far, to check it before commit. */
int mk_blob_writer_reopen(struct mk_blob_writer *w, mk_err **err);
/* Frees; removes the temp file if not committed. NULL is fine. */
void mk_blob_writer_free(struct mk_blob_writer *w);
int mk_store_blob_put(struct mk_store *s, const void *data, size_t len, char **out_digest,
                      mk_err **err);
bool mk_store_blob_exists(struct mk_store *s, const char *digest);
/* Read a whole blob and check its digest. */
int mk_store_blob_read(struct mk_store *s, const char *digest, char **out, size_t *len,
                       mk_err **err);
/* Open a blob for reading (O_RDONLY|O_CLOEXEC); the caller streams and verifies. */
int mk_store_blob_open(struct mk_store *s, const char *digest, mk_err **err);
/* Remove a blob; a missing one is fine.  Callers hold mk_store_lock_layers exclusively. */
int mk_store_blob_remove(struct mk_store *s, const char *digest, mk_err **err);
/* Remove what killed writers left behind, older than an hour: files in blobs/tmp/
 * (but a live writer's, which it holds locked) and layers/tmp-<random> (layers being
 * unpacked or removed, only ever made under the layer lock).  The caller holds
 * mk_store_lock_layers exclusively; rmi and image prune run it. */
int mk_store_gc_tmp(struct mk_store *s, mk_err **err);

/* ---- volumes (volumes.c) ---- */
struct mk_volume {
    char *name;
    char *driver;    /* "local" */
    json_t *labels;  /* object of strings */
    json_t *options; /* the driver's options (-o), object of strings */
    int64_t created; /* ns */
    bool anonymous;  /* made for -v /path or an image VOLUME, not by name */
};
void mk_volume_free(struct mk_volume *v);
void mk_volume_list_free(struct mk_volume **v, size_t n);
/* A taken name is CONFLICT. */
int mk_store_volume_insert(struct mk_store *s, const struct mk_volume *v, mk_err **err);
/* NOT_FOUND is dockerd's "get NAME: no such volume". */
int mk_store_volume_get(struct mk_store *s, const char *name, struct mk_volume **out, mk_err **err);
/* All volumes, by name. */
int mk_store_volume_list(struct mk_store *s, struct mk_volume ***out, size_t *n, mk_err **err);
/* Ids of the containers (any state) whose config's MountPoints name the
 * volume, oldest first; a NULL-terminated list, empty when unused. */
int mk_store_volume_users(struct mk_store *s, const char *name, char ***ids, mk_err **err);
int mk_store_volume_delete(struct mk_store *s, const char *name, mk_err **err);

/* ---- networks and endpoints (networks.c) ---- */
struct mk_network {
    char *id;        /* 64 hex */
    char *name;
    char *driver;    /* "bridge", "host", "null" */
    int64_t created; /* ns */
    /* {"Subnet","Gateway","IPRange" (IPv4 CIDR strings, absent when none),
     *  "Internal","Attachable","EnableIPv6" (booleans), "Labels","Options"
     *  (objects of strings), "Bridge" (the Linux bridge's name), "UserSubnet"
     *  (true when the user gave the subnet: only then may a container ask
     *  for an address of its own, as docker)} */
    json_t *config;
};
void mk_network_free(struct mk_network *n);
void mk_network_list_free(struct mk_network **v, size_t n);
/* A taken name is CONFLICT "network with name NAME already exists". */
int mk_store_network_insert(struct mk_store *s, const struct mk_network *n, mk_err **err);
/* docker's resolution order: full id, name, then a unique id prefix.  NOT_FOUND
 * "network REF not found"; a prefix of several ids is INVALID "network REF is
 * ambiguous (N matches found based on ID prefix)". */
int mk_store_network_get(struct mk_store *s, const char *ref, struct mk_network **out,
                         mk_err **err);
/* All networks, by name. */
int mk_store_network_list(struct mk_store *s, struct mk_network ***out, size_t *n, mk_err **err);
int mk_store_network_save_config(struct mk_store *s, const char *id, const json_t *config,
                                 mk_err **err);
/* A network that still has endpoints is CONFLICT (the caller words it). */
int mk_store_network_delete(struct mk_store *s, const char *id, mk_err **err);

/* A container's lease on a network: its address (IPv4, host byte order), MAC
 * ("02:42:ac:11:00:02") and network-scoped aliases.  Removing the container's
 * row removes its leases. */
struct mk_net_endpoint {
    char *network_id;
    char *container_id;
    uint32_t ip;
    char *mac;
    json_t *aliases; /* array of strings, never NULL when read */
};
void mk_net_endpoint_free(struct mk_net_endpoint *ep);
void mk_net_endpoint_list_free(struct mk_net_endpoint **v, size_t n);
/* CONFLICT "Address already in use" when another container of the network has
 * the address, CONFLICT too when the container already has an endpoint there. */
int mk_store_endpoint_add(struct mk_store *s, const struct mk_net_endpoint *ep, mk_err **err);
/* The container's endpoint on network_id, or with network_id NULL every
 * endpoint of the container.  Removing what is not there is no error. */
int mk_store_endpoint_remove(struct mk_store *s, const char *network_id, const char *container_id,
                             mk_err **err);
/* A network's endpoints by address; a container's by network id. */
int mk_store_endpoint_list_by_network(struct mk_store *s, const char *network_id,
                                      struct mk_net_endpoint ***out, size_t *n, mk_err **err);
int mk_store_endpoint_list_by_container(struct mk_store *s, const char *container_id,
                                        struct mk_net_endpoint ***out, size_t *n, mk_err **err);

/* ---- container health (docker's State.Health) ---- */
/* *out: the stored {"Status","FailingStreak","Log"} object, or NULL (and 0)
 * when the container never ran a healthcheck. */
int mk_store_health_get(struct mk_store *s, const char *id, json_t **out, mk_err **err);
/* Just the Status ("starting", "healthy", "unhealthy"), NULL if none: what ps reads. */
int mk_store_health_status(struct mk_store *s, const char *id, char **out, mk_err **err);
int mk_store_health_put(struct mk_store *s, const char *id, const json_t *health, mk_err **err);

/* ---- events ---- */
/* type: "container"|"image"|...; attrs: object of strings (borrowed), may be NULL. */
int mk_store_event_add(struct mk_store *s, const char *type, const char *action, const char *id,
                       const json_t *attrs, mk_err **err);
struct mk_event {
    int64_t seq; /* orders events across processes */
    int64_t time_ns;
    const char *type, *action, *actor_id;
    json_t *attrs; /* object of strings, never NULL */
};
/* Call fn for each event after seq after_seq with since_ns <= time <= until_ns,
 * oldest first; fn returns <0 to stop.  *last_seq gets the last seq passed to
 * fn (unchanged if none), for the next call of a follower. */
/* The newest event's sequence number (0 without events): following from it
 * misses nothing written later, whatever the writers' clocks said. */
int64_t mk_store_event_last_seq(struct mk_store *s);
int mk_store_event_list(struct mk_store *s, int64_t after_seq, int64_t since_ns, int64_t until_ns,
                        int (*fn)(void *ctx, const struct mk_event *ev), void *ctx,
                        int64_t *last_seq, mk_err **err);

#endif
