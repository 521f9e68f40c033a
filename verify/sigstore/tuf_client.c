/*
 * The TUF client workflow (specification 1.0.x, section 5 "Detailed client
 * workflow") for one target: see include/tollgate/tuf.h.
 *
 * Cache (opts->cache_dir): root.json, timestamp.json, snapshot.json,
 * targets.json (the trusted metadata, each written only after it
 * verified), the target under its own name and verified-at (Unix time of
 * the last complete update). Files are written to a temporary name, synced
 * and renamed, and the directory synced, so a crash leaves the old file
 * or the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tollgate/error.h"
#include "tollgate/util.h"
#include "tuf_int.h"

typedef struct tuf_client {
	const tg_tuf_opts *o;
	int64_t now; /* fixed at the start of the update (5.1) */
	tg_tuf_metadata *root, *ts, *snap, *targets;
	char *root_raw; /* bytes of the trusted root, for the cache */
	size_t root_raw_len;
} tuf_client;

static void client_clear(tuf_client *c)
{
	tg_tuf_metadata_free(c->root);
	tg_tuf_metadata_free(c->ts);
	tg_tuf_metadata_free(c->snap);
	tg_tuf_metadata_free(c->targets);
	free(c->root_raw);
	memset(c, 0, sizeof(*c));
}

/* mkdir -p, mode 0700 for what it creates. */
static int make_dirs(const char *dir)
{
	char *p = tg_strdup(dir), *s;
	int error = 0;

	for (s = p + 1;; s++) {
		char ch = *s;

		if (ch != '/' && ch != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			error = tg_error_set(TG_EIO, "%s: cannot create: %s", p,
			                     strerror(errno));
			break;
		}
		*s = ch;
		if (ch == '\0')
			break;
	}
	free(p);
	return error;
}

static int cache_read(char **data,
                      size_t *len,
                      const tuf_client *c,
                      const char *file,
                      size_t max)
{
	char *path = tg_path_join(c->o->cache_dir, file);
	int error = tg_file_read(data, len, path, max);

	free(path);
	return error;
}

/* Write atomically, then sync the directory so the rename is durable. */
static int
cache_write(const tuf_client *c, const char *file, const char *data, size_t len)
{
	char *path = tg_path_join(c->o->cache_dir, file);
	int fd, error;

	if ((error = make_dirs(c->o->cache_dir)) == 0 &&
	    (error = tg_file_write_atomic(path, data, len)) == 0 &&
	    (fd = open(c->o->cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >=
	            0) {
		if (fsync(fd) < 0)
			error = tg_error_set(TG_EIO, "%s: fsync failed: %s",
			                     c->o->cache_dir, strerror(errno));
		close(fd);
	}
	free(path);
	return error;
}

/*
 * GET <mirror>/<file> of at most max bytes. TG_ENOTFOUND for 404 and 403
 * (S3-style mirrors answer 403 for a missing object), TG_ENET otherwise.
 */
static int fetch(char **out,
                 size_t *len,
                 const tuf_client *c,
                 const char *file,
                 size_t max)
{
	char *url = tg_aprintf("%s/%s", c->o->mirror, file);
	tg_http_request req;
	tg_http_response *resp = NULL;
	int error;

	*out = NULL;
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.max_bytes = max ? max : 1;
	if ((error = tg_http_request_sync(&resp, c->o->http, &req)) < 0)
		error = tg_error_prefix(error, "TUF mirror");
	else if (resp->status == 404 || resp->status == 403)
		error = tg_error_set(TG_ENOTFOUND, "%s: HTTP %ld", url,
		                     resp->status);
	else if (resp->status != 200)
		error = tg_error_set(TG_ENET, "TUF mirror: %s: HTTP %ld", url,
		                     resp->status);
	if (!error) {
		*out = resp->body;
		*len = resp->body_len;
		resp->body = NULL;
	}
	tg_http_response_free(resp);
	free(url);
	return error;
}

static int check_expiry(const tuf_client *c, const tg_tuf_metadata *md)
{
	char when[21];

	if (c->now < md->expires)
		return 0;
	tg_format_rfc3339(when, md->expires);
	return tg_error_set(TG_EEXPIRED,
	                    "%s: version %lld expired at %s (a mirror that "
	                    "serves stale metadata, or a repository no longer "
	                    "maintained)",
	                    md->name, (long long)md->version, when);
}

/* 5.2: the cached root, else the bootstrap root; signed by itself. */
static int load_root(tuf_client *c)
{
	const char *name = "cached root.json";
	int error;

	error = cache_read(&c->root_raw, &c->root_raw_len, c, "root.json",
	                   TG_TUF_MAX_ROOT_BYTES);
	if (error == TG_ENOTFOUND) {
		tg_error_clear();
		name = c->o->bootstrap_name ? c->o->bootstrap_name
		                            : "bootstrap root.json";
		c->root_raw = tg_strndup(c->o->bootstrap, c->o->bootstrap_len);
		c->root_raw_len = c->o->bootstrap_len;
	} else if (error < 0)
		return error;
	if ((error = tg_tuf_metadata_parse(&c->root, name, "root", c->root_raw,
	                                   c->root_raw_len)) < 0 ||
	    (error = tg_tuf_verify_role(c->root, "root", c->root)) < 0)
		return error;
	return 0;
}

/* 5.3.3-5.3.6: version N+1, signed by N's root keys and by its own. */
static int accept_root(tuf_client *c, char *data, size_t len, int64_t next)
{
	char name[64];
	tg_tuf_metadata *md = NULL;
	int error;

	snprintf(name, sizeof(name), "%lld.root.json", (long long)next);
	if ((error = tg_tuf_metadata_parse(&md, name, "root", data, len)) < 0 ||
	    (error = tg_tuf_verify_role(c->root, "root", md)) < 0 ||
	    (error = tg_tuf_verify_role(md, "root", md)) < 0)
		goto out;
	if (md->version != next) {
		error = tg_error_set(TG_EUNTRUSTED,
		                     "%s: holds version %lld (a rollback or a "
		                     "skipped version); %lld is required",
		                     name, (long long)md->version,
		                     (long long)next);
		goto out;
	}
	if ((error = cache_write(c, "root.json", data, len)) < 0)
		goto out;
	tg_tuf_metadata_free(c->root);
	c->root = md;
	md = NULL;
	free(c->root_raw);
	c->root_raw = data;
	c->root_raw_len = len;
	data = NULL;
out:
	tg_tuf_metadata_free(md);
	free(data);
	return error;
}

/* 5.3: root versions N+1, N+2, ... until the mirror has none. */
static int update_root(tuf_client *c)
{
	char file[64], *data = NULL;
	size_t len = 0;
	int i, error;

	for (i = 0; i < TG_TUF_MAX_ROOT_ROTATIONS; i++) {
		int64_t next = c->root->version + 1;

		snprintf(file, sizeof(file), "%lld.root.json", (long long)next);
		error = fetch(&data, &len, c, file, TG_TUF_MAX_ROOT_BYTES);
		if (error == TG_ENOTFOUND) {
			tg_error_clear();
			break;
		}
		if (error < 0 || (error = accept_root(c, data, len, next)) < 0)
			return error;
	}
	/* 5.3.10: a freeze attack shows as an expired final root. */
	return check_expiry(c, c->root);
}

/* Cached metadata of role that still verifies under the current root;
 * NULL when there is none (then no rollback check is possible for it,
 * as on a first update). */
static tg_tuf_metadata *load_cached(tuf_client *c, const char *role)
{
	char file[32], *data = NULL;
	tg_tuf_metadata *md = NULL;
	size_t len;

	snprintf(file, sizeof(file), "%s.json", role);
	if (cache_read(&data, &len, c, file, TG_TUF_MAX_TARGETS_BYTES) < 0 ||
	    tg_tuf_metadata_parse(&md, file, role, data, len) < 0 ||
	    tg_tuf_verify_role(c->root, role, md) < 0) {
		tg_tuf_metadata_free(md);
		md = NULL;
	}
	tg_error_clear();
	free(data);
	return md;
}

/*
 * Fetch, check hashes and length (when info), parse, verify by the root's
 * keys for role, check the version info names and the expiry. *raw gets
 * the bytes, for the cache once the caller's own checks pass.
 */
static int fetch_role(tg_tuf_metadata **out,
                      char **raw,
                      size_t *raw_len,
                      tuf_client *c,
                      const char *role,
                      const tuf_fileinfo *info)
{
	size_t max = !info                       ? TG_TUF_MAX_TIMESTAMP_BYTES
	             : !strcmp(role, "snapshot") ? TG_TUF_MAX_SNAPSHOT_BYTES
	                                         : TG_TUF_MAX_TARGETS_BYTES;
	char file[96];
	int error;

	*out = NULL;
	*raw = NULL;
	if (info && info->length > (int64_t)max)
		return tg_error_set(
		        TG_ETOOBIG,
		        "%s.json: %lld bytes, over the limit of %zu", role,
		        (long long)info->length, max);
	if (info && info->length >= 0)
		max = (size_t)info->length;
	if (info && c->root->consistent_snapshot)
		snprintf(file, sizeof(file), "%lld.%s.json",
		         (long long)info->version, role);
	else
		snprintf(file, sizeof(file), "%s.json", role);
	if ((error = fetch(raw, raw_len, c, file, max)) < 0 ||
	    (info && (error = tg_tuf__check_file(info, file, *raw, *raw_len,
	                                         false)) < 0) ||
	    (error = tg_tuf_metadata_parse(out, file, role, *raw, *raw_len)) <
	            0 ||
	    (error = tg_tuf_verify_role(c->root, role, *out)) < 0)
		goto out;
	if (info && (*out)->version != info->version)
		error = tg_error_set(TG_EUNTRUSTED,
		                     "%s: holds version %lld; the signed "
		                     "metadata above it names %lld",
		                     file, (long long)(*out)->version,
		                     (long long)info->version);
out:
	if (error < 0) {
		tg_tuf_metadata_free(*out);
		*out = NULL;
		free(*raw);
		*raw = NULL;
	}
	return error;
}

/* Check the expiry, cache the bytes and make md the trusted one. */
static int trust(tuf_client *c,
                 tg_tuf_metadata **slot,
                 tg_tuf_metadata *md,
                 char *raw,
                 size_t len)
{
	char file[32];
	int error;

	snprintf(file, sizeof(file), "%s.json", tg_tuf__role_names[md->type]);
	if ((error = check_expiry(c, md)) == 0 &&
	    (error = cache_write(c, file, raw, len)) == 0) {
		tg_tuf_metadata_free(*slot);
		*slot = md;
		md = NULL;
	}
	tg_tuf_metadata_free(md);
	free(raw);
	return error;
}

static int rollback(const char *what, int64_t got, int64_t trusted)
{
	return tg_error_set(TG_EUNTRUSTED,
	                    "rollback refused: %s version %lld is older than "
	                    "the trusted version %lld",
	                    what, (long long)got, (long long)trusted);
}

/* 5.4: timestamp.json, no rollback of it or of the snapshot it names. */
static int update_timestamp(tuf_client *c)
{
	const tuf_fileinfo *now, *was;
	tg_tuf_metadata *md;
	char *raw;
	size_t len;
	int error;

	if ((error = fetch_role(&md, &raw, &len, c, "timestamp", NULL)) < 0)
		return error;
	now = tg_tuf__file(md, "snapshot.json");
	if (c->ts && md->version < c->ts->version)
		error = rollback("timestamp.json", md->version, c->ts->version);
	else if (c->ts && (was = tg_tuf__file(c->ts, "snapshot.json")) &&
	         now->version < was->version)
		error = rollback("snapshot.json named by timestamp.json",
		                 now->version, was->version);
	if (error < 0) {
		tg_tuf_metadata_free(md);
		free(raw);
		return error;
	}
	return trust(c, &c->ts, md, raw, len);
}

/* 5.5.5: every targets file of the trusted snapshot is still listed, at
 * a version not lower. */
static int check_snapshot_rollback(const tuf_client *c,
                                   const tg_tuf_metadata *md)
{
	size_t i;

	for (i = 0; c->snap && i < c->snap->nfiles; i++) {
		const tuf_fileinfo *was = &c->snap->files[i],
		                   *now = tg_tuf__file(md, was->name);

		if (!now)
			return tg_error_set(TG_EUNTRUSTED,
			                    "rollback refused: %s no longer "
			                    "lists %s",
			                    md->name, was->name);
		if (now->version < was->version)
			return rollback(was->name, now->version, was->version);
	}
	return 0;
}

/* 5.5 and 5.6: snapshot (from the timestamp), then targets. */
static int update_snapshot_targets(tuf_client *c)
{
	tg_tuf_metadata *md;
	char *raw;
	size_t len;
	int error;

	if ((error = fetch_role(&md, &raw, &len, c, "snapshot",
	                        tg_tuf__file(c->ts, "snapshot.json"))) < 0)
		return error;
	if ((error = check_snapshot_rollback(c, md)) < 0) {
		tg_tuf_metadata_free(md);
		free(raw);
		return error;
	}
	if ((error = trust(c, &c->snap, md, raw, len)) < 0 ||
	    (error = fetch_role(&md, &raw, &len, c, "targets",
	                        tg_tuf__file(c->snap, "targets.json"))) < 0)
		return error;
	return trust(c, &c->targets, md, raw, len);
}

/* Target names: plain file names of safe characters (they become a URL
 * and a cache file name). */
static int check_target_name(const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
		            "YZ"
		            "0123456789._-",
		            name[i]))
			break;
	if (n == 0 || n > TG_TUF_MAX_NAME_BYTES || i < n || name[0] == '.')
		return tg_error_set(TG_EINVALID,
		                    "TUF target \"%s\": only a file name of "
		                    "letters, digits, '.', '_' and '-' is "
		                    "supported",
		                    name);
	return 0;
}

/* 5.7: the target, by length and hashes; <hash>.<name> when the root
 * asks for consistent snapshots. The cached copy is used when it matches. */
static int fetch_target(tg_tuf_result *out, tuf_client *c)
{
	const char *name = c->o->target;
	const tuf_fileinfo *info = tg_tuf__file(c->targets, name);
	char file[TG_TUF_MAX_NAME_BYTES + 160], hex[129];
	int error;

	if (!info)
		return tg_error_set(TG_ENOTFOUND,
		                    "targets.json version %lld does not list "
		                    "%s (delegated targets are not followed)",
		                    (long long)c->targets->version, name);
	if (info->length > (int64_t)TG_TUF_MAX_TARGET_BYTES)
		return tg_error_set(
		        TG_ETOOBIG, "%s: %lld bytes, over the limit of %u",
		        name, (long long)info->length, TG_TUF_MAX_TARGET_BYTES);
	if (cache_read(&out->data, &out->len, c, name,
	               TG_TUF_MAX_TARGET_BYTES) == 0 &&
	    tg_tuf__check_file(info, name, out->data, out->len, true) == 0)
		return 0;
	tg_error_clear();
	free(out->data);
	out->data = NULL;
	if (info->has_sha256)
		tg_hex_encode(hex, info->sha256, 32);
	else
		tg_hex_encode(hex, info->sha512, info->has_sha512 ? 64 : 0);
	snprintf(file, sizeof(file), "targets/%s%s%s",
	         c->root->consistent_snapshot ? hex : "",
	         c->root->consistent_snapshot ? "." : "", name);
	if ((error = fetch(&out->data, &out->len, c, file,
	                   (size_t)(info->length >= 0
	                                    ? info->length
	                                    : TG_TUF_MAX_TARGET_BYTES))) < 0 ||
	    (error = tg_tuf__check_file(info, file, out->data, out->len,
	                                true)) < 0 ||
	    (error = cache_write(c, name, out->data, out->len)) < 0) {
		free(out->data);
		out->data = NULL;
	}
	return error;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Fill out's versions and times from the trusted metadata. */
static int finish(tg_tuf_result *out, const tuf_client *c)
{
	char stamp[32];

	out->root_version = c->root->version;
	out->targets_version = c->targets->version;
	out->verified_at = c->now;
	out->expires = min64(c->root->expires, c->targets->expires);
	if (c->ts && c->snap)
		out->expires = min64(out->expires,
		                     min64(c->ts->expires, c->snap->expires));
	snprintf(stamp, sizeof(stamp), "%" PRId64 "\n", c->now);
	return cache_write(c, "verified-at", stamp, strlen(stamp));
}

int tg_tuf_refresh(tg_tuf_result *out, const tg_tuf_opts *o)
{
	tuf_client c;
	tg_tuf_metadata *first = NULL;
	int error;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.now = tg_now();
	if ((error = check_target_name(o->target)) < 0 ||
	    (error = load_root(&c)) < 0)
		goto out;
	first = c.root;
	c.root = NULL;
	if ((error = tg_tuf_metadata_parse(&c.root, first->name, "root",
	                                   c.root_raw, c.root_raw_len)) < 0 ||
	    (error = update_root(&c)) < 0 ||
	    (error = cache_write(&c, "root.json", c.root_raw, c.root_raw_len)) <
	            0)
		goto out;
	/* 5.3.11: new timestamp or snapshot keys void the trusted files of
	 * those roles (fast-forward attack recovery). */
	if (tg_tuf__same_keys(first, c.root, TUF_TIMESTAMP) &&
	    tg_tuf__same_keys(first, c.root, TUF_SNAPSHOT)) {
		c.ts = load_cached(&c, "timestamp");
		c.snap = load_cached(&c, "snapshot");
	}
	if ((error = update_timestamp(&c)) < 0 ||
	    (error = update_snapshot_targets(&c)) < 0 ||
	    (error = fetch_target(out, &c)) < 0 ||
	    (error = finish(out, &c)) < 0)
		goto out;
out:
	if (error < 0)
		tg_tuf_result_clear(out);
	tg_tuf_metadata_free(first);
	client_clear(&c);
	return error;
}

static int read_verified_at(int64_t *out, const tuf_client *c)
{
	char *data = NULL;
	size_t len;
	uint64_t v;
	int error;

	if ((error = cache_read(&data, &len, c, "verified-at", 32)) < 0)
		return error;
	while (len > 0 && data[len - 1] == '\n')
		len--;
	if ((error = tg_parse_u64(&v, data, len, INT64_MAX)) < 0)
		error = tg_error_set(TG_EPARSE, "%s/verified-at: not a time",
		                     c->o->cache_dir);
	*out = (int64_t)v;
	free(data);
	return error;
}

int tg_tuf_load_cached(tg_tuf_result *out, const tg_tuf_opts *o)
{
	tuf_client c;
	char *raw = NULL;
	size_t len;
	const tuf_fileinfo *info;
	int error;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.o = o;
	if ((error = check_target_name(o->target)) < 0 ||
	    (error = cache_read(&c.root_raw, &c.root_raw_len, &c, "root.json",
	                        TG_TUF_MAX_ROOT_BYTES)) < 0 ||
	    (error = tg_tuf_metadata_parse(&c.root, "cached root.json", "root",
	                                   c.root_raw, c.root_raw_len)) < 0 ||
	    (error = tg_tuf_verify_role(c.root, "root", c.root)) < 0 ||
	    (error = cache_read(&raw, &len, &c, "targets.json",
	                        TG_TUF_MAX_TARGETS_BYTES)) < 0 ||
	    (error = tg_tuf_metadata_parse(&c.targets, "cached targets.json",
	                                   "targets", raw, len)) < 0 ||
	    (error = tg_tuf_verify_role(c.root, "targets", c.targets)) < 0 ||
	    (error = read_verified_at(&out->verified_at, &c)) < 0)
		goto out;
	if (!(info = tg_tuf__file(c.targets, o->target))) {
		error = tg_error_set(TG_ENOTFOUND,
		                     "cached targets.json does "
		                     "not list %s",
		                     o->target);
		goto out;
	}
	if ((error = cache_read(&out->data, &out->len, &c, o->target,
	                        TG_TUF_MAX_TARGET_BYTES)) < 0 ||
	    (error = tg_tuf__check_file(info, o->target, out->data, out->len,
	                                true)) < 0)
		goto out;
	out->root_version = c.root->version;
	out->targets_version = c.targets->version;
	out->expires = min64(c.root->expires, c.targets->expires);
out:
	if (error < 0)
		tg_tuf_result_clear(out);
	free(raw);
	client_clear(&c);
	return error;
}

void tg_tuf_result_clear(tg_tuf_result *r)
{
	free(r->data);
	memset(r, 0, sizeof(*r));
}
