/*
 * Sigstore bundles: see include/tollgate/bundle.h.
 * Grammar: protobuf-specs dev.sigstore.bundle.v1.Bundle in protojson.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sigstore_int.h"
#include "tollgate/bundle.h"
#include "tollgate/dsse.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/tlog.h"
#include "tollgate/util.h"

/* Bytes in one bundle: a DSSE bundle holds an attestation, which for SBOMs
 * reaches tens of MiB. */
#define TG_MAX_BUNDLE_BYTES TG_MAX_BLOB_BYTES
/* Transparency log entries and RFC 3161 timestamps in one bundle. */
#define TG_MAX_BUNDLE_ENTRIES 16
/* Seconds a log's integrated time may run ahead of our clock. */
#define TG_MAX_CLOCK_SKEW_S 300

enum { ALG_NONE, ALG_SHA256, ALG_SHA384, ALG_SHA512 };

typedef struct tlog_entry {
	int64_t log_index;
	unsigned char *log_id;
	size_t log_id_len;
	const char *kind;
	const char *version;
	int64_t integrated_time; /* 0 when absent (Rekor v2) */
	unsigned char *set;      /* NULL when no inclusion promise */
	size_t set_len;
	bool has_proof;
	int64_t proof_index;
	int64_t tree_size;
	unsigned char *root;
	size_t root_len;
	unsigned char *hashes;
	size_t nhashes;
	const char *checkpoint;
	const char *body_b64;
	unsigned char *body;
	size_t body_len;
} tlog_entry;

typedef struct bundle {
	const char *name;
	json_t *doc;
	int minor; /* 1, 2 or 3 */
	X509 *leaf;
	bool key_hint; /* verificationMaterial.publicKey */
	X509 *chain_roots[TG_MAX_CHAIN_DEPTH]; /* self-signed, in the chain */
	json_t *legacy_body; /* legacy annotation: the entry body */
	size_t nchain_roots;
	tlog_entry entries[TG_MAX_BUNDLE_ENTRIES];
	size_t nentries;
	unsigned char *tsas[TG_MAX_BUNDLE_ENTRIES];
	size_t tsa_lens[TG_MAX_BUNDLE_ENTRIES];
	size_t ntsas;
	bool dsse;
	unsigned char *sig;
	size_t sig_len;
	int digest_alg; /* messageDigest.algorithm */
	unsigned char *digest;
	size_t digest_len;
	const char *payload_type;
	const char *payload_b64;
	unsigned char *payload;
	size_t payload_len;
} bundle;

/* The artifact's digests, from its bytes or from "alg:hex". */
typedef struct digests {
	unsigned char sha256[32];
	bool has_sha256;
	unsigned char sha512[64];
	bool has_sha512;
} digests;

/* ---- DSSE (isolated so it can move to verify/sig/dsse.c) -------------------
 */

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
	if (e->root_len != 32)
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
	e->hashes = tg_malloc(32 * json_array_size(hashes) + 1);
	for (i = 0; i < json_array_size(hashes); i++) {
		json_t *w = json_pack("{s:O}", "h", json_array_get(hashes, i));

		error = tg_json_bytes(&h, &len, w, "h", ctx);
		json_decref(w);
		if (error < 0)
			return error;
		if (len != 32) {
			free(h);
			return tg_error_set(TG_EPARSE,
			                    "%s: proof hash %zu is "
			                    "not 32 bytes",
			                    ctx, i);
		}
		memcpy(e->hashes + 32 * i, h, 32);
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
	char ctx[300];
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

static int parse_alg(int *alg, const char *s)
{
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
	if (parse_alg(&b->digest_alg, alg) < 0)
		return tg_error_set(TG_EINVALID,
		                    "%s: unsupported message "
		                    "digest algorithm \"%s\"",
		                    b->name, alg);
	return 0;
}

static int bundle_parse(bundle *b, const char *json, size_t len)
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

static void bundle_clear(bundle *b)
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
	for (i = 0; i < b->nchain_roots; i++)
		X509_free(b->chain_roots[i]);
	free(b->sig);
	free(b->digest);
	free(b->payload);
	json_decref(b->doc);
	json_decref(b->legacy_body);
}

/* ---- Verification ------------------------------------------------------- */

typedef struct vctx {
	const char *name;
	const tg_sigstore_policy *pol;
	const tg_artifact *art;
	bundle *b;
	const tg_pubkey *signer; /* policy key, or cert_key */
	tg_pubkey *cert_key;
	digests dig;
	unsigned char *pae; /* DSSE pre-authentication encoding */
	size_t pae_len;
	int64_t times[2 * TG_MAX_BUNDLE_ENTRIES]; /* verified signing times */
	size_t ntimes;
	size_t entries_ok;
	char tsa_error[512];   /* why the last timestamp was not used */
	bool no_subject_check; /* legacy .att: subjects checked elsewhere */
	STACK_OF(X509) * untrusted; /* legacy chain annotation */
	tg_sigstore_evidence *ev;
} vctx;

static int artifact_digests(digests *d, const tg_artifact *a)
{
	const char *hex;

	memset(d, 0, sizeof(*d));
	if (a->data) {
		tg_sha256(d->sha256, a->data, a->len);
		EVP_Digest(a->data, a->len, d->sha512, NULL, EVP_sha512(),
		           NULL);
		d->has_sha256 = d->has_sha512 = true;
		return 0;
	}
	if (!a->digest || !tg_digest_is_valid(a->digest))
		return tg_error_set(TG_EINVALID,
		                    "artifact digest \"%s\" is not "
		                    "sha256:<64 hex> or sha512:<128 hex>",
		                    a->digest ? a->digest : "");
	hex = strchr(a->digest, ':') + 1;
	if (tg_str_has_prefix(a->digest, "sha256:")) {
		d->has_sha256 = true;
		return tg_hex_decode(d->sha256, 32, hex, strlen(hex));
	}
	d->has_sha512 = true;
	return tg_hex_decode(d->sha512, 64, hex, strlen(hex));
}

/* The artifact's digest for alg, or NULL when we do not know it. */
static const unsigned char *digest_for(const vctx *v, int alg, size_t *len)
{
	if (alg == ALG_SHA256 && v->dig.has_sha256) {
		*len = 32;
		return v->dig.sha256;
	}
	if (alg == ALG_SHA512 && v->dig.has_sha512) {
		*len = 64;
		return v->dig.sha512;
	}
	return NULL;
}

static tg_hash message_hash(const vctx *v)
{
	if (tg_pubkey_type(v->signer) == TG_KEY_ED25519)
		return TG_HASH_DEFAULT;
	switch (v->b->digest ? v->b->digest_alg : ALG_NONE) {
	case ALG_SHA256:
		return TG_HASH_SHA256;
	case ALG_SHA384:
		return TG_HASH_SHA384;
	case ALG_SHA512:
		return TG_HASH_SHA512;
	default:
		return TG_HASH_DEFAULT;
	}
}

/* err, with what in front of its detail when it is a failure. */
static int prefixed(int err, const char *what)
{
	return err < 0 ? tg_error_prefix(err, "%s", what) : 0;
}

static int check_message(vctx *v)
{
	const bundle *b = v->b;
	const unsigned char *d;
	size_t dlen;

	if (b->digest) {
		d = digest_for(v, b->digest_alg, &dlen);
		if (d && (dlen != b->digest_len ||
		          CRYPTO_memcmp(d, b->digest, dlen)))
			return tg_error_set(TG_EUNTRUSTED,
			                    "the bundle's "
			                    "messageDigest does not match the "
			                    "artifact's digest");
	}
	/* The messageDigest names the hash the signer used (a P-384 key may
	 * sign a SHA-256 digest); without it, the key's default. Ed25519
	 * signs the message itself. */
	if (v->art->data)
		return prefixed(tg_pubkey_verify(v->signer, message_hash(v),
		                                 v->art->data, v->art->len,
		                                 b->sig, b->sig_len),
		                "message signature");
	if (!v->dig.has_sha256)
		return tg_error_set(TG_EINVALID,
		                    "only a sha256 artifact "
		                    "digest can be verified without the "
		                    "artifact");
	return prefixed(tg_pubkey_verify_digest(v->signer, TG_HASH_SHA256,
	                                        v->dig.sha256, 32, b->sig,
	                                        b->sig_len),
	                "message signature");
}

/* Does the subject's digest map name the artifact? */
static bool subject_matches(const vctx *v, const json_t *subject)
{
	const json_t *dg = json_object_get(subject, "digest");
	const char *h;
	char hex[129];

	h = json_string_value(json_object_get(dg, "sha256"));
	if (h && v->dig.has_sha256) {
		tg_hex_encode(hex, v->dig.sha256, 32);
		if (!strcmp(h, hex))
			return true;
	}
	h = json_string_value(json_object_get(dg, "sha512"));
	if (h && v->dig.has_sha512) {
		tg_hex_encode(hex, v->dig.sha512, 64);
		if (!strcmp(h, hex))
			return true;
	}
	return false;
}

/* The in-toto statement must name the artifact among its subjects. */
static int check_statement(vctx *v)
{
	const bundle *b = v->b;
	const json_t *subjects, *pt;
	json_error_t jerr;
	json_t *st;
	size_t i;
	int error = 0;

	if (strcmp(b->payload_type, "application/vnd.in-toto+json"))
		return tg_error_set(TG_EINVALID,
		                    "DSSE payload type \"%s\" is "
		                    "not an in-toto statement",
		                    b->payload_type);
	st = json_loadb((const char *)b->payload, b->payload_len,
	                JSON_REJECT_DUPLICATES, &jerr);
	subjects = json_object_get(st, "subject");
	if (!json_is_array(subjects)) {
		error = tg_error_set(TG_EPARSE, "in-toto statement: %s",
		                     st ? "no subject array" : jerr.text);
		goto out;
	}
	pt = json_object_get(st, "predicateType");
	if (json_is_string(pt))
		v->ev->predicate_type = tg_strdup(json_string_value(pt));
	for (i = 0; i < json_array_size(subjects); i++)
		if (subject_matches(v, json_array_get(subjects, i)))
			goto out;
	error = tg_error_set(TG_EUNTRUSTED,
	                     "the artifact's digest is not "
	                     "among the %zu subjects of the in-toto statement",
	                     json_array_size(subjects));
out:
	json_decref(st);
	return error;
}

static int check_dsse(vctx *v)
{
	const bundle *b = v->b;
	int error;

	tg_dsse_pae(&v->pae, &v->pae_len, b->payload_type, b->payload,
	            b->payload_len);
	if ((error = tg_pubkey_verify(v->signer, TG_HASH_DEFAULT, v->pae,
	                              v->pae_len, b->sig, b->sig_len)) < 0)
		return tg_error_prefix(error, "DSSE envelope signature");
	/* A legacy .att layer: the verifier matches the statement's subjects
	 * against the image itself (dsse.c). */
	if (v->no_subject_check)
		return 0;
	return check_statement(v);
}

/* ---- Log entry bodies ---------------------------------------------------- */

/* Does PEM (a certificate or a public key) name the bundle's signer? */
static bool pem_matches(const vctx *v, const unsigned char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509 *c = NULL;
	EVP_PKEY *k = NULL;
	bool ok = false;

	if (!bio)
		return false;
	if (v->b->leaf) {
		c = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		ok = c && X509_cmp(c, v->b->leaf) == 0;
	} else {
		k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		ok = k && EVP_PKEY_eq(k, tg_pubkey_evp(v->signer)) == 1;
	}
	X509_free(c);
	EVP_PKEY_free(k);
	BIO_free(bio);
	ERR_clear_error();
	return ok;
}

/* A base64 field holding PEM that must name the signer. */
static int check_pem_field(const vctx *v,
                           const json_t *obj,
                           const char *field,
                           const char *ctx)
{
	unsigned char *pem = NULL;
	size_t len;
	bool ok;
	int error;

	if ((error = tg_json_bytes(&pem, &len, obj, field, ctx)) < 0)
		return error;
	ok = pem_matches(v, pem, len);
	free(pem);
	if (!ok)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: the log entry's %s is "
		                    "not the bundle's %s",
		                    ctx,
		                    v->b->leaf ? "certificate" : "public key",
		                    v->b->leaf ? "certificate" : "key");
	return 0;
}

/* A base64 field whose bytes must equal want. */
static int check_bytes_field(const json_t *obj,
                             const char *field,
                             const unsigned char *want,
                             size_t want_len,
                             const char *what,
                             const char *ctx)
{
	unsigned char *got = NULL;
	size_t len;
	int error;

	if ((error = tg_json_bytes(&got, &len, obj, field, ctx)) < 0)
		return error;
	error = len == want_len && !CRYPTO_memcmp(got, want, len)
	                ? 0
	                : tg_error_set(TG_EUNTRUSTED,
	                               "%s: the log entry's %s "
	                               "does not match the bundle's",
	                               ctx, what);
	free(got);
	return error;
}

/* {"algorithm": "sha256", "value": "<hex>"} must equal want. */
static int check_hex_hash(const json_t *h,
                          const unsigned char *want,
                          size_t want_len,
                          const char *what,
                          const char *ctx)
{
	const char *alg = json_string_value(json_object_get(h, "algorithm"));
	const char *val = json_string_value(json_object_get(h, "value"));
	char hex[129];

	if (!alg || !val || strcmp(alg, "sha256") || want_len != 32)
		return tg_error_set(TG_EPARSE, "%s: %s is not a sha256 hash",
		                    ctx, what);
	tg_hex_encode(hex, want, 32);
	if (strcmp(hex, val))
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: the log entry's %s "
		                    "does not match the %s",
		                    ctx, what,
		                    !strcmp(what, "hash") ? "artifact"
		                                          : "bundle");
	return 0;
}

/* hashedrekord 0.0.1: {data: {hash}, signature: {content, publicKey}}. */
static int
body_hashedrekord1(const vctx *v, const json_t *spec, const char *ctx)
{
	const json_t *sig = json_object_get(spec, "signature");
	const unsigned char *d;
	size_t dlen;
	int error;

	if (v->b->dsse)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: a hashedrekord 0.0.1 "
		                    "entry cannot log a DSSE envelope",
		                    ctx);
	d = digest_for(v, ALG_SHA256, &dlen);
	if (!d)
		return tg_error_set(TG_EINVALID,
		                    "%s: the artifact's sha256 "
		                    "digest is needed",
		                    ctx);
	if ((error = check_hex_hash(
	             json_object_get(json_object_get(spec, "data"), "hash"), d,
	             dlen, "hash", ctx)) < 0 ||
	    (error = check_bytes_field(sig, "content", v->b->sig, v->b->sig_len,
	                               "signature", ctx)) < 0)
		return error;
	return check_pem_field(v, json_object_get(sig, "publicKey"), "content",
	                       ctx);
}

/* hashedrekord 0.0.2: {hashedRekordV002: {data: {algorithm, digest},
 * signature: {content, verifier: {x509Certificate|publicKey: {rawBytes}}}}};
 * for DSSE the digest is SHA-256 of the PAE. */
static int
body_hashedrekord2(const vctx *v, const json_t *spec, const char *ctx)
{
	const json_t *h = json_object_get(spec, "hashedRekordV002");
	const json_t *data = json_object_get(h, "data");
	const json_t *sig = json_object_get(h, "signature");
	const json_t *ver = json_object_get(sig, "verifier");
	unsigned char pae_hash[32];
	const unsigned char *d;
	const char *alg = "";
	size_t dlen = 32;
	X509 *c = NULL;
	int error, a = ALG_NONE;

	tg_json_string(&alg, data, "algorithm", ctx);
	if (parse_alg(&a, alg) < 0)
		return tg_error_set(TG_EPARSE,
		                    "%s: unknown digest algorithm "
		                    "\"%s\"",
		                    ctx, alg);
	if (v->b->dsse) {
		tg_sha256(pae_hash, v->pae, v->pae_len);
		d = a == ALG_SHA256 ? pae_hash : NULL;
	} else {
		d = digest_for(v, a, &dlen);
	}
	if (!d)
		return tg_error_set(TG_EINVALID,
		                    "%s: the artifact's %s digest "
		                    "is needed",
		                    ctx, alg);
	if ((error = check_bytes_field(
	             data, "digest", d, dlen,
	             v->b->dsse ? "envelope digest" : "artifact digest", ctx)) <
	            0 ||
	    (error = check_bytes_field(sig, "content", v->b->sig, v->b->sig_len,
	                               "signature", ctx)) < 0)
		return error;
	if (v->b->leaf) {
		if ((error = tg_json_der_cert(
		             &c, json_object_get(ver, "x509Certificate"),
		             ctx)) < 0)
			return error;
		error = X509_cmp(c, v->b->leaf) == 0
		                ? 0
		                : tg_error_set(TG_EUNTRUSTED,
		                               "%s: the log "
		                               "entry's certificate is not "
		                               "the bundle's",
		                               ctx);
		X509_free(c);
		return error;
	}
	{
		unsigned char *der = NULL, *mine = NULL;
		size_t len;
		int mlen;

		if ((error = tg_json_bytes(&der, &len,
		                           json_object_get(ver, "publicKey"),
		                           "rawBytes", ctx)) < 0)
			return error;
		mlen = i2d_PUBKEY(tg_pubkey_evp(v->signer), &mine);
		error = mlen > 0 && (size_t)mlen == len &&
		                        !CRYPTO_memcmp(der, mine, len)
		                ? 0
		                : tg_error_set(TG_EUNTRUSTED,
		                               "%s: the log "
		                               "entry's public key is not the "
		                               "given key",
		                               ctx);
		free(der);
		OPENSSL_free(mine);
		return error;
	}
}

/* dsse 0.0.1: {payloadHash, signatures: [{signature, verifier}]}. */
static int body_dsse1(const vctx *v, const json_t *spec, const char *ctx)
{
	const json_t *sigs = json_object_get(spec, "signatures");
	unsigned char ph[32];
	int error;

	if (!v->b->dsse)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: a dsse entry cannot "
		                    "log a message signature",
		                    ctx);
	tg_sha256(ph, v->b->payload, v->b->payload_len);
	if ((error = check_hex_hash(json_object_get(spec, "payloadHash"), ph,
	                            32, "payload hash", ctx)) < 0)
		return error;
	if (!json_is_array(sigs) || json_array_size(sigs) != 1)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: the log entry does not "
		                    "hold exactly the envelope's one "
		                    "signature",
		                    ctx);
	if ((error = check_bytes_field(json_array_get(sigs, 0), "signature",
	                               v->b->sig, v->b->sig_len, "signature",
	                               ctx)) < 0)
		return error;
	return check_pem_field(v, json_array_get(sigs, 0), "verifier", ctx);
}

/* A field holding base64 of (base64 of want): intoto 0.0.2 encodes the
 * envelope's payload and signatures once more. */
static int check_double_b64(const json_t *obj,
                            const char *field,
                            const unsigned char *want,
                            size_t want_len,
                            const char *what,
                            const char *ctx)
{
	unsigned char *once = NULL;
	size_t len;
	json_t *w;
	int error;

	if ((error = tg_json_bytes(&once, &len, obj, field, ctx)) < 0)
		return error;
	w = json_pack("{s:s%}", "v", (const char *)once, len);
	free(once);
	error = w ? check_bytes_field(w, "v", want, want_len, what, ctx)
	          : TG_EPARSE;
	json_decref(w);
	/* Not base64 inside: it cannot be the bundle's value either. */
	if (error == TG_EPARSE)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: the log entry's %s "
		                    "does not match the bundle's",
		                    ctx, what);
	return error;
}

/* intoto 0.0.2: {content: {envelope: {payloadType, payload, signatures:
 * [{sig, publicKey}]}, payloadHash}}. */
static int body_intoto2(const vctx *v, const json_t *spec, const char *ctx)
{
	const json_t *content = json_object_get(spec, "content");
	const json_t *env = json_object_get(content, "envelope");
	const json_t *sigs = json_object_get(env, "signatures");
	const char *pt = json_string_value(json_object_get(env, "payloadType"));
	unsigned char ph[32];
	int error;

	if (!v->b->dsse)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: an intoto entry cannot "
		                    "log a message signature",
		                    ctx);
	tg_sha256(ph, v->b->payload, v->b->payload_len);
	/* Rekor stores intoto entries without the payload: its hash
	 * stands for it. When present it must match too. */
	if ((error = check_hex_hash(json_object_get(content, "payloadHash"), ph,
	                            32, "payload hash", ctx)) < 0 ||
	    (json_object_get(env, "payload") &&
	     (error = check_double_b64(env, "payload", v->b->payload,
	                               v->b->payload_len, "payload", ctx)) < 0))
		return error;
	if (!pt || strcmp(pt, v->b->payload_type))
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: the log entry's "
		                    "payload type does not match",
		                    ctx);
	if (!json_is_array(sigs) || json_array_size(sigs) != 1)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: the log entry does not "
		                    "hold exactly the envelope's one "
		                    "signature",
		                    ctx);
	if ((error = check_double_b64(json_array_get(sigs, 0), "sig", v->b->sig,
	                              v->b->sig_len, "signature", ctx)) < 0)
		return error;
	return check_pem_field(v, json_array_get(sigs, 0), "publicKey", ctx);
}

/* The entry's body must record this signature, signer and payload. */
static int check_body(const vctx *v, const tlog_entry *e, const char *ctx)
{
	json_error_t jerr;
	json_t *body;
	const json_t *spec;
	const char *kind, *ver;
	int error;

	body = json_loadb((const char *)e->body, e->body_len,
	                  JSON_REJECT_DUPLICATES, &jerr);
	kind = json_string_value(json_object_get(body, "kind"));
	ver = json_string_value(json_object_get(body, "apiVersion"));
	spec = json_object_get(body, "spec");
	if (!kind || !ver || !json_is_object(spec)) {
		error = tg_error_set(TG_EPARSE,
		                     "%s: canonicalizedBody is not "
		                     "a Rekor entry",
		                     ctx);
		goto out;
	}
	if (strcmp(kind, e->kind) || strcmp(ver, e->version)) {
		error = tg_error_set(TG_EUNTRUSTED,
		                     "%s: body is %s %s but "
		                     "kindVersion says %s %s",
		                     ctx, kind, ver, e->kind, e->version);
		goto out;
	}
	if (!strcmp(kind, "hashedrekord") && !strcmp(ver, "0.0.1"))
		error = body_hashedrekord1(v, spec, ctx);
	else if (!strcmp(kind, "hashedrekord") && !strcmp(ver, "0.0.2"))
		error = body_hashedrekord2(v, spec, ctx);
	else if (!strcmp(kind, "dsse") && !strcmp(ver, "0.0.1"))
		error = body_dsse1(v, spec, ctx);
	else if (!strcmp(kind, "intoto") && !strcmp(ver, "0.0.2"))
		error = body_intoto2(v, spec, ctx);
	else
		error = tg_error_set(TG_EINVALID,
		                     "%s: unsupported entry type "
		                     "%s %s",
		                     ctx, kind, ver);
out:
	json_decref(body);
	return error;
}

/* ---- Log entries, timestamps, certificate ----------------------------- */

static void add_time(vctx *v, int64_t t)
{
	if (v->ntimes < sizeof(v->times) / sizeof(v->times[0]))
		v->times[v->ntimes++] = t;
}

/* Proofs of one entry: SET (v0.1 needs it), inclusion proof and
 * checkpoint (v0.2 and later need them). */
static int check_entry_proofs(vctx *v,
                              const tlog_entry *e,
                              const tg_tr_log *log,
                              const char *ctx)
{
	int error;

	if (v->b->minor >= 2 && !e->has_proof)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: no inclusion proof; a "
		                    "v0.%d bundle must carry one",
		                    ctx, v->b->minor);
	if (v->b->minor == 1 && !e->set)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: no signed entry "
		                    "timestamp; a v0.1 bundle must carry one",
		                    ctx);
	if (e->set &&
	    (error = tg_tlog_verify_set(log, e->body_b64, e->integrated_time,
	                                e->log_index, e->set, e->set_len)) < 0)
		return tg_error_prefix(error, "%s", ctx);
	if (e->has_proof &&
	    (error = tg_tlog_verify_proof(
	             log, e->body, e->body_len, (uint64_t)e->proof_index,
	             (uint64_t)e->tree_size, e->root, e->hashes, e->nhashes,
	             e->checkpoint)) < 0)
		return tg_error_prefix(error, "%s", ctx);
	return 0;
}

static int check_entry(vctx *v, const tlog_entry *e, size_t i)
{
	const tg_tr_log *log;
	char ctx[300], hex[65];
	int error;

	snprintf(ctx, sizeof(ctx), "log entry %lld", (long long)e->log_index);
	log = tg_trustroot_find_log(v->pol->root->tlogs, v->pol->root->ntlogs,
	                            e->log_id, e->log_id_len);
	if (!log)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: from a transparency "
		                    "log that is not in the trust root",
		                    ctx);
	if ((error = check_body(v, e, ctx)) < 0 ||
	    (error = check_entry_proofs(v, e, log, ctx)) < 0)
		return error;
	if (e->set) {
		if (!tg_validity_contains(&log->valid, e->integrated_time))
			return tg_error_set(TG_EUNTRUSTED,
			                    "%s: integrated "
			                    "time %lld is outside the validity "
			                    "of log %s in the trust root",
			                    ctx, (long long)e->integrated_time,
			                    log->base_url);
		if (e->integrated_time > tg_now() + TG_MAX_CLOCK_SKEW_S)
			return tg_error_set(TG_EUNTRUSTED,
			                    "%s: integrated "
			                    "time is in the future",
			                    ctx);
		add_time(v, e->integrated_time);
	}
	if (v->ev->log_index < 0 || i == 0) {
		v->ev->log_index = e->log_index;
		v->ev->integrated_time = e->set ? e->integrated_time : -1;
		tg_hex_encode(hex, log->id, log->id_len);
		free(v->ev->log_id);
		v->ev->log_id = tg_strdup(hex);
	}
	v->entries_ok++;
	return 0;
}

static int check_entries(vctx *v)
{
	size_t i, need;
	int error;

	need = v->pol->tlog_threshold > 0    ? (size_t)v->pol->tlog_threshold
	       : v->pol->tlog_threshold == 0 ? 1
	                                     : 0;
	for (i = 0; i < v->b->nentries; i++)
		if ((error = check_entry(v, &v->b->entries[i], i)) < 0)
			return error;
	if (v->entries_ok < need)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%zu transparency log "
		                    "entries verified; %zu required",
		                    v->entries_ok, need);
	return 0;
}

/*
 * RFC 3161 timestamps are over the signature bytes. As in sigstore-go, a
 * timestamp that does not verify gives no signing time (its reason is kept
 * for the message) but does not by itself reject: a verified integrated
 * time may still stand. Nothing unverified is ever used.
 */
static void check_timestamps(vctx *v)
{
	size_t i;
	int64_t t;

	for (i = 0; i < v->b->ntsas; i++) {
		if (tg_tsa_verify(&t, v->b->tsas[i], v->b->tsa_lens[i],
		                  v->b->sig, v->b->sig_len, v->pol->root) < 0) {
			tg_strlcpy(v->tsa_error, tg_error_last(),
			           sizeof(v->tsa_error));
			tg_log(TG_LOG_DEBUG, "timestamp ignored", "bundle",
			       v->name, "reason", v->tsa_error, NULL);
			continue;
		}
		add_time(v, t);
		if (v->ev->timestamp < 0)
			v->ev->timestamp = t;
	}
}

/* The certificate at every verified signing time, then its SCT and the
 * identity policy. */
static int check_cert(vctx *v)
{
	const tg_keyless_policy *kp = v->pol->keyless;
	tg_cert_identity *id = NULL;
	X509 *issuer = NULL;
	size_t i;
	int error = 0;

	for (i = 0; i < v->ntimes && !error; i++) {
		X509_free(issuer);
		issuer = NULL;
		error = tg_keyless_verify_cert_with(
		        &issuer, v->b->leaf, v->untrusted, v->pol->root,
		        v->times[i],
		        kp->allow_missing_eku ? TG_KEYLESS_ALLOW_NO_EKU : 0);
	}
	if (error < 0)
		goto out;
	if (kp->require_sct && (error = tg_keyless_verify_sct(
	                                v->b->leaf, issuer, v->pol->root)) < 0)
		goto out;
	if ((error = tg_keyless_identity(&id, v->b->leaf)) < 0 ||
	    (error = tg_keyless_match(id, kp)) < 0)
		goto out;
	v->ev->signer = tg_strdup(id->subject);
	v->ev->issuer = id->issuer ? tg_strdup(id->issuer) : NULL;
out:
	X509_free(issuer);
	tg_cert_identity_free(id);
	return error;
}

/* Which key signs: the policy's, or the certificate's. */
static int pick_signer(vctx *v)
{
	if (v->b->leaf) {
		if (!v->pol->keyless)
			return tg_error_set(TG_EUNTRUSTED,
			                    "the bundle is "
			                    "signed with a certificate, but a "
			                    "public key was expected");
		v->signer = NULL;
		if (tg_pubkey_from_evp(&v->cert_key, "signing certificate",
		                       X509_get0_pubkey(v->b->leaf)) < 0)
			return TG_EINVALID;
		v->signer = v->cert_key;
		return 0;
	}
	if (!v->pol->key)
		return tg_error_set(TG_EUNTRUSTED,
		                    "the bundle is signed with "
		                    "a public key, but no key was given (a "
		                    "certificate identity was expected)");
	v->signer = v->pol->key;
	return 0;
}

/* A root certificate the bundle brings must be one the trust root has:
 * a bundle cannot bring its own root. */
static int check_chain_roots(const vctx *v)
{
	const tg_trustroot *root = v->pol->root;
	size_t i, j, k;
	bool known;

	for (i = 0; i < v->b->nchain_roots; i++) {
		known = false;
		for (j = 0; j < root->ncas && !known; j++)
			for (k = 0; k < root->cas[j].ncerts && !known; k++)
				known = !X509_cmp(root->cas[j].certs[k],
				                  v->b->chain_roots[i]);
		if (!known)
			return tg_error_set(
			        TG_EUNTRUSTED,
			        "the bundle's certificate chain "
			        "contains a root certificate that is "
			        "not in the trust root");
	}
	return 0;
}

static int verify_all(vctx *v)
{
	int error;

	if ((error = pick_signer(v)) < 0 || (error = check_chain_roots(v)) < 0)
		return error;
	if ((error = v->b->dsse ? check_dsse(v) : check_message(v)) < 0 ||
	    (error = check_entries(v)) < 0)
		return error;
	check_timestamps(v);
	if (v->ntimes == 0 && v->b->leaf && v->pol->allow_current_time)
		add_time(v, tg_now());
	if (v->ntimes == 0 && v->b->leaf)
		return tg_error_set(TG_EUNTRUSTED,
		                    "no verified signing time: "
		                    "neither a signed entry timestamp nor a "
		                    "trusted RFC 3161 timestamp%s%s",
		                    v->tsa_error[0] ? "; " : "", v->tsa_error);
	if (v->b->leaf)
		return check_cert(v);
	v->ev->signer = tg_strdup(tg_pubkey_id(v->signer));
	return 0;
}

static tg_sigstore_evidence *evidence_new(void)
{
	tg_sigstore_evidence *ev = tg_calloc(1, sizeof(*ev));

	ev->log_index = -1;
	ev->integrated_time = -1;
	ev->timestamp = -1;
	return ev;
}

void tg_sigstore_evidence_free(tg_sigstore_evidence *ev)
{
	if (!ev)
		return;
	free(ev->signer);
	free(ev->issuer);
	free(ev->log_id);
	free(ev->payload_type);
	free(ev->payload);
	free(ev->predicate_type);
	free(ev);
}

static int check_policy(const tg_sigstore_policy *p)
{
	if (!p->root)
		return tg_error_set(TG_EINVALID, "no trust root");
	if (!!p->key + !!p->keyless != 1)
		return tg_error_set(TG_EINVALID,
		                    "a Sigstore verification "
		                    "needs exactly one of a key and a keyless "
		                    "identity");
	return 0;
}

int tg_bundle_verify(tg_sigstore_evidence **out,
                     const char *name,
                     const char *json,
                     size_t len,
                     const tg_artifact *artifact,
                     const tg_sigstore_policy *policy)
{
	bundle b;
	vctx v;
	int error;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	memset(&v, 0, sizeof(v));
	b.name = name;
	v.name = name;
	v.pol = policy;
	v.art = artifact;
	v.b = &b;
	v.ev = evidence_new();
	if ((error = check_policy(policy)) < 0 ||
	    (error = artifact_digests(&v.dig, artifact)) < 0 ||
	    (error = bundle_parse(&b, json, len)) < 0)
		goto out;
	if ((error = verify_all(&v)) < 0) {
		tg_error_prefix(error, "%s", name);
		goto out;
	}
	if (b.dsse) {
		v.ev->payload_type = tg_strdup(b.payload_type);
		v.ev->payload = b.payload;
		v.ev->payload_len = b.payload_len;
		b.payload = NULL;
	}
	*out = v.ev;
	v.ev = NULL;
out:
	tg_sigstore_evidence_free(v.ev);
	tg_pubkey_free(v.cert_key);
	free(v.pae);
	bundle_clear(&b);
	return error;
}

/* ---- Legacy cosign signature layers -------------------------------------- */

static int legacy_entry_kind(bundle *b, tlog_entry *e);

/* dev.sigstore.cosign/bundle: {"SignedEntryTimestamp": b64, "Payload":
 * {"body": b64, "integratedTime": n, "logIndex": n, "logID": hex}}. The
 * parsed document is kept in b->doc (strings borrow from it). */
static int legacy_parse_set(bundle *b, const char *json)
{
	tlog_entry *e = &b->entries[0];
	const json_t *p;
	const char *hex;
	json_error_t jerr;
	size_t n;
	int error;

	b->doc = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	p = json_object_get(b->doc, "Payload");
	if (!json_is_object(p))
		return tg_error_set(TG_EPARSE,
		                    "%s: cosign bundle annotation: "
		                    "%s",
		                    b->name,
		                    b->doc ? "no Payload object" : jerr.text);
	b->nentries = 1;
	if ((error = tg_json_bytes(&e->set, &e->set_len, b->doc,
	                           "SignedEntryTimestamp", b->name)) < 0 ||
	    (error = tg_json_string(&e->body_b64, p, "body", b->name)) < 0 ||
	    (error = tg_json_bytes(&e->body, &e->body_len, p, "body",
	                           b->name)) < 0 ||
	    (error = tg_json_int64(&e->integrated_time, p, "integratedTime",
	                           b->name)) < 0 ||
	    (error = tg_json_int64(&e->log_index, p, "logIndex", b->name)) <
	            0 ||
	    (error = tg_json_string(&hex, p, "logID", b->name)) < 0)
		return error;
	n = strlen(hex);
	if (n == 0 || n % 2 || n > 64)
		return tg_error_set(TG_EPARSE, "%s: logID is not a hex log id",
		                    b->name);
	e->log_id = tg_malloc(n / 2);
	e->log_id_len = n / 2;
	if (tg_hex_decode(e->log_id, n / 2, hex, n) < 0)
		return tg_error_set(TG_EPARSE, "%s: logID is not hex", b->name);
	/* The kind is read from the body itself: the annotation does not
	 * carry it. */
	return legacy_entry_kind(b, e);
}

static int legacy_entry_kind(bundle *b, tlog_entry *e)
{
	b->legacy_body = json_loadb((const char *)e->body, e->body_len,
	                            JSON_REJECT_DUPLICATES, NULL);
	e->kind = json_string_value(json_object_get(b->legacy_body, "kind"));
	e->version = json_string_value(
	        json_object_get(b->legacy_body, "apiVersion"));
	if (!e->kind || !e->version)
		return tg_error_set(TG_EPARSE,
		                    "%s: the Rekor entry body has no "
		                    "kind and apiVersion",
		                    b->name);
	return 0;
}

/* Certificate and chain annotations: the leaf, then intermediates (used
 * only to build the chain) and roots (which must be the trust root's). */
static int legacy_parse_certs(bundle *b, vctx *v, const tg_cosign_layer *l)
{
	BIO *bio;
	X509 *c;

	bio = BIO_new_mem_buf(l->certificate_pem, -1);
	b->leaf = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	ERR_clear_error();
	if (!b->leaf)
		return tg_error_set(TG_EPARSE,
		                    "%s: the certificate annotation "
		                    "is not a PEM certificate",
		                    b->name);
	v->untrusted = sk_X509_new_null();
	if (!l->chain_pem)
		return 0;
	bio = BIO_new_mem_buf(l->chain_pem, -1);
	while (bio && (c = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		if (b->nchain_roots + (size_t)sk_X509_num(v->untrusted) >=
		    TG_MAX_CHAIN_DEPTH) {
			X509_free(c);
			BIO_free(bio);
			return tg_error_set(TG_ETOOBIG,
			                    "%s: more than %d "
			                    "certificates in the chain "
			                    "annotation",
			                    b->name, TG_MAX_CHAIN_DEPTH);
		}
		if (X509_check_issued(c, c) == X509_V_OK)
			b->chain_roots[b->nchain_roots++] = c;
		else
			sk_X509_push(v->untrusted, c);
	}
	BIO_free(bio);
	ERR_clear_error();
	return 0;
}

static int legacy_parse(bundle *b, vctx *v, const tg_cosign_layer *l)
{
	int error;

	b->minor = 1; /* a SET is what the annotation carries */
	if (l->signature_b64) {
		if (tg_base64_decode(&b->sig, &b->sig_len, l->signature_b64,
		                     strlen(l->signature_b64)) < 0)
			return tg_error_set(TG_EPARSE,
			                    "%s: the signature annotation "
			                    "is not base64",
			                    b->name);
	} else if (l->signature && l->signature_len) {
		b->sig = tg_malloc(l->signature_len);
		memcpy(b->sig, l->signature, l->signature_len);
		b->sig_len = l->signature_len;
	} else {
		return tg_error_set(TG_EPARSE, "%s: no signature", b->name);
	}
	if (l->dsse_payload_type) {
		b->dsse = true;
		b->payload_type = l->dsse_payload_type;
		b->payload = tg_malloc(l->payload_len + 1);
		memcpy(b->payload, l->payload, l->payload_len);
		b->payload_len = l->payload_len;
		v->no_subject_check = true;
	}
	if (l->certificate_pem && (error = legacy_parse_certs(b, v, l)) < 0)
		return error;
	if (l->bundle_json && (error = legacy_parse_set(b, l->bundle_json)) < 0)
		return error;
	return 0;
}

int tg_cosign_legacy_verify(tg_sigstore_evidence **out,
                            const char *name,
                            const tg_cosign_layer *layer,
                            const tg_sigstore_policy *policy)
{
	tg_artifact art;
	bundle b;
	vctx v;
	int error;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	memset(&v, 0, sizeof(v));
	memset(&art, 0, sizeof(art));
	art.data = layer->payload;
	art.len = layer->payload_len;
	b.name = name;
	v.name = name;
	v.pol = policy;
	v.art = &art;
	v.b = &b;
	v.ev = evidence_new();
	if ((error = check_policy(policy)) < 0 ||
	    (error = artifact_digests(&v.dig, &art)) < 0 ||
	    (error = legacy_parse(&b, &v, layer)) < 0)
		goto out;
	if ((error = verify_all(&v)) < 0) {
		tg_error_prefix(error, "%s", name);
		goto out;
	}
	*out = v.ev;
	v.ev = NULL;
out:
	tg_sigstore_evidence_free(v.ev);
	tg_pubkey_free(v.cert_key);
	sk_X509_pop_free(v.untrusted, X509_free);
	bundle_clear(&b);
	return error;
}
