/* credentials.h: registry credentials in the docker CLI's config.json
 * ($DOCKER_CONFIG/config.json, else ~/.docker/config.json), so `mocker login`
 * and `docker login` share them: "auths" entries (base64 "user:password", or an
 * identity token), "credsStore" and "credHelpers" through the
 * docker-credential-<name> helper programs (their stdin/stdout protocol). */
#ifndef MK_REGISTRY_CREDENTIALS_H
#define MK_REGISTRY_CREDENTIALS_H

#include "util/util.h"

struct mk_auth {
    char *username;
    char *password;       /* NULL when identity_token is set */
    char *identity_token; /* refresh token from a token server, or NULL */
};
void mk_auth_clear(struct mk_auth *a);

/* The key docker files a registry under: "https://index.docker.io/v1/" for
 * docker.io (and its aliases index.docker.io, registry-1.docker.io), else the
 * host[:port] without scheme or path. */
char *mk_creds_key(const char *domain);

/* The docker configuration file: $DOCKER_CONFIG/config.json, else
 * $HOME/.docker/config.json (the passwd entry's home without HOME). */
char *mk_creds_config_path(void);

/* Credentials for domain: *out zeroed (all NULL) and 0 when there are none.
 * A helper's identity token comes without a username (docker keeps none). */
int mk_creds_get(const char *domain, struct mk_auth *out, mk_err **err);
/* Save (replacing) credentials for domain: in the helper that credHelpers or
 * credsStore names, else in "auths"; config.json written atomically, 0600. */
int mk_creds_store(const char *domain, const struct mk_auth *a, mk_err **err);
/* The same; *plaintext_path (may be NULL) gets the file's path when a
 * password was newly written to it unencrypted (docker then warns), else NULL. */
int mk_creds_save(const char *domain, const struct mk_auth *a, char **plaintext_path, mk_err **err);
/* Forget them, under every spelling docker may have filed them (with a scheme,
 * an alias of docker.io), in config.json and in the helpers it names;
 * NOT_FOUND ("Not logged in to <key>") when there were none. */
int mk_creds_erase(const char *domain, mk_err **err);

#endif
