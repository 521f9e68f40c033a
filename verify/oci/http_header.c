/*
 * HTTP header parsers for the registry client: WWW-Authenticate challenges
 * (RFC 9110 11.6.1) and the rel="next" target of a Link header (RFC 8288).
 * See verify/oci/http_header_int.h.
 */
#include "http_header_int.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

/* RFC 9110 5.6.2 tchar. */
static bool is_tchar(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A token at *p: returns a copy and advances, or NULL when none. */
static char *parse_token(const char **p)
{
	const char *s = *p;

	while (is_tchar(**p))
		(*p)++;
	return *p > s ? tg_strndup(s, (size_t)(*p - s)) : NULL;
}

/* A quoted-string at *p (starting at '"'), unescaped; NULL when
 * unterminated. RFC 9110 5.6.4: quoted-pair is '\' + any char. */
static char *parse_quoted(const char **p)
{
	tg_buf b;
	const char *s = *p + 1;
	char *out;

	tg_buf_init(&b, TG_MAX_HTTP_HEADER_BYTES);
	for (; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1])
			s++;
		if (tg_buf_append(&b, s, 1) < 0)
			break;
	}
	if (*s != '"') {
		tg_buf_free(&b);
		return NULL;
	}
	*p = s + 1;
	out = tg_buf_detach(NULL, &b);
	return out;
}

/* token or quoted-string. */
static char *parse_param_value(const char **p)
{
	if (**p == '"')
		return parse_quoted(p);
	return parse_token(p);
}

void tg_auth_challenge_clear(tg_auth_challenge *c)
{
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

/* Keep the auth-params we use; others are ignored. */
static void challenge_set(tg_auth_challenge *c, const char *name, char *value)
{
	char **slot = NULL;

	if (!strcasecmp(name, "realm"))
		slot = &c->realm;
	else if (!strcasecmp(name, "service"))
		slot = &c->service;
	else if (!strcasecmp(name, "scope"))
		slot = &c->scope;
	if (slot && !*slot) {
		*slot = value;
		return;
	}
	free(value);
}

/*
 * The auth-params after a scheme, up to the next challenge or the end.
 * A token not followed by '=' starts the next challenge: *p is left on it.
 */
static int parse_auth_params(tg_auth_challenge *c, const char **p)
{
	const char *save;
	char *name, *value;

	for (;;) {
		*p = skip_ows(*p);
		while (**p == ',')
			*p = skip_ows(*p + 1);
		if (!**p)
			return 0;
		save = *p;
		if (!(name = parse_token(p)))
			return TG_EPARSE;
		*p = skip_ows(*p);
		if (**p != '=') {
			free(name);
			*p = save;
			return 0;
		}
		*p = skip_ows(*p + 1);
		/* token68 ("Basic dXNlcg==") has no value after '='. */
		if (!**p || **p == ',' || **p == '=') {
			free(name);
			while (**p == '=')
				(*p)++;
			continue;
		}
		if (!(value = parse_param_value(p))) {
			free(name);
			return TG_EPARSE;
		}
		challenge_set(c, name, value);
		free(name);
		*p = skip_ows(*p);
		if (**p && **p != ',')
			return TG_EPARSE;
	}
}

int tg_www_authenticate_parse(tg_auth_challenge *out, const char *value)
{
	tg_auth_challenge c = { 0 }, first = { 0 };
	const char *p = value;
	bool have_first = false;

	memset(out, 0, sizeof(*out));
	for (;;) {
		p = skip_ows(p);
		while (*p == ',')
			p = skip_ows(p + 1);
		if (!*p)
			break;
		if (!(c.scheme = parse_token(&p)) ||
		    parse_auth_params(&c, &p) < 0) {
			tg_auth_challenge_clear(&c);
			tg_auth_challenge_clear(&first);
			return tg_error_set(
			        TG_EPARSE, "malformed WWW-Authenticate header");
		}
		if (!strcasecmp(c.scheme, "Bearer")) {
			tg_auth_challenge_clear(&first);
			*out = c;
			return 0;
		}
		if (!have_first) {
			first = c;
			have_first = true;
		} else {
			tg_auth_challenge_clear(&c);
		}
		memset(&c, 0, sizeof(c));
	}
	if (!have_first)
		return tg_error_set(TG_EPARSE, "empty WWW-Authenticate header");
	*out = first;
	return 0;
}

/* Does a rel value (space-separated relation types) include "next"? */
static bool rel_has_next(const char *rel)
{
	const char *p = rel, *s;

	while (*p) {
		while (*p == ' ')
			p++;
		s = p;
		while (*p && *p != ' ')
			p++;
		if (p - s == 4 && !strncasecmp(s, "next", 4))
			return true;
	}
	return false;
}

/* One link-value's params after "<uri>"; sets *is_next. */
static int parse_link_params(const char **p, bool *is_next)
{
	char *name, *value;

	*is_next = false;
	for (;;) {
		*p = skip_ows(*p);
		if (**p != ';')
			return 0;
		*p = skip_ows(*p + 1);
		if (!(name = parse_token(p)))
			return TG_EPARSE;
		*p = skip_ows(*p);
		value = NULL;
		if (**p == '=') {
			*p = skip_ows(*p + 1);
			if (!(value = parse_param_value(p))) {
				free(name);
				return TG_EPARSE;
			}
		}
		if (value && !strcasecmp(name, "rel") && rel_has_next(value))
			*is_next = true;
		free(name);
		free(value);
	}
}

int tg_link_next_parse(char **out, const char *value)
{
	const char *p = value, *end, *q;
	bool is_next;

	*out = NULL;
	for (;;) {
		p = skip_ows(p);
		while (*p == ',')
			p = skip_ows(p + 1);
		if (!*p)
			return 0;
		if (*p != '<' || !(end = strchr(p, '>')))
			return tg_error_set(TG_EPARSE,
			                    "malformed Link header: expected "
			                    "<URI>");
		q = end + 1;
		if (parse_link_params(&q, &is_next) < 0)
			return tg_error_set(TG_EPARSE,
			                    "malformed Link header parameters");
		if (is_next) {
			*out = tg_strndup(p + 1, (size_t)(end - p - 1));
			return 0;
		}
		p = skip_ows(q);
		if (*p && *p != ',')
			return tg_error_set(
			        TG_EPARSE, "malformed Link header after <URI>");
	}
}
