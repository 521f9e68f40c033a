/*
 * The HTTP header parsers of the registry client (verify/oci/http_header.c),
 * shared by the client's files and exposed for the unit tests
 * (tests/unit/test_registry.c). Not part of the public API.
 */
#ifndef TOLLGATE_HTTP_HEADER_INT_H
#define TOLLGATE_HTTP_HEADER_INT_H

#include <stddef.h>

#include "tollgate/error.h"

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
TG_WUR int tg_www_authenticate_parse(tg_auth_challenge *out, const char *value);
void tg_auth_challenge_clear(tg_auth_challenge *c);

/*
 * The target of rel="next" in a Link header value (RFC 8288), e.g.
 * "</v2/r/referrers/sha256:..?n=2&last=x>; rel=\"next\"". *out is NULL (and
 * 0 returned) when no link has rel next. 0 or TG_EPARSE.
 */
TG_WUR int tg_link_next_parse(char **out, const char *value);

#endif
