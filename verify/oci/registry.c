/*
 * OCI distribution client: see include/tollgate/registry.h.
 *
 * The client is in three files around verify/oci/registry_int.h: this one
 * (the client object, the digest cache, the public calls, which check
 * their arguments and start an operation, and the synchronous wrappers),
 * registry_op.c (requests and responses) and registry_auth.c (credentials
 * and tokens). Manifests are parsed by oci_manifest.c, headers by
 * http_header.c.
 */
#include "tollgate/registry.h"

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http_header_int.h"
#include "oci_manifest_int.h"
#include "registry_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

void tg_blob_free(tg_blob *b)
{
	if (!b)
		return;
	free(b->digest);
	free(b->data);
	free(b);
}

void tg_referrers_free(tg_referrers *r)
{
	if (!r)
		return;
	free(r->subject);
	tg_oci_descriptors_free(r->items, r->count);
	free(r);
}

char *tg_registry_digest_tag(const char *digest, const char *suffix)
{
	const char *colon;

	if (!digest || !tg_digest_is_valid(digest))
		return NULL;
	colon = strchr(digest, ':');
	return tg_aprintf("%.*s-%s%s", (int)(colon - digest), digest, colon + 1,
	                  suffix ? suffix : "");
}

const char *tg_registry_api_host(const char *registry)
{
	if (!strcmp(registry, "docker.io") ||
	    !strcmp(registry, "index.docker.io"))
		return "registry-1.docker.io";
	return registry;
}

/* The digest cache ------------------------------------------------------ */

static void cache_evict(tg_registry *reg, size_t need)
{
	struct cache_entry **p, *e;

	while (reg->cache && reg->cache_bytes + need > reg->cache_max) {
		/* Drop the oldest (the list's last entry). */
		for (p = &reg->cache; (*p)->next; p = &(*p)->next)
			;
		e = *p;
		*p = NULL;
		reg->cache_bytes -= e->len;
		free(e->key);
		free(e->content_type);
		free(e->data);
		free(e);
	}
}

/* Keep verified bytes under "host digest". One entry may use at most an
 * eighth of the cache, so one large SBOM does not flush everything else. */
void tg_registry__cache_put(tg_registry *reg,
                            const char *host,
                            const char *digest,
                            const char *ct,
                            const char *data,
                            size_t len)
{
	struct cache_entry *e;
	char *key = tg_aprintf("%s %s", host, digest);

	for (e = reg->cache; e; e = e->next) {
		if (!strcmp(e->key, key)) {
			free(key);
			return;
		}
	}
	if (len > reg->cache_max / 8) {
		free(key);
		return;
	}
	cache_evict(reg, len);
	e = tg_calloc(1, sizeof(*e));
	e->key = key;
	e->content_type = ct ? tg_strdup(ct) : NULL;
	e->data = tg_malloc(len + 1);
	memcpy(e->data, data, len);
	e->data[len] = '\0';
	e->len = len;
	e->next = reg->cache;
	reg->cache = e;
	reg->cache_bytes += len;
}

static const struct cache_entry *
cache_get(tg_registry *reg, const char *host, const char *digest)
{
	struct cache_entry *e;
	char *key = tg_aprintf("%s %s", host, digest);

	for (e = reg->cache; e; e = e->next)
		if (!strcmp(e->key, key))
			break;
	free(key);
	return e;
}

/* Construction ----------------------------------------------------------- */

int tg_registry_new(tg_registry **out, const tg_registry_options *opts)
{
	tg_registry_options none = { 0 };
	tg_http_options hopts = { 0 };
	tg_registry *reg;
	int error;

	*out = NULL;
	if (!opts)
		opts = &none;
	reg = tg_calloc(1, sizeof(*reg));
	reg->cache_max = opts->cache_max_bytes ? opts->cache_max_bytes
	                                       : TG_MAX_REGISTRY_CACHE_BYTES;
	hopts.ca_file = opts->ca_file;
	hopts.insecure_hosts = opts->insecure;
	hopts.insecure_hosts_count = opts->insecure_count;
	hopts.parallel = opts->parallel;
	hopts.max_retries = opts->max_retries;
	hopts.retry_base_ms = opts->retry_base_ms;
	if ((error = tg_http_new(&reg->http, &hopts)) < 0 ||
	    (opts->auth_file &&
	     (error = tg_registry__load_creds(reg, opts->auth_file)) < 0)) {
		tg_registry_free(reg);
		return error;
	}
	*out = reg;
	return 0;
}

void tg_registry_free(tg_registry *reg)
{
	struct host *h;
	struct token *t;
	struct cache_entry *e;
	struct inflight *f;
	struct op *op;

	if (!reg)
		return;
	tg_http_free(reg->http);
	while ((h = reg->hosts)) {
		reg->hosts = h->next;
		free(h->host);
		free(h->realm);
		free(h->service);
		free(h);
	}
	while ((t = reg->tokens)) {
		reg->tokens = t->next;
		tg_registry__token_wipe(t);
		free(t->registry);
		free(t->host);
		free(t->scope);
		free(t);
	}
	while ((e = reg->cache)) {
		reg->cache = e->next;
		free(e->key);
		free(e->content_type);
		free(e->data);
		free(e);
	}
	while ((f = reg->inflight)) {
		reg->inflight = f->next;
		free(f->key);
		free(f);
	}
	/* Work dropped before tg_registry_run finished it (the waiter,
	 * ready and in-flight lists only point into this list). */
	while ((op = reg->ops))
		tg_registry__op_free(op);
	tg_docker_creds_free(reg->creds, reg->creds_count);
	free(reg);
}

tg_http *tg_registry_http(tg_registry *reg)
{
	return reg->http;
}

/* Operations
 * ------------------------------------------------------------------- */

/* "host", "host:port", "[v6]:port": no '/', '@', spaces or controls. */
static bool registry_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > TG_MAX_REGISTRY_NAME_BYTES)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(".-:[]_", s[i]))
			return false;
	return true;
}

/* Distribution spec path components: [a-z0-9]+ joined by '.', '_', '__',
 * '-'+ and '/'; we check the character set and the path shape, which is
 * what keeps the URL ours. */
static bool repository_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > TG_MAX_REPOSITORY_BYTES ||
	    !tg_path_is_safe_relative(s))
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && !strchr("._-/", s[i]))
			return false;
	return true;
}

/* A tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}) or a valid digest. */
static bool reference_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (tg_digest_is_valid(s))
		return true;
	if (n == 0 || n > TG_MAX_IMAGE_TAG_BYTES || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

static int op_new(struct op **out,
                  tg_registry *reg,
                  enum op_kind kind,
                  const char *registry,
                  const char *repo,
                  const char *ref)
{
	struct op *op;

	*out = NULL;
	if (!registry || !registry_name_ok(registry))
		return tg_error_set(TG_EINVALID,
		                    "invalid registry name \"%.100s\"",
		                    registry ? registry : "");
	if (kind != OP_PING && (!repo || !repository_ok(repo)))
		return tg_error_set(TG_EINVALID,
		                    "%s: invalid repository name "
		                    "\"%.300s\"",
		                    registry, repo ? repo : "");
	if (kind != OP_PING && (!ref || !reference_ok(ref)))
		return tg_error_set(
		        TG_EINVALID, "%s/%s: invalid %s \"%.200s\"", registry,
		        repo, kind == OP_MANIFEST ? "tag or digest" : "digest",
		        ref ? ref : "");
	if ((kind == OP_BLOB || kind == OP_REFERRERS) &&
	    !tg_digest_is_valid(ref))
		return tg_error_set(TG_EINVALID, "%s/%s: invalid digest \"%s\"",
		                    registry, repo, ref);
	op = tg_calloc(1, sizeof(*op));
	op->reg = reg;
	op->all_next = reg->ops;
	if (reg->ops)
		reg->ops->all_prev = op;
	reg->ops = op;
	op->kind = kind;
	op->registry = tg_strdup(registry);
	op->host = tg_strdup(tg_registry_api_host(registry));
	if (kind == OP_PING) {
		op->name = tg_strdup(registry);
		op->path = tg_strdup("/v2/");
		op->max_bytes = TG_MAX_SMALL_RESPONSE_BYTES;
		*out = op;
		return 0;
	}
	op->repo = tg_strdup(repo);
	op->reference = tg_strdup(ref);
	op->scope = tg_aprintf("repository:%s:pull", repo);
	op->name = tg_aprintf("%s/%s%c%s", registry, repo,
	                      tg_digest_is_valid(ref) ? '@' : ':', ref);
	*out = op;
	return 0;
}

static void ready_push(tg_registry *reg, struct op *op)
{
	op->next = NULL;
	if (reg->ready_tail)
		reg->ready_tail->next = op;
	else
		reg->ready = op;
	reg->ready_tail = op;
}

/*
 * Start a manifest-by-digest or blob op: from the cache (delivered by
 * tg_registry_run), behind an identical fetch in flight, or by sending.
 */
static int op_start_content(struct op *op)
{
	tg_registry *reg = op->reg;
	const struct cache_entry *e;
	struct inflight *f;
	char *key;
	int error;

	if (!tg_digest_is_valid(op->reference))
		return tg_registry__op_send(op);
	if ((e = cache_get(reg, op->host, op->reference))) {
		op->ready_ct =
		        e->content_type ? tg_strdup(e->content_type) : NULL;
		op->ready_data = tg_malloc(e->len + 1);
		memcpy(op->ready_data, e->data, e->len + 1);
		op->ready_len = e->len;
		ready_push(reg, op);
		return 0;
	}
	key = tg_aprintf("%s %s %s", op->host, op->repo, op->reference);
	for (f = reg->inflight; f; f = f->next) {
		if (!strcmp(f->key, key)) {
			free(key);
			op->next = f->waiters;
			f->waiters = op;
			return 0;
		}
	}
	f = tg_calloc(1, sizeof(*f));
	f->key = key;
	f->owner = op;
	f->next = reg->inflight;
	reg->inflight = f;
	if ((error = tg_registry__op_send(op)) < 0) {
		f = tg_registry__inflight_take(reg, op);
		free(f->key);
		free(f);
	}
	return error;
}

/* Queue op; on failure op is freed and its callback is NOT called. */
static int op_start(struct op *op)
{
	int error;

	if (op->kind == OP_MANIFEST || op->kind == OP_BLOB)
		error = op_start_content(op);
	else
		error = tg_registry__op_send(op);
	if (error < 0)
		tg_registry__op_free(op);
	return error;
}

int tg_registry_get_manifest_async(tg_registry *reg,
                                   const char *registry,
                                   const char *repository,
                                   const char *reference,
                                   tg_registry_manifest_fn done,
                                   void *ctx)
{
	struct op *op;
	int error;

	if ((error = op_new(&op, reg, OP_MANIFEST, registry, repository,
	                    reference)) < 0)
		return error;
	op->path = tg_aprintf("/v2/%s/manifests/%s", repository, reference);
	op->max_bytes = TG_MAX_MANIFEST_BYTES;
	op->done.manifest = done;
	op->ctx = ctx;
	return op_start(op);
}

int tg_registry_get_blob_async(tg_registry *reg,
                               const char *registry,
                               const char *repository,
                               const char *digest,
                               size_t max_bytes,
                               tg_registry_blob_fn done,
                               void *ctx)
{
	struct op *op;
	int error;

	if ((error = op_new(&op, reg, OP_BLOB, registry, repository, digest)) <
	    0)
		return error;
	op->path = tg_aprintf("/v2/%s/blobs/%s", repository, digest);
	op->max_bytes = max_bytes && max_bytes < TG_MAX_BLOB_BYTES
	                        ? max_bytes
	                        : TG_MAX_BLOB_BYTES;
	op->done.blob = done;
	op->ctx = ctx;
	return op_start(op);
}

int tg_registry_get_referrers_async(tg_registry *reg,
                                    const char *registry,
                                    const char *repository,
                                    const char *digest,
                                    const char *artifact_type,
                                    tg_registry_referrers_fn done,
                                    void *ctx)
{
	struct op *op;
	char *enc;
	int error;

	if ((error = op_new(&op, reg, OP_REFERRERS, registry, repository,
	                    digest)) < 0)
		return error;
	if (artifact_type) {
		enc = tg_registry__url_encode(artifact_type);
		op->path = tg_aprintf("/v2/%s/referrers/%s?artifactType=%s",
		                      repository, digest, enc);
		free(enc);
		op->artifact_type = tg_strdup(artifact_type);
	} else {
		op->path =
		        tg_aprintf("/v2/%s/referrers/%s", repository, digest);
	}
	op->max_bytes = TG_MAX_MANIFEST_BYTES;
	op->done.referrers = done;
	op->ctx = ctx;
	return op_start(op);
}

int tg_registry_run(tg_registry *reg)
{
	struct op *op;
	int error;

	for (;;) {
		while ((op = reg->ready)) {
			reg->ready = op->next;
			if (!reg->ready)
				reg->ready_tail = NULL;
			op->next = NULL;
			tg_registry__op_deliver(op, op->reference, op->ready_ct,
			                        op->ready_data, op->ready_len);
		}
		if ((error = tg_http_run(reg->http)) < 0)
			return error;
		if (!reg->ready)
			return 0;
	}
}

/* Synchronous calls
 * ------------------------------------------------------------ */

struct sync_result {
	int result;
	void *obj;
	char *detail;
};

static void sync_record(struct sync_result *s, int result, void *obj)
{
	s->result = result;
	s->obj = obj;
	if (result < 0)
		s->detail = tg_strdup(tg_error_last());
}

static void sync_manifest(int result, tg_oci_manifest *m, void *ctx)
{
	sync_record(ctx, result, m);
}

static void sync_blob(int result, tg_blob *b, void *ctx)
{
	sync_record(ctx, result, b);
}

static void sync_referrers(int result, tg_referrers *r, void *ctx)
{
	sync_record(ctx, result, r);
}

static void sync_ping(int result, void *ctx)
{
	sync_record(ctx, result, NULL);
}

/* Run the queued work; return the op's result with its own detail. */
static int sync_finish(void **out, tg_registry *reg, struct sync_result *s)
{
	int error = tg_registry_run(reg);

	if (s->result < 0 || error < 0) {
		if (s->result < 0)
			error = tg_error_set(s->result, "%s", s->detail);
		free(s->detail);
		return error;
	}
	*out = s->obj;
	return 0;
}

int tg_registry_get_manifest(tg_oci_manifest **out,
                             tg_registry *reg,
                             const char *registry,
                             const char *repository,
                             const char *reference)
{
	struct sync_result s = { TG_ERROR, NULL, NULL };
	int error;

	*out = NULL;
	if ((error = tg_registry_get_manifest_async(reg, registry, repository,
	                                            reference, sync_manifest,
	                                            &s)) < 0)
		return error;
	return sync_finish((void **)out, reg, &s);
}

int tg_registry_get_blob(tg_blob **out,
                         tg_registry *reg,
                         const char *registry,
                         const char *repository,
                         const char *digest,
                         size_t max_bytes)
{
	struct sync_result s = { TG_ERROR, NULL, NULL };
	int error;

	*out = NULL;
	if ((error = tg_registry_get_blob_async(reg, registry, repository,
	                                        digest, max_bytes, sync_blob,
	                                        &s)) < 0)
		return error;
	return sync_finish((void **)out, reg, &s);
}

int tg_registry_get_referrers(tg_referrers **out,
                              tg_registry *reg,
                              const char *registry,
                              const char *repository,
                              const char *digest,
                              const char *artifact_type)
{
	struct sync_result s = { TG_ERROR, NULL, NULL };
	int error;

	*out = NULL;
	if ((error = tg_registry_get_referrers_async(reg, registry, repository,
	                                             digest, artifact_type,
	                                             sync_referrers, &s)) < 0)
		return error;
	return sync_finish((void **)out, reg, &s);
}

int tg_registry_ping(tg_registry *reg, const char *registry)
{
	struct sync_result s = { TG_ERROR, NULL, NULL };
	struct op *op;
	void *unused = NULL;
	int error;

	if ((error = op_new(&op, reg, OP_PING, registry, NULL, NULL)) < 0)
		return error;
	op->done.ping = sync_ping;
	op->ctx = &s;
	if ((error = op_start(op)) < 0)
		return error;
	return sync_finish(&unused, reg, &s);
}
