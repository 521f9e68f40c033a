/*
 * Sigstore bundles, parsing: the JSON document to a bundle (bundle_int.h),
 * checking its shape and limits; verification is in bundle.c.
 * Grammar: protobuf-specs dev.sigstore.bundle.v1.Bundle in protojson.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bundle_int.h"
#include "tollgate/bundle.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

/* ---- DSSE --------------------------------------------------------------- */

/* dsseEnvelope {payload, payloadType, signatures: [exactly one {sig}]}. */
static int dsse_parse(bundle *b, const json_t *env)
{
	const json_t *sigs = json_object_get(env, "signatures");
	int error;

	if ((error = tg_json_string(&b->payload_type, env, "payloadType",
	                            b->name)) < 0 ||
	    (error = tg_json_string(&b->payload_b64, env, "payload", b->name)) <
	            0 ||
	    (error = tg_json_bytes(&b->payload, &b->payload_len, env, "payload",
	                           b->name)) < 0)
		return error;
	if (!json_is_array(sigs) || json_array_size(sigs) != 1)
		return tg_error_set(TG_EINVALID,
		                    "%s: the DSSE envelope must "
		                    "carry exactly one signature, not %zu",
		                    b->name,
		                    json_is_array(sigs) ? json_array_size(sigs)
		                                        : 0);
	return tg_json_bytes(&b->sig, &b->sig_len, json_array_get(sigs, 0),
	                     "sig", b->name);
}

/* ---- Parsing ------------------------------------------------------------ */

/* An optional member: protojson writers may spell "absent" as null. */
static const json_t *get_opt(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

static int parse_media_type(bundle *b)
{
	const char *mt;
	static const char *const v1[] = {
		"application/vnd.dev.sigstore.bundle+json;version=0.1",
		"application/vnd.dev.sigstore.bundle+json;version=0.2",
		"application/vnd.dev.sigstore.bundle+json;version=0.3",
		"application/vnd.dev.sigstore.bundle.v0.3+json",
	};
	size_t i;

	if (tg_json_string(&mt, b->doc, "mediaType", b->name) < 0)
		return TG_EPARSE;
	for (i = 0; i < sizeof(v1) / sizeof(v1[0]); i++)
		if (!strcmp(mt, v1[i])) {
			b->minor = i < 3 ? (int)i + 1 : 3;
			return 0;
		}
	return tg_error_set(TG_EINVALID,
	                    "%s: unsupported bundle media type "
	                    "\"%s\" (versions 0.1 to 0.3 are supported)",
	                    b->name, mt);
}

/* x509CertificateChain (v0.1, v0.2): the leaf first; a self-signed
 * certificate in it means the bundle tries to bring its own root. */
static int parse_chain(bundle *b, const json_t *chain)
{
	const json_t *certs = json_object_get(chain, "certificates");
	X509 *c = NULL;
	size_t i;
	int error;

	if (!json_is_array(certs) || json_array_size(certs) == 0)
		return tg_error_set(TG_EPARSE,
		                    "%s: x509CertificateChain has "
		                    "no certificate",
		                    b->name);
	if (json_array_size(certs) > TG_MAX_CHAIN_DEPTH)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: more than %d "
		                    "certificates in the chain",
		                    b->name, TG_MAX_CHAIN_DEPTH);
	for (i = 0; i < json_array_size(certs); i++) {
		if ((error = tg_json_der_cert(&c, json_array_get(certs, i),
		                              b->name)) < 0)
			return error;
		/* Old clients put the whole chain in; only the leaf is used
		 * and the rest must come from the trust root. A self-signed
		 * certificate is kept to check it is one of the root's. */
		if (i == 0)
			b->leaf = c;
		else if (X509_check_issued(c, c) == X509_V_OK)
			b->chain_roots[b->nchain_roots++] = c;
		else
			X509_free(c);
	}
	return 0;
}

static int parse_proof(tlog_entry *e, const json_t *p, const char *ctx)
{
	const json_t *hashes = json_object_get(p, "hashes");
	const json_t *cp = json_object_get(p, "checkpoint");
	unsigned char *h = NULL;
	size_t i, len;
	int error;

	if ((error = tg_json_int64(&e->proof_index, p, "logIndex", ctx)) < 0 ||
	    (error = tg_json_int64(&e->tree_size, p, "treeSize", ctx)) < 0 ||
	    (error = tg_json_bytes(&e->root, &e->root_len, p, "rootHash",
	                           ctx)) < 0)
		return error;
	/* Checked after the proof itself, so that a wrong proof says so. */
	e->checkpoint = json_string_value(json_object_get(cp, "envelope"));
	if (e->root_len != TG_SHA256_LEN)
		return tg_error_set(TG_EPARSE, "%s: rootHash is not 32 bytes",
		                    ctx);
	if (hashes && !json_is_array(hashes))
		return tg_error_set(TG_EPARSE, "%s: hashes is not an array",
		                    ctx);
	if (json_array_size(hashes) > 64)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: more than 64 proof "
		                    "hashes",
		                    ctx);
	e->hashes = tg_malloc(TG_SHA256_LEN * json_array_size(hashes) + 1);
	for (i = 0; i < json_array_size(hashes); i++) {
		json_t *w = json_pack("{s:O}", "h", json_array_get(hashes, i));

		error = tg_json_bytes(&h, &len, w, "h", ctx);
		json_decref(w);
		if (error < 0)
			return error;
		if (len != TG_SHA256_LEN) {
			free(h);
			return tg_error_set(TG_EPARSE,
			                    "%s: proof hash %zu is "
			                    "not 32 bytes",
			                    ctx, i);
		}
		memcpy(e->hashes + TG_SHA256_LEN * i, h, TG_SHA256_LEN);
		free(h);
		e->nhashes++;
	}
	e->has_proof = true;
	return 0;
}

static int parse_entry(tlog_entry *e, const json_t *o, const char *ctx)
{
	const json_t *kv = json_object_get(o, "kindVersion");
	const json_t *promise = get_opt(o, "inclusionPromise");
	const json_t *proof = get_opt(o, "inclusionProof");
	int error;

	if (!json_is_object(o))
		return tg_error_set(TG_EPARSE, "%s: not an object", ctx);
	if ((error = tg_json_int64(&e->log_index, o, "logIndex", ctx)) < 0 ||
	    (error = tg_json_bytes(&e->log_id, &e->log_id_len,
	                           json_object_get(o, "logId"), "keyId", ctx)) <
	            0 ||
	    (error = tg_json_string(&e->kind, kv, "kind", ctx)) < 0 ||
	    (error = tg_json_string(&e->version, kv, "version", ctx)) < 0 ||
	    (error = tg_json_string(&e->body_b64, o, "canonicalizedBody",
	                            ctx)) < 0 ||
	    (error = tg_json_bytes(&e->body, &e->body_len, o,
	                           "canonicalizedBody", ctx)) < 0)
		return error;
	if (json_object_get(o, "integratedTime") &&
	    (error = tg_json_int64(&e->integrated_time, o, "integratedTime",
	                           ctx)) < 0)
		return error;
	if (promise && (error = tg_json_bytes(&e->set, &e->set_len, promise,
	                                      "signedEntryTimestamp", ctx)) < 0)
		return error;
	if (proof && (error = parse_proof(e, proof, ctx)) < 0)
		return error;
	return 0;
}

/*
 * Check a list of the bundle that is present (field names it in messages,
 * what names its entries in the limit's): TG_EPARSE when it is not an
 * array, TG_ETOOBIG when it holds more than TG_MAX_BUNDLE_ENTRIES (the
 * arrays of a parsed bundle have that fixed size).
 */
static int check_list(const bundle *b,
                      const json_t *arr,
                      const char *field,
                      const char *what)
{
	if (!json_is_array(arr))
		return tg_error_set(TG_EPARSE, "%s: %s is not an array",
		                    b->name, field);
	if (json_array_size(arr) > TG_MAX_BUNDLE_ENTRIES)
		return tg_error_set(TG_ETOOBIG, "%s: more than %d %s", b->name,
		                    TG_MAX_BUNDLE_ENTRIES, what);
	return 0;
}

static int parse_entries(bundle *b, const json_t *vm)
{
	const json_t *arr = get_opt(vm, "tlogEntries");
	char ctx[TG_BUNDLE_CTX_BYTES];
	size_t i;
	int error;

	if (!arr)
		return 0;
	if ((error = check_list(b, arr, "tlogEntries", "tlogEntries")) < 0)
		return error;
	for (i = 0; i < json_array_size(arr); i++) {
		snprintf(ctx, sizeof(ctx), "%s: tlogEntries[%zu]", b->name, i);
		b->nentries++;
		if ((error = parse_entry(&b->entries[i], json_array_get(arr, i),
		                         ctx)) < 0)
			return error;
	}
	return 0;
}

static int parse_timestamps(bundle *b, const json_t *vm)
{
	const json_t *arr = get_opt(get_opt(vm, "timestampVerificationData"),
	                            "rfc3161Timestamps");
	size_t i;
	int error;

	if (!arr)
		return 0;
	if ((error = check_list(b, arr, "rfc3161Timestamps", "timestamps")) < 0)
		return error;
	for (i = 0; i < json_array_size(arr); i++) {
		b->ntsas++;
		if ((error = tg_json_bytes(&b->tsas[i], &b->tsa_lens[i],
		                           json_array_get(arr, i),
		                           "signedTimestamp", b->name)) < 0)
			return error;
	}
	return 0;
}

static int parse_material(bundle *b)
{
	const json_t *vm = json_object_get(b->doc, "verificationMaterial");
	const json_t *cert = get_opt(vm, "certificate");
	const json_t *chain = get_opt(vm, "x509CertificateChain");
	const json_t *key = get_opt(vm, "publicKey");
	int error;

	if (!json_is_object(vm))
		return tg_error_set(TG_EPARSE,
		                    "%s: verificationMaterial is "
		                    "missing",
		                    b->name);
	if (!!cert + !!chain + !!key != 1)
		return tg_error_set(TG_EPARSE,
		                    "%s: verificationMaterial needs "
		                    "exactly one of certificate, "
		                    "x509CertificateChain, publicKey",
		                    b->name);
	if (cert)
		error = tg_json_der_cert(&b->leaf, cert, b->name);
	else if (chain)
		error = parse_chain(b, chain);
	else
		error = json_is_object(key) ? 0 : TG_EPARSE;
	b->key_hint = key != NULL;
	if (error < 0)
		return error == TG_EPARSE && key
		               ? tg_error_set(TG_EPARSE,
		                              "%s: publicKey is "
		                              "not an object",
		                              b->name)
		               : error;
	if ((error = parse_entries(b, vm)) < 0)
		return error;
	return parse_timestamps(b, vm);
}

int tg_bundle_parse_alg(int *alg, const char *s)
{
	if (!s)
		return TG_EINVALID;
	if (!strcmp(s, "SHA2_256"))
		*alg = ALG_SHA256;
	else if (!strcmp(s, "SHA2_384"))
		*alg = ALG_SHA384;
	else if (!strcmp(s, "SHA2_512"))
		*alg = ALG_SHA512;
	else
		return TG_EINVALID;
	return 0;
}

static int parse_message(bundle *b, const json_t *ms)
{
	const json_t *md = get_opt(ms, "messageDigest");
	const char *alg;
	int error;

	if ((error = tg_json_bytes(&b->sig, &b->sig_len, ms, "signature",
	                           b->name)) < 0)
		return error;
	if (!md)
		return 0;
	if ((error = tg_json_string(&alg, md, "algorithm", b->name)) < 0 ||
	    (error = tg_json_bytes(&b->digest, &b->digest_len, md, "digest",
	                           b->name)) < 0)
		return error;
	if (tg_bundle_parse_alg(&b->digest_alg, alg) < 0)
		return tg_error_set(TG_EINVALID,
		                    "%s: unsupported message "
		                    "digest algorithm \"%s\"",
		                    b->name, alg);
	return 0;
}

int tg_bundle_parse(bundle *b, const char *json, size_t len)
{
	const json_t *ms, *env;
	json_error_t jerr;
	int error;

	if (len > TG_MAX_BUNDLE_BYTES)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: %zu bytes, over the limit "
		                    "of %u",
		                    b->name, len, TG_MAX_BUNDLE_BYTES);
	b->doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!b->doc)
		return tg_error_set(TG_EPARSE, "%s:%d:%d: malformed JSON: %s",
		                    b->name, jerr.line, jerr.column, jerr.text);
	if (!json_is_object(b->doc))
		return tg_error_set(TG_EPARSE, "%s: not a JSON object",
		                    b->name);
	if ((error = parse_media_type(b)) < 0 ||
	    (error = parse_material(b)) < 0)
		return error;
	ms = get_opt(b->doc, "messageSignature");
	env = get_opt(b->doc, "dsseEnvelope");
	if (!!ms + !!env != 1)
		return tg_error_set(TG_EPARSE,
		                    "%s: needs exactly one of "
		                    "messageSignature and dsseEnvelope",
		                    b->name);
	b->dsse = env != NULL;
	return env ? dsse_parse(b, env) : parse_message(b, ms);
}

void tg_bundle_clear(bundle *b)
{
	size_t i;

	for (i = 0; i < b->nentries; i++) {
		free(b->entries[i].log_id);
		free(b->entries[i].set);
		free(b->entries[i].root);
		free(b->entries[i].hashes);
		free(b->entries[i].body);
	}
	for (i = 0; i < b->ntsas; i++)
		free(b->tsas[i]);
	X509_free(b->leaf);
	OPENSSL_free(b->leaf_der);
	for (i = 0; i < b->nchain_roots; i++)
		X509_free(b->chain_roots[i]);
	free(b->sig);
	free(b->digest);
	free(b->payload);
	json_decref(b->doc);
	json_decref(b->legacy_body);
}
