/*
 * tollgate.yaml: the sigstore section. sigstore.tuf keeps the Sigstore
 * trust root current through TUF (README.md "Trust root"): the mirror, the
 * bootstrap root.json and the refresh interval.
 */
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "tollgate/util.h"

/* Sigstore's public-good TUF repository, whose root.json v14 is built in. */
#define DEFAULT_TUF_MIRROR "https://tuf-repo-cdn.sigstore.dev"
#define DEFAULT_TUF_REFRESH_S 86400

/* http(s)://host[:port][/path], no query, fragment, userinfo or space. */
static bool is_mirror_url(const char *s)
{
	const char *host;

	if (tg_str_has_prefix(s, "https://"))
		host = s + 8;
	else if (tg_str_has_prefix(s, "http://"))
		host = s + 7;
	else
		return false;
	if (*host == '\0' || *host == '/' || !tg_config__str_is_clean(s))
		return false;
	return strpbrk(s, "?#@ \t") == NULL;
}

static void
read_mirror(tg_config__ctx *x, const json_t *t, const tg_config__key *tk)
{
	tg_config__key k;
	char *m = NULL;
	size_t n;

	if (!tg_config__get_str(x, t, tk, "mirror", false, &m, &k)) {
		x->c->tuf.mirror = tg_strdup(DEFAULT_TUF_MIRROR);
		if (x->c->tuf.root)
			tg_config__error(x, tk, TG_EINVALID,
			                 "mirror is required when root names "
			                 "the root.json of another repository "
			                 "than Sigstore's public-good one");
		return;
	}
	if (!is_mirror_url(m)) {
		tg_config__error(x, &k, TG_EINVALID,
		                 "\"%s\" is not an http:// or https:// URL "
		                 "of a TUF repository (no query, fragment or "
		                 "credentials)",
		                 m);
		free(m);
		return;
	}
	n = strlen(m);
	while (n > 0 && m[n - 1] == '/')
		m[--n] = '\0';
	x->c->tuf.mirror = m;
	if (!x->c->tuf.root && strcmp(m, DEFAULT_TUF_MIRROR))
		tg_config__error(x, &k, TG_EINVALID,
		                 "\"%s\" is not Sigstore's public-good "
		                 "repository (%s): set sigstore.tuf.root to "
		                 "the root.json you trust for it",
		                 m, DEFAULT_TUF_MIRROR);
}

void tg_config__read_sigstore(tg_config__ctx *x, const json_t *root)
{
	static const char *const known_s[] = { "tuf", NULL };
	static const char *const known_t[] = { "mirror", "root", "refresh",
		                               NULL };
	tg_config__key sk, tk;
	json_t *s = tg_config__get_map(x, root, NULL, "sigstore", &sk, known_s),
	       *t;

	x->c->tuf.refresh = DEFAULT_TUF_REFRESH_S;
	if (!s || !(t = tg_config__get_map(x, s, &sk, "tuf", &tk, known_t)))
		return;
	x->c->tuf.enabled = true;
	tg_config__get_path(x, t, &tk, "root", false, &x->c->tuf.root);
	read_mirror(x, t, &tk);
	tg_config__get_duration(x, t, &tk, "refresh", 1, &x->c->tuf.refresh);
}

void tg_config__free_sigstore(tg_config *c)
{
	free(c->tuf.mirror);
	free(c->tuf.root);
}
