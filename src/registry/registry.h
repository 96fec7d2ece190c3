/* registry.h: a client for the OCI distribution API (docker registries).
 *
 * One struct mk_registry per registry host and repository scope: it knows the
 * endpoint (docker.io is registry-1.docker.io), the scheme (HTTPS; plain HTTP
 * for loopback hosts and registries listed as insecure), the TLS material of
 * <etc>/certs.d/<host>/ (docker's convention), the credentials stored by
 * `mocker login`, and caches the bearer token a token server handed out until
 * it expires.  HTTP is libcurl, loaded on first use (see util/lazylib.c). */
#ifndef MK_REGISTRY_H
#define MK_REGISTRY_H

#include "registry/credentials.h"
#include "util/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Directory of mocker's host configuration: $MOCKER_ETC, default /etc/mocker.
 * Holds certs.d/<host[:port]>/{ca.crt,*.cert,*.key} and daemon.json
 * ({"insecure-registries": ["host:port", "10.0.0.0/8", ...]}). */
const char *mk_registry_etc_dir(void);

struct mk_registry;

/* A client for repository `repo` ("library/busybox") on registry `domain`
 * (as in struct mk_ref: "docker.io", "localhost:5000").  Credentials come from
 * the docker config (registry/credentials.h) unless username is given. */
struct mk_registry_opts {
    const char *domain;
    const char *repo;
    bool push;            /* ask for pull,push scope rather than pull */
    const char *username; /* explicit credentials (login), or NULL */
    const char *password;
    /* credentials a client handed over (the Engine API's X-Registry-Auth),
     * used instead of the stored ones; NULL: the stored ones */
    const struct mk_auth *auth;
};
int mk_registry_open(const struct mk_registry_opts *o, struct mk_registry **out, mk_err **err);
void mk_registry_free(struct mk_registry *r);

/* `mocker login`: ping /v2/ and authenticate with username/password (Basic,
 * or a Bearer token from the realm the registry names).  Succeeds only when
 * the registry accepted them.  *identity_token (may be NULL) gets the refresh
 * token a token server returned, NULL if none.  UNAUTHORIZED errors carry the
 * registry's own message. */
int mk_registry_login(const char *domain, const char *username, const char *password,
                      char **identity_token, mk_err **err);

/* The media types a pull accepts, in docker's order of preference. */
#define MK_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MK_MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define MK_MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define MK_MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define MK_MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define MK_MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define MK_MT_DOCKER_LAYER_GZ "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MK_MT_OCI_LAYER       "application/vnd.oci.image.layer.v1.tar"
#define MK_MT_OCI_LAYER_GZ    "application/vnd.oci.image.layer.v1.tar+gzip"
#define MK_MT_OCI_LAYER_ZSTD  "application/vnd.oci.image.layer.v1.tar+zstd"

/* GET a manifest or index by tag or digest.  The body is verified against
 * the digest when reference is a digest; *digest always gets the sha256 of
 * the bytes received.  A schema 1 manifest is refused with a clear error. */
struct mk_manifest_blob {
    char *body;
    size_t len;
    char *media_type;
    char *digest;
};
void mk_manifest_blob_clear(struct mk_manifest_blob *m);
int mk_registry_get_manifest(struct mk_registry *r, const char *reference,
                             struct mk_manifest_blob *out, mk_err **err);

/* GET a blob, streaming its bytes to sink (which returns <0 to abort).  The
 * caller verifies the digest over what it was given (the registry client
 * only follows redirects, never trusting them with credentials). */
typedef int (*mk_registry_sink)(void *ctx, const void *data, size_t len, mk_err **err);
int mk_registry_get_blob(struct mk_registry *r, const char *digest, int64_t offset,
                         mk_registry_sink sink, void *ctx, mk_err **err);

/* The repository's tags (GET tags/list, following its pages). */
int mk_registry_list_tags(struct mk_registry *r, char ***out, mk_err **err);

/* Push side. */
int mk_registry_blob_exists(struct mk_registry *r, const char *digest, bool *exists,
                            mk_err **err);
/* Cross-repository mount from repo `from` on the same registry (tokens are
 * asked for pull on `from` from then on): *mounted false when the registry
 * would rather have an upload, or refuses. */
int mk_registry_mount_blob(struct mk_registry *r, const char *digest, const char *from,
                           bool *mounted, mk_err **err);
/* Upload size bytes read from fd as blob digest (POST then PUT, monolithic). */
typedef void (*mk_registry_progress)(void *ctx, int64_t done, int64_t total);
int mk_registry_upload_blob(struct mk_registry *r, const char *digest, int fd, int64_t size,
                            mk_registry_progress progress, void *ctx, mk_err **err);
int mk_registry_put_manifest(struct mk_registry *r, const char *reference, const char *media_type,
                             const void *body, size_t len, mk_err **err);

/* ---- pure helpers (unit-tested) ---- */
/* Parse a WWW-Authenticate header: scheme ("Bearer"/"Basic", case as sent)
 * and the realm, service and scope parameters (NULL when absent). */
struct mk_auth_challenge {
    char *scheme, *realm, *service, *scope, *error;
};
int mk_auth_challenge_parse(const char *header, struct mk_auth_challenge *out, mk_err **err);
void mk_auth_challenge_clear(struct mk_auth_challenge *c);

#endif
