/*
 * Parsers inside registry.c, exposed for the unit tests
 * (tests/unit/test_registry.c). Not part of the public API.
 */
#ifndef TOLLGATE_REGISTRY_INT_H
#define TOLLGATE_REGISTRY_INT_H

#include <stddef.h>

/* One WWW-Authenticate challenge (RFC 9110 11.6.1). */
typedef struct tg_auth_challenge {
	char *scheme;  /* "Bearer" or "Basic" as sent */
	char *realm;   /* NULL when absent */
	char *service; /* NULL when absent */
	char *scope;   /* NULL when absent */
} tg_auth_challenge;

/*
 * Parse a WWW-Authenticate value, which may hold several challenges
 * ("Basic realm=\"x\", Bearer realm=\"y\",service=\"z\"") and quoted values
 * containing commas and escaped quotes. The Bearer challenge is chosen when
 * present, else the first. 0 or TG_EPARSE.
 */
int tg_www_authenticate_parse(tg_auth_challenge *out, const char *value);
void tg_auth_challenge_clear(tg_auth_challenge *c);

/*
 * The target of rel="next" in a Link header value (RFC 8288), e.g.
 * "</v2/r/referrers/sha256:..?n=2&last=x>; rel=\"next\"". *out is NULL (and
 * 0 returned) when no link has rel next. 0 or TG_EPARSE.
 */
int tg_link_next_parse(char **out, const char *value);

/* Credentials for one registry from a docker config.json. */
typedef struct tg_docker_cred {
	char *host; /* normalised: no scheme, no path */
	char *username;
	char *password;
} tg_docker_cred;

/*
 * Parse a docker config.json: "auths" entries with "auth" (base64 of
 * "user:password") or "username" and "password". name is the file name
 * for messages; secrets never appear in them. 0 or TG_EPARSE / TG_ETOOBIG.
 */
int tg_docker_config_parse(tg_docker_cred **out,
                           size_t *count_out,
                           const char *name,
                           const char *json,
                           size_t len);
/* Entry for a registry as written in image references; NULL. Borrowed. */
const tg_docker_cred *tg_docker_cred_find(const tg_docker_cred *creds,
                                          size_t count,
                                          const char *registry);
/* Wipes and frees. */
void tg_docker_creds_free(tg_docker_cred *creds, size_t count);

#endif
