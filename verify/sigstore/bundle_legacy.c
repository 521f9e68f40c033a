/*
 * Legacy cosign signature layers (tag sha256-<hex>.sig, .att): their
 * annotations (certificate, chain, dev.sigstore.cosign/bundle) are turned
 * into the bundle form of bundle_int.h and verified as bundles are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bundle_int.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

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
	if (!v->untrusted)
		tg_oom(sizeof(X509 *));
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
		else if (!sk_X509_push(v->untrusted, c))
			tg_oom(sizeof(c));
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
	v.ev = tg_sigstore_evidence_new();
	if ((error = tg_sigstore_policy_check(policy)) < 0 ||
	    (error = tg_artifact_digests(&v.dig, &art)) < 0 ||
	    (error = legacy_parse(&b, &v, layer)) < 0)
		goto out;
	if ((error = tg_bundle_verify_all(&v)) < 0) {
		error = tg_error_prefix(error, "%s", name);
		goto out;
	}
	*out = v.ev;
	v.ev = NULL;
out:
	tg_sigstore_evidence_free(v.ev);
	tg_key_free(v.cert_key);
	free(v.pae);
	sk_X509_pop_free(v.untrusted, X509_free);
	tg_bundle_clear(&b);
	return error;
}
