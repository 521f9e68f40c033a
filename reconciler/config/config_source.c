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
#include "tollgate/imageref.h"
#include "tollgate/limits.h"
#include "tollgate/oci_source.h"
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
 * source.url "oci://HOST[:PORT]/REPO:TAG" or "oci://HOST[:PORT]/REPO@sha256:
 * ...": the first component is always the registry (never docker.io by
 * default) and a tag or digest is required, so what is deployed is named.
 */
static void check_oci_url(tg_config__ctx *x, const tg_config__key *k)
{
	const char *url = x->c->source.url;
	const char *rest = url + strlen(TG_OCI_SOURCE_SCHEME);
	size_t hostlen = strcspn(rest, "/");
	tg_imageref *ref = NULL;

	x->c->source.oci = true;
	if (hostlen == 0 || !rest[hostlen]) {
		tg_config__error(x, k, TG_EINVALID,
		                 "\"%s\": expected oci://HOST[:PORT]/REPO:TAG "
		                 "or oci://HOST[:PORT]/REPO@sha256:...",
		                 url);
		return;
	}
	if (tg_imageref_parse(&ref, rest) < 0) {
		tg_config__error(x, k, TG_EINVALID, "%s", tg_error_last());
		return;
	}
	if (strlen(ref->registry) != hostlen ||
	    strncmp(ref->registry, rest, hostlen))
		tg_config__error(x, k, TG_EINVALID,
		                 "\"%s\": \"%.*s\" is not a registry host "
		                 "(use HOST[:PORT], e.g. registry.example.com "
		                 "or 127.0.0.1:5000)",
		                 url, (int)hostlen, rest);
	else if (ref->tag_defaulted)
		tg_config__error(x, k, TG_EINVALID,
		                 "\"%s\": name a tag (:TAG) or a digest "
		                 "(@sha256:...)",
		                 url);
	tg_imageref_free(ref);
}

/*
 * source.url or status.url: a URL with a scheme tollgate fetches from,
 * scp-like "user@host:path", or a local path (made absolute against the
 * configuration's directory); source.url may also be oci://.
 */
static void check_git_url(tg_config__ctx *x,
                          const tg_config__key *k,
                          char **url,
                          const char *section)
{
	static const char *const schemes[] = { "file://",    "git://",
		                               "http://",    "https://",
		                               "ssh://",     "git+ssh://",
		                               "ssh+git://", NULL };
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
			        "ssh://, git://, file://%s or a path)",
			        *url,
			        strcmp(section, "source") ? "" : ", oci://");
			return;
		}
		host = strstr(*url, "://") + 3;
		at = strchr(host, '@');
		if (at && at < host + strcspn(host, "/") &&
		    memchr(host, ':', (size_t)(at - host)))
			tg_config__error(x, k, TG_EINVALID,
			                 "contains a password; use "
			                 "%s.auth.passwordFile",
			                 section);
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

static void check_source_url(tg_config__ctx *x, const tg_config__key *k)
{
	if (tg_str_has_prefix(x->c->source.url, TG_OCI_SOURCE_SCHEME))
		check_oci_url(x, k);
	else
		check_git_url(x, k, &x->c->source.url, "source");
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

/* The credentials of a Git remote (source.auth, status.auth). */
typedef struct auth_fields {
	char **ssh_key, **known_hosts, **username, **password_file, **ca_file;
} auth_fields;

static void read_auth(tg_config__ctx *x,
                      const json_t *parent_obj,
                      const tg_config__key *parent,
                      const auth_fields *f)
{
	static const char *const known[] = { "sshKey",   "knownHosts",
		                             "username", "passwordFile",
		                             "caFile",   NULL };
	tg_config__key k;
	json_t *a =
	        tg_config__get_map(x, parent_obj, parent, "auth", &k, known);
	tg_config__key uk;

	if (!a)
		return;
	tg_config__get_path(x, a, &k, "sshKey", false, f->ssh_key);
	tg_config__get_path(x, a, &k, "knownHosts", false, f->known_hosts);
	tg_config__get_str(x, a, &k, "username", false, f->username, &uk);
	tg_config__get_path(x, a, &k, "passwordFile", false, f->password_file);
	tg_config__get_path(x, a, &k, "caFile", false, f->ca_file);
}

/* A Git remote over SSH needs known_hosts: without it the host key could
 * not be checked (DESIGN.md 5). After check_git_url, a URL without a
 * scheme that is not an absolute path is scp-like SSH. */
static void check_ssh_known_hosts(tg_config__ctx *x,
                                  const tg_config__key *k,
                                  const char *url,
                                  const char *known_hosts,
                                  const char *section)
{
	bool scp;

	if (!url || known_hosts)
		return;
	scp = !url_has_scheme(url) && url[0] != '/';
	if (scp || tg_str_has_prefix(url, "ssh://") ||
	    tg_str_has_prefix(url, "git+ssh://") ||
	    tg_str_has_prefix(url, "ssh+git://"))
		tg_config__error(x, k, TG_EINVALID,
		                 "%s.url is an SSH %s: set %s.auth.knownHosts "
		                 "so the host key is checked",
		                 section, scp ? "address" : "URL", section);
}

/* source.layerMediaType: a gzip tar layer ("...tar+gzip"), oci only. */
static void check_layer_type(tg_config__ctx *x, const tg_config__key *k)
{
	const char *t = x->c->source.layer_media_type;

	if (!x->c->source.oci)
		tg_config__error(x, k, TG_EINVALID,
		                 "only for an oci:// source.url");
	else if (!tg_str_has_suffix(t, "tar+gzip") ||
	         strlen(t) > TG_MAX_MEDIA_TYPE_BYTES || strpbrk(t, " \t;,"))
		tg_config__error(
		        x, k, TG_EINVALID,
		        "\"%s\" is not a gzip tar media type (e.g. "
		        "application/vnd.cncf.flux.content.v1.tar+gzip)",
		        t);
}

/* What a Git source has and an OCI source has not: a branch (the tag or
 * digest is in the URL) and Git credentials (registries.auth serves). */
static void
check_oci_keys(tg_config__ctx *x, const json_t *src, const tg_config__key *k)
{
	tg_config__key ck;

	if (!x->c->source.oci)
		return;
	if (json_object_get(src, "branch")) {
		tg_config__key_child(&ck, k, "branch", 0);
		tg_config__error(x, &ck, TG_EINVALID,
		                 "not used by an oci:// source (the tag or "
		                 "digest is part of source.url)");
	}
	if (json_object_get(src, "auth")) {
		tg_config__key_child(&ck, k, "auth", 0);
		tg_config__error(x, &ck, TG_EINVALID,
		                 "not used by an oci:// source (registry "
		                 "credentials are in registries.auth)");
	}
}

void tg_config__read_source(tg_config__ctx *x, const json_t *root)
{
	static const char *const known[] = { "url",  "branch",
		                             "path", "interval",
		                             "auth", "layerMediaType",
		                             NULL };
	tg_config__key k, ck;
	json_t *src = tg_config__get_map(x, root, NULL, "source", &k, known);
	auth_fields af = { &x->c->source.ssh_key, &x->c->source.known_hosts,
		           &x->c->source.username, &x->c->source.password_file,
		           &x->c->source.ca_file };

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
	if (tg_config__get_str(x, src, &k, "layerMediaType", false,
	                       &x->c->source.layer_media_type, &ck))
		check_layer_type(x, &ck);
	check_oci_keys(x, src, &k);
	read_auth(x, src, &k, &af);
	if (!x->c->source.oci)
		check_ssh_known_hosts(x, &k, x->c->source.url,
		                      x->c->source.known_hosts, "source");
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
	static const char *const known[] = { "url",   "auth",   "branch",
		                             "notes", "author", "push",
		                             NULL };
	static const char *const author_keys[] = { "name", "email", NULL };
	tg_config__key k, ak, ck;
	json_t *st = tg_config__get_map(x, root, NULL, "status", &k, known),
	       *au;
	auth_fields af = { &x->c->status.ssh_key, &x->c->status.known_hosts,
		           &x->c->status.username, &x->c->status.password_file,
		           &x->c->status.ca_file };

	if (!st)
		return;
	if (tg_config__get_str(x, st, &k, "url", false, &x->c->status.url, &ck))
		check_git_url(x, &ck, &x->c->status.url, "status");
	read_auth(x, st, &k, &af);
	if (json_object_get(st, "auth") && !x->c->status.url) {
		tg_config__key_child(&ck, &k, "auth", 0);
		tg_config__error(x, &ck, TG_EINVALID,
		                 "only with status.url (the source repository "
		                 "uses source.auth)");
	}
	check_ssh_known_hosts(x, &k, x->c->status.url, x->c->status.known_hosts,
	                      "status");
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
