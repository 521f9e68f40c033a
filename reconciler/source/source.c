/*
 * The Git source (DESIGN.md 1 step 1): fetch one branch into a bare cache
 * repository and read the manifests below source.path from the object
 * database. Everything read from the repository is untrusted: names,
 * sizes, symlink targets and the number of entries are checked before use.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <openssl/crypto.h>

#include "source_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/knownhosts.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/manifest.h"
#include "tollgate/source.h"
#include "tollgate/util.h"

/* Bytes of a password or token file. */
#define TG_MAX_SECRET_FILE_BYTES 4096

/* Bytes of a symlink target (Linux PATH_MAX). */
#define TG_MAX_SYMLINK_TARGET 4096

/* Local ref the fetched branch is kept under in the cache. */
#define SOURCE_REF_PREFIX "refs/tollgate/source/"

struct tg_source {
	char *url;
	char *branch;
	char *path; /* normalised: no leading/trailing '/', "" = root */
	char *cache_dir;
	char *ssh_key;
	char *known_hosts;
	char *username;
	char *password_file;
	char *ca_file;
	char *ssh_host; /* host and port parsed from an SSH URL */
	unsigned ssh_port;
	bool is_ssh;
	git_repository *repo;
	char commit[TG_SOURCE_OID_HEX];
	int cred_attempts;
	char *hostkey_error; /* detail from the certificate callback */
	int hostkey_code;
	char *push_error; /* first ref the remote refused, with its reason */
};

struct tg_source_tree {
	tg_source_file *files;
	size_t nfiles;
	size_t cap;
	tg_source_problem *problems;
	size_t nproblems;
	size_t pcap;
	char commit[TG_SOURCE_OID_HEX];
};

/* Context of one tree walk. */
typedef struct walk_ctx {
	tg_source *s;
	tg_source_tree *t;
	git_tree *root; /* the tree at source.path */
	size_t entries;
	char *what; /* the last tree_error's detail without its context */
	bool fatal; /* the last error concerns the whole tree */
} walk_ctx;

/* ---- URLs -------------------------------------------------------- */

/* ssh://, git+ssh:// or ssh+git:// (what libgit2 1.5 hands to libssh2). */
static bool is_ssh_scheme(const char *url)
{
	return tg_str_has_prefix(url, "ssh://") ||
	       tg_str_has_prefix(url, "git+ssh://") ||
	       tg_str_has_prefix(url, "ssh+git://");
}

/*
 * Host and port of an SSH URL, for the known_hosts lookup:
 * "ssh://[user@]host[:port]/path" or Git's scp-like "[user@]host:path"
 * (a ':' before any '/'), hosts in brackets for IPv6. True for SSH URLs.
 */
static bool parse_ssh_url(char **host_out, unsigned *port_out, const char *url)
{
	const char *h, *end, *at, *host_end, *rest;
	const char *colon = strchr(url, ':'), *slash = strchr(url, '/');
	bool scp = !strstr(url, "://");
	uint64_t port = 22;

	if (!scp && !is_ssh_scheme(url))
		return false;
	if (scp && (!colon || colon == url || (slash && slash < colon)))
		return false;
	h = scp ? url : strstr(url, "://") + 3;
	end = scp ? colon : h + strcspn(h, "/");
	if ((at = memchr(h, '@', (size_t)(end - h))))
		h = at + 1;
	if (*h == '[' && (host_end = memchr(h, ']', (size_t)(end - h)))) {
		h++;
		rest = host_end + 1;
	} else {
		host_end = scp ? end : h + strcspn(h, ":/");
		rest = host_end;
	}
	if (!scp && rest < end && *rest == ':' &&
	    tg_parse_u64(&port, rest + 1, (size_t)(end - rest - 1), 65535) <
	            0) {
		tg_error_clear();
		port = 22;
	}
	*host_out = tg_strndup(h, (size_t)(host_end - h));
	*port_out = (unsigned)port;
	return true;
}

/* A password in the URL would end up in logs and status: refuse it. */
static bool url_has_password(const char *url)
{
	const char *h = strstr(url, "://"), *end, *at, *colon;

	if (!h)
		return false;
	h += 3;
	end = h + strcspn(h, "/");
	if (!(at = memchr(h, '@', (size_t)(end - h))))
		return false;
	colon = memchr(h, ':', (size_t)(at - h));
	return colon != NULL;
}

/* ---- Callbacks --------------------------------------------------- */

/* Password or token from its file, without a trailing newline. */
static int read_secret(char **out, const char *path)
{
	size_t len = 0;
	int error;

	if ((error = tg_file_read(out, &len, path, TG_MAX_SECRET_FILE_BYTES)) <
	    0)
		return tg_error_prefix(error, "source.auth.passwordFile");
	while (len > 0 && ((*out)[len - 1] == '\n' || (*out)[len - 1] == '\r'))
		(*out)[--len] = '\0';
	return 0;
}

static int credentials_cb(git_credential **out,
                          const char *url,
                          const char *username_from_url,
                          unsigned int allowed_types,
                          void *payload)
{
	tg_source *s = payload;
	const char *user = username_from_url && *username_from_url
	                           ? username_from_url
	                           : (s->username ? s->username : "git");
	char *secret = NULL;
	int error;

	(void)url;
	/* libgit2 asks again after each refusal; one try per fetch. */
	if (s->cred_attempts++ > 0) {
		git_error_set_str(GIT_ERROR_NET,
		                  "the server refused the configured "
		                  "credentials");
		return GIT_EAUTH;
	}
	if ((allowed_types & GIT_CREDENTIAL_SSH_KEY) && s->ssh_key)
		return git_credential_ssh_key_new(out, user, NULL, s->ssh_key,
		                                  NULL);
	if ((allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT) &&
	    s->password_file) {
		if ((error = read_secret(&secret, s->password_file)) < 0) {
			git_error_set_str(GIT_ERROR_NET, tg_error_last());
			return GIT_EAUTH;
		}
		error = git_credential_userpass_plaintext_new(
		        out, s->username ? s->username : "tollgate", secret);
		OPENSSL_cleanse(secret, strlen(secret));
		free(secret);
		return error;
	}
	git_error_set_str(GIT_ERROR_NET,
	                  "the server asks for credentials and none are "
	                  "configured (source.auth)");
	return GIT_EAUTH;
}

static int
certificate_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	tg_source *s = payload;
	git_cert_hostkey *hk;
	const unsigned char *raw = NULL, *sha = NULL;
	size_t raw_len = 0;
	int error;

	/* TLS: keep libgit2's verdict (the CA file is set globally). */
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return valid ? 0 : GIT_PASSTHROUGH;
	hk = (git_cert_hostkey *)cert;
	if (hk->type & GIT_CERT_SSH_RAW) {
		raw = (const unsigned char *)hk->hostkey;
		raw_len = hk->hostkey_len;
	}
	if (hk->type & GIT_CERT_SSH_SHA256)
		sha = hk->hash_sha256;
	error = tg_known_hosts_check(s->known_hosts,
	                             s->ssh_host ? s->ssh_host : host,
	                             s->ssh_port, raw, raw_len, sha);
	if (error == 0)
		return 0;
	free(s->hostkey_error);
	s->hostkey_error = tg_strdup(tg_error_last());
	s->hostkey_code = error;
	git_error_set_str(GIT_ERROR_SSH, s->hostkey_error);
	return GIT_ECERTIFICATE;
}

/* Stop a remote that sends more than a repository of manifests needs. */
static int transfer_cb(const git_indexer_progress *stats, void *payload)
{
	(void)payload;
	if (stats->received_bytes > TG_MAX_GIT_FETCH_BYTES) {
		git_error_set(GIT_ERROR_NET,
		              "the remote sent more than %llu bytes "
		              "(TG_MAX_GIT_FETCH_BYTES)",
		              (unsigned long long)TG_MAX_GIT_FETCH_BYTES);
		return -1;
	}
	return 0;
}

void tg_source_callbacks(git_remote_callbacks *cb, tg_source *s)
{
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb->credentials = credentials_cb;
	cb->certificate_check = certificate_cb;
	cb->transfer_progress = transfer_cb;
	cb->payload = s;
	s->cred_attempts = 0;
	free(s->hostkey_error);
	s->hostkey_error = NULL;
}

int tg_source_git_error(tg_source *s, int gerr, const char *what)
{
	const git_error *e = git_error_last();
	const char *msg = e && e->message ? e->message : "unknown error";
	int code;

	if (s->hostkey_error)
		return tg_error_set(s->hostkey_code, "%s: %s: %s", s->url, what,
		                    s->hostkey_error);
	switch (gerr) {
	case GIT_ENOTFOUND:
		code = TG_ENOTFOUND;
		break;
	case GIT_ECERTIFICATE:
		code = TG_EUNTRUSTED;
		break;
	case GIT_EAUTH:
		code = TG_EAUTH;
		break;
	case GIT_ENONFASTFORWARD:
	case GIT_EMODIFIED:
		code = TG_ECONFLICT;
		break;
	default:
		code = e && (e->klass == GIT_ERROR_NET ||
		             e->klass == GIT_ERROR_SSH ||
		             e->klass == GIT_ERROR_HTTP ||
		             e->klass == GIT_ERROR_SSL)
		               ? TG_ENET
		               : TG_ERROR;
	}
	return tg_error_set(code, "%s: %s: %s", s->url, what, msg);
}

git_repository *tg_source_repo(tg_source *s)
{
	return s->repo;
}

int tg_source_remote_new(git_remote **out, tg_source *s)
{
	git_remote_create_options o;
	int gerr;

	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = s->repo;
	/* No url.<base>.insteadOf rewriting: the URL fetched is the URL
	 * configured. (It also avoids libgit2 1.5's config regex lookup,
	 * which leaks PCRE2 match data.) */
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
	          GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if ((gerr = git_remote_create_with_opts(out, s->url, &o)) < 0)
		return tg_source_git_error(s, gerr, "bad remote URL");
	return 0;
}

/* ---- Open -------------------------------------------------------- */

/* "clusters/prod/" -> "clusters/prod"; "" and "." -> "". */
static int normalise_path(char **out, const char *p)
{
	size_t n;

	*out = NULL;
	if (!p)
		p = "";
	while (*p == '/')
		p++;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n == 0 || (n == 1 && p[0] == '.')) {
		*out = tg_strdup("");
		return 0;
	}
	*out = tg_strndup(p, n);
	if (!tg_path_is_safe_relative(*out)) {
		free(*out);
		*out = NULL;
		return tg_error_set(TG_EINVALID,
		                    "source.path \"%s\": not a relative path "
		                    "inside the repository",
		                    p);
	}
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s && *s ? tg_strdup(s) : NULL;
}

/* Check and copy the options into s. */
static int source_init_opts(tg_source *s, const tg_source_opts *o)
{
	char *ref;
	int valid = 0, error;

	if (!o->url || !*o->url || !o->branch || !*o->branch || !o->state_dir)
		return tg_error_set(TG_EINVALID, "source: url, branch and "
		                                 "stateDir are required");
	if (url_has_password(o->url))
		return tg_error_set(TG_EINVALID,
		                    "source.url: contains a password; put it "
		                    "in source.auth.passwordFile instead");
	ref = tg_aprintf("refs/heads/%s", o->branch);
	git_reference_name_is_valid(&valid, ref);
	free(ref);
	if (!valid)
		return tg_error_set(TG_EINVALID,
		                    "source.branch \"%s\": not a valid branch "
		                    "name",
		                    o->branch);
	s->url = tg_strdup(o->url);
	s->branch = tg_strdup(o->branch);
	if ((error = normalise_path(&s->path, o->path)) < 0)
		return error;
	s->ssh_key = dup_or_null(o->ssh_key);
	s->known_hosts = dup_or_null(o->known_hosts);
	s->username = dup_or_null(o->username);
	s->password_file = dup_or_null(o->password_file);
	s->ca_file = dup_or_null(o->ca_file);
	s->is_ssh = parse_ssh_url(&s->ssh_host, &s->ssh_port, o->url);
	if (s->is_ssh && !s->known_hosts)
		return tg_error_set(TG_EINVALID,
		                    "source.url %s is an SSH URL: "
		                    "source.auth.knownHosts is required so the "
		                    "server's host key can be checked",
		                    o->url);
	return 0;
}

/* The cache for a URL: state_dir/git/<first 16 hex of SHA-256(url)>.git,
 * so a changed URL never mixes objects of two repositories. */
static char *cache_path(const char *state_dir, const char *url)
{
	unsigned char d[32];
	char hex[65], *dir, *path;

	tg_sha256(d, url, strlen(url));
	tg_hex_encode(hex, d, 32);
	hex[16] = '\0';
	dir = tg_path_join(state_dir, "git");
	path = tg_aprintf("%s/%s.git", dir, hex);
	free(dir);
	return path;
}

/* The commit a previous run fetched, so "has it moved?" works after a
 * restart; a cache without it leaves commit empty. */
static void load_cached_commit(tg_source *s)
{
	char *name = tg_aprintf(SOURCE_REF_PREFIX "%s", s->branch);
	git_oid oid;

	if (git_reference_name_to_id(&oid, s->repo, name) == 0)
		git_oid_tostr(s->commit, sizeof(s->commit), &oid);
	free(name);
}

/* Remove path when it is a "*.lock" file last changed before cutoff. */
static void remove_if_stale(const char *path, time_t cutoff)
{
	struct stat st;

	if (!tg_str_has_suffix(path, ".lock") || lstat(path, &st) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_mtime >= cutoff)
		return;
	if (unlink(path) == 0)
		tg_log(TG_LOG_WARN, "removed a stale lock from the Git cache",
		       "file", path, NULL);
}

static void remove_stale_in(const char *dir, time_t cutoff, int depth)
{
	DIR *d;
	struct dirent *e;

	if (depth > TG_GIT_MAX_REF_DEPTH || !(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		char *path;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		path = tg_path_join(dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			remove_stale_in(path, cutoff, depth + 1);
		else
			remove_if_stale(path, cutoff);
		free(path);
	}
	closedir(d);
}

/*
 * A process killed while updating a ref leaves "<ref>.lock" behind, and
 * libgit2 then refuses every later update of that ref: remove lock files
 * older than TG_GIT_STALE_LOCK_S in refs/ and beside HEAD, packed-refs
 * and config. A live writer holds its lock for milliseconds.
 */
static void remove_stale_locks(const char *cache_dir)
{
	static const char *const top[] = { "HEAD.lock", "packed-refs.lock",
		                           "config.lock", "index.lock" };
	time_t cutoff = time(NULL) - TG_GIT_STALE_LOCK_S;
	char *refs = tg_path_join(cache_dir, "refs");
	size_t i;

	remove_stale_in(refs, cutoff, 0);
	free(refs);
	for (i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		char *p = tg_path_join(cache_dir, top[i]);
		remove_if_stale(p, cutoff);
		free(p);
	}
}

int tg_source_open(tg_source **out, const tg_source_opts *opts)
{
	tg_source *s = tg_calloc(1, sizeof(*s));
	int gerr, error = 0;

	*out = NULL;
	git_libgit2_init();
	if ((error = source_init_opts(s, opts)) < 0)
		goto out;
	s->cache_dir = cache_path(opts->state_dir, s->url);
	remove_stale_locks(s->cache_dir);
	gerr = git_repository_open_bare(&s->repo, s->cache_dir);
	if (gerr == GIT_ENOTFOUND)
		gerr = git_repository_init(&s->repo, s->cache_dir, 1);
	if (gerr < 0) {
		const git_error *e = git_error_last();
		error = tg_error_set(TG_EIO,
		                     "%s: cannot open the Git cache: %s",
		                     s->cache_dir, e ? e->message : "?");
		goto out;
	}
	load_cached_commit(s);
	*out = s;
	s = NULL;
out:
	tg_source_free(s);
	return error;
}

/* ---- Fetch ------------------------------------------------------- */

/* Connect for fetching, with the CA file applied for https. */
static int
source_connect(git_remote **out, tg_source *s, git_remote_callbacks *cb)
{
	int gerr, error;

	*out = NULL;
	if (s->ca_file && git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS,
	                                   s->ca_file, NULL) < 0)
		return tg_source_git_error(s, -1, "source.auth.caFile");
	if ((error = tg_source_remote_new(out, s)) < 0)
		return error;
	tg_source_callbacks(cb, s);
	if ((gerr = git_remote_connect(*out, GIT_DIRECTION_FETCH, cb, NULL,
	                               NULL)) < 0) {
		error = tg_source_git_error(s, gerr, "cannot connect");
		if (error == TG_ERROR) {
			/* libgit2 reports refused or unreachable hosts as OS
			 * errors: for tollgate they are network failures. */
			char *msg = tg_strdup(tg_error_last());
			error = tg_error_set(TG_ENET, "%s", msg);
			free(msg);
		}
		git_remote_free(*out);
		*out = NULL;
		return error;
	}
	return 0;
}

/* The remote's commit for refs/heads/<branch>. */
static int find_remote_branch(git_oid *oid, tg_source *s, git_remote *remote)
{
	const git_remote_head **heads;
	char *want = tg_aprintf("refs/heads/%s", s->branch);
	size_t n, i;
	int gerr, error = TG_ENOTFOUND;

	if ((gerr = git_remote_ls(&heads, &n, remote)) < 0) {
		error = tg_source_git_error(s, gerr, "cannot list refs");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!strcmp(heads[i]->name, want)) {
			git_oid_cpy(oid, &heads[i]->oid);
			error = 0;
			goto out;
		}
	}
	tg_error_set(TG_ENOTFOUND,
	             "%s: branch \"%s\" does not exist on the remote; check "
	             "source.url and source.branch",
	             s->url, s->branch);
out:
	free(want);
	return error;
}

/* Point the cache's ref at the fetched commit, which must be a commit. */
static int record_commit(tg_source *s, const git_oid *oid)
{
	git_commit *commit = NULL;
	git_reference *ref = NULL;
	char *name = tg_aprintf(SOURCE_REF_PREFIX "%s", s->branch);
	int gerr, error = 0;

	if ((gerr = git_commit_lookup(&commit, s->repo, oid)) < 0) {
		error = tg_source_git_error(s, gerr,
		                            "the branch does not point to a "
		                            "commit");
		goto out;
	}
	if ((gerr = git_reference_create(&ref, s->repo, name, oid, 1,
	                                 "tollgate fetch")) < 0) {
		error = tg_source_git_error(s, gerr, "cannot update the cache");
		goto out;
	}
	git_oid_tostr(s->commit, sizeof(s->commit), oid);
out:
	git_reference_free(ref);
	git_commit_free(commit);
	free(name);
	return error;
}

static const git_oid *
listed_oid(const git_remote_head **heads, size_t n, const char *name);
static int set_ref(tg_source *s, const char *name, const git_oid *oid);

/*
 * Connect to s's remote and download in one negotiation the branch's tip
 * (when branch) and each remote_refs[i] the remote lists that the cache
 * lacks; then point local_refs[i] at what the remote lists (deleting it
 * when the remote lists none) and, when branch, make the tip s's commit.
 * 0 or a negative TG_E* code with the detail recorded.
 */
/* Fetch the branch (when branch) and the refs remote_refs into
 * local_refs. With extra_ok, failing to store those refs is not an error:
 * *extra_ok says whether they were stored. */
static int fetch(tg_source *s,
                 bool branch,
                 const char *const *remote_refs,
                 const char *const *local_refs,
                 size_t n,
                 bool *extra_ok)
{
	git_remote *remote = NULL;
	git_remote_callbacks cb;
	git_fetch_options fo;
	const git_remote_head **heads;
	git_oid oid;
	char **specs = tg_calloc(n + 1, sizeof(char *));
	git_strarray arr = { specs, 0 };
	git_odb *odb = NULL;
	size_t nheads, i;
	int gerr, error;

	memset(&oid, 0, sizeof(oid));
	if ((error = source_connect(&remote, s, &cb)) < 0)
		goto out;
	if (branch && (error = find_remote_branch(&oid, s, remote)) < 0)
		goto out;
	if ((gerr = git_remote_ls(&heads, &nheads, remote)) < 0 ||
	    (gerr = git_repository_odb(&odb, s->repo)) < 0) {
		error = tg_source_git_error(
		        s, gerr, branch ? "cache" : "cannot list refs");
		goto out;
	}
	/* Already have the commit (a no-op cycle): nothing to download. */
	if (branch && !git_odb_exists(odb, &oid))
		specs[arr.count++] =
		        tg_aprintf("+refs/heads/%s:" SOURCE_REF_PREFIX "%s",
		                   s->branch, s->branch);
	for (i = 0; i < n; i++) {
		const git_oid *o = listed_oid(heads, nheads, remote_refs[i]);
		if (o && !git_odb_exists(odb, o))
			specs[arr.count++] = tg_aprintf(
			        "+%s:%s", remote_refs[i], local_refs[i]);
	}
	if (arr.count) {
		git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
		fo.callbacks = cb;
		fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
		if ((gerr = git_remote_download(remote, &arr, &fo)) < 0) {
			error = tg_source_git_error(s, gerr, "fetch failed");
			goto out;
		}
	}
	if (branch && (error = record_commit(s, &oid)) < 0)
		goto out;
	if (branch)
		tg_log(TG_LOG_DEBUG, "fetched", "url", s->url, "branch",
		       s->branch, "commit", s->commit, NULL);
	if (extra_ok)
		*extra_ok = true;
	for (i = 0; i < n && !error; i++)
		error = set_ref(s, local_refs[i],
		                listed_oid(heads, nheads, remote_refs[i]));
	if (error < 0 && extra_ok) {
		tg_log(TG_LOG_WARN, "refs fetched with the branch not stored",
		       "error", tg_error_last(), NULL);
		*extra_ok = false;
		error = 0;
	}
out:
	if (remote)
		git_remote_disconnect(remote);
	git_remote_free(remote);
	git_odb_free(odb);
	for (i = 0; i < arr.count; i++)
		free(specs[i]);
	free(specs);
	return error;
}

int tg_source_fetch_with(tg_source *s,
                         const char *const *remote_refs,
                         const char *const *local_refs,
                         size_t n,
                         bool *extra_ok)
{
	return fetch(s, true, remote_refs, local_refs, n, extra_ok);
}

int tg_source_fetch(tg_source *s)
{
	return fetch(s, true, NULL, NULL, 0, NULL);
}

/* Point local ref name at oid, or delete it when oid is NULL. */
static int set_ref(tg_source *s, const char *name, const git_oid *oid)
{
	git_reference *ref = NULL;
	int gerr;

	if (!oid) {
		gerr = git_reference_remove(s->repo, name);
		return gerr == GIT_ENOTFOUND || gerr == 0
		               ? 0
		               : tg_source_git_error(s, gerr, name);
	}
	gerr = git_reference_create(&ref, s->repo, name, oid, 1, "tollgate");
	git_reference_free(ref);
	return gerr < 0 ? tg_source_git_error(s, gerr, name) : 0;
}

/* The oid of remote ref name in the listing, or NULL. */
static const git_oid *
listed_oid(const git_remote_head **heads, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(heads[i]->name, name))
			return &heads[i]->oid;
	return NULL;
}

int tg_source_fetch_refs(tg_source *s,
                         const char *const *remote_refs,
                         const char *const *local_refs,
                         size_t n)
{
	return fetch(s, false, remote_refs, local_refs, n, NULL);
}

/* Remember the first ref the remote refused (status is its reason). */
static int push_ref_cb(const char *refname, const char *status, void *data)
{
	tg_source *s = data;

	if (status && !s->push_error)
		s->push_error = tg_aprintf("%s: %s", refname, status);
	return 0;
}

int tg_source_push(tg_source *s,
                   const char *const *specs,
                   size_t n,
                   bool *rejected)
{
	git_remote *remote = NULL;
	git_push_options po;
	git_strarray arr = { (char **)specs, n };
	int gerr, error = 0;

	*rejected = false;
	free(s->push_error);
	s->push_error = NULL;
	if ((error = tg_source_remote_new(&remote, s)) < 0)
		return error;
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	tg_source_callbacks(&po.callbacks, s);
	po.callbacks.push_update_reference = push_ref_cb;
	gerr = git_remote_push(remote, &arr, &po);
	if (gerr == GIT_ENONFASTFORWARD || (gerr == 0 && s->push_error)) {
		*rejected = true;
		tg_log(TG_LOG_INFO, "status push refused, remote moved", "url",
		       s->url, "detail",
		       s->push_error ? s->push_error : "non-fast-forward",
		       NULL);
	} else if (gerr < 0) {
		error = tg_source_git_error(s, gerr, "push failed");
	}
	git_remote_free(remote);
	return error;
}

const char *tg_source_commit(const tg_source *s)
{
	return s->commit;
}

const char *tg_source_url(const tg_source *s)
{
	return s->url;
}

int tg_source_remote_head(char oid_out[TG_SOURCE_OID_HEX],
                          bool *moved,
                          tg_source *s)
{
	git_remote *remote = NULL;
	git_remote_callbacks cb;
	git_oid oid;
	int error;

	oid_out[0] = '\0';
	*moved = false;
	if ((error = source_connect(&remote, s, &cb)) < 0)
		goto out;
	if ((error = find_remote_branch(&oid, s, remote)) < 0)
		goto out;
	git_oid_tostr(oid_out, TG_SOURCE_OID_HEX, &oid);
	*moved = strcmp(oid_out, s->commit) != 0;
out:
	if (remote)
		git_remote_disconnect(remote);
	git_remote_free(remote);
	return error;
}

/* ---- Reading the tree -------------------------------------------- */

/* Error detail naming everything a user needs to find the entry. */
static int tree_error(walk_ctx *w, int code, const char *rel, const char *what)
{
	free(w->what);
	w->what = tg_strdup(what);
	return tg_error_set(code, "%s branch %s at %.12s: %s%s%s: %s",
	                    w->s->url, w->s->branch, w->t->commit, w->s->path,
	                    *w->s->path ? "/" : "", rel, what);
}

/* The manifest loader's rule: *.yaml, *.yml, *.json, nothing hidden. */
static bool is_manifest_name(const char *rel)
{
	return tg_manifest_path_wanted(rel);
}

/* Tree entry names come from the remote: only plain path components. */
static bool name_is_plain(const char *name)
{
	return *name && strcmp(name, ".") && strcmp(name, "..") &&
	       !strchr(name, '/') && !strchr(name, '\\');
}

/* Read a blob by id into a NUL-terminated heap copy, checking its size
 * from the object header before inflating it. */
static int read_blob(char **data_out,
                     size_t *len_out,
                     walk_ctx *w,
                     const git_oid *oid,
                     const char *rel,
                     size_t max)
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	git_object_t type;
	size_t len = 0;
	int error = 0;

	*data_out = NULL;
	if (git_repository_odb(&odb, w->s->repo) < 0 ||
	    git_odb_read_header(&len, &type, odb, oid) < 0) {
		error = tree_error(w, TG_ERROR, rel, "cannot read the object");
		goto out;
	}
	if (type != GIT_OBJECT_BLOB) {
		error = tree_error(w, TG_EINVALID, rel, "not a blob");
		goto out;
	}
	if (len > max) {
		char *msg = tg_aprintf("%zu bytes, over the limit of %zu "
		                       "(TG_MAX_FILE_BYTES)",
		                       len, max);
		error = tree_error(w, TG_ETOOBIG, rel, msg);
		free(msg);
		goto out;
	}
	if (git_odb_read(&obj, odb, oid) < 0) {
		error = tree_error(w, TG_ERROR, rel, "cannot read the blob");
		goto out;
	}
	len = git_odb_object_size(obj);
	*data_out = tg_malloc(len + 1);
	memcpy(*data_out, git_odb_object_data(obj), len);
	(*data_out)[len] = '\0';
	*len_out = len;
out:
	git_odb_object_free(obj);
	git_odb_free(odb);
	return error;
}

static void tree_add(tg_source_tree *t, char *path, char *data, size_t len)
{
	if (t->nfiles == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->files = tg_realloc(t->files, t->cap * sizeof(*t->files));
	}
	t->files[t->nfiles].path = path;
	t->files[t->nfiles].data = data;
	t->files[t->nfiles].len = len;
	t->nfiles++;
}

/* Apply one component of a symlink target to the path in b. */
static int link_step(tg_buf *b, const char *c, size_t n)
{
	char *last;

	if (n == 0 || (n == 1 && c[0] == '.'))
		return 0;
	if (n == 2 && c[0] == '.' && c[1] == '.') {
		if (!b->len)
			return TG_EINVALID;
		last = strrchr(b->data, '/');
		b->len = last ? (size_t)(last - b->data) : 0;
		b->data[b->len] = '\0';
		return 0;
	}
	if (b->len)
		tg_buf_puts(b, "/");
	return tg_buf_append(b, c, n);
}

/*
 * Resolve a symlink target against the link's directory, inside the tree
 * at source.path: absolute targets and anything that climbs above
 * source.path are refused, because the target would be read from outside
 * what the deploy configuration owns. *out is the path below source.path.
 */
static int
resolve_link_path(char **out, walk_ctx *w, const char *rel, const char *target)
{
	tg_buf b;
	const char *c, *slash = strrchr(rel, '/');
	int error = 0;

	*out = NULL;
	if (target[0] == '/')
		return tree_error(w, TG_EINVALID, rel,
		                  "symlink to an absolute path is not allowed");
	tg_buf_init(&b, strlen(rel) + strlen(target) + 2);
	if (slash)
		tg_buf_append(&b, rel, (size_t)(slash - rel));
	for (c = target; *c && !error;) {
		size_t n = strcspn(c, "/");

		error = link_step(&b, c, n);
		c += n + (c[n] == '/');
	}
	if (error || !b.len) {
		error = tree_error(w, TG_EINVALID, rel,
		                   error ? "symlink points outside source.path"
		                         : "symlink points to source.path");
		goto out;
	}
	*out = tg_buf_detach(&b, NULL);
out:
	tg_buf_free(&b);
	return error;
}

/* Follow a symlink (and symlinks it points to) to a blob within the tree. */
static int read_link(char **data_out,
                     size_t *len_out,
                     walk_ctx *w,
                     const char *rel,
                     const git_oid *link_oid)
{
	git_tree_entry *e = NULL;
	git_oid oid;
	char *cur = tg_strdup(rel), *target = NULL, *next = NULL;
	size_t tlen = 0;
	int hops, error = 0;

	git_oid_cpy(&oid, link_oid);
	for (hops = 0; hops < TG_MAX_SYMLINK_HOPS; hops++) {
		if ((error = read_blob(&target, &tlen, w, &oid, cur,
		                       TG_MAX_SYMLINK_TARGET)) < 0)
			goto out;
		if (strlen(target) != tlen || tlen == 0) {
			error = tree_error(w, TG_EINVALID, cur,
			                   "bad symlink target");
			goto out;
		}
		if ((error = resolve_link_path(&next, w, cur, target)) < 0)
			goto out;
		git_tree_entry_free(e);
		e = NULL;
		if (git_tree_entry_bypath(&e, w->root, next) < 0) {
			error = tree_error(w, TG_EINVALID, rel,
			                   "symlink target does not exist in "
			                   "source.path");
			goto out;
		}
		free(cur);
		cur = next;
		next = NULL;
		free(target);
		target = NULL;
		git_oid_cpy(&oid, git_tree_entry_id(e));
		switch (git_tree_entry_filemode(e)) {
		case GIT_FILEMODE_BLOB:
		case GIT_FILEMODE_BLOB_EXECUTABLE:
			error = read_blob(data_out, len_out, w, &oid, cur,
			                  TG_MAX_FILE_BYTES);
			goto out;
		case GIT_FILEMODE_LINK:
			continue;
		default:
			error = tree_error(w, TG_EINVALID, rel,
			                   "symlink points to a directory or "
			                   "submodule");
			goto out;
		}
	}
	error = tree_error(w, TG_EINVALID, rel,
	                   "too many levels of symlinks (TG_MAX_SYMLINK_HOPS)");
out:
	git_tree_entry_free(e);
	free(cur);
	free(next);
	free(target);
	return error;
}

static int
walk_tree(walk_ctx *w, git_tree *tree, const char *prefix, int depth);
static int walk_entry_checked(walk_ctx *w,
                              const git_tree_entry *e,
                              const char *rel,
                              int depth);

/* One entry of a tree: recurse, read, or refuse. */
static int
walk_entry(walk_ctx *w, const git_tree_entry *e, const char *rel, int depth)
{
	git_tree *sub = NULL;
	char *data = NULL;
	size_t len = 0;
	int error = 0;

	switch (git_tree_entry_filemode(e)) {
	case GIT_FILEMODE_TREE:
		if (git_tree_lookup(&sub, w->s->repo, git_tree_entry_id(e)) < 0)
			return tree_error(w, TG_ERROR, rel,
			                  "cannot read the tree");
		error = walk_tree(w, sub, rel, depth + 1);
		git_tree_free(sub);
		/* a refusal inside was already recorded by the inner walk;
		 * what comes back from it concerns the whole tree */
		if (error)
			w->fatal = true;
		return error;
	case GIT_FILEMODE_COMMIT:
		return tree_error(w, TG_EINVALID, rel,
		                  "is a submodule; tollgate reads only files "
		                  "stored in the deploy repository itself");
	case GIT_FILEMODE_LINK:
		if (!is_manifest_name(rel))
			return 0;
		error = read_link(&data, &len, w, rel, git_tree_entry_id(e));
		break;
	default:
		if (!is_manifest_name(rel))
			return 0;
		error = read_blob(&data, &len, w, git_tree_entry_id(e), rel,
		                  TG_MAX_FILE_BYTES);
	}
	if (error == 0)
		tree_add(w->t, tg_strdup(rel), data, len);
	return error;
}

static void
problem_add(tg_source_tree *t, const char *path, const char *message)
{
	if (t->nproblems == t->pcap) {
		t->pcap = t->pcap ? t->pcap * 2 : 8;
		t->problems =
		        tg_realloc(t->problems, t->pcap * sizeof(*t->problems));
	}
	t->problems[t->nproblems].path = tg_strdup(path);
	t->problems[t->nproblems].message = tg_strdup(message);
	t->nproblems++;
}

/*
 * An entry whose content is refused (too big, a submodule, a bad symlink)
 * fails only its own unit (STYLE 13): it becomes a problem of the tree
 * and the walk goes on. Limits on the whole tree and read failures stop
 * the walk.
 */
static int walk_entry_checked(walk_ctx *w,
                              const git_tree_entry *e,
                              const char *rel,
                              int depth)
{
	int error = walk_entry(w, e, rel, depth);

	if ((error == TG_EINVALID || error == TG_ETOOBIG) && !w->fatal) {
		tg_log(TG_LOG_WARN, "source file refused", "path", rel,
		       "reason", w->what, NULL);
		problem_add(w->t, rel, w->what);
		tg_error_clear();
		return 0;
	}
	return error;
}

static int walk_tree(walk_ctx *w, git_tree *tree, const char *prefix, int depth)
{
	size_t i, n = git_tree_entrycount(tree);
	int error = 0;

	if (depth > TG_MAX_TREE_DEPTH) {
		w->fatal = true;
		return tree_error(w, TG_ETOOBIG, prefix,
		                  "directories nest deeper than "
		                  "TG_MAX_TREE_DEPTH");
	}
	for (i = 0; i < n && !error; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);
		char *rel;

		w->fatal = true;
		if (++w->entries > TG_MAX_TREE_FILES)
			return tree_error(
			        w, TG_ETOOBIG, prefix,
			        "more entries than TG_MAX_TREE_FILES");
		if (!name_is_plain(name))
			return tree_error(w, TG_EINVALID, prefix,
			                  "tree entry with a name that is not "
			                  "a plain file name");
		w->fatal = false;
		/* Hidden files and directories are never manifests. */
		if (name[0] == '.')
			continue;
		rel = *prefix ? tg_aprintf("%s/%s", prefix, name)
		              : tg_strdup(name);
		error = walk_entry_checked(w, e, rel, depth);
		free(rel);
	}
	return error;
}

/* The tree at source.path in the fetched commit. */
static int subtree(git_tree **out, walk_ctx *w)
{
	git_commit *commit = NULL;
	git_tree *root = NULL;
	git_tree_entry *e = NULL;
	git_oid oid;
	int error = 0;

	*out = NULL;
	if (git_oid_fromstr(&oid, w->s->commit) < 0 ||
	    git_commit_lookup(&commit, w->s->repo, &oid) < 0 ||
	    git_commit_tree(&root, commit) < 0) {
		error = tg_source_git_error(w->s, -1, "cannot read the commit");
		goto out;
	}
	if (!*w->s->path) {
		*out = root;
		root = NULL;
		goto out;
	}
	if (git_tree_entry_bypath(&e, root, w->s->path) < 0) {
		error = tg_error_set(TG_ENOTFOUND,
		                     "%s branch %s at %.12s: source.path "
		                     "\"%s\" does not exist",
		                     w->s->url, w->s->branch, w->t->commit,
		                     w->s->path);
		goto out;
	}
	if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
		error = tg_error_set(TG_EINVALID,
		                     "%s branch %s at %.12s: source.path "
		                     "\"%s\" is not a directory",
		                     w->s->url, w->s->branch, w->t->commit,
		                     w->s->path);
		goto out;
	}
	if (git_tree_lookup(out, w->s->repo, git_tree_entry_id(e)) < 0)
		error = tg_source_git_error(w->s, -1, "cannot read the tree");
out:
	git_tree_entry_free(e);
	git_tree_free(root);
	git_commit_free(commit);
	return error;
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const tg_source_file *)a)->path,
	              ((const tg_source_file *)b)->path);
}

int tg_source_read(tg_source_tree **out, tg_source *s)
{
	walk_ctx w = { s, NULL, NULL, 0, NULL, false };
	int error;

	*out = NULL;
	if (!s->commit[0])
		return tg_error_set(TG_ERROR, "%s: nothing fetched yet",
		                    s->url);
	w.t = tg_calloc(1, sizeof(*w.t));
	memcpy(w.t->commit, s->commit, sizeof(w.t->commit));
	if ((error = subtree(&w.root, &w)) < 0)
		goto out;
	if ((error = walk_tree(&w, w.root, "", 0)) < 0)
		goto out;
	qsort(w.t->files, w.t->nfiles, sizeof(*w.t->files), file_cmp);
	*out = w.t;
	w.t = NULL;
out:
	git_tree_free(w.root);
	tg_source_tree_free(w.t);
	free(w.what);
	return error;
}

size_t tg_source_tree_count(const tg_source_tree *t)
{
	return t->nfiles;
}

const tg_source_file *tg_source_tree_get(const tg_source_tree *t, size_t i)
{
	return i < t->nfiles ? &t->files[i] : NULL;
}

size_t tg_source_tree_problem_count(const tg_source_tree *t)
{
	return t->nproblems;
}

const tg_source_problem *tg_source_tree_problem(const tg_source_tree *t,
                                                size_t i)
{
	return i < t->nproblems ? &t->problems[i] : NULL;
}

const char *tg_source_tree_commit(const tg_source_tree *t)
{
	return t->commit;
}

void tg_source_tree_free(tg_source_tree *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nfiles; i++) {
		free((char *)t->files[i].path);
		free((char *)t->files[i].data);
	}
	free(t->files);
	for (i = 0; i < t->nproblems; i++) {
		free((char *)t->problems[i].path);
		free((char *)t->problems[i].message);
	}
	free(t->problems);
	free(t);
}

void tg_source_free(tg_source *s)
{
	if (!s)
		return;
	git_repository_free(s->repo);
	free(s->url);
	free(s->branch);
	free(s->path);
	free(s->cache_dir);
	free(s->ssh_key);
	free(s->known_hosts);
	free(s->username);
	free(s->password_file);
	free(s->ca_file);
	free(s->ssh_host);
	free(s->hostkey_error);
	free(s->push_error);
	free(s);
	git_libgit2_shutdown();
}
