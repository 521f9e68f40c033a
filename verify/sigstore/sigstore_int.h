/*
 * Internal to the Sigstore modules (trustroot.c, tlog.c, tsa.c, keyless.c,
 * bundle.c): the trust root's layout and the helpers they share.
 */
#ifndef TOLLGATE_SIGSTORE_INT_H
#define TOLLGATE_SIGSTORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "tollgate/keys.h"
#include "tollgate/limits.h"
#include "tollgate/trustroot.h"

/* Bytes of a signed note's key ID (C2SP signed-note). */
#define TG_NOTE_KEY_ID_LEN 4

/* A closed interval [start, end] of Unix seconds; end open when !has_end. */
typedef struct tg_validity {
	int64_t start;
	int64_t end;
	bool has_end;
} tg_validity;

/* A transparency or CT log. */
typedef struct tg_tr_log {
	unsigned char id[TG_SHA256_LEN]; /* logId.keyId (SHA-256 of the key, for
	                                    Rekor v1) */
	size_t id_len;
	char *base_url;
	char *host;    /* base_url's host, the checkpoint signer name */
	bool has_name; /* host names the log (trust root) */
	unsigned char note_id[TG_NOTE_KEY_ID_LEN]; /* signed-note key ID of
	                                              key under host */
	tg_key *key;
	tg_validity valid;
} tg_tr_log;

/* A certificate authority or timestamp authority: its chain, leaf-most
 * first, root last. The chain above certs[0] is verified once, when the
 * trust root is loaded (tg_tr_ca_prepare): when it verifies (upper_ok),
 * certificates are chained to certs[0] alone, a trust anchor in anchor,
 * and the validity of the certificates above it is the window upper. */
typedef struct tg_tr_ca {
	X509 **certs;
	size_t ncerts;
	char *uri;
	tg_validity valid;
	bool upper_ok;
	tg_validity upper;
	X509_STORE *anchor; /* certs[0] only; NULL unless upper_ok */
} tg_tr_ca;

/* Verify once that certs[0] of ca chains to the rest of its chain
 * (signatures and CA constraints; times are checked at each use against
 * ca->upper) and build ca->anchor. A chain that does not verify leaves
 * upper_ok false: each use then verifies the whole chain. */
void tg_tr_ca_prepare(tg_tr_ca *ca);

struct tg_trustroot {
	tg_tr_log *tlogs;
	size_t ntlogs;
	tg_tr_log *ctlogs;
	size_t nctlogs;
	tg_tr_ca *cas;
	size_t ncas;
	tg_tr_ca *tsas;
	size_t ntsas;
};

/* True when t lies in the closed interval v. */
bool tg_validity_contains(const tg_validity *v, int64_t t);

/* The log of logs[0..n) with id (NULL when none). */
const tg_tr_log *tg_trustroot_find_log(const tg_tr_log *logs,
                                       size_t n,
                                       const unsigned char *id,
                                       size_t id_len);

/* Decode a protojson "bytes" field (standard base64; URL-safe accepted as
 * protojson does). 0 or TG_EPARSE naming field. */
TG_WUR int tg_json_bytes(unsigned char **out,
                         size_t *out_len,
                         const json_t *obj,
                         const char *field,
                         const char *ctx);
/* A required string member; TG_EPARSE naming field and ctx when absent. */
TG_WUR int tg_json_string(const char **out,
                          const json_t *obj,
                          const char *field,
                          const char *ctx);
/* A certificate in protojson ({"rawBytes": base64 DER}) as bundles and
 * trust roots hold them: at most TG_MAX_PEM_BYTES, nothing after the DER.
 * 0 with *out (caller frees), or TG_EPARSE naming ctx. */
TG_WUR int tg_json_der_cert(X509 **out, const json_t *obj, const char *ctx);
/* A protojson int64 (a decimal string, or a JSON integer), >= 0; absent
 * means 0, as protojson omits zero values. */
TG_WUR int tg_json_int64(int64_t *out,
                         const json_t *obj,
                         const char *field,
                         const char *ctx);

/*
 * The C2SP signed-note key ID of key under name: for Ed25519 the first four
 * bytes of SHA-256(name || 0x0A || 0x01 || 32-byte key); for ECDSA (and
 * RSA, as Rekor v1's logs use it) of SHA-256(DER SubjectPublicKeyInfo).
 * 0 or TG_EINVALID.
 */
int tg_note_key_id(unsigned char out[TG_NOTE_KEY_ID_LEN],
                   const tg_key *key,
                   const char *name);

/*
 * Verify the SignedEntryTimestamp of a Rekor v1 entry: log's signature over
 * the canonical JSON {body, integratedTime, logID, logIndex}. body_b64 is
 * the base64 canonicalized body. 0 or TG_EUNTRUSTED.
 */
int tg_tlog_verify_set(const tg_tr_log *log,
                       const char *body_b64,
                       int64_t integrated_time,
                       int64_t log_index,
                       const unsigned char *set,
                       size_t set_len);

/*
 * Verify that the leaf body is included at index in the tree of size
 * tree_size with root hash root via hashes, and that checkpoint (a note
 * signed by log) commits to the same size and root. 0 or TG_EUNTRUSTED.
 */
int tg_tlog_verify_proof(const tg_tr_log *log,
                         const unsigned char *body,
                         size_t body_len,
                         uint64_t index,
                         uint64_t tree_size,
                         const unsigned char root[TG_SHA256_LEN],
                         const unsigned char *hashes,
                         size_t nhashes,
                         const char *checkpoint);

/*
 * Verify an RFC 3161 timestamp (DER TimeStampResp or bare token) over
 * data against the timestamp authorities of root; *t_out gets its time.
 * 0, TG_EPARSE, TG_EUNTRUSTED.
 */
int tg_tsa_verify(int64_t *t_out,
                  const unsigned char *der,
                  size_t der_len,
                  const unsigned char *data,
                  size_t data_len,
                  const tg_trustroot *root);

/* A leaf without an extended key usage extension is accepted. */
#define TG_KEYLESS_ALLOW_NO_EKU 0x1u

/* tg_keyless_verify_cert() with intermediates that may help build the
 * chain (legacy cosign chain annotation; trust still comes only from
 * root) and TG_KEYLESS_* flags. *until_out (may be NULL) gets the earliest
 * notAfter of the chain built (leaf to root) and the end of the CA's
 * validity window: how long a check made at the current time holds. */
int tg_keyless_verify_cert_with(X509 **issuer_out,
                                int64_t *until_out,
                                X509 *leaf,
                                STACK_OF(X509) * untrusted,
                                const tg_trustroot *root,
                                int64_t t,
                                unsigned flags);

/* Drop the certificate authorities of root (fulcioCerts replaces them). */
void tg_trustroot_clear_cas(tg_trustroot *root);
/* Replace the transparency logs (ct false) or CT logs (ct true) of root
 * with the one log of key (a policy's rekor/ctlog publicKey). */
int tg_trustroot_set_log_key(tg_trustroot *root,
                             bool ct,
                             const char *name,
                             const tg_key *key);

/* Unix time of an ASN1_TIME; 0 or TG_EPARSE (then *out is 0). */
int tg_asn1_time_unix(int64_t *out, const ASN1_TIME *t);

#endif
