/*
 * Requests and responses of the registry client's operations (see
 * verify/oci/registry_int.h): sending with the authorization known so far,
 * 401 handling through registry_auth.c, checking received bytes against
 * their digest, the referrers pages and their tag fallback, and delivery
 * to the callbacks of the operation and of those waiting on it.
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

void tg_registry__op_free(struct op *op)
{
	if (!op)
		return;
	if (op->all_prev)
		op->all_prev->all_next = op->all_next;
	else
		op->reg->ops = op->all_next;
	if (op->all_next)
		op->all_next->all_prev = op->all_prev;
	free(op->registry);
	free(op->host);
	free(op->repo);
	free(op->reference);
	free(op->artifact_type);
	free(op->name);
	free(op->scope);
	free(op->path);
	tg_oci_descriptors_free(op->items, op->items_count);
	free(op->ready_ct);
	free(op->ready_data);
	free(op);
}

/* Fail op: the detail is already recorded; the callback gets NULL. */
static void op_fail(struct op *op, int code)
{
	switch (op->kind) {
	case OP_PING:
		op->done.ping(code, op->ctx);
		break;
	case OP_MANIFEST:
		op->done.manifest(code, NULL, op->ctx);
		break;
	case OP_BLOB:
		op->done.blob(code, NULL, op->ctx);
		break;
	case OP_REFERRERS:
		op->done.referrers(code, NULL, op->ctx);
		break;
	}
	tg_registry__op_free(op);
}

/* Fail a list of ops with the same code and detail. */
void tg_registry__ops_fail_all(struct op *list, int code, const char *detail)
{
	struct op *op;

	while ((op = list)) {
		list = op->next;
		op->next = NULL;
		op_fail(op, tg_error_set(code, "%s", detail));
	}
}

/* Percent-encode everything but RFC 3986 unreserved characters. */
char *tg_registry__url_encode(const char *s)
{
	tg_buf b;
	char *out;

	/* Three bytes per input byte at most: the appends cannot fail. */
	tg_buf_init(&b, strlen(s) * 3 + 1);
	for (; *s; s++) {
		if (isalnum((unsigned char)*s) || strchr("-._~", *s))
			tg_discard(tg_buf_append(&b, s, 1));
		else
			tg_discard(
			        tg_buf_printf(&b, "%%%02X", (unsigned char)*s));
	}
	out = tg_buf_detach(NULL, &b);
	return out;
}

/* "http" for registries listed as insecure, "https" for every other. */
static const char *op_scheme(const struct op *op)
{
	if (tg_http_host_is_insecure(op->reg->http, op->registry) ||
	    tg_http_host_is_insecure(op->reg->http, op->host))
		return "http";
	return "https";
}

/*
 * The registry's own words from an OCI error body ({"errors":[{"code":
 * "MANIFEST_UNKNOWN","message":"..."}]}) as ": CODE: message", reduced to
 * printable ASCII and bounded, into buf; "" when there are none.
 */
static void
registry_error_detail(char *buf, size_t size, const tg_http_response *r)
{
	json_t *doc = json_loadb(r->body, r->body_len, 0, NULL);
	json_t *e = json_array_get(json_object_get(doc, "errors"), 0);
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	size_t i;

	buf[0] = '\0';
	if (code)
		snprintf(buf, size, ": %.64s: %.160s", code, msg ? msg : "");
	json_decref(doc);
	for (i = 0; buf[i]; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			buf[i] = '?';
}

/* Record the error for an unexpected HTTP status and return its code. */
int tg_registry__status_error(const struct op *op, const tg_http_response *r)
{
	char detail[TG_MAX_REGISTRY_ERROR_DETAIL_BYTES];

	registry_error_detail(detail, sizeof(detail), r);
	if (r->status == 404)
		return tg_error_set(TG_ENOTFOUND, "%s: not found (HTTP 404%s)",
		                    op->name, detail);
	if (r->status == 401 || r->status == 403)
		return tg_error_set(TG_EAUTH,
		                    "%s: access denied (HTTP %ld%s); check the "
		                    "credentials for %s in the registry auth "
		                    "file",
		                    op->name, r->status, detail, op->registry);
	return tg_error_set(TG_ENET,
	                    "%s: unexpected answer from %s (HTTP %ld%s)",
	                    op->name, r->url, r->status, detail);
}

static void
on_response(tg_http *http, int result, tg_http_response *r, void *ctx);

static const char *const manifest_accept =
        "Accept: " TG_MEDIA_OCI_MANIFEST ", " TG_MEDIA_OCI_INDEX
        ", " TG_MEDIA_DOCKER_MANIFEST ", " TG_MEDIA_DOCKER_LIST;

/* Send op's next request (op->path), authenticated as far as known. */
int tg_registry__op_send(struct op *op)
{
	tg_http_request req = { 0 };
	const char *hdrs[2];
	char *auth = NULL, *url;
	bool wait;
	int error;

	if ((error = tg_registry__op_authorization(&auth, &wait, op)) < 0 ||
	    wait)
		return error;
	url = tg_aprintf("%s://%s%s", op_scheme(op), op->host, op->path);
	req.url = url;
	req.method = "GET";
	req.headers = hdrs;
	if (op->kind == OP_MANIFEST)
		hdrs[req.headers_count++] = manifest_accept;
	else if (op->kind == OP_REFERRERS)
		hdrs[req.headers_count++] = "Accept: " TG_MEDIA_OCI_INDEX;
	if (auth)
		hdrs[req.headers_count++] = auth;
	req.max_bytes = op->max_bytes;
	error = tg_http_submit(op->reg->http, &req, on_response, op);
	if (error < 0)
		error = tg_error_prefix(error, "%s", op->name);
	free(url);
	tg_registry__wipe(auth);
	return error;
}

/* Hand verified bytes to op as a manifest or blob and free op. */
void tg_registry__op_deliver(struct op *op,
                             const char *digest,
                             const char *ct,
                             const char *data,
                             size_t len)
{
	tg_oci_manifest *m = NULL;
	tg_blob *b;
	char *name;
	int error;

	if (op->kind == OP_BLOB) {
		if (len > op->max_bytes) {
			op_fail(op,
			        tg_error_set(TG_ETOOBIG,
			                     "%s: blob of %zu bytes is over "
			                     "the limit of %zu",
			                     op->name, len, op->max_bytes));
			return;
		}
		b = tg_calloc(1, sizeof(*b));
		b->digest = tg_strdup(digest);
		b->data = tg_malloc(len + 1);
		memcpy(b->data, data, len);
		b->data[len] = '\0';
		b->len = len;
		op->done.blob(0, b, op->ctx);
		tg_registry__op_free(op);
		return;
	}
	name = tg_aprintf("%s/%s@%s", op->registry, op->repo, digest);
	error = tg_oci_manifest_parse(&m, name, ct, data, len);
	free(name);
	if (error < 0) {
		op_fail(op, error);
		return;
	}
	free(m->digest);
	m->digest = tg_strdup(digest);
	op->done.manifest(0, m, op->ctx);
	tg_registry__op_free(op);
}

struct inflight *tg_registry__inflight_take(tg_registry *reg,
                                            const struct op *owner)
{
	struct inflight **p, *f;

	for (p = &reg->inflight; (f = *p); p = &f->next) {
		if (f->owner == owner) {
			*p = f->next;
			return f;
		}
	}
	return NULL;
}

/* op failed (detail recorded): fail it and everything waiting on it. */
void tg_registry__op_error(struct op *op, int code)
{
	struct inflight *f = tg_registry__inflight_take(op->reg, op);
	char *detail;

	if (!f) {
		op_fail(op, code);
		return;
	}
	detail = tg_strdup(tg_error_last());
	op_fail(op, code);
	tg_registry__ops_fail_all(f->waiters, code, detail);
	free(detail);
	free(f->key);
	free(f);
}

/* op fetched verified bytes: cache them, deliver to it and its waiters. */
static void op_success(struct op *op,
                       const char *digest,
                       const char *ct,
                       const char *data,
                       size_t len)
{
	struct inflight *f = tg_registry__inflight_take(op->reg, op);
	struct op *w;

	tg_registry__cache_put(op->reg, op->host, digest, ct, data, len);
	tg_registry__op_deliver(op, digest, ct, data, len);
	if (!f)
		return;
	while ((w = f->waiters)) {
		f->waiters = w->next;
		w->next = NULL;
		tg_registry__op_deliver(w, digest, ct, data, len);
	}
	free(f->key);
	free(f);
}

/*
 * Digest of data with the algorithm of `like` ("sha512:..." gives sha512,
 * anything else sha256), so bytes can be compared with any valid digest.
 */
static void digest_compute(char out[TG_MAX_DIGEST_STR_LEN + 1],
                           const char *like,
                           const void *data,
                           size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!like || !tg_str_has_prefix(like, "sha512:")) {
		tg_sha256_digest_str(out, data, len);
		return;
	}
	EVP_Digest(data, len, md, &mdlen, EVP_sha512(), NULL);
	memcpy(out, "sha512:", 7);
	tg_hex_encode(out + 7, md, mdlen);
}

static bool digest_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

/* Bytes received for a manifest or blob must hash to the digest asked for
 * (for a tag: to Docker-Content-Digest when sent). 0 or TG_EUNTRUSTED. */
static int verify_bytes(char digest[TG_MAX_DIGEST_STR_LEN + 1],
                        const struct op *op,
                        const tg_http_response *r)
{
	const char *expected = NULL, *what;
	char got[TG_MAX_DIGEST_STR_LEN + 1];

	if (tg_digest_is_valid(op->reference)) {
		expected = op->reference;
		what = "the digest asked for";
	} else if ((expected = tg_http_response_header(
	                    r, "Docker-Content-Digest"))) {
		what = "the Docker-Content-Digest header";
		if (!tg_digest_is_valid(expected))
			return tg_error_set(TG_EUNTRUSTED,
			                    "%s: invalid Docker-Content-Digest "
			                    "header; refusing the manifest",
			                    op->name);
	}
	digest_compute(got, expected, r->body, r->body_len);
	if (expected && !digest_equal(expected, got))
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: digest mismatch: the %s received hash "
		                    "to %s, not %s (%s); the registry or "
		                    "something on the way altered them, "
		                    "refusing them",
		                    op->name,
		                    op->kind == OP_BLOB ? "blob bytes"
		                                        : "manifest bytes",
		                    got, expected, what);
	tg_strlcpy(digest, expected ? expected : got,
	           TG_MAX_DIGEST_STR_LEN + 1);
	return 0;
}

static void content_response(struct op *op, tg_http_response *r)
{
	char digest[TG_MAX_DIGEST_STR_LEN + 1];
	int error;

	if (r->status != 200)
		error = tg_registry__status_error(op, r);
	else
		error = verify_bytes(digest, op, r);
	if (error < 0)
		tg_registry__op_error(op, error);
	else
		op_success(op, digest,
		           tg_http_response_header(r, "Content-Type"), r->body,
		           r->body_len);
	tg_http_response_free(r);
}

/* Deliver the collected referrers and free op. */
static void referrers_deliver(struct op *op, bool from_tag)
{
	tg_referrers *res = tg_calloc(1, sizeof(*res));

	res->subject = tg_strdup(op->reference);
	res->items = op->items;
	res->count = op->items_count;
	res->from_tag_schema = from_tag;
	op->items = NULL;
	op->items_count = 0;
	op->done.referrers(0, res, op->ctx);
	tg_registry__op_free(op);
}

/* Move the index entries matching the artifactType filter into op. */
static int referrers_take(struct op *op, tg_oci_manifest *m)
{
	size_t i;

	if (m->kind != TG_OCI_MANIFEST_INDEX)
		return tg_error_set(TG_EPARSE,
		                    "%s: referrers answer is not an "
		                    "image index",
		                    op->name);
	for (i = 0; i < m->manifests_count; i++) {
		tg_descriptor *d = &m->manifests[i];

		if (op->artifact_type &&
		    (!d->artifact_type ||
		     strcmp(d->artifact_type, op->artifact_type)))
			continue;
		if (op->items_count >= TG_MAX_MANIFEST_DESCRIPTORS)
			return tg_error_set(TG_ETOOBIG,
			                    "%s: more than %d "
			                    "referrers",
			                    op->name,
			                    TG_MAX_MANIFEST_DESCRIPTORS);
		op->items = tg_realloc(op->items, (op->items_count + 1) *
		                                          sizeof(*op->items));
		op->items[op->items_count++] = *d;
		memset(d, 0, sizeof(*d));
	}
	return 0;
}

static void referrers_fallback_done(int result, tg_oci_manifest *m, void *ctx)
{
	struct op *op = ctx;
	int error = result;

	if (result == TG_ENOTFOUND) {
		referrers_deliver(op, true);
		return;
	}
	if (result == 0)
		error = referrers_take(op, m);
	tg_oci_manifest_free(m);
	if (error < 0) {
		op_fail(op, error);
		return;
	}
	referrers_deliver(op, true);
}

/* Where a Link rel="next" points: a path on the same registry, or an
 * absolute URL of the same origin (anything else would get our token). */
static int
referrers_next_path(char **out, const struct op *op, const char *next)
{
	char *origin = tg_aprintf("%s://%s/", op_scheme(op), op->host);
	int error = 0;

	*out = NULL;
	if (next[0] == '/' && next[1] != '/')
		*out = tg_strdup(next);
	else if (tg_str_has_prefix(next, origin))
		*out = tg_strdup(next + strlen(origin) - 1);
	else
		error = tg_error_set(TG_EUNTRUSTED,
		                     "%s: referrers Link points "
		                     "outside the registry: \"%.200s\"",
		                     op->name, next);
	free(origin);
	return error;
}

static int referrers_page(struct op *op, tg_http_response *r)
{
	tg_oci_manifest *m = NULL;
	const char *link;
	char *next = NULL, *path = NULL;
	int error;

	if ((error = tg_oci_manifest_parse(
	             &m, op->name, tg_http_response_header(r, "Content-Type"),
	             r->body, r->body_len)) < 0 ||
	    (error = referrers_take(op, m)) < 0)
		goto out;
	if (!(link = tg_http_response_header(r, "Link"))) {
		referrers_deliver(op, false);
		goto out;
	}
	if ((error = tg_link_next_parse(&next, link)) < 0) {
		error = tg_error_prefix(error, "%s", op->name);
		goto out;
	}
	if (!next) {
		referrers_deliver(op, false);
		goto out;
	}
	if (++op->pages >= TG_MAX_REFERRER_PAGES) {
		error = tg_error_set(TG_ETOOBIG,
		                     "%s: more than %d pages of "
		                     "referrers",
		                     op->name, TG_MAX_REFERRER_PAGES);
		goto out;
	}
	if ((error = referrers_next_path(&path, op, next)) < 0)
		goto out;
	free(op->path);
	op->path = path;
	error = tg_registry__op_send(op);
out:
	free(next);
	tg_oci_manifest_free(m);
	return error;
}

static void referrers_response(struct op *op, tg_http_response *r)
{
	char *tag;
	int error;

	if (r->status == 404 && op->pages == 0) {
		/* No referrers API (distribution 2.8): the OCI 1.1 fallback
		 * is an index at tag "sha256-<hex>". */
		tag = tg_registry_digest_tag(op->reference, "");
		error = tg_registry_get_manifest_async(
		        op->reg, op->registry, op->repo, tag,
		        referrers_fallback_done, op);
		free(tag);
	} else if (r->status != 200) {
		error = tg_registry__status_error(op, r);
	} else {
		error = referrers_page(op, r);
	}
	tg_http_response_free(r);
	if (error < 0)
		op_fail(op, error);
}

/*
 * Name the op in a transfer failure and, when a TLS handshake met a
 * plain-HTTP server (OpenSSL: "wrong version number"), say what to do.
 */
static int network_error(const struct op *op, int code)
{
	char *detail;

	if (code != TG_ENET || strcmp(op_scheme(op), "https") ||
	    !strstr(tg_error_last(), "wrong version number"))
		return tg_error_prefix(code, "%s", op->name);
	detail = tg_strdup(tg_error_last());
	code = tg_error_set(
	        code,
	        "%s: %s; if %s serves plain HTTP, list it as an insecure "
	        "registry",
	        op->name, detail, op->registry);
	free(detail);
	return code;
}

/*
 * The probe request of a host got its answer (auth learned, or none
 * needed, or a failure): send the requests that waited for it. A failed
 * probe leaves the host unknown, so the first of them probes again.
 */
static void host_release(struct host *h)
{
	struct op *op, *list = h->waiters;
	int error;

	h->probing = false;
	h->waiters = NULL;
	while ((op = list)) {
		list = op->next;
		op->next = NULL;
		if ((error = tg_registry__op_send(op)) < 0)
			tg_registry__op_error(op, error);
	}
}

static void
on_response(tg_http *http, int result, tg_http_response *r, void *ctx)
{
	struct op *op = ctx;
	tg_registry *reg = op->reg;
	struct host *h = NULL;
	int error;

	(void)http;
	if (op->probe) {
		op->probe = false;
		h = tg_registry__host_get(reg, op->host);
	}
	if (result < 0) {
		tg_http_response_free(r);
		tg_registry__op_error(op, network_error(op, result));
		if (h)
			host_release(h);
		return;
	}
	if (r->status == 401) {
		error = tg_registry__op_handle_401(op, r);
		tg_http_response_free(r);
		if (error < 0)
			tg_registry__op_error(op, error);
		if (h)
			host_release(h);
		return;
	}
	if (h) {
		if (h->auth == AUTH_UNKNOWN)
			h->auth = AUTH_NONE;
		host_release(h);
	}
	switch (op->kind) {
	case OP_PING:
		error = r->status == 200 ? 0 : tg_registry__status_error(op, r);
		tg_http_response_free(r);
		op->done.ping(error, op->ctx);
		tg_registry__op_free(op);
		break;
	case OP_MANIFEST:
	case OP_BLOB:
		content_response(op, r);
		break;
	case OP_REFERRERS:
		referrers_response(op, r);
		break;
	}
}
