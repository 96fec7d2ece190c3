/* image.h: image references, local images (import, lookup, removal) and layers. */
#ifndef MK_IMAGE_H
#define MK_IMAGE_H

#include "registry/credentials.h"
#include "store/store.h"

/* ---- references, normalised as docker does ---- */
struct mk_ref {
    char *domain; /* "docker.io" */
    char *path;   /* "library/busybox" */
    char *tag;    /* "latest" when neither tag nor digest was given; NULL with a digest only */
    char *digest; /* "sha256:..." or NULL */
};
/* Parse "busybox", "busybox:1.36", "localhost:5000/a/b:t", "x@sha256:...".
 * Invalid names give docker's message: invalid reference format. */
int mk_ref_parse(const char *s, struct mk_ref **out, mk_err **err);
void mk_ref_free(struct mk_ref *r);
char *mk_ref_string(const struct mk_ref *r);        /* "docker.io/library/busybox:latest" */
char *mk_ref_familiar(const struct mk_ref *r);      /* "busybox:latest" */
char *mk_ref_familiar_repo(const struct mk_ref *r); /* "busybox" */
/* True when name spells a tag ("x:1", "host:5000/x:1"): a ':' after the last '/'. */
bool mk_ref_has_tag(const char *name);
/* Familiar form of a stored full reference string ("docker.io/library/x:t" -> "x:t"). */
char *mk_ref_familiarize(const char *full);

/* ---- platforms (image/platform.c), as docker spells and matches them ---- */
#define MK_PLATFORM_FIELD 64
struct mk_platform {
    char os[MK_PLATFORM_FIELD];           /* "linux" */
    char architecture[MK_PLATFORM_FIELD]; /* GOARCH: "amd64", "arm64", "arm" */
    char variant[MK_PLATFORM_FIELD];      /* "" or "v8", "v7"... */
};
/* A --platform specifier: os, arch, os/arch or os/arch/variant, normalised
 * (case, x86_64 -> amd64, aarch64 -> arm64, armhf -> arm, armel -> arm/v6,
 * i386 -> 386; "linux/arm64/v8" keeps its v8, "linux/arm64" has none).
 * INVALID with dockerd's wording: "\"foo\": unknown operating system or
 * architecture: invalid argument". */
int mk_platform_parse(const char *s, struct mk_platform *out, mk_err **err);
/* This machine's platform, from uname (arm64 has variant v8, as docker). */
void mk_platform_host(struct mk_platform *out);
/* In place: lower case, aliases folded, default variants dropped (arm64 v8). */
void mk_platform_normalize(struct mk_platform *p);
/* "linux/arm64/v8", "linux/amd64" (no empty parts); "unknown" without an os. */
char *mk_platform_format(const struct mk_platform *p);
/* An image config's os/architecture/variant; false if it names no architecture. */
bool mk_platform_from_config(const json_t *config, struct mk_platform *out);
/* Does a runtime of platform `want` accept an image of `candidate`?  0: no;
 * else a rank, 1 best: want itself (normalised: arm64 == arm64/v8), then the
 * older variants of its family in docker's order (arm/v7: v6, v5; arm64:
 * arm/v8..v5; amd64/v3: v2, v1, then 386). */
int mk_platform_match(const struct mk_platform *want, const struct mk_platform *candidate);
/* mk_platform_match, plus an image that names no variant runs where its os
 * and architecture match: the test behind run's platform warning. */
bool mk_platform_runs_on(const struct mk_platform *host, const struct mk_platform *image);
/* The entry of an image index's "manifests" array to pull for `want`: the
 * best-ranked match, the first one among equals; attestation manifests
 * (annotation vnd.docker.reference.type, platform unknown/unknown) never.
 * NOT_FOUND: "no matching manifest for linux/arm64/v8 in the manifest list
 * entries" (want as given). */
int mk_platform_choose(const json_t *manifests, const struct mk_platform *want, size_t *index,
                       mk_err **err);

/* ---- local images ---- */
/* Find an image by name[:tag], full or short id.  NOT_FOUND: "No such image: <name>". */
int mk_image_lookup(struct mk_store *s, const char *name, struct mk_image **out, mk_err **err);

struct mk_import_opts {
    const char *ref; /* REPO[:TAG] to tag, or NULL */
    char **changes;  /* Dockerfile instructions: CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL,
                        VOLUME */
    const char *message; /* -m: history comment */
    /* --platform: the config's os, architecture and variant; NULL: the host's */
    const struct mk_platform *platform;
};
/* docker import: read a tar (plain, gzip, xz, bzip2, zstd) from fd, store it as
 * a one-layer OCI image.  *out_id gets "sha256:<hex>". */
int mk_image_import(struct mk_store *s, int fd, const struct mk_import_opts *opts, char **out_id,
                    mk_err **err);
/* The full reference to tag a new image with (import, commit): *out NULL for
 * NULL or "", INVALID for a digest reference, as docker. */
int mk_image_new_tag(const char *name, char **out, mk_err **err);
/* A new image: parent's layers (none without one) plus the layer tar in
 * layer (NULL: no new layer).  config is the complete OCI config but for the
 * new layer's diff id, which is appended to its rootfs.diff_ids.  The caller
 * holds mk_store_lock_layers (shared).  Stores the layer, config and manifest
 * blobs, then the image row and tag in one transaction; emits the image event
 * action (may be NULL) and "tag". */
struct mk_image_new {
    const struct mk_image *parent;
    struct mk_blob_writer *layer;
    json_t *config;
    int64_t created; /* ns, the config's "created" */
    const char *tag; /* full reference or NULL */
    const char *action;
};
int mk_image_create(struct mk_store *s, const struct mk_image_new *n, char **out_id, mk_err **err);
/* Apply Dockerfile-style --change instructions to an OCI image config (its
 * "config" object, created if missing).  Docker's messages; nothing is changed
 * unless every instruction applies. */
int mk_image_apply_changes(json_t *config, char *const *changes, mk_err **err);

/* Chain ids of an image's layers, bottom first (OCI: the first is the first
 * diff id, then sha256("<parent chain id> <diff id>")).  Empty for no layers. */
int mk_image_chain_ids(const json_t *config, char ***out, mk_err **err);
char *mk_layer_chain_id(const char *parent, const char *diff_id); /* parent NULL: first */

/* Overlay lower dirs of an image, topmost first (as overlayfs lowerdir= wants).
 * An image with no layers yields one empty directory. */
int mk_image_lower_dirs(struct mk_store *s, const struct mk_image *img, char ***out, mk_err **err);
/* A container's lower dirs: the store's init layer (made if missing) on top
 * of its image's.  The init layer holds the mount points every container
 * gets (/etc/hosts, /etc/hostname, /etc/resolv.conf, /proc, /sys, /dev), as
 * docker's per-container "-init" layer does, but once for all containers:
 * nothing is made in a container's upper dir to mount on. */
int mk_container_lower_dirs(struct mk_store *s, const struct mk_image *img, char ***out,
                            mk_err **err);
/* Look a file up through an overlay stack without mounting it: first of dirs
 * (topmost first) that has rel (honouring whiteouts). NULL if none. */
char *mk_layers_find_file(char *const *dirs, const char *rel);

/* ---- storing layers (layer_store.c) ---- */
#define MK_MEDIA_OCI_LAYER    "application/vnd.oci.image.layer.v1.tar"
#define MK_MEDIA_OCI_CONFIG   "application/vnd.oci.image.config.v1+json"
#define MK_MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MK_MEDIA_OCI_INDEX    "application/vnd.oci.image.index.v1+json"
/* {"mediaType","digest","size"} */
json_t *mk_image_descriptor(const char *media_type, const char *digest, int64_t size);
/* An image event (import, commit, load, save, tag...) with attrs {"name": name}; a
 * failure to record it is ignored: the operation itself happened. */
void mk_image_event(struct mk_store *s, const char *action, const char *id, const char *name);
/* Feed the decompressed bytes of fd (plain, gzip, xz, bzip2, zstd) to sink. */
int mk_layer_decompress(int fd, int (*sink)(void *ctx, const void *buf, size_t n, mk_err **err),
                        void *ctx, mk_err **err);
/* Unpack a layer tar into a new layers/tmp-<random>/diff; *tmp_name gets its
 * name relative to layers/ and *size (may be NULL) the bytes unpacked. */
int mk_layer_unpack_temp(struct mk_store *s, int tar_fd, char **tmp_name, int64_t *size,
                         mk_err **err);
/* Rename an unpacked temp layer to layers/<chain hex>, or drop it when that
 * layer is there already.  The temp layer is gone afterwards either way. */
int mk_layer_install(struct mk_store *s, const char *tmp_name, const char *chain_id, mk_err **err);
void mk_layer_discard_temp(struct mk_store *s, const char *tmp_name); /* NULL is fine */
/* True when layers/<chain hex>/diff exists. */
bool mk_layer_present(struct mk_store *s, const char *chain_id);

/* Lexically clean a tar member name relative to a root: strip leading '/',
 * drop "." components, resolve "..".  NULL if it climbs out of the root. */
char *mk_tar_name_clean(const char *name);
/* Extract a tar stream into dir (which must exist and be empty), converting
 * OCI whiteouts to overlayfs ones and never writing outside dir. *out_size
 * (may be NULL) gets the bytes unpacked. */
int mk_layer_extract(int tar_fd, const char *dir, int64_t *out_size, mk_err **err);
/* The same, started in a child process and finished later, so a download can
 * stream into it: with in_fd < 0, u->input is a socket to write the layer
 * into (compressed or not).  want_digest: finish gives the diff id, the
 * sha256 of the uncompressed tar.  Start every child before any thread (the
 * child is a fork). */
struct mk_unpack {
    pid_t pid;
    int input;  /* the caller's end of the stream, or -1 */
    int result; /* the child's report */
};
int mk_layer_unpack_start(int in_fd, const char *dir, bool want_digest, struct mk_unpack *u,
                          mk_err **err);
/* Close the input, wait, report.  *out_diff_id: "sha256:<hex>" when wanted. */
int mk_layer_unpack_finish(struct mk_unpack *u, int64_t *out_size, char **out_diff_id,
                           mk_err **err);
void mk_layer_unpack_abort(struct mk_unpack *u);

/* docker diff of an overlay upper dir against the layers under it (topmost
 * first): the Engine API's [{"Path":"/etc","Kind":0}] (0 changed, 1 added,
 * 2 deleted), parents before children. */
int mk_layer_changes(const char *upper, char *const *lower_dirs, json_t **out, mk_err **err);
/* Write an upper dir as a layer tar (overlay whiteouts and opaque dirs become
 * .wh. entries) into w.  changes is its mk_layer_changes list. */
int mk_layer_tar_upper(const char *upper, const json_t *changes, struct mk_blob_writer *w,
                       mk_err **err);

/* docker history: the image's history entries, newest first, as dockerd's
 * ImageHistory returns them: [{"Id","Created" (unix seconds),"CreatedBy","Tags",
 * "Size","Comment"}].  Size is the layer the entry made, measured as docker
 * does, 0 for an empty_layer entry.  Id is the image's on the newest row, then
 * its parents' while the commit chain is stored, "<missing>" below. */
int mk_image_history(struct mk_store *s, const struct mk_image *img, json_t **out, mk_err **err);

/* docker image inspect's object (dockerd 20.10's ImageInspect shape). */
json_t *mk_image_inspect_json(struct mk_store *s, const struct mk_image *img);

/* ---- listing: docker images, GET /images/json ---- */
struct mk_image_filters {
    int dangling;     /* -1: not given, else 0/1 */
    char **references; /* reference= patterns (Go's path.Match on familiar names) */
    char **labels;     /* label=k / label=k=v: all must match */
    char **not_labels; /* label!= (prune): none may match */
    bool before, since, until;
    int64_t before_ns, since_ns, until_ns; /* created times to compare with */
};
/* Parse docker's "key=value" filter strings, taking only the keys in accepted
 * (NULL-terminated), with dockerd's errors: "Invalid filter 'key'", "Invalid
 * filter 'dangling=[x]'", "No such image: x:latest" for before=/since=.
 * prune: dangling=false wins over dangling=true (the CLI adds one of them). */
int mk_image_filters_parse(struct mk_store *s, char *const *kv, const char *const *accepted,
                           bool prune, struct mk_image_filters *f, mk_err **err);
void mk_image_filters_clear(struct mk_image_filters *f);
/* The filter keys of dockerd's image list (docker images, GET /images/json). */
extern const char *const mk_image_list_filters[];
/* The until/before/since/label filters (not dangling or reference). */
bool mk_image_filters_match(const struct mk_image_filters *f, const struct mk_image *img);
/* 1 if a stored full reference matches one of patterns (docker's FamiliarMatch:
 * the familiar string, then the familiar name), 0 if not, -1 on a bad pattern. */
int mk_image_ref_matches(char *const *patterns, const char *full, mk_err **err);
/* True if an image of all[0..n) was committed from id. */
bool mk_image_has_children(struct mk_image *const *all, size_t n, const char *id);
/* The Engine API's ImageSummary of img with the given RepoTags/RepoDigests
 * (stolen): Containers and SharedSize -1 (not computed), Created in seconds. */
json_t *mk_image_summary_json(const struct mk_image *img, json_t *tags, json_t *digests);
/* dockerd's image list, newest first, as ImageSummary objects; a dangling
 * image has RepoTags ["<none>:<none>"] and RepoDigests ["<none>@<none>"].
 * all: also untagged images that have children. */
int mk_image_list(struct mk_store *s, const struct mk_image_filters *f, bool all, json_t **out,
                  mk_err **err);

/* rmi: untag `name`, or delete the image when it was the last tag or an id was
 * given, with docker's conflict rules and wording (CONFLICT): an image with
 * children, or used by a running container, cannot be removed even forced; a
 * stopped container's image and an image with several names can with force.
 * Untagged parents nothing uses go too unless no_prune.  Appends docker's
 * "Untagged: x" / "Deleted: sha256:..." lines (images, then the layers they
 * freed) to *report.  Layers and blobs nothing needs are removed under the
 * exclusive layer lock; reclaimed gets their unpacked size. */
struct mk_image_rm {
    bool force;
    bool no_prune;
    int64_t reclaimed; /* out */
};
int mk_image_remove_with(struct mk_store *s, const char *name, struct mk_image_rm *o,
                         char ***report, mk_err **err);
/* mk_image_remove_with without no_prune. */
int mk_image_remove(struct mk_store *s, const char *name, bool force, char ***report, mk_err **err);
/* The image a container was created from: its row, or, after rmi -f removed
 * the row of a stopped container's image, a row-less image (no tags) read
 * from the config blob that rmi keeps while a container uses it. */
int mk_image_get_for_container(struct mk_store *s, const char *image_id, struct mk_image **out,
                               mk_err **err);
/* docker image prune: dangling images (f->dangling -1 or 1) or every image
 * (f->dangling 0, prune -a) that no container uses and the until/label/label!
 * filters keep, with their untagged parents.  Appends the rmi lines of what
 * went to *report; *reclaimed gets the size of the layers removed. */
int mk_image_prune(struct mk_store *s, const struct mk_image_filters *f, char ***report,
                   int64_t *reclaimed, mk_err **err);
/* Tag source image as target ref. */
int mk_image_tag(struct mk_store *s, const char *source, const char *target, mk_err **err);

/* docker save: the images names name (REPO: all its tags; REPO:TAG; an id or
 * REPO@DIGEST: untagged) as one tar to out_fd that is both a docker-archive
 * (manifest.json, repositories) and an OCI layout (oci-layout, index.json),
 * as docker 25+ writes it.  Emits "save" image events. */
int mk_image_save(struct mk_store *s, char *const *names, int out_fd, mk_err **err);

/* docker load: a docker-archive or an OCI archive (plain or compressed) from
 * in_fd.  Everything is verified before anything is stored; on failure no
 * image row, tag or layer is added.  *report gets docker's lines ("Loaded
 * image: x:t", "Loaded image ID: sha256:..."); "load" image events. */
struct mk_load_opts {
    /* called for each layer unpacked, with its diff id and archive size */
    void (*on_layer)(void *ctx, const char *diff_id, int64_t size);
    void *ctx;
};
int mk_image_load(struct mk_store *s, int in_fd, const struct mk_load_opts *opts, char ***report,
                  mk_err **err);

/* ---- pull ---- */
/* A progress message, docker's JSON-message status: id is a layer's short id
 * (or the tag for "Pulling from", NULL for the final lines); current/total in
 * bytes for "Downloading" (current < 0: no bar). */
struct mk_progress {
    const char *id;
    const char *status;
    int64_t current, total;
};
typedef void (*mk_progress_fn)(void *ctx, const struct mk_progress *p);
/* docker's "[=====>      ]  12.3MB/45.6MB" (the bar only when total > 0). */
char *mk_progress_bar(int64_t current, int64_t total);

struct mk_pull_opts {
    const char *name;     /* as the user wrote it: "busybox", "host:5000/a/b@sha256:..." */
    const char *platform; /* "linux/arm64" or NULL for the host's */
    mk_progress_fn progress; /* called from several threads, one call at a time */
    void *ctx;
    bool no_status; /* pull -a: no "Status: ..." per tag, the caller says it once */
    const struct mk_auth *auth; /* a client's credentials (X-Registry-Auth), NULL: the stored ones */
};
struct mk_pull_result {
    char *id;        /* "sha256:..." of the config */
    char *reference; /* full reference pulled */
    char *digest;    /* what the reference resolved to (the index's for multi-platform) */
    bool updated;    /* false: the tag already named this image */
};
void mk_pull_result_clear(struct mk_pull_result *r);
int mk_image_pull(struct mk_store *s, const struct mk_pull_opts *o, struct mk_pull_result *out,
                  mk_err **err);

/* The tags of name's repository on its registry (pull --all-tags). */
int mk_image_remote_tags(const char *name, char ***out, mk_err **err);

/* ---- push ---- */
struct mk_push_opts {
    const char *name; /* NAME[:TAG], tag latest when absent */
    mk_progress_fn progress;
    void *ctx;
    bool no_header; /* push -a after its first tag: the repository was named */
    const struct mk_auth *auth; /* a client's credentials (X-Registry-Auth), NULL: the stored ones */
    int64_t *out_size;          /* may be NULL: gets the pushed manifest's size */
};
/* *out_digest: the pushed manifest's digest. */
int mk_image_push(struct mk_store *s, const struct mk_push_opts *o, char **out_digest,
                  mk_err **err);

#endif
