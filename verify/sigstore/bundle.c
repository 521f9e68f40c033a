/*
 * Sigstore bundles, verification: see include/tollgate/bundle.h; parsing
 * is in bundle_parse.c.
 * Grammar: protobuf-specs dev.sigstore.bundle.v1.Bundle in protojson.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bundle_int.h"
#include "tollgate/bundle.h"
#include "tollgate/dsse.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/tlog.h"
#include "tollgate/util.h"

/* ---- Verification ------------------------------------------------------- */

int tg_artifact_digests(digests *d, const tg_artifact *a)
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
		return tg_hex_decode(d->sha256, TG_SHA256_LEN, hex,
		                     strlen(hex));
	}
	d->has_sha512 = true;
	return tg_hex_decode(d->sha512, TG_SHA512_LEN, hex, strlen(hex));
}

/* The artifact's digest for alg, or NULL when we do not know it. */
const unsigned char *tg_bundle_digest_for(const vctx *v, int alg, size_t *len)
{
	if (alg == ALG_SHA256 && v->dig.has_sha256) {
		*len = TG_SHA256_LEN;
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
	if (tg_key_type(v->signer) == TG_KEY_ED25519)
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
		d = tg_bundle_digest_for(v, b->digest_alg, &dlen);
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
		return prefixed(tg_key_verify(v->signer, message_hash(v),
		                              v->art->data, v->art->len, b->sig,
		                              b->sig_len),
		                "message signature");
	if (!v->dig.has_sha256)
		return tg_error_set(TG_EINVALID,
		                    "only a sha256 artifact "
		                    "digest can be verified without the "
		                    "artifact");
	return prefixed(tg_key_verify_digest(v->signer, TG_HASH_SHA256,
	                                     v->dig.sha256, TG_SHA256_LEN,
	                                     b->sig, b->sig_len),
	                "message signature");
}

/* Does the subject's digest map name the artifact? */
static bool subject_matches(const vctx *v, const json_t *subject)
{
	const json_t *dg = json_object_get(subject, "digest");
	const char *h;
	char hex[2 * TG_SHA512_LEN + 1];

	h = json_string_value(json_object_get(dg, "sha256"));
	if (h && v->dig.has_sha256) {
		tg_hex_encode(hex, v->dig.sha256, TG_SHA256_LEN);
		if (!strcmp(h, hex))
			return true;
	}
	h = json_string_value(json_object_get(dg, "sha512"));
	if (h && v->dig.has_sha512) {
		tg_hex_encode(hex, v->dig.sha512, TG_SHA512_LEN);
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

	if ((error = tg_dsse_pae(&v->pae, &v->pae_len, b->payload_type,
	                         b->payload, b->payload_len)) < 0)
		return error;
	if ((error = tg_key_verify(v->signer, TG_HASH_DEFAULT, v->pae,
	                           v->pae_len, b->sig, b->sig_len)) < 0)
		return tg_error_prefix(error, "DSSE envelope signature");
	/* A legacy .att layer: the verifier matches the statement's subjects
	 * against the image itself (dsse.c). */
	if (v->no_subject_check)
		return 0;
	return check_statement(v);
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
	char ctx[TG_BUNDLE_CTX_BYTES], hex[2 * TG_SHA256_LEN + 1];
	int error;

	snprintf(ctx, sizeof(ctx), "log entry %lld", (long long)e->log_index);
	log = tg_trustroot_find_log(v->pol->root->tlogs, v->pol->root->ntlogs,
	                            e->log_id, e->log_id_len);
	if (!log)
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: from a transparency "
		                    "log that is not in the trust root",
		                    ctx);
	if ((error = tg_rekor_check_body(v, e, ctx)) < 0 ||
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
	int64_t until = INT64_MAX;
	size_t i;
	int error = 0;

	for (i = 0; i < v->ntimes && !error; i++) {
		X509_free(issuer);
		issuer = NULL;
		error = tg_keyless_verify_cert_with(
		        &issuer, &until, v->b->leaf, v->untrusted, v->pol->root,
		        v->times[i],
		        kp->allow_missing_eku ? TG_KEYLESS_ALLOW_NO_EKU : 0);
	}
	if (error < 0)
		goto out;
	/* Checked at the current time (no signed time): it holds only
	 * while the chain is valid. A signing time from a log or a
	 * timestamp stays inside the validity for good. */
	if (v->at_current_time)
		v->ev->valid_until = until;
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

/* Which key signs: the policy's, or the certificate's. A certificate
 * parses even when its key does not (an unknown curve or algorithm, a
 * point off the curve): X509_get0_pubkey() is then NULL. */
static int pick_signer(vctx *v)
{
	int error;

	if (v->b->leaf) {
		if (!v->pol->keyless)
			return tg_error_set(TG_EUNTRUSTED,
			                    "the bundle is "
			                    "signed with a certificate, but a "
			                    "public key was expected");
		v->signer = NULL;
		if (!X509_get0_pubkey(v->b->leaf)) {
			ERR_clear_error();
			return tg_error_set(TG_EPARSE,
			                    "signing certificate's public "
			                    "key cannot be decoded");
		}
		if ((error = tg_key_from_x509(&v->cert_key,
		                              "signing certificate",
		                              v->b->leaf)) < 0)
			return error;
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

/* The leaf's DER, which log entries are compared with byte for byte. */
static int keep_leaf_der(bundle *b)
{
	unsigned char *der = NULL;
	int len;

	if (!b->leaf || b->leaf_der)
		return 0;
	len = i2d_X509(b->leaf, &der);
	if (len <= 0)
		return tg_error_set(TG_EPARSE, "signing certificate cannot be "
		                               "encoded");
	b->leaf_der = der;
	b->leaf_der_len = (size_t)len;
	return 0;
}

/* Does the bundle hold an entry of a Rekor v2 log (kind version 0.0.2, no
 * integrated time, no signed entry timestamp)? */
static bool has_rekor_v2_entry(const bundle *b)
{
	size_t i;

	for (i = 0; i < b->nentries; i++)
		if (!b->entries[i].set &&
		    !strcmp(b->entries[i].version, "0.0.2"))
			return true;
	return false;
}

int tg_bundle_verify_all(vctx *v)
{
	int error;

	if ((error = pick_signer(v)) < 0 || (error = check_chain_roots(v)) < 0)
		return error;
	if ((error = keep_leaf_der(v->b)) < 0)
		return error;
	if ((error = v->b->dsse ? check_dsse(v) : check_message(v)) < 0 ||
	    (error = check_entries(v)) < 0)
		return error;
	check_timestamps(v);
	if (v->ntimes == 0 && has_rekor_v2_entry(v->b))
		return tg_error_set(TG_EUNTRUSTED,
		                    "no verified signing time: a Rekor v2 log "
		                    "entry carries none, so a trusted RFC 3161 "
		                    "timestamp is required%s%s",
		                    v->tsa_error[0] ? "; " : "", v->tsa_error);
	if (v->ntimes == 0 && v->b->leaf && v->pol->allow_current_time) {
		add_time(v, tg_now());
		v->at_current_time = true;
	}
	if (v->ntimes == 0 && v->b->leaf)
		return tg_error_set(TG_EUNTRUSTED,
		                    "no verified signing time: "
		                    "neither a signed entry timestamp nor a "
		                    "trusted RFC 3161 timestamp%s%s",
		                    v->tsa_error[0] ? "; " : "", v->tsa_error);
	if (v->b->leaf)
		return check_cert(v);
	v->ev->signer = tg_strdup(tg_key_id(v->signer));
	return 0;
}

tg_sigstore_evidence *tg_sigstore_evidence_new(void)
{
	tg_sigstore_evidence *ev = tg_calloc(1, sizeof(*ev));

	ev->log_index = -1;
	ev->integrated_time = -1;
	ev->timestamp = -1;
	ev->valid_until = INT64_MAX;
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

int tg_sigstore_policy_check(const tg_sigstore_policy *p)
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
	v.ev = tg_sigstore_evidence_new();
	if ((error = tg_sigstore_policy_check(policy)) < 0 ||
	    (error = tg_artifact_digests(&v.dig, artifact)) < 0 ||
	    (error = tg_bundle_parse(&b, json, len)) < 0)
		goto out;
	if ((error = tg_bundle_verify_all(&v)) < 0) {
		error = tg_error_prefix(error, "%s", name);
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
	tg_key_free(v.cert_key);
	free(v.pae);
	tg_bundle_clear(&b);
	return error;
}
