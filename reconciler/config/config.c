/*
 * tollgate.yaml: parse with positions, then walk a fixed schema. Every
 * member is checked for a known name and the right type; every error names
 * file:line:col of the key and the dotted key path, so a mistyped key
 * ("brnach") is found before the agent runs with a default instead.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <jansson.h>

#include "tollgate/buf.h"
#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/schema.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

/* Defaults (README.md "Configuration"). */
#define DEFAULT_BRANCH "main"
#define DEFAULT_INTERVAL_S 30
#define DEFAULT_STATUS_BRANCH "tollgate/status"
#define DEFAULT_NOTES_REF "refs/notes/tollgate"
#define DEFAULT_AUTHOR_NAME "tollgate"
#define DEFAULT_AUTHOR_EMAIL "tollgate@cluster.local"
#define DEFAULT_INVENTORY_NS "tollgate-system"
#define DEFAULT_STATE_DIR "/var/lib/tollgate"
#define DEFAULT_REVERIFY_S 3600

/* The walk: the parsed file, where errors go, and the result. */
typedef struct cfg_ctx {
	const tg_yaml_docs *docs;
	const char *name;
	const char *base_dir;
	tg_buf errors;
	int nerrors;
	int code;
	tg_config *c;
} cfg_ctx;

/* A member being read: its JSON pointer (for positions) and its dotted
 * key path (for people). */
typedef struct cfg_key {
	char ptr[TG_CONFIG_KEY_PATH_MAX];
	char path[TG_CONFIG_KEY_PATH_MAX];
} cfg_key;

static void
cfg_error(cfg_ctx *x, const cfg_key *k, int code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/*
 * Record one error at the position of k ("" = the document). The list is
 * bounded by TG_ERROR_MAX: a message that does not fit is cut short, and
 * the load fails with x->code all the same, so dropped tg_buf results below
 * lose text, never an error.
 */
static void
cfg_error(cfg_ctx *x, const cfg_key *k, int code, const char *fmt, ...)
{
	va_list ap;

	if (x->nerrors++ >= TG_CONFIG_MAX_ERRORS)
		return;
	if (!x->code)
		x->code = code;
	if (x->errors.len)
		tg_discard(tg_buf_puts(&x->errors, "\n"));
	tg_discard(tg_schema_where(&x->errors, x->docs, x->name,
	                           k ? k->ptr : "", k ? k->path : ""));
	va_start(ap, fmt);
	tg_discard(tg_buf_vprintf(&x->errors, fmt, ap));
	va_end(ap);
}

/* The key of member name (or array index when name is NULL) under parent;
 * on a pointer or path longer than TG_CONFIG_KEY_PATH_MAX, the parent's. */
static void
key_child(cfg_key *out, const cfg_key *parent, const char *name, size_t index)
{
	tg_buf ptr, path;

	tg_buf_init(&ptr, sizeof(out->ptr) - 1);
	tg_buf_init(&path, sizeof(out->path) - 1);
	if (tg_schema_child(&ptr, &path, parent ? parent->ptr : "",
	                    parent ? parent->path : "", name, index) == 0) {
		tg_strlcpy(out->ptr, ptr.data ? ptr.data : "",
		           sizeof(out->ptr));
		tg_strlcpy(out->path, path.data ? path.data : "",
		           sizeof(out->path));
	} else if (parent) {
		*out = *parent;
	} else {
		out->ptr[0] = out->path[0] = '\0';
	}
	tg_buf_free(&ptr);
	tg_buf_free(&path);
}

/* Every member of obj must be in known (NULL-terminated). */
static void check_keys(cfg_ctx *x,
                       const json_t *obj,
                       const cfg_key *k,
                       const char *const *known)
{
	const char *name;
	json_t *v;
	tg_buf list;
	size_t i;

	tg_buf_init(&list, TG_CONFIG_KNOWN_KEYS_MAX);
	/* The list of known keys is short; one cut short by the buffer's
	 * maximum still reads as a hint. */
	for (i = 0; known[i]; i++)
		tg_discard(
		        tg_buf_printf(&list, "%s%s", i ? ", " : "", known[i]));
	json_object_foreach((json_t *)obj, name, v) {
		cfg_key ck;

		for (i = 0; known[i] && strcmp(known[i], name); i++)
			;
		if (known[i])
			continue;
		key_child(&ck, k, name, 0);
		cfg_error(x, &ck, TG_EINVALID, "unknown key (known here: %s)",
		          list.data);
	}
	tg_buf_free(&list);
}

/* Member name of obj when it has type t; NULL (error recorded unless it
 * is absent) otherwise. */
static json_t *member(cfg_ctx *x,
                      const json_t *obj,
                      const cfg_key *parent,
                      const char *name,
                      json_type t,
                      cfg_key *k)
{
	json_t *v = obj ? json_object_get(obj, name) : NULL;

	key_child(k, parent, name, 0);
	if (!v || json_is_null(v))
		return NULL;
	if (json_typeof(v) != t && !(t == JSON_TRUE && json_is_boolean(v))) {
		cfg_error(x, k, TG_EINVALID, "expected %s, got %s%s",
		          t == JSON_OBJECT   ? "a mapping"
		          : t == JSON_ARRAY  ? "a list"
		          : t == JSON_STRING ? "a string"
		                             : "a boolean (true or false)",
		          tg_schema_type_name(v),
		          t == JSON_STRING && !json_is_object(v) &&
		                          !json_is_array(v)
		                  ? " (quote the value)"
		                  : "");
		return NULL;
	}
	return v;
}

/* Strings: no control characters (they would reach logs and commits). */
static bool str_is_clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* A string member copied into *out (left as is when absent). */
static const char *get_str(cfg_ctx *x,
                           const json_t *obj,
                           const cfg_key *parent,
                           const char *name,
                           bool required,
                           char **out,
                           cfg_key *k)
{
	json_t *v = member(x, obj, parent, name, JSON_STRING, k);
	const char *s;

	if (!v) {
		if (required && !(obj && json_object_get(obj, name)))
			cfg_error(x, parent, TG_EINVALID,
			          "missing required key \"%s\"", name);
		return NULL;
	}
	s = json_string_value(v);
	if (!*s || !str_is_clean(s)) {
		cfg_error(x, k, TG_EINVALID,
		          !*s ? "must not be empty"
		              : "must not contain control characters");
		return NULL;
	}
	free(*out);
	*out = tg_strdup(s);
	return *out;
}

/* A path member, resolved against the configuration's directory. */
static void get_path(cfg_ctx *x,
                     const json_t *obj,
                     const cfg_key *parent,
                     const char *name,
                     bool required,
                     char **out)
{
	cfg_key k;
	char *p = NULL;

	if (!get_str(x, obj, parent, name, required, &p, &k))
		return;
	free(*out);
	*out = p[0] == '/' ? p : tg_path_join(x->base_dir, p);
	if (*out != p)
		free(p);
}

static void get_bool(cfg_ctx *x,
                     const json_t *obj,
                     const cfg_key *parent,
                     const char *name,
                     bool *out)
{
	cfg_key k;
	json_t *v = member(x, obj, parent, name, JSON_TRUE, &k);

	if (v)
		*out = json_is_true(v);
}

/* A duration ("30s", "5m", "1h30m") of at least min seconds. */
static void get_duration(cfg_ctx *x,
                         const json_t *obj,
                         const cfg_key *parent,
                         const char *name,
                         int64_t min,
                         int64_t *out)
{
	cfg_key k;
	json_t *v = json_object_get(obj, name);
	int64_t secs;

	key_child(&k, parent, name, 0);
	if (!v || json_is_null(v))
		return;
	if (!json_is_string(v)) {
		cfg_error(x, &k, TG_EINVALID,
		          "expected a duration such as 30s, 5m or 1h, got %s",
		          tg_schema_type_name(v));
		return;
	}
	if (tg_parse_duration(&secs, json_string_value(v)) < 0) {
		cfg_error(x, &k, TG_EINVALID,
		          "\"%s\" is not a duration (use e.g. 30s, 5m, 1h)",
		          json_string_value(v));
		tg_error_clear();
		return;
	}
	if (secs < min) {
		cfg_error(x, &k, TG_EINVALID,
		          "\"%s\" is below the minimum %llds",
		          json_string_value(v), (long long)min);
		return;
	}
	*out = secs;
}

/* A mapping member; NULL when absent or of another type (recorded). */
static json_t *get_map(cfg_ctx *x,
                       const json_t *obj,
                       const cfg_key *parent,
                       const char *name,
                       cfg_key *k,
                       const char *const *known)
{
	json_t *v = member(x, obj, parent, name, JSON_OBJECT, k);

	if (v)
		check_keys(x, v, k, known);
	return v;
}

/* ---- Values with a grammar --------------------------------------- */

static bool ref_is_valid(const char *ref)
{
	int valid = 0;

	/* libgit2 records errors in thread state set up by init. */
	git_libgit2_init();
	git_reference_name_is_valid(&valid, ref);
	git_libgit2_shutdown();
	return valid != 0;
}

static void check_branch(cfg_ctx *x, const cfg_key *k, const char *branch)
{
	char *ref = tg_aprintf("refs/heads/%s", branch);

	if (!ref_is_valid(ref))
		cfg_error(x, k, TG_EINVALID,
		          "\"%s\" is not a valid branch name", branch);
	free(ref);
}

/* DNS-1123 label: what a namespace name must be. */
static bool is_dns_label(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* "host" or "host:port" with a port 1..65535 (IPv6 as "[::1]:5000"). */
static bool is_host_port(const char *s, bool need_port)
{
	const char *colon = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
	const char *c;
	uint64_t port;

	if (s[0] == '[' && colon)
		colon++;
	if (!colon)
		return !need_port && *s;
	if (tg_parse_u64(&port, colon + 1, strlen(colon + 1), 65535) < 0 ||
	    port == 0) {
		tg_error_clear();
		return false;
	}
	for (c = s; c < colon; c++)
		if (*c == ' ' || *c == '/' || *c == '@')
			return false;
	return true;
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
static void check_source_url(cfg_ctx *x, const cfg_key *k)
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
			cfg_error(x, k, TG_EINVALID,
			          "\"%s\": unsupported scheme (use https://, "
			          "ssh://, git://, file:// or a path)",
			          *url);
			return;
		}
		host = strstr(*url, "://") + 3;
		at = strchr(host, '@');
		if (at && at < host + strcspn(host, "/") &&
		    memchr(host, ':', (size_t)(at - host))) {
			cfg_error(x, k, TG_EINVALID,
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
static void check_source_path(cfg_ctx *x, const cfg_key *k)
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
		cfg_error(x, k, TG_EINVALID,
		          "\"%s\" must be a path inside the repository "
		          "(no \"..\" or \".\" components)",
		          *path);
	free(*path);
	*path = strcmp(p, ".") ? (char *)p : tg_strdup("");
	if (*path != p)
		free((char *)p);
}

/* ---- Sections ---------------------------------------------------- */

static void
read_source_auth(cfg_ctx *x, const json_t *src, const cfg_key *parent)
{
	static const char *const known[] = { "sshKey",   "knownHosts",
		                             "username", "passwordFile",
		                             "caFile",   NULL };
	cfg_key k;
	json_t *a = get_map(x, src, parent, "auth", &k, known);
	cfg_key uk;

	if (!a)
		return;
	get_path(x, a, &k, "sshKey", false, &x->c->source.ssh_key);
	get_path(x, a, &k, "knownHosts", false, &x->c->source.known_hosts);
	get_str(x, a, &k, "username", false, &x->c->source.username, &uk);
	get_path(x, a, &k, "passwordFile", false, &x->c->source.password_file);
	get_path(x, a, &k, "caFile", false, &x->c->source.ca_file);
}

/* An SSH source needs known_hosts: without it the host key could not be
 * checked (DESIGN.md 5). After check_source_url, a URL without a scheme
 * that is not an absolute path is scp-like SSH. */
static void check_ssh_known_hosts(cfg_ctx *x, const cfg_key *k)
{
	const char *url = x->c->source.url;
	bool scp;

	if (!url || x->c->source.known_hosts)
		return;
	scp = !url_has_scheme(url) && url[0] != '/';
	if (scp || tg_str_has_prefix(url, "ssh://") ||
	    tg_str_has_prefix(url, "git+ssh://") ||
	    tg_str_has_prefix(url, "ssh+git://"))
		cfg_error(x, k, TG_EINVALID,
		          "source.url is an SSH %s: set source.auth.knownHosts "
		          "so the host key is checked",
		          scp ? "address" : "URL");
}

static void read_source(cfg_ctx *x, const json_t *root)
{
	static const char *const known[] = { "url",      "branch", "path",
		                             "interval", "auth",   NULL };
	cfg_key k, ck;
	json_t *src = get_map(x, root, NULL, "source", &k, known);

	if (!src) {
		if (!json_object_get(root, "source"))
			cfg_error(x, NULL, TG_EINVALID,
			          "missing required key \"source\"");
		return;
	}
	if (get_str(x, src, &k, "url", true, &x->c->source.url, &ck))
		check_source_url(x, &ck);
	if (get_str(x, src, &k, "branch", false, &x->c->source.branch, &ck))
		check_branch(x, &ck, x->c->source.branch);
	if (get_str(x, src, &k, "path", false, &x->c->source.path, &ck))
		check_source_path(x, &ck);
	get_duration(x, src, &k, "interval", 1, &x->c->source.interval);
	read_source_auth(x, src, &k);
	check_ssh_known_hosts(x, &k);
}

/* Names and emails go into commit headers: no '<', '>' or newlines. */
static void check_ident(cfg_ctx *x, const cfg_key *k, const char *s)
{
	if (strpbrk(s, "<>"))
		cfg_error(x, k, TG_EINVALID, "must not contain '<' or '>'");
}

static void read_status(cfg_ctx *x, const json_t *root)
{
	static const char *const known[] = { "branch", "notes", "author",
		                             "push", NULL };
	static const char *const author_keys[] = { "name", "email", NULL };
	cfg_key k, ak, ck;
	json_t *st = get_map(x, root, NULL, "status", &k, known), *au;

	if (!st)
		return;
	if (get_str(x, st, &k, "branch", false, &x->c->status.branch, &ck))
		check_branch(x, &ck, x->c->status.branch);
	if (get_str(x, st, &k, "notes", false, &x->c->status.notes, &ck) &&
	    (!tg_str_has_prefix(x->c->status.notes, "refs/notes/") ||
	     !ref_is_valid(x->c->status.notes)))
		cfg_error(x, &ck, TG_EINVALID,
		          "\"%s\" must be a ref under refs/notes/",
		          x->c->status.notes);
	get_bool(x, st, &k, "push", &x->c->status.push);
	if (!(au = get_map(x, st, &k, "author", &ak, author_keys)))
		return;
	if (get_str(x, au, &ak, "name", false, &x->c->status.author_name, &ck))
		check_ident(x, &ck, x->c->status.author_name);
	if (get_str(x, au, &ak, "email", false, &x->c->status.author_email,
	            &ck))
		check_ident(x, &ck, x->c->status.author_email);
}

static void read_cluster(cfg_ctx *x, const json_t *root)
{
	static const char *const known[] = { "kubeconfig", "inventoryNamespace",
		                             "drift", "prune", NULL };
	cfg_key k, ck;
	json_t *cl = get_map(x, root, NULL, "cluster", &k, known);
	char *drift = NULL;

	if (!cl)
		return;
	get_path(x, cl, &k, "kubeconfig", false, &x->c->cluster.kubeconfig);
	if (get_str(x, cl, &k, "inventoryNamespace", false,
	            &x->c->cluster.inventory_namespace, &ck) &&
	    !is_dns_label(x->c->cluster.inventory_namespace))
		cfg_error(x, &ck, TG_EINVALID,
		          "\"%s\" is not a valid namespace name (lowercase "
		          "letters, digits and '-', at most 63)",
		          x->c->cluster.inventory_namespace);
	if (get_str(x, cl, &k, "drift", false, &drift, &ck)) {
		if (!strcmp(drift, "correct"))
			x->c->cluster.drift = TG_DRIFT_CORRECT;
		else if (!strcmp(drift, "report"))
			x->c->cluster.drift = TG_DRIFT_REPORT;
		else
			cfg_error(x, &ck, TG_EINVALID,
			          "\"%s\": expected correct or report", drift);
	}
	free(drift);
	get_bool(x, cl, &k, "prune", &x->c->cluster.prune);
}

/* A list of strings, each checked by ok (may be NULL). */
static void get_str_list(cfg_ctx *x,
                         const json_t *obj,
                         const cfg_key *parent,
                         const char *name,
                         bool (*ok)(const char *),
                         const char *what,
                         char ***out,
                         size_t *n)
{
	cfg_key k, ek;
	json_t *arr = member(x, obj, parent, name, JSON_ARRAY, &k), *v;
	size_t i;

	if (!arr)
		return;
	*out = tg_calloc(json_array_size(arr) + 1, sizeof(char *));
	json_array_foreach(arr, i, v) {
		key_child(&ek, &k, NULL, i);
		if (!json_is_string(v) || !*json_string_value(v) ||
		    !str_is_clean(json_string_value(v))) {
			cfg_error(x, &ek, TG_EINVALID,
			          "expected a non-empty string, got %s",
			          tg_schema_type_name(v));
			continue;
		}
		if (ok && !ok(json_string_value(v))) {
			cfg_error(x, &ek, TG_EINVALID, "\"%s\" is not %s",
			          json_string_value(v), what);
			continue;
		}
		(*out)[(*n)++] = tg_strdup(json_string_value(v));
	}
}

static bool is_registry_host(const char *s)
{
	return is_host_port(s, false) && !strchr(s, '/');
}

static void read_registries(cfg_ctx *x, const json_t *root)
{
	static const char *const known[] = { "auth", "insecure", "caFile",
		                             NULL };
	cfg_key k;
	json_t *r = get_map(x, root, NULL, "registries", &k, known);

	if (!r)
		return;
	get_path(x, r, &k, "auth", false, &x->c->registries.auth);
	get_path(x, r, &k, "caFile", false, &x->c->registries.ca_file);
	get_str_list(x, r, &k, "insecure", is_registry_host,
	             "a registry host[:port]", &x->c->registries.insecure,
	             &x->c->registries.ninsecure);
}

/* A JSON pointer (RFC 6901) as imagePaths uses: "/spec/template/spec". */
static bool is_json_pointer(const char *s)
{
	return s[0] == '/' && s[1] && !strstr(s, "//");
}

static bool is_kind_name(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static void read_image_path(cfg_ctx *x,
                            const json_t *v,
                            const cfg_key *k,
                            tg_config_image_path *ip)
{
	static const char *const known[] = { "group", "kind", "paths", NULL };
	cfg_key ck;

	if (!json_is_object(v)) {
		cfg_error(x, k, TG_EINVALID,
		          "expected a mapping {group, kind, paths}, got %s",
		          tg_schema_type_name(v));
		return;
	}
	check_keys(x, v, k, known);
	if (json_is_string(json_object_get(v, "group")) &&
	    !*json_string_value(json_object_get(v, "group")))
		ip->group = tg_strdup(""); /* core group */
	else
		get_str(x, v, k, "group", false, &ip->group, &ck);
	if (get_str(x, v, k, "kind", true, &ip->kind, &ck) &&
	    !is_kind_name(ip->kind))
		cfg_error(x, &ck, TG_EINVALID, "\"%s\" is not a kind name",
		          ip->kind);
	get_str_list(x, v, k, "paths", is_json_pointer,
	             "a JSON pointer such as /spec/template/spec", &ip->paths,
	             &ip->npaths);
	if (!ip->npaths && !json_is_array(json_object_get(v, "paths")))
		cfg_error(x, k, TG_EINVALID, "missing required key \"paths\"");
}

static void read_image_paths(cfg_ctx *x, const json_t *root)
{
	cfg_key k, ek;
	json_t *arr = member(x, root, NULL, "imagePaths", JSON_ARRAY, &k), *v;
	size_t i;

	if (!arr)
		return;
	x->c->image_paths =
	        tg_calloc(json_array_size(arr) + 1, sizeof(*x->c->image_paths));
	json_array_foreach(arr, i, v) {
		key_child(&ek, &k, NULL, i);
		read_image_path(x, v, &ek,
		                &x->c->image_paths[x->c->nimage_paths++]);
	}
}

static bool is_http_url(const char *s)
{
	return tg_str_has_prefix(s, "https://") ||
	       tg_str_has_prefix(s, "http://");
}

/* An HTTP header name: RFC 9110 token characters. */
static bool is_header_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) ||
		      strchr("!#$%&'*+-.^_`|~", *s)))
			return false;
	return true;
}

static void read_notify(cfg_ctx *x, const json_t *root)
{
	static const char *const known[] = { "webhooks", NULL };
	static const char *const hook_keys[] = { "url", "header",
		                                 "headerValueFile", NULL };
	cfg_key k, wk, ek, uk, hk;
	json_t *n = get_map(x, root, NULL, "notify", &k, known), *arr, *v;
	size_t i;

	if (!n || !(arr = member(x, n, &k, "webhooks", JSON_ARRAY, &wk)))
		return;
	x->c->notify.webhooks =
	        tg_calloc(json_array_size(arr) + 1, sizeof(tg_config_webhook));
	json_array_foreach(arr, i, v) {
		tg_config_webhook *w =
		        &x->c->notify.webhooks[x->c->notify.nwebhooks];

		key_child(&ek, &wk, NULL, i);
		if (!json_is_object(v)) {
			cfg_error(x, &ek, TG_EINVALID,
			          "expected a mapping {url, header, "
			          "headerValueFile}, got %s",
			          tg_schema_type_name(v));
			continue;
		}
		check_keys(x, v, &ek, hook_keys);
		if (!get_str(x, v, &ek, "url", true, &w->url, &uk))
			continue;
		x->c->notify.nwebhooks++;
		if (!is_http_url(w->url))
			cfg_error(x, &uk, TG_EINVALID,
			          "\"%s\" must be an http:// or https:// URL",
			          w->url);
		if (get_str(x, v, &ek, "header", false, &w->header, &hk) &&
		    !is_header_name(w->header))
			cfg_error(x, &hk, TG_EINVALID,
			          "\"%s\" is not an HTTP header name",
			          w->header);
		get_path(x, v, &ek, "headerValueFile", false,
		         &w->header_value_file);
		if (!w->header != !w->header_value_file)
			cfg_error(x, &ek, TG_EINVALID,
			          "header and headerValueFile go together "
			          "(the value is read from the file, never "
			          "written here)");
	}
}

static void read_top(cfg_ctx *x, const json_t *root)
{
	static const char *const known[] = {
		"source",           "status",     "cluster",    "policy",
		"registries",       "stateDir",   "imagePaths", "notify",
		"reverifyInterval", "listenAddr", NULL
	};
	cfg_key k;

	check_keys(x, root, NULL, known);
	read_source(x, root);
	read_status(x, root);
	read_cluster(x, root);
	get_path(x, root, NULL, "policy", true, &x->c->policy);
	read_registries(x, root);
	get_path(x, root, NULL, "stateDir", false, &x->c->state_dir);
	read_image_paths(x, root);
	read_notify(x, root);
	get_duration(x, root, NULL, "reverifyInterval", 1,
	             &x->c->reverify_interval);
	if (get_str(x, root, NULL, "listenAddr", false, &x->c->listen_addr,
	            &k) &&
	    !is_host_port(x->c->listen_addr, true))
		cfg_error(x, &k, TG_EINVALID,
		          "\"%s\" is not host:port (e.g. 127.0.0.1:9090 or "
		          ":9090)",
		          x->c->listen_addr);
	if (x->c->source.branch && x->c->status.branch &&
	    !strcmp(x->c->source.branch, x->c->status.branch)) {
		key_child(&k, NULL, "status", 0);
		cfg_error(x, &k, TG_EINVALID,
		          "status.branch must differ from source.branch "
		          "(\"%s\"): the status branch has its own history",
		          x->c->status.branch);
	}
}

static tg_config *config_defaults(const char *name, const char *base_dir)
{
	tg_config *c = tg_calloc(1, sizeof(*c));

	c->file = tg_strdup(name);
	c->dir = tg_strdup(base_dir);
	c->source.branch = tg_strdup(DEFAULT_BRANCH);
	c->source.path = tg_strdup("");
	c->source.interval = DEFAULT_INTERVAL_S;
	c->status.branch = tg_strdup(DEFAULT_STATUS_BRANCH);
	c->status.notes = tg_strdup(DEFAULT_NOTES_REF);
	c->status.author_name = tg_strdup(DEFAULT_AUTHOR_NAME);
	c->status.author_email = tg_strdup(DEFAULT_AUTHOR_EMAIL);
	c->status.push = true;
	c->cluster.inventory_namespace = tg_strdup(DEFAULT_INVENTORY_NS);
	c->cluster.drift = TG_DRIFT_CORRECT;
	c->cluster.prune = true;
	c->state_dir = tg_strdup(DEFAULT_STATE_DIR);
	c->reverify_interval = DEFAULT_REVERIFY_S;
	return c;
}

int tg_config_parse(tg_config **out,
                    const char *name,
                    const char *data,
                    size_t len,
                    const char *base_dir)
{
	cfg_ctx x = { 0 };
	tg_yaml_docs *docs = NULL;
	json_t *root;
	int error;

	*out = NULL;
	if ((error = tg_yaml_parse(&docs, name, data, len, TG_YAML_POSITIONS)) <
	    0)
		return error;
	x.docs = docs;
	x.name = name;
	x.base_dir = base_dir;
	x.c = config_defaults(name, base_dir);
	tg_buf_init(&x.errors, TG_ERROR_MAX);
	root = tg_yaml_docs_count(docs) ? tg_yaml_docs_get(docs, 0) : NULL;
	if (tg_yaml_docs_count(docs) != 1 || !json_is_object(root))
		cfg_error(&x, NULL, TG_EINVALID,
		          "expected one YAML document holding a mapping");
	else
		read_top(&x, root);
	if (x.nerrors) {
		if (x.nerrors > TG_CONFIG_MAX_ERRORS)
			/* cut short by TG_ERROR_MAX like the messages */
			tg_discard(tg_buf_printf(
			        &x.errors, "\n... and %d more errors",
			        x.nerrors - TG_CONFIG_MAX_ERRORS));
		error = tg_error_set(x.code, "%s", x.errors.data);
		tg_config_free(x.c);
	} else {
		*out = x.c;
	}
	tg_buf_free(&x.errors);
	tg_yaml_docs_free(docs);
	return error;
}

/* The absolute directory of a file path, for resolving relative paths. */
static int config_dir(char **out, const char *path)
{
	char *copy = tg_strdup(path), *slash = strrchr(copy, '/');
	char resolved[PATH_MAX];
	int error = 0;

	if (slash == copy)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	if (!realpath(slash ? copy : ".", resolved))
		error = tg_error_set(TG_EIO, "%s: cannot resolve its directory",
		                     path);
	else
		*out = tg_strdup(resolved);
	free(copy);
	return error;
}

int tg_config_load(tg_config **out, const char *path)
{
	char *data = NULL, *dir = NULL;
	size_t len = 0;
	int error;

	*out = NULL;
	if ((error = tg_file_read(&data, &len, path, TG_MAX_CONFIG_BYTES)) < 0)
		return error;
	if ((error = config_dir(&dir, path)) == 0)
		error = tg_config_parse(out, path, data, len, dir);
	free(data);
	free(dir);
	return error;
}

void tg_config_source_opts(tg_source_opts *out, const tg_config *c)
{
	memset(out, 0, sizeof(*out));
	out->url = c->source.url;
	out->branch = c->source.branch;
	out->path = c->source.path;
	out->state_dir = c->state_dir;
	out->ssh_key = c->source.ssh_key;
	out->known_hosts = c->source.known_hosts;
	out->username = c->source.username;
	out->password_file = c->source.password_file;
	out->ca_file = c->source.ca_file;
}

void tg_config_status_opts(tg_status_opts *out, const tg_config *c)
{
	memset(out, 0, sizeof(*out));
	out->branch = c->status.branch;
	out->notes_ref = c->status.notes;
	out->author_name = c->status.author_name;
	out->author_email = c->status.author_email;
	out->push = c->status.push;
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void tg_config_free(tg_config *c)
{
	size_t i;

	if (!c)
		return;
	free(c->file);
	free(c->dir);
	free(c->source.url);
	free(c->source.branch);
	free(c->source.path);
	free(c->source.ssh_key);
	free(c->source.known_hosts);
	free(c->source.username);
	free(c->source.password_file);
	free(c->source.ca_file);
	free(c->status.branch);
	free(c->status.notes);
	free(c->status.author_name);
	free(c->status.author_email);
	free(c->cluster.kubeconfig);
	free(c->cluster.inventory_namespace);
	free(c->policy);
	free(c->registries.auth);
	free_strv(c->registries.insecure, c->registries.ninsecure);
	free(c->registries.ca_file);
	free(c->state_dir);
	for (i = 0; i < c->nimage_paths; i++) {
		free(c->image_paths[i].group);
		free(c->image_paths[i].kind);
		free_strv(c->image_paths[i].paths, c->image_paths[i].npaths);
	}
	free(c->image_paths);
	for (i = 0; i < c->notify.nwebhooks; i++) {
		free(c->notify.webhooks[i].url);
		free(c->notify.webhooks[i].header);
		free(c->notify.webhooks[i].header_value_file);
	}
	free(c->notify.webhooks);
	free(c->listen_addr);
	free(c);
}
