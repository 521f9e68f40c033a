/*
 * tollgate.yaml: the source and status sections (the repository tollgate
 * follows, how it authenticates, where it writes its status) and the
 * grammar of their values (branch names, URLs, paths in the repository).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <jansson.h>

#include "config_int.h"
#include "tollgate/buf.h"
#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/schema.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

static bool ref_is_valid(const char *ref)
{
	int valid = 0;

	/* libgit2 records errors in thread state set up by init. */
	git_libgit2_init();
	git_reference_name_is_valid(&valid, ref);
	git_libgit2_shutdown();
	return valid != 0;
}

static void
check_branch(tg_config__ctx *x, const tg_config__key *k, const char *branch)
{
	char *ref = tg_aprintf("refs/heads/%s", branch);

	if (!ref_is_valid(ref))
		tg_config__error(x, k, TG_EINVALID,
		                 "\"%s\" is not a valid branch name", branch);
	free(ref);
}

static bool url_has_scheme(const char *url)
{
	return strstr(url, "://") != NULL;
}

/*
 * source.url: a URL with a scheme tollgate fetches from, scp-like
 * "user@host:path", or a local path (made absolute against the
 * configuration's directory).
 */
static void check_source_url(tg_config__ctx *x, const tg_config__key *k)
{
	static const char *const schemes[] = { "file://",    "git://",
		                               "http://",    "https://",
		                               "ssh://",     "git+ssh://",
		                               "ssh+git://", NULL };
	char **url = &x->c->source.url;
	const char *colon = strchr(*url, ':'), *slash = strchr(*url, '/');
	const char *at, *host;
	size_t i;

	if (url_has_scheme(*url)) {
		for (i = 0; schemes[i]; i++)
			if (tg_str_has_prefix(*url, schemes[i]))
				break;
		if (!schemes[i]) {
			tg_config__error(
			        x, k, TG_EINVALID,
			        "\"%s\": unsupported scheme (use https://, "
			        "ssh://, git://, file:// or a path)",
			        *url);
			return;
		}
		host = strstr(*url, "://") + 3;
		at = strchr(host, '@');
		if (at && at < host + strcspn(host, "/") &&
		    memchr(host, ':', (size_t)(at - host))) {
			tg_config__error(x, k, TG_EINVALID,
			                 "contains a password; use "
			                 "source.auth.passwordFile");
			return;
		}
		return;
	}
	if (colon && colon != *url && (!slash || colon < slash))
		return; /* scp-like SSH */
	if ((*url)[0] != '/') {
		char *abs = tg_path_join(x->base_dir, *url);
		free(*url);
		*url = abs;
	}
}

/* source.path: "clusters/prod" below the repository root ("/", "." and
 * "" mean the root); stored without leading or trailing '/'. */
static void check_source_path(tg_config__ctx *x, const tg_config__key *k)
{
	char **path = &x->c->source.path;
	const char *p = *path;
	size_t n;

	while (*p == '/')
		p++;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	p = tg_strndup(p, n);
	if (*p && strcmp(p, ".") && !tg_path_is_safe_relative(p))
		tg_config__error(x, k, TG_EINVALID,
		                 "\"%s\" must be a path inside the repository "
		                 "(no \"..\" or \".\" components)",
		                 *path);
	free(*path);
	*path = strcmp(p, ".") ? (char *)p : tg_strdup("");
	if (*path != p)
		free((char *)p);
}

static void read_source_auth(tg_config__ctx *x,
                             const json_t *src,
                             const tg_config__key *parent)
{
	static const char *const known[] = { "sshKey",   "knownHosts",
		                             "username", "passwordFile",
		                             "caFile",   NULL };
	tg_config__key k;
	json_t *a = tg_config__get_map(x, src, parent, "auth", &k, known);
	tg_config__key uk;

	if (!a)
		return;
	tg_config__get_path(x, a, &k, "sshKey", false, &x->c->source.ssh_key);
	tg_config__get_path(x, a, &k, "knownHosts", false,
	                    &x->c->source.known_hosts);
	tg_config__get_str(x, a, &k, "username", false, &x->c->source.username,
	                   &uk);
	tg_config__get_path(x, a, &k, "passwordFile", false,
	                    &x->c->source.password_file);
	tg_config__get_path(x, a, &k, "caFile", false, &x->c->source.ca_file);
}

/* An SSH source needs known_hosts: without it the host key could not be
 * checked (DESIGN.md 5). After check_source_url, a URL without a scheme
 * that is not an absolute path is scp-like SSH. */
static void check_ssh_known_hosts(tg_config__ctx *x, const tg_config__key *k)
{
	const char *url = x->c->source.url;
	bool scp;

	if (!url || x->c->source.known_hosts)
		return;
	scp = !url_has_scheme(url) && url[0] != '/';
	if (scp || tg_str_has_prefix(url, "ssh://") ||
	    tg_str_has_prefix(url, "git+ssh://") ||
	    tg_str_has_prefix(url, "ssh+git://"))
		tg_config__error(
		        x, k, TG_EINVALID,
		        "source.url is an SSH %s: set source.auth.knownHosts "
		        "so the host key is checked",
		        scp ? "address" : "URL");
}

void tg_config__read_source(tg_config__ctx *x, const json_t *root)
{
	static const char *const known[] = { "url",      "branch", "path",
		                             "interval", "auth",   NULL };
	tg_config__key k, ck;
	json_t *src = tg_config__get_map(x, root, NULL, "source", &k, known);

	if (!src) {
		if (!json_object_get(root, "source"))
			tg_config__error(x, NULL, TG_EINVALID,
			                 "missing required key \"source\"");
		return;
	}
	if (tg_config__get_str(x, src, &k, "url", true, &x->c->source.url, &ck))
		check_source_url(x, &ck);
	if (tg_config__get_str(x, src, &k, "branch", false,
	                       &x->c->source.branch, &ck))
		check_branch(x, &ck, x->c->source.branch);
	if (tg_config__get_str(x, src, &k, "path", false, &x->c->source.path,
	                       &ck))
		check_source_path(x, &ck);
	tg_config__get_duration(x, src, &k, "interval", 1,
	                        &x->c->source.interval);
	read_source_auth(x, src, &k);
	check_ssh_known_hosts(x, &k);
}

/* Names and emails go into commit headers: no '<', '>' or newlines. */
static void
check_ident(tg_config__ctx *x, const tg_config__key *k, const char *s)
{
	if (strpbrk(s, "<>"))
		tg_config__error(x, k, TG_EINVALID,
		                 "must not contain '<' or '>'");
}

void tg_config__read_status(tg_config__ctx *x, const json_t *root)
{
	static const char *const known[] = { "branch", "notes", "author",
		                             "push", NULL };
	static const char *const author_keys[] = { "name", "email", NULL };
	tg_config__key k, ak, ck;
	json_t *st = tg_config__get_map(x, root, NULL, "status", &k, known),
	       *au;

	if (!st)
		return;
	if (tg_config__get_str(x, st, &k, "branch", false, &x->c->status.branch,
	                       &ck))
		check_branch(x, &ck, x->c->status.branch);
	if (tg_config__get_str(x, st, &k, "notes", false, &x->c->status.notes,
	                       &ck) &&
	    (!tg_str_has_prefix(x->c->status.notes, "refs/notes/") ||
	     !ref_is_valid(x->c->status.notes)))
		tg_config__error(x, &ck, TG_EINVALID,
		                 "\"%s\" must be a ref under refs/notes/",
		                 x->c->status.notes);
	tg_config__get_bool(x, st, &k, "push", &x->c->status.push);
	if (!(au = tg_config__get_map(x, st, &k, "author", &ak, author_keys)))
		return;
	if (tg_config__get_str(x, au, &ak, "name", false,
	                       &x->c->status.author_name, &ck))
		check_ident(x, &ck, x->c->status.author_name);
	if (tg_config__get_str(x, au, &ak, "email", false,
	                       &x->c->status.author_email, &ck))
		check_ident(x, &ck, x->c->status.author_email);
}
