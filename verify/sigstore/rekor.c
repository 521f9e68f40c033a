/*
 * Rekor entry bodies (v1: hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2;
 * v2: hashedrekord 0.0.2, dsse 0.0.2): the canonicalized body of a bundle's log
 * entry must record the bundle's own signature, signer and content, or a proof
 * of inclusion proves nothing about this bundle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bundle_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

/* Is der (len bytes) the bundle's certificate, or the signer's key? */
static bool der_is_signer(const vctx *v, const unsigned char *der, size_t len)
{
	const unsigned char *mine;
	size_t mlen;

	if (v->b->leaf) {
		mine = v->b->leaf_der;
		mlen = v->b->leaf_der_len;
	} else {
		mine = tg_key_spki(v->signer, &mlen);
	}
	return mine && len == mlen && !CRYPTO_memcmp(der, mine, len);
}

/* PEM naming the signer by other bytes than ours (a key encoded another
 * way, e.g. a compressed point): compare what it decodes to. */
static bool pem_decodes_to_signer(const vctx *v, BIO *bio)
{
	X509 *c = NULL;
	EVP_PKEY *k = NULL;
	bool ok;

	(void)BIO_reset(bio);
	if (v->b->leaf) {
		c = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		ok = c && X509_cmp(c, v->b->leaf) == 0;
	} else {
		k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		ok = k && EVP_PKEY_eq(k, tg_key_evp(v->signer)) == 1;
	}
	X509_free(c);
	EVP_PKEY_free(k);
	return ok;
}

/* Does PEM (a certificate or a public key) name the bundle's signer? The
 * DER inside is compared byte for byte first: parsing it again (OpenSSL
 * decodes every key it meets) would cost more than a signature check. */
static bool pem_matches(const vctx *v, const unsigned char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	unsigned char *der = NULL;
	char *name = NULL, *header = NULL;
	long dlen = 0;
	bool ok = false;

	if (!bio)
		return false;
	if (PEM_read_bio(bio, &name, &header, &der, &dlen) == 1 &&
	    !strcmp(name, v->b->leaf ? PEM_STRING_X509 : PEM_STRING_PUBLIC))
		ok = der_is_signer(v, der, (size_t)dlen);
	if (!ok)
		ok = pem_decodes_to_signer(v, bio);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(der);
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
	char hex[2 * TG_SHA512_LEN + 1];

	if (!alg || !val || strcmp(alg, "sha256") || want_len != TG_SHA256_LEN)
		return tg_error_set(TG_EPARSE, "%s: %s is not a sha256 hash",
		                    ctx, what);
	tg_hex_encode(hex, want, TG_SHA256_LEN);
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
	d = tg_bundle_digest_for(v, ALG_SHA256, &dlen);
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

/* signature.verifier of a Rekor v2 entry: the bundle's certificate, or the
 * given key, as DER (x509Certificate or publicKey {rawBytes}), compared
 * byte for byte (DER has one encoding). */
static int check_verifier(const vctx *v, const json_t *ver, const char *ctx)
{
	unsigned char *der = NULL;
	size_t len;
	int error;

	if ((error = tg_json_bytes(
	             &der, &len,
	             json_object_get(ver, v->b->leaf ? "x509Certificate"
	                                             : "publicKey"),
	             "rawBytes", ctx)) < 0)
		return error;
	error = der_is_signer(v, der, len)
	                ? 0
	                : tg_error_set(TG_EUNTRUSTED, "%s: the log entry's %s",
	                               ctx,
	                               v->b->leaf ? "certificate is not the "
	                                            "bundle's"
	                                          : "public key is not the "
	                                            "given key");
	free(der);
	return error;
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
	unsigned char pae_hash[TG_SHA256_LEN];
	const unsigned char *d;
	const char *alg = "";
	size_t dlen = TG_SHA256_LEN;
	int error, a = ALG_NONE;

	/* A body without an algorithm is refused here: fuzzing found that
	 * the NULL went on into tg_bundle_parse_alg (a crash, reachable by
	 * anyone who can sign a bundle with a Fulcio certificate of their
	 * own, as the identity is checked last). */
	if ((error = tg_json_string(&alg, data, "algorithm", ctx)) < 0)
		return error;
	if (tg_bundle_parse_alg(&a, alg) < 0)
		return tg_error_set(TG_EPARSE,
		                    "%s: unknown digest algorithm "
		                    "\"%s\"",
		                    ctx, alg);
	if (v->b->dsse) {
		tg_sha256(pae_hash, v->pae, v->pae_len);
		d = a == ALG_SHA256 ? pae_hash : NULL;
	} else {
		d = tg_bundle_digest_for(v, a, &dlen);
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
	return check_verifier(v, ver, ctx);
}

/* dsse 0.0.1: {payloadHash, signatures: [{signature, verifier}]}. */
static int body_dsse1(const vctx *v, const json_t *spec, const char *ctx)
{
	const json_t *sigs = json_object_get(spec, "signatures");
	unsigned char ph[TG_SHA256_LEN];
	int error;

	if (!v->b->dsse)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: a dsse entry cannot "
		                    "log a message signature",
		                    ctx);
	tg_sha256(ph, v->b->payload, v->b->payload_len);
	if ((error = check_hex_hash(json_object_get(spec, "payloadHash"), ph,
	                            TG_SHA256_LEN, "payload hash", ctx)) < 0)
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

/* dsse 0.0.2: {dsseV002: {payloadHash: {algorithm, digest}, signatures:
 * [{content, verifier: {x509Certificate|publicKey: {rawBytes}}}]}}: the
 * payload's SHA-256, the envelope's one signature and who made it. */
static int body_dsse2(const vctx *v, const json_t *spec, const char *ctx)
{
	const json_t *d = json_object_get(spec, "dsseV002");
	const json_t *ph = json_object_get(d, "payloadHash");
	const json_t *sigs = json_object_get(d, "signatures");
	unsigned char h[TG_SHA256_LEN];
	const char *alg = "";
	int error, a = ALG_NONE;

	if (!v->b->dsse)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: a dsse entry cannot "
		                    "log a message signature",
		                    ctx);
	if (!json_is_object(d))
		return tg_error_set(TG_EPARSE,
		                    "%s: dsse 0.0.2 entry without "
		                    "dsseV002",
		                    ctx);
	if ((error = tg_json_string(&alg, ph, "algorithm", ctx)) < 0)
		return error;
	if (tg_bundle_parse_alg(&a, alg) < 0 || a != ALG_SHA256)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: payload hash algorithm "
		                    "\"%s\" is not SHA2_256",
		                    ctx, alg);
	tg_sha256(h, v->b->payload, v->b->payload_len);
	if ((error = check_bytes_field(ph, "digest", h, sizeof(h),
	                               "payload hash", ctx)) < 0)
		return error;
	if (!json_is_array(sigs) || json_array_size(sigs) != 1)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: the log entry does not "
		                    "hold exactly the envelope's one "
		                    "signature",
		                    ctx);
	if ((error = check_bytes_field(json_array_get(sigs, 0), "content",
	                               v->b->sig, v->b->sig_len, "signature",
	                               ctx)) < 0)
		return error;
	return check_verifier(
	        v, json_object_get(json_array_get(sigs, 0), "verifier"), ctx);
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
	unsigned char ph[TG_SHA256_LEN];
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
	                            TG_SHA256_LEN, "payload hash", ctx)) < 0 ||
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
int tg_rekor_check_body(const vctx *v, const tlog_entry *e, const char *ctx)
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
	else if (!strcmp(kind, "dsse") && !strcmp(ver, "0.0.2"))
		error = body_dsse2(v, spec, ctx);
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
