/*
 * TUF metadata files (specification 1.0.x, section 4): the signed envelope
 * and the root, timestamp, snapshot and targets roles. See
 * include/tollgate/tuf.h. A function per element of the grammar; every
 * count and length has a limit in tollgate/limits.h.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "tollgate/error.h"
#include "tollgate/util.h"
#include "tuf_int.h"

const char *const tg_tuf__role_names[TUF_NROLES] = {
	"root",
	"timestamp",
	"snapshot",
	"targets",
};

/* A required member of type t ("object", "array", "string", "integer"). */
static int member(const json_t **out,
                  const json_t *obj,
                  const char *field,
                  json_type t,
                  const char *ctx)
{
	static const char *const names[] = { "an object", "an array",
		                             "a string",  "an integer",
		                             "a number",  "true",
		                             "false",     "null" };
	const json_t *v = json_object_get(obj, field);

	*out = v;
	if (v && (json_typeof(v) == t ||
	          (t == JSON_TRUE && json_typeof(v) == JSON_FALSE)))
		return 0;
	return tg_error_set(TG_EPARSE, "%s: \"%s\" is %s; %s is required", ctx,
	                    field, v ? "of another type" : "missing",
	                    t == JSON_TRUE ? "a boolean" : names[t]);
}

/* A required integer of at least min. */
static int get_int(int64_t *out,
                   const json_t *obj,
                   const char *f,
                   int64_t min,
                   const char *ctx)
{
	const json_t *v;
	int error;

	if ((error = member(&v, obj, f, JSON_INTEGER, ctx)) < 0)
		return error;
	*out = (int64_t)json_integer_value(v);
	if (*out < min)
		return tg_error_set(TG_EINVALID,
		                    "%s: \"%s\" is %lld; at least %lld is "
		                    "required",
		                    ctx, f, (long long)*out, (long long)min);
	return 0;
}

/* A required string of at most max bytes. */
static int get_str(const char **out,
                   const json_t *obj,
                   const char *f,
                   size_t max,
                   const char *ctx)
{
	const json_t *v;
	int error;

	if ((error = member(&v, obj, f, JSON_STRING, ctx)) < 0)
		return error;
	if (json_string_length(v) > max)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: \"%s\" is %zu bytes, over the "
		                    "limit of %zu",
		                    ctx, f, json_string_length(v), max);
	*out = json_string_value(v);
	return 0;
}

/* One entry of "signatures". A "sig" that is not hex is kept empty: it
 * never verifies (Sigstore's root carries an empty one for a key that did
 * not sign). */
static int parse_sig(tuf_sig *s, const json_t *v, const char *ctx)
{
	const char *id, *hex;
	size_t n;
	int error;

	if (!json_is_object(v))
		return tg_error_set(TG_EPARSE,
		                    "%s: a signature is not an "
		                    "object",
		                    ctx);
	if ((error = get_str(&id, v, "keyid", TG_TUF_MAX_KEYID_BYTES, ctx)) <
	            0 ||
	    (error = get_str(&hex, v, "sig", TG_TUF_MAX_SIG_HEX_BYTES, ctx)) <
	            0)
		return error;
	s->keyid = tg_strdup(id);
	n = strlen(hex);
	if (n == 0 || n % 2)
		return 0;
	s->sig = tg_malloc(n / 2);
	if (tg_hex_decode(s->sig, n / 2, hex, n) < 0) {
		tg_error_clear();
		free(s->sig);
		s->sig = NULL;
		return 0;
	}
	s->sig_len = n / 2;
	return 0;
}

static int parse_sigs(tg_tuf_metadata *md, const json_t *doc)
{
	const json_t *a;
	size_t i;
	int error;

	if ((error = member(&a, doc, "signatures", JSON_ARRAY, md->name)) < 0)
		return error;
	if (json_array_size(a) > TG_TUF_MAX_SIGNATURES)
		return tg_error_set(
		        TG_ETOOBIG, "%s: %zu signatures, over the limit of %u",
		        md->name, json_array_size(a), TG_TUF_MAX_SIGNATURES);
	md->sigs = tg_calloc(json_array_size(a) + 1, sizeof(*md->sigs));
	for (i = 0; i < json_array_size(a); i++) {
		if ((error = parse_sig(&md->sigs[i], json_array_get(a, i),
		                       md->name)) < 0)
			return error;
		md->nsigs++;
	}
	return 0;
}

/* _type, spec_version (1.x), version (>= 1), expires (RFC 3339). */
static int
parse_common(tg_tuf_metadata *md, const json_t *sig, const char *type)
{
	const char *t, *spec, *exp;
	int error;

	if ((error = get_str(&t, sig, "_type", 32, md->name)) < 0 ||
	    (error = get_str(&spec, sig, "spec_version", 32, md->name)) < 0 ||
	    (error = get_int(&md->version, sig, "version", 1, md->name)) < 0 ||
	    (error = get_str(&exp, sig, "expires", 64, md->name)) < 0)
		return error;
	if (strcmp(t, type))
		return tg_error_set(TG_EINVALID,
		                    "%s: \"_type\" is \"%s\"; \"%s\" is "
		                    "required",
		                    md->name, t, type);
	/* Section 4.2: a client refuses another major version. */
	if (strcmp(spec, "1") && !tg_str_has_prefix(spec, "1."))
		return tg_error_set(TG_EINVALID,
		                    "%s: spec_version \"%s\" is not 1.x",
		                    md->name, spec);
	if (tg_parse_rfc3339(&md->expires, exp) < 0)
		return tg_error_set(TG_EPARSE,
		                    "%s: \"expires\" is \"%s\", not an RFC "
		                    "3339 time",
		                    md->name, exp);
	return 0;
}

static int parse_role(tuf_role *r, const json_t *v, const char *ctx)
{
	const json_t *ids;
	int64_t t;
	size_t i;
	int error;

	if ((error = member(&ids, v, "keyids", JSON_ARRAY, ctx)) < 0 ||
	    (error = get_int(&t, v, "threshold", 1, ctx)) < 0)
		return error;
	if (json_array_size(ids) > TG_TUF_MAX_ROLE_KEYS)
		return tg_error_set(TG_ETOOBIG, "%s: over %u key IDs", ctx,
		                    TG_TUF_MAX_ROLE_KEYS);
	r->threshold = (uint64_t)t;
	r->keyids = tg_calloc(json_array_size(ids) + 1, sizeof(char *));
	for (i = 0; i < json_array_size(ids); i++) {
		const json_t *id = json_array_get(ids, i);

		if (!json_is_string(id) ||
		    json_string_length(id) > TG_TUF_MAX_KEYID_BYTES)
			return tg_error_set(TG_EPARSE,
			                    "%s: key ID %zu is not a string "
			                    "of at most %u bytes",
			                    ctx, i, TG_TUF_MAX_KEYID_BYTES);
		r->keyids[r->nkeyids++] = tg_strdup(json_string_value(id));
	}
	return 0;
}

static int parse_root(tg_tuf_metadata *md, const json_t *sig)
{
	const json_t *keys, *roles, *role, *cs;
	char ctx[96];
	int i, error;

	if ((cs = json_object_get(sig, "consistent_snapshot")) &&
	    !json_is_boolean(cs))
		return tg_error_set(TG_EPARSE,
		                    "%s: \"consistent_snapshot\" is not a "
		                    "boolean",
		                    md->name);
	md->consistent_snapshot = json_is_true(cs);
	if ((error = member(&keys, sig, "keys", JSON_OBJECT, md->name)) < 0 ||
	    (error = member(&roles, sig, "roles", JSON_OBJECT, md->name)) < 0 ||
	    (error = tg_tuf__parse_keys(md, keys)) < 0)
		return error;
	for (i = 0; i < TUF_NROLES; i++) {
		snprintf(ctx, sizeof(ctx), "%.64s: role %s", md->name,
		         tg_tuf__role_names[i]);
		if ((error = member(&role, roles, tg_tuf__role_names[i],
		                    JSON_OBJECT, md->name)) < 0 ||
		    (error = parse_role(&md->roles[i], role, ctx)) < 0)
			return error;
	}
	return 0;
}

/* One hash of "hashes": sha256 and sha512 are known. */
static int parse_hash(tuf_fileinfo *f, const char *alg, const json_t *v)
{
	unsigned char *dst = NULL;
	size_t n = 0;

	if (!json_is_string(v))
		return tg_error_set(TG_EPARSE, "%s: hash %s is not a string",
		                    f->name, alg);
	if (!strcmp(alg, "sha256")) {
		dst = f->sha256, n = 32, f->has_sha256 = true;
	} else if (!strcmp(alg, "sha512")) {
		dst = f->sha512, n = 64, f->has_sha512 = true;
	} else {
		f->unknown_hash = true;
		return 0;
	}
	if (tg_hex_decode(dst, n, json_string_value(v), json_string_length(v)) <
	    0)
		return tg_error_set(TG_EINVALID,
		                    "%s: hash %s is not %zu hex digits",
		                    f->name, alg, 2 * n);
	return 0;
}

/* {"version", "length", "hashes"}: version required when need_version. */
static int parse_fileinfo(tuf_fileinfo *f, const json_t *v, bool need_version)
{
	const json_t *h;
	const char *alg;
	json_t *hv;
	int error;

	f->version = f->length = -1;
	if (!json_is_object(v))
		return tg_error_set(TG_EPARSE, "%s: not an object", f->name);
	if ((need_version || json_object_get(v, "version")) &&
	    (error = get_int(&f->version, v, "version", 1, f->name)) < 0)
		return error;
	if ((!need_version || json_object_get(v, "length")) &&
	    (error = get_int(&f->length, v, "length", 0, f->name)) < 0)
		return error;
	if (!(h = json_object_get(v, "hashes")))
		return 0;
	if (!json_is_object(h) || json_object_size(h) > 8)
		return tg_error_set(TG_EPARSE,
		                    "%s: \"hashes\" is not an object of at "
		                    "most 8 hashes",
		                    f->name);
	json_object_foreach((json_t *)h, alg, hv)
		if ((error = parse_hash(f, alg, hv)) < 0)
			return error;
	return 0;
}

/* "meta" of a timestamp or snapshot, "targets" of a targets file. */
static int parse_files(tg_tuf_metadata *md,
                       const json_t *sig,
                       const char *field,
                       const char *required)
{
	const json_t *m;
	const char *name;
	json_t *v;
	int error;

	if ((error = member(&m, sig, field, JSON_OBJECT, md->name)) < 0)
		return error;
	if (json_object_size(m) > TG_TUF_MAX_ENTRIES)
		return tg_error_set(TG_ETOOBIG, "%s: over %u entries in %s",
		                    md->name, TG_TUF_MAX_ENTRIES, field);
	md->files = tg_calloc(json_object_size(m) + 1, sizeof(*md->files));
	json_object_foreach((json_t *)m, name, v) {
		tuf_fileinfo *f = &md->files[md->nfiles++];

		if (strlen(name) > TG_TUF_MAX_NAME_BYTES)
			return tg_error_set(TG_ETOOBIG,
			                    "%s: a file name over %u bytes",
			                    md->name, TG_TUF_MAX_NAME_BYTES);
		f->name = tg_strdup(name);
		if ((error = parse_fileinfo(f, v, md->type != TUF_TARGETS)) < 0)
			return tg_error_prefix(error, "%s", md->name);
	}
	if (required && !tg_tuf__file(md, required))
		return tg_error_set(TG_EPARSE, "%s: %s does not name %s",
		                    md->name, field, required);
	return 0;
}

static int parse_type(const char *type)
{
	int i;

	for (i = 0; i < TUF_NROLES; i++)
		if (!strcmp(type, tg_tuf__role_names[i]))
			return i;
	return -1;
}

static int parse_signed(tg_tuf_metadata *md, const json_t *doc, size_t len)
{
	const json_t *sig;
	int error;

	if ((error = member(&sig, doc, "signed", JSON_OBJECT, md->name)) < 0 ||
	    (error = parse_sigs(md, doc)) < 0 ||
	    (error = parse_common(md, sig, tg_tuf__role_names[md->type])) < 0)
		return error;
	/* The canonical form is never longer than the document it came from
	 * (it drops whitespace and escapes). */
	if ((error = tg_tuf_canonical_json(&md->canon, &md->canon_len, sig,
	                                   len)) < 0)
		return tg_error_prefix(error, "%s: canonical JSON", md->name);
	switch (md->type) {
	case TUF_ROOT:
		return parse_root(md, sig);
	case TUF_TIMESTAMP:
		return parse_files(md, sig, "meta", "snapshot.json");
	case TUF_SNAPSHOT:
		return parse_files(md, sig, "meta", "targets.json");
	default:
		return parse_files(md, sig, "targets", NULL);
	}
}

int tg_tuf_metadata_parse(tg_tuf_metadata **out,
                          const char *name,
                          const char *type,
                          const char *json,
                          size_t len)
{
	tg_tuf_metadata *md = NULL;
	json_error_t jerr;
	json_t *doc = NULL;
	int error;

	*out = NULL;
	if (len > TG_TUF_MAX_TARGETS_BYTES)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: %zu bytes, over the limit "
		                    "of %u",
		                    name, len, TG_TUF_MAX_TARGETS_BYTES);
	if (parse_type(type) < 0)
		return tg_error_set(TG_EINVALID, "%s: unknown role \"%s\"",
		                    name, type);
	doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc)) {
		error = tg_error_set(TG_EPARSE,
		                     "%s:%d:%d: not a JSON object%s%s", name,
		                     jerr.line, jerr.column, doc ? "" : ": ",
		                     doc ? "" : jerr.text);
		goto out;
	}
	md = tg_calloc(1, sizeof(*md));
	md->name = tg_strdup(name);
	md->type = parse_type(type);
	if ((error = parse_signed(md, doc, len)) < 0)
		goto out;
	*out = md;
	md = NULL;
out:
	tg_tuf_metadata_free(md);
	json_decref(doc);
	return error;
}

const tuf_fileinfo *tg_tuf__file(const tg_tuf_metadata *md, const char *name)
{
	size_t i;

	for (i = 0; i < md->nfiles; i++)
		if (!strcmp(md->files[i].name, name))
			return &md->files[i];
	return NULL;
}

int tg_tuf__check_file(const tuf_fileinfo *info,
                       const char *what,
                       const char *data,
                       size_t len,
                       bool need_hash)
{
	unsigned char h[64];

	if (info->length >= 0 && (uint64_t)info->length != (uint64_t)len)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: %zu bytes, but the signed metadata "
		                    "says %lld",
		                    what, len, (long long)info->length);
	if (info->unknown_hash)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: a hash of an algorithm other than "
		                    "sha256 and sha512 cannot be checked",
		                    what);
	if (need_hash && !info->has_sha256 && !info->has_sha512)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: the signed metadata gives no hash",
		                    what);
	if (info->has_sha256 && (SHA256((const unsigned char *)data, len, h),
	                         CRYPTO_memcmp(h, info->sha256, 32)))
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: sha256 does not match the signed "
		                    "metadata",
		                    what);
	if (info->has_sha512 && (SHA512((const unsigned char *)data, len, h),
	                         CRYPTO_memcmp(h, info->sha512, 64)))
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: sha512 does not match the signed "
		                    "metadata",
		                    what);
	return 0;
}

int64_t tg_tuf_metadata_version(const tg_tuf_metadata *md)
{
	return md->version;
}

int64_t tg_tuf_metadata_expires(const tg_tuf_metadata *md)
{
	return md->expires;
}

void tg_tuf_metadata_free(tg_tuf_metadata *md)
{
	size_t i;
	int r;

	if (!md)
		return;
	for (i = 0; i < md->nsigs; i++) {
		free(md->sigs[i].keyid);
		free(md->sigs[i].sig);
	}
	free(md->sigs);
	for (i = 0; i < md->nkeys; i++) {
		free(md->keys[i].id);
		EVP_PKEY_free(md->keys[i].pkey);
		free(md->keys[i].spki);
	}
	free(md->keys);
	for (r = 0; r < TUF_NROLES; r++) {
		for (i = 0; i < md->roles[r].nkeyids; i++)
			free(md->roles[r].keyids[i]);
		free(md->roles[r].keyids);
	}
	for (i = 0; i < md->nfiles; i++)
		free(md->files[i].name);
	free(md->files);
	free(md->canon);
	free(md->name);
	free(md);
}
