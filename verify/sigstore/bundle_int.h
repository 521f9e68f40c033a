/*
 * Internal to the Sigstore bundle files (bundle.c, bundle_parse.c,
 * rekor.c, bundle_legacy.c): a parsed bundle, the state of one verification,
 * and the helpers they share.
 */
#ifndef TOLLGATE_BUNDLE_INT_H
#define TOLLGATE_BUNDLE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "sigstore_int.h"
#include "tollgate/bundle.h"
#include "tollgate/keys.h"
#include "tollgate/limits.h"

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
	unsigned char *leaf_der; /* leaf's DER (OPENSSL_malloc), set when
	                            verification starts */
	size_t leaf_der_len;
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
	unsigned char sha256[TG_SHA256_LEN];
	bool has_sha256;
	unsigned char sha512[TG_SHA512_LEN];
	bool has_sha512;
} digests;

typedef struct vctx {
	const char *name;
	const tg_sigstore_policy *pol;
	const tg_artifact *art;
	bundle *b;
	const tg_key *signer; /* policy key, or cert_key */
	tg_key *cert_key;
	digests dig;
	unsigned char *pae; /* DSSE pre-authentication encoding */
	size_t pae_len;
	int64_t times[2 * TG_MAX_BUNDLE_ENTRIES]; /* verified signing times */
	size_t ntimes;
	bool at_current_time; /* times[] holds only the current time */
	size_t entries_ok;
	char tsa_error[TG_TSA_ERROR_BYTES]; /* why the last timestamp was not
	                                       used */
	bool no_subject_check; /* legacy .att: subjects checked elsewhere */
	STACK_OF(X509) * untrusted; /* legacy chain annotation */
	tg_sigstore_evidence *ev;
} vctx;

/* messageDigest.algorithm ("SHA2_256", ...) as ALG_*; TG_EINVALID when
 * unknown (the caller words the message). */
int tg_bundle_parse_alg(int *alg, const char *s);
/* The artifact's digest for alg (ALG_*), or NULL when we do not know it. */
const unsigned char *tg_bundle_digest_for(const vctx *v, int alg, size_t *len);
/* Parse the protojson bundle json (len bytes) into b, whose name is set;
 * 0, or TG_EPARSE, TG_ETOOBIG, TG_EINVALID naming b->name. b owns what it
 * parsed either way (tg_bundle_clear). */
TG_WUR int tg_bundle_parse(bundle *b, const char *json, size_t len);
/* Free what b owns (not b itself). */
void tg_bundle_clear(bundle *b);
/* The digests of the artifact, from its bytes or from "alg:hex". 0 or
 * TG_EINVALID. */
int tg_artifact_digests(digests *d, const tg_artifact *a);
/* Exactly one of a key and a keyless identity, and a trust root: 0 or
 * TG_EINVALID. */
int tg_sigstore_policy_check(const tg_sigstore_policy *p);
/* Evidence with "absent" markers (-1) in its numeric fields. */
tg_sigstore_evidence *tg_sigstore_evidence_new(void);
/* Verify the parsed bundle of v: signer, signature, log entries,
 * timestamps, certificate. 0 or a negative code with the detail. */
int tg_bundle_verify_all(vctx *v);

/* Does the canonicalized body of log entry e record this bundle's
 * signature, signer and content (rekor.c)? 0, TG_EPARSE, TG_EINVALID,
 * TG_EUNTRUSTED naming ctx. */
int tg_rekor_check_body(const vctx *v, const tlog_entry *e, const char *ctx);

#endif
